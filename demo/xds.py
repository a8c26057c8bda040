"""XDS.b metadata (ebRIM 3.0) of a letter, as the DMP (ITI-41, ITI-57) and the IHE_XDM archive
(METADATA.XML) want it: research dmp.md §2.4–2.5 (the official TD2.1 request is the model: the
classification and identifier UUIDs, codingScheme slots, XCN/XON formats, UTC times, the XAdES
ExtrinsicObject with its fixed codes and the `signs` association), mssante.md §2.2 (the `URI`,
`hash`, `size` slots of XDM). Codes: typeCode = the CDA code (LOINC), classCode 10 "Compte rendu"
[inferred from ASS_X04 for a letter], formatCode `urn:ihe:iti:xds-sd:pdf:2008` (N1 with PDF),
healthcareFacilityTypeCode and practiceSettingCode = the CDA header's.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from lxml import etree

from demo.cast import Cast
from demo.document import DOCUMENT_INS_OID, TYPE, Letter

RIM = "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"
LCM = "urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0"
XDSB = "urn:ihe:iti:xds-b:2007"
XOP = "http://www.w3.org/2004/08/xop/include"
DOCUMENT_ENTRY = "urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1"
SS_NODE = "urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd"
UUID = {
    "ss.author": "urn:uuid:a7058bb9-b4e4-4307-ba5b-e3f0ab85e12d",
    "ss.contentType": "urn:uuid:aa543740-bdda-424e-8c96-df4873be8500",
    "ss.patientId": "urn:uuid:6b5aea1a-874d-4603-a4bc-96a0a7b38446",
    "ss.sourceId": "urn:uuid:554ac39e-e3fe-47fe-b233-965d2a147832",
    "ss.uniqueId": "urn:uuid:96fdda7c-d067-4183-912e-bf5ee74998a8",
    "de.author": "urn:uuid:93606bcf-9494-43ec-9b4e-a7748d1a838d",
    "de.class": "urn:uuid:41a5887f-8865-4c09-adf7-e362475b143a",
    "de.confidentiality": "urn:uuid:f4f85eac-e6cb-4883-b524-f2705394840f",
    "de.event": "urn:uuid:2c6b8cb7-8b2a-4051-b291-b1ae6a575ef4",
    "de.format": "urn:uuid:a09d5840-386c-46f2-b5ad-9c3699a4309d",
    "de.hcf": "urn:uuid:f33fb8ac-18af-42cc-ae0e-ed0b0bdb91e1",
    "de.practice": "urn:uuid:cccf5598-8b07-4b77-a05e-ae952c785ead",
    "de.type": "urn:uuid:f0306f51-975f-434e-a61c-c59651d33983",
    "de.patientId": "urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427",
    "de.uniqueId": "urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab",
}
SOURCE_ID = "1.2.250.1.999.1.1.7898"  # the test sourceId root of the official examples
VISIBILITY = {
    "MASQUE_PS": "Masqué aux professionnels de santé",
    "INVISIBLE_PATIENT": "Non visible par le patient",
    "INVISIBLE_REPRESENTANTS_LEGAUX": "Non visible par les représentants légaux du patient",
}


def utc(when: datetime) -> str:
    return when.strftime("%Y%m%d%H%M%S")


def _r(parent: etree._Element, tag: str, **attrs: str) -> etree._Element:
    return etree.SubElement(parent, f"{{{RIM}}}{tag}", **attrs)


def slot(parent: etree._Element, name: str, *values: str) -> None:
    values_el = _r(_r(parent, "Slot", name=name), "ValueList")
    for value in values:
        _r(values_el, "Value").text = value


def _name(parent: etree._Element, tag: str, value: str) -> None:
    _r(
        _r(parent, tag),
        "LocalizedString",
        charset="UTF8",
        value=value,
        **{"{http://www.w3.org/XML/1998/namespace}lang": "FR"},
    )


def coded(
    parent: etree._Element, scheme: str, obj: str, ident: str, code: str, system: str, label: str
) -> None:
    cl = _r(
        parent,
        "Classification",
        classificationScheme=UUID[scheme],
        classifiedObject=obj,
        id=ident,
        nodeRepresentation=code,
    )
    slot(cl, "codingScheme", system)
    _name(cl, "Name", label)


def external(parent: etree._Element, scheme: str, obj: str, ident: str, value: str, label: str) -> None:
    ei = _r(
        parent,
        "ExternalIdentifier",
        id=ident,
        identificationScheme=UUID[scheme],
        registryObject=obj,
        value=value,
    )
    _name(ei, "Name", label)


class Ids:
    """Symbolic ids cla1, ei1... unique within one submission."""

    def __init__(self) -> None:
        self.n = 0

    def __call__(self, prefix: str) -> str:
        self.n += 1
        return f"{prefix}{self.n}"


def xcn(cast: Cast) -> str:
    return f"{cast.professional}^LEMAIRE^CAMILLE^^^^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS"


def xon(cast: Cast) -> str:
    return f"CENTRE DE SANTE DES LILAS^^^^^&1.2.250.1.71.4.2.2&ISO^IDNST^^^{cast.structure}"


def patient_cx(letter: Letter) -> str:
    return f"{letter.patient.ins}^^^&{DOCUMENT_INS_OID}&ISO^NH"


def _author(parent: etree._Element, scheme: str, obj: str, ids: Ids, cast: Cast) -> None:
    cl = _r(
        parent,
        "Classification",
        classificationScheme=UUID[scheme],
        classifiedObject=obj,
        id=ids("cla"),
        nodeRepresentation="",
    )
    slot(cl, "authorPerson", xcn(cast))
    slot(
        cl,
        "authorSpecialty",
        f"G15_{cast.profession}/{cast.specialty}^Médecin - Médecine Générale (SM)^1.2.250.1.213.1.1.4.5",
    )
    slot(cl, "authorInstitution", xon(cast))


def submission_set(
    parent: etree._Element,
    ids: Ids,
    cast: Cast,
    letter: Letter,
    unique_id: str,
    when: datetime,
    recipients: list[str] | None = None,
) -> None:
    ss = _r(parent, "RegistryPackage", id="SubmissionSet01")
    slot(ss, "submissionTime", utc(when))
    if recipients:
        slot(ss, "intendedRecipient", *recipients)
    _name(ss, "Name", letter.title)
    _author(ss, "ss.author", "SubmissionSet01", ids, cast)
    coded(
        ss,
        "ss.contentType",
        "SubmissionSet01",
        ids("cla"),
        "04",
        "1.2.250.1.213.2.2",
        "Hospitalisation de jour",
    )
    _r(ss, "Classification", classificationNode=SS_NODE, classifiedObject="SubmissionSet01", id=ids("cla"))
    external(
        ss, "ss.patientId", "SubmissionSet01", ids("ei"), patient_cx(letter), "XDSSubmissionSet.patientId"
    )
    external(ss, "ss.sourceId", "SubmissionSet01", ids("ei"), SOURCE_ID, "XDSSubmissionSet.sourceId")
    external(ss, "ss.uniqueId", "SubmissionSet01", ids("ei"), unique_id, "XDSSubmissionSet.uniqueId")


def document_entry(
    parent: etree._Element,
    ids: Ids,
    cast: Cast,
    letter: Letter,
    ident: str,
    *,
    visibility: tuple[str, ...] = (),
    uri: str | None = None,
    lid: str | None = None,
    status: str | None = None,
) -> etree._Element:
    attrs = {"id": ident, "mimeType": "text/xml", "objectType": DOCUMENT_ENTRY}
    if lid:
        attrs["lid"] = lid
    if status:
        attrs["status"] = status
    de = _r(parent, "ExtrinsicObject", **attrs)
    p = letter.patient
    slot(de, "creationTime", utc(letter.created))
    slot(de, "hash", hashlib.sha1(letter.cda).hexdigest())  # noqa: S324 - XDS mandates SHA-1
    slot(de, "languageCode", "fr-FR")
    slot(de, "legalAuthenticator", xcn(cast))
    slot(de, "serviceStartTime", utc(letter.created))
    slot(de, "serviceStopTime", utc(letter.created))
    slot(de, "size", str(len(letter.cda)))
    slot(de, "sourcePatientId", patient_cx(letter))
    slot(
        de,
        "sourcePatientInfo",
        f"PID-5|{p.nom}^{p.first_name}^^^^^L",
        f"PID-7|{p.naissance.replace('-', '')}",
        f"PID-8|{p.sexe}",
    )
    if uri:
        slot(de, "URI", uri)
    _name(de, "Name", letter.title)
    _author(de, "de.author", ident, ids, cast)
    coded(de, "de.class", ident, ids("cla"), "10", "1.2.250.1.213.1.1.4.1", "Compte rendu")
    coded(de, "de.type", ident, ids("cla"), TYPE[0], "2.16.840.1.113883.6.1", TYPE[1])
    coded(de, "de.confidentiality", ident, ids("cla"), "N", "2.16.840.1.113883.5.25", "Normal")
    for code in visibility:
        coded(de, "de.confidentiality", ident, ids("cla"), code, "1.2.250.1.213.1.1.4.13", VISIBILITY[code])
    coded(
        de,
        "de.format",
        ident,
        ids("cla"),
        "urn:ihe:iti:xds-sd:pdf:2008",
        "1.3.6.1.4.1.19376.1.2.3",
        "Document à corps non structuré en Pdf/A-1",
    )
    coded(de, "de.hcf", ident, ids("cla"), cast.secteur, "1.2.250.1.71.4.2.4", "Centre de santé")
    coded(de, "de.practice", ident, ids("cla"), "AMBULATOIRE", "1.2.250.1.213.1.1.4.9", "Ambulatoire")
    external(de, "de.patientId", ident, ids("ei"), patient_cx(letter), "XDSDocumentEntry.patientId")
    external(de, "de.uniqueId", ident, ids("ei"), letter.unique_id, "XDSDocumentEntry.uniqueId")
    return de


def signature_entry(
    parent: etree._Element, ids: Ids, cast: Cast, letter: Letter, unique_id: str, when: datetime
) -> None:
    """The XAdES of the lot as a DocumentEntry with the fixed codes of the official example."""
    de = _r(parent, "ExtrinsicObject", id="Signature01", mimeType="text/xml", objectType=DOCUMENT_ENTRY)
    for name, value in (
        ("creationTime", utc(when)),
        ("languageCode", "art"),
        ("legalAuthenticator", xcn(cast)),
        ("serviceStartTime", utc(when)),
        ("serviceStopTime", utc(when)),
        ("sourcePatientId", patient_cx(letter)),
    ):
        slot(de, name, value)
    _name(de, "Name", "Source")
    _author(de, "de.author", "Signature01", ids, cast)
    coded(
        de,
        "de.class",
        "Signature01",
        ids("cla"),
        "urn:oid:1.3.6.1.4.1.19376.1.2.1.1.1",
        "URN",
        "Digital Signature",
    )
    coded(de, "de.type", "Signature01", ids("cla"), "E1762", "ASTM", "Full Document")
    coded(de, "de.confidentiality", "Signature01", ids("cla"), "N", "2.16.840.1.113883.5.25", "Normal")
    coded(
        de,
        "de.confidentiality",
        "Signature01",
        ids("cla"),
        "MASQUE_PS",
        "1.2.250.1.213.1.1.4.13",
        VISIBILITY["MASQUE_PS"],
    )
    coded(
        de,
        "de.confidentiality",
        "Signature01",
        ids("cla"),
        "INVISIBLE_PATIENT",
        "1.2.250.1.213.1.1.4.13",
        VISIBILITY["INVISIBLE_PATIENT"],
    )
    coded(
        de,
        "de.format",
        "Signature01",
        ids("cla"),
        "http://www.w3.org/2000/09/xmldsig#",
        "URN",
        "Default Signature Style",
    )
    coded(de, "de.hcf", "Signature01", ids("cla"), cast.secteur, "1.2.250.1.71.4.2.4", "Centre de santé")
    coded(de, "de.practice", "Signature01", ids("cla"), "AMBULATOIRE", "1.2.250.1.213.1.1.4.9", "Ambulatoire")
    coded(
        de, "de.event", "Signature01", ids("cla"), "1.2.840.10065.1.12.1.14", "1.2.840.10065.1.12", "Source"
    )
    external(de, "de.patientId", "Signature01", ids("ei"), patient_cx(letter), "XDSDocumentEntry.patientId")
    external(de, "de.uniqueId", "Signature01", ids("ei"), unique_id, "XDSDocumentEntry.uniqueId")


def association(
    parent: etree._Element, ident: str, kind: str, source: str, target: str, **slots: str
) -> None:
    assoc = _r(
        parent, "Association", associationType=kind, id=ident, sourceObject=source, targetObject=target
    )
    for name, value in slots.items():
        slot(assoc, name, value)


HAS_MEMBER = "urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember"
SIGNS = "urn:ihe:iti:2007:AssociationType:signs"
RPLC = "urn:ihe:iti:2007:AssociationType:RPLC"


def provide_and_register(
    cast: Cast,
    letter: Letter,
    *,
    ss_uid: str,
    sig_uid: str,
    when: datetime,
    signed: bool = True,
    replaces_entry: str | None = None,
    visibility: tuple[str, ...] = (),
) -> etree._Element:
    """ProvideAndRegisterDocumentSetRequest: the lot, the CDA and its XAdES as xop:Include parts
    `cid:document`, `cid:signature`."""
    root = etree.Element(
        f"{{{XDSB}}}ProvideAndRegisterDocumentSetRequest", nsmap={None: RIM, "lcm": LCM, "xdsb": XDSB}
    )
    objects = _r(etree.SubElement(root, f"{{{LCM}}}SubmitObjectsRequest"), "RegistryObjectList")
    ids = Ids()
    submission_set(objects, ids, cast, letter, ss_uid, when)
    document_entry(objects, ids, cast, letter, "Document01", visibility=visibility)
    if signed:
        signature_entry(objects, ids, cast, letter, sig_uid, when)
    association(
        objects, "assoc1", HAS_MEMBER, "SubmissionSet01", "Document01", SubmissionSetStatus="Original"
    )
    if signed:
        association(
            objects, "assoc2", HAS_MEMBER, "SubmissionSet01", "Signature01", SubmissionSetStatus="Original"
        )
        association(
            objects, "assoc3", SIGNS, "Signature01", "SubmissionSet01", SubmissionSetStatus="Original"
        )
    if replaces_entry:
        association(objects, "assoc4", RPLC, "Document01", replaces_entry)
    for ident, cid in (("Document01", "document"), *((("Signature01", "signature"),) if signed else ())):
        doc = etree.SubElement(root, f"{{{XDSB}}}Document", id=ident)
        etree.SubElement(doc, f"{{{XOP}}}Include", nsmap={"xop": XOP}, href=f"cid:{cid}@segur-demo")
    return root
