"""`pip install <clone>` (not editable) gives a working sandbox: the tracked files are copied as a
clone has them, installed with pip into a fresh venv (the pip cache makes the dependencies quick),
and the installed package runs `segur-sandbox personas list` and an LGC test in embedded mode from
a folder outside the checkout, so nothing can be read from the source tree (data/ included)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tomllib
import venv
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
SMALL = {
    "SEGUR_POPULATION_HOUSEHOLDS": "40",
    "SEGUR_POPULATION_PROFESSIONALS": "15",
    "SEGUR_POPULATION_STRUCTURES": "6",
}

LGC_TEST = """
import httpx

def test_the_installed_plugin_serves_a_sandbox(segur_tenant, segur_urls):
    crl = httpx.get(segur_urls["pki"] + "/CRL/ACI-EL-ORG-TEST.crl", headers=segur_tenant.headers)
    assert crl.status_code == 200
    assert segur_tenant.count(service="pki", operation="crl") == 1

def test_the_world_comes_from_the_installed_data(segur_sandbox):
    personas = segur_sandbox.call("GET", "/personas/")
    assert personas
"""


def clone(into: Path) -> Path:
    """The files a `git clone` has (tracked and not deleted), nothing else."""
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True)
    for name in listed.stdout.decode().split("\0"):
        if name and (ROOT / name).is_file():
            (into / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, into / name)
    return into


def run(
    argv: list[str], cwd: Path, env: dict[str, str], timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{' '.join(argv)}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, str]]:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs a git checkout to know what a clone holds")
    base = tmp_path_factory.mktemp("install")
    source = clone(base / "clone")
    env_dir = base / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "SEGUR_"))}
    env.update(PIP_DISABLE_PIP_VERSION_CHECK="1", **SMALL)
    run(
        [str(python), "-m", "pip", "install", "--quiet", str(source), "pytest"],
        cwd=base,
        env=env,
        timeout=900,
    )
    work = base / "outside"
    work.mkdir()
    return python, work, env


def test_installed_package_is_not_the_checkout(installed: tuple[Path, Path, dict[str, str]]) -> None:
    python, work, env = installed
    where = run([str(python), "-c", "import mocks.paths as p; print(p.DATA_FILES)"], work, env).stdout.strip()
    assert "site-packages" in where and where.endswith("_data"), where
    assert (Path(where) / "nomenclatures" / "cog.csv").is_file()


def test_personas_list_from_the_installed_package(installed: tuple[Path, Path, dict[str, str]]) -> None:
    python, work, env = installed
    exe = python.with_name("segur-sandbox")
    result = run([str(exe), "personas", "list", "--data-dir", str(work / "data")], work, env)
    assert "patients (" in result.stdout and "160012B020777" in result.stdout  # a public INSi identity


def test_embedded_plugin_from_the_installed_package(installed: tuple[Path, Path, dict[str, str]]) -> None:
    python, work, env = installed
    (work / "test_lgc.py").write_text(LGC_TEST, encoding="utf-8")
    result = subprocess.run(
        [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_lgc.py"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "2 passed" in result.stdout


def test_every_data_file_of_the_packages_is_installed(installed: tuple[Path, Path, dict[str, str]]) -> None:
    """A template, stylesheet or table a package reads must be in the wheel (package-data)."""
    python, work, env = installed
    site = Path(
        run(
            [str(python), "-c", "import mocks, os; print(os.path.dirname(os.path.dirname(mocks.__file__)))"],
            work,
            env,
        ).stdout.strip()
    )
    include = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"][
        "packages"
    ]["find"]["include"]
    tops = [p.rstrip("*") for p in include]
    listed = subprocess.run(["git", "ls-files", *tops], cwd=ROOT, capture_output=True, text=True, check=True)
    missing = [
        name for name in listed.stdout.split() if not name.endswith(".py") and not (site / name).is_file()
    ]
    assert not missing, f"not in the wheel (pyproject.toml [tool.setuptools.package-data]): {missing}"
    assert (site / "mocks" / "_data" / "personas" / "demo.json").is_file()
