"""INSi integration fixtures: credentials from the sandbox PKI, a zeep client generated from the
official WSDL (offline), the référentiel the service matches against, an assertion PS signer."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import insi.service
from insi.matching import ListDirectory
from mocks.runner import Runner
from tests.insi.clients import CT, PROFESSIONAL, STRUCTURE, write_creds
from tests.insi.support import GOLDEN, MAGIC


@pytest.fixture(scope="session")
def insi_runner(running_sandbox: Runner) -> Iterator[Runner]:
    """The shared sandbox, its INSi référentiel being the public test identities when the synthetic
    population (mocks.population) is not part of this build."""
    try:
        import mocks.population  # noqa: F401
    except ImportError:
        saved = insi.service.directory_for
        directory = ListDirectory(GOLDEN + MAGIC)
        insi.service.directory_for = lambda sandbox, tenant: directory  # type: ignore[assignment]
        yield running_sandbox
        insi.service.directory_for = saved
        return
    yield running_sandbox


@pytest.fixture(scope="session")
def pem_dir(insi_runner: Runner, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("insi-pem")
    pki = insi_runner.sandbox.pki
    (folder / "ca.pem").write_bytes(pki.ca_bundle())
    return folder


@pytest.fixture(scope="session")
def insi_auto(insi_runner: Runner, pem_dir: Path) -> tuple[str, str]:
    return write_creds(pem_dir, "insi-auto", insi_runner.sandbox.pki.credentials(STRUCTURE, "insi_auto"))


@pytest.fixture(scope="session")
def mtls_url(insi_runner: Runner) -> str:
    return insi_runner.url("insi", "/lps")


@pytest.fixture(scope="session")
def cpx_url(insi_runner: Runner) -> str:
    return insi_runner.url("insi-cpx", "/lps")


@pytest.fixture(scope="session")
def cps_sign(insi_runner: Runner) -> Any:
    return insi_runner.sandbox.pki.credentials(PROFESSIONAL, "cps_sign")


@pytest.fixture
def post(pem_dir: Path, insi_auto: tuple[str, str], mtls_url: str) -> Iterator[Callable[..., httpx.Response]]:
    """POST raw bytes to the mTLS listener with the INSI-AUTO certificate."""
    import ssl

    ctx = ssl.create_default_context(cafile=str(pem_dir / "ca.pem"))
    ctx.load_cert_chain(*insi_auto)
    with httpx.Client(verify=ctx, timeout=30) as client:

        def send(data: bytes, tenant: str | None = None, content_type: str = CT) -> httpx.Response:
            headers = {"Content-Type": content_type}
            if tenant:
                headers["X-Sandbox-Tenant"] = tenant
            return client.post(mtls_url, content=data, headers=headers)

        yield send
