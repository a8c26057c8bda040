"""`scripts/new-service NAME --register`, run in a copy of the repository: the service it writes
passes ruff and mypy, starts under the runner and passes the tests it wrote; the registry test then
names what is left to add (compose entry, port rows), so the checks are generic."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
NAME = "sample"


def run(argv: list[str], cwd: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(cwd)}
    result = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    if check:
        assert result.returncode == 0, f"{' '.join(argv)}:\n{result.stdout[-4000:]}\n{result.stderr[-3000:]}"
    return result


@pytest.fixture(scope="module")
def copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs a git checkout")
    into = tmp_path_factory.mktemp("new-service") / "repo"
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True)
    for name in listed.stdout.decode().split("\0"):
        if name and (ROOT / name).is_file():
            (into / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, into / name)
    out = run([sys.executable, "scripts/new-service", NAME, "--title", "Sample service", "--register"], into)
    assert f"wrote {NAME}/service.py" in out.stdout and "compose.yaml" in out.stdout
    return into


def test_it_writes_the_service_shape(copy: Path) -> None:
    modules = {p.name for p in (copy / NAME).glob("*.py")}
    assert modules == {
        "__init__.py", "service.py", "wire.py", "flow.py", "rules.py", "auth.py", "errors.py", "checks.py", "control.py"
    }  # fmt: skip
    page = (copy / "docs" / "services" / f"{NAME}.md").read_text(encoding="utf-8")
    for section in (
        "## Configure an LGC",
        "## Examples",
        "## Coverage",
        "## Differences from the real service",
    ):
        assert section in page
    assert f'"{NAME}": "{NAME}.service"' in (copy / "mocks" / "registry.py").read_text(encoding="utf-8")
    assert f'"{NAME}*"' in (copy / "pyproject.toml").read_text(encoding="utf-8")


def test_it_passes_ruff_and_mypy(copy: Path) -> None:
    run([str(BIN / "ruff"), "check", NAME, f"tests/{NAME}"], copy)
    run([str(BIN / "ruff"), "format", "--check", NAME, f"tests/{NAME}"], copy)
    run([str(BIN / "mypy"), "-p", NAME], copy)


def test_it_starts_under_the_runner_and_passes_its_tests(copy: Path) -> None:
    result = run([sys.executable, "-m", "pytest", f"tests/{NAME}", "-q", "-p", "no:cacheprovider"], copy)
    assert "4 passed" in result.stdout, result.stdout


def test_the_registry_test_names_what_is_left(copy: Path) -> None:
    result = run(
        [
            sys.executable,
            "-m",
            "pytest",
            "tests/kernel/test_registry.py",
            "-q",
            "-p",
            "no:cacheprovider",
            "-k",
            "compose_has or readme or docs_page or packaged",
        ],
        copy,
        check=False,
    )
    assert result.returncode == 1, result.stdout[-3000:]
    assert f"{NAME}" in result.stdout and "2 failed" in result.stdout, result.stdout[-3000:]
