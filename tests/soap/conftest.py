"""Fixtures of the SOAP kit tests: the official DMP examples, and a runner with the PKI and the
SOAP test service (tests/soap/soap_service.py) on ephemeral ports, over real sockets."""

from __future__ import annotations

import importlib.util
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from mocks import registry
from mocks.pki import Pki, Professional
from mocks.runner import Runner
from mocks.testing import make_config

TD21_CONTENT_TYPE = (
    'multipart/related; type="application/xop+xml"; start="<rootpart@soapui.org>"; '
    'start-info="application/soap+xml"; action="urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b"; '
    'boundary="----=_Part_9_20030738.1554380517598"'
)  # what soapUI sends with the official TD2.1 capture (its boundary is the file's first line)


@pytest.fixture(scope="session")
def examples(specs: Path) -> Path:
    return specs / "dmp" / "examples"


@pytest.fixture(scope="session")
def td21(examples: Path) -> bytes:
    return (examples / "TD2.1_-_Alimentation_requete.xml").read_bytes()


def _load_service() -> str:
    name = "segur_soap_test_service"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("soap_service.py"))
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return name


@pytest.fixture(scope="session")
def soap_runner(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runner]:
    """A runner with the PKI and the test service only. The registry is swapped while the runner
    is built and started (the sandbox keeps the services it found), then restored at once, so
    that other test modules of the same session see the real registry."""
    saved = dict(registry.SERVICES)
    registry.SERVICES.clear()
    registry.SERVICES.update({"pki": saved["pki"], "soaptest": _load_service()})
    registry.available.cache_clear()
    try:
        runner = Runner(make_config(tmp_path_factory.mktemp("soap")))
        runner.start()
    finally:
        registry.SERVICES.clear()
        registry.SERVICES.update(saved)
        registry.available.cache_clear()
    assert set(runner.sandbox.services) == {"pki", "soaptest"}
    yield runner
    runner.stop()


@pytest.fixture(scope="session")
def ctl(soap_runner: Runner) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=soap_runner.url("console", "/_sandbox"), timeout=30) as client:
        yield client


@pytest.fixture(scope="session")
def service_url(soap_runner: Runner) -> str:
    return soap_runner.url("soaptest", "/repository")


@pytest.fixture
def tenant(ctl: httpx.Client) -> Iterator[str]:
    name = "s-" + uuid.uuid4().hex[:10]
    assert ctl.post("/tenants", json={"id": name}).status_code == 201
    yield name
    ctl.delete(f"/tenants/{name}")


def journal(ctl: httpx.Client, trace_id: str) -> dict:
    entries = ctl.get("/journal", params={"trace_id": trace_id, "limit": 1, "bodies": "true"}).json()
    assert entries, f"no journal entry for trace {trace_id}"
    return entries[0]


@pytest.fixture(scope="session")
def pki(soap_runner: Runner) -> Pki:
    return soap_runner.sandbox.pki


@pytest.fixture
def professional(pki: Pki) -> Professional:
    """A fresh professional (idNat_PS = 8 + RPPS) registered with the PKI."""
    pro = Professional(id_nat="8" + str(uuid.uuid4().int)[:11], first_name="Max", last_name="Libre")
    pki.register(pro)
    return pro
