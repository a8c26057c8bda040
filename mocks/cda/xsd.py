"""XSD validation of the CDA against the release's `infrastructure/cda/CDA_extended.xsd` (CDA R2 +
SDTC, IHE lab, pharmacy and DICOM extensions, all imported by relative paths), with lxml."""

from __future__ import annotations

from pathlib import Path

from lxml import etree

from mocks.cda.report import XSD, CdaFinding

MAX_ERRORS = 100


class Xsd:
    def __init__(self, path: Path, version: str):
        parser = etree.XMLParser(no_network=True, resolve_entities=False)
        self.schema = etree.XMLSchema(etree.parse(str(path), parser))
        self.reference = f"{path.parent.parent.name}/{path.parent.name}/{path.name}"
        self.version = version

    def check(self, doc: etree._Element) -> list[CdaFinding]:
        if self.schema.validate(doc):
            return []
        out = []
        for entry in list(self.schema.error_log)[:MAX_ERRORS]:
            out.append(
                CdaFinding(
                    profile=XSD,
                    rule="CDA-XSD",
                    severity="error",
                    message=entry.message,
                    location=entry.path or "",
                    pattern=f"ligne {entry.line}",
                    reference=self.reference,
                    version=self.version,
                )
            )
        return out
