"""Personas: search the synthetic world (patients, professionals, structures: name, INS, RPPS,
FINESS) and a persona's page with what an LGC needs: identity and traits, Carte Vitale data,
mailboxes, credentials to download (PKCS#12 with its password, PEM, the TEST chain) and the
panels services add (INSi's expected outcome, PSC's login hint...).

Reads /_sandbox/personas/... and /_sandbox/pki/...; downloads are links to the control API
itself, so the URL a trainer copies is the one a test uses."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Response, request

from mocks.console.contract import Panel
from mocks.console.control import ControlError
from mocks.console.site import PageNotFound, bp, control, page, service_pages

KINDS = {"patients": "patient", "professionals": "professional", "structures": "structure"}
CREDENTIALS = {
    "professional": [("cps_auth", "CPS authentification"), ("cps_sign", "CPS signature")],
    "structure": [
        ("org_auth_cli", "ORG AUTH_CLI (authentification client TLS)"),
        ("org_sign", "ORG SIGN (signature)"),
        ("insi_auto", "INSI-AUTO (INSi, mode automatique)"),
        ("insi_manu", "INSI-MANU (INSi, mode manuel)"),
    ],
}
FORMATS = [("p12", "PKCS#12"), ("cert", "Certificat PEM"), ("key", "Clé privée PEM"), ("chain", "Chaîne PEM"),
           ("fullchain", "Certificat + chaîne PEM")]  # fmt: skip
DEFAULT_PASSWORD = "segur"
SEXES = {"M": "masculin", "F": "féminin"}
QUALITES = {"00": "assuré (ouvrant droit)", "02": "conjoint", "06": "enfant", "09": "autre ayant droit"}


@bp.get("/personas")
def personas() -> Response:
    ctl = control()
    q = request.args.get("q", "").strip()
    if q:
        found = ctl.get("/personas/search", q=q, limit=50)
        title = "Recherche de personas"
    else:
        found = ctl.get("/personas/")["personas"]
        title = "Personas"
    counts = ctl.get("/personas/")["counts"] if not q else None
    return page("console/personas.html", title, q=q, found=found, counts=counts)


def _get_persona(kind: str, persona_id: str) -> dict[str, Any]:
    try:
        return dict(control().get(f"/personas/{kind}/{persona_id}"))
    except ControlError as exc:
        if exc.status == 404:
            raise PageNotFound(
                f"Persona inconnu : {persona_id}", "/personas", "Retour aux personas"
            ) from None
        raise


def panels(kind: str, persona: dict[str, Any]) -> list[Panel]:
    """What the services add to this persona's page (in registry order)."""
    out: list[Panel] = []
    for sp in service_pages():
        if sp.persona_panels is not None:
            out.extend(sp.persona_panels(kind, persona))
    return out


def credentials(kind: str, persona_id: str) -> dict[str, Any]:
    password = request.args.get("mdp") or DEFAULT_PASSWORD
    base = request.host_url.rstrip("/")
    rows = []
    for cred_kind, label in CREDENTIALS.get(kind, []):
        links = []
        for fmt, fmt_label in FORMATS:
            params = {"format": fmt, **({"password": password} if fmt == "p12" else {})}
            path = f"/_sandbox/pki/personas/{persona_id}/{cred_kind}?{urlencode(params)}"
            links.append(
                {"format": fmt, "label": fmt_label, "href": path, "curl": f"curl -OJ '{base}{path}'"}
            )
        rows.append({"kind": cred_kind, "label": label, "links": links})
    try:
        issued = control().get(f"/pki/personas/{persona_id}")
    except ControlError:
        issued = []  # none issued yet: each is issued on its first download
    return {"rows": rows, "password": password, "issued": issued, "chain": "/_sandbox/pki/bundle?all=1"}


@bp.get("/personas/patients/<patient_id>")
def patient(patient_id: str) -> Response:
    p = _get_persona("patients", patient_id)
    cards = []
    for nir_od in p.get("cards") or []:
        try:
            cards.append(control().get(f"/personas/cards/{nir_od}"))
        except ControlError:
            cards.append({"nir_od": nir_od, "missing": True})
    names = {}
    for card in cards:
        for b in card.get("beneficiaries") or []:
            if b["patient_id"] == p["id"]:
                b["self"] = True
            else:
                try:
                    other = control().get(f"/personas/patients/{b['patient_id']}")
                    names[b["patient_id"]] = f"{' '.join(other['prenoms'][:1])} {other['nom']}"
                except ControlError:
                    names[b["patient_id"]] = b["patient_id"]
    return page(
        "console/patient.html",
        f"{' '.join(p['prenoms'][:1])} {p['nom']}",
        p=p,
        cards=cards,
        names=names,
        sexes=SEXES,
        qualites=QUALITES,
        panels=panels("patient", p),
    )


@bp.get("/personas/professionals/<id_nat>")
def professional(id_nat: str) -> Response:
    p = _get_persona("professionals", id_nat)
    structures = {}
    for a in p.get("activities") or []:
        try:
            structures[a["structure_id"]] = control().get(f"/personas/structures/{a['structure_id']}")["name"]
        except ControlError:
            structures[a["structure_id"]] = ""
    return page(
        "console/professional.html",
        f"{' '.join(p['prenoms'][:1])} {p['nom']}",
        p=p,
        structures=structures,
        creds=credentials("professional", p["id_nat"]),
        panels=panels("professional", p),
    )


@bp.get("/personas/structures/<id_nat>")
def structure(id_nat: str) -> Response:
    s = _get_persona("structures", id_nat)
    return page(
        "console/structure.html",
        s["name"],
        s=s,
        creds=credentials("structure", s["id_nat"]),
        panels=panels("structure", s),
    )
