"""Control API of the PKI, mounted by the kernel at `/_sandbox/pki` (see docs/pki.md).

    GET  /                                      CAs, URLs, counts
    GET  /bundle[?all=1&format=pem|p7b]         trust bundle: the TEST roots (all=1: every CA)
    GET  /cas/<short>[?format=pem|der]          one CA certificate
    GET  /certificates[?persona=&kind=]         issued certificates (no keys)
    GET  /certificates/<serial>[?format=...]    one certificate: JSON, or a download
    POST /certificates/<serial>/revoke          {"reason": "key_compromise"}
    POST /certificates/<serial>/unrevoke
    GET  /personas/<persona>                    the persona's certificates
    GET  /personas/<persona>/<kind>[?format=json|cert|key|chain|fullchain|der|p12&password=&algorithm=aes|3des]
                                                its current certificate, issued on first request
    POST /personas/<persona>/<kind>/renew       a fresh 3-year certificate
    POST /personas/<persona>/<kind>/issue       {"validity": "expired" | "not_yet_valid" | "current",
                                                 "not_before": ..., "not_after": ...}
    POST /personas/<persona>/<kind>/revoke      revoke its current certificate {"reason": ...}
    POST /identify                              a PEM or DER certificate -> how the sandbox sees it

Errors: `{"error": ...}` — 404 for an unknown persona, certificate or CA; 400 for a bad kind,
format, reason, validity, or a revocation of a CA or of an unknown serial. Nothing is written
when an error is returned.
"""

from __future__ import annotations

import base64
from dataclasses import asdict
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from flask import Blueprint, Response, current_app, request
from pydantic import BaseModel, ConfigDict, Field

from mocks.clock import iso
from mocks.control.api import BlueprintRoutes, Param, body, json_response
from mocks.pki.export import p7b, render
from mocks.pki.model import CallerCertificate, Credentials, PkiError
from mocks.pki.names import CAS, KINDS, ROOTS
from mocks.tenants import DEFAULT, HEADER, UnknownTenant

if TYPE_CHECKING:
    from mocks.kernel import Sandbox

blueprint = Blueprint("pki", __name__)
PREFIX = "/_sandbox/pki"
TAG = "pki"
TENANT = Param(
    "tenant", "tenant whose clock judges validity (default: X-Sandbox-Tenant header, else 'default')"
)
DOWNLOAD = [
    Param("format", "json (default), cert, key, chain, fullchain, der or p12"),
    Param("password", "PKCS#12 password (format=p12)"),
    Param("algorithm", "PKCS#12 encryption: aes (default) or 3des"),
    TENANT,
]


route = BlueprintRoutes(blueprint, PREFIX, TAG)
ROUTES = route.routes  # OpenAPI descriptions of the routes below


class RevokeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field("unspecified", description="RFC 5280 reason, e.g. key_compromise, superseded")


class IssueRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    validity: Literal["current", "expired", "not_yet_valid"] = "current"
    not_before: datetime | None = None
    not_after: datetime | None = None


def sandbox() -> Sandbox:
    """The Sandbox of the control app (the kernel publishes it in `app.extensions`)."""
    return current_app.extensions["segur_sandbox"]  # type: ignore[no-any-return]


def _tenant() -> str:
    tenant = request.args.get("tenant") or request.headers.get(HEADER) or DEFAULT
    if not sandbox().tenants.exists(tenant):
        raise UnknownTenant(tenant)
    return tenant


@blueprint.errorhandler(PkiError)
def _pki_error(exc: PkiError) -> Response:
    extra: dict[str, Any] = {}
    if hasattr(exc, "persona"):
        extra["persona"] = exc.persona
    if hasattr(exc, "serial"):
        extra["serial"] = exc.serial
    return json_response({"error": str(exc), **extra}, exc.status)


