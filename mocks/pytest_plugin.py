"""pytest plugin (entry point `pytest11`) for LGC test suites written in Python.

Fixtures:
- `segur_sandbox` (session): a `SandboxClient` on a sandbox that is, by option:
  embedded in the test process (default: every service, ephemeral ports, a temporary data folder),
  attached (`--segur-sandbox-url http://localhost:4600`), or the compose stack brought up with
  `docker compose up --wait` (or Compose v1 and a readiness poll) (`--segur-sandbox-compose [compose.yaml]`), left up with
  `--segur-sandbox-keep`.
- `segur_tenant` (function): a fresh tenant per test, deleted afterwards — parallel workers
  (pytest-xdist) and tests never see each other's state. It carries `headers` / `path_prefix` for
  the LGC's requests, `clock`, `fault(...)` (a context manager), `wait_for(...)`,
  `assert_called(...)`, `assert_not_called(...)`, `findings(...)`.
- `segur_credentials` (function): `segur_credentials(persona, kind)` -> paths of PEM and PKCS#12 files.
- `segur_urls` (session): listener name -> URL (e.g. `segur_urls["insi"]`).
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from mocks.client import SandboxClient, Tenant


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("segur-sandbox", "Ségur Sandbox")
    group.addoption("--segur-sandbox-url", default=None, help="attach to a running sandbox (console URL)")
    group.addoption(
        "--segur-sandbox-compose",
        nargs="?",
        const="compose.yaml",
        default=None,
        help="bring the compose stack up (docker compose up --wait) from this compose file",
    )
    group.addoption("--segur-sandbox-keep", action="store_true", help="leave the compose stack up afterwards")


def _compose_command() -> list[str]:
    """Compose v2 (`docker compose`) when present, else v1 (`docker-compose`)."""
    probe = subprocess.run(["docker", "compose", "version"], capture_output=True, check=False)
    if probe.returncode == 0:
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    pytest.skip("--segur-sandbox-compose needs Docker Compose (v2 plugin or docker-compose v1)")
    raise AssertionError("unreachable")


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
    compose = request.config.getoption("--segur-sandbox-compose")
    if url:
        client = SandboxClient(url)
        _wait_ready(client, 60)
        yield client
        client.close()
    elif compose:
        if shutil.which("docker") is None:
            pytest.skip("--segur-sandbox-compose needs a Docker engine")
        compose_file = str(Path(compose).resolve())
        base = [*_compose_command(), "-f", compose_file]
        wait = ["--wait"] if base[:2] == ["docker", "compose"] else []  # Compose v1 has no --wait
        subprocess.run([*base, "up", "-d", "--build", *wait], check=True)
        client = SandboxClient("http://127.0.0.1:4600")
        try:
            _wait_ready(client, 120)
            yield client
        finally:
            client.close()
            if not request.config.getoption("--segur-sandbox-keep"):
                subprocess.run([*base, "down", "-v"], check=False)
    else:
        from mocks.runner import Runner
        from mocks.testing import make_config

        runner = Runner(make_config(tmp_path_factory.mktemp("segur-sandbox")))
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
def segur_tenant(segur_sandbox: SandboxClient) -> Iterator[Tenant]:
    tenant = segur_sandbox.new_tenant()
    yield tenant
    tenant.delete()


@pytest.fixture
def segur_credentials(segur_tenant: Tenant, tmp_path: Path) -> Callable[..., dict[str, Path]]:
    def download(persona: str, kind: str, password: str = "test") -> dict[str, Path]:
        return segur_tenant.credentials(persona, kind, tmp_path / "credentials", password)

    return download
