"""The ITI-41 messages of the `repository` service (research dmp.md §2.4; official TD2.1 request
and response):

    request = read_provide(payload, soap_request)   # -> Provided: metadata, documents by id
    registry_response()                              # ns2:RegistryResponse Success, the official
                                                     # declarations (ns2 rs, ns3 lcm, ns4 xds-b,
                                                     # ns5 rim, ns6 query)
    failure(code, context, location)                 # the same with status Failure + RegistryError

Documents travel as MTOM parts (xop:Include) or inline base64: both read (mocks.soap.xop); how
each came is kept for the findings. An unreadable Include or base64 is the kit's InvalidMessage.
No rule here (dmp.provide decides).
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import quoteattr

from lxml import etree

from dmp import metadata as M
from mocks import soap

RS, LCM, XDS, RIM, QUERY = M.RS, M.LCM, M.XDS, M.RIM, M.QUERY
DECLARATIONS = f'xmlns:ns2="{RS}" xmlns:ns3="{LCM}" xmlns:ns4="{XDS}" xmlns:ns5="{RIM}" xmlns:ns6="{QUERY}"'
SUCCESS = "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success"
FAILURE = "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Failure"
ERROR = "urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:Error"
RESPONSE_ACTION = "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-bResponse"


@dataclass(frozen=True)
class Sent:
    """One xds:Document: its id as written, its bytes, how they travelled."""

    id: str
    data: bytes
    source: str  # "xop" | "inline"
    content_type: str = ""  # the MIME part's Content-Type ("" inline)
    charset: str = ""


@dataclass(frozen=True)
class Provided:
    objects: M.Objects | None  # None: no SubmitObjectsRequest/RegistryObjectList
    documents: tuple[Sent, ...]


def read_provide(payload: etree._Element, req: soap.SoapRequest) -> Provided:
    """The request's metadata and documents (InvalidMessage for an unresolvable document)."""
    objects_el = payload.find(f"{{{LCM}}}SubmitObjectsRequest/{{{RIM}}}RegistryObjectList")
    documents = []
    for el in payload.iterfind(f"{{{XDS}}}Document"):
        binary = req.content_of(el)
        part = binary.part
        documents.append(
            Sent(
                el.get("id", ""),
                binary.data,
                binary.source,
                part.content_type.raw if part is not None and part.content_type is not None else "",
                (part.charset or "") if part is not None else "",
            )
        )
    return Provided(M.read_objects(objects_el) if objects_el is not None else None, tuple(documents))


def registry_response() -> str:
    return f'<ns2:RegistryResponse status="{SUCCESS}" {DECLARATIONS}/>'


def failure(code: str, context: str, location: str = "") -> str:
    loc = f" location={quoteattr(location)}" if location else ""
    return (
        f'<ns2:RegistryResponse status="{FAILURE}" {DECLARATIONS}><ns2:RegistryErrorList>'
        f"<ns2:RegistryError codeContext={quoteattr(context)} errorCode={quoteattr(code)}{loc}"
        f' severity="{ERROR}"/></ns2:RegistryErrorList></ns2:RegistryResponse>'
    )
