"""The value sets of the DMP's XDS metadata (JDV_J57 to J66-*-DMP, research dmp.md §2.5), as
`(code, codingScheme)` pairs per metadata attribute:

    sets = value_sets(cda_data_root)          # cached per folder
    sets["classCode"].judge(code) -> None | (severity, why)

Where the codes come from:
- the CI-SIS sets the CDA engine's validator data ships (TestContenuCDA-3-0/jeuxDeValeurs), when it
  is installed: J07 XdsTypeCode (the fallback of J66-TypeCode-DMP), J04 XdsPracticeSettingCode
  (J62), J08 XdsConfidentialityCode (J58); the DMP's own sets are not public: a typeCode outside
  J07 is a warning only, J66 being wider [inferred];
- data/nomenclatures/secteurs.csv (JDV_J02, the values of J61 HealthcareFacilityTypeCode);
- the research's lists where no data is installed: J57 ClassCode (TRE_A03), the J62 codes of the
  official TD3.1 answer, N/R/V and the TRE_A07 visibility codes;
- codingScheme only (the codes are not public): J59 ContentTypeCode, J60 FormatCode.
The lot's XAdES carries fixed codes (official TD2.1): they are part of each set.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

from lxml import etree

from mocks.population import nomenclatures

SVS = "urn:ihe:iti:svs:2008"

CLASS_SCHEME = "1.2.250.1.213.1.1.4.1"  # TRE_A03
CONFIDENTIALITY_SCHEME = "2.16.840.1.113883.5.25"
VISIBILITY_SCHEME = "1.2.250.1.213.1.1.4.13"  # TRE_A07
FORMAT_SCHEME = "1.3.6.1.4.1.19376.1.2.3"
HCF_SCHEME = "1.2.250.1.71.4.2.4"
PRACTICE_SCHEME = "1.2.250.1.213.1.1.4.9"
LOINC = "2.16.840.1.113883.6.1"
CONTENT_TYPE_SCHEME = "1.2.250.1.213.2.2"
# the fixed codes of the lot's XAdES (official TD2.1 request)
SIGNATURE = {
    "classCode": ("urn:oid:1.3.6.1.4.1.19376.1.2.1.1.1", "URN"),
    "typeCode": ("E1762", "ASTM"),
    "formatCode": ("http://www.w3.org/2000/09/xmldsig#", "URN"),
}
J57 = ("10", "11", "31", "42", "43", "44", "45", "52", "60", "90", "95")
J62 = ("AMBULATOIRE", "ETABLISSEMENT", "HAD", "SAD", "SAMU_SMUR", "PALLIATIF", "DEPISTAGE", "MAD")
FILES = {
    "typeCode": "JDV_J07_XdsTypeCode_CISIS.xml",
    "practiceSettingCode": "JDV_J04_XdsPracticeSettingCode_CISIS.xml",
    "confidentialityCode": "JDV_J08_XdsConfidentialityCode_CISIS.xml",
}
Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class ValueSet:
    name: str  # the DMP value set
    schemes: frozenset[str]
    codes: frozenset[tuple[str, str]] | None  # None: the codingScheme alone is checked
    outside: Severity = "error"  # a code outside the list (warning: a narrower fallback list)
    source: str = "research"

    def judge(self, code: str, scheme: str) -> tuple[Severity, str] | None:
        """None when (code, scheme) belongs to the set, else the severity and why (French)."""
        if scheme not in self.schemes:
            expected = " ou ".join(sorted(self.schemes))
            return "error", f"codingScheme « {scheme or '(absent)'} » : {expected} attendu ({self.name})"
        if self.codes is not None and (code, scheme) not in self.codes:
            return self.outside, f"code « {code} » absent de {self.name} ({self.source})"
        return None


def _svs(path: Path) -> frozenset[tuple[str, str]] | None:
    """The (code, codeSystem) concepts of an SVS value-set file, None when unreadable."""
    try:
        root = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True)).getroot()
    except (OSError, etree.XMLSyntaxError):
        return None
    return frozenset((c.get("code", ""), c.get("codeSystem", "")) for c in root.iter(f"{{{SVS}}}Concept"))


def _secteurs() -> frozenset[tuple[str, str]]:
    return frozenset((code, HCF_SCHEME) for code in nomenclatures.secteurs())


@cache
def value_sets(data_root: Path | None) -> dict[str, ValueSet]:
    """The sets by metadata attribute; `data_root`: the CDA validator data folder (or None)."""
    folder = data_root / "jeuxDeValeurs" if data_root is not None else None
    installed = {
        key: _svs(folder / name) if folder is not None and (folder / name).is_file() else None
        for key, name in FILES.items()
    }
    sig = {k: frozenset({v}) for k, v in SIGNATURE.items()}
    types = installed["typeCode"]
    practice = installed["practiceSettingCode"]
    confidentiality = installed["confidentialityCode"]
    return {
        "classCode": ValueSet(
            "JDV_J57-ClassCode-DMP",
            frozenset({CLASS_SCHEME, "URN"}),
            frozenset((c, CLASS_SCHEME) for c in J57) | sig["classCode"],
        ),
        "typeCode": ValueSet(
            "JDV_J66-TypeCode-DMP",
            frozenset({LOINC, "ASTM", "1.2.250.1.213.1.1.4.12"}),
            (types | sig["typeCode"]) if types is not None else None,
            outside="warning",
            source="repli JDV_J07-XdsTypeCode-CISIS",
        ),
        "formatCode": ValueSet("JDV_J60-FormatCode-DMP", frozenset({FORMAT_SCHEME, "URN"}), None),
        "healthcareFacilityTypeCode": ValueSet(
            "JDV_J61-HealthcareFacilityTypeCode-DMP", frozenset({HCF_SCHEME}), _secteurs(), source="TRE_R02"
        ),
        "practiceSettingCode": ValueSet(
            "JDV_J62-PracticeSettingCode-DMP",
            frozenset({PRACTICE_SCHEME}),
            practice if practice is not None else frozenset((c, PRACTICE_SCHEME) for c in J62),
            source="JDV_J04-XdsPracticeSettingCode-CISIS" if practice is not None else "research",
        ),
        "confidentialityCode": ValueSet(
            "JDV_J58-ConfidentialityCode-DMP",
            frozenset({CONFIDENTIALITY_SCHEME, VISIBILITY_SCHEME}),
            confidentiality
            if confidentiality is not None
            else frozenset(
                [(c, CONFIDENTIALITY_SCHEME) for c in "NRV"]
                + [
                    (c, VISIBILITY_SCHEME)
                    for c in ("MASQUE_PS", "INVISIBLE_PATIENT", "INVISIBLE_REPRESENTANTS_LEGAUX")
                ]
            ),
        ),
        "contentTypeCode": ValueSet("JDV_J59-ContentTypeCode-DMP", frozenset({CONTENT_TYPE_SCHEME}), None),
    }
