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
from typing import Any

import httpx
import pytest

from mocks.runner import Runner
from mocks.testing import make_config

SPECS = Path(__file__).resolve().parents[1].parent / "shared" / "specs"


def xdist_group(nodeid: str) -> str:
    """A test file is one group; the tests that run compose are one group (one stack at a time)."""
    path = nodeid.split("::")[0]
    docker = path.startswith("tests/docker/") or path == "tests/plugin/test_plugin_compose.py"
    return "docker" if docker else path


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    # Our own grouping for `--dist loadgroup`, from the node id alone: xdist's reads the
    # xdist_group marks into `item._nodeid`, which pytest 9.2 ignores (every test was scheduled
    # alone, and the docker suite built one stack per worker, both at once).
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class ByGroup(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return xdist_group(nodeid)

    return ByGroup(config, log)


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
