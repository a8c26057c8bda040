"""Shared fixtures: an in-process sandbox on ephemeral ports, over real sockets.

- `make_config(data_dir, **settings)`: a Config with every port set to 0 (ephemeral).
- `running_sandbox` (session): one Runner with every available service; tests isolate themselves
  with tenants (`tenant` fixture) rather than resets.
- `console`: an httpx client on the control plane of `running_sandbox`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mocks.config import Config, all_settings, load
from mocks.registry import service_settings
from mocks.runner import Runner

SPECS = Path(__file__).resolve().parents[1].parent / "shared" / "specs"


def make_config(data_dir: Path | str, **settings: Any) -> Config:
    table = all_settings(service_settings())
    env = {s.env: "0" for s in table.values() if s.kind == "port"}
    env.update({"SEGUR_DATA_DIR": str(data_dir), "SEGUR_LOG_LEVEL": "warning"})
    env.update({table[k].env: str(v) for k, v in settings.items()})
    return load(table, env=env)


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
