"""INSi's console pages (the console's page contract: mocks.console.contract).

- `/insi`: the INSi calls of the tenant, newest first, with the CR of each answer (00 one
  identity, 01 none, 02 several) or the fault code, the caller and the authentication mode;
- a persona panel on a patient's page: the outcome INSi will answer for this person's traits
  (INSi's own matching rules, insi.matching, run on the candidates the control API's
  population search returns), the OID, and the error a magic persona always gives;
- Accueil's URLs: the two /lps endpoints (mTLS, CPx).

Everything comes from the control API (/_sandbox/journal, /_sandbox/personas, /_sandbox/errors).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, render_template, request
from markupsafe import Markup

from insi import matching, wire
from insi.directory import identity_of
from mocks.console import NavEntry, Panel, control, page, tenant

blueprint = Blueprint("insi_pages", __name__, template_folder="templates")
NAV = [NavEntry("", "INSi", "INSi")]
PAGE_SIZE = 50
CR_LABELS = {
    "00": "une identité trouvée",
    "01": "aucune identité trouvée",
    "02": "plusieurs identités trouvées",
}
OPERATIONS = {
    wire.OP_TRAITS: "recherche par traits",
    wire.OP_VITALE: "recherche par carte Vitale",
    wire.OP_VERIF: "vérification",
}
CR = re.compile(r"CR=(\d\d)")


def lgc_urls(service: dict[str, Any]) -> list[tuple[str, str]]:
    urls = service.get("urls") or {}
    out = []
    if "insi" in urls:
        out.append(("INSi mTLS (certificat INSI-AUTO / INSI-MANU)", urls["insi"] + "/lps"))
    if "insi-cpx" in urls:
        out.append(("INSi CPx (assertion PS signée)", urls["insi-cpx"] + "/lps"))
    return out


def answer(entry: dict[str, Any]) -> dict[str, str]:
    """The CR (or fault) of a journal entry, in French."""
    outcome = entry.get("outcome") or ""
    found = CR.search(outcome)
    if found:
        return {"code": found.group(1), "label": CR_LABELS.get(found.group(1), ""), "kind": "ok"}
    if outcome:
        return {"code": outcome, "label": "faute SOAP" if "fault" in outcome else "", "kind": "ko"}
    return {"code": "—", "label": "", "kind": "off"}


@blueprint.get("")
@blueprint.get("/")
def log() -> Response:
    try:
        number = max(1, int(request.args.get("page", "1")))
    except ValueError:
        number = 1
    flt = {"service": "insi", "tenant": tenant()}
    if request.args.get("operation"):
        flt["operation"] = request.args["operation"]
    ctl = control()
    total = ctl.get("/journal/count", **flt)["count"]
    entries = ctl.get("/journal", limit=PAGE_SIZE, offset=(number - 1) * PAGE_SIZE, **flt)
    for e in entries:
        e["answer"] = answer(e)
        e["mode"] = (e.get("details") or {}).get("mode", "")
    pages = max(1, -(-total // PAGE_SIZE))
    params = {k: v for k, v in request.args.items() if k != "page"}
    return page(
        "insi/log.html",
        "INSi — journal des appels",
        entries=entries,
        total=total,
        number=number,
        pages=pages,
        query=lambda **kw: "/insi?" + urlencode({**params, **kw}),
        operations=OPERATIONS,
        operation=request.args.get("operation", ""),
    )


def expected(patient: dict[str, Any]) -> dict[str, Any]:
    """What INSi answers for this patient: by traits (with and without the birthplace) and by
    verification, computed by INSi's matching rules on the population's candidates."""
    ctl = control()
    found = ctl.get("/personas/search", q=patient["nom"], limit=100000)["patients"]
    same = [p for p in found if (p["nom"], p["sexe"], p["date_naissance"])
            == (patient["nom"], patient["sexe"], patient["date_naissance"])]  # fmt: skip
    directory = matching.ListDirectory([identity_of(p) for p in same or [patient]])
    first = patient["prenoms"][:1]
    traits = wire.Traits(nom=patient["nom"], prenoms=list(first), sexe=patient["sexe"],
                         date_naissance=patient["date_naissance"])  # fmt: skip
    with_place = wire.Traits(nom=patient["nom"], prenoms=list(patient["prenoms"]), sexe=patient["sexe"],
                             date_naissance=patient["date_naissance"], lieu_naissance=patient["lieu_naissance"])  # fmt: skip
    short, full = matching.search_traits(directory, traits), matching.search_traits(directory, with_place)
    error = None
    if patient.get("outcome"):
        errors = ctl.get("/errors").get("insi", {})
        error = {"name": patient["outcome"], **(errors.get(patient["outcome"]) or {})}
    family = next((c["value"] for c in ctl.get("/config") if c["name"] == "insi_oid_family"), "production")
    oid = matching.OID_FAMILIES.get(family, matching.OID_FAMILIES["production"]).get(
        patient.get("kind", "NIR"), ""
    )
    return {
        "short": {"code": short.code, "label": CR_LABELS[short.code], "count": len(short.identities)},
        "full": {"code": full.code, "label": CR_LABELS[full.code], "count": len(full.identities)},
        "homonyms": [p for p in same if p["id"] != patient["id"]],
        "error": error,
        "oid": oid,
        "family": family,
    }


def persona_panels(kind: str, persona: dict[str, Any]) -> list[Panel]:
    if kind != "patient":
        return []
    html = render_template("insi/expected.html", p=persona, x=expected(persona))
    return [Panel("Résultat INSi attendu", Markup(html), "Expected INSi outcome", "insi-attendu")]
