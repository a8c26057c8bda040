"""SOAP envelopes in: hardened XML parsing, SOAP 1.1 / 1.2 detection, the action of a request.

    parse_xml(data, max_size)                  lxml, no DTD / entities / network, size cap
    parse_envelope(data, content_type)         -> Envelope (version, header, headers, body, payload)
    version_of_content_type(content_type)      "1.1" (text/xml), "1.2" (application/soap+xml), None
    action_of(content_type, ...)               -> Action (Content-Type, start-info, root part, wsa)

The version is the envelope's namespace, whatever the Content-Type says: Apache CXF (the DMP's
stack) reads it that way, and the official TD2.1 request is a SOAP 1.1 envelope in a part typed
`application/soap+xml` (research dmp.md, "Notes from replaying the official examples").
`Envelope.declared_version` keeps what the Content-Type said, so a service can report the
mismatch as a finding instead of refusing.

A DOCTYPE is refused before libxml2 sees it (SOAP 1.1 §3 and SOAP 1.2 part 1 §5 forbid a DTD in
a SOAP message; it is also the road to entity expansion attacks); an entity reference without a
DTD is not well-formed XML. Everything unreadable is an `InvalidMessage`.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

from lxml import etree

from mocks.soap.content_type import ContentType, parse_content_type
from mocks.soap.invalid import InvalidMessage
from mocks.soap.ns import ENVELOPE_NS, MEDIA_TYPE, SOAP11, SOAP12, VERSION_OF_NS, WSA, SoapVersion

DEFAULT_MAX_SIZE = 16 * 1024 * 1024

_local = threading.local()  # lxml parsers are not to be shared between threads


def _parser(encoding: str | None = None) -> etree.XMLParser:
    parsers: dict[str | None, etree.XMLParser] | None = getattr(_local, "parsers", None)
    if parsers is None:
        parsers = _local.parsers = {}
    parser = parsers.get(encoding)
    if parser is None:
        parser = etree.XMLParser(
            encoding=encoding,
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            dtd_validation=False,
            huge_tree=False,
            remove_blank_text=False,
            remove_comments=False,
            collect_ids=False,
        )
        if len(parsers) < 16:
            parsers[encoding] = parser
    return parser


_PROLOG_SKIP = re.compile(rb"\A(?:\xef\xbb\xbf)?(?:\s+|<\?.*?\?>|<!--.*?-->)*", re.DOTALL)


def _has_doctype(data: bytes) -> bool:
    """True when a DOCTYPE comes before the root element (the only place XML allows one)."""
    end = _PROLOG_SKIP.match(data)
    at = end.end() if end else 0
    return data[at : at + 9].upper() == b"<!DOCTYPE"


def parse_xml(
    data: bytes, *, max_size: int = DEFAULT_MAX_SIZE, encoding: str | None = None, what: str = "message"
) -> etree._Element:
    """The root element of `data`, parsed without DTD, entities or network access.

    `encoding` overrides what the document declares (a MIME part's charset when the XML has no
    declaration). Raises InvalidMessage: "size", "doctype", "xml"."""
    if len(data) > max_size:
        raise InvalidMessage("size", f"{what} larger than {max_size} bytes ({len(data)})")
    if _has_doctype(data):
        raise InvalidMessage("doctype", f"{what}: a DOCTYPE (DTD) is not allowed in a SOAP message")
    try:
        root = etree.fromstring(data, _parser(encoding))
    except etree.XMLSyntaxError as exc:
        raise InvalidMessage("xml", f"{what} is not well-formed XML: {exc}") from None
    except (ValueError, LookupError) as exc:  # an unknown encoding, a str with a declaration...
        raise InvalidMessage("xml", f"{what} cannot be decoded: {exc}") from None
    if root is None:
        raise InvalidMessage("xml", f"{what} is empty")
    info = root.getroottree().docinfo
    if info.doctype or info.internalDTD is not None:  # a DOCTYPE the byte scan missed (UTF-16...)
        raise InvalidMessage("doctype", f"{what}: a DOCTYPE (DTD) is not allowed in a SOAP message")
    return root


@dataclass(frozen=True)
class Envelope:
    """A SOAP envelope as read: the elements are lxml's, to query with their namespaces."""

    version: SoapVersion
    root: etree._Element
    header: etree._Element | None
    body: etree._Element
    headers: tuple[etree._Element, ...]  # element children of Header, in order
    payload: etree._Element | None  # the first element child of Body (None: empty Body)
    declared_version: SoapVersion | None = None  # what the Content-Type said, if anything

    @property
    def namespace(self) -> str:
        return ENVELOPE_NS[self.version]

    @property
    def version_mismatch(self) -> bool:
        """The Content-Type announced the other SOAP version (official TD2.1 oddity)."""
        return self.declared_version is not None and self.declared_version != self.version

    def header_elements(self, namespace: str, local: str) -> list[etree._Element]:
        tag = f"{{{namespace}}}{local}"
        return [h for h in self.headers if h.tag == tag]

    def header_element(self, namespace: str, local: str) -> etree._Element | None:
        found = self.header_elements(namespace, local)
        return found[0] if found else None

    def wsa(self, local: str) -> str | None:
        """The text of a WS-Addressing header (stripped), None when absent."""
        element = self.header_element(WSA, local)
        return None if element is None else (element.text or "").strip()


