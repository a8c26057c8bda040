"""SVRL (ISO Schematron Validation Report Language) → CDA findings.

Severity from the assert's @role, else its @flag (the ANS files use role="error" | "warning" |
"info"; ART-DECOR also writes "fatal"). Without either, a failed assert is an error and a
successful report a warning (the skeleton's convention: an assert states what must hold, a report
what is worth telling).
"""

from __future__ import annotations

from lxml import etree

from mocks.cda.report import CdaFinding
from mocks.findings import Severity

SVRL = "http://purl.oclc.org/dsdl/svrl"
LEVELS: dict[str, Severity] = {
    "fatal": "error",
    "error": "error",
    "erreur": "error",
    "warning": "warning",
    "warn": "warning",
    "avertissement": "warning",
    "info": "info",
    "information": "info",
    "note": "info",
}


def severity(element: etree._Element, default: Severity) -> Severity:
    for attr in ("role", "flag"):
        value = (element.get(attr) or "").strip().lower()
        if value in LEVELS:
            return LEVELS[value]
    return default


def findings(svrl: str, profile: str, rule: str, reference: str, version: str) -> list[CdaFinding]:
    root = etree.fromstring(svrl.encode("utf-8"), etree.XMLParser(resolve_entities=False, huge_tree=True))
    out: list[CdaFinding] = []
    pattern = ""
    for el in root:
        tag = etree.QName(el).localname if isinstance(el.tag, str) else ""
        if tag == "active-pattern":
            pattern = el.get("id") or el.get("name") or ""
        elif tag in ("failed-assert", "successful-report"):
            text = el.find(f"{{{SVRL}}}text")
            message = " ".join("".join(text.itertext()).split()) if text is not None else ""
            ident = el.get("id") or ""
            see = el.get("see") or ""
            out.append(
                CdaFinding(
                    profile=profile,
                    rule=rule,
                    severity=severity(el, "error" if tag == "failed-assert" else "warning"),
                    message=message or f"test non satisfait : {el.get('test', '')}",
                    location=el.get("location") or "",
                    pattern="/".join(p for p in (pattern, ident) if p),
                    reference=reference + (f" — {see}" if see else ""),
                    version=version,
                )
            )
    return out
