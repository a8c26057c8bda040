"""CIBA backchannel authentication (`POST {issuer}/protocol/openid-connect/ext/ciba/auth`,
poll mode only; research psc.md 2.8): `login_hint` (national id), `binding_message` (2 digits),
the PSC `channel` (CARD | MOBILE). The request waits for the professional (simulated phone,
console, auto-approval); one who cannot validate with that channel (no e-CPS, no or revoked
card) is accepted and refused later, at polling (what PSC answers is not public)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Response

from psc import checks, wire
from psc.clients import GRANT_CIBA
from psc.endpoints.backchannel import client_request
from psc.errors import ERRORS

if TYPE_CHECKING:
    from psc.realm import Realm


def ciba(realm: Realm) -> Response:
    req = client_request(realm, "ciba")
    ex, form, cfg = req.ex, req.form, realm.sandbox.config
    if GRANT_CIBA not in req.client.grant_types:
        ERRORS.fail("grant_not_allowed", "Client not allowed OIDC CIBA Grant")
    scope = form.get("scope")
    if not scope:
        ERRORS.fail("invalid_request", "missing parameter : scope")
    hint = form.get("login_hint")
    if not hint:
        ERRORS.fail("invalid_request", "missing parameter : login_hint")
    ex.persona = hint
    pro = realm.sandbox.population.professional(hint)
    if pro is None:
        ERRORS.fail("unknown_user_id")
    channel = checks.ciba(ex.findings, form, scope)
    if ex.findings.refuse:
        ERRORS.fail("invalid_request", ex.findings.errors[0].message, outcome="refused (strict)")
    ex.fault(hint)
    lifetime, interval = int(cfg["psc_ciba_expires_in"]), int(cfg["psc_ciba_interval"])
    params = {
        "scope": scope,
        "binding_message": form.get("binding_message", ""),
        "acr_values": form.get("acr_values", ""),
    }
    rid = realm.logins.new(ex.tenant, "ciba", req.client.client_id, params, interval=interval)
    realm.logins.push(rid, ex.tenant, hint, channel, lifetime)
    refusal = credential_refusal(pro, channel)
    if refusal:
        realm.logins.resolve(rid, "refused", refusal)
        ex.details["refusal"] = refusal
    ex.details["auth_req_id"] = rid
    ex.outcome = "auth_req_id issued" + (f" (will be refused: {refusal})" if refusal else "")
    return wire.json_response({"auth_req_id": rid, "expires_in": lifetime, "interval": interval})


def credential_refusal(pro: Any, channel: str) -> str:
    """Why a professional cannot validate with this channel ("" when they can)."""
    if channel == "MOBILE" and not pro.ecps:
        return "no e-CPS"
    if channel == "CARD":
        if not pro.cps_card:
            return "no CPS card"
        if pro.certificate_state in ("revoked", "expired"):
            return f"CPS card {pro.certificate_state}"
    return ""
