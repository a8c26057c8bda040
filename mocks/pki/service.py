"""The PKI's HTTP listener: what igc-sante.esante.gouv.fr and ocsp.esante.gouv.fr publish.

    GET  /CRL/<short>.crl                  CRL of a CA (DER), e.g. /CRL/ACI-EL-ORG-TEST.crl
    GET  /AC%20TEST/<short>.cer            CA certificate (DER), the AIA caIssuers of every certificate
    GET  /AC%20TEST/Chaine_de_certification-IGC-Sante-TEST.p7b   every TEST CA (PKCS#7)
    POST /                                 OCSP (application/ocsp-request), as ocsp.esante.gouv.fr
    GET  /<base64 request>                 OCSP over GET (RFC 6960 A.1)
    GET  /PC%20TEST                        index of the published files

Plain HTTP, like the real publication points. The tenant (for the clock that dates CRLs and OCSP
answers) comes from `X-Sandbox-Tenant` or a `/_t/<tenant>/` prefix, else the default tenant.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from werkzeug.wrappers import Request, Response

from mocks.config import Setting
from mocks.errors import Catalogue, ErrorDef, HttpError, ServiceError
from mocks.pki.export import p7b
from mocks.pki.names import CAS
from mocks.pki.revocation import unsuccessful
from mocks.pki.tables import MIGRATIONS
from mocks.service import Listener, Service
from mocks.store import Migration
from mocks.tenants import UnknownTenant

if TYPE_CHECKING:
    from mocks.kernel import Exchange, Sandbox

NAME = "pki"
TITLE = "IGC-Santé TEST (fake): CRL, OCSP, CA certificates"
SETTINGS = [
    Setting("pki_port", 4603, "IGC-Santé publication: CRL, OCSP, CA certificates (HTTP)", "port"),
    Setting(
        "pki_url",
        "",
        "base URL written into certificates for CRL / OCSP / CA issuers (default http://<host>:<pki_port>)",
    ),
]
OPERATIONS = ["crl", "ocsp"]  # the journal's operation names (fault rules name these)
# What a relying party meets when the real publication points misbehave (fault rules name these;
# operations "crl" and "ocsp"; the persona of an OCSP request is the asked certificate's persona).
ERRORS = Catalogue(
    [
        HttpError(
            name="ocsp_try_later",
            description="OCSP responseStatus tryLater (3), no certificate status",
            http_status=200,
            data={"ocsp_status": "TRY_LATER"},
        ),
        HttpError(
            name="ocsp_internal_error",
            description="OCSP responseStatus internalError (2)",
            http_status=200,
            data={"ocsp_status": "INTERNAL_ERROR"},
        ),
        HttpError(
            name="ocsp_unavailable", description="the OCSP responder answers HTTP 503", http_status=503
        ),
        HttpError(
            name="crl_unavailable", description="the CRL publication point answers HTTP 503", http_status=503
        ),
    ]
)


def _rule_error(ex: Exchange) -> ErrorDef | None:
    try:
        ex.fault()
    except ServiceError as err:
        return err.error
    return None


CHAIN_FILE = "Chaine_de_certification-IGC-Sante-TEST.p7b"


class PkiService(Service):
    name = NAME
    title = TITLE

    def migrations(self) -> list[Migration]:
        return list(MIGRATIONS)

    def start(self) -> None:
        # With a fixed port, the CAs of the server certificates are made now and the others in the
        # background; with port 0 (tests) everything waits for first use, once the listener is
        # bound, so that the URLs the CAs carry name the real port.
        if int(self.sandbox.config["pki_port"]) or self.sandbox.config.get("pki_url"):
            self.sandbox.pki.ensure(["ACI-EL-ORG-TEST"])
            self.sandbox.pki.warm_up()

    def listeners(self) -> list[Listener]:
        return [
            Listener(
                "pki",
                "pki_port",
                "http",
                app=publication_app(self.sandbox),
                description="CRL, OCSP, CA certificates of the TEST IGC-Santé",
                paths=["/PC%20TEST", "/CRL/ACI-EL-ORG-TEST.crl"],
            )
        ]


def create(sandbox: Sandbox) -> Service:
    return PkiService(sandbox)


def publication_app(sandbox: Sandbox) -> Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        try:
            tenant = sandbox.resolve_tenant(environ)
        except UnknownTenant as exc:
            return Response(f"unknown tenant: {exc.tenant}\n", 404, mimetype="text/plain")(
                environ, start_response
            )
        response = handle(sandbox, request, tenant, environ)
        return response(environ, start_response)

    return app


def handle(sandbox: Sandbox, request: Request, tenant: str, environ: dict[str, Any]) -> Response:
    path = unquote(request.path)
    pki = sandbox.pki
    if request.method == "POST" and path in ("/", ""):
        return _ocsp(sandbox, request.get_data(), tenant, environ)
    if request.method not in ("GET", "HEAD"):
        return Response("method not allowed\n", 405, mimetype="text/plain")
    if path.startswith("/CRL/") and path.endswith(".crl"):
        short = path[len("/CRL/") : -len(".crl")]
        if short not in CAS:
            return _not_found(path)
        with sandbox.exchange(NAME, "crl", tenant, environ, persona=short) as ex:
            ex.details["ca"] = short
            error = _rule_error(ex)
            if error is not None:
                ex.status, ex.outcome = error.http_status, error.name
                return Response(f"{error.description}\n", error.http_status, mimetype="text/plain")
            der = pki.crl(short, tenant)
            ex.outcome = short
        return Response(der, 200, mimetype="application/pkix-crl")
    if path == f"/AC TEST/{CHAIN_FILE}":
        certs = [pki.ca(s).cert for s in CAS]
        return Response(p7b(certs), 200, mimetype="application/x-pkcs7-certificates")
    if path.startswith("/AC TEST/") and path.endswith(".cer"):
        short = path[len("/AC TEST/") : -len(".cer")]
        if short not in CAS:
            return _not_found(path)
        return Response(pki.ca(short).der, 200, mimetype="application/pkix-cert")
    if path.rstrip("/") in ("/PC TEST", ""):
        return Response(_index(sandbox), 200, mimetype="text/html")
    # OCSP over GET: the path is the base64 (URL-encoded) DER request
    try:
        der = base64.b64decode(path.lstrip("/"), validate=True)
    except (binascii.Error, ValueError):
        return _not_found(path)
    return _ocsp(sandbox, der, tenant, environ)


def _ocsp(sandbox: Sandbox, der: bytes, tenant: str, environ: dict[str, Any]) -> Response:
    from cryptography.x509 import ocsp

    with sandbox.exchange(NAME, "ocsp", tenant, environ, persona=_asked_persona(sandbox, der)) as ex:
        error = _rule_error(ex)
        if error is not None:
            ex.status, ex.outcome = error.http_status, error.name
            if "ocsp_status" not in error.data:
                return Response(f"{error.description}\n", error.http_status, mimetype="text/plain")
            status = ocsp.OCSPResponseStatus[error.data["ocsp_status"]]
            return Response(unsuccessful(status), 200, mimetype="application/ocsp-response")
        answer = sandbox.pki.ocsp(der, tenant)
        parsed = ocsp.load_der_ocsp_response(answer)
        if parsed.response_status == ocsp.OCSPResponseStatus.SUCCESSFUL:
            ex.outcome = parsed.certificate_status.name.lower()
            ex.details["serial"] = format(parsed.serial_number, "x")
        else:
            ex.outcome = parsed.response_status.name.lower()
    return Response(answer, 200, mimetype="application/ocsp-response")


def _asked_persona(sandbox: Sandbox, der: bytes) -> str:
    """The persona of the certificate an OCSP request asks about ("" when unknown or malformed)."""
    from cryptography.x509 import ocsp

    try:
        serial = format(ocsp.load_der_ocsp_request(der).serial_number, "x")
    except (ValueError, NotImplementedError):
        return ""
    row = sandbox.store.one("SELECT persona FROM pki_certs WHERE serial = ?", (serial,))
    return str(row["persona"]) if row else ""


def _not_found(path: str) -> Response:
    return Response(f"not found: {path}\n", 404, mimetype="text/plain")


def _index(sandbox: Sandbox) -> str:
    items = "".join(
        f'<li>{spec.cn}: <a href="/AC%20TEST/{short}.cer">{short}.cer</a>, '
        f'<a href="/CRL/{short}.crl">{short}.crl</a></li>'
        for short, spec in CAS.items()
    )
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>IGC-Santé TEST (Ségur Sandbox)</title></head>"
        f"<body><h1>IGC-Santé TEST — Ségur Sandbox</h1><ul>{items}</ul>"
        f'<p><a href="/AC%20TEST/{CHAIN_FILE}">{CHAIN_FILE}</a></p></body></html>'
    )
