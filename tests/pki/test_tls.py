"""TLS handshakes over real sockets against `Pki.server_context`, with client certificates judged
by `identify` on the sandbox clock (OpenSSL checks the chain, not the dates)."""

from __future__ import annotations

import json
import ssl
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from mocks.http import HttpServer
from mocks.pki import Credentials, Structure
from mocks.pki.model import CallerCertificate
from mocks.service import TlsPolicy

from .support import PkiEnv


def _caller_app(env: PkiEnv) -> Callable[..., Iterable[bytes]]:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        tenant = environ.get("segur.tenant_hint") or "default"
        caller: CallerCertificate = env.pki.identify(environ.get("segur.peercert"), tenant)
        body = {
            "kind": caller.kind,
            "status": caller.status,
            "persona": caller.persona,
            "cn": caller.cn,
            "tls": environ["segur.tls"],
        }
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps(body).encode()]

    return app


@pytest.fixture(scope="module")
def servers(pki_env: PkiEnv) -> Iterator[dict[str, HttpServer]]:
    started = {}
    for mode in ("required", "optional"):
        context = pki_env.pki.server_context(TlsPolicy(client_auth=mode), ["localhost", "127.0.0.1"])  # type: ignore[arg-type]
        server = HttpServer(f"tls-{mode}", "127.0.0.1", 0, _caller_app(pki_env), context)
        server.start()
        started[mode] = server
    yield started
    for server in started.values():
        server.stop()


def _client_context(env: PkiEnv, creds: Credentials | None, folder: Path) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cadata=env.pki.trust_bundle().decode())
    if creds is not None:
        cert = folder / f"{creds.serial}.pem"
        key = folder / f"{creds.serial}.key"
        cert.write_bytes(creds.fullchain_pem)
        key.write_bytes(creds.key_pem)
        ctx.load_cert_chain(cert, key)
    return ctx


def _call(server: HttpServer, ctx: ssl.SSLContext, tenant: str | None = None) -> dict[str, Any]:
    headers = {"X-Sandbox-Tenant": tenant} if tenant else {}
    # the server certificate is checked by the client: trust bundle + host name
    response = httpx.get(f"https://localhost:{server.port}/", verify=ctx, headers=headers, timeout=10)
    response.raise_for_status()
    return dict(response.json())


def test_client_certificate_is_identified(
    pki_env: PkiEnv, servers: dict[str, HttpServer], structure: Structure, tmp_path: Path
) -> None:
    creds = pki_env.pki.credentials(structure, "insi_auto")
    body = _call(servers["required"], _client_context(pki_env, creds, tmp_path))
    assert body["kind"] == "insi_auto"
    assert body["status"] == "valid"
    assert body["persona"] == structure.id_nat
    assert body["cn"] == "INSI-AUTO"
    assert body["tls"]["protocol"] in ("TLSv1.2", "TLSv1.3")


def test_expired_and_revoked_certificates_reach_the_application(
    pki_env: PkiEnv, servers: dict[str, HttpServer], structure: Structure, tmp_path: Path
) -> None:
    expired = pki_env.pki.issue(structure, "org_auth_cli", "expired")
    assert _call(servers["required"], _client_context(pki_env, expired, tmp_path))["status"] == "expired"
    later = pki_env.pki.issue(structure, "org_auth_cli", "not_yet_valid")
    assert _call(servers["required"], _client_context(pki_env, later, tmp_path))["status"] == "not_yet_valid"
    good = pki_env.pki.renew(structure.id_nat, "org_auth_cli")
    pki_env.pki.revoke(good.serial, "key_compromise")
    assert _call(servers["required"], _client_context(pki_env, good, tmp_path))["status"] == "revoked"


def test_validity_follows_the_tenant_clock(
    pki_env: PkiEnv, servers: dict[str, HttpServer], structure: Structure, tmp_path: Path
) -> None:
    sandbox = pki_env.sandbox
    creds = pki_env.pki.renew(structure.id_nat, "insi_manu")
    tenant = "pki-clock-" + structure.id_nat.lower()
    sandbox.tenants.create(tenant)
    sandbox.clock.set_time(tenant, creds.not_after + timedelta(days=1), frozen=True)
    ctx = _client_context(pki_env, creds, tmp_path)
    assert _call(servers["required"], ctx, tenant)["status"] == "expired"
    assert _call(servers["required"], ctx)["status"] == "valid"  # default tenant: real time


def test_required_mode_refuses_a_missing_certificate(
    pki_env: PkiEnv, servers: dict[str, HttpServer], tmp_path: Path
) -> None:
    with pytest.raises((httpx.HTTPError, ssl.SSLError)):
        _call(servers["required"], _client_context(pki_env, None, tmp_path))


def test_optional_mode_reports_an_absent_certificate(
    pki_env: PkiEnv, servers: dict[str, HttpServer], tmp_path: Path
) -> None:
    body = _call(servers["optional"], _client_context(pki_env, None, tmp_path))
    assert body["status"] == "absent"
    assert body["kind"] == "unknown"


