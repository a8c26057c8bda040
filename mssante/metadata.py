"""METADATA.XML of an IHE_XDM archive: ebRIM 3.0 `lcm:SubmitObjectsRequest` (IHE ITI TF-3 §4.2,
French XDS conventions of the CI-SIS; research mssante.md §2.2).

    meta = parse(xml_bytes)               `Metadata` (submission set + one `Entry` per document),
                                          or MetadataError (French) when it is not XML / not ebRIM

The reader identifies objects by the IHE XDS classification and identification scheme UUIDs
below and, for leniency, an ExternalIdentifier also by its Name (`XDSDocumentEntry.uniqueId`).
Our own writer is mssante.metadata_write.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

LCM = "urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0"
RIM = "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"
NS = {"lcm": LCM, "rim": RIM}
STABLE = "urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1"  # DocumentEntry objectType
SUBMISSION_SET_NODE = "urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd"
DOC = {
    "author": "urn:uuid:93606bcf-9494-43ec-9b4e-a7748d1a838d",
    "classCode": "urn:uuid:41a5887f-8865-4c09-adf7-e362475b143a",
    "confidentialityCode": "urn:uuid:f4f85eac-e6cb-4883-b524-f2705394840f",
    "eventCodeList": "urn:uuid:2c6b8cb7-8b2a-4051-b291-b1ae6a575ef4",
    "formatCode": "urn:uuid:a09d5840-386c-46f2-b5ad-9c3699a4309d",
    "healthcareFacilityTypeCode": "urn:uuid:f33fb8ac-18af-42cc-ae0e-ed0b0bdb91e1",
    "practiceSettingCode": "urn:uuid:cccf5598-8b07-4b77-a05e-ae952c785ead",
    "typeCode": "urn:uuid:f0306f51-975f-434e-a61c-c59651d33983",
    "patientId": "urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427",
    "uniqueId": "urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab",
}
SS = {
    "author": "urn:uuid:a7058bb9-b4e4-4307-ba5b-e3f0ab85e12d",
    "contentTypeCode": "urn:uuid:aa543740-bdda-424e-8c96-df4873be8500",
    "patientId": "urn:uuid:6b5aea1a-874d-4603-a4bc-96a0a7b38446",
    "sourceId": "urn:uuid:554ac39e-e3fe-47fe-b233-965d2a147832",
    "uniqueId": "urn:uuid:96fdda7c-d067-4183-912e-bf5ee74998a8",
}
PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
MAX_BYTES = 5 * 1024 * 1024
N1_FORMATS = {"application/pdf": "urn:ihe:iti:xds-sd:pdf:2008", "text/plain": "urn:ihe:iti:xds-sd:text:2008"}
# formatCode of the N3 templates we generate (the ANS stylesheet's table, JDV_J10)
N3_FORMATS = {
    "1.3.6.1.4.1.19376.1.3.3": (
        "urn:ihe:lab:xd-lab:2008",
        "Compte rendu structuré d’examens de biologie médicale",
    ),
    "1.2.250.1.213.1.1.1.13": ("urn:asip:ci-sis:vsm:2012", "Volet de Synthèse Médicale"),
}
# classCode (TRE_A03-ClasseDocument, 1.2.250.1.213.1.1.4.1) of the types we generate [inferred]
CLASSES = {"SYNTH": ("11", "Synthèse")}
CONFIDENTIALITY_SCHEME = "1.2.250.1.213.1.1.4.13"  # MASQUE_PS, INVISIBLE_PATIENT, ...


class MetadataError(ValueError):
    """METADATA.XML that is not XML or not a SubmitObjectsRequest (French message)."""


@dataclass(frozen=True)
class Coded:
    code: str
    scheme: str = ""
    name: str = ""


@dataclass
class Entry:
    """One XDSDocumentEntry (ExtrinsicObject)."""

    id: str
    mime_type: str = ""
    slots: dict[str, list[str]] = field(default_factory=dict)
    codes: dict[str, list[Coded]] = field(default_factory=dict)  # classification name -> codes
    authors: list[dict[str, list[str]]] = field(default_factory=list)  # slots of each author
    identifiers: dict[str, str] = field(default_factory=dict)  # uniqueId, patientId
    title: str = ""

    def slot(self, name: str) -> str:
        values = self.slots.get(name) or []
        return values[0].strip() if values else ""

    def code(self, name: str) -> Coded | None:
        found = self.codes.get(name) or []
        return found[0] if found else None

    @property
    def uri(self) -> str:
        return self.slot("URI")

    @property
    def unique_id(self) -> str:
        return self.identifiers.get("uniqueId", "")

    @property
    def patient_id(self) -> str:
        return self.identifiers.get("patientId", "")

    @property
    def confidentiality(self) -> list[str]:
        return [c.code for c in self.codes.get("confidentialityCode", [])]

    def xds(self) -> dict[str, object]:
        """The mapping the CDA engine's XDS rules compare with the header (mocks.cda Context.xds)."""
        out: dict[str, object] = {}
        for key in ("typeCode", "practiceSettingCode", "healthcareFacilityTypeCode", "formatCode"):
            c = self.code(key)
            if c is not None:
                out[key] = {"code": c.code, "scheme": c.scheme}
        if "confidentialityCode" in self.codes:
            out["confidentialityCode"] = self.confidentiality
        for key in ("languageCode", "creationTime", "serviceStartTime", "serviceStopTime"):
            if self.slot(key):
                out[key] = self.slot(key)
        if self.unique_id:
            out["uniqueId"] = self.unique_id
        if self.patient_id:
            out["patientId"] = self.patient_id
        return out


