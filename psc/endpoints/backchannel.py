"""What every back-channel endpoint of the issuer does first (token, CIBA, introspection,
revocation): name the operation, journal the form with its secrets masked, refuse what Keycloak
refuses before reading it (a body that is not a form: 415; a parameter sent twice: 400
"duplicated parameter"), then authenticate the client (psc.auth)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask import request

from mocks.harness import current_exchange
from psc import auth, checks, wire
from psc.errors import ERRORS
from psc.realm import OIDC

if TYPE_CHECKING:
    from mocks.kernel import Exchange
    from psc.clients import Client
    from psc.realm import Realm


@dataclass
class ClientRequest:
    ex: Exchange
    client: Client
    method: str  # how the client authenticated
    form: dict[str, str]


def client_request(realm: Realm, operation: str) -> ClientRequest:
    ex = current_exchange(request.environ)
    ex.operation = operation
    form = wire.request_form(request)
    authorization = request.headers.get("Authorization")
    ex.caller = wire.basic_client_id(authorization) or form.get("client_id") or ""
    ex.request_body = wire.journal_form(form)
    refuse_bad_forms(ex)
    der = request.environ.get("segur.peercert")
    caller = realm.sandbox.pki.identify(der, ex.tenant) if der else None
    client, method = auth.authenticate(realm, ex, form, authorization, caller, audiences(realm, operation))
    ex.caller = client.client_id
    ex.details["client_auth"] = method
    checks.client_auth(ex.findings, method, client.auth_method)
    return ClientRequest(ex, client, method, form)


def refuse_bad_forms(ex: Exchange) -> None:
    """Keycloak's back-channel endpoints consume forms only (415 otherwise) and refuse a
    parameter sent twice."""
    if request.mimetype != wire.FORM:
        checks.form_body(ex.findings, request.mimetype)
        ERRORS.fail("unsupported_media_type", outcome="unsupported media type")
    for key, values in request.form.lists():
        if len(values) > 1:
            ERRORS.fail("invalid_request", "duplicated parameter", outcome=f"duplicated parameter {key}")


def audiences(realm: Realm, operation: str) -> list[str]:
    """What a client assertion's `aud` may name (Keycloak: the issuer, the token, introspection
    and PAR endpoints, and the CIBA endpoint on a CIBA request), as the client reached them."""
    base = realm.sandbox.url("psc", request.script_root + OIDC)
    found = [
        realm.issuer(request.script_root),
        base + "/token",
        base + "/token/introspect",
        base + "/ext/par/request",
    ]
    if operation == "ciba":
        found.append(base + "/ext/ciba/auth")
    return found
