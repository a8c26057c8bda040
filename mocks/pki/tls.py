"""Server TLS contexts for the sandbox's HTTPS listeners."""

from __future__ import annotations

import hashlib
import os
import ssl
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mocks.pki.authority import Pki
    from mocks.pki.model import Credentials
    from mocks.service import TlsPolicy

# OpenSSL's X509_V_FLAG_NO_CHECK_TIME: the chain is checked, its dates are not (the app judges
# them on the sandbox clock). Python passes verify_flags through to X509_VERIFY_PARAM_set_flags.
NO_CHECK_TIME = 0x200000

# The suites the DMP accepts from an LPS in TLS 1.2 (research dmp.md 1.2, PDT-INF-579v4), in
# OpenSSL spelling, for services whose TlsPolicy restricts ciphers like the real one.
ANS_LPS_TLS12_CIPHERS = ":".join(
    [
        "ECDHE-RSA-CHACHA20-POLY1305",
        "ECDHE-RSA-AES128-GCM-SHA256",
        "ECDHE-RSA-AES256-SHA384",
        "ECDHE-RSA-AES256-GCM-SHA384",
    ]
)

VERSIONS = {"TLSv1.2": ssl.TLSVersion.TLSv1_2, "TLSv1.3": ssl.TLSVersion.TLSv1_3}
VERIFY = {"none": ssl.CERT_NONE, "optional": ssl.CERT_OPTIONAL, "required": ssl.CERT_REQUIRED}


def _write_private(path: Path, data: bytes) -> None:
    """Atomic write readable by the owner only (several processes may write the same file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def _files(pki: Pki, creds: Credentials, chain: bytes) -> tuple[Path, Path]:
    """ssl loads certificates from files only: keep them in the data folder, named by serial."""
    folder = pki.folder / "tls"
    stem = hashlib.sha256(creds.serial.encode()).hexdigest()[:16]
    chain_path, key_path = folder / f"{stem}.chain.pem", folder / f"{stem}.key.pem"
    if not chain_path.exists() or not key_path.exists():
        _write_private(key_path, creds.key_pem)
        _write_private(chain_path, creds.cert_pem + chain)
    return chain_path, key_path


def client_context(pki: Pki, creds: Credentials | None) -> ssl.SSLContext:
    """A client context trusting the TEST roots and presenting `creds` (leaf + intermediate)."""
    ctx = ssl.create_default_context(cadata=pki.trust_bundle().decode("ascii"))
    if creds is not None:
        ctx.load_cert_chain(*_files(pki, creds, pki.ca(creds.issuer).pem))
    return ctx


def server_context(pki: Pki, policy: TlsPolicy, hostnames: list[str]) -> ssl.SSLContext:
    pki.ensure(pki.issuing_cas())  # the four a listener needs, generated together
    creds = pki.server_credentials(hostnames)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    if policy.minimum_version not in VERSIONS:
        raise ValueError(f"unsupported minimum TLS version: {policy.minimum_version}")
    ctx.minimum_version = VERSIONS[policy.minimum_version]
    if policy.maximum_version:
        if policy.maximum_version not in VERSIONS:
            raise ValueError(f"unsupported maximum TLS version: {policy.maximum_version}")
        # without it a TLS 1.3 client negotiates 1.3 and `ciphers` (TLS 1.2 suites) never applies
        ctx.maximum_version = VERSIONS[policy.maximum_version]
    if policy.ciphers:
        ctx.set_ciphers(policy.ciphers)
    ctx.load_cert_chain(*_files(pki, creds, pki.ca(creds.issuer).pem))
    ctx.verify_mode = VERIFY[policy.client_auth]
    if policy.client_auth != "none":
        # roots and intermediates: clients often send their leaf only. The issuing CAs only: the
        # five others issue nothing, so no client certificate can chain to them (they are made
        # in the background after `Ready.`, or on first use)
        ctx.load_verify_locations(cadata=pki.verify_bundle().decode("ascii"))
        ctx.verify_flags = ssl.VerifyFlags(int(ctx.verify_flags) | NO_CHECK_TIME)
        if not int(ctx.verify_flags) & NO_CHECK_TIME:
            raise RuntimeError("this Python / OpenSSL ignores X509_V_FLAG_NO_CHECK_TIME")
    return ctx
