"""Signing keys, kept in the store (`psc_keys`, global: a reset does not change the JWKS):

- `realm`     RS256, the `esante-wallet` realm key (ID and access tokens), published in its JWKS;
- `exchange`  RS256, the token-exchange authorization server's key;
- `refresh`   HS512, refresh tokens (as Keycloak signs them: only the realm reads them).

A key is created once (first process wins, INSERT OR IGNORE) and is immutable afterwards, so
each process may keep the parsed key.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from joserfc import jws
from joserfc.jwk import OctKey, RSAKey

from mocks.store import Store

MIGRATIONS = [
    """
    CREATE TABLE psc_keys (
        name TEXT PRIMARY KEY,
        kid TEXT NOT NULL,
        secret TEXT NOT NULL,
        cert_pem TEXT NOT NULL DEFAULT ''
    )
    """
]

RSA_NAMES = {"realm": "esante-wallet", "exchange": "signsessiondata"}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class Keys:
    def __init__(self, store: Store):
        self.store = store
        self._cache: dict[str, tuple[str, Any, str]] = {}
        self._lock = threading.Lock()

    def _load(self, name: str) -> tuple[str, Any, str]:
        found = self._cache.get(name)
        if found is not None:
            return found
        with self._lock:
            row = self.store.one("SELECT * FROM psc_keys WHERE name = ?", (name,))
            if row is None:
                self._create(name)
                row = self.store.one("SELECT * FROM psc_keys WHERE name = ?", (name,))
            assert row is not None
            if name == "refresh":
                key: Any = OctKey.import_key(base64.b64decode(row["secret"]))
            else:
                key = RSAKey.import_key(row["secret"])
            self._cache[name] = (row["kid"], key, row["cert_pem"])
            return self._cache[name]

    def _create(self, name: str) -> None:
        if name == "refresh":
            raw = secrets.token_bytes(64)
            kid, secret, cert = secrets.token_hex(16), base64.b64encode(raw).decode(), ""
        else:
            private = rsa.generate_private_key(65537, 2048)
            secret = private.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ).decode()
            kid = RSAKey.import_key(secret).thumbprint()
            cert = _self_signed(private, RSA_NAMES[name])
        self.store.execute(
            "INSERT OR IGNORE INTO psc_keys(name, kid, secret, cert_pem) VALUES (?, ?, ?, ?)",
            (name, kid, secret, cert),
        )

    def kid(self, name: str) -> str:
        return self._load(name)[0]

    def key(self, name: str) -> Any:
        return self._load(name)[1]

    def sign(self, name: str, payload: dict[str, Any] | str) -> str:
        """A compact JWS: RS256 (realm, exchange) or HS512 (refresh), header like Keycloak's."""
        kid, key, _ = self._load(name)
        alg = "HS512" if name == "refresh" else "RS256"
        header = {"alg": alg, "typ": "JWT", "kid": kid}
        body = (
            payload
            if isinstance(payload, str)
            else json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        )
        return jws.serialize_compact(header, body.encode("utf-8"), key, algorithms=[alg])

    def verify(self, name: str, token: str) -> dict[str, Any] | None:
        """The claims of a token signed with key `name`, or None (bad signature, kid or form).
        Time is not checked here: the caller judges `exp` on the tenant's clock."""
        kid, key, _ = self._load(name)
        alg = "HS512" if name == "refresh" else "RS256"
        try:
            obj = jws.deserialize_compact(token, key, algorithms=[alg])
        except Exception:  # noqa: BLE001 - any malformed or forged token is simply not valid
            return None
        if obj.protected.get("kid") != kid:
            return None
        try:
            claims = json.loads(obj.payload)
        except ValueError:
            return None
        return claims if isinstance(claims, dict) else None

    def jwks(self, name: str) -> dict[str, Any]:
        """The JWKS Keycloak publishes: kid, kty, alg, use, n, e, x5c, x5t, x5t#S256."""
        kid, key, cert_pem = self._load(name)
        public = key.as_dict(private=False)
        der = x509.load_pem_x509_certificate(cert_pem.encode()).public_bytes(serialization.Encoding.DER)
        return {
            "keys": [
                {
                    "kid": kid,
                    "kty": "RSA",
                    "alg": "RS256",
                    "use": "sig",
                    "n": public["n"],
                    "e": public["e"],
                    "x5c": [base64.b64encode(der).decode()],
                    "x5t": b64url(hashlib.sha1(der).digest()),  # noqa: S324 - RFC 7517 x5t is SHA-1
                    "x5t#S256": b64url(hashlib.sha256(der).digest()),
                }
            ]
        }


def _self_signed(private: rsa.RSAPrivateKey, cn: str) -> str:
    """Keycloak publishes each realm key with a self-signed certificate named after the realm."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = datetime.now(UTC).replace(microsecond=0)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=3650))
        .sign(private, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode()