@dataclass
class Metadata:
    submission_set: Entry | None
    entries: list[Entry]
    intended_recipients: list[str] = field(default_factory=list)


def _localized(el: etree._Element, tag: str) -> str:
    found = el.find(f"rim:{tag}/rim:LocalizedString", NS)
    return str(found.get("value") or "") if found is not None else ""


def _slots(el: etree._Element) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for slot in el.findall("rim:Slot", NS):
        out.setdefault(str(slot.get("name") or ""), []).extend(
            (v.text or "") for v in slot.findall("rim:ValueList/rim:Value", NS)
        )
    return out


def _entry(el: etree._Element, schemes: dict[str, str]) -> Entry:
    by_uuid = {v: k for k, v in schemes.items()}
    entry = Entry(
        str(el.get("id") or ""), str(el.get("mimeType") or ""), _slots(el), title=_localized(el, "Name")
    )
    for cl in el.findall("rim:Classification", NS):
        name = by_uuid.get(str(cl.get("classificationScheme") or ""))
        if name == "author":
            entry.authors.append(_slots(cl))
        elif name:
            scheme = (_slots(cl).get("codingScheme") or [""])[0].strip()
            entry.codes.setdefault(name, []).append(
                Coded(str(cl.get("nodeRepresentation") or ""), scheme, _localized(cl, "Name"))
            )
    for ei in el.findall("rim:ExternalIdentifier", NS):
        name = by_uuid.get(str(ei.get("identificationScheme") or ""))
        if name is None:  # lenient: the identifier's Name (XDSDocumentEntry.uniqueId)
            label = _localized(ei, "Name")
            name = label.rpartition(".")[2] if label.startswith("XDS") else None
        if name in ("uniqueId", "patientId", "sourceId"):
            entry.identifiers[name] = str(ei.get("value") or "").strip()
    return entry


def parse(data: bytes) -> Metadata:
    if len(data) > MAX_BYTES:
        raise MetadataError(f"METADATA.XML de {len(data)} octets (au plus {MAX_BYTES})")
    try:
        root = etree.fromstring(data, PARSER)
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise MetadataError(f"METADATA.XML n'est pas du XML bien formé : {exc}") from None
    if root.tag != f"{{{LCM}}}SubmitObjectsRequest":
        raise MetadataError(f"racine {root.tag} : lcm:SubmitObjectsRequest ({LCM}) attendu (ebRIM 3.0)")
    objects = root.find("rim:RegistryObjectList", NS)
    if objects is None:
        raise MetadataError("SubmitObjectsRequest sans rim:RegistryObjectList")
    package = objects.find("rim:RegistryPackage", NS)
    ss = _entry(package, SS) if package is not None else None
    entries = [
        _entry(el, DOC)
        for el in objects.findall("rim:ExtrinsicObject", NS)
        if str(el.get("objectType") or STABLE) == STABLE
    ]
    recipients = (ss.slots.get("intendedRecipient") if ss else None) or []
    return Metadata(ss, entries, [r.strip() for r in recipients])
