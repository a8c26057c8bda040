"""The national APIs' authorization server (`psc-exchange` listener, Keycloak realm
`signsessiondata`): the RFC 8693 token exchange of a PSC access token for the AS's own token,
bound to the caller's IGC-Santé ORG AUTH_CLI certificate (`cnf.x5t#S256`, RFC 8705). Research
psc.md 2.9. The listener asks for a client certificate without requiring it (a realm's JWKS and
metadata are public); the token endpoint refuses a request without a valid one."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Response, request

from mocks.harness import current_exchange
from psc import wire
from psc.clients import GRANT_EXCHANGE
from psc.endpoints.backchannel import refuse_bad_forms
from psc.errors import ERRORS
from psc.tokens import TOKEN_TYPE_ACCESS

if TYPE_CHECKING:
    from psc.realm import Realm

TOKEN_TYPES = (TOKEN_TYPE_ACCESS, "urn:ietf:params:oauth:token-type:jwt")


def token_exchange(realm: Realm) -> Response:
    ex = current_exchange(request.environ)
    ex.operation = "token-exchange"
    form = wire.request_form(request)
    ex.caller = form.get("client_id", "")
    ex.request_body = wire.journal_form(
        {k: (v[:16] + "..." if k == "subject_token" else v) for k, v in form.items()}
    )
    refuse_bad_forms(ex)
    der = request.environ.get("segur.peercert")
    caller = realm.sandbox.pki.identify(der, ex.tenant) if der else None
    if caller is None or caller.kind != "org_auth_cli" or caller.status != "valid":
        state = "absent" if caller is None else f"{caller.kind}, {caller.status}"
        ex.details["certificate"] = state
        ERRORS.fail(
            "unauthorized_client", f"Client certificate missing, or its subject DN not valid ({state})"
        )
    ex.caller = caller.subject
    client = realm.clients.for_certificate(ex.tenant, caller)
    wanted = form.get("client_id")
    if wanted:
        named = realm.clients.get(ex.tenant, wanted)
        client = named if named is not None and named.matches_certificate(caller) else None
    if client is None:
        ERRORS.fail("invalid_client", "Client certificate not mapped to a registered client")
    ex.caller = client.client_id
    if form.get("grant_type") != GRANT_EXCHANGE:
        ERRORS.fail("unsupported_grant_type")
    if GRANT_EXCHANGE not in client.grant_types:
        ERRORS.fail("grant_not_allowed", "Client not allowed to exchange")
    subject_token = form.get("subject_token")
    if not subject_token:
        ERRORS.fail("invalid_request", "subject_token parameter required")
    if form.get("subject_token_type", TOKEN_TYPES[0]) not in TOKEN_TYPES:
        ERRORS.fail("invalid_request", "Invalid token type, must be access token")
    active = realm.tokens.active(subject_token)
    if active is None or active[1]["kind"] != "access" or active[1]["tenant"] != ex.tenant:
        ERRORS.fail("invalid_subject_token")
    psc_claims, row = active
    ex.persona = str(psc_claims.get("SubjectNameID", ""))
    ex.fault(ex.persona)
    issuer = realm.exchange_issuer(request.script_root)
    body = realm.tokens.exchange(issuer, ex.tenant, client, caller, psc_claims, row["session_id"], form)
    ex.outcome = "token exchanged (cnf bound)"
    return wire.json_response(body)
