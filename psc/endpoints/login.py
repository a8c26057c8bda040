"""The wallet's login pages after `/auth` (what a professional sees; docs/services/psc.md):

    POST /auth/login           national id or persona + method: e-CPS push, or CPS card
                               (the card's certificate over TLS, else the simulated PIN)
    POST /auth/pin/<id>        the PIN (three wrong ones block the card)
    GET  /auth/attente/<id>    "Validez sur votre téléphone", refreshing itself until the push
                               is decided (phone, console, auto-approval) or expires
    GET|POST /auth/telephone/<id>  the simulated e-CPS phone (also decides CIBA requests)
    GET  /                     the portal's home

A request's tenant is the login request's own. Once the request is found, OAuth errors (fault
rules) go back to its client; the journal skips the waiting page's refreshes while pending.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from flask import Response, request

from mocks.harness import current_exchange
from psc import login_pages, wire
from psc.endpoints.wallet import finish as finish_login
from psc.endpoints.wallet import full_name, login_page, page, trust
from psc.errors import ERRORS

if TYPE_CHECKING:
    from mocks.kernel import Exchange
    from psc.realm import Realm

STATUS_FR = {
    "approved": "validée",
    "refused": "refusée",
    "expired": "expirée",
    "consumed": "traitée",
    "done": "traitée",
}


def _login_request(realm: Realm, ex: Exchange, rid: str) -> dict[str, Any]:
    found = realm.logins.get(rid)
    if found is None or found["kind"] != "auth":
        ERRORS.fail("unknown_login_request")
    ex.tenant, ex.caller, ex.persona = found["tenant"], found["client_id"], found["national_id"]
    ex.details["request"] = rid
    trust(ex, found)
    return found


def home(realm: Realm) -> Response:
    current_exchange(request.environ).operation = "wallet-home"
    return page(
        "Portail e-CPS",
        "<p>Portail e-CPS du bac à sable. Les services vous y envoient pour vous identifier.</p>",
    )


# -- /auth/login ------------------------------------------------------------------------------------
def login(realm: Realm) -> Response:
    ex = current_exchange(request.environ)
    ex.operation = "login"
    ex.request_body = wire.journal_form(wire.request_form(request))
    found = _login_request(realm, ex, request.form.get("request", ""))
    nid = (request.form.get("national_id") or request.form.get("persona") or "").strip()
    method = request.form.get("method", "ecps")
    ex.persona = nid
    ex.details["method"] = method
    rid = found["id"]
    if found["status"] not in ("login", "expired"):
        ERRORS.fail("request_done", outcome=f"request already {found['status']}")
    if not nid:
        ex.outcome = "no identifier"
        error = "Saisissez votre identifiant national ou choisissez un professionnel."
        return login_page(realm, rid, found["client_id"], error, status=400)
    pro = realm.sandbox.population.professional(nid)
    if pro is None:
        ex.outcome = "unknown identifier"
        return login_page(realm, rid, found["client_id"], f"Identifiant inconnu : {nid}", nid, status=400)
    ex.fault(nid)
    name = full_name(pro)
    if method == "card":
        return _card(realm, ex, found, pro, name)
    if not pro.ecps:
        ex.outcome = "no e-CPS"
        return page(
            "Pas d'e-CPS",
            login_pages.MESSAGE,
            message=f"{name} n'a pas activé d'e-CPS. Connectez-vous avec votre carte CPS ou activez votre e-CPS.",
            retry=request.script_root + "/auth/login",
            rid=rid,
            national_id=nid,
            method="card",
        )
    realm.logins.push(rid, ex.tenant, nid, "MOBILE", int(realm.sandbox.config["psc_ecps_timeout"]))
    realm.logins.update(rid, params={**found["params"], "binding_message": f"{secrets.randbelow(100):02d}"})
    ex.outcome = "e-CPS push sent"
    return wire.redirect(request.script_root + f"/auth/attente/{rid}", 303)


def _card(realm: Realm, ex: Exchange, found: dict[str, Any], pro: Any, name: str) -> Response:
    rid = found["id"]
    if not pro.cps_card:
        ex.outcome = "no CPS card"
        return page(
            "Pas de carte CPS", login_pages.MESSAGE, message=f"Aucune carte CPS n'est associée à {name}."
        )
    der = request.environ.get("segur.peercert")
    caller = realm.sandbox.pki.identify(der, ex.tenant) if der else None
    if caller is not None and caller.kind == "cps_auth" and caller.persona == pro.id_nat:
        if caller.status != "valid":
            ERRORS.fail(
                "card_refused",
                f"Le certificat d'authentification de la carte CPS est refusé ({caller.status}).",
                outcome=f"CPS certificate {caller.status}",
            )
        ex.outcome = "CPS card (TLS client certificate)"
        session = realm.sessions.new(ex.tenant, pro.id_nat, "CARD")
        return finish_login(realm, ex.tenant, found["params"], session, rid)
    if pro.certificate_state in ("revoked", "expired"):
        state = "révoquée" if pro.certificate_state == "revoked" else "expirée"
        ERRORS.fail(
            "card_refused",
            f"La carte CPS de {name} est {state}.",
            outcome=f"CPS card {pro.certificate_state}",
        )
    realm.logins.push(rid, ex.tenant, pro.id_nat, "CARD", int(realm.sandbox.config["psc_ecps_timeout"]))
    ex.outcome = "PIN prompt"
    return _pin_page(realm, rid, name)


def _pin_page(realm: Realm, rid: str, name: str, error: str = "", status: int = 200) -> Response:
    return page(
        "Code porteur",
        login_pages.PIN,
        status,
        error=error,
        name=name,
        pin=str(realm.sandbox.config["psc_card_pin"]),
        action=request.script_root + f"/auth/pin/{rid}",
    )


# -- /auth/pin --------------------------------------------------------------------------------------
def pin(realm: Realm, rid: str) -> Response:
    ex = current_exchange(request.environ)
    ex.operation = "card-pin"
    ex.request_body = wire.journal_form(wire.request_form(request))  # the PIN masked
    found = _login_request(realm, ex, rid)
    if found["status"] not in ("pending", "approved") or found["channel"] != "CARD":
        ERRORS.fail("pin_expired", outcome=f"request {found['status']}")
    pro = realm.sandbox.population.professional(found["national_id"])
    if request.form.get("pin", "") != str(realm.sandbox.config["psc_card_pin"]):
        tries = int(found["params"].get("pin_tries", 0)) + 1
        realm.logins.update(rid, params={**found["params"], "pin_tries": tries})
        if tries >= 3:
            realm.logins.resolve(rid, "refused", "card blocked")
            ERRORS.fail("card_blocked", outcome="card blocked (3 wrong PINs)")
        ex.outcome = "wrong PIN"
        return _pin_page(
            realm, rid, full_name(pro), f"Code porteur incorrect ({3 - tries} essai(s) restant(s)).", 400
        )
    realm.logins.resolve(rid, "approved", "PIN")
    session = realm.sessions.new(found["tenant"], found["national_id"], "CARD")
    ex.outcome = "CPS card (PIN)"
    return finish_login(realm, found["tenant"], found["params"], session, rid)


# -- e-CPS: the waiting page and the simulated phone ------------------------------------------------
def wait(realm: Realm, rid: str) -> Response:
    ex = current_exchange(request.environ)
    ex.operation = "ecps-wait"
    found = _login_request(realm, ex, rid)
    status = found["status"]
    if status == "approved":
        ex.operation = "ecps-approved"
        session = realm.sessions.new(found["tenant"], found["national_id"], "MOBILE")
        ex.outcome = f"e-CPS validated ({found['reason'] or 'phone'})"
        return finish_login(realm, found["tenant"], found["params"], session, rid)
    if status == "refused":
        ex.operation = "ecps-refused"
        realm.logins.update(rid, status="done")
        ERRORS.fail(
            "access_denied",
            "Authentification refusée par l'utilisateur",
            outcome=f"access_denied ({found['reason']})",
        )
    if status == "expired":
        ex.outcome = "e-CPS push expired"
        return page(
            "Délai dépassé",
            login_pages.MESSAGE,
            message="La demande n'a pas été validée à temps sur votre téléphone.",
            retry=request.script_root + "/auth/login",
            rid=rid,
            national_id=found["national_id"],
            method="ecps",
        )
    if status != "pending":
        ERRORS.fail("request_done", outcome=f"request already {status}")
    ex.journal = False  # the page refreshes itself every 2 s: the decision is what the journal keeps
    pro = realm.sandbox.population.professional(found["national_id"])
    remaining = max(0, int((found["expires_at"] or 0) - realm.now(found["tenant"])))
    return page(
        "Validez sur votre téléphone",
        login_pages.WAIT,
        refresh=2,
        name=full_name(pro),
        binding=found["params"].get("binding_message", ""),
        remaining=remaining,
        phone=request.script_root + f"/auth/telephone/{rid}",
        console=realm.sandbox.url("console", "/psc"),
        approve_api=realm.sandbox.url("console", f"/_sandbox/psc/pending/{rid}/approve"),
    )


def phone(realm: Realm, rid: str) -> Response:
    ex = current_exchange(request.environ)
    ex.operation = "ecps-phone"
    found = realm.logins.get(rid)
    if found is None:
        ERRORS.fail("unknown_push")
    ex.tenant, ex.caller, ex.persona = found["tenant"], found["client_id"], found["national_id"]
    ex.details["request"] = rid
    if request.method == "POST":
        decision = request.form.get("decision")
        if decision not in ("approve", "refuse"):
            ERRORS.fail("bad_decision")
        realm.logins.resolve(rid, "approved" if decision == "approve" else "refused", "phone")
        found = realm.logins.get(rid) or found
        ex.outcome = f"phone: {decision}"
    pro = realm.sandbox.population.professional(found["national_id"])
    return page(
        "e-CPS",
        login_pages.PHONE,
        name=full_name(pro),
        national_id=found["national_id"],
        client_id=found["client_id"],
        channel=found["channel"],
        binding=found["params"].get("binding_message", ""),
        state=found["status"],
        status_fr=STATUS_FR.get(found["status"], found["status"]),
    )
