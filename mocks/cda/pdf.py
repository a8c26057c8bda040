"""The PDF of an N1 document: extraction, and its PDF/A claim.

The claim is the XMP `pdfaid:part` (and `pdfaid:conformance`) read with pikepdf (an extra of
segur-sandbox[cda]; without it, a scan of the uncompressed bytes). It is a *claim*, not a
PDF/A validation (that takes veraPDF, research/cda-segur.md §A.5): reports say "PDF/A déclaré".
"""

from __future__ import annotations

import base64
import binascii
import re

from lxml import etree

HL7 = "urn:hl7-org:v3"
PDFAID = re.compile(rb"pdfaid:part(?:>|=[\"'])\s*(\d)")


def pdfa_claim(pdf: bytes) -> str:
    """The declared PDF/A part ("1", "2", …) or "" when none is declared (or the PDF is unreadable)."""
    try:
        import pikepdf
    except ImportError:
        match = PDFAID.search(pdf)
        return match.group(1).decode() if match else ""
    import io

    try:
        with pikepdf.open(io.BytesIO(pdf)) as doc:
            meta = doc.open_metadata()
            return str(meta.get("pdfaid:part", "") or "")
    except Exception:  # noqa: BLE001 - pikepdf raises many kinds on a broken PDF: no claim readable
        match = PDFAID.search(pdf)
        return match.group(1).decode() if match else ""


def n1_body(doc: etree._Element) -> tuple[etree._Element | None, bytes | None]:
    """(nonXMLBody/text, its decoded bytes or None when it is not valid base64)."""
    text = doc.find(f"{{{HL7}}}component/{{{HL7}}}nonXMLBody/{{{HL7}}}text")
    if text is None:
        return None, None
    try:
        return text, base64.b64decode("".join((text.text or "").split()), validate=True)
    except (binascii.Error, ValueError):
        return text, None


def extract(doc: etree._Element) -> tuple[bytes, str]:
    """(decoded body, mediaType) of an N1 ClinicalDocument element; ValueError in French."""
    text, body = n1_body(doc)
    if text is None:
        raise ValueError("document structuré (N3) : pas de corps non structuré à extraire")
    if body is None:
        raise ValueError("le contenu de nonXMLBody/text n'est pas du base64 valide")
    return body, text.get("mediaType") or "text/plain"
