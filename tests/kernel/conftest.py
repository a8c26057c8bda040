"""A runner with only the echo test service, for kernel tests over real sockets."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from mocks import registry
from mocks.runner import Runner
from mocks.testing import make_config


def _load_echo() -> str:
    name = "segur_echo_service"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("echo_service.py"))
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return name


@pytest.fixture(scope="module")
def echo_runner(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runner]:
    saved = dict(registry.SERVICES)
    registry.SERVICES.clear()
    registry.SERVICES["echo"] = _load_echo()
    registry.available.cache_clear()
    try:
        runner = Runner(make_config(tmp_path_factory.mktemp("kernel")))
        runner.start()
        yield runner
        runner.stop()
    finally:
        registry.SERVICES.clear()
        registry.SERVICES.update(saved)
        registry.available.cache_clear()


@pytest.fixture(scope="module")
def ctl(echo_runner: Runner) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=echo_runner.url("console", "/_sandbox"), timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
def echo(echo_runner: Runner) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=echo_runner.url("echo"), timeout=30) as client:
        yield client
