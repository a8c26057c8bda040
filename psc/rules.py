"""The realm's rules and state: clients, login requests (browser e-CPS push, CPS card, CIBA),
SSO sessions, authorization codes and tokens. Nothing is kept in memory: every row lives in the
store with its tenant, and every time is the tenant's sandbox clock (epoch seconds)."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import uuid
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import unquote

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from psc import claims as claims_mod
from psc.errors import OAuthError
from psc.keys import MIGRATIONS as KEY_MIGRATIONS
from psc.keys import Keys

if TYPE_CHECKING:
    from mocks.kernel import Sandbox
    from mocks.pki.model import CallerCertificate

GRANT_CODE = "authorization_code"
GRANT_REFRESH = "refresh_token"
GRANT_CIBA = "urn:openid:params:grant-type:ciba"
GRANT_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
GRANTS = (GRANT_CODE, GRANT_REFRESH, GRANT_CIBA, GRANT_EXCHANGE)
AUTH_METHODS = ("client_secret_basic", "client_secret_post", "tls_client_auth")
CLIENT_ID = re.compile(r"^[A-Za-z0-9._:@-]{1,128}$")

MIGRATIONS = [
    *KEY_MIGRATIONS,
    """
    CREATE TABLE psc_clients (
        tenant TEXT NOT NULL, client_id TEXT NOT NULL, data TEXT NOT NULL,
        PRIMARY KEY (tenant, client_id)
    );
    CREATE TABLE psc_requests (
        id TEXT PRIMARY KEY, tenant TEXT NOT NULL, kind TEXT NOT NULL, client_id TEXT NOT NULL,
        national_id TEXT NOT NULL DEFAULT '', channel TEXT NOT NULL DEFAULT '', status TEXT NOT NULL,
        params TEXT NOT NULL DEFAULT '{}', created_at REAL NOT NULL, pushed_at REAL, expires_at REAL,
        last_poll REAL, interval INTEGER NOT NULL DEFAULT 5, session_id TEXT, reason TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX psc_requests_tenant ON psc_requests(tenant, status);
    CREATE TABLE psc_sessions (
        id TEXT PRIMARY KEY, tenant TEXT NOT NULL, national_id TEXT NOT NULL, auth_mode TEXT NOT NULL,
        auth_time REAL NOT NULL, last_seen REAL NOT NULL, ended INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE psc_codes (
        code TEXT PRIMARY KEY, tenant TEXT NOT NULL, client_id TEXT NOT NULL, session_id TEXT NOT NULL,
        params TEXT NOT NULL, expires_at REAL NOT NULL, used INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE psc_tokens (
        jti TEXT PRIMARY KEY, tenant TEXT NOT NULL, kind TEXT NOT NULL, client_id TEXT NOT NULL,
        session_id TEXT NOT NULL, expires_at REAL NOT NULL, revoked INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX psc_tokens_session ON psc_tokens(session_id);
    CREATE TABLE psc_quirks (
        tenant TEXT NOT NULL, national_id TEXT NOT NULL, acr TEXT NOT NULL,
        PRIMARY KEY (tenant, national_id)
    );
    CREATE TABLE psc_settings (
        tenant TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (tenant, key)
    )
    """,
]


class Client(BaseModel):
    """A relying party (LGC) registered at the realm, by configuration or the control API."""

    model_config = ConfigDict(extra="forbid")

    client_id: str = Field(description="client identifier, e.g. 'editeur-lgc-bas'")
    secret: str = Field("", description="client secret (client_secret_basic / client_secret_post)")
    redirect_uris: list[str] = Field(default_factory=list, description="exact redirect URIs")
    post_logout_redirect_uris: list[str] = Field(default_factory=list)
    grant_types: list[str] = Field(default_factory=lambda: [GRANT_CODE, GRANT_REFRESH])
    auth_method: Literal["client_secret_basic", "client_secret_post", "tls_client_auth"] = (
        "client_secret_basic"
    )
    tls_subject: str = Field(
        "",
        description="tls_client_auth / token exchange: RFC 4514 subject (or OU=structure id) of the ORG AUTH_CLI certificate",
    )
    description: str = ""

    @field_validator("client_id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not CLIENT_ID.match(value):
            raise ValueError("1 to 128 characters among A-Z a-z 0-9 . _ : @ -")
        return value

    @field_validator("redirect_uris", "post_logout_redirect_uris")
    @classmethod
    def _uris(cls, values: list[str]) -> list[str]:
        for uri in values:
            if not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s#]+$", uri):
                raise ValueError(f"not an absolute URI without fragment: {uri!r}")
        return values

    @field_validator("grant_types")
    @classmethod
    def _grants(cls, values: list[str]) -> list[str]:
        for grant in values:
            if grant not in GRANTS:
                raise ValueError(f"unknown grant type {grant!r}; valid: {', '.join(GRANTS)}")
        return values

    @model_validator(mode="after")
    def _auth(self) -> Client:
        if self.auth_method == "tls_client_auth" and not self.tls_subject:
            raise ValueError(
                "tls_client_auth needs tls_subject (the certificate's subject DN, or OU=<structure id>)"
            )
        if self.auth_method != "tls_client_auth" and not self.secret:
            raise ValueError(f"{self.auth_method} needs a secret")
        return self

    def matches_certificate(self, caller: CallerCertificate) -> bool:
        want = self.tls_subject.strip()
        if not want or not caller.subject:
            return False
        if want.upper().startswith("OU=") and "," not in want:
            return caller.ou == want[3:]
        return _dn(want) == _dn(caller.subject)


def _dn(text: str) -> list[str]:
    return sorted(p.strip().upper().replace(" = ", "=") for p in re.split(r"(?<!\\),", text) if p.strip())


DEFAULT_CLIENTS = json.dumps(
    [
        {
            "client_id": "lgc-sandbox",
            "secret": "lgc-sandbox-secret",
            "redirect_uris": ["http://localhost:8080/callback", "https://localhost:8443/callback"],
            "post_logout_redirect_uris": ["http://localhost:8080/", "https://localhost:8443/"],
            "grant_types": [GRANT_CODE, GRANT_REFRESH, GRANT_CIBA],
            "description": "demo client of the sandbox",
        }
    ]
)


@lru_cache(maxsize=8)
def configured_clients(raw: str) -> dict[str, Client]:
    """Clients of the `psc_clients` setting (a JSON list), valid in every tenant."""
    if not raw.strip():
        return {}
    try:
        items = json.loads(raw)
        return {c.client_id: c for c in (Client.model_validate(i) for i in items)}
    except (ValueError, ValidationError, TypeError) as exc:
        raise ValueError(f"psc_clients: {exc}") from exc


@dataclass
class Session:
    id: str
    tenant: str
    national_id: str
    auth_mode: str
    auth_time: float
    last_seen: float
    ended: bool


class Realm:
    """The `esante-wallet` realm's rules over the store."""

    def __init__(self, sandbox: Sandbox):
        self.sandbox = sandbox
        self.store = sandbox.store
        self.keys = Keys(sandbox.store)

    # -- configuration --------------------------------------------------------------------------
    def setting(self, name: str) -> Any:
        return self.sandbox.config[name]

    def now(self, tenant: str) -> float:
        return self.sandbox.now(tenant).timestamp()

    def auto_approve(self, tenant: str) -> int:
        """Seconds after which a push / CIBA request approves itself (-1: never)."""
        row = self.store.one(
            "SELECT value FROM psc_settings WHERE tenant = ? AND key = 'auto_approve'", (tenant,)
        )
        return int(row["value"]) if row else int(self.setting("psc_auto_approve"))

    def set_auto_approve(self, tenant: str, seconds: int | None) -> None:
        if seconds is None:
            self.store.execute(
                "DELETE FROM psc_settings WHERE tenant = ? AND key = 'auto_approve'", (tenant,)
            )
        else:
            self.store.execute(
                "INSERT INTO psc_settings(tenant, key, value) VALUES (?, 'auto_approve', ?) "
                "ON CONFLICT(tenant, key) DO UPDATE SET value = excluded.value",
                (tenant, str(int(seconds))),
            )

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

    # -- clients --------------------------------------------------------------------------------
    def configured(self) -> dict[str, Client]:
        return configured_clients(str(self.setting("psc_clients") or ""))

    def client(self, tenant: str, client_id: str | None) -> Client | None:
        if not client_id:
            return None
        row = self.store.one(
            "SELECT data FROM psc_clients WHERE tenant = ? AND client_id = ?", (tenant, client_id)
        )
        if row is not None:
            return Client.model_validate_json(row["data"])
        return self.configured().get(client_id)

    def clients(self, tenant: str) -> list[tuple[Client, str]]:
        """Every client of a tenant, with where it comes from ('control' or 'configuration')."""
        own = {
            r["client_id"]: Client.model_validate_json(r["data"])
            for r in self.store.query(
                "SELECT client_id, data FROM psc_clients WHERE tenant = ? ORDER BY client_id", (tenant,)
            )
        }
        out = [(c, "control") for c in own.values()]
        out += [(c, "configuration") for cid, c in self.configured().items() if cid not in own]
        return out

    def put_client(self, tenant: str, client: Client) -> None:
        self.store.execute(
            "INSERT INTO psc_clients(tenant, client_id, data) VALUES (?, ?, ?) "
            "ON CONFLICT(tenant, client_id) DO UPDATE SET data = excluded.data",
            (tenant, client.client_id, client.model_dump_json()),
        )

    def delete_client(self, tenant: str, client_id: str) -> bool:
        cur = self.store.execute(
            "DELETE FROM psc_clients WHERE tenant = ? AND client_id = ?", (tenant, client_id)
        )
        return cur.rowcount > 0

    def client_for_certificate(self, tenant: str, caller: CallerCertificate) -> Client | None:
        for client, _ in self.clients(tenant):
            if client.matches_certificate(caller):
                return client
        return None

    def authenticate(
        self,
        tenant: str,
        form: dict[str, str],
        authorization: str | None,
        caller: CallerCertificate | None,
    ) -> tuple[Client, str]:
        """The client of a back-channel request and how it authenticated (Keycloak's answers:
        401 invalid_client for an unknown client, 401 unauthorized_client for a bad secret)."""
        basic_id = basic_secret = None
        if authorization and authorization.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(authorization[6:].strip()).decode("utf-8")
                user, _, password = decoded.partition(":")
                basic_id, basic_secret = unquote(user), unquote(password)
            except (ValueError, UnicodeDecodeError):
                raise OAuthError(
                    "invalid_client", "Invalid client or Invalid client credentials", 401
                ) from None
        client_id = basic_id or form.get("client_id")
        if not client_id and caller is not None and caller.status != "absent":
            found = self.client_for_certificate(tenant, caller)
            client_id = found.client_id if found else None
        if not client_id:
            raise OAuthError("invalid_client", "Missing client_id parameter", 401)
        client = self.client(tenant, client_id)
        if client is None:
            raise OAuthError("invalid_client", "Invalid client or Invalid client credentials", 401)
        if client.auth_method == "tls_client_auth":
            if caller is None or caller.status != "valid" or caller.kind != "org_auth_cli":
                raise OAuthError(
                    "unauthorized_client", "Client certificate missing, or its subject DN not valid", 401
                )
            if not client.matches_certificate(caller):
                raise OAuthError(
                    "unauthorized_client", "Certificate's SubjectDN does not match the client's", 401
                )
            return client, "tls_client_auth"
        secret = basic_secret if basic_id else form.get("client_secret")
        if secret is None:
            raise OAuthError("unauthorized_client", "Invalid client or Invalid client credentials", 401)
        if not secrets.compare_digest(secret.encode(), client.secret.encode()):
            raise OAuthError("unauthorized_client", "Invalid client or Invalid client credentials", 401)
        return client, "client_secret_basic" if basic_id else "client_secret_post"

    # -- login requests (browser push, card, CIBA) ----------------------------------------------
    def new_request(
        self, tenant: str, kind: str, client_id: str, params: dict[str, Any], **fields: Any
    ) -> str:
        rid = secrets.token_urlsafe(24)
        now = self.now(tenant)
        row = {
            "id": rid,
            "tenant": tenant,
            "kind": kind,
            "client_id": client_id,
            "status": "login",
            "params": json.dumps(params),
            "created_at": now,
            **fields,
        }
        cols = ", ".join(row)
        self.store.execute(
            f"INSERT INTO psc_requests({cols}) VALUES ({', '.join('?' * len(row))})", list(row.values())
        )
        return rid

    def request(self, rid: str) -> dict[str, Any] | None:
        """A request with its effective status (auto-approval and expiry applied on the clock)."""
        row = self.store.one("SELECT * FROM psc_requests WHERE id = ?", (rid,))
        if row is None:
            return None
        row["params"] = json.loads(row["params"])
        if row["status"] == "pending":
            now = self.now(row["tenant"])
            auto = self.auto_approve(row["tenant"])
            pushes = (
                row["kind"] == "ciba" or row["channel"] == "MOBILE"
            )  # a browser card login waits for its PIN
            if pushes and auto >= 0 and row["pushed_at"] is not None and now >= row["pushed_at"] + auto:
                self.resolve(rid, "approved", "auto-approval")
                row["status"], row["reason"] = "approved", "auto-approval"
            elif row["expires_at"] is not None and now > row["expires_at"]:
                row["status"] = "expired"
        return row

    def update_request(self, rid: str, **fields: Any) -> None:
        sets = ", ".join(f"{k} = ?" for k in fields)
        self.store.execute(f"UPDATE psc_requests SET {sets} WHERE id = ?", [*fields.values(), rid])

    def push(self, rid: str, tenant: str, national_id: str, channel: str, lifetime: int) -> None:
        """Send the e-CPS push (or wait for the card): the request is now pending."""
        now = self.now(tenant)
        self.update_request(
            rid,
            national_id=national_id,
            channel=channel,
            status="pending",
            pushed_at=now,
            expires_at=now + lifetime,
        )

    def resolve(self, rid: str, status: str, reason: str = "") -> bool:
        """Approve or refuse a pending request (phone page, console, rule). False when it is not pending."""
        cur = self.store.execute(
            "UPDATE psc_requests SET status = ?, reason = ? WHERE id = ? AND status = 'pending'",
            (status, reason, rid),
        )
        return cur.rowcount > 0

    def pending(self, tenant: str) -> list[dict[str, Any]]:
        rows = self.store.query(
            "SELECT id FROM psc_requests WHERE tenant = ? AND status = 'pending' ORDER BY created_at",
            (tenant,),
        )
        found = [self.request(r["id"]) for r in rows]
        return [r for r in found if r is not None and r["status"] == "pending"]

    # -- sessions -------------------------------------------------------------------------------
    def new_session(self, tenant: str, national_id: str, auth_mode: str) -> Session:
        now = self.now(tenant)
        sid = str(uuid.uuid4())
        self.store.execute(
            "INSERT INTO psc_sessions(id, tenant, national_id, auth_mode, auth_time, last_seen) VALUES (?, ?, ?, ?, ?, ?)",
            (sid, tenant, national_id, auth_mode, now, now),
        )
        return Session(sid, tenant, national_id, auth_mode, now, now, False)

    def session(self, sid: str | None, tenant: str | None = None) -> Session | None:
        """The SSO session if still active: not ended, within 4 h and 30 min idle (settings)."""
        if not sid:
            return None
        row = self.store.one("SELECT * FROM psc_sessions WHERE id = ?", (sid,))
        if row is None or (tenant is not None and row["tenant"] != tenant) or row["ended"]:
            return None
        now = self.now(row["tenant"])
        if now > self.session_expiry(row["auth_time"], row["last_seen"]):
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

    def session_expiry(self, auth_time: float, last_seen: float) -> float:
        return min(
            auth_time + int(self.setting("psc_sso_max")), last_seen + int(self.setting("psc_sso_idle"))
        )

    def touch(self, session: Session) -> None:
        session.last_seen = self.now(session.tenant)
        self.store.execute(
            "UPDATE psc_sessions SET last_seen = ? WHERE id = ?", (session.last_seen, session.id)
        )

    def end_session(self, sid: str) -> None:
        with self.store.tx():
            self.store.execute("UPDATE psc_sessions SET ended = 1 WHERE id = ?", (sid,))
            self.store.execute("UPDATE psc_tokens SET revoked = 1 WHERE session_id = ?", (sid,))

    # -- codes ----------------------------------------------------------------------------------
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
                self.now(tenant) + int(self.setting("psc_code_lifetime")),
            ),
        )
        return code

    def redeem(
        self, tenant: str, client: Client, code: str, redirect_uri: str | None, verifier: str | None
    ) -> tuple[Session, dict[str, Any]]:
        """Exchange a code, once (Keycloak: a code used twice ends the session it made)."""
        row = self.store.one("SELECT * FROM psc_codes WHERE code = ? AND tenant = ?", (code, tenant))
        if row is None:
            raise OAuthError("invalid_grant", "Code not valid")
        if row["used"]:
            self.end_session(row["session_id"])
            raise OAuthError("invalid_grant", "Code not valid")
        self.store.execute("UPDATE psc_codes SET used = 1 WHERE code = ?", (code,))
        if self.now(tenant) > row["expires_at"]:
            raise OAuthError("invalid_grant", "Code not valid")
        if row["client_id"] != client.client_id:
            raise OAuthError("invalid_grant", "Auth error: Found different client_id in clientSession")
        params = json.loads(row["params"])
        if (redirect_uri or "") != params.get("redirect_uri", ""):
            raise OAuthError("invalid_grant", "Incorrect redirect_uri")
        check_pkce(params.get("code_challenge"), params.get("code_challenge_method"), verifier)
        session = self.session(row["session_id"], tenant)
        if session is None:
            raise OAuthError("invalid_grant", "Session not active")
        return session, params

    # -- tokens ---------------------------------------------------------------------------------
    def issuer(self) -> str:
        return self.sandbox.url("psc", "/auth/realms/esante-wallet")

    def mint(
        self,
        session: Session,
        client_id: str,
        scope: str,
        nonce: str | None,
        with_id_token: bool,
    ) -> dict[str, Any]:
        """The token response (Keycloak's member order) and the rows remembering each token."""
        tenant = session.tenant
        now = int(self.now(tenant))
        pro = self.sandbox.population.professional(session.national_id)
        quirk = self.quirk(tenant, session.national_id)
        acr = claims_mod.acr_for(session.auth_mode, quirk, str(self.setting("psc_card_acr")))
        iss, sub = self.issuer(), claims_mod.sub(session.national_id)
        at_life = int(self.setting("psc_access_token_lifetime"))
        rt_exp = min(
            int(self.session_expiry(session.auth_time, session.last_seen)),
            now + int(self.setting("psc_refresh_token_lifetime")),
        )
        at_jti, rt_jti, id_jti = (str(uuid.uuid4()) for _ in range(3))
        at_claims: list[tuple[str, Any]] = [
            ("exp", now + at_life),
            ("iat", now),
            ("auth_time", int(session.auth_time)),
            ("jti", at_jti),
            ("iss", iss),
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
        access_token = self.keys.sign("realm", _json(claims_mod.with_acr(at_claims, acr, quirk)))
        rt_claims = {
            "exp": rt_exp,
            "iat": now,
            "jti": rt_jti,
            "iss": iss,
            "aud": iss,
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
                ("iss", iss),
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
            response["id_token"] = self.keys.sign("realm", _json(claims_mod.with_acr(id_claims, acr, quirk)))
            rows.append((id_jti, tenant, "id", client_id, session.id, now + at_life))
        response.update({"not-before-policy": 0, "session_state": session.id, "scope": scope})
        self.store.conn.executemany(
            "INSERT INTO psc_tokens(jti, tenant, kind, client_id, session_id, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
            rows,
        )
        return response

    def active_token(self, token: str, key: str = "realm") -> tuple[dict[str, Any], dict[str, Any]] | None:
        """(claims, token row) of a token this realm issued that is still active: signature,
        expiry on its tenant's clock, not revoked, session alive. None otherwise."""
        found = self.keys.verify(key, token)
        if found is None:
            return None
        claims = found
        row = self.store.one("SELECT * FROM psc_tokens WHERE jti = ?", (str(claims.get("jti", "")),))
        if row is None or row["revoked"]:
            return None
        if self.now(row["tenant"]) > float(claims.get("exp", 0)):
            return None
        if key == "realm" and self.session(row["session_id"], row["tenant"]) is None:
            return None
        return claims, row

    def token_row(self, token: str) -> dict[str, Any] | None:
        """The row of a token (any key), whatever its state: to find its tenant."""
        for key in ("realm", "refresh"):
            found = self.keys.verify(key, token)
            if found is not None:
                return self.store.one("SELECT * FROM psc_tokens WHERE jti = ?", (str(found.get("jti", "")),))
        return None

    def refresh(self, tenant: str, client: Client, token: str) -> tuple[Session, dict[str, Any]]:
        found = self.keys.verify("refresh", token)
        if found is None:
            raise OAuthError("invalid_grant", "Invalid refresh token")
        row = self.store.one(
            "SELECT * FROM psc_tokens WHERE jti = ? AND tenant = ?", (str(found.get("jti")), tenant)
        )
        if row is None:
            raise OAuthError("invalid_grant", "Invalid refresh token")
        if found.get("azp") != client.client_id:
            raise OAuthError(
                "invalid_grant", "Invalid refresh token. Token client and authorized client don't match"
            )
        if self.now(tenant) > float(found.get("exp", 0)):
            raise OAuthError("invalid_grant", "Token is not active")
        session = self.session(row["session_id"], tenant)
        if session is None or row["revoked"]:
            raise OAuthError("invalid_grant", "Session not active")
        self.touch(session)
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


PKCE_VERIFIER = re.compile(r"^[A-Za-z0-9._~-]{43,128}$")


def check_pkce(challenge: str | None, method: str | None, verifier: str | None) -> None:
    """RFC 7636 as Keycloak words its refusals."""
    if not challenge:
        if verifier:
            raise OAuthError(
                "invalid_grant", "PKCE code verifier specified but challenge not present in authorization"
            )
        return
    if not verifier:
        raise OAuthError("invalid_grant", "PKCE code verifier not specified")
    if not PKCE_VERIFIER.match(verifier):
        raise OAuthError("invalid_grant", "PKCE verification failed: Invalid code verifier")
    if (method or "plain") == "S256":
        computed = (
            base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode()
        )
    else:
        computed = verifier
    if not secrets.compare_digest(computed, challenge):
        raise OAuthError("invalid_grant", "PKCE verification failed: Code mismatch")


def _json(pairs: list[tuple[str, Any]]) -> str:
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
