"""Signing keys and JWTs, as Keycloak writes them.

- One RSA-2048 key (RS256) per data folder, in `psc_keys` (no tenant column: it survives resets,
  like a realm key), created under BEGIN IMMEDIATE so that processes starting together agree.
- Header byte for byte as Keycloak's JWSBuilder: `{"alg":"RS256","typ" : "JWT","kid" : "..."}`.
- Payloads keep the claim order of the real tokens; the "duplicated acr" quirk writes the key
  twice, which no JSON library would.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

if TYPE_CHECKING:
    from mocks.store import Store

KEY_MIGRATION = """
CREATE TABLE psc_keys (
    kid TEXT PRIMARY KEY,
    private_pem TEXT NOT NULL,
    created_at TEXT NOT NULL
)
"""


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64u_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _int_b64u(value: int) -> str:
    return b64u(value.to_bytes((value.bit_length() + 7) // 8, "big"))


class InvalidJwt(ValueError):
    pass


class Keys:
    """The realm's signing key (loaded once per process; the store is the source of truth)."""

    def __init__(self, store: Store):
        self.store = store
        self._lock = threading.Lock()
        self._key: rsa.RSAPrivateKey | None = None
        self._kid = ""

    def _load(self) -> tuple[rsa.RSAPrivateKey, str]:
        if self._key is not None:
            return self._key, self._kid
        with self._lock:
            if self._key is None:
                row = self.store.one("SELECT kid, private_pem FROM psc_keys ORDER BY created_at LIMIT 1")
                if row is None:
                    fresh = rsa.generate_private_key(public_exponent=65537, key_size=2048)
                    pem = fresh.private_bytes(
                        serialization.Encoding.PEM,
                        serialization.PrivateFormat.PKCS8,
                        serialization.NoEncryption(),
                    ).decode()
                    with self.store.tx() as conn:
                        found = conn.execute(
                            "SELECT kid, private_pem FROM psc_keys ORDER BY created_at LIMIT 1"
                        ).fetchone()
                        if found is None:
                            conn.execute(
                                "INSERT INTO psc_keys(kid, private_pem, created_at) VALUES (?, ?, "
                                "strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
                                (thumbprint(fresh.public_key()), pem),
                            )
                    row = self.store.one("SELECT kid, private_pem FROM psc_keys ORDER BY created_at LIMIT 1")
                    assert row is not None
                key = serialization.load_pem_private_key(row["private_pem"].encode(), None)
                assert isinstance(key, rsa.RSAPrivateKey)
                self._key, self._kid = key, str(row["kid"])
        assert self._key is not None
        return self._key, self._kid

    @property
    def kid(self) -> str:
        return self._load()[1]

    def jwks(self) -> dict[str, Any]:
        key, kid = self._load()
        numbers = key.public_key().public_numbers()
        return {
            "keys": [
                {
                    "kid": kid,
                    "kty": "RSA",
                    "alg": "RS256",
                    "use": "sig",
                    "n": _int_b64u(numbers.n),
                    "e": _int_b64u(numbers.e),
                }
            ]
        }

    def sign(self, payload: dict[str, Any] | str) -> str:
        """A compact JWS; `payload` is the claims, or their JSON already serialised."""
        key, kid = self._load()
        header = '{"alg":"RS256","typ" : "JWT","kid" : "' + kid + '"}'
        body = payload if isinstance(payload, str) else dumps(payload)
        signing_input = b64u(header.encode()) + "." + b64u(body.encode())
        signature = key.sign(signing_input.encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
        return signing_input + "." + b64u(signature)

    def verify(self, token: str) -> dict[str, Any]:
        """The claims of a JWT we signed (signature only; the caller judges time and state)."""
        key, kid = self._load()
        parts = token.split(".")
        if len(parts) != 3:
            raise InvalidJwt("not a compact JWS")
        try:
            header = json.loads(b64u_decode(parts[0]))
            claims = json.loads(b64u_decode(parts[1]))
            signature = b64u_decode(parts[2])
        except (ValueError, UnicodeDecodeError) as exc:
            raise InvalidJwt(f"malformed token: {exc}") from None
        if not isinstance(header, dict) or header.get("alg") != "RS256" or header.get("kid") != kid:
            raise InvalidJwt("unknown key or algorithm")
        try:
            key.public_key().verify(
                signature, (parts[0] + "." + parts[1]).encode("ascii"), padding.PKCS1v15(), hashes.SHA256()
            )
        except InvalidSignature:
            raise InvalidJwt("invalid signature") from None
        if not isinstance(claims, dict):
            raise InvalidJwt("claims are not an object")
        return claims


def thumbprint(public: rsa.RSAPublicKey) -> str:
    """RFC 7638 JWK thumbprint (what Keycloak uses as kid)."""
    numbers = public.public_numbers()
    canonical = json.dumps(
        {"e": _int_b64u(numbers.e), "kty": "RSA", "n": _int_b64u(numbers.n)}, separators=(",", ":")
    )
    return b64u(hashlib.sha256(canonical.encode()).digest())


def dumps(claims: dict[str, Any], duplicate_acr: str | None = None) -> str:
    """Compact JSON in insertion order; with `duplicate_acr`, `acr` is written twice (first that
    value, then the real one), as a 2021 BAS token did."""
    text = json.dumps(claims, ensure_ascii=False, separators=(",", ":"))
    if duplicate_acr is not None and "acr" in claims:
        real = '"acr":' + json.dumps(claims["acr"])
        text = text.replace(real, '"acr":' + json.dumps(duplicate_acr) + "," + real, 1)
    return text


def half_hash(value: str) -> str:
    """at_hash: left half of SHA-256 of the ASCII token, base64url."""
    digest = hashlib.sha256(value.encode("ascii")).digest()
    return b64u(digest[: len(digest) // 2])


def x5t_s256(der: bytes) -> str:
    return b64u(hashlib.sha256(der).digest())
