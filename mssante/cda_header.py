"""The CDA R2 header fields MSSanté works with: what METADATA.XML must repeat, what the subject
and the X-MSS headers must say, what a receiving LPS integrates (research cda-segur.md §A.1).

    header = read(cda_bytes)      a `Header`, or HeaderError (French) when it is no CDA

Only the header is read (lxml, hardened: no DTD, no entity, no network); conformance of the
document itself is the CDA engine's business (mocks.cda). Every field is a plain string ("" when
absent), so that a check compares without caring about None.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

HL7 = "urn:hl7-org:v3"
NS = {"h": HL7}
INS_OIDS = ("1.2.250.1.213.1.4.8", "1.2.250.1.213.1.4.9", "1.2.250.1.213.1.4.10", "1.2.250.1.213.1.4.11")
PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=True
)


class HeaderError(ValueError):
    """Not a CDA document (French message)."""


@dataclass(frozen=True)
class Code:
    code: str = ""
    system: str = ""
    display: str = ""


@dataclass(frozen=True)
class Person:
    id: str = ""  # idNat_PS (extension)
    root: str = ""
    family: str = ""
    given: str = ""
    prefix: str = ""
    suffix: str = ""
    code: Code = field(default_factory=Code)  # profession / speciality (G15_10/SM26)
    org_id: str = ""  # idNat_Struct of the represented organisation
    org_root: str = ""
    org_name: str = ""


@dataclass(frozen=True)
class Header:
    root: str  # ClinicalDocument/id
    extension: str
    code: Code
    title: str
    effective_time: str
    confidentiality: Code
    language: str
    set_id: str  # root^extension (or root)
    version: str
    template_ids: tuple[tuple[str, str], ...]
    ins: str  # the first recordTarget id under an INS OID ("" when none)
    ins_root: str
    patient_ids: tuple[tuple[str, str], ...]  # every (extension, root)
    family: str  # birth name (family qualifier BR, else the first family)
    given: str  # first birth first name (given qualifier BR, else the first given)
    given_all: str  # every birth first name (the unqualified given, else `given`)
    birth_time: str
    sex: str
    author: Person
    legal: Person
    service_start: str
    service_stop: str
    service_code: Code
    facility: Code
    practice: Code
    level: str  # N1 (nonXMLBody) or N3
    media_type: str  # N1: nonXMLBody/text/@mediaType
    replaces: str  # relatedDocument[@typeCode='RPLC']/parentDocument/id (root^ext)
    recipients: tuple[str, ...] = ()  # informationRecipient ids and telecoms

    @property
    def unique_id(self) -> str:
        """The XDS uniqueId of the document: root^extension, or root alone."""
        return f"{self.root}^{self.extension}" if self.extension else self.root

    @property
    def birth_date(self) -> str:
        """JJ/MM/AAAA, as the subject of an MSSanté message writes it ("" when unknown)."""
        t = self.birth_time
        return f"{t[6:8]}/{t[4:6]}/{t[0:4]}" if len(t) >= 8 and t[:8].isdigit() else ""


def _attr(doc: etree._Element, path: str, name: str) -> str:
    el = doc.find(path, NS)
    return str(el.get(name) or "") if el is not None else ""


def _text(el: etree._Element | None) -> str:
    return " ".join("".join(el.itertext()).split()) if el is not None else ""


def _code(el: etree._Element | None) -> Code:
    if el is None:
        return Code()
    return Code(str(el.get("code") or ""), str(el.get("codeSystem") or ""), str(el.get("displayName") or ""))


def _id(el: etree._Element | None) -> str:
    if el is None:
        return ""
    root, ext = str(el.get("root") or ""), str(el.get("extension") or "")
    return f"{root}^{ext}" if ext else root


def _person(entity: etree._Element | None, person_tag: str) -> Person:
    if entity is None:
        return Person()
    pid = entity.find("h:id", NS)
    name = entity.find(f"h:{person_tag}/h:name", NS)
    org = entity.find("h:representedOrganization", NS)
    org_id = org.find("h:id", NS) if org is not None else None
    return Person(
        id=str(pid.get("extension") or "") if pid is not None else "",
        root=str(pid.get("root") or "") if pid is not None else "",
        family=_text(name.find("h:family", NS)) if name is not None else "",
        given=_text(name.find("h:given", NS)) if name is not None else "",
        prefix=_text(name.find("h:prefix", NS)) if name is not None else "",
        suffix=_text(name.find("h:suffix", NS)) if name is not None else "",
        code=_code(entity.find("h:code", NS)),
        org_id=str(org_id.get("extension") or "") if org_id is not None else "",
        org_root=str(org_id.get("root") or "") if org_id is not None else "",
        org_name=_text(org.find("h:name", NS)) if org is not None else "",
    )


def _birth_names(patient: etree._Element | None) -> tuple[str, str, str]:
    if patient is None:
        return "", "", ""
    name = patient.find("h:name", NS)
    if name is None:
        return "", "", ""
    families = name.findall("h:family", NS)
    givens = name.findall("h:given", NS)
    family = next((f for f in families if f.get("qualifier") == "BR"), families[0] if families else None)
    given = next((g for g in givens if g.get("qualifier") == "BR"), givens[0] if givens else None)
    every = next((g for g in givens if g.get("qualifier") is None), given)
    return _text(family), _text(given), _text(every)


def parse_root(data: bytes) -> etree._Element:
    try:
        doc = etree.fromstring(data, PARSER)
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise HeaderError(f"XML mal formé : {exc}") from None
    if doc.tag != f"{{{HL7}}}ClinicalDocument":
        raise HeaderError(f"racine {etree.QName(doc).localname} : ClinicalDocument (urn:hl7-org:v3) attendu")
    return doc


def read(data: bytes) -> Header:
    return of(parse_root(data))


def of(doc: etree._Element) -> Header:
    role = doc.find("h:recordTarget/h:patientRole", NS)
    ids = tuple(
        (str(i.get("extension") or ""), str(i.get("root") or ""))
        for i in (role.findall("h:id", NS) if role is not None else [])
    )
    ins, ins_root = next(((e, r) for e, r in ids if r in INS_OIDS), ("", ""))
    patient = role.find("h:patient", NS) if role is not None else None
    family, given, given_all = _birth_names(patient)
    event = "h:documentationOf/h:serviceEvent"
    org = f"{event}/h:performer/h:assignedEntity/h:representedOrganization"
    text = doc.find("h:component/h:nonXMLBody/h:text", NS)
    recipients: list[str] = []
    for rec in doc.findall("h:informationRecipient/h:intendedRecipient", NS):
        for pid in rec.findall("h:id", NS):
            recipients += [v for v in (pid.get("extension"), pid.get("root")) if v]
        for tel in rec.findall(".//h:telecom", NS):
            recipients.append(str(tel.get("value") or "").removeprefix("mailto:"))
    return Header(
        root=_attr(doc, "h:id", "root"),
        extension=_attr(doc, "h:id", "extension"),
        code=_code(doc.find("h:code", NS)),
        title=_text(doc.find("h:title", NS)),
        effective_time=_attr(doc, "h:effectiveTime", "value"),
        confidentiality=_code(doc.find("h:confidentialityCode", NS)),
        language=_attr(doc, "h:languageCode", "code"),
        set_id=_id(doc.find("h:setId", NS)),
        version=_attr(doc, "h:versionNumber", "value"),
        template_ids=tuple(
            (str(t.get("root") or ""), str(t.get("extension") or "")) for t in doc.findall("h:templateId", NS)
        ),
        ins=ins,
        ins_root=ins_root,
        patient_ids=ids,
        family=family,
        given=given,
        given_all=given_all,
        birth_time=_attr(doc, "h:recordTarget/h:patientRole/h:patient/h:birthTime", "value"),
        sex=_attr(doc, "h:recordTarget/h:patientRole/h:patient/h:administrativeGenderCode", "code"),
        author=_person(doc.find("h:author/h:assignedAuthor", NS), "assignedPerson"),
        legal=_person(doc.find("h:legalAuthenticator/h:assignedEntity", NS), "assignedPerson"),
        service_start=_attr(doc, f"{event}/h:effectiveTime/h:low", "value"),
        service_stop=_attr(doc, f"{event}/h:effectiveTime/h:high", "value"),
        service_code=_code(doc.find(f"{event}/h:code", NS)),
        facility=_code(
            doc.find("h:componentOf/h:encompassingEncounter/h:location/h:healthCareFacility/h:code", NS)
        ),
        practice=_code(doc.find(f"{org}/h:standardIndustryClassCode", NS)),
        level="N1" if text is not None else "N3",
        media_type=str(text.get("mediaType") or "") if text is not None else "",
        replaces=_id(doc.find("h:relatedDocument[@typeCode='RPLC']/h:parentDocument/h:id", NS)),
        recipients=tuple(r.lower() for r in recipients if r),
    )
