"""The SOAP kit: what every SOAP service of the sandbox (INSi, DMP, ApCV) reads and writes the
same way. Facts: research dmp.md §1-2 (transport, MTOM, WS-Addressing, VIHF), insi.md (SOAP 1.2
as INSi does it), the official examples in ../shared/specs/dmp/examples/; the Apache CXF
behaviours the DMP shows are taken from CXF's sources (named in each module).

A request, end to end (a service's wire.py / flow.py)::

    from mocks import soap

    try:
        req = soap.read_request(body, environ.get("CONTENT_TYPE"),
                                soap_action=environ.get("HTTP_SOAPACTION"))
    except soap.InvalidMessage as exc:            # garbage, DOCTYPE, bad multipart, too large...
        ERRORS.fail("malformed", exc.message, soap_version=exc.version)
    soap.remember(ex, req)                         # the answer's version, RelatesTo, action
    req.version, req.action.value, req.addressing.message_id, req.envelope.payload
    docs = [soap.content_of(el, req.multipart) for el in ...]   # bytes: xop:Include or base64
    security = soap.read_security(req.envelope, pki=sandbox.pki, tenant=ex.tenant)
    assertion = security.assertion                 # typed SAML: issuer, name_id, attributes...
    problems = soap.check_assertion(assertion, ex.now(), require_signature=True)
    ...
    return protocol.answer(ex, payload_xml, "urn:ihe:iti:2007:RetrieveDocumentSetResponse",
                           [protocol.attachment(document_bytes)])

and the listener's `protocol=soap.Soap12Protocol(mtom=...)` writes catalogue faults, refusals
and crashes in the same style.

Modules (each documents its sources):

    envelope.py    parse_xml / parse_envelope (hardened lxml), Envelope, version detection,
                   Action (Content-Type `action`, MIME start-info / root part, wsa:Action)
    fault.py       Fault, Style (prefixes and namespace declarations chosen by the caller),
                   fault_envelope / envelope; presets CXF12, CXF11 (the DMP), INSI_LIVE, INSI_2022
    addressing.py  Addressing (parse), response_headers (CXF order), new_message_id
    mtom.py        parse_multipart -> Multipart / Part; cxf_package, CxfIds, Attachment (CXF bytes)
    xop.py         includes / content_of / unreferenced: the bytes of base64Binary elements
    message.py     read_request -> SoapRequest (all of the above in one call)
    security.py    read_security / read_assertion -> Security / Assertion; check_assertion
    protocol.py    Soap12Protocol / Soap11Protocol (harness protocols), remember, cxf_response
    invalid.py     InvalidMessage: the one typed error of bad input (`reason`, `version`)

The XAdES verifier of XDS submission sets lives with the PKI: mocks.pki.xades.
"""

from mocks.soap.addressing import Addressing, new_message_id, parse_addressing, response_headers
from mocks.soap.content_type import ContentType, parse_content_type
from mocks.soap.envelope import (
    Action,
    Envelope,
    action_of,
    parse_envelope,
    parse_xml,
    version_of_content_type,
)
from mocks.soap.fault import (
    CXF11,
    CXF12,
    INSI_2022,
    INSI_LIVE,
    Fault,
    Style,
    envelope,
    fault_envelope,
    fault_xml,
)
from mocks.soap.invalid import InvalidMessage
from mocks.soap.message import SoapRequest, read_request
from mocks.soap.mtom import CXF_ROOT_ID, Attachment, CxfIds, Multipart, Part, cxf_package, parse_multipart
from mocks.soap.ns import SAML2, SOAP11, SOAP12, WSA, WSA_ANONYMOUS, WSSE, XOP, SoapVersion
from mocks.soap.protocol import Soap11Protocol, Soap12Protocol, SoapProtocol, cxf_response, remember
from mocks.soap.security import (
    Assertion,
    Attribute,
    AuthnStatement,
    Problem,
    Security,
    SignatureVerdict,
    check_assertion,
    read_assertion,
    read_security,
)
from mocks.soap.xop import Binary, content_of, includes, unreferenced

__all__ = [
    "CXF11",
    "CXF12",
    "CXF_ROOT_ID",
    "INSI_2022",
    "INSI_LIVE",
    "SAML2",
    "SOAP11",
    "SOAP12",
    "WSA",
    "WSA_ANONYMOUS",
    "WSSE",
    "XOP",
    "Action",
    "Addressing",
    "Assertion",
    "Attachment",
    "Attribute",
    "AuthnStatement",
    "Binary",
    "ContentType",
    "CxfIds",
    "Envelope",
    "Fault",
    "InvalidMessage",
    "Multipart",
    "Part",
    "Problem",
    "Security",
    "SignatureVerdict",
    "Soap11Protocol",
    "Soap12Protocol",
    "SoapProtocol",
    "SoapRequest",
    "SoapVersion",
    "Style",
    "action_of",
    "check_assertion",
    "content_of",
    "cxf_package",
    "cxf_response",
    "envelope",
    "fault_envelope",
    "fault_xml",
    "includes",
    "new_message_id",
    "parse_addressing",
    "parse_content_type",
    "parse_envelope",
    "parse_multipart",
    "parse_xml",
    "read_assertion",
    "read_request",
    "read_security",
    "remember",
    "response_headers",
    "unreferenced",
    "version_of_content_type",
]
