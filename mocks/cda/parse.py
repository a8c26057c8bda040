"""Safe parse of a CDA document (pipeline step 1, research/cda-segur.md §C.1).

Size cap, no DTD, no entity, no network. The document element is `ClinicalDocument`
(urn:hl7-org:v3), or a wrapper whose inner ClinicalDocument is the one validated: an enveloping
`ds:Signature` (the CDA inside `ds:Object`) or a self-presenting `xsl:stylesheet` (IG-document-core:
a document carrying its own display stylesheet, e.g. BIO-CR-BIO_2021.01_Auto-Presentable.xml).
Anything else is one `ParseError`, which the engine reports as a single CDA-PARSE finding.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree

HL7 = "urn:hl7-org:v3"
DS = "http://www.w3.org/2000/09/xmldsig#"
XSL = "http://www.w3.org/1999/XSL/Transform"
PROLOG_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)
FIRST_ELEMENT = re.compile(rb"<[A-Za-z_]")


class ParseError(ValueError):
    """The bytes are not a CDA document we can validate; the message is French."""


@dataclass
class Parsed:
    raw: bytes  # what was sent
    document: bytes  # the ClinicalDocument validated (raw, or the inner one of a wrapper)
    doc: etree._Element  # its ClinicalDocument element
    wrapper: str  # "", "ds:Signature" or "xsl:stylesheet"


def _prolog(raw: bytes) -> bytes:
    """The bytes before the document element (comments and PIs aside, a DOCTYPE lives there)."""
    pos = 0
    while True:
        match = FIRST_ELEMENT.search(raw, pos)
        if match is None:
            return raw
        # skip "<!--" comments: FIRST_ELEMENT only matches a name start after "<", so a match is
        # an element unless it sits inside a comment
        comment = raw.rfind(b"<!--", 0, match.start())
        if comment != -1 and raw.find(b"-->", comment, match.start()) == -1:
            end = raw.find(b"-->", match.start())
            if end == -1:
                return raw
            pos = end + 3
            continue
        return raw[: match.start()]


def parse(raw: bytes, max_bytes: int) -> Parsed:
    if not raw.strip():
        raise ParseError("document vide")
    if len(raw) > max_bytes:
        raise ParseError(
            f"document trop volumineux : {len(raw)} octets, au plus {max_bytes} acceptés par le bac à sable"
        )
    if PROLOG_DOCTYPE.search(_prolog(raw)):
        raise ParseError("déclaration DOCTYPE interdite dans un document CDA (DTD et entités refusées)")
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=True,  # base64 bodies of several MB in one text node; the size cap bounds it
        remove_blank_text=False,
    )
    try:
        root = etree.fromstring(raw, parser)
    except etree.XMLSyntaxError as exc:
        raise ParseError(f"XML mal formé : {exc}") from None
    if root.getroottree().docinfo.doctype:
        raise ParseError("déclaration DOCTYPE interdite dans un document CDA (DTD et entités refusées)")
    if root.tag == f"{{{HL7}}}ClinicalDocument":
        return Parsed(raw, raw, root, "")
    wrapper = {f"{{{DS}}}Signature": "ds:Signature", f"{{{XSL}}}stylesheet": "xsl:stylesheet"}.get(root.tag)
    if wrapper is None:
        raise ParseError(
            f"élément racine {root.tag!r} : attendu ClinicalDocument (urn:hl7-org:v3), "
            "ou une ds:Signature ou une xsl:stylesheet qui en contient un"
        )
    inner = root.find(f".//{{{HL7}}}ClinicalDocument")
    if inner is None:
        raise ParseError(f"{wrapper} sans ClinicalDocument (urn:hl7-org:v3) à l'intérieur")
    document = etree.tostring(inner, encoding="utf-8", xml_declaration=True)
    return Parsed(raw, document, etree.fromstring(document, parser), wrapper)
