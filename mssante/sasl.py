"""SASL messages the operator reads, for SMTP (RFC 4954) and IMAP (RFC 3501 / 4959) alike.

    XOAUTH2      `user=<address>^Aauth=Bearer <token>^A^A` (Google's XOAUTH2 protocol; what Ref#2
                 CONF.07 and the LGC libraries use with the PSC token, research mssante.md §1.3)
    OAUTHBEARER  RFC 7628: `n,a=<authzid>,^Ahost=...^Aport=...^Aauth=Bearer <token>^A^A`; a failure
                 is a challenge `{"status":"invalid_token",...}` the client answers with `^A`
    EXTERNAL     RFC 4422 App. A: the TLS client certificate is the credential; the message is
                 the authorization identity (empty: the certificate's only APP mailbox)
    PLAIN/LOGIN  only when `mss_password_auth` is on (`authzid^Aauthcid^Apassword`, RFC 4616)

Parsing only: who the credentials belong to is mssante.auth. A token carrying control characters
or spaces (a header injection attempt) is malformed here, before any verification.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass

MAX_SASL = 16 * 1024  # bytes of one SASL line: a PSC JWT is ~1.5 kB; a 1 MB blob is refused
TOKEN = re.compile(r"^[A-Za-z0-9\-._~+/]+=*$")  # RFC 6750 b64token
OAUTH_MECHANISMS = ("XOAUTH2", "OAUTHBEARER")


class SaslError(ValueError):
    """Undecodable or malformed SASL data (`reason`: syntax, too_long)."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class BearerCredentials:
    mechanism: str
    user: str  # XOAUTH2 user= / OAUTHBEARER a= (may be empty)
    token: str


@dataclass(frozen=True)
class ExternalCredentials:
    authzid: str


@dataclass(frozen=True)
class PasswordCredentials:
    mechanism: str
    authzid: str
    user: str
    password: str


Credentials = BearerCredentials | ExternalCredentials | PasswordCredentials


def b64decode(data: bytes | str) -> bytes:
    raw = data.encode("ascii", "replace") if isinstance(data, str) else data
    raw = raw.strip()
    if len(raw) > MAX_SASL * 4 // 3 + 4:
        raise SaslError("too_long", "SASL response too long")
    if raw == b"=":  # RFC 4954: an empty initial response
        return b""
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise SaslError("syntax", "cannot decode base64") from None


def _token(value: str) -> str:
    if not TOKEN.match(value):
        raise SaslError("syntax", "malformed bearer token")
    return value


def parse_xoauth2(data: bytes) -> BearerCredentials:
    text = data.decode("utf-8", "replace")
    parts = text.split("\x01")
    # user=...^Aauth=Bearer ...^A^A -> ["user=..", "auth=Bearer ..", "", ""]
    if len(parts) != 4 or parts[2] or parts[3] or not parts[0].startswith("user="):
        raise SaslError("syntax", "malformed XOAUTH2 response")
    auth = parts[1]
    if not auth.lower().startswith("auth=bearer "):
        raise SaslError("syntax", "malformed XOAUTH2 response")
    return BearerCredentials("XOAUTH2", parts[0][5:].strip(), _token(auth[12:]))


def parse_oauthbearer(data: bytes) -> BearerCredentials:
    text = data.decode("utf-8", "replace")
    gs2, sep, rest = text.partition("\x01")
    if not sep or not rest.endswith("\x01\x01"):
        raise SaslError("syntax", "malformed OAUTHBEARER response")
    flags = gs2.split(",")
    if len(flags) < 2 or flags[0] not in ("n", "y"):
        raise SaslError("syntax", "malformed OAUTHBEARER gs2 header")
    user = flags[1][2:] if flags[1].startswith("a=") else ""
    user = user.replace("=2C", ",").replace("=3D", "=")
    fields = {}
    for kv in rest[:-2].split("\x01"):
        key, eq, value = kv.partition("=")
        if not eq:
            raise SaslError("syntax", "malformed OAUTHBEARER key/value")
        fields[key] = value
    auth = fields.get("auth", "")
    if not auth.lower().startswith("bearer "):
        raise SaslError("syntax", "OAUTHBEARER without a bearer token")
    return BearerCredentials("OAUTHBEARER", user, _token(auth[7:]))


def parse_plain(data: bytes) -> PasswordCredentials:
    parts = data.decode("utf-8", "replace").split("\x00")
    if len(parts) != 3:
        raise SaslError("syntax", "malformed PLAIN response")
    return PasswordCredentials("PLAIN", parts[0], parts[1], parts[2])


def parse(mechanism: str, data: bytes) -> Credentials:
    mechanism = mechanism.upper()
    if mechanism == "XOAUTH2":
        return parse_xoauth2(data)
    if mechanism == "OAUTHBEARER":
        return parse_oauthbearer(data)
    if mechanism == "EXTERNAL":
        return ExternalCredentials(data.decode("utf-8", "replace"))
    if mechanism == "PLAIN":
        return parse_plain(data)
    raise SaslError("mechanism", f"unknown mechanism {mechanism}")


def oauthbearer_failure(scope: str = "openid") -> bytes:
    """RFC 7628 §3.2.2: the error challenge (the client then sends ^A and gets the failure)."""
    return json.dumps({"status": "invalid_token", "scope": scope}, separators=(",", ":")).encode()
