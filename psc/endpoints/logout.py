"""RP-initiated logout (`GET|POST {issuer}/protocol/openid-connect/logout`, research psc.md 1.6):
`id_token_hint`, `post_logout_redirect_uri` (declared for the client), `state`. The session the
hint names ends (its tokens become inactive); the answer is a redirect to the declared URI with
the state, or the realm's "Vous êtes déconnecté" page. Bad parameters get Keycloak's error page
(French locale). The tenant is the hint's token's, else the request's."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlencode

from flask import Response, request

from mocks.harness import current_exchange
from psc import checks, login_pages, wire
from psc.errors import ERRORS

if TYPE_CHECKING:
    from psc.realm import Realm


def logout(realm: Realm) -> Response:
    ex = current_exchange(request.environ)
    ex.operation = "logout"
    values = {**request.args.to_dict(), **wire.request_form(request)}
    ex.request_body = urlencode(values)
    hint = values.get("id_token_hint", "")
    claims = realm.keys.verify("realm", hint) if hint else None
    row = realm.tokens.row(hint) if claims else None
    client_id = values.get("client_id") or (str(claims.get("azp", "")) if claims else "")
    ex.caller = client_id
    if row is not None:
        ex.tenant = row["tenant"]
    if hint and claims is None:
        ERRORS.fail("invalid_parameter", "Paramètre invalide : id_token_hint")
    ex.fault(str(claims.get("SubjectNameID", "")) if claims else None)
    target = values.get("post_logout_redirect_uri", "")
    client = realm.clients.get(ex.tenant, client_id) if client_id else None
    if target:
        if not hint and not client_id:
            ERRORS.fail("missing_parameter", "Paramètres manquants : id_token_hint")
        if client is None or target not in client.post_logout_redirect_uris:
            ERRORS.fail("invalid_redirect_uri")
    if claims is not None:
        ex.persona = str(claims.get("SubjectNameID", ""))
        realm.sessions.end(str(claims.get("sid", "")))
    elif not client_id:
        checks.logout_without_hint(ex.findings)
    if target:
        ex.outcome = "logged out, redirected"
        state = values.get("state")
        return wire.redirect(wire.with_query(target, {"state": state}) if state else target, 302)
    ex.outcome = "logged out"
    page = login_pages.html(
        "Vous êtes déconnecté", login_pages.LOGGED_OUT, message="Vous êtes déconnecté de Pro Santé Connect."
    )
    return wire.html_response(page, no_store=False)
