"""Documents put in the store the way the repository registers them (Documents.insert_submission),
built from the official TD2.1 request's metadata (dmp.metadata.read_objects) so that the stored
shape is the real one, with the fields a test varies; and ITI-18 / ITI-57 requests of our own in
the official TD3.1 / TD3.3 envelopes (our VIHF, a fresh MessageID)."""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import replace
from functools import cache
from typing import Any

from lxml import etree

from dmp import documents as D
from dmp import metadata as M
from tests.dmp.support import EXAMPLES, GP, GP_STRUCTURE, PATIENT, TEST_OID, rekey

OFFICIAL_INS = "207058575627097"
RIM, QUERY, LCM = M.RIM, M.QUERY, M.LCM
FIND = "urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d"
GET_DOCUMENTS = "urn:uuid:5c4f972b-d56b-40ac-a5fc-c8ca9b40b9d4"
FIND_SETS = "urn:uuid:f26abbcb-ac74-4422-8a30-edb644bbc1a9"
GET_ASSOCIATIONS = "urn:uuid:a7ae438b-4bc2-4642-93e9-be891f7bb155"
BY_REFERENCE = "urn:uuid:12941a89-e02e-4be5-967c-ce4bfc8fe492"
APPROVED = "urn:oasis:names:tc:ebxml-regrep:StatusType:Approved"
ARCHIVED = "urn:asip:ci-sis:2010:StatusType:Archived"
DELETED = "urn:asip:ci-sis:2010:StatusType:Deleted"
DEPRECATED = "urn:oasis:names:tc:ebxml-regrep:StatusType:Deprecated"
VISIBILITY = "1.2.250.1.213.1.1.4.13"


@cache
def official_objects() -> M.Objects:
    raw = (EXAMPLES / "TD2.1_-_Alimentation_requete.xml").read_bytes()
    start, end = raw.index(b"<soap:Envelope"), raw.index(b"</soap:Envelope>") + len(b"</soap:Envelope>")
    rol = etree.fromstring(raw[start:end]).find(f".//{{{RIM}}}RegistryObjectList")
    assert rol is not None
    return M.read_objects(rol)


def author(ps: str = GP, structure: str = GP_STRUCTURE) -> M.Author:
    official = official_objects().entries[0].authors[0]
    return replace(
        official,
        person=f"{ps}^LEMAIRE^CAMILLE^^^^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS",
        institutions=(f"CABINET^^^^^&1.2.250.1.71.4.2.2&ISO^IDNST^^^{structure}",),
    )


def submission(
    ins: str = PATIENT,
    *,
    ps: str = GP,
    structure: str = GP_STRUCTURE,
    visibility: tuple[str, ...] = (),
    class_code: str = "",
    type_code: str = "",
    creation_time: str = "20240315101500",
    status: D.Status = "Approved",
    reference_ids: tuple[str, ...] = (),
    submission_time: str = "20240315110000",
    submitted_at: str = "",
    content: bytes = b"<ClinicalDocument/>",
) -> D.Submission:
    """One document of the official TD2.1 metadata, for `ins`, authored by `ps` at `structure`."""
    objects = official_objects()
    entry, package = objects.entries[0], objects.packages[0]
    doc_uuid, set_uuid = f"urn:uuid:{uuid.uuid4()}", f"urn:uuid:{uuid.uuid4()}"
    unique = f"1.2.250.1.999.1.1.7898.3.{uuid.uuid4().int % 10**15}"
    patient_id = f"{ins}^^^&{TEST_OID}&ISO^NH"
    codes = dict(entry.classifications)
    if class_code:
        codes[M.DE_CLASS] = (M.Code(class_code, "1.2.250.1.213.1.1.4.1", "classe"),)
    if type_code:
        codes[M.DE_TYPE] = (M.Code(type_code, "2.16.840.1.113883.6.1", "type"),)
    confidentiality = (*entry.confidentiality, *(M.Code(v, VISIBILITY, v) for v in visibility))

    def first(scheme: str) -> M.Code | None:
        return (codes.get(scheme) or (None,))[0]

    xml = entry.xml.decode().replace(OFFICIAL_INS, ins)
    doc = D.Document(
        doc_uuid, unique, doc_uuid, 1, status, ins[:15], TEST_OID, patient_id, entry.mime_type,
        hashlib.sha1(content).hexdigest(), len(content), xml,  # noqa: S324
        class_code=first(M.DE_CLASS), type_code=first(M.DE_TYPE), format_code=first(M.DE_FORMAT),
        practice_setting_code=first(M.DE_PRACTICE), hcf_type_code=first(M.DE_HCF),
        confidentiality=confidentiality, **D.visibility_of(confidentiality),  # type: ignore[arg-type]
        creation_time=creation_time, service_start_time=entry.slot("serviceStartTime"),
        service_stop_time=entry.slot("serviceStopTime"), authors=(author(ps, structure),),
        legal_authenticator=author(ps, structure).person, title=entry.name, comments=entry.description,
        language_code="fr-FR", source_patient_id=entry.slot("sourcePatientId"),
        source_patient_info=entry.slots.get("sourcePatientInfo", ()), reference_ids=reference_ids,
        submission_set=set_uuid, submitted_at=submitted_at or submission_time,
    )  # fmt: skip
    ss = D.SubmissionSet(
        set_uuid, f"1.2.250.1.999.1.1.7898.1.{uuid.uuid4().int % 10**15}", ins[:15], patient_id,
        package.identifier(M.SS_SOURCE_ID), submission_time, package.xml.decode().replace(OFFICIAL_INS, ins),
        authors=(author(ps, structure),), content_type_code=package.classifications[M.SS_CONTENT_TYPE][0],
        title=package.name, submitted_at=submitted_at or submission_time,
    )  # fmt: skip
    link = D.Association(f"urn:uuid:{uuid.uuid4()}", M.HAS_MEMBER, set_uuid, doc_uuid, set_uuid,
                         {"SubmissionSetStatus": ["Original"]})  # fmt: skip
    return D.Submission(ss, (doc,), {unique: content}, (link,))


