"""Control API of the DMP, mounted by the kernel at `/_sandbox/dmp` (see docs/services/dmp.md).

    GET    /                    the service URLs and the rights matrix rows
    GET    /patients/<ins>      a patient's DMP state in the tenant (derived from the population,
                                then the stored changes)
    PUT    /patients/<ins>      change it: {"dmp": "open|none|closed", "ens": bool,
                                "compte_internet": bool, "opposition_bris_de_glace": bool,
                                "opposition_acces_urgence": bool, "medecin_traitant": "<idNat_PS>",
                                "blocked": ["PS:<idNat>"|"ST:<idNat_Struct>"],
                                "authorizations": {"PS:<idNat>": "VALIDE"|"EXPIRE"},
                                "representative": {"nom", "prenom", "lien"} | null}
    DELETE /patients/<ins>      back to the population
    GET    /documents           the patients having documents in the tenant
    GET    /documents?ins=      a patient's documents (latest version of each, every status): ids,
                                status, visibility, author, XAdES verdict, CDA findings, links
    GET    /documents/<uniqueId>            one document, every metadata version, associations
    GET    /documents/<uniqueId>/content    its bytes (mimeType as fed)
    GET    /documents/<uniqueId>/render     an N1's PDF, an N3 as HTML (mocks.cda)

The documents routes first make the tenant's seeded documents (dmp.seed) if it has none.

The tenant is `?tenant=`, else the X-Sandbox-Tenant header, else `default`. Errors are
`{"error": "..."}` (400 bad input, 404 unknown tenant or document).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from flask import Blueprint, Response, current_app, request
from pydantic import BaseModel, ConfigDict, Field

from dmp import flow, rights
from dmp.documents import Document, Documents
from dmp.endpoints import endpoints
from dmp.metadata import RPLC, VISIBILITY_SCHEME
from dmp.state import Authorization, Representative, States
from mocks.cda.letter import NoFont
from mocks.cda.parse import ParseError
from mocks.cda.render import CSP
from mocks.control.api import ApiError, BlueprintRoutes, Param, body, json_response
from mocks.tenants import DEFAULT, HEADER, UnknownTenant

if TYPE_CHECKING:
    from mocks.kernel import Sandbox

blueprint = Blueprint("dmp", __name__)
PREFIX = "/_sandbox/dmp"
TENANT = Param("tenant", "tenant (default: X-Sandbox-Tenant header, else 'default')")
route = BlueprintRoutes(blueprint, PREFIX, "dmp", [TENANT])
ROUTES = route.routes


class RepresentativeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    nom: str
    prenom: str
    lien: str = "FTH"


class StateBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    dmp: Literal["open", "none", "closed"] | None = None
    ens: bool | None = Field(None, description="RATTACHEMENT_ENS: attached to Mon espace santé")
    compte_internet: bool | None = None
    opposition_bris_de_glace: bool | None = None
    opposition_acces_urgence: bool | None = None
    medecin_traitant: str | None = Field(
        None, description="idNat_PS of the médecin traitant DMP, '' for none"
    )
    blocked: list[str] | None = Field(
        None, description="holders blocked by the patient: PS:<idNat>, ST:<idNat_Struct>"
    )
    authorizations: dict[str, Literal["VALIDE", "EXPIRE"]] | None = None
    telecoms: list[tuple[str, str]] | None = Field(
        None, description="[[use, value]]: ['', 'mailto:…'], ['MC', 'tel:…']"
    )
    adresse: tuple[str, str, str] | None = Field(None, description="[street, postal code, city]")
    representative: RepresentativeBody | None = None
    clear_representative: bool = False


@blueprint.errorhandler(ApiError)
def _api_error(exc: ApiError) -> Response:
    return json_response({"error": exc.message, **exc.extra}, exc.status)


@blueprint.errorhandler(UnknownTenant)
def _unknown_tenant(exc: UnknownTenant) -> Response:
    return json_response({"error": f"unknown tenant: {exc.tenant}", "tenant": exc.tenant}, 404)


def sandbox() -> Sandbox:
    return current_app.extensions["segur_sandbox"]  # type: ignore[no-any-return]


def tenant() -> str:
    name = request.args.get("tenant") or request.headers.get(HEADER) or DEFAULT
    if not sandbox().tenants.exists(name):
        raise UnknownTenant(name)
    return name


def _ins(ins: str) -> str:
    if len(ins) not in (13, 15) or not ins[:13].replace("A", "0").replace("B", "0").isdigit():
        raise ApiError(400, f"not an INS (13 or 15 characters): {ins}")
    return ins


@route("GET", "/", "DMP URLs and the rights matrix rows")
def index() -> Response:
    sb = sandbox()
    return json_response(
        {
            "services": {name: sb.url("dmp", f"{flow.BASE}{name}") for name in sorted(endpoints())},
            "rights_rows": list(rights.ROWS),
        }
    )


@route("GET", "/patients/{ins}", "A patient's DMP state in the tenant")
def get_patient(ins: str) -> Response:
    sb, t = sandbox(), tenant()
    return json_response(States(sb).get(t, _ins(ins), sb.now(t).date()).as_dict())


@route("PUT", "/patients/{ins}", "Change a patient's DMP state in the tenant", model=StateBody)
def put_patient(ins: str) -> Response:
    req: StateBody = body(StateBody)
    sb, t = sandbox(), tenant()
    now = sb.now(t)
    stamp = now.strftime("%Y%m%d%H%M%S")
    change: dict[str, Any] = {
        k: v
        for k, v in req.model_dump(
            exclude={"representative", "clear_representative", "authorizations"}
        ).items()
        if v is not None
    }
    if req.authorizations is not None:
        change["authorizations"] = {h: Authorization(s, stamp, stamp) for h, s in req.authorizations.items()}
    if req.representative is not None:
        change["representative"] = Representative(**req.representative.model_dump())
    if req.clear_representative:
        change["representative"] = None
    for holder in list(req.blocked or []) + list(req.authorizations or {}):
        if not holder.startswith(("PS:", "ST:")):
            raise ApiError(400, f"holder {holder!r}: PS:<idNat_PS> or ST:<idNat_Struct>")
    if change.get("dmp") == "open":
        change["known"] = True
    state = States(sb).update(t, _ins(ins), now, change)
    return json_response(state.as_dict())


@route("DELETE", "/patients/{ins}", "Back to the population's DMP state")
def delete_patient(ins: str) -> Response:
    sb, t = sandbox(), tenant()
    States(sb).reset(t, _ins(ins))
    return json_response(States(sb).get(t, ins, sb.now(t).date()).as_dict())


# -- documents (the registry and repository's store, seeded on first use) ---------------------------
INS_PARAM = Param("ins", "the patient's INS (15 characters); none: the patients having documents")


def _documents(unique_id: str = "") -> tuple[Sandbox, str, Documents]:
    """The tenant's documents, seeded first; for one `unique_id`, seeded only when the seed makes
    it (an unknown document is a 404 that changes nothing)."""
    from dmp import seed  # here: the PDF, DataMatrix and XAdES kit stay out of start-up

    sb, t = sandbox(), tenant()
    docs = Documents(sb.store)
    if not unique_id or (not docs.exists(t, unique_id) and unique_id in seed.unique_ids(sb)):
        try:
            seed.ensure(sb, t)
        except NoFont as exc:
            raise ApiError(503, f"seeded documents not made: {exc}") from None
    return sb, t, docs


def _links(t: str, d: Document) -> dict[str, str]:
    q = f"?tenant={t}"
    out = {
        "self": f"{PREFIX}/documents/{d.unique_id}{q}",
        "content": f"{PREFIX}/documents/{d.unique_id}/content{q}",
        "render": f"{PREFIX}/documents/{d.unique_id}/render{q}",
    }
    if d.cda_report_id:
        out["cda_report"] = f"/_sandbox/cda/reports/{d.cda_report_id}"
        out["cda_report_html"] = f"/_sandbox/cda/reports/{d.cda_report_id}?format=html"
    return out


def _author(d: Document) -> dict[str, Any] | None:
    if not d.authors:
        return None
    a = d.authors[0]
    parts = a.person.split("^")
    name = " ".join(p for p in (parts[2] if len(parts) > 2 else "", parts[1] if len(parts) > 1 else "") if p)
    institution = a.institutions[0].split("^", 1)[0] if a.institutions else ""
    return {"id": a.person_id, "name": name, "structure": a.structure_ids[0] if a.structure_ids else "",
            "institution": institution, "xcn": a.person, "specialties": list(a.specialties)}  # fmt: skip


def _code(c: Any) -> dict[str, str] | None:
    return {"code": c.code, "scheme": c.scheme, "label": c.label} if c else None


def _findings(sb: Sandbox, d: Document) -> tuple[list[dict[str, Any]], str]:
    """The CDA findings and the report's state: the engine's report when it still has it (the
    official verdict arrives there after the feed), else those stored with the document."""
    report = sb.cda.report(int(d.cda_report_id)) if d.cda_report_id.isdigit() else None
    if report is None:
        return d.cda_findings, ""
    return [f.as_dict() for f in report.findings], report.state


def _summary(sb: Sandbox, t: str, d: Document, signature: Document | None) -> dict[str, Any]:
    findings, state = _findings(sb, d)
    errors = sum(1 for f in findings if f.get("severity") in ("error", "fatal"))
    return {
        "uniqueId": d.unique_id,
        "entryUUID": d.entry_uuid,
        "lid": d.lid,
        "version": d.version,
        "status": d.status,
        "visibility": [c.code for c in d.confidentiality if c.scheme == VISIBILITY_SCHEME],
        "confidentiality": [c.code for c in d.confidentiality if c.scheme != VISIBILITY_SCHEME],
        "title": d.title,
        "type": _code(d.type_code),
        "class": _code(d.class_code),
        "format": _code(d.format_code),
        "mimeType": d.mime_type,
        "size": d.size,
        "author": _author(d),
        "creationTime": d.creation_time,
        "submittedAt": d.submitted_at,
        "replaces": d.replaces,
        "seeded": d.via_seed,
        "signature": {**d.xades, "uniqueId": signature.unique_id if signature else ""},
        "findings": {"count": len(findings), "errors": errors, "report_state": state},
        "cda_report_id": d.cda_report_id,
        "links": _links(t, d),
    }


def _signatures(docs: Documents, t: str, ins: str) -> dict[str, Document]:
    """The lot's XAdES entry of each submission set."""
    return {s.submission_set: s for s in docs.by_patient(t, ins, kinds=("signature",))}


