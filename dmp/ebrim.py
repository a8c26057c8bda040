"""ebRIM 3.0 metadata written as an ITI-41 carries it (the official `TD2.1 - Alimentation_requête.xml`
shape, research dmp.md §2.4, §2.5): a DocumentEntry ExtrinsicObject and a SubmissionSet
RegistryPackage, with their slots, coded classifications (codingScheme slot, FR name), author
classification and external identifiers, in the rim.xsd element order. dmp.metadata reads them
back; the seed (dmp.seed) stores what it reads, as the repository does.

    entry(EntryFields(...), author, patient_id, source_patient_id, source_patient_info)
    package(ident, unique_id, submission_time, author, patient_id, title, content_type, source_id)
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree
from lxml.builder import ElementMaker

from dmp import metadata as M

R = ElementMaker(namespace=M.RIM, nsmap={None: M.RIM})
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
SPECIALTY_SCHEME = "1.2.250.1.213.1.1.4.5"  # authorSpecialty codingScheme (JDV_J56)


@dataclass(frozen=True)
class AuthorSlots:
    person: str  # XCN
    institution: str  # XON
    specialty: tuple[str, str]  # (code, label) of JDV_J56


@dataclass(frozen=True)
class EntryFields:
    entry_uuid: str  # the ExtrinsicObject's id (a UUID, as an LGC may send)
    unique_id: str
    title: str
    type_code: M.Code
    class_code: M.Code
    format_code: M.Code
    hcf: M.Code
    practice: M.Code
    confidentiality: tuple[M.Code, ...]
    event_codes: tuple[M.Code, ...]
    creation: str  # yyyyMMddHHmmss UTC
    start: str
    stop: str
    language: str


def slot(name: str, *values: str) -> etree._Element:
    return R.Slot(R.ValueList(*[R.Value(v) for v in values]), name=name)


def localized(tag: str, value: str) -> etree._Element:
    el = R(tag, R.LocalizedString(charset="UTF8", value=value))
    el[0].set(XML_LANG, "FR")
    return el


def classification(scheme: str, owner: str, ident: str, code: M.Code) -> etree._Element:
    return R.Classification(
        slot("codingScheme", code.scheme),
        localized("Name", code.label),
        classificationScheme=scheme,
        classifiedObject=owner,
        id=ident,
        nodeRepresentation=code.code,
    )


def author_classification(scheme: str, owner: str, ident: str, author: AuthorSlots) -> etree._Element:
    """As the official example: authorPerson, authorSpecialty, authorInstitution, no
    nodeRepresentation."""
    code, label = author.specialty
    return R.Classification(
        slot("authorPerson", author.person),
        slot("authorSpecialty", f"{code}^{label}^{SPECIALTY_SCHEME}"),
        slot("authorInstitution", author.institution),
        classificationScheme=scheme,
        classifiedObject=owner,
        id=ident,
    )


def identifier(scheme: str, owner: str, ident: str, value: str, label: str) -> etree._Element:
    return R.ExternalIdentifier(
        localized("Name", label), id=ident, identificationScheme=scheme, registryObject=owner, value=value
    )


def entry(
    f: EntryFields, author: AuthorSlots, patient_id: str, source_patient: str, info: tuple[str, ...]
) -> etree._Element:
    ident = f.entry_uuid
    el = R.ExtrinsicObject(
        slot("creationTime", f.creation),
        slot("languageCode", f.language),
        slot("legalAuthenticator", author.person),
        slot("serviceStartTime", f.start),
        slot("serviceStopTime", f.stop),
        slot("sourcePatientId", source_patient),
        *([slot("sourcePatientInfo", *info)] if info else []),
        localized("Name", f.title),
        id=ident,
        mimeType="text/xml",
        objectType=M.DOCUMENT_ENTRY,
    )
    n = iter(range(1, 100))
    el.append(author_classification(M.DE_AUTHOR, ident, f"{ident}-cl{next(n)}", author))
    el.append(classification(M.DE_CLASS, ident, f"{ident}-cl{next(n)}", f.class_code))
    el.append(classification(M.DE_TYPE, ident, f"{ident}-cl{next(n)}", f.type_code))
    for code in f.confidentiality:
        el.append(classification(M.DE_CONFIDENTIALITY, ident, f"{ident}-cl{next(n)}", code))
    for code in f.event_codes:
        el.append(classification(M.DE_EVENT, ident, f"{ident}-cl{next(n)}", code))
    el.append(classification(M.DE_FORMAT, ident, f"{ident}-cl{next(n)}", f.format_code))
    el.append(classification(M.DE_HCF, ident, f"{ident}-cl{next(n)}", f.hcf))
    el.append(classification(M.DE_PRACTICE, ident, f"{ident}-cl{next(n)}", f.practice))
    el.append(identifier(M.DE_PATIENT_ID, ident, f"{ident}-ei1", patient_id, "XDSDocumentEntry.patientId"))
    el.append(identifier(M.DE_UNIQUE_ID, ident, f"{ident}-ei2", f.unique_id, "XDSDocumentEntry.uniqueId"))
    return el


def package(
    ident: str,
    unique_id: str,
    when: str,
    author: AuthorSlots,
    patient_id: str,
    title: str,
    content_type: M.Code,
    source_id: str,
) -> etree._Element:
    el = R.RegistryPackage(slot("submissionTime", when), localized("Name", title), id=ident)
    el.append(author_classification(M.SS_AUTHOR, ident, f"{ident}-cl1", author))
    el.append(classification(M.SS_CONTENT_TYPE, ident, f"{ident}-cl2", content_type))
    el.append(
        R.Classification(classificationNode=M.SUBMISSION_SET_NODE, classifiedObject=ident, id=f"{ident}-cl3")
    )
    el.append(identifier(M.SS_PATIENT_ID, ident, f"{ident}-ei1", patient_id, "XDSSubmissionSet.patientId"))
    el.append(identifier(M.SS_SOURCE_ID, ident, f"{ident}-ei2", source_id, "XDSSubmissionSet.sourceId"))
    el.append(identifier(M.SS_UNIQUE_ID, ident, f"{ident}-ei3", unique_id, "XDSSubmissionSet.uniqueId"))
    return el
