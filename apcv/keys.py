"""The service's secrets, kept in the store (`apcv_keys`, global: a tenant reset does not change
them, every process of the sandbox reads the same): the HMAC key of the QR codes (apcv.qr) and the
Ed25519 key of the `signerVitale` signatures, whose public half the control API publishes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
from functools import cached_property
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

if TYPE_CHECKING:
    from mocks.store import Store

MIGRATIONS = ["CREATE TABLE apcv_keys (name TEXT PRIMARY KEY, secret TEXT NOT NULL)"]


class Keys:
    def __init__(self, store: Store):
        self.store = store
        self._lock = threading.Lock()

    @cached_property
    def master(self) -> bytes:
        with self._lock:
            row = self.store.one("SELECT secret FROM apcv_keys WHERE name = 'master'")
            if row is None:
                # INSERT OR IGNORE: two processes starting together keep the first one's secret
                self.store.execute(
                    "INSERT OR IGNORE INTO apcv_keys(name, secret) VALUES ('master', ?)",
                    (base64.b64encode(secrets.token_bytes(32)).decode(),),
                )
                row = self.store.one("SELECT secret FROM apcv_keys WHERE name = 'master'")
            assert row is not None
            return base64.b64decode(row["secret"])

    def _derive(self, label: str) -> bytes:
        return HKDF(SHA256(), 32, salt=None, info=label.encode()).derive(self.master)

    @cached_property
    def qr_key(self) -> bytes:
        return self._derive("apcv qr hmac")

    def mac(self, data: bytes) -> bytes:
        """The QR code's authenticator: HMAC-SHA256 truncated to 16 bytes (a short QR code)."""
        return hmac.new(self.qr_key, data, hashlib.sha256).digest()[:16]

    @cached_property
    def signing_key(self) -> Ed25519PrivateKey:
        return Ed25519PrivateKey.from_private_bytes(self._derive("apcv signerVitale ed25519"))

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.signing_key.public_key()

    def public_pem(self) -> str:
        return self.public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()

    def sign(self, data: bytes) -> bytes:
        return self.signing_key.sign(data)