def _lot(docs: Documents, t: str, d: Document) -> str:
    """The submission set that brought the document and its XAdES: the first version's (a later
    metadata version's is the ITI-57 update's, which signs nothing)."""
    first = d if d.version == 1 else docs.get(t, entry_uuid=d.lid)
    return (first or d).submission_set


@route(
    "GET", "/documents", "The documents of a patient (or the patients having documents)", [TENANT, INS_PARAM]
)
def list_documents() -> Response:
    ins = request.args.get("ins", "")
    if ins:
        _ins(ins)  # before seeding: a 400 changes nothing
    sb, t, docs = _documents()
    if not ins:
        patients = []
        for found in docs.patients(t):
            state = States(sb).get(t, found, sb.now(t).date())
            person = sb.population.by_matricule(found[:13])
            count = len(docs.by_patient(t, found))
            patients.append({"ins": found, "nom": state.nom, "prenom": state.prenom, "documents": count,
                             "persona": person.id if person else "", "dmp": state.dmp,
                             "link": f"{PREFIX}/documents?ins={found}&tenant={t}"})  # fmt: skip
        return json_response({"tenant": t, "patients": patients})
    signatures = _signatures(docs, t, ins)
    rows = [_summary(sb, t, d, signatures.get(_lot(docs, t, d))) for d in docs.by_patient(t, ins)]
    replaced = {r["replaces"]: r["uniqueId"] for r in rows if r["replaces"]}
    for r in rows:
        r["replacedBy"] = replaced.get(r["uniqueId"], "")
    return json_response({"tenant": t, "ins": ins[:15], "documents": rows})


