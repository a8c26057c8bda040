"""Control routes of the CDA engine, mounted at /_sandbox/cda (docs/cda.md):

GET  /health                     the engine: data, version, worker, compiled profiles, timings, queue
GET  /profiles                   StrucMin and the volets of the dispatch table (present or not)
POST /validate                   a CDA document (or a ZIP of documents) → report(s); 400 when unreadable
GET  /reports/{id}               a report, JSON (default) or HTML (?format=html or Accept: text/html)
GET  /reports/{id}/svrl          the SVRL of one schematron (?profile=StrucMin, default the first)
GET  /reports/{id}/document      the document as received
GET  /reports/{id}/render        N1: its PDF (or text); N3: HTML
POST /render                     the same for a document in the body
"""

from __future__ import annotations

import io
import zipfile
from typing import TYPE_CHECKING

from flask import Blueprint, Response, current_app, request

from mocks.cda.engine import VOLETS
from mocks.cda.parse import ParseError
from mocks.cda.report import Report
from mocks.cda.report_html import report_html
from mocks.cda.rules import Context
from mocks.control.api import ApiError, BlueprintRoutes, Param, json_response
from mocks.tenants import DEFAULT, HEADER, UnknownTenant

if TYPE_CHECKING:
    from mocks.cda.engine import CdaEngine
    from mocks.kernel import Sandbox

blueprint = Blueprint("cda", __name__)
route = BlueprintRoutes(blueprint, "/_sandbox/cda", "cda")
MAX_ZIP_ENTRIES = 100
VALIDATE_PARAMS = [
    Param(
        "tenant",
        "tenant whose INSi evidence decides 'INS qualifié' (default: X-Sandbox-Tenant, else default)",
    ),
    Param("volet", "force the volet schematron (e.g. BIO-CR-BIO_2024.01); default: from templateId"),
    Param("ins_family", "test or production (default: the cda_ins_oids setting)"),
    Param(
        "wait",
        "seconds to wait for the verdict (default: cda_timeout; 0: answer at once, 202 if pending)",
        type="number",
    ),
    Param("name", "file name shown in the report"),
    Param("format", "json (default) or html"),
]


def _sandbox() -> Sandbox:
    return current_app.extensions["segur_sandbox"]  # type: ignore[no-any-return]


def _engine() -> CdaEngine:
    return _sandbox().cda


def _tenant() -> str:
    tenant = request.args.get("tenant") or request.headers.get(HEADER) or DEFAULT
    if not _sandbox().tenants.exists(tenant):
        raise UnknownTenant(tenant)
    return tenant


def _wants_html() -> bool:
    fmt = request.args.get("format")
    if fmt not in (None, "json", "html"):
        raise ApiError(400, "format must be json or html")
    return fmt == "html" or (fmt is None and request.accept_mimetypes.best == "text/html")


def _answer(report: Report, status: int) -> Response:
    if _wants_html():
        return Response(
            report_html(report),
            status,
            mimetype="text/html",
            headers={"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"},
        )
    return json_response(report.as_dict(), status)


def _status(report: Report) -> int:
    if "CDA-PARSE" in report.rules():
        return 400
    return 202 if report.state == "pending" else 200


@route("GET", "/health", "The CDA engine: data, référentiel version, worker, compiled profiles, timings", [])
def health() -> Response:
    return json_response(_engine().health())


@route("GET", "/profiles", "StrucMin and the volets of the dispatch table, with their templateIds", [])
def profiles() -> Response:
    return json_response(_engine().volets())