def test_a_certificate_from_another_ca_with_the_same_name_is_refused(
    pki_env: PkiEnv, servers: dict[str, HttpServer], structure: Structure, tmp_path: Path
) -> None:
    """An impostor CA named exactly like TEST AC IGC-SANTE ELEMENTAIRE ORGANISATIONS."""
    real = pki_env.pki.credentials(structure, "org_auth_cli")
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = datetime.now(UTC)
    issuer = pki_env.pki.ca(real.issuer).cert.subject
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.load_pem_x509_certificate(real.cert_pem).subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .sign(ca_key, hashes.SHA256())
    )
    (tmp_path / "fake.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "fake.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    ctx = _client_context(pki_env, None, tmp_path)
    ctx.load_cert_chain(tmp_path / "fake.pem", tmp_path / "fake.key")
    with pytest.raises((httpx.HTTPError, ssl.SSLError)):
        _call(servers["required"], ctx)
    # and identify(), which services also use for signatures, says so
    der = cert.public_bytes(serialization.Encoding.DER)
    assert pki_env.pki.identify(der).status == "unknown_issuer"


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_tls_1_1_is_refused(pki_env: PkiEnv, servers: dict[str, HttpServer], tmp_path: Path) -> None:
    ctx = _client_context(pki_env, None, tmp_path)
    ctx.minimum_version = ssl.TLSVersion.TLSv1
    ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    with pytest.raises((httpx.HTTPError, ssl.SSLError)):
        _call(servers["optional"], ctx)


def test_no_check_time_flag_is_set(pki_env: PkiEnv) -> None:
    ctx = pki_env.pki.server_context(TlsPolicy(client_auth="required"), ["localhost"])
    assert int(ctx.verify_flags) & 0x200000
    assert ctx.verify_mode == ssl.CERT_REQUIRED
    assert ctx.minimum_version == ssl.TLSVersion.TLSv1_2
    none = pki_env.pki.server_context(TlsPolicy(client_auth="none"), ["localhost"])
    assert none.verify_mode == ssl.CERT_NONE


def test_caller_thumbprint_for_certificate_bound_tokens(pki_env: PkiEnv, structure: Structure) -> None:
    import base64
    import hashlib

    creds = pki_env.pki.credentials(structure, "org_auth_cli")
    der = x509.load_pem_x509_certificate(creds.cert_pem).public_bytes(serialization.Encoding.DER)
    caller = pki_env.pki.identify(der)
    expected = base64.urlsafe_b64encode(hashlib.sha256(der).digest()).rstrip(b"=").decode()
    assert caller.x5t_s256 == expected
    assert pki_env.pki.identify(None).x5t_s256 == ""


def test_client_context_and_the_dmp_cipher_policy(pki_env: PkiEnv, structure: Structure) -> None:
    from mocks.pki.tls import ANS_LPS_TLS12_CIPHERS

    policy = TlsPolicy(client_auth="required", ciphers=ANS_LPS_TLS12_CIPHERS)
    server = HttpServer(
        "tls-dmp", "127.0.0.1", 0, _caller_app(pki_env), pki_env.pki.server_context(policy, ["localhost"])
    )
    server.start()
    try:
        ctx = pki_env.pki.client_context(structure, "org_auth_cli")
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        body = _call(server, ctx)
        assert body["kind"] == "org_auth_cli" and body["tls"]["protocol"] == "TLSv1.2"
        assert body["tls"]["cipher"] in ANS_LPS_TLS12_CIPHERS.split(":")
        other = pki_env.pki.client_context(structure, "org_auth_cli")
        other.maximum_version = ssl.TLSVersion.TLSv1_2
        other.set_ciphers("ECDHE-RSA-AES128-SHA256")  # not in the DMP's list
        with pytest.raises((httpx.HTTPError, ssl.SSLError)):
            _call(server, other)
    finally:
        server.stop()


def test_openssl_s_client_with_a_client_certificate(
    pki_env: PkiEnv, servers: dict[str, HttpServer], structure: Structure, openssl: str, tmp_path: Path
) -> None:
    """Another TLS stack than Python's: OpenSSL's own client, presenting leaf + intermediate."""
    import subprocess

    creds = pki_env.pki.credentials(structure, "insi_auto")
    (tmp_path / "cert.pem").write_bytes(creds.fullchain_pem)
    (tmp_path / "key.pem").write_bytes(creds.key_pem)
    (tmp_path / "roots.pem").write_bytes(pki_env.pki.trust_bundle())
    request = "GET / HTTP/1.1\r\nHost: localhost\r\nX-Sandbox-Tenant: default\r\nConnection: close\r\n\r\n"
    result = subprocess.run(
        [
            openssl,
            "s_client",
            "-connect",
            f"127.0.0.1:{servers['required'].port}",
            "-servername",
            "localhost",
            "-CAfile",
            tmp_path / "roots.pem",
            "-verify_return_error",
            "-verify_hostname",
            "localhost",
            "-cert",
            tmp_path / "cert.pem",
            "-key",
            tmp_path / "key.pem",
            "-quiet",
        ],
        input=request,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert '"kind": "insi_auto"' in result.stdout, result.stderr
    assert '"status": "valid"' in result.stdout