def describe(creds: Credentials) -> dict[str, Any]:
    return {
        "serial": creds.serial,
        "kind": creds.kind,
        "persona": creds.persona,
        "subject": creds.subject,
        "issuer": creds.issuer,
        "issuer_cn": CAS[creds.issuer].cn,
        "not_before": iso(creds.not_before),
        "not_after": iso(creds.not_after),
        "revoked_at": iso(creds.revoked_at) if creds.revoked_at else None,
        "file_stem": creds.file_stem,
    }


def caller_json(caller: CallerCertificate) -> dict[str, Any]:
    data = asdict(caller)
    data.pop("der")
    for key in ("not_before", "not_after"):
        data[key] = iso(data[key]) if data[key] else None
    return data


def download(creds: Credentials, fmt: str) -> Response:
    data, filename, media = render(
        creds,
        fmt,
        request.args.get("password", ""),
        request.args.get("algorithm", "aes"),  # type: ignore[arg-type]
    )
    response = Response(data, 200, mimetype=media)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _with_status(creds: Credentials, tenant: str) -> dict[str, Any]:
    der = x509.load_pem_x509_certificate(creds.cert_pem).public_bytes(serialization.Encoding.DER)
    caller = sandbox().pki.identify(der, tenant)
    return {**describe(creds), "status": caller.status}


@route("GET", "/", "CAs, publication URLs, number of issued certificates")
def index() -> Response:
    pki = sandbox().pki
    return json_response(
        {
            "cas": [
                {
                    "short": short,
                    "cn": spec.cn,
                    "root": spec.is_root,
                    "serial": format(pki.ca(short).cert.serial_number, "x"),
                    "not_after": iso(pki.ca(short).cert.not_valid_after_utc),
                    "crl": pki.urls.crl(short),
                    "ca_issuers": pki.urls.ca_cert(short),
                }
                for short, spec in CAS.items()
            ],
            "ocsp": pki.urls.ocsp,
            "kinds": list(KINDS),
            "issued": len(pki.issued()),
        }
    )


@route(
    "GET",
    "/bundle",
    "Trust bundle: the TEST roots (all=1: every CA), PEM or p7b",
    [Param("all", "1: every CA, not only the roots"), Param("format", "pem (default) or p7b")],
)
def bundle() -> Response:
    pki = sandbox().pki
    every = request.args.get("all") in ("1", "true")
    fmt = request.args.get("format", "pem")
    if fmt == "p7b":
        shorts = list(CAS) if every else [s.short for s in ROOTS]
        data, media, name = p7b([pki.ca(s).cert for s in shorts]), "application/x-pkcs7-certificates", "p7b"
    elif fmt == "pem":
        data, media, name = (
            (pki.ca_bundle() if every else pki.trust_bundle()),
            "application/x-pem-file",
            "pem",
        )
    else:
        return json_response({"error": f"unknown bundle format: {fmt} (pem or p7b)"}, 400)
    response = Response(data, 200, mimetype=media)
    stem = "Chaine_de_certification-IGC-Sante-TEST" if every else "IGC-Sante-TEST-racines"
    response.headers["Content-Disposition"] = f'attachment; filename="{stem}.{name}"'
    return response


@route("GET", "/cas/{short}", "One CA certificate (e.g. ACI-EL-ORG-TEST)", [Param("format", "pem or der")])
def ca_cert(short: str) -> Response:
    if short not in CAS:
        return json_response({"error": f"unknown CA: {short} (one of {', '.join(CAS)})", "ca": short}, 404)
    ca = sandbox().pki.ca(short)
    fmt = request.args.get("format", "pem")
    if fmt not in ("pem", "der"):
        return json_response({"error": f"unknown format: {fmt} (pem or der)"}, 400)
    response = Response(ca.pem if fmt == "pem" else ca.der, 200, mimetype="application/pkix-cert")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{short}.{"pem" if fmt == "pem" else "cer"}"'
    )
    return response


@route(
    "GET",
    "/certificates",
    "Issued certificates (no keys)",
    [Param("persona", "idNat_PS or idNat_Struct"), Param("kind", "certificate kind")],
)
def certificates() -> Response:
    rows = sandbox().pki.issued(request.args.get("persona"), request.args.get("kind"))
    return json_response(rows)


