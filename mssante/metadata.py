"""METADATA.XML of an IHE_XDM archive: ebRIM 3.0 `lcm:SubmitObjectsRequest` (IHE ITI TF-3 §4.2,
French XDS conventions of the CI-SIS; research mssante.md §2.2).

    meta = parse(xml_bytes)               `Metadata` (submission set + one `Entry` per document),
                                          or MetadataError (French) when it is not XML / not ebRIM
    xml = build(documents, ...)           our own METADATA.XML from the CDA headers

The writer follows IHE XDS (classification and identification scheme UUIDs below) with the
values the ANS stylesheet CDAHeaderToXDM.xsl derives from the CDA header (typeCode, title,
creationTime, languageCode, confidentialityCode, healthcareFacilityTypeCode, practiceSettingCode,
serviceStart/StopTime, sourcePatientInfo PID-5/7/8, authorPerson, authorInstitution,
authorSpecialty, formatCode, uniqueId), plus what the stylesheet leaves as placeholders (hash,
size, URI, submissionTime, sourceId, patientId in CX form `ins^^^&oid&ISO^NH`) and the XDM
`intendedRecipient` of the submission set. The reader identifies objects by these UUIDs and, for
leniency, an ExternalIdentifier also by its Name (`XDSDocumentEntry.uniqueId`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from xml.sax.saxutils import quoteattr

from lxml import etree

from mssante.cda_header import Header

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


# -- writing ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Document:
    """A CDA to describe: its bytes, its file name in the subset, its header."""

    uri: str
    data: bytes
    header: Header
    confidentiality: tuple[tuple[str, str, str], ...] = ()  # extra codes: (code, scheme, name)


def _dtm(ts: str) -> str:
    """HL7 TS (local time with offset) -> XDS DTM in UTC (IHE ITI TF-3 4.2.3.1.7)."""
    match = re.match(r"^(\d{4,14})(?:\.\d+)?([+-]\d{4})?$", ts.strip())
    if not match:
        return ts
    digits, zone = match.groups()
    if not zone or len(digits) < 10:
        return digits
    moment = datetime.strptime(digits.ljust(14, "0"), "%Y%m%d%H%M%S")
    sign = 1 if zone[0] == "+" else -1
    moment -= sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[3:5]))
    return moment.strftime("%Y%m%d%H%M%S")[: len(digits)]


def _slot(name: str, *values: str) -> str:
    vals = "".join(f"<Value>{_esc(v)}</Value>" for v in values)
    return f'<Slot name="{name}"><ValueList>{vals}</ValueList></Slot>'


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _name(value: str) -> str:
    return f'<Name><LocalizedString xml:lang="FR" charset="UTF8" value={quoteattr(value)}/></Name>'


def _coded(cid: str, scheme: str, obj: str, code: str, system: str, display: str) -> str:
    return (
        f'<Classification id="{cid}" classificationScheme="{scheme}" classifiedObject="{obj}" '
        f"nodeRepresentation={quoteattr(code)}>{_slot('codingScheme', system)}{_name(display)}</Classification>"
    )


def _ident(eid: str, scheme: str, obj: str, value: str, label: str) -> str:
    return (
        f'<ExternalIdentifier id="{eid}" registryObject="{obj}" identificationScheme="{scheme}" '
        f"value={quoteattr(value)}>{_name(label)}</ExternalIdentifier>"
    )


def author_person(h: Header) -> str:
    a = h.author
    return f"{a.id}^{a.family}^{a.given}^^^^^^&{a.root or '1.2.250.1.71.4.2.1'}&ISO^D^^^IDNPS"


def author_institution(h: Header) -> str:
    a = h.author
    return f"{a.org_name}^^^^^&{a.org_root or '1.2.250.1.71.4.2.2'}&ISO^IDNST^^^{a.org_id}"


def patient_cx(h: Header) -> str:
    return f"{h.ins}^^^&{h.ins_root}&ISO^NH" if h.ins else ""


def format_code(h: Header) -> tuple[str, str, str]:
    if h.level == "N1":
        label = (
            "Document à corps non structuré en Pdf/A-1"
            if h.media_type == "application/pdf"
            else "Document à corps non structuré en texte brut"
        )
        return N1_FORMATS.get(h.media_type, ""), "1.3.6.1.4.1.19376.1.2.3", label
    for root, _ in h.template_ids:
        if root in N3_FORMATS:
            code, label = N3_FORMATS[root]
            return (
                code,
                "1.3.6.1.4.1.19376.1.2.3" if code.startswith("urn:ihe") else "1.2.250.1.213.1.1.4.2.282",
                label,
            )
    return "urn:asipSante:modelesHorsProfils:2011", "1.2.250.1.213.1.1.4.2.282", "Modèle hors profils"


def _author(cid: str, scheme: str, obj: str, h: Header) -> str:
    a = h.author
    spec = f"{a.code.code}^{a.code.display}^{a.code.system}" if a.code.code else ""
    slots = _slot("authorPerson", author_person(h)) + _slot("authorInstitution", author_institution(h))
    if spec:
        slots += _slot("authorSpecialty", spec)
    return f'<Classification id="{cid}" classificationScheme="{scheme}" classifiedObject="{obj}" nodeRepresentation="">{slots}</Classification>'


def _extrinsic(n: int, doc: Document) -> str:
    h, obj = doc.header, f"Document{n:02d}"
    pid = patient_cx(h)
    fmt = format_code(h)
    klass = CLASSES.get(h.code.code, ("10", "Compte rendu"))
    parts = [
        f'<ExtrinsicObject id="{obj}" mimeType="text/xml" objectType="{STABLE}">',
        _slot("creationTime", _dtm(h.effective_time)),
        _slot("hash", hashlib.sha1(doc.data).hexdigest()),
        _slot("languageCode", h.language),
    ]
    if h.legal.id:
        legal = h.legal
        parts.append(
            _slot(
                "legalAuthenticator",
                f"{legal.id}^{legal.family}^{legal.given}^^^^^^&{legal.root}&ISO^D^^^IDNPS",
            )
        )
    if h.service_start:
        parts.append(_slot("serviceStartTime", _dtm(h.service_start)))
    if h.service_stop:
        parts.append(_slot("serviceStopTime", _dtm(h.service_stop)))
    parts += [
        _slot("size", str(len(doc.data))),
        _slot("sourcePatientId", pid),
        _slot(
            "sourcePatientInfo",
            f"PID-5|{h.family}^{h.given}^^^^^L",
            f"PID-7|{h.birth_time[:8]}",
            f"PID-8|{h.sex}",
        ),
        _slot("URI", doc.uri),
        _name(h.title),
        _author(f"{obj}_a", DOC["author"], obj, h),
        _coded(f"{obj}_c1", DOC["classCode"], obj, klass[0], "1.2.250.1.213.1.1.4.1", klass[1]),
        _coded(
            f"{obj}_c2",
            DOC["confidentialityCode"],
            obj,
            h.confidentiality.code,
            h.confidentiality.system,
            h.confidentiality.display,
        ),
    ]
    for i, (code, scheme, name) in enumerate(doc.confidentiality, start=3):
        parts.append(_coded(f"{obj}_c{i}", DOC["confidentialityCode"], obj, code, scheme, name))
    if h.service_code.code:
        parts.append(
            _coded(
                f"{obj}_ev",
                DOC["eventCodeList"],
                obj,
                h.service_code.code,
                h.service_code.system,
                h.service_code.display,
            )
        )
    parts += [
        _coded(f"{obj}_f", DOC["formatCode"], obj, *fmt),
        _coded(
            f"{obj}_hf",
            DOC["healthcareFacilityTypeCode"],
            obj,
            h.facility.code,
            h.facility.system,
            h.facility.display,
        ),
        _coded(
            f"{obj}_ps",
            DOC["practiceSettingCode"],
            obj,
            h.practice.code,
            h.practice.system,
            h.practice.display,
        ),
        _coded(f"{obj}_t", DOC["typeCode"], obj, h.code.code, h.code.system, h.code.display),
        _ident(f"{obj}_pid", DOC["patientId"], obj, pid, "XDSDocumentEntry.patientId"),
        _ident(f"{obj}_uid", DOC["uniqueId"], obj, h.unique_id, "XDSDocumentEntry.uniqueId"),
        "</ExtrinsicObject>",
    ]
    return "".join(parts)


def build(
    documents: Sequence[Document],
    *,
    submission_time: str,
    source_id: str,
    unique_id: str,
    recipients: Sequence[str] = (),
    content_type: tuple[str, str] = ("04", "Hospitalisation de jour"),
) -> bytes:
    """METADATA.XML for `documents` (one submission set, one DocumentEntry each). `recipients`
    are e-mail addresses (the XDM intendedRecipient, XTN `|^^Internet^address`)."""
    assert documents, "a submission set describes at least one document"
    first = documents[0].header
    ss = "SubmissionSet01"
    package = [
        f'<RegistryPackage id="{ss}">',
        _slot("submissionTime", submission_time),
    ]
    if recipients:
        package.append(_slot("intendedRecipient", *[f"|^^Internet^{r}" for r in recipients]))
    package += [
        _name(first.title if len(documents) == 1 else f"{len(documents)} documents"),
        _author(f"{ss}_a", SS["author"], ss, first),
        _coded(f"{ss}_ct", SS["contentTypeCode"], ss, content_type[0], "1.2.250.1.213.2.2", content_type[1]),
        _ident(f"{ss}_pid", SS["patientId"], ss, patient_cx(first), "XDSSubmissionSet.patientId"),
        _ident(f"{ss}_src", SS["sourceId"], ss, source_id, "XDSSubmissionSet.sourceId"),
        _ident(f"{ss}_uid", SS["uniqueId"], ss, unique_id, "XDSSubmissionSet.uniqueId"),
        "</RegistryPackage>",
        f'<Classification id="{ss}_node" classifiedObject="{ss}" classificationNode="{SUBMISSION_SET_NODE}"/>',
    ]
    body = "".join(package) + "".join(_extrinsic(n, d) for n, d in enumerate(documents, start=1))
    body += "".join(
        f'<Association id="as{n:02d}" associationType="urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember" '
        f'sourceObject="{ss}" targetObject="Document{n:02d}">{_slot("SubmissionSetStatus", "Original")}</Association>'
        for n in range(1, len(documents) + 1)
    )
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<lcm:SubmitObjectsRequest xmlns:lcm="{LCM}" xmlns="{RIM}"><RegistryObjectList>{body}'
        "</RegistryObjectList></lcm:SubmitObjectsRequest>\n"
    )
    return xml.encode("utf-8")