def version_of_content_type(content_type: str | ContentType | None) -> SoapVersion | None:
    """The SOAP version a Content-Type announces: the media type itself, or for MTOM the
    `type` of the root part / the `start-info` of the package."""
    ct = content_type if isinstance(content_type, ContentType) else parse_content_type(content_type)
    for media in (ct.media_type, (ct.get("type") or "").lower(), (ct.get("start-info") or "").lower()):
        media = media.split(";")[0].strip()
        for version, wanted in MEDIA_TYPE.items():
            if media == wanted:
                return version
    return None


def envelope_of(root: etree._Element, declared: SoapVersion | None = None) -> Envelope:
    """An Envelope from an already parsed root element (InvalidMessage "envelope" / "body")."""
    tag = root.tag if isinstance(root.tag, str) else ""
    qname = etree.QName(tag) if tag else None
    version = VERSION_OF_NS.get(qname.namespace or "") if qname is not None else None
    if qname is None or qname.localname != "Envelope" or version is None:
        raise InvalidMessage(
            "envelope",
            f"the root element {tag or '?'} is not a SOAP Envelope ({SOAP12} or {SOAP11})",
            declared,
        )
    ns = ENVELOPE_NS[version]
    children = [c for c in root if isinstance(c.tag, str)]
    header = children[0] if children and children[0].tag == f"{{{ns}}}Header" else None
    rest = children[1:] if header is not None else children
    if not rest or rest[0].tag != f"{{{ns}}}Body":
        where = "missing" if not any(c.tag == f"{{{ns}}}Body" for c in children) else "misplaced"
        raise InvalidMessage("body", f"soap:Body {where} in the SOAP {version} Envelope", version)
    body = rest[0]
    if version == "1.2" and len(rest) > 1:  # SOAP 1.1 allows elements after Body, 1.2 does not
        raise InvalidMessage("body", f"element {rest[1].tag} after soap:Body (SOAP 1.2)", version)
    payload = next((c for c in body if isinstance(c.tag, str)), None)
    headers = tuple(h for h in header if isinstance(h.tag, str)) if header is not None else ()
    return Envelope(version, root, header, body, headers, payload, declared)


def parse_envelope(
    data: bytes,
    content_type: str | ContentType | None = None,
    *,
    max_size: int = DEFAULT_MAX_SIZE,
    encoding: str | None = None,
) -> Envelope:
    """Read a SOAP envelope (the whole body of a plain request, or the root part of an MTOM
    package). Raises InvalidMessage; its `version` is set once the version is known (from the
    envelope, else from the Content-Type)."""
    declared = version_of_content_type(content_type) if content_type is not None else None
    try:
        root = parse_xml(data, max_size=max_size, encoding=encoding, what="SOAP message")
    except InvalidMessage as exc:
        raise InvalidMessage(exc.reason, exc.message, declared) from None
    return envelope_of(root, declared)


@dataclass(frozen=True)
class Action:
    """Where a request says what it is, each as sent (None: not said there).

    - `http`: the Content-Type `action` parameter (SOAP 1.2, RFC 3902) or the SOAPAction header
      (SOAP 1.1), unquoted;
    - `start_info`: the `action` inside an MTOM package's `start-info` parameter;
    - `part`: the `action` of the MTOM root part's Content-Type (the official TD2.1 request has
      the odd `DocumentRepository_ProvideAndRegisterDocumentSet-b` there);
    - `wsa`: the WS-Addressing Action header.
    """

    http: str | None = None
    start_info: str | None = None
    part: str | None = None
    wsa: str | None = None

    @property
    def value(self) -> str | None:
        """The action a server dispatches on: WS-Addressing first (CXF), then the HTTP level."""
        for candidate in (self.wsa, self.http, self.start_info, self.part):
            if candidate:
                return candidate
        return None

    def as_dict(self) -> dict[str, str]:
        """The non-empty sources, for a journal entry."""
        return {k: v for k, v in vars(self).items() if v}


def _unquote(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1]
    return value


def action_of(
    content_type: str | ContentType | None,
    *,
    soap_action: str | None = None,
    part_content_type: str | ContentType | None = None,
    envelope: Envelope | None = None,
) -> Action:
    """Collect the action from the HTTP Content-Type, the SOAPAction header, the MTOM root part
    and the envelope's wsa:Action."""
    ct = content_type if isinstance(content_type, ContentType) else parse_content_type(content_type)
    http = ct.get("action")
    start_info = None
    if ct.is_multipart:
        http = None  # a multipart's own action parameter is read like start-info's
        info = parse_content_type(ct.get("start-info") or "")
        start_info = info.get("action") or ct.get("action")
    if not http and soap_action is not None:
        http = _unquote(soap_action) or None
    part = None
    if part_content_type is not None:
        pct = (
            part_content_type
            if isinstance(part_content_type, ContentType)
            else parse_content_type(part_content_type)
        )
        part = pct.get("action")
        if part is None:  # CXF escapes the action inside the root part's type parameter
            part = parse_content_type(pct.get("type") or "").get("action")
    wsa = envelope.wsa("Action") if envelope is not None else None
    return Action(http=http or None, start_info=start_info or None, part=part or None, wsa=wsa or None)