@route("GET", "/certificates/{serial}", "One certificate: JSON with its status, or a download", DOWNLOAD)
def certificate(serial: str) -> Response:
    creds = sandbox().pki.certificate(serial)
    fmt = request.args.get("format", "json")
    if fmt == "json":
        return json_response(_with_status(creds, _tenant()))
    return download(creds, fmt)


@route("POST", "/certificates/{serial}/revoke", "Revoke a certificate (not a CA)", [TENANT], RevokeRequest)
def revoke(serial: str) -> Response:
    req = body(RevokeRequest)
    tenant = _tenant()
    return json_response(describe(sandbox().pki.revoke(serial, req.reason, tenant)))


@route("POST", "/certificates/{serial}/unrevoke", "Take a certificate off the CRL")
def unrevoke(serial: str) -> Response:
    return json_response(describe(sandbox().pki.unrevoke(serial)))


@route("GET", "/personas/{persona}", "The certificates issued to a persona")
def persona_certificates(persona: str) -> Response:
    rows = sandbox().pki.issued(persona)
    if not rows:
        return json_response(
            {"error": f"no certificate issued for persona: {persona}", "persona": persona}, 404
        )
    return json_response(rows)


@route(
    "GET",
    "/personas/{persona}/{kind}",
    "A persona's current certificate of a kind (issued on first request): JSON or a download",
    DOWNLOAD,
)
def persona_credentials(persona: str, kind: str) -> Response:
    tenant = _tenant()
    fmt = request.args.get("format", "json")
    creds = sandbox().pki.credentials(persona, kind)
    if fmt == "json":
        return json_response(_with_status(creds, tenant))
    return download(creds, fmt)


@route("POST", "/personas/{persona}/{kind}/renew", "A fresh 3-year certificate (the old one stays valid)")
def persona_renew(persona: str, kind: str) -> Response:
    return json_response(describe(sandbox().pki.renew(persona, kind)))


@route(
    "POST",
    "/personas/{persona}/{kind}/issue",
    "A new current certificate: expired, not yet valid, or explicit dates",
    [TENANT],
    IssueRequest,
)
def persona_issue(persona: str, kind: str) -> Response:
    req = body(IssueRequest)
    creds = sandbox().pki.issue(
        persona, kind, req.validity, not_before=req.not_before, not_after=req.not_after
    )
    return json_response(_with_status(creds, _tenant()))


@route(
    "POST",
    "/personas/{persona}/{kind}/revoke",
    "Revoke the persona's current certificate",
    [TENANT],
    RevokeRequest,
)
def persona_revoke(persona: str, kind: str) -> Response:
    req = body(RevokeRequest)
    tenant = _tenant()
    pki = sandbox().pki
    current = [r for r in pki.issued(persona, kind) if r["current"]]
    if not current:
        return json_response(
            {"error": f"persona {persona} has no {kind} certificate", "persona": persona, "kind": kind}, 404
        )
    return json_response(describe(pki.revoke(current[0]["serial"], req.reason, tenant)))


@route("POST", "/identify", "How the sandbox sees a certificate (PEM, DER or base64 body)", [TENANT])
def identify() -> Response:
    raw = request.get_data()
    der: bytes | None = raw or None
    if raw.lstrip().startswith(b"-----BEGIN"):
        try:
            der = x509.load_pem_x509_certificate(raw).public_bytes(serialization.Encoding.DER)
        except ValueError as exc:
            return json_response({"error": f"not a PEM certificate: {exc}"}, 400)
    elif raw and not raw.startswith(b"\x30"):
        try:
            der = base64.b64decode(raw, validate=True)
        except ValueError:
            return json_response({"error": "send a certificate as PEM, DER or base64 DER"}, 400)
    return json_response(caller_json(sandbox().pki.identify(der, _tenant())))