@route(
    "POST",
    "/validate",
    "Validate a CDA document (body: XML, or a ZIP of documents) → report",
    VALIDATE_PARAMS,
)
def validate() -> Response:
    engine = _engine()
    tenant = _tenant()
    volet = request.args.get("volet") or None
    if volet is not None and volet not in VOLETS:
        raise ApiError(400, f"unknown volet {volet!r}; see /_sandbox/cda/profiles")
    family = request.args.get("ins_family") or None
    if family not in (None, "test", "production"):
        raise ApiError(400, "ins_family must be test or production")
    try:
        wait = float(request.args.get("wait", engine.timeout))
    except ValueError:
        raise ApiError(400, "wait must be a number") from None
    if not 0 <= wait <= 600:
        raise ApiError(400, "wait must be between 0 and 600")
    body = request.get_data(cache=False)
    if len(body) > engine.max_bytes * 4:
        raise ApiError(413, f"body over {engine.max_bytes * 4} bytes")

    def one(data: bytes, name: str) -> Report:
        ctx = Context(tenant=tenant, service="api", ins_family=family, volet=volet, name=name)
        return engine.validate(data, ctx, timeout=wait) if wait > 0 else engine.submit(data, ctx)

    name = request.args.get("name", "")
    if body[:4] != b"PK\x03\x04":
        report = one(body, name)
        return _answer(report, _status(report))
    reports = [one(data, entry) for entry, data in _zip_documents(body, engine.max_bytes)]
    if not reports:
        raise ApiError(400, "the ZIP holds no .xml document")
    return json_response({"reports": [r.as_dict() for r in reports]})


def _zip_documents(body: bytes, max_bytes: int) -> list[tuple[str, bytes]]:
    """The .xml entries of a ZIP (an IHE_XDM archive's METADATA.XML is not a CDA: skipped)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(body))
    except zipfile.BadZipFile as exc:
        raise ApiError(400, f"not a readable ZIP: {exc}") from None
    out = []
    entries = [i for i in archive.infolist() if not i.is_dir() and i.filename.lower().endswith(".xml")]
    entries = [i for i in entries if i.filename.rsplit("/", 1)[-1].upper() != "METADATA.XML"]
    if len(entries) > MAX_ZIP_ENTRIES:
        raise ApiError(400, f"the ZIP holds {len(entries)} documents, at most {MAX_ZIP_ENTRIES}")
    for info in entries:
        with archive.open(info) as member:  # at most max_bytes + 1: a lying size cannot bomb us
            out.append((info.filename, member.read(max_bytes + 1)))
    return out


def _report(report_id: str) -> Report:
    try:
        found = _engine().report(int(report_id))
    except ValueError:
        found = None
    if found is None:
        raise ApiError(404, f"unknown report: {report_id}")
    return found


@route(
    "GET", "/reports/{report_id}", "A report, JSON or HTML (?format=html)", [Param("format", "json or html")]
)
def report_get(report_id: str) -> Response:
    return _answer(_report(report_id), 200)


@route(
    "GET",
    "/reports/{report_id}/svrl",
    "The SVRL of one schematron of a report",
    [Param("profile", "StrucMin or the volet (default: the first)")],
)
def report_svrl(report_id: str) -> Response:
    report = _report(report_id)
    svrl = _engine().svrl(int(report_id))
    profile = request.args.get("profile") or (report.profiles[0] if report.profiles else "")
    if profile not in svrl:
        raise ApiError(
            404, f"no SVRL for profile {profile!r} in report {report_id}; has: {', '.join(svrl) or 'none'}"
        )
    return Response(svrl[profile], 200, mimetype="application/xml")


@route("GET", "/reports/{report_id}/document", "The document of a report, as received", [])
def report_document(report_id: str) -> Response:
    _report(report_id)
    body = _engine().document(int(report_id))
    if body is None:
        raise ApiError(404, f"the document of report {report_id} is no longer stored")
    return Response(body, 200, mimetype="application/xml")


def _render(body: bytes) -> Response:
    engine = _engine()
    try:
        try:
            content, media = engine.extract_pdf(body)
            return Response(content, 200, mimetype=media)
        except ValueError as exc:
            if "N3" not in str(exc):
                raise
        html = engine.render_html(body)
    except (ParseError, ValueError) as exc:
        raise ApiError(400, str(exc)) from None
    from mocks.cda.render import CSP

    return Response(html, 200, mimetype="text/html", headers={"Content-Security-Policy": CSP})


@route("GET", "/reports/{report_id}/render", "The document for reading: an N1's PDF, an N3 as HTML", [])
def report_render(report_id: str) -> Response:
    _report(report_id)
    body = _engine().document(int(report_id))
    if body is None:
        raise ApiError(404, f"the document of report {report_id} is no longer stored")
    return _render(body)


@route("POST", "/render", "Render a CDA document (body): an N1's PDF, an N3 as HTML", [])
def render_body() -> Response:
    return _render(request.get_data(cache=False))
