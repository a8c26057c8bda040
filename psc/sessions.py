"""SSO sessions (`psc_sessions`) and authorization codes (`psc_codes`), on the tenant's clock.

A session lives `psc_sso_max` (4 h) from the login and `psc_sso_idle` (30 min) from its last use
(research psc.md 1.6); logout ends it and revokes its tokens. A code serves once within
`psc_code_lifetime`; a code presented twice ends the session it made (Keycloak). PKCE is checked
as Keycloak words its refusals (RFC 7636).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from psc.errors import ERRORS

if TYPE_CHECKING:
    from mocks.kernel import Sandbox
    from psc.clients import Client

PKCE_VERIFIER = re.compile(r"^[A-Za-z0-9._~-]{43,128}$")


@dataclass
class Session:
    id: str
    tenant: str
    national_id: str
    auth_mode: str
    auth_time: float
    last_seen: float
    ended: bool


class Sessions:
    def __init__(self, sandbox: Sandbox):
        self.sandbox = sandbox
        self.store = sandbox.store

    def now(self, tenant: str) -> float:
        return self.sandbox.now(tenant).timestamp()

    def _setting(self, name: str) -> int:
        return int(self.sandbox.config[name])

    # -- sessions -----------------------------------------------------------------------------
    def new(self, tenant: str, national_id: str, auth_mode: str) -> Session:
        now = self.now(tenant)
        sid = str(uuid.uuid4())
        self.store.execute(
            "INSERT INTO psc_sessions(id, tenant, national_id, auth_mode, auth_time, last_seen) VALUES (?, ?, ?, ?, ?, ?)",
            (sid, tenant, national_id, auth_mode, now, now),
        )
        return Session(sid, tenant, national_id, auth_mode, now, now, False)

    def get(self, sid: str | None, tenant: str | None = None) -> Session | None:
        """The SSO session if still active: not ended, within its maximum and idle times."""
        if not sid:
            return None
        row = self.store.one("SELECT * FROM psc_sessions WHERE id = ?", (sid,))
        if row is None or (tenant is not None and row["tenant"] != tenant) or row["ended"]:
            return None
        if self.now(row["tenant"]) > self.expiry(row["auth_time"], row["last_seen"]):
            return None
        return Session(
            row["id"],
            row["tenant"],
            row["national_id"],
            row["auth_mode"],
            row["auth_time"],
            row["last_seen"],
            False,
        )

    def expiry(self, auth_time: float, last_seen: float) -> float:
        return min(auth_time + self._setting("psc_sso_max"), last_seen + self._setting("psc_sso_idle"))

    def touch(self, session: Session) -> None:
        session.last_seen = self.now(session.tenant)
        self.store.execute(
            "UPDATE psc_sessions SET last_seen = ? WHERE id = ?", (session.last_seen, session.id)
        )

    def end(self, sid: str) -> None:
        with self.store.tx():
            self.store.execute("UPDATE psc_sessions SET ended = 1 WHERE id = ?", (sid,))
            self.store.execute("UPDATE psc_tokens SET revoked = 1 WHERE session_id = ?", (sid,))

    # -- codes --------------------------------------------------------------------------------
    def new_code(self, tenant: str, client_id: str, session: Session, params: dict[str, Any]) -> str:
        code = f"{secrets.token_urlsafe(24)}.{session.id}.{secrets.token_hex(8)}"
        self.store.execute(
            "INSERT INTO psc_codes(code, tenant, client_id, session_id, params, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
            (
                code,
                tenant,
                client_id,
                session.id,
                json.dumps(params),
                self.now(tenant) + self._setting("psc_code_lifetime"),
            ),
        )
        return code

    def code_persona(self, code: str) -> str:
        """The national id a code was issued for ("" when unknown): the fault rules' persona."""
        row = self.store.one(
            "SELECT s.national_id FROM psc_codes c JOIN psc_sessions s ON s.id = c.session_id WHERE c.code = ?",
            (code,),
        )
        return str(row["national_id"]) if row else ""

    def redeem(
        self, tenant: str, client: Client, code: str, redirect_uri: str | None, verifier: str | None
    ) -> tuple[Session, dict[str, Any]]:
        """Exchange a code, once (Keycloak: a code used twice ends the session it made)."""
        row = self.store.one("SELECT * FROM psc_codes WHERE code = ? AND tenant = ?", (code, tenant))
        if row is None:
            ERRORS.fail("invalid_grant", "Code not valid")
        if row["used"]:
            self.end(row["session_id"])
            ERRORS.fail("invalid_grant", "Code not valid")
        self.store.execute("UPDATE psc_codes SET used = 1 WHERE code = ?", (code,))
        if self.now(tenant) > row["expires_at"]:
            ERRORS.fail("invalid_grant", "Code not valid")
        if row["client_id"] != client.client_id:
            ERRORS.fail("invalid_grant", "Auth error: Found different client_id in clientSession")
        params = json.loads(row["params"])
        if (redirect_uri or "") != params.get("redirect_uri", ""):
            ERRORS.fail("invalid_grant", "Incorrect redirect_uri")
        check_pkce(params.get("code_challenge"), params.get("code_challenge_method"), verifier)
        session = self.get(row["session_id"], tenant)
        if session is None:
            ERRORS.fail("session_not_active")
        return session, params


def check_pkce(challenge: str | None, method: str | None, verifier: str | None) -> None:
    """RFC 7636 as Keycloak words its refusals."""
    if not challenge:
        if verifier:
            ERRORS.fail(
                "invalid_grant", "PKCE code verifier specified but challenge not present in authorization"
            )
        return
    if not verifier:
        ERRORS.fail("invalid_grant", "PKCE code verifier not specified")
    if not PKCE_VERIFIER.match(verifier):
        ERRORS.fail("invalid_grant", "PKCE verification failed: Invalid code verifier")
    if (method or "plain") == "S256":
        digest = hashlib.sha256(verifier.encode("ascii")).digest()
        computed = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    else:
        computed = verifier
    if not secrets.compare_digest(computed, challenge):
        ERRORS.fail("invalid_grant", "PKCE verification failed: Code mismatch")
