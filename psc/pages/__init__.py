"""Pro Santé Connect's console pages (the console's page contract: mocks.console.contract).

- `/psc`: the pending e-CPS pushes, CPS card prompts and CIBA requests of the tenant, each with
  Approuver / Refuser (so a trainer plays the professional's phone), the tenant's auto-approval,
  the last logins (journal), and the login-page link of each demo professional;
- a persona panel on a professional's page: the national id to log in with (the login hint),
  e-CPS status, the tenant's acr quirk for this person, the login-page link;
- Accueil's URLs: issuer, discovery, authorization and token-exchange endpoints.

Over the control API only: /_sandbox/psc/..., /_sandbox/journal, /_sandbox/personas.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, render_template, request
from markupsafe import Markup

from mocks.console import ControlError, NavEntry, Panel, control, done, page, tenant

blueprint = Blueprint("psc_pages", __name__, template_folder="templates")
NAV = [NavEntry("", "Pro Santé Connect", "Pro Santé Connect")]
DEMO_CLIENT = ("lgc-sandbox", "http://localhost:8080/callback")  # the sandbox's demo client (psc_clients)
LOGINS = ("ecps-approved", "ecps-refused", "card-pin")
KINDS = {"e-cps": "notification e-CPS", "card": "code porteur CPS", "ciba": "demande CIBA"}


def lgc_urls(service: dict[str, Any]) -> list[tuple[str, str]]:
    psc = control().get("/psc/")
    return [
        ("Issuer", psc["issuer"]),
        ("Découverte", psc["discovery"]),
        ("Autorisation (page de connexion)", psc["authorization_endpoint"]),
        ("Échange de jetons", psc["token_exchange_endpoint"]),
    ]


def login_link(psc: dict[str, Any]) -> str:
    """The wallet's login page, opened by the demo client's authorization request (the browser
    lands on the demo client's redirect URI afterwards, with the code)."""
    client_id, redirect_uri = DEMO_CLIENT
    params = {"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri,
              "scope": "openid scope_all", "acr_values": "eidas1", "state": "console", "nonce": "console"}  # fmt: skip
    return psc["authorization_endpoint"] + "?" + urlencode(params)


@blueprint.get("")
@blueprint.get("/")
def home() -> Response:
    ctl, current = control(), tenant()
    psc = ctl.get("/psc/", tenant=current)
    pending = ctl.get("/psc/pending", tenant=current)
    for r in pending:  # expires_at: sandbox epoch seconds
        try:
            r["expires"] = datetime.fromtimestamp(float(r["expires_at"]), UTC).strftime("%H:%M:%S UTC")
        except (TypeError, ValueError, OverflowError):
            r["expires"] = str(r["expires_at"])
    logins = [
        e for op in LOGINS for e in ctl.get("/journal", service="psc", operation=op, tenant=current, limit=20)
    ]
    logins.sort(key=lambda e: e["id"], reverse=True)
    demo = ctl.get("/personas/")["personas"]["professionals"]
    return page(
        "psc/home.html",
        "Pro Santé Connect",
        psc=psc,
        pending=pending,
        logins=logins[:20],
        demo=demo,
        login=login_link(psc),
        kinds=KINDS,
    )


@blueprint.post("/demandes/<request_id>/<decision>")
def decide(request_id: str, decision: str) -> Response:
    if decision not in ("approuver", "refuser"):
        return done("/psc", error=f"Décision inconnue : {decision}")
    action = "approve" if decision == "approuver" else "refuse"
    try:
        control().post(f"/psc/pending/{request_id}/{action}", tenant=tenant())
    except ControlError as exc:
        return done("/psc", error=exc.message)
    word = "approuvée" if action == "approve" else "refusée"
    return done("/psc", ok=f"Demande {request_id} {word} : la page d'attente du professionnel se met à jour.")


@blueprint.post("/approbation-automatique")
def auto_approve() -> Response:
    raw = request.form.get("after_seconds", "").strip()
    try:
        value = None if raw == "" else int(raw)
        result = control().put("/psc/auto-approve", {"after_seconds": value}, tenant=tenant())
    except ValueError:
        return done("/psc", error="Indiquez un nombre de secondes (0, N, ou -1 pour jamais).")
    except ControlError as exc:
        return done("/psc", error=exc.message)
    return done("/psc", ok=f"Approbation automatique : {_auto(result['auto_approve_after_seconds'])}.")


def _auto(seconds: int) -> str:
    if seconds < 0:
        return "jamais (le formateur approuve ou refuse)"
    return "immédiate" if seconds == 0 else f"après {seconds} s"


def persona_panels(kind: str, persona: dict[str, Any]) -> list[Panel]:
    if kind != "professional":
        return []
    ctl, current = control(), tenant()
    psc = ctl.get("/psc/", tenant=current)
    quirk = ctl.get("/psc/quirks", tenant=current).get(persona["id_nat"], "default")
    html = render_template("psc/panel.html", p=persona, quirk=quirk, login=login_link(psc),
                           auto=_auto(psc["auto_approve_after_seconds"]), pin=psc["card_pin"])  # fmt: skip
    return [Panel("Pro Santé Connect", Markup(html), "Pro Santé Connect", "psc-connexion")]
