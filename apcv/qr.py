"""The QR code the patient's phone shows: a short-lived signed token of ours (the real payload is
not public, research A1.5 and §7; the LGC passes it unchanged as `Donnees`).

    APCV1.<payload>.<mac>

- `payload`: base64url (no padding) of compact JSON
  `{"t": tenant, "od": NIR of the card's ouvrant droit, "p": patient id, "n": nonce,
    "iat": issued (Unix s), "exp": expiry (Unix s)}`, times on the tenant's sandbox clock;
- `mac`: base64url of HMAC-SHA256 over `APCV1.<payload>` with the sandbox's key, first 16 bytes.

`read` checks the form, the MAC and the expiry and says which one failed (`QrError.kind`):
`invalid` (not ours, altered) or `expired`. The tenant and the card are the caller's business.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime

from apcv.keys import Keys

PREFIX = "APCV1"


class QrError(ValueError):
    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind  # "invalid" or "expired"
        self.message = message


@dataclass(frozen=True)
class QrToken:
    tenant: str
    nir_od: str
    patient_id: str
    nonce: str
    issued: int
    expires: int

    @property
    def expires_at(self) -> datetime:
        from datetime import UTC

        return datetime.fromtimestamp(self.expires, UTC)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def make(keys: Keys, tenant: str, nir_od: str, patient_id: str, now: datetime, lifetime_s: int) -> str:
    issued = int(now.timestamp())
    claims = {
        "t": tenant,
        "od": nir_od,
        "p": patient_id,
        "n": secrets.token_hex(6),
        "iat": issued,
        "exp": issued + lifetime_s,
    }
    signed = f"{PREFIX}.{_b64(json.dumps(claims, separators=(',', ':')).encode())}"
    return f"{signed}.{_b64(keys.mac(signed.encode()))}"


def read(keys: Keys, text: str, now: datetime) -> QrToken:
    value = (text or "").strip()
    parts = value.split(".")
    if len(parts) != 3 or parts[0] != PREFIX:
        raise QrError("invalid", "Donnees n'est pas un QR code de l'application carte Vitale (APCV1.…)")
    try:
        mac = _unb64(parts[2])
        claims = json.loads(_unb64(parts[1]))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise QrError("invalid", "QR code illisible (base64url / JSON)") from None
    if not hmac.compare_digest(mac, keys.mac(f"{parts[0]}.{parts[1]}".encode())):
        raise QrError("invalid", "QR code altéré ou émis par une autre sandbox (signature invalide)")
    try:
        token = QrToken(
            str(claims["t"]), str(claims["od"]), str(claims["p"]), str(claims["n"]),
            int(claims["iat"]), int(claims["exp"]),
        )  # fmt: skip
    except (KeyError, TypeError, ValueError):
        raise QrError("invalid", "QR code incomplet") from None
    if now.timestamp() >= token.expires:
        raise QrError("expired", f"QR code expiré depuis le {token.expires_at.isoformat()}")
    return token
