"""Tokens (`psc_tokens`): minting with Keycloak's claims and member order, verifying, refreshing
and revoking; the per-persona `acr` quirks (`psc_quirks`) that shape the claims.

Access and ID tokens are RS256 with the realm key, refresh tokens HS512 (research psc.md 2.3-2.5);
the token-exchange AS signs with its own key (2.9). A token is active while its signature holds,
its `exp` is ahead of its tenant's clock, it is not revoked, and (realm tokens) its SSO session
lives. `issuer` is the realm's URL as the client reached it (a `/_t/<tenant>` prefix included).
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from typing import TYPE_CHECKING, Any

from psc import claims as claims_mod
from psc.errors import ERRORS

if TYPE_CHECKING:
    from mocks.kernel import Sandbox
    from mocks.pki.model import CallerCertificate
    from psc.clients import Client
    from psc.keys import Keys
    from psc.sessions import Session, Sessions

TOKEN_TYPE_ACCESS = "urn:ietf:params:oauth:token-type:access_token"


class Tokens:
    def __init__(self, sandbox: Sandbox, keys: Keys, sessions: Sessions):
        self.sandbox, self.keys, self.sessions = sandbox, keys, sessions
        self.store = sandbox.store

    def _setting(self, name: str) -> Any:
        return self.sandbox.config[name]

    # -- acr quirks per persona -----------------------------------------------------------------
    def quirk(self, tenant: str, national_id: str) -> str:
        row = self.store.one(
            "SELECT acr FROM psc_quirks WHERE tenant = ? AND national_id = ?", (tenant, national_id)
        )
        return str(row["acr"]) if row else "default"

    def set_quirk(self, tenant: str, national_id: str, acr: str) -> None:
        if acr not in claims_mod.ACR_MODES:
            raise ValueError(f"acr quirk must be one of {', '.join(claims_mod.ACR_MODES)}")
        if acr == "default":
            self.store.execute(
                "DELETE FROM psc_quirks WHERE tenant = ? AND national_id = ?", (tenant, national_id)
            )
            return
        self.store.execute(
            "INSERT INTO psc_quirks(tenant, national_id, acr) VALUES (?, ?, ?) "
            "ON CONFLICT(tenant, national_id) DO UPDATE SET acr = excluded.acr",
            (tenant, national_id, acr),
        )

    def quirks(self, tenant: str) -> dict[str, str]:
        rows = self.store.query("SELECT national_id, acr FROM psc_quirks WHERE tenant = ?", (tenant,))
        return {r["national_id"]: r["acr"] for r in rows}

    # -- minting --------------------------------------------------------------------------------
    def mint(
        self,
        issuer: str,
        session: Session,
        client_id: str,
        scope: str,
        nonce: str | None,
        with_id_token: bool,
    ) -> dict[str, Any]:
        """The token response (Keycloak's member order) and the rows remembering each token."""
        tenant = session.tenant
        now = int(self.sandbox.now(tenant).timestamp())
        pro = self.sandbox.population.professional(session.national_id)
        quirk = self.quirk(tenant, session.national_id)
        acr = claims_mod.acr_for(session.auth_mode, quirk, str(self._setting("psc_card_acr")))
        sub = claims_mod.sub(session.national_id)
        at_life = int(self._setting("psc_access_token_lifetime"))
        rt_exp = min(
            int(self.sessions.expiry(session.auth_time, session.last_seen)),
            now + int(self._setting("psc_refresh_token_lifetime")),
        )
        at_jti, rt_jti, id_jti = (str(uuid.uuid4()) for _ in range(3))
        at_claims: list[tuple[str, Any]] = [
            ("exp", now + at_life),
            ("iat", now),
            ("auth_time", int(session.auth_time)),
            ("jti", at_jti),
            ("iss", issuer),
            ("sub", sub),
            ("typ", "Bearer"),
            ("azp", client_id),
            ("nonce", nonce or ""),
            ("session_state", session.id),
            ("acr", acr),
            ("scope", scope),
            ("sid", session.id),
            ("authMode", session.auth_mode),
            ("otherIds", claims_mod.other_ids(pro) if pro else []),
            ("SubjectNameID", session.national_id),
            ("preferred_username", session.national_id),
        ]
        access_token = self.keys.sign("realm", pairs_json(claims_mod.with_acr(at_claims, acr, quirk)))
        rt_claims = {
            "exp": rt_exp,
            "iat": now,
            "jti": rt_jti,
            "iss": issuer,
            "aud": issuer,
            "sub": sub,
            "typ": "Refresh",
            "azp": client_id,
            **({"nonce": nonce} if nonce else {}),
            "session_state": session.id,
            "scope": scope,
            "sid": session.id,
        }
        refresh_token = self.keys.sign("refresh", rt_claims)
        rows = [
            (at_jti, tenant, "access", client_id, session.id, now + at_life),
            (rt_jti, tenant, "refresh", client_id, session.id, rt_exp),
        ]
        response: dict[str, Any] = {
            "access_token": access_token,
            "expires_in": at_life,
            "refresh_expires_in": max(0, rt_exp - now),
            "refresh_token": refresh_token,
            "token_type": "Bearer",
        }
        if with_id_token:
            digest = hashlib.sha256(access_token.encode("ascii")).digest()
            id_claims: list[tuple[str, Any]] = [
                ("exp", now + at_life),
                ("iat", now),
                ("auth_time", int(session.auth_time)),
                ("jti", id_jti),
                ("iss", issuer),
                ("aud", client_id),
                ("sub", sub),
                ("typ", "ID"),
                ("azp", client_id),
                *([("nonce", nonce)] if nonce else []),
                ("session_state", session.id),
                ("at_hash", base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()),
                ("sid", session.id),
                ("authMode", session.auth_mode),
                ("acr", acr),
                ("SubjectNameID", session.national_id),
                ("preferred_username", session.national_id),
                ("given_name", pro.first_name if pro else ""),
                ("family_name", pro.nom if pro else ""),
            ]
            response["id_token"] = self.keys.sign(
                "realm", pairs_json(claims_mod.with_acr(id_claims, acr, quirk))
            )
            rows.append((id_jti, tenant, "id", client_id, session.id, now + at_life))
        response.update({"not-before-policy": 0, "session_state": session.id, "scope": scope})
        self.store.conn.executemany(
            "INSERT INTO psc_tokens(jti, tenant, kind, client_id, session_id, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
            rows,
        )
        return response

    def exchange(
        self,
        issuer: str,
        tenant: str,
        client: Client,
        caller: CallerCertificate,
        psc_claims: dict[str, Any],
        session_id: str,
        form: dict[str, str],
    ) -> dict[str, Any]:
        """The RFC 8693 answer of the national APIs' AS: its own token bound to the certificate."""
        persona = str(psc_claims.get("SubjectNameID", ""))
        pro = self.sandbox.population.professional(persona)
        now = int(self.sandbox.now(tenant).timestamp())
        life = int(self._setting("psc_exchange_lifetime"))
        jti = str(uuid.uuid4())
        scope = form.get("scope") or "openid"
        given, family = (pro.first_name, pro.nom) if pro else ("", "")
        claims = {
            "exp": now + life,
            "iat": now,
            "jti": jti,
            "iss": issuer,
            **({"aud": form["audience"]} if form.get("audience") else {}),
            "sub": psc_claims.get("sub"),
            "typ": "Bearer",
            "azp": client.client_id,
            "session_state": session_id,
            "acr": "1",
            "scope": scope,
            "sid": session_id,
            "cnf": {"x5t#S256": caller.x5t_s256},
            "SubjectNameID": persona,
            "name": f"{given} {family}".strip(),
            "preferred_username": persona,
            "given_name": given,
            "family_name": family,
        }
        token = self.keys.sign("exchange", claims)
        self.store.execute(
            "INSERT INTO psc_tokens(jti, tenant, kind, client_id, session_id, expires_at) VALUES (?, ?, 'exchange', ?, ?, ?)",
            (jti, tenant, client.client_id, session_id, now + life),
        )
        return {
            "access_token": token,
            "expires_in": life,
            # the EDC AS's SSO idle time, as in the ANS sample (research psc.md 2.9); no refresh
            # token is issued here (see docs/services/psc.md, differences)
            "refresh_expires_in": int(self._setting("psc_refresh_token_lifetime")),
            "token_type": "Bearer",
            "issued_token_type": TOKEN_TYPE_ACCESS,
            "not-before-policy": 0,
            "session_state": session_id,
            "scope": scope,
        }

    # -- reading --------------------------------------------------------------------------------
    def active(self, token: str, key: str = "realm") -> tuple[dict[str, Any], dict[str, Any]] | None:
        """(claims, token row) of a token this realm issued that is still active: signature,
        expiry on its tenant's clock, not revoked, session alive. None otherwise."""
        claims = self.keys.verify(key, token)
        if claims is None:
            return None
        row = self.store.one("SELECT * FROM psc_tokens WHERE jti = ?", (str(claims.get("jti", "")),))
        if row is None or row["revoked"]:
            return None
        if self.sandbox.now(row["tenant"]).timestamp() > float(claims.get("exp", 0)):
            return None
        if key == "realm" and self.sessions.get(row["session_id"], row["tenant"]) is None:
            return None
        return claims, row

    def active_refresh(self, token: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
        found = self.active(token, "refresh")
        if found is None or self.sessions.get(found[1]["session_id"], found[1]["tenant"]) is None:
            return None
        return found

    def row(self, token: str) -> dict[str, Any] | None:
        """The row of a token (any realm key), whatever its state: to find its tenant."""
        for key in ("realm", "refresh"):
            found = self.keys.verify(key, token)
            if found is not None:
                return self.store.one("SELECT * FROM psc_tokens WHERE jti = ?", (str(found.get("jti", "")),))
        return None

    def refresh(self, tenant: str, client: Client, token: str) -> tuple[Session, dict[str, Any]]:
        found = self.keys.verify("refresh", token)
        if found is None:
            ERRORS.fail("invalid_grant", "Invalid refresh token")
        row = self.store.one(
            "SELECT * FROM psc_tokens WHERE jti = ? AND tenant = ?", (str(found.get("jti")), tenant)
        )
        if row is None:
            ERRORS.fail("invalid_grant", "Invalid refresh token")
        if found.get("azp") != client.client_id:
            ERRORS.fail(
                "invalid_grant", "Invalid refresh token. Token client and authorized client don't match"
            )
        if self.sandbox.now(tenant).timestamp() > float(found.get("exp", 0)):
            ERRORS.fail("token_not_active")
        session = self.sessions.get(row["session_id"], tenant)
        if session is None or row["revoked"]:
            ERRORS.fail("session_not_active")
        self.sessions.touch(session)
        return session, found

    def revoke(self, token: str, client_id: str) -> None:
        found = self.keys.verify("refresh", token) or self.keys.verify("realm", token)
        if found is None:
            return
        row = self.store.one("SELECT * FROM psc_tokens WHERE jti = ?", (str(found.get("jti")),))
        if row is None or row["client_id"] != client_id:
            return
        if row["kind"] == "refresh":  # Keycloak: revoking a refresh token ends the client's session tokens
            self.store.execute(
                "UPDATE psc_tokens SET revoked = 1 WHERE session_id = ? AND client_id = ?",
                (row["session_id"], client_id),
            )
        else:
            self.store.execute("UPDATE psc_tokens SET revoked = 1 WHERE jti = ?", (row["jti"],))


def pairs_json(pairs: list[tuple[str, Any]]) -> str:
    """A JSON object from ordered pairs, keys possibly repeated (the duplicated-acr quirk)."""
    keys = [k for k, _ in pairs]
    if len(set(keys)) == len(keys):
        return json.dumps(dict(pairs), ensure_ascii=False, separators=(",", ":"))
    return (
        "{"
        + ",".join(
            f"{json.dumps(k)}:{json.dumps(v, ensure_ascii=False, separators=(',', ':'))}" for k, v in pairs
        )
        + "}"
    )
