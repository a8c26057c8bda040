"""One PKI for the whole tests/pki session (the nine RSA-4096 CAs take seconds to make), with its
publication listener (CRL, AIA, OCSP) on an ephemeral port over a real socket.

Tests isolate themselves by persona ids and tenants, never by resetting the PKI.
"""

from __future__ import annotations

import shutil
import subprocess
import uuid
from collections.abc import Iterator

import pytest

from mocks.http import HttpServer
from mocks.kernel import Sandbox
from mocks.pki import Pki, Professional, Structure
from mocks.pki.service import create
from mocks.testing import make_config

from .support import PkiEnv


@pytest.fixture(scope="session")
def pki_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PkiEnv]:
    data_dir = tmp_path_factory.mktemp("pki-data")
    sandbox = Sandbox(make_config(data_dir, host="127.0.0.1"))
    service = create(sandbox)
    sandbox.store.migrate("pki", list(service.migrations()))
    listener = service.listeners()[0]
    assert listener.app is not None
    server = HttpServer("pki", "127.0.0.1", 0, listener.app, None)
    server.start()
    # bound before the hierarchy is made, so that certificates name the real port
    sandbox.bound_ports["pki"] = server.port
    sandbox.pki.ensure()  # all nine CAs
    yield PkiEnv(sandbox, server, tmp_path_factory.mktemp("pki-files"))
    server.stop()


@pytest.fixture
def pki(pki_env: PkiEnv) -> Pki:
    return pki_env.pki


def _digits(n: int) -> str:
    return "".join(str(int(c, 16) % 10) for c in uuid.uuid4().hex[:n])


@pytest.fixture
def professional(pki: Pki) -> Professional:
    """A fresh professional (idNat_PS = 8 + RPPS), registered with the PKI."""
    pro = Professional(
        id_nat="8" + _digits(11), first_name="Olivier", last_name="Infirmcs", profession_code="60"
    )
    pki.register(pro)
    return pro


@pytest.fixture
def structure(pki: Pki) -> Structure:
    """A fresh structure (idNat_Struct = 1 + FINESS), registered with the PKI."""
    st = Structure(id_nat="1" + _digits(9), name="CENTRE DE SANTE SANDBOX", locality="Rhône (69)")
    pki.register(st)
    return st


@pytest.fixture(scope="session")
def openssl() -> str:
    path = shutil.which("openssl")
    if path is None:
        pytest.skip("openssl command not found")
    version = subprocess.run([path, "version"], capture_output=True, text=True, check=True).stdout
    assert version.startswith("OpenSSL 3"), f"these tests expect OpenSSL 3: {version}"
    return path