def _one(docs: Documents, t: str, unique_id: str) -> Document:
    found = docs.get(t, unique_id=unique_id)
    if found is None:
        raise ApiError(404, f"unknown document in tenant {t}: uniqueId {unique_id}", unique_id=unique_id)
    return found


@route("GET", "/documents/{unique_id}", "One document: its summary, every metadata version, its links")
def get_document(unique_id: str) -> Response:
    sb, t, docs = _documents(unique_id)
    d = _one(docs, t, unique_id)
    signature = _signatures(docs, t, d.ins).get(_lot(docs, t, d))
    versions = [
        {"entryUUID": v.entry_uuid, "version": v.version, "status": v.status, "submittedAt": v.submitted_at,
         "visibility": [c.code for c in v.confidentiality if c.scheme == VISIBILITY_SCHEME],
         "confidentiality": [_code(c) for c in v.confidentiality], "metadata_xml": v.metadata_xml}
        for v in docs.versions(t, d.lid)
    ]  # fmt: skip
    links = [
        {"entryUUID": a.entry_uuid, "type": a.type, "source": a.source, "target": a.target, "slots": a.slots}
        for v in versions
        for a in docs.associations(t, either=str(v["entryUUID"]))
    ]
    newer = [a.source for a in docs.associations(t, target=d.entry_uuid) if a.type in RPLC]
    by = docs.get(t, entry_uuid=newer[0]) if newer else None
    out = {
        **_summary(sb, t, d, signature),
        "replacedBy": by.unique_id if by else "",
        "ins": d.ins,
        "patientId": d.patient_id,
        "hash": d.hash,
        "practiceSetting": _code(d.practice_setting_code),
        "healthcareFacilityType": _code(d.hcf_type_code),
        "serviceStartTime": d.service_start_time,
        "serviceStopTime": d.service_stop_time,
        "legalAuthenticator": d.legal_authenticator,
        "caller": d.caller,
        "submissionSet": d.submission_set,
        "cda_findings": _findings(sb, d)[0],
        "versions": versions,
        "associations": links,
    }
    return json_response(out)


@route("GET", "/documents/{unique_id}/content", "The document's bytes as fed (its mimeType)")
def document_content(unique_id: str) -> Response:
    _sb, t, docs = _documents(unique_id)
    d = _one(docs, t, unique_id)
    body = docs.content(t, unique_id)
    if body is None:
        raise ApiError(404, f"no bytes stored for uniqueId {unique_id}", unique_id=unique_id)
    return Response(body, 200, mimetype=d.mime_type or "application/octet-stream")


@route("GET", "/documents/{unique_id}/render", "The document for reading: an N1's PDF, an N3 as HTML")
def document_render(unique_id: str) -> Response:
    sb, t, docs = _documents(unique_id)
    _one(docs, t, unique_id)
    body = docs.content(t, unique_id) or b""
    try:
        try:
            content, media = sb.cda.extract_pdf(body)
            return Response(content, 200, mimetype=media)
        except ValueError as exc:
            if "N3" not in str(exc):
                raise
        html = sb.cda.render_html(body)
    except (ParseError, ValueError) as exc:
        raise ApiError(400, f"not a readable CDA: {exc}", unique_id=unique_id) from None
    return Response(html, 200, mimetype="text/html", headers={"Content-Security-Policy": CSP})
