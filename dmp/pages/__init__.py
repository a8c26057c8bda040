"""The DMP's console pages (the console's page contract: mocks.console.contract), at `/dmp`, for
trainers: what the DMP holds, as a professional's "Web PS DMP" would show it, with what the
sandbox noticed.

- `/dmp`: the patients having documents in the tenant (the seeded ones, then every feed), and
  opening a patient by INS;
- `/dmp/patients/<ins>`: a patient's documents — status, visibility, version (and replacement),
  author, XAdES verdict of the lot, CDA findings, links;
- `/dmp/documents/<uniqueId>`: one document — its metadata, every metadata version, the
  associations, the signature verdict, the CDA findings and report, and the document itself (an
  N1's PDF, an N3 rendered by mocks.cda);
- a persona panel on a patient's page: how many documents their DMP holds.

Everything comes from the control API (/_sandbox/dmp/documents...).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, redirect, render_template, request
from markupsafe import Markup

from mocks.console import ControlError, NavEntry, PageNotFound, Panel, control, page, tenant

blueprint = Blueprint("dmp_pages", __name__, template_folder="templates")
NAV = [NavEntry("", "DMP", "DMP")]
STATUSES = {
    "Approved": "actif",
    "Archived": "archivé",
    "Deprecated": "remplacé",
    "Deleted": "supprimé",
}
VISIBILITY = {
    "MASQUE_PS": "masqué aux professionnels",
    "INVISIBLE_PATIENT": "non visible par le patient",
    "INVISIBLE_REPRESENTANTS_LEGAUX": "non visible par les représentants légaux",
}
ASSOCIATIONS = {
    "urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember": "HasMember",
    "urn:ihe:iti:2007:AssociationType:signs": "signs",
    "urn:ihe:iti:2007:AssociationType:RPLC": "RPLC",
    "urn:ihe:iti:2010:AssociationType:RPLC": "RPLC",
    "urn:ihe:iti:2010:AssociationType:UpdateAvailabilityStatus": "UpdateAvailabilityStatus",
}
N1_FORMATS = ("urn:ihe:iti:xds-sd:", "urn:ihe:iti-fr:xds-sd:")


def lgc_urls(service: dict[str, Any]) -> list[tuple[str, str]]:
    base = (service.get("urls") or {}).get("dmp")
    if not base:
        return []
    root = base + "/si-dmp-server/v2/services/"
    return [("DMP registre (TD3.1, TD3.3)", root + "registry"), ("DMP entrepôt (TD2.1, TD3.2)", root + "repository")]  # fmt: skip


def _get(path: str, missing: str, **params: Any) -> Any:
    """The control API's answer; its 400 / 404 as the console's French 404 page (`missing`)."""
    try:
        return control().get("/dmp" + path, tenant=tenant(), **params)
    except ControlError as exc:
        if exc.status in (400, 404):
            raise PageNotFound(missing, "/dmp", "Retour au DMP") from None
        raise


def when(stamp: str) -> str:
    """yyyyMMddHHmmss (UTC) for reading."""
    if len(stamp) < 12 or not stamp.isdigit():
        return stamp
    return f"{stamp[6:8]}/{stamp[4:6]}/{stamp[0:4]} {stamp[8:10]}:{stamp[10:12]} UTC"


def level(doc: dict[str, Any]) -> str:
    code = (doc.get("format") or {}).get("code", "")
    return "N1" if code.startswith(N1_FORMATS) else "N3"


def _context() -> dict[str, Any]:
    return {"statuses": STATUSES, "visibility": VISIBILITY, "when": when, "level": level, "t": tenant()}


@blueprint.get("")
@blueprint.get("/")
def home() -> Response:
    ins = request.args.get("ins", "").strip()
    if ins:
        return redirect(f"/dmp/patients/{quote(ins, safe='')}", 303)  # type: ignore[return-value]
    found = _get("/documents", "DMP indisponible")["patients"]
    return page("dmp/home.html", "DMP — documents", patients=found, **_context())


@blueprint.get("/patients/<ins>")
def patient(ins: str) -> Response:
    bad = f"INS invalide (13 ou 15 caractères) : {ins}"
    rows = _get("/documents", bad, ins=ins)["documents"]
    state = _get(f"/patients/{ins}", bad)
    return page("dmp/patient.html", f"Documents DMP de {state['prenom']} {state['nom']}".strip(), ins=ins,
                state=state, documents=rows, **_context())  # fmt: skip


@blueprint.get("/documents/<unique_id>")
def document(unique_id: str) -> Response:
    doc = _get(f"/documents/{unique_id}", f"Document inconnu du DMP de ce tenant : {unique_id}")
    state = _get(f"/patients/{doc['ins']}", f"Patient inconnu : {doc['ins']}")
    return page("dmp/document.html", doc["title"] or unique_id, doc=doc, state=state,
                associations=ASSOCIATIONS, **_context())  # fmt: skip


def persona_panels(kind: str, persona: dict[str, Any]) -> list[Panel]:
    if kind != "patient" or not persona.get("ins"):
        return []
    try:
        rows = control().get("/dmp/documents", tenant=tenant(), ins=persona["ins"])["documents"]
    except ControlError:
        return []
    html = render_template("dmp/panel_patient.html", ins=persona["ins"], documents=rows, statuses=STATUSES)
    return [Panel("Documents du DMP", Markup(html), "DMP documents", "dmp-documents")]
