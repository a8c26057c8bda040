"""Shared fixtures: an in-process sandbox on ephemeral ports, over real sockets.

- `running_sandbox` (session): one Runner with every available service; tests isolate themselves
  with tenants (`tenant` fixture) rather than resets.
- `specs`: the path of ../shared/specs (official WSDL/XSD and examples).
- `console`: an httpx client on the control plane of `running_sandbox`.

Under pytest-xdist (`./scripts/test` runs `-n 2 --dist loadgroup`) a test file is one group, so
its module fixtures are built once, and the tests that run compose are one group: one compose
stack at a time, on one worker.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from mocks.runner import Runner
from mocks.testing import make_config

SPECS = Path(__file__).resolve().parents[1].parent / "shared" / "specs"


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        path = item.nodeid.split("::")[0]
        docker = path.startswith("tests/docker/") or path == "tests/plugin/test_plugin_compose.py"
        item.add_marker(pytest.mark.xdist_group("docker" if docker else path))


@pytest.fixture(scope="session")
def specs() -> Path:
    """The official contracts and examples, `../shared/specs` beside the checkout."""
    assert SPECS.is_dir(), f"the official specs are expected in {SPECS}"
    return SPECS


@pytest.fixture(scope="session")
def running_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runner]:
    runner = Runner(make_config(tmp_path_factory.mktemp("sandbox")))
    runner.start()
    yield runner
    runner.stop()


@pytest.fixture(scope="session")
def console(running_sandbox: Runner) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=running_sandbox.url("console"), timeout=30) as client:
        yield client


@pytest.fixture
def tenant(console: httpx.Client) -> Iterator[str]:
    """A fresh tenant for one test, deleted afterwards."""
    name = "t-" + uuid.uuid4().hex[:12]
    console.post("/_sandbox/tenants", json={"id": name}).raise_for_status()
    yield name
    console.delete(f"/_sandbox/tenants/{name}")
