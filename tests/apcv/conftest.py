"""ApCV fixtures: the shared sandbox, a CPS signature certificate of Dr Lemaire from the sandbox
PKI, an httpx client on the ApCV listener (server TLS verified against the sandbox's CAs), the QR
payload of a patient from the control API."""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mocks.runner import Runner
from tests.apcv.support import CT, DOCTOR, OTHER_DOCTOR


@pytest.fixture(scope="session")
def ca_file(running_sandbox: Runner, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("apcv-ca") / "ca.pem"
    path.write_bytes(running_sandbox.sandbox.pki.ca_bundle())
    return path


@pytest.fixture(scope="session")
def apcv_url(running_sandbox: Runner) -> str:
    return running_sandbox.url("apcv", "/apcv")


@pytest.fixture(scope="session")
def cps(running_sandbox: Runner) -> Any:
    return running_sandbox.sandbox.pki.credentials(DOCTOR, "cps_sign")


@pytest.fixture(scope="session")
def other_cps(running_sandbox: Runner) -> Any:
    return running_sandbox.sandbox.pki.credentials(OTHER_DOCTOR, "cps_sign")


@pytest.fixture(scope="session")
def http(ca_file: Path) -> Iterator[httpx.Client]:
    with httpx.Client(verify=ssl.create_default_context(cafile=str(ca_file)), timeout=30) as client:
        yield client


@pytest.fixture
def post(http: httpx.Client, apcv_url: str, tenant: str) -> Callable[..., httpx.Response]:
    """POST a SOAP 1.2 request to ApCV in the test's tenant."""

    def send(data: bytes, content_type: str = CT, tenant_id: str | None = None) -> httpx.Response:
        return http.post(
            apcv_url,
            content=data,
            headers={"Content-Type": content_type, "X-Sandbox-Tenant": tenant_id or tenant},
        )

    return send


@pytest.fixture
def qr_of(console: httpx.Client, tenant: str) -> Callable[..., str]:
    def get(patient: str, tenant_id: str | None = None) -> str:
        r = console.get("/_sandbox/apcv/qr", params={"patient": patient, "tenant": tenant_id or tenant})
        assert r.status_code == 200, r.text
        return r.text

    return get
