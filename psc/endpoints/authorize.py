"""The authorization endpoint (`GET|POST /auth` on the wallet listener; research psc.md 1.5, 2.2),
in the order Keycloak's AuthorizationEndpoint checks:

1. the request parses (`max_age` an integer), else the "Requête invalide" page;
2. the client exists, else the "Client inconnu." page; the redirect URI is declared (exact
   match), else the "Paramètre invalide : redirect_uri" page — never a redirect before that;
3. from here errors go back to the redirect URI with `state`: response_mode, standard flow
   enabled, response_type `code`, a parameter sent twice ("duplicated parameter"), PKCE;
4. findings on what was sent (strict mode refuses with `invalid_request`), fault rules;
5. a live SSO session (cookie) answers at once, unless `prompt=login` or `max_age` is exceeded
   (auth_time + max_age < now, on the tenant clock); `prompt=none` without one: login_required;
   else the login page.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from flask import Response, request

from mocks.harness import current_exchange
from psc import checks, wire
from psc.clients import GRANT_CODE
from psc.endpoints.wallet import SESSION_COOKIE, finish, login_page
from psc.errors import ERRORS
from psc.protocol import trust_redirect

if TYPE_CHECKING:
    from psc.realm import Realm

CHALLENGE = re.compile(r"^[A-Za-z0-9._~-]{43,128}$")
STANDARD_FLOW_DISABLED = (
    "Client is not allowed to initiate browser login with given response_type. "
    "Standard flow is disabled for the client."
)


def authorize(realm: Realm) -> Response:
    ex = current_exchange(request.environ)
    ex.operation = "authorize"
    v = {**request.args.to_dict(), **request.form.to_dict()}
    ex.caller = v.get("client_id", "")
    ex.request_body = request.query_string.decode("utf-8", "replace")
    max_age = v.get("max_age")
    if max_age is not None and not re.fullmatch(r"[+-]?\d{1,9}", max_age):
        ERRORS.fail("invalid_request_page", outcome="max_age not an integer (error page)")
    client = realm.clients.get(ex.tenant, v.get("client_id"))
    if client is None:
        ERRORS.fail("client_not_found", outcome="client not found (error page)")
    redirect_uri = v.get("redirect_uri", "")
    if not redirect_uri or redirect_uri not in client.redirect_uris:
        checks.redirect_uri(ex.findings, client.client_id, redirect_uri)
        ERRORS.fail(
            "invalid_parameter",
            "Paramètre invalide : redirect_uri",
            outcome="invalid redirect_uri (error page)",
        )
    state, mode = v.get("state"), v.get("response_mode") or "query"
    trust_redirect(ex, redirect_uri, state, mode)
    if mode not in wire.RESPONSE_MODES:
        ERRORS.fail("invalid_request", "Invalid parameter: response_mode")
    if GRANT_CODE not in client.grant_types:
        ERRORS.fail("grant_not_allowed", STANDARD_FLOW_DISABLED)
    if v.get("response_type") != "code":
        ERRORS.fail("unsupported_response_type")
    twice = wire.duplicated(request.form.items(multi=True)) or wire.duplicated(request.args.items(multi=True))
    if twice:
        ex.details["duplicated"] = twice
        ERRORS.fail("invalid_request", "duplicated parameter")
    challenge, method = v.get("code_challenge"), v.get("code_challenge_method")
    if challenge:
        method = method or "plain"
        if method not in ("plain", "S256"):
            ERRORS.fail("invalid_request", "Invalid parameter: code challenge method is not configured one")
        if not CHALLENGE.match(challenge):
            ERRORS.fail("invalid_request", "Invalid parameter: code_challenge")
    checks.authorization(ex.findings, v)
    if ex.findings.refuse:
        ERRORS.fail("invalid_request", ex.findings.errors[0].message, outcome="refused (strict)")
    ex.fault()
    params = {
        "client_id": client.client_id,
        "redirect_uri": redirect_uri,
        "state": state or "",
        "nonce": v.get("nonce", ""),
        "scope": v.get("scope", ""),
        "code_challenge": challenge or "",
        "code_challenge_method": method or "",
        "response_mode": mode,
    }
    prompt = v.get("prompt", "").split()
    session = realm.sessions.get(request.cookies.get(SESSION_COOKIE), ex.tenant)
    if (
        session is not None
        and max_age is not None
        and int(session.auth_time) + int(max_age) < int(realm.now(ex.tenant))
    ):
        ex.details["max_age"] = "exceeded: login again"
        session = None  # Keycloak's isAuthTimeExpired: re-authentication
    if session is not None and "login" not in prompt:
        ex.persona = session.national_id
        ex.outcome = "SSO session: code issued"
        realm.sessions.touch(session)
        return finish(realm, ex.tenant, params, session)
    if "none" in prompt:
        ERRORS.fail("login_required")
    rid = realm.logins.new(ex.tenant, "auth", client.client_id, params)
    ex.details["request"] = rid
    ex.outcome = "login page"
    return login_page(realm, rid, client.client_id)
