"""Which schematrons judge a document: StrucMin for every one, plus the volet chosen from the
document's `templateId@root` + `@extension`, in the spirit of the ANS `mapping.properties`
(M-Priour/validateCDA, the tool TestContenuCDA-3-0's CI runs; research/cda-segur.md §A.6, §C.1).

Differences from mapping.properties, each from the release's own files: names follow the files
that exist (`CI-SIS_EP-MED-DM_2024.01.sch`, `CSE-CS24` 2024.01 → its 2024.01 file, not 2025.01);
VSM 1.4 is matched with its example's extension `201310`; an N1 (nonXMLBody) whose code is a
télémédecine report (85208-7) gets the TLM-CR volet, as the ANS example TLM-CR_2022.01.xml names
it (`<?oxygen SCHSchema="../schematrons/CI-SIS_TLM-CR_2022.01.sch"?>`).
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from mocks.cda.data import STRUCMIN

HL7 = "urn:hl7-org:v3"
STRUCMIN_NAME = "StrucMin"

# (templateId root, extension or "") -> volet (schematrons/CI-SIS_<volet>.sch)
TEMPLATES: dict[tuple[str, str], str] = {
    ("1.2.250.1.213.1.1.1.51", "2024.01"): "IPS-FR_2024.01",
    ("1.2.250.1.213.1.1.1.59", "2024.01"): "BIO-TROD_2024.01",
    ("1.2.250.1.213.1.1.1.40", "2022.01"): "ANEST-CR-ANEST_2022.01",
    ("1.2.250.1.213.1.1.1.41", "2022.01"): "ANEST-CR-CPA_2022.01",
    ("1.2.250.1.213.1.1.1.15", "2022.01"): "AVC-AUNV_2022.01",
    ("1.2.250.1.213.1.1.1.16", "2022.01"): "AVC-EUNV_2022.01",
    ("1.2.250.1.213.1.1.1.25", "2022.01"): "AVC-PAVC_2022.01",
    ("1.2.250.1.213.1.1.1.17", "2022.01"): "AVC-SUNV_2022.01",
    ("1.2.250.1.213.1.1.1.55", ""): "BIO-CR-BIO_2021.01",
    ("1.2.250.1.213.1.1.1.55", "2021.01"): "BIO-CR-BIO_2021.01",
    ("1.2.250.1.213.1.1.1.55", "2023.01"): "BIO-CR-BIO_2023.01",
    ("1.2.250.1.213.1.1.1.55", "2024.01"): "BIO-CR-BIO_2024.01",
    ("1.2.250.1.213.1.1.1.32", "2022.01"): "CANCER-CR-GM_2022.01",
    ("1.2.250.1.213.1.1.1.28", "2022.01"): "CANCER-D2LM-FIDD_2022.01",
    ("1.2.250.1.213.1.1.1.27", "2022.01"): "CANCER-D2LM-FIN_2022.01",
    ("1.2.250.1.213.1.1.1.8", "2022.01"): "CANCER-FRCP_2022.01",
    ("1.2.250.1.213.1.1.1.26", "2022.01"): "CANCER-PPS_2022.01",
    ("1.2.250.1.213.1.1.1.2.1.1", "2022.01"): "CARD-F-PRC-AVK_2022.01",
    ("1.2.250.1.213.1.1.1.2.1.3", "2022.01"): "CARD-F-PRC-DCI_2022.01",
    ("1.2.250.1.213.1.1.1.2.1.5", "2022.01"): "CARD-F-PRC-PPV_2022.01",
    ("1.2.250.1.213.1.1.1.2.1.4", "2022.01"): "CARD-F-PRC-PSC_2022.01",
    ("1.2.250.1.213.1.1.1.2.1.2", "2022.01"): "CARD-F-PRC-TAP_2022.01",
    ("1.2.250.1.213.1.1.1.36", "2021.01"): "CNAM-HR_2021.01",
    ("1.2.250.1.213.1.1.1.5.3", "2022.01"): "CSE-CS24_2022.01",
    ("1.2.250.1.213.1.1.1.5.3", "2024.01"): "CSE-CS24_2024.01",
    ("1.2.250.1.213.1.1.1.5.3", "2025.01"): "CSE-CS24_2025.01",
    ("1.2.250.1.213.1.1.1.5.1", "2022.01"): "CSE-CS8_2022.01",
    ("1.2.250.1.213.1.1.1.5.1", "2024.01"): "CSE-CS8_2024.01",
    ("1.2.250.1.213.1.1.1.5.1", "2025.01"): "CSE-CS8_2025.01",
    ("1.2.250.1.213.1.1.1.5.2", "2022.01"): "CSE-CS9_2022.01",
    ("1.2.250.1.213.1.1.1.5.2", "2024.01"): "CSE-CS9_2024.01",
    ("1.2.250.1.213.1.1.1.5.2", "2025.01"): "CSE-CS9_2025.01",
    ("1.2.250.1.213.1.1.1.5.4", "2023.01"): "CSE-MDE_2023.01",
    ("1.2.250.1.213.1.1.1.22", "2022.01"): "DLU-EHPAD-DLU_2022.01",
    ("1.2.250.1.213.1.1.1.24", "2022.01"): "DLU-EHPAD-FLUDR_2022.01",
    ("1.2.250.1.213.1.1.1.23", "2022.01"): "DLU-EHPAD-FLUDT_2022.01",
    ("1.2.250.1.213.1.1.1.54", "2024.01"): "eDISP-MED_2024.01",
    ("1.2.250.1.213.1.1.1.39", "2022.01"): "EP-MED-DM_2022.01",
    ("1.2.250.1.213.1.1.1.39", "2023.01"): "EP-MED-DM_2023.01",
    ("1.2.250.1.213.1.1.1.39", "2024.01"): "EP-MED-DM_2024.01",
    ("1.2.250.1.213.1.1.1.45", "2024.01"): "IMG-CR-IMG_2024.01",
    ("1.2.250.1.213.1.1.1.47", "2024.01"): "IMG-DA-IMG_2024.01",
    ("1.2.250.1.213.1.1.1.21", "2022.01"): "LDL-EES_2022.01",
    ("1.2.250.1.213.1.1.1.29", "2022.01"): "LDL-SES_2022.01",
    ("1.2.250.1.213.1.1.1.12.1", "2024.01"): "OBP-SAP_2024.01",
    ("1.2.250.1.213.1.1.1.12.4", "2024.01"): "OBP-SCM_2024.01",
    ("1.2.250.1.213.1.1.1.12.5", "2024.01"): "OBP-SEM_2024.01",
    ("1.2.250.1.213.1.1.1.12.3", "2024.01"): "OBP-SNE_2024.01",
    ("1.2.250.1.213.1.1.1.12.2", "2024.01"): "OBP-SNM_2024.01",
    ("1.2.250.1.213.1.1.1.42", "2022.01"): "OPH-BRE_2022.01",
    ("1.2.250.1.213.1.1.1.42", "2022.02"): "OPH-BRE_2022.02",
    ("1.2.250.1.213.1.1.1.18", "2022.01"): "OPH-CR-RTN_2022.01",
    ("1.2.250.1.213.1.1.1.30", "2022.01"): "SDM-MR_2022.01",
    ("1.2.250.1.213.1.1.1.30", "2024.01"): "SDM-MR_2024.01",
    ("1.2.250.1.213.1.1.1.38", "2022.01"): "TLM-DA_2022.01",
    ("1.2.250.1.213.1.1.1.46", "2023.01"): "VAC-NOTE_2023.01",
    ("1.2.250.1.213.1.1.1.37", "2023.01"): "VAC_2023.01",
    ("1.2.250.1.213.1.1.1.13", ""): "VSM_1.4_2022.01",
    ("1.2.250.1.213.1.1.1.13", "201310"): "VSM_1.4_2022.01",
    ("1.2.250.1.213.1.1.1.13", "2022.01"): "VSM_1.4_2022.01",
    ("1.2.250.1.213.1.1.1.13", "2023.01"): "VSM_2023.01",
}
# N1 documents (nonXMLBody) carry no volet templateId: by document code
N1_CODES: dict[str, str] = {"85208-7": "TLM-CR_2022.01"}
# templateIds every document carries (HL7 France, CI-SIS, IHE XDS-SD for N1): not a volet
COMMON_TEMPLATES = {"2.16.840.1.113883.2.8.2.1", "1.2.250.1.213.1.1.1.1", "1.3.6.1.4.1.19376.1.2.20"}


@dataclass(frozen=True)
class Dispatch:
    level: str  # "N1" (nonXMLBody) or "N3" (structuredBody)
    volet: str | None  # e.g. "VSM_1.4_2022.01"; None: StrucMin only
    why: str  # in French, for the report: how the volet was chosen, or why none


def path_of(profile: str) -> str:
    """The entry schematron of a profile, relative to the data root."""
    return STRUCMIN if profile == STRUCMIN_NAME else f"schematrons/CI-SIS_{profile}.sch"


def choose(doc: etree._Element) -> Dispatch:
    """The volet of a ClinicalDocument element."""
    level = "N1" if doc.find(f"{{{HL7}}}component/{{{HL7}}}nonXMLBody") is not None else "N3"
    templates = [(t.get("root", ""), t.get("extension", "")) for t in doc.findall(f"{{{HL7}}}templateId")]
    for key in templates:
        if key in TEMPLATES:
            return Dispatch(level, TEMPLATES[key], f"templateId {key[0]}{'@' + key[1] if key[1] else ''}")
    if level == "N1":
        code = doc.find(f"{{{HL7}}}code")
        value = code.get("code", "") if code is not None else ""
        if value in N1_CODES:
            return Dispatch(level, N1_CODES[value], f"document non structuré de code {value}")
        return Dispatch(level, None, "document non structuré (N1) : structuration minimale seule")
    others = [f"{r}{'@' + e if e else ''}" for r, e in templates if r not in COMMON_TEMPLATES]
    if not others:
        return Dispatch(level, None, "aucun templateId de volet : structuration minimale seule")
    return Dispatch(
        level,
        None,
        f"templateId de volet inconnu de la table ({', '.join(others)}) : structuration minimale seule",
    )
