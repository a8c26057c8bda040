"""The token endpoint (`POST {issuer}/protocol/openid-connect/token`, research psc.md 2.2, 2.8):
client authentication (endpoints.backchannel), then the grant's handler from `GRANTS`, one small
class per grant type in the spirit of mock-oauth2-server's GrantHandlers. Each handler names the
fault rules' persona before it spends anything (a fault on `token` fires before a code is used),
then answers the token response or raises a catalogue error."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from flask import Response, request

from psc import wire
from psc.clients import GRANT_CIBA, GRANT_CODE, GRANT_REFRESH
from psc.endpoints.backchannel import ClientRequest, client_request
from psc.errors import ERRORS

if TYPE_CHECKING:
    from psc.realm import Realm


class Grant:
    """A grant type's handler: `answer(realm, req)` -> the token response body."""

    grant_type: ClassVar[str]
    not_allowed: ClassVar[str]  # Keycloak's words when the client may not use this grant

    def answer(self, realm: Realm, req: ClientRequest) -> dict[str, Any]:
        raise NotImplementedError

    def check_allowed(self, req: ClientRequest) -> None:
        if self.grant_type not in req.client.grant_types:
            ERRORS.fail("grant_not_allowed", self.not_allowed)


class AuthorizationCode(Grant):
    grant_type = GRANT_CODE
    not_allowed = "Client not allowed to exchange code"

    def answer(self, realm: Realm, req: ClientRequest) -> dict[str, Any]:
        ex, form = req.ex, req.form
        self.check_allowed(req)
        code = form.get("code")
        if not code:
            ERRORS.fail("invalid_request", "Missing parameter: code")
        ex.persona = realm.sessions.code_persona(code)
        ex.fault(ex.persona)
        session, params = realm.sessions.redeem(
            ex.tenant, req.client, code, form.get("redirect_uri"), form.get("code_verifier")
        )
        scope = params.get("scope", "")
        ex.outcome = "tokens (code)"
        issuer = realm.issuer(request.script_root)
        return realm.tokens.mint(
            issuer, session, req.client.client_id, scope, params.get("nonce"), "openid" in scope.split()
        )


class RefreshToken(Grant):
    grant_type = GRANT_REFRESH
    not_allowed = "Client not allowed to refresh tokens"

    def answer(self, realm: Realm, req: ClientRequest) -> dict[str, Any]:
        ex = req.ex
        token = req.form.get("refresh_token")
        if not token:
            ERRORS.fail("invalid_request", "Missing form parameter: refresh_token")
        found = realm.keys.verify("refresh", token) or {}
        ex.persona = str(found.get("sub", "")).rpartition(":")[2]
        ex.fault(ex.persona)
        session, rt = realm.tokens.refresh(ex.tenant, req.client, token)
        scope = str(rt.get("scope", ""))
        ex.outcome = "tokens (refresh)"
        issuer = realm.issuer(request.script_root)
        return realm.tokens.mint(
            issuer, session, req.client.client_id, scope, rt.get("nonce"), "openid" in scope.split()
        )


class CibaPoll(Grant):
    """CIBA poll mode: Keycloak's answer to each state of the auth_req_id (research psc.md 2.8)."""

    grant_type = GRANT_CIBA
    not_allowed = "Client not allowed OIDC CIBA Grant"

    def answer(self, realm: Realm, req: ClientRequest) -> dict[str, Any]:
        ex, logins = req.ex, realm.logins
        self.check_allowed(req)
        rid = req.form.get("auth_req_id", "")
        found = logins.get(rid) if rid else None
        if (
            found is None
            or found["kind"] != "ciba"
            or found["client_id"] != req.client.client_id
            or found["tenant"] != ex.tenant
        ):
            ERRORS.fail("invalid_grant", "Invalid Auth Req ID")
        ex.persona = found["national_id"]
        ex.details["auth_req_id"] = rid
        ex.fault(ex.persona)
        now, status = realm.now(ex.tenant), found["status"]
        if status == "expired":
            logins.update(rid, status="consumed")
            ERRORS.fail("expired_token")
        if (
            status == "pending"
            and found["last_poll"] is not None
            and now - found["last_poll"] < found["interval"]
        ):
            logins.update(rid, last_poll=now)
            ERRORS.fail("slow_down")
        if status == "refused":
            logins.update(rid, status="consumed")
            ERRORS.fail("access_denied")
        if status == "pending":
            logins.update(rid, last_poll=now)
            ERRORS.fail("authorization_pending")
        if status != "approved":
            ERRORS.fail("invalid_grant", "Invalid Auth Req ID")
        logins.update(rid, status="consumed")
        session = realm.sessions.new(ex.tenant, found["national_id"], found["channel"] or "MOBILE")
        scope = str(found["params"].get("scope", "openid"))
        ex.outcome = "tokens (ciba)"
        return realm.tokens.mint(
            realm.issuer(request.script_root), session, req.client.client_id, scope, None, True
        )


GRANTS: dict[str, Grant] = {g.grant_type: g for g in (AuthorizationCode(), RefreshToken(), CibaPoll())}


def token(realm: Realm) -> Response:
    req = client_request(realm, "token")
    grant_type = req.form.get("grant_type", "")
    req.ex.details["grant_type"] = grant_type
    if not grant_type:
        ERRORS.fail("invalid_request", "Missing form parameter: grant_type")
    handler = GRANTS.get(grant_type)
    if handler is None:
        ERRORS.fail("unsupported_grant_type")
    return wire.json_response(handler.answer(realm, req))
