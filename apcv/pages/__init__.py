"""ApCV's console pages (the console's page contract: mocks.console.contract).

- `/apcv`: the patients of each ApCV case (twins, lunar date, missing century, expired rights,
  several beneficiaries, application not activated, card opposed) with a link to their phone,
  the tenant's contexts (active, expired, destroyed) and pending NFC readings, the LGC's URLs;
- `/apcv/phone?patient=`: the patient's phone (apcv.phone): the QR code, renewed before it
  expires, and the NFC button. A page of its own (no console frame): it is what the patient
  shows, full screen on a projector or a second screen;
- a persona panel on a patient's page: the card, whether the application is activated, the link
  to the phone.

Over the control API only: /_sandbox/apcv/..., /_sandbox/personas.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, render_template, request
from markupsafe import Markup

from apcv import phone
from mocks.console import ControlError, NavEntry, Panel, control, page, tenant

blueprint = Blueprint("apcv_pages", __name__, template_folder="templates")
NAV = [NavEntry("", "ApCV (carte Vitale)", "ApCV (carte Vitale)")]
CASES = {
    "twins": "jumeaux (rangs 1 et 2)",
    "several_beneficiaries": "plusieurs bénéficiaires",
    "lunar_date": "date de naissance lunaire",
    "missing_century": "siècle absent de la date de naissance",
    "expired_rights": "droits AMO expirés",
    "app_not_activated": "application non activée",
    "card_opposed": "carte en opposition",
}
QUALITES = {"00": "assuré", "02": "conjoint", "06": "enfant"}


def phone_link(patient: str, current: str) -> str:
    return "/apcv/phone?" + urlencode({"patient": patient, "tenant": current})


def lgc_urls(service: dict[str, Any]) -> list[tuple[str, str]]:
    info = control().get("/apcv/")
    return [("ApCV (SOAP 1.2)", info["endpoint"]), ("WSDL (inférée)", info["wsdl"])]


@blueprint.get("")
@blueprint.get("/")
def home() -> Response:
    ctl, current = control(), tenant()
    cases = ctl.get("/apcv/personas")
    rows = [
        {
            "case": label,
            "patient": (cases.get(key) or {}).get("patient"),
            "apcv": (cases.get(key) or {}).get("apcv"),
        }
        for key, label in CASES.items()
    ]
    return page(
        "apcv/home.html",
        "ApCV",
        info=ctl.get("/apcv/"),
        rows=rows,
        contexts=ctl.get("/apcv/contexts", tenant=current),
        nfc=ctl.get("/apcv/nfc", tenant=current),
        link=lambda p: phone_link(p, current),
    )


@blueprint.get("/phone")
def phone_page() -> Response:
    ctl = control()
    current = request.args.get("tenant") or tenant()
    wanted = request.args.get("patient") or ""
    try:
        patient = ctl.get(f"/personas/patients/{wanted}")
        card = ctl.get(f"/personas/cards/{(patient.get('cards') or [''])[0]}")
    except ControlError as exc:
        return Response(phone.missing(exc.message), 404, mimetype="text/html")
    lines = []
    for b in card.get("beneficiaries", []):
        try:
            who = ctl.get(f"/personas/patients/{b['patient_id']}")
        except ControlError:
            continue
        name = f"{(who.get('prenoms') or [''])[0]} {who.get('nom_utilise') or who['nom']}"
        lines.append(f"{name} ({QUALITES.get(b['qualite'], b['qualite'])}, rang {b['rang']})")
    if card.get("opposed"):
        state = "Carte Vitale en opposition"
    elif card.get("apcv"):
        state = "Présentez ce QR code au professionnel de santé"
    else:
        state = "Application carte Vitale non activée"
    title = f"{(patient.get('prenoms') or [''])[0]} {patient.get('nom_utilise') or patient['nom']}"
    html = phone.render(patient["id"], current, title, lines, bool(card.get("apcv")), state)
    return Response(html, 200, mimetype="text/html")


def persona_panels(kind: str, persona: dict[str, Any]) -> list[Panel]:
    if kind != "patient" or not persona.get("cards"):
        return []
    try:
        card = control().get(f"/personas/cards/{persona['cards'][0]}")
    except ControlError:
        return []
    html = render_template("apcv/panel.html", card=card, link=phone_link(persona["id"], tenant()))
    return [Panel("Application carte Vitale", Markup(html), "Carte Vitale app", "apcv-telephone")]
