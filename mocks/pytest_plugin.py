"""pytest plugin (entry point `pytest11`) for LGC test suites written in Python.

Fixtures:
- `segur_sandbox` (session): a `SandboxClient` on a sandbox that is, by option:
  embedded in the test process (default: every service, ephemeral ports, a temporary data folder,
  the `SEGUR_*` settings of the environment but ports and data folder), attached
  (`--segur-sandbox-url http://localhost:4600`), or the compose stack
  (`--segur-sandbox-compose [compose.yaml]`, left up with `--segur-sandbox-keep`).
- `segur_tenant` (function): a fresh tenant per test, deleted afterwards — parallel workers
  (pytest-xdist) and tests never see each other's state. It carries `headers` / `path_prefix` for
  the LGC's requests, `clock`, `fault(...)` (a context manager), `wait_for(...)`,
  `assert_called(...)`, `assert_not_called(...)`, `findings(...)`, `journal_summary()`.
- `segur_credentials` (function): `segur_credentials(persona, kind)` -> paths of PEM and PKCS#12 files.
- `segur_urls` (session): listener name -> URL (e.g. `segur_urls["insi"]`).

A failed test that used `segur_tenant` gets a report section "Ségur Sandbox journal": the tenant's
last exchanges, their outcomes and findings.

Compose mode: the lifecycle is pytest-docker's (`get_docker_services`: `up` then `down -v`). It
runs once per pytest run, in the controlling process (under pytest-xdist every worker attaches to
that one stack, none runs compose), and the readiness wait lasts until every service of the
compose file reports `ready` in `/_sandbox/health` (not merely the console answering: with
Compose v1 a cold start used to pass before insi and psc had registered). The console port is
`SEGUR_CONSOLE_PORT` from the environment, else from the `.env` beside the compose file, else 4600.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from mocks.client import SandboxClient, Tenant

READY_TIMEOUT = 300.0  # a cold compose start builds the image and the PKI
TENANT_KEY = pytest.StashKey[Tenant]()


@dataclass
class ComposeStack:
    """The one compose stack of this pytest run (controller side)."""

    file: Path
    project: str
    url: str = ""
    services: list[str] = field(default_factory=list)
    error: str = ""  # why it could not start (the fixture fails or skips with it)
    skip: bool = False
    exit: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)


STACK_KEY = pytest.StashKey[ComposeStack]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("segur-sandbox", "Ségur Sandbox")
    group.addoption("--segur-sandbox-url", default=None, help="attach to a running sandbox (console URL)")
    group.addoption(
        "--segur-sandbox-compose",
        nargs="?",
        const="compose.yaml",
        default=None,
        help="bring the compose stack up from this compose file (once for all xdist workers)",
    )
    group.addoption(
        "--segur-sandbox-project",
        default="segur-sandbox-pytest",
        help="compose project name for --segur-sandbox-compose",
    )
    group.addoption("--segur-sandbox-keep", action="store_true", help="leave the compose stack up afterwards")


# -- compose, in the controlling process ---------------------------------------------------------
def compose_command() -> str | None:
    """Compose v2 (`docker compose`) when present, else v1 (`docker-compose`)."""
    if shutil.which("docker") is None:
        return None
    probe = subprocess.run(["docker", "compose", "version"], capture_output=True, check=False)
    if probe.returncode == 0:
        return "docker compose"
    return "docker-compose" if shutil.which("docker-compose") else None


def console_port(compose_file: Path) -> int:
    """SEGUR_CONSOLE_PORT as compose substitutes it: the environment, then the `.env` file."""
    if os.environ.get("SEGUR_CONSOLE_PORT"):
        return int(os.environ["SEGUR_CONSOLE_PORT"])
    dotenv = compose_file.parent / ".env"
    if dotenv.is_file():
        for line in dotenv.read_text(encoding="utf-8").splitlines():
            key, _, value = line.partition("=")
            if key.strip() == "SEGUR_CONSOLE_PORT" and value.strip():
                return int(value.strip().strip("'\""))
    return 4600


def services_ready(url: str, expected: list[str]) -> bool:
    """Every expected service reports `ready` (the console's own readiness is not enough)."""
    try:
        health = httpx.get(url + "/_sandbox/health", timeout=10).json()
    except (httpx.HTTPError, ValueError):
        return False
    states = {name: s.get("state") for name, s in health.get("services", {}).items()}
    return all(states.get(name) == "ready" for name in expected)


def start_stack(stack: ComposeStack, keep: bool) -> None:
    try:
        from pytest_docker.plugin import get_docker_ip, get_docker_services
    except ImportError:
        stack.error = "--segur-sandbox-compose needs pytest-docker: pip install 'segur-sandbox[compose]'"
        return
    command = compose_command()
    if command is None:
        stack.skip, stack.error = True, "--segur-sandbox-compose needs Docker and Docker Compose (v2 or v1)"
        return
    files = str(stack.file)
    listed = subprocess.run(
        [*command.split(), "-f", files, "config", "--services"], capture_output=True, text=True, check=False
    )
    if listed.returncode != 0:
        stack.error = f"{stack.file}: {listed.stderr.strip()}"
        return
    stack.services = [s for s in listed.stdout.split() if s != "console"]
    up = "up -d --build --wait" if command == "docker compose" else "up -d --build"  # v1 has no --wait
    try:
        services = stack.exit.enter_context(
            get_docker_services(
                command, files, stack.project, [up], [] if keep else ["down -v --remove-orphans"]
            )
        )
        stack.url = f"http://{get_docker_ip()}:{console_port(stack.file)}"
        services.wait_until_responsive(
            lambda: services_ready(stack.url, stack.services), timeout=READY_TIMEOUT, pause=0.5
        )
    except Exception as exc:  # noqa: BLE001 - reported by the fixture, with compose's output
        stack.error = f"the compose stack did not come up: {exc}"
        stack.exit.close()


def pytest_configure(config: pytest.Config) -> None:
    """Embedded sandboxes of this test run (and of the next ones) share their CA keys: the
    RSA-4096 keys are made once, under a file lock, in pytest's cache folder, instead of once per
    xdist worker and per data folder (each sandbox still signs its own CA certificates)."""
    from mocks.pki.authority import KEY_CACHE_ENV

    if KEY_CACHE_ENV in os.environ:
        return
    cache = getattr(config, "cache", None)
    folder = (
        cache.mkdir("segur-sandbox-pki-keys")
        if cache is not None
        else Path(tempfile.gettempdir()) / f"segur-sandbox-pki-keys-{os.getuid()}"
    )
    os.environ[KEY_CACHE_ENV] = str(folder)


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def pytest_sessionstart(session: pytest.Session) -> None:
    config = session.config
    compose = config.getoption("--segur-sandbox-compose", None)
    if not compose or _is_worker(config) or config.getoption("--segur-sandbox-url"):
        return
    stack = ComposeStack(Path(compose).resolve(), config.getoption("--segur-sandbox-project"))
    config.stash[STACK_KEY] = stack
    start_stack(stack, bool(config.getoption("--segur-sandbox-keep")))


def pytest_sessionfinish(session: pytest.Session) -> None:
    stack = session.config.stash.get(STACK_KEY, None)
    if stack is not None:
        stack.exit.close()  # pytest-docker's `down -v` (unless --segur-sandbox-keep)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """pytest-xdist: tell each worker where the controller's stack is."""
    stack = node.config.stash.get(STACK_KEY, None)
    if stack is not None:
        node.workerinput["segur_compose"] = {
            "url": stack.url,
            "services": stack.services,
            "error": stack.error,
            "skip": stack.skip,
        }


def _compose_client(config: pytest.Config) -> SandboxClient:
    info = getattr(config, "workerinput", {}).get("segur_compose")
    stack = config.stash.get(STACK_KEY, None)
    if info is None and stack is not None:
        info = {"url": stack.url, "services": stack.services, "error": stack.error, "skip": stack.skip}
    if info is None:
        raise RuntimeError("the compose stack was not started (pytest_sessionstart did not run)")
    if info["skip"]:
        pytest.skip(info["error"])
    if info["error"]:
        raise RuntimeError(info["error"])
    return SandboxClient(info["url"])


# -- fixtures ------------------------------------------------------------------------------------
def _wait_ready(client: SandboxClient, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if client.ready():
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the sandbox at {client.base_url} is not ready after {timeout} s")


@pytest.fixture(scope="session")
def segur_sandbox(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SandboxClient]:
    url = request.config.getoption("--segur-sandbox-url")
    if url:
        client = SandboxClient(url)
        _wait_ready(client, 60)
        yield client
        client.close()
    elif request.config.getoption("--segur-sandbox-compose"):
        client = _compose_client(request.config)
        yield client
        client.close()
    else:
        from mocks.runner import Runner
        from mocks.testing import make_config

        runner = Runner(make_config(tmp_path_factory.mktemp("segur-sandbox"), os.environ))
        runner.start()
        client = SandboxClient(runner.url("console"))
        try:
            yield client
        finally:
            client.close()
            runner.stop()


@pytest.fixture(scope="session")
def segur_urls(segur_sandbox: SandboxClient) -> dict[str, str]:
    return segur_sandbox.urls()


@pytest.fixture
def segur_tenant(segur_sandbox: SandboxClient, request: pytest.FixtureRequest) -> Iterator[Tenant]:
    tenant = segur_sandbox.new_tenant()
    request.node.stash[TENANT_KEY] = tenant
    yield tenant
    tenant.delete()


@pytest.fixture
def segur_credentials(segur_tenant: Tenant, tmp_path: Path) -> Callable[..., dict[str, Path]]:
    def download(persona: str, kind: str, password: str = "test") -> dict[str, Path]:
        return segur_tenant.credentials(persona, kind, tmp_path / "credentials", password)

    return download


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    report: Any = yield
    tenant = item.stash.get(TENANT_KEY, None)
    if tenant is not None and report.when == "call" and report.failed:
        # the tenant still exists: the fixture deletes it at teardown, after this report
        report.sections.append(("Ségur Sandbox journal", tenant.journal_summary()))
    return report  # type: ignore[no-any-return]
