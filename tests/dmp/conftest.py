"""DMP fixtures: the shared sandbox, PEM credentials of the personas from its PKI, an httpx client
over mutual TLS (TLS 1.2) posting raw SOAP, and the tenant's sandbox clock."""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from mocks.pki import Credentials
from mocks.runner import Runner
from tests.dmp.support import CT, GP, GP_STRUCTURE


@pytest.fixture(scope="session")
def dmp_runner(running_sandbox: Runner) -> Runner:
    return running_sandbox


@pytest.fixture(scope="session")
def pki(dmp_runner: Runner) -> Any:
    return dmp_runner.sandbox.pki


@pytest.fixture(scope="session")
def pem_dir(dmp_runner: Runner, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("dmp-pem")
    (folder / "ca.pem").write_bytes(dmp_runner.sandbox.pki.ca_bundle())
    return folder


def write(folder: Path, name: str, creds: Credentials) -> tuple[str, str]:
    cert, key = folder / f"{name}.crt.pem", folder / f"{name}.key.pem"
    cert.write_bytes(creds.fullchain_pem)
    key.write_bytes(creds.key_pem)
    return str(cert), str(key)


@pytest.fixture(scope="session")
def creds(pki: Any) -> Callable[[str, str], Credentials]:
    return lambda persona, kind: pki.credentials(persona, kind)


@pytest.fixture(scope="session")
def gp_auth(pem_dir: Path, creds: Any) -> tuple[str, str]:
    return write(pem_dir, "gp-auth", creds(GP, "cps_auth"))


@pytest.fixture(scope="session")
def org_auth(pem_dir: Path, creds: Any) -> tuple[str, str]:
    return write(pem_dir, "org-auth", creds(GP_STRUCTURE, "org_auth_cli"))


@pytest.fixture(scope="session")
def dmp_url(dmp_runner: Runner) -> Callable[[str], str]:
    return lambda service: dmp_runner.url("dmp", f"/si-dmp-server/v2/services/{service}")


def tls_context(ca: Path, cert: tuple[str, str] | None) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(ca))
    if cert:
        ctx.load_cert_chain(*cert)
    return ctx


@pytest.fixture
def post(
    pem_dir: Path, gp_auth: tuple[str, str], org_auth: tuple[str, str], dmp_url: Any
) -> Iterator[Callable[..., httpx.Response]]:
    """POST raw bytes to a DMP service with the GP's CPS (or the structure's ORG) certificate."""
    clients = {
        "cps": httpx.Client(verify=tls_context(pem_dir / "ca.pem", gp_auth), timeout=30),
        "org": httpx.Client(verify=tls_context(pem_dir / "ca.pem", org_auth), timeout=30),
    }

    def send(
        service: str, data: bytes, tenant: str | None = None, cert: str = "cps", content_type: str = CT
    ) -> httpx.Response:
        headers = {"Content-Type": content_type}
        if tenant:
            headers["X-Sandbox-Tenant"] = tenant
        return clients[cert].post(dmp_url(service), content=data, headers=headers)

    yield send
    for client in clients.values():
        client.close()


@pytest.fixture
def now(dmp_runner: Runner, tenant: str) -> datetime:
    return dmp_runner.sandbox.now(tenant)
