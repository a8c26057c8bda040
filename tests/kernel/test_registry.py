"""The registry (mocks/registry.py SERVICES) drives what must agree with it: the packaging include
list and mypy's packages, one compose container per service with its ports, the README's port
table, docs/docker.md's container table, .env.example and the image's EXPOSE line, a docs page per
service, and the service contract (OPERATIONS). Generic: a service that registers itself passes
by adding its package, its compose entry and its rows; a failure says which row to add.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from mocks.config import KERNEL_SETTINGS, Setting
from mocks.registry import SERVICES, ServiceEntry, optional_module

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
COMPOSE = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))


def entries() -> list[ServiceEntry]:
    found = []
    for name, path in SERVICES.items():
        module = optional_module(path)
        assert module is not None, f"{name}: registered as {path}, which does not import"
        found.append(ServiceEntry(name, module))
    return found


def ports(entry: ServiceEntry) -> list[Setting]:
    return [s for s in entry.settings if s.kind == "port"]


def all_ports() -> list[tuple[str, Setting]]:
    """(container, port setting) for the console and every service."""
    console = next(s for s in KERNEL_SETTINGS if s.name == "console_port")
    return [("console", console)] + [(e.name, s) for e in entries() for s in ports(e)]


def variable(setting: Setting) -> str:
    return "${" + f"{setting.env}:-{setting.default}" + "}"


# -- packaging ---------------------------------------------------------------------------------
def test_every_service_package_is_packaged_and_type_checked() -> None:
    include = PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"]
    mypy = PYPROJECT["tool"]["mypy"]["packages"]
    tops = {"mocks"} | {path.split(".")[0] for path in SERVICES.values()}
    for top in sorted(tops):
        assert f"{top}*" in include, f'pyproject.toml [tool.setuptools.packages.find] include: add "{top}*"'
        assert top in mypy, f'pyproject.toml [tool.mypy] packages: add "{top}"'
    # `demo`: the reference LGC client (`segur-sandbox demo`, docs/demo.md), packaged, not a service
    extra = {p.rstrip("*") for p in include} - tops - {"data", "demo"}
    assert not extra, f"packaged but not registered in mocks/registry.py: {sorted(extra)}"


def test_every_service_keeps_the_contract() -> None:
    for entry in entries():
        module = entry.module
        assert entry.name == module.NAME
        assert entry.title and entry.title != entry.name, f"{entry.name}: TITLE"
        assert callable(module.create), f"{entry.name}: create(sandbox)"
        for setting in entry.settings:
            assert setting.name.startswith(entry.name + "_"), f"{entry.name}: setting {setting.name}"
        operations = entry.operations
        if operations is not None:  # PSC's is being written; a service without one gets warnings
            assert operations and all(isinstance(op, str) and op for op in operations), entry.name
            assert len(set(operations)) == len(operations), f"{entry.name}: OPERATIONS twice"
            assert "*" not in operations


def test_every_service_has_a_docs_page() -> None:
    for entry in entries():
        # docs/services/<name>.md, or a longer name of it (mss: mssante.md); the PKI's is docs/pki.md
        pages = [ROOT / "docs" / "pki.md"] if entry.name == "pki" else []
        pages += sorted((ROOT / "docs" / "services").glob(f"{entry.name}*.md"))
        assert pages and pages[0].is_file(), (
            f"{entry.name}: docs/services/{entry.name}.md is missing (scripts/new-service writes one)"
        )


# -- compose -----------------------------------------------------------------------------------
def test_compose_has_one_container_per_service_with_its_ports() -> None:
    services = COMPOSE["services"]
    expected = {"console"} | {e.name for e in entries()}
    assert set(services) == expected, (
        f"compose.yaml services: {sorted(services)}, registry: {sorted(expected)}"
    )
    env = COMPOSE["x-environment"]
    for container, setting in all_ports():
        published = f"127.0.0.1:{variable(setting)}:{variable(setting)}"
        # a setting that is the first port of a range is published as the range, its own variable
        ranged = "127.0.0.1:${" + f"{setting.env}S:-{setting.default}-"
        assert any(p == published or p.startswith(ranged) for p in services[container]["ports"]), (
            f"compose.yaml {container}.ports: add {published!r}"
        )
        assert env.get(setting.env) == variable(setting), (
            f"compose.yaml x-environment: {setting.env}: {variable(setting)}"
        )
    for entry in entries():
        assert services[entry.name]["command"] == ["up", "--services", entry.name], entry.name
        assert entry.name in env["SEGUR_EXTRA_HOSTS"].split(","), f"SEGUR_EXTRA_HOSTS: add {entry.name}"
    assert services["console"]["command"] == ["up", "--services", "none"]


def test_compose_network_has_a_fixed_name() -> None:
    assert COMPOSE["networks"]["default"]["name"] == "${SEGUR_NETWORK:-segur-sandbox}"


# -- tables in the docs ------------------------------------------------------------------------
def table_rows(path: Path, heading: str) -> list[list[str]]:
    """The rows of the first Markdown table after `heading`, cells stripped of backticks."""
    text = path.read_text(encoding="utf-8")
    start = text.index(heading)
    rows, seen = [], False
    for line in text[start:].splitlines()[1:]:
        if line.startswith("|"):
            seen = True
            cells = [c.strip().strip("`") for c in line.strip().strip("|").split("|")]
            if not set("".join(cells)) <= set("-: "):
                rows.append(cells)
        elif seen:
            break
    return rows[1:]  # the header row


def pairs(port_cell: str, setting_cell: str) -> list[tuple[str, str]]:
    """(port, setting) of a row; a row may name several ("4590–4594, 4150–4154" and two settings)."""
    ports = re.findall(r"\b(\d{4,5})(?:\s*[–-]\s*\d{4,5})?", port_cell)
    names = re.findall(r"[a-z][a-z0-9_]*_port\b", setting_cell)
    return list(zip(ports, names, strict=True))


def test_readme_port_table_matches_the_settings() -> None:
    rows = table_rows(ROOT / "README.md", "## Ports")
    got = [pair for r in rows for pair in pairs(r[0], r[1])]
    want = [(str(s.default), s.name) for _, s in all_ports()]
    table = "\n".join(f"| {s.default} | `{s.name}` | {s.help} |" for _, s in all_ports())
    assert sorted(got) == sorted(want), f"README.md ## Ports should list exactly:\n{table}"


def test_docker_docs_container_table_matches_the_settings() -> None:
    rows = table_rows(ROOT / "docs" / "docker.md", "## Containers and ports")
    got = sorted(
        (r[0], port, "SEGUR_" + name.upper())
        for r in rows
        for port, name in pairs(r[1], r[2].lower().replace("segur_", ""))
    )
    want = sorted((c, str(s.default), s.env) for c, s in all_ports())
    table = "\n".join(f"| `{c}` | {s.default} | `{s.env}` | {s.help} |" for c, s in all_ports())
    assert got == want, f"docs/docker.md ## Containers and ports should list exactly:\n{table}"


def test_configuration_docs_list_every_kernel_setting() -> None:
    rows = table_rows(ROOT / "docs" / "configuration.md", "## Kernel settings")
    documented = {r[0] for r in rows}
    for setting in KERNEL_SETTINGS:
        assert setting.name in documented, f"docs/configuration.md ## Kernel settings: add `{setting.name}`"
        row = next(r for r in rows if r[0] == setting.name)
        default = "" if setting.default == "" else str(setting.default).lower()
        assert row[1].lower() == default, f"docs/configuration.md: {setting.name} default {setting.default!r}"


def test_env_example_and_image_expose_every_port() -> None:
    env_example = (ROOT / ".env.example").read_text(encoding="utf-8")
    dockerfile = (ROOT / "docker" / "Dockerfile").read_text(encoding="utf-8")
    expose = next(line for line in dockerfile.splitlines() if line.startswith("EXPOSE ")).split()[1:]
    firsts = [p.split("-")[0] for p in expose]  # a range (4590-4594) stands for its first port's setting
    for _, setting in all_ports():
        assert f"\n{setting.env}={setting.default}\n" in env_example, (
            f".env.example: {setting.env}={setting.default}"
        )
        assert str(setting.default) in firsts, f"docker/Dockerfile EXPOSE: add {setting.default}"
    assert len(firsts) == len(all_ports()), "docker/Dockerfile EXPOSE lists a port no setting has"


def test_default_ports_are_unique() -> None:
    defaults = [int(s.default) for _, s in all_ports()]
    assert len(set(defaults)) == len(defaults), defaults


# -- the registry contract through the control plane (the full sandbox) ------------------------
@pytest.mark.parametrize(
    ("service", "wrong", "valid"),
    [
        ("insi", "rechercherInsAvecTraits", "rechercherInsAvecTraitsIdentite"),
        ("insi", "rechercherInsAvecCarte", "rechercherInsAvecCarteVitale"),
        ("pki", "crls", "ocsp"),
    ],
)
def test_fault_rules_name_the_services_operations(
    console: httpx.Client, tenant: str, service: str, wrong: str, valid: str
) -> None:
    error = next(iter(console.get("/_sandbox/faults/catalogue").json()[service]))
    rule: dict[str, Any] = {"service": service, "operation": wrong, "error": error}
    resp = console.post(f"/_sandbox/faults?tenant={tenant}", json=rule)
    assert resp.status_code == 400, resp.text
    assert valid in resp.json()["error"]
    good = console.post(f"/_sandbox/faults?tenant={tenant}", json={**rule, "operation": valid})
    assert good.status_code == 201, good.text
