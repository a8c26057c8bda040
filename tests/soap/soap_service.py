"""A small XDS-like SOAP service on the request harness, built only from the SOAP kit, so that the
kit is tested the way services use it: over real sockets, behind the harness, with the kit's
Soap12Protocol writing faults (CXF style, ITI-43 answers packed as MTOM even for faults).

`POST /repository`:
- ProvideAndRegisterDocumentSet-b (ITI-41): reads every `xds:Document` (xop:Include or inline
  base64), keeps its bytes, journals their SHA-1; a VIHF signed with a CPS authentication
  certificate is refused with the DMP's `DMPInvalidCertificate` fault; answers RegistryResponse.
- RetrieveDocumentSet (ITI-43): answers the kept documents as MTOM attachments.
Anything unreadable is the catalogue's `malformed` fault; `/crash` raises a bug of ours.
"""

from __future__ import annotations

import hashlib
import threading
from typing import Any
from xml.sax.saxutils import escape

from mocks import soap
from mocks.config import Setting
from mocks.errors import Catalogue, SoapFault
from mocks.harness import Refused, Reply, endpoint, request_body
from mocks.kernel import Exchange
from mocks.service import Listener, Service

NAME = "soaptest"
TITLE = "SOAP kit test service"
SETTINGS = [Setting("soaptest_port", 0, "SOAP kit test listener", "port")]
XDS = "urn:ihe:iti:xds-b:2007"
RS = "urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0"
ITI41 = "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b"
ITI43 = "urn:ihe:iti:2007:RetrieveDocumentSet"
SUCCESS = "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success"
ERRORS = Catalogue(
    [
        SoapFault(name="malformed", description="message illisible", code="Sender", subcode="InvalidMessage"),
        SoapFault(
            name="DMPInvalidCertificate",
            description="VIHF signé avec un certificat qui n'est pas de signature",
            code="Sender",
            subcode="DMPInvalidCertificate",
            reason="Le certificat ayant signé le VIHF est invalide : Not a valid signature certificate",
        ),
        SoapFault(
            name="unknown_document",
            description="document inconnu",
            code="Sender",
            subcode="XDSDocumentUniqueIdError",
        ),
        SoapFault(
            name="unknown_action", description="action inconnue", code="Sender", subcode="ActionNotSupported"
        ),
    ]
)
# XDS namespaces declared on answers, as the DMP's JAXB context writes them (official TD3.2 answer)
RESPONSE_NS = (
    f'xmlns:ns2="{RS}" xmlns:ns3="urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0" xmlns:ns4="{XDS}" '
    'xmlns:ns5="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0" xmlns:ns6="urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0"'
)


class SoapTest(Service):
    name = NAME

    def __init__(self, sandbox: Any):
        super().__init__(sandbox)
        self.protocol = soap.Soap12Protocol(mtom=lambda ex: ex.operation == "RetrieveDocumentSet")
        self.documents: dict[tuple[str, str], bytes] = {}
        self.lock = threading.Lock()

    def listeners(self) -> list[Listener]:
        return [
            Listener(
                "soaptest",
                "soaptest_port",
                "http",
                endpoint(self.handle),
                paths=["/repository"],
                protocol=self.protocol,
                max_body=4 * 1024 * 1024,
            )
        ]

    def handle(self, ex: Exchange, environ: dict[str, Any]) -> Reply:
        path = environ.get("PATH_INFO") or "/"
        if path == "/crash":
            raise RuntimeError("a bug of ours")
        if path != "/repository":
            raise Refused(404, "no such service")
        try:
            req = soap.read_request(
                request_body(environ), environ.get("CONTENT_TYPE"), soap_action=environ.get("HTTP_SOAPACTION")
            )
        except soap.InvalidMessage as exc:
            ex.details["invalid"] = exc.reason
            ERRORS.fail("malformed", exc.message, soap_version=exc.version)
        soap.remember(ex, req)
        action = req.action.value or ""
        if action.startswith(ITI41):
            ex.operation = "ProvideAndRegisterDocumentSet-b"
            return self.provide(ex, req)
        if action.startswith(ITI43):
            ex.operation = "RetrieveDocumentSet"
            return self.retrieve(ex, req)
        ERRORS.fail("unknown_action", f"action {action!r} inconnue")

    def provide(self, ex: Exchange, req: soap.SoapRequest) -> Reply:
        security = soap.read_security(req.envelope, pki=self.sandbox.pki, tenant=ex.tenant)
        assertion = security.assertion if security is not None else None
        if assertion is not None and assertion.signature is not None:
            signer = assertion.signature.signer
            ex.details["vihf_signer"] = signer.kind if signer is not None else None
            if signer is not None and signer.kind == "cps_auth":
                ERRORS.fail("DMPInvalidCertificate")
        payload = req.envelope.payload
        assert payload is not None
        stored: dict[str, str] = {}
        try:
            for element in payload.iter(f"{{{XDS}}}Document"):
                binary = req.content_of(element)
                doc_id = element.get("id") or ""
                stored[doc_id] = hashlib.sha1(binary.data).hexdigest()
                with self.lock:
                    self.documents[(ex.tenant, doc_id)] = binary.data
        except soap.InvalidMessage as exc:
            ex.details["invalid"] = exc.reason
            ERRORS.fail("malformed", exc.message, soap_version=exc.version)
        ex.details["documents"] = stored
        ex.outcome = "OK"
        body = f'<ns2:RegistryResponse status="{SUCCESS}" {RESPONSE_NS}/>'
        return self.protocol.answer(ex, body, ITI41 + "Response")

    def retrieve(self, ex: Exchange, req: soap.SoapRequest) -> Reply:
        payload = req.envelope.payload
        assert payload is not None
        parts, attachments = [], []
        for request in payload.iter(f"{{{XDS}}}DocumentRequest"):
            repo = (request.findtext(f"{{{XDS}}}RepositoryUniqueId") or "").strip()
            unique_id = (request.findtext(f"{{{XDS}}}DocumentUniqueId") or "").strip()
            with self.lock:
                data = self.documents.get((ex.tenant, unique_id))
            if data is None:
                ERRORS.fail("unknown_document", f"uniqueId={unique_id}")
            att = self.protocol.attachment(data)
            attachments.append(att)
            parts.append(
                f"<ns4:DocumentResponse><ns4:RepositoryUniqueId>{escape(repo)}</ns4:RepositoryUniqueId>"
                f"<ns4:DocumentUniqueId>{escape(unique_id)}</ns4:DocumentUniqueId><ns4:mimeType>text/xml</ns4:mimeType>"
                f'<ns4:Document><xop:Include href="{att.href}" xmlns:xop="http://www.w3.org/2004/08/xop/include"/>'
                "</ns4:Document></ns4:DocumentResponse>"
            )
        ex.outcome = "OK"
        body = (
            f'<ns4:RetrieveDocumentSetResponse {RESPONSE_NS}><ns2:RegistryResponse status="{SUCCESS}"/>'
            + "".join(parts)
            + "</ns4:RetrieveDocumentSetResponse>"
        )
        return self.protocol.answer(ex, body, ITI43 + "Response", attachments)


def create(sandbox: Any) -> SoapTest:
    return SoapTest(sandbox)
