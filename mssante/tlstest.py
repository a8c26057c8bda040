"""TLS test endpoints: servers an LGC must refuse to talk to (Ref#2 ECO.1.1.2 - ECO.1.1.10,
MSS.03-09; research mssante.md §1.3, §3.1). Each is a real SMTP or IMAP listener (STARTTLS, like
the operator's), one port per variant, from `mss_test_smtp_port` / `mss_test_imap_port` upwards:

    +0  tls13     TLS 1.3 only (ECO.1.1.2: the client supports TLS 1.2 only)
    +1  cipher    TLS 1.2 with AES256-SHA only, outside the four ECDHE-RSA suites (ECO.1.1.3)
    +2  expired   a server certificate of our IGC-Santé that expired yesterday (ECO.1.1.4)
    +3  revoked   a server certificate of our IGC-Santé, revoked, on the CRL and OCSP (ECO.1.1.6)
    +4  foreign   a self-signed certificate from outside IGC-Santé (ECO.1.1.10)

Every handshake is journaled (`MSS TLS test expired: handshake completed` / `aborted by
client`); a client that sends a command after a completed handshake gets a finding
`MSS-TLS-NOT-ABORTED` (error): the LGC accepted a server it must refuse.
"""

from __future__ import annotations

import datetime as dt
import ssl
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from mocks.service import Listener, TlsPolicy

if TYPE_CHECKING:
    from mocks.kernel import Sandbox
    from mssante.service import Mss

VARIANTS = ("tls13", "cipher", "expired", "revoked", "foreign")
DESCRIPTIONS = {
    "tls13": "TLS 1.3 seulement",
    "cipher": "suite AES256-SHA hors des quatre suites ECDHE-RSA",
    "expired": "certificat serveur IGC-Santé expiré",
    "revoked": "certificat serveur IGC-Santé révoqué",
    "foreign": "certificat serveur hors IGC-Santé (auto-signé)",
}


def listeners(mss: Mss) -> list[Listener]:
    out = []
    for scheme in ("smtp", "imap"):
        for i, variant in enumerate(VARIANTS):
            out.append(
                Listener(
                    name=f"mss-test-{scheme}-{variant}",
                    port_setting=f"mss_test_{scheme}_port",
                    scheme=scheme,  # type: ignore[arg-type]
                    tls=TlsPolicy(client_auth="none"),
                    tls_mode="starttls",
                    server=_factory(mss, scheme, variant, i),
                    description=f"MSSanté, point de test TLS ({scheme.upper()}) : {DESCRIPTIONS[variant]}",
                )
            )
    return out


def _factory(mss: Mss, scheme: str, variant: str, offset: int) -> Any:
    def factory(sandbox: Sandbox, context: ssl.SSLContext | None, host: str, port: int) -> Any:
        ctx = test_context(sandbox, variant)
        port = port + offset if port else 0
        name = f"mss-test-{scheme}-{variant}"
        if scheme == "smtp":
            from mssante.smtp import SmtpServer

            return SmtpServer(mss, name, ctx, "starttls", host, port, tls_test=variant)
        from mssante.imap.server import ImapServer

        return ImapServer(mss, name, ctx, "starttls", host, port, tls_test=variant)

    return factory


def _hosts(sandbox: Sandbox) -> list[str]:
    return list(dict.fromkeys(h for h in sandbox.config.hostnames if h)) or ["localhost"]


def test_context(sandbox: Sandbox, variant: str) -> ssl.SSLContext:
    pki, hosts = sandbox.pki, _hosts(sandbox)
    if variant == "tls13":
        return pki.server_context(TlsPolicy(minimum_version="TLSv1.3"), hosts)
    if variant == "cipher":
        ctx = pki.server_context(TlsPolicy(ciphers="AES256-SHA"), hosts)
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        return ctx
    folder = sandbox.config.data_dir / "mss-tls-test"
    folder.mkdir(parents=True, exist_ok=True)
    chain, key = folder / f"{variant}.chain.pem", folder / f"{variant}.key.pem"
    if not chain.exists() or not key.exists():
        cert_pem, key_pem = _foreign(hosts) if variant == "foreign" else _igc(sandbox, hosts, variant)
        key.write_bytes(key_pem)
        key.chmod(0o600)
        chain.write_bytes(cert_pem)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(chain, key)
    return ctx


def _igc(sandbox: Sandbox, hosts: list[str], variant: str) -> tuple[bytes, bytes]:
    """A SERV SSL certificate of our IGC-Santé that expired yesterday, or a revoked current one."""
    from mocks.pki import profiles

    pki = sandbox.pki
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    if variant == "expired":
        nb, na = now - dt.timedelta(days=400), now - dt.timedelta(days=1)
    else:
        nb, na = now - dt.timedelta(minutes=5), now + dt.timedelta(days=365)
    # the PKI's own issuance (its profile, CRL and OCSP), under a persona id of ours
    creds = pki._issue(
        "server",
        f"mss-test-{variant}:" + ",".join(hosts),
        profiles.SANDBOX_STRUCTURE,
        nb,
        na,
        hostnames=hosts,
    )  # type: ignore[attr-defined]
    if variant == "revoked":
        creds = pki.revoke(creds.serial, "key_compromise")
    return creds.cert_pem + pki.ca(creds.issuer).pem, creds.key_pem


def _foreign(hosts: list[str]) -> tuple[bytes, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, hosts[0]),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Not IGC-Sante"),
        ]
    )
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(h) for h in hosts]), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem
