"""UserInfo, introspection and revocation (research psc.md 2.6, 2.7, 3).

- UserInfo (`GET|POST .../userinfo`, bearer token): the professional's JSON; a missing or
  inactive token is 401 with `WWW-Authenticate: Bearer realm="esante-wallet", error=...`.
- Introspection (client authentication, `token`): the token's claims + `client_id`, `username`,
  `active: true`, else `{"active": false}` (refresh tokens too, while their session lives).
- Revocation (client authentication, `token`): 200 with no body, whatever the token.
The tenant of UserInfo is the token's own (found from the token row), not the request's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Response, request

from mocks.harness import current_exchange
from psc import claims as claims_mod
from psc import wire
from psc.endpoints.backchannel import client_request
from psc.errors import ERRORS

if TYPE_CHECKING:
    from psc.realm import Realm


def userinfo(realm: Realm) -> Response:
    ex = current_exchange(request.environ)
    ex.operation = "userinfo"
    ex.request_body = wire.journal_form(wire.request_form(request))  # a form token masked
    token = wire.bearer(request)
    row = realm.tokens.row(token) if token else None
    if row is not None:
        ex.tenant = row["tenant"]
    active = realm.tokens.active(token) if token else None
    if active is None or active[1]["kind"] != "access":
        if not token:
            ERRORS.fail("missing_token", headers=_challenge("invalid_request", "Missing token"))
        ERRORS.fail("invalid_token", headers=_challenge("invalid_token", "Token verification failed"))
    claims, trow = active
    ex.caller, ex.persona = trow["client_id"], str(claims.get("SubjectNameID", ""))
    ex.fault(ex.persona)
    session = realm.sessions.get(trow["session_id"], ex.tenant)
    pro = realm.sandbox.population.professional(ex.persona)
    if pro is None or session is None:
        ERRORS.fail("invalid_token", "User not found", outcome="invalid_token: user gone")
    ex.outcome = "userinfo"
    return wire.json_response(claims_mod.userinfo(realm.sandbox.population, pro, session.auth_mode))


def introspect(realm: Realm) -> Response:
    req = client_request(realm, "introspect")
    ex, token = req.ex, req.form.get("token")
    if not token:
        ERRORS.fail("invalid_request", "Token not provided.")
    ex.fault()
    active = realm.tokens.active(token) or realm.tokens.active_refresh(token)
    if active is None or active[1]["tenant"] != ex.tenant:
        ex.outcome = "inactive"
        return wire.json_response({"active": False})
    claims, row = active
    ex.persona = str(claims.get("preferred_username", ""))
    ex.outcome = f"active ({row['kind']})"
    username = claims.get("preferred_username", "")
    return wire.json_response({**claims, "client_id": row["client_id"], "username": username, "active": True})


def revoke(realm: Realm) -> Response:
    req = client_request(realm, "revoke")
    token = req.form.get("token")
    if not token:
        ERRORS.fail("invalid_request", "Token not provided")
    req.ex.fault()
    realm.tokens.revoke(token, req.client.client_id)
    req.ex.outcome = "revoked"
    return Response("", 200, wire.NO_STORE)


def _challenge(error: str, description: str) -> dict[str, str]:
    """RFC 6750 3: the bearer challenge, as Keycloak writes it."""
    return {
        "WWW-Authenticate": f'Bearer realm="esante-wallet", error="{error}", error_description="{description}"'
    }