def feed(store: Any, tenant: str, ins: str = PATIENT, **fields: Any) -> D.Document:
    sub = submission(ins, **fields)
    D.Documents(store).insert_submission(tenant, sub)
    return sub.documents[0]


def _value(v: str) -> str:
    return v.replace("&", "&amp;").replace("<", "&lt;")


def adhoc(query_id: str, slots: dict[str, list[str]], return_type: str = "LeafClass") -> str:
    """An AdhocQueryRequest as the official TD3.1 request writes it (rim default namespace)."""
    values = "".join(
        f'<Slot name="{n}"><ValueList>{"".join(f"<Value>{_value(v)}</Value>" for v in vs)}</ValueList></Slot>'
        for n, vs in slots.items()
    )
    return (
        f'<ns3:AdhocQueryRequest xmlns="{RIM}" xmlns:ns2="urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0" '
        f'xmlns:ns3="{QUERY}" xmlns:ns4="{LCM}"><ns3:ResponseOption returnComposedObjects="true" '
        f'returnType="{return_type}"/><AdhocQuery id="{query_id}">{values}</AdhocQuery></ns3:AdhocQueryRequest>'
    )


BODY = re.compile(rb"(<soap:Body>).*(</soap:Body>)", re.S)


def request(example: str, token: etree._Element, payload: str) -> bytes:
    """The official request `example` re-keyed, its body's payload replaced by `payload`."""
    data = rekey(example, token)
    return BODY.sub(lambda m: m.group(1) + payload.encode() + m.group(2), data, count=1)


def query(
    token: etree._Element, query_id: str, slots: dict[str, list[str]], return_type: str = "LeafClass"
) -> bytes:
    return request("TD3.1_-_Recherche_de_document_requete.xml", token, adhoc(query_id, slots, return_type))


def status_update(token: etree._Element, target: str, original: str, new: str) -> bytes:
    """The official TD3.3d request re-keyed, its association aimed at `target`."""
    data = rekey("TD3.3d_-_Archiver_un_document_requete.xml", token)
    data = data.replace(b"urn:uuid:fe5287a2-ae6a-11eb-8f5d-0050569e422e", target.encode())
    data = re.sub(
        rb"(<Slot name=\"OriginalStatus\">\s*<ValueList>\s*<Value>)[^<]*", rb"\g<1>" + original.encode(), data
    )
    return re.sub(
        rb"(<Slot name=\"NewStatus\">\s*<ValueList>\s*<Value>)[^<]*", rb"\g<1>" + new.encode(), data
    )


def new_version(
    token: etree._Element,
    doc: D.Document,
    visibility: tuple[str, ...],
    previous: str | None = None,
    ins: str = PATIENT,
) -> bytes:
    """A TD3.3a/b metadata update (the kit's template_masquage shape): the TD3.3d envelope and
    submission set, a new version of `doc`'s ExtrinsicObject with `visibility` codes (on top of
    the N/R/V code), and the HasMember association with PreviousVersion."""
    data = rekey("TD3.3d_-_Archiver_un_document_requete.xml", token)
    el = etree.fromstring(doc.metadata_xml.encode())
    el.set("id", "Document01")
    el.set("lid", doc.lid)
    el.set("objectType", M.DOCUMENT_ENTRY)
    for cl in el.findall(f"{{{RIM}}}Classification"):
        cl.set("classifiedObject", "Document01")
        if cl.get("classificationScheme") == M.DE_CONFIDENTIALITY and cl.get("nodeRepresentation") not in (
            "N",
            "R",
            "V",
        ):
            el.remove(cl)
    anchor = next(
        cl
        for cl in el.findall(f"{{{RIM}}}Classification")
        if cl.get("classificationScheme") == M.DE_CONFIDENTIALITY
    )
    for i, code in enumerate(visibility):
        added = etree.fromstring(
            f'<Classification xmlns="{RIM}" classificationScheme="{M.DE_CONFIDENTIALITY}" classifiedObject="Document01" '
            f'id="cv{i}" nodeRepresentation="{code}"><Slot name="codingScheme"><ValueList><Value>{VISIBILITY}</Value>'
            f'</ValueList></Slot><Name><LocalizedString charset="UTF8" value="{code}" xml:lang="FR"/></Name></Classification>'
        )
        anchor.addnext(added)
    for ident in el.findall(f"{{{RIM}}}ExternalIdentifier"):
        ident.set("registryObject", "Document01")
    version = previous if previous is not None else str(doc.version)
    assoc = (
        f'<Association xmlns="{RIM}" associationType="{M.HAS_MEMBER}" id="association1" '
        'objectType="urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:Association" '
        'sourceObject="SubmissionSet01" targetObject="Document01"><Slot name="SubmissionSetStatus"><ValueList>'
        f'<Value>Original</Value></ValueList></Slot><Slot name="PreviousVersion"><ValueList><Value>{version}</Value>'
        "</ValueList></Slot></Association>"
    )
    objects = etree.tostring(el).decode() + assoc
    return re.sub(rb"<Association .*</Association>", objects.encode(), data, count=1, flags=re.S)
