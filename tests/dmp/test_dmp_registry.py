"""TD3.1 (ITI-18) and TD3.3 (ITI-57) served over mutual TLS: documents put in the store as the
repository registers them (official TD2.1 metadata), the official TD3.1 / TD3.3c / TD3.3d requests
re-keyed and replayed, answers compared in structure with the official responses and validated
against the contract's ebRS 3.0 schemas; filters, visibility, versions, rights and negatives."""

from __future__ import annotations

import ssl
import uuid
from collections.abc import Iterator
from functools import cache
from typing import Any

import httpx
import pytest
from lxml import etree

from dmp import documents as D
from dmp import metadata as M
from mocks.runner import Runner
from mocks.testing import make_config
from tests.dmp import registry_support as R
from tests.dmp.schemas import CONTRACT
from tests.dmp.support import CT, EXAMPLES, GP, PATIENT, S12, declarations, fault_of, rekey, structure, vihf

WSA = "http://www.w3.org/2005/08/addressing"
RS = "urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0"
RIM = R.RIM
OTHER_PS = "810100000040"  # Dr Moussa DIALLO: not the author of the GP's documents


@cache
def schema(name: str) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(CONTRACT / "schema" / "ebRS" / name)))


def _payload(xml: bytes) -> etree._Element:
    return etree.fromstring(xml).find(f"{{{S12}}}Body")[0]  # type: ignore[index]


def _action(xml: bytes) -> str:
    return etree.fromstring(xml).findtext(f"{{{S12}}}Header/{{{WSA}}}Action") or ""


def _unique(items: list[Any]) -> list[Any]:
    return list(dict.fromkeys(items))


def _missing_in_order(ours: list[Any], official: list[Any]) -> list[Any]:
    it = iter(official)
    return [x for x in ours if not any(x == y for y in it)]


def _entries(xml: bytes) -> list[etree._Element]:
    return _payload(xml).findall(f"{{{RIM}}}RegistryObjectList/*")


def _ids(xml: bytes) -> list[str]:
    return [e.get("id", "") for e in _entries(xml)]


def _error(xml: bytes) -> str:
    payload = _payload(xml)
    assert payload.get("status", "").endswith(":Failure"), etree.tostring(payload)
    found = payload.find(f".//{{{RS}}}RegistryError")
    assert found is not None
    return found.get("errorCode", "")


def _ok(reply: Any, root: str = "AdhocQueryResponse") -> bytes:
    assert reply.status_code == 200, reply.text
    payload = _payload(reply.content)
    assert etree.QName(payload).localname == root
    assert payload.get("status", "").endswith(":Success"), reply.text
    assert schema("query.xsd" if root == "AdhocQueryResponse" else "rs.xsd").validate(
        etree.fromstring(etree.tostring(payload))
    ), schema("query.xsd").error_log
    return reply.content  # type: ignore[no-any-return]


@pytest.fixture
def store(dmp_runner: Any) -> Any:
    return dmp_runner.sandbox.store


@pytest.fixture
def not_mt(console: Any, tenant: str) -> None:
    """Dr LEMAIRE is not Sophie GIRARD's médecin traitant in this tenant (but authorised)."""
    console.put(
        f"/_sandbox/dmp/patients/{PATIENT}?tenant={tenant}",
        json={"medecin_traitant": "", "authorizations": {f"PS:{GP}": "VALIDE"}},
    ).raise_for_status()


def _find(**slots: list[str]) -> dict[str, list[str]]:
    return {"$XDSDocumentEntryStatus": [f"('{R.APPROVED}')"], **slots}


# -- TD3.1 ----------------------------------------------------------------------------------------
def test_official_td31_request_answered_in_the_official_shape(
    post: Any, now: Any, tenant: str, store: Any, console: Any
) -> None:
    fed = [R.feed(store, tenant, submission_time=f"2024031{i}110000") for i in range(3)]
    R.feed(store, tenant, status="Archived")  # not Approved: not in the answer
    reply = post("registry", rekey("TD3.1_-_Recherche_de_document_requete.xml", vihf(now)), tenant)
    ours = _ok(reply)
    official = (EXAMPLES / "TD3.1_-_Recherche_de_document_reponse.xml").read_bytes()
    assert _action(ours) == _action(official) == "urn:ihe:iti:2007:RegistryStoredQueryResponse"
    assert declarations(ours) == declarations(official)
    assert not _missing_in_order(_unique(structure(_payload(ours))), _unique(structure(_payload(official))))
    payload = _payload(ours)
    assert payload.get("totalResultCount") == "3" and payload.get("startIndex") == "0"
    entries = _entries(ours)
    assert [e.get("id") for e in entries] == [d.entry_uuid for d in fed]  # submission order
    first = entries[0]
    assert first.get("lid") == first.get("id") and first.get("status") == R.APPROVED
    slots = {
        s.get("name"): [v.text for v in s.iter(f"{{{RIM}}}Value")] for s in first.findall(f"{{{RIM}}}Slot")
    }
    assert slots["repositoryUniqueId"] == ["1.2.250.1.213.4.1.1.1.2"]
    assert slots["hash"] == [fed[0].hash] and slots["size"] == [str(fed[0].size)]
    assert [s.get("name") for s in first.findall(f"{{{RIM}}}Slot")] == sorted(slots)
    assert first.find(f"{{{RIM}}}VersionInfo").get("versionName") == "1"  # type: ignore[union-attr]
    unique = [i for i in first.findall(f"{{{RIM}}}ExternalIdentifier")][-1]
    assert unique.get("value") == fed[0].unique_id
    journal = console.get("/_sandbox/journal", params={"service": "dmp", "tenant": tenant, "limit": 5}).json()
    items = journal if isinstance(journal, list) else journal.get("entries", journal.get("items", []))
    assert any(e["operation"] == "TD3.1" and e["outcome"] == "FindDocuments/3" for e in items)


def test_same_answer_twice_and_patient_id_from_the_vihf(post: Any, now: Any, tenant: str, store: Any) -> None:
    R.feed(store, tenant)
    official = post("registry", rekey("TD3.1_-_Recherche_de_document_requete.xml", vihf(now)), tenant)
    without = post("registry", R.query(vihf(now), R.FIND, _find()), tenant)  # RG_3010: no patientId
    assert _payload(_ok(official)).find(f"{{{RIM}}}RegistryObjectList") is not None
    strip = lambda x: etree.tostring(_payload(x))  # noqa: E731
    assert strip(_ok(without)) == strip(official.content)  # stable ids of classifications too


def test_status_filters(post: Any, now: Any, tenant: str, store: Any) -> None:
    docs = {s: R.feed(store, tenant, status=s) for s in ("Approved", "Archived", "Deprecated", "Deleted")}
    for status, urn in (
        ("Approved", R.APPROVED),
        ("Archived", R.ARCHIVED),
        ("Deprecated", R.DEPRECATED),
        ("Deleted", R.DELETED),
    ):
        reply = post(
            "registry", R.query(vihf(now), R.FIND, {"$XDSDocumentEntryStatus": [f"('{urn}')"]}), tenant
        )
        assert _ids(_ok(reply)) == [docs[status].entry_uuid]
        assert _entries(reply.content)[0].get("status") == urn
    both = {"$XDSDocumentEntryStatus": [f"('{R.APPROVED}','{R.ARCHIVED}')"]}
    reply = post("registry", R.query(vihf(now), R.FIND, both), tenant)
    assert set(_ids(_ok(reply))) == {docs["Approved"].entry_uuid, docs["Archived"].entry_uuid}


def test_time_and_code_filters(post: Any, now: Any, tenant: str, store: Any) -> None:
    old = R.feed(store, tenant, creation_time="20230101120000", class_code="11", type_code="34133-9")
    new = R.feed(store, tenant, creation_time="20240601120000")
    cases = {
        "$XDSDocumentEntryCreationTimeFrom": (["20240101"], [new]),
        "$XDSDocumentEntryCreationTimeTo": (["20240101"], [old]),
        "$XDSDocumentEntryClassCode": (["('11^^1.2.250.1.213.1.1.4.1')"], [old]),
        "$XDSDocumentEntryTypeCode": (["('27899-4^^2.16.840.1.113883.6.1')"], [new]),
        "$XDSDocumentEntryFormatCode": (
            ["('urn:ihe:iti:xds-sd:text:2008^^1.3.6.1.4.1.19376.1.2.3')"],
            [old, new],
        ),
        "$XDSDocumentEntryPracticeSettingCode": (["('AMBULATOIRE^^1.2.250.1.213.1.1.4.9')"], []),
        "$XDSDocumentEntryHealthcareFacilityTypeCode": (["('SA01^^1.2.250.1.71.4.2.4')"], [old, new]),
        "$XDSDocumentEntryEventCodeList": (["('BACA008^^1.2.250.1.213.2.5')"], []),
        "$XDSDocumentEntryServiceStartTimeFrom": (["2010"], [old, new]),
        "$XDSDocumentEntryAuthorPerson": ([f"('{GP}^%')"], [old, new]),
        "$XDSDocumentEntryConfidentialityCode": (["('N^^2.16.840.1.113883.5.25')"], [old, new]),
    }
    for slot, (values, expected) in cases.items():
        reply = post("registry", R.query(vihf(now), R.FIND, _find(**{slot: values})), tenant)
        assert _ids(_ok(reply)) == [d.entry_uuid for d in expected], slot
    author = {"$XDSDocumentEntryAuthorPerson": [f"('{OTHER_PS}^%')"]}
    assert _ids(_ok(post("registry", R.query(vihf(now), R.FIND, _find(**author)), tenant))) == []


def test_masked_documents_seen_by_the_mt_and_their_author_only(
    post: Any, now: Any, tenant: str, store: Any, console: Any
) -> None:
    own = R.feed(store, tenant, visibility=("MASQUE_PS",))
    other = R.feed(store, tenant, ps=OTHER_PS, structure="1750000010", visibility=("MASQUE_PS",))
    invisible = R.feed(store, tenant, ps=OTHER_PS, structure="1750000010", visibility=("INVISIBLE_PATIENT",))
    plain = R.feed(store, tenant, ps=OTHER_PS, structure="1750000010")
    # Dr LEMAIRE is the MT (population): every document
    reply = post("registry", R.query(vihf(now), R.FIND, _find()), tenant)
    assert _ids(_ok(reply)) == [own.entry_uuid, other.entry_uuid, invisible.entry_uuid, plain.entry_uuid]
    console.put(
        f"/_sandbox/dmp/patients/{PATIENT}?tenant={tenant}",
        json={"medecin_traitant": "", "authorizations": {f"PS:{GP}": "VALIDE"}},
    ).raise_for_status()
    reply = post("registry", R.query(vihf(now), R.FIND, _find()), tenant)
    # not the MT: her own masked document, not another's; INVISIBLE_PATIENT hides from the patient only
    assert _ids(_ok(reply)) == [own.entry_uuid, invisible.entry_uuid, plain.entry_uuid]
    get = {"$XDSDocumentEntryUniqueId": [f"('{other.unique_id}')"]}
    assert _ids(_ok(post("registry", R.query(vihf(now), R.GET_DOCUMENTS, get), tenant))) == []


def test_an_older_version_of_a_masked_document_is_masked_too(
    post: Any, now: Any, tenant: str, store: Any, console: Any, not_mt: None
) -> None:
    """Found by the round trip: GetDocuments by the entryUUID of the version before the mask (an
    LGC may keep it from an earlier search) answered that unmasked version to any PS."""
    doc = R.feed(store, tenant, ps=OTHER_PS, structure="1750000010")
    masked = (*doc.confidentiality, M.Code("MASQUE_PS", R.VISIBILITY, "MASQUE_PS"))
    D.Documents(store).new_version(
        tenant, doc.entry_uuid, f"urn:uuid:{uuid.uuid4()}", doc.metadata_xml, confidentiality=masked
    )
    for query_id, slots in (
        (R.GET_DOCUMENTS, {"$XDSDocumentEntryEntryUUID": [f"('{doc.entry_uuid}')"]}),
        (R.GET_ASSOCIATIONS, {"$uuid": [f"('{doc.entry_uuid}')"]}),
    ):
        assert _ids(_ok(post("registry", R.query(vihf(now), query_id, slots), tenant))) == []
    # the médecin traitant still gets that version, Deprecated
    console.put(
        f"/_sandbox/dmp/patients/{PATIENT}?tenant={tenant}", json={"medecin_traitant": GP}
    ).raise_for_status()
    by_uuid = {"$XDSDocumentEntryEntryUUID": [f"('{doc.entry_uuid}')"]}
    reply = post("registry", R.query(vihf(now), R.GET_DOCUMENTS, by_uuid), tenant)
    assert [(e.get("id"), e.get("status")) for e in _entries(_ok(reply))] == [(doc.entry_uuid, R.DEPRECATED)]


def test_get_documents_leafclass_and_objectref(post: Any, now: Any, tenant: str, store: Any) -> None:
    a, b = R.feed(store, tenant), R.feed(store, tenant)
    stranger = R.feed(store, tenant, ins="242083726103567")  # another patient's document
    by_unique = {"$XDSDocumentEntryUniqueId": [f"('{a.unique_id}','{stranger.unique_id}')"]}
    reply = post("registry", R.query(vihf(now), R.GET_DOCUMENTS, by_unique, "ObjectRef"), tenant)
    refs = _entries(_ok(reply))
    assert [(etree.QName(r).localname, r.get("id")) for r in refs] == [("ObjectRef", a.entry_uuid)]
    by_uuid = {"$XDSDocumentEntryEntryUUID": [f"('{b.entry_uuid}')"]}
    reply = post("registry", R.query(vihf(now), R.GET_DOCUMENTS, by_uuid), tenant)
    (entry,) = _entries(_ok(reply))
    assert etree.QName(entry).localname == "ExtrinsicObject" and entry.get("id") == b.entry_uuid


def test_find_submission_sets_then_associations_then_documents(
    post: Any, now: Any, tenant: str, store: Any
) -> None:
    """SEL-MP-037 §3.5.1.3: filter by submission date with FindSubmissionSets + GetAssociations + GetDocuments."""
    R.feed(store, tenant, submission_time="20240101090000")
    recent = R.feed(store, tenant, submission_time="20240601090000")
    sets = {
        "$XDSSubmissionSetStatus": [f"('{R.APPROVED}')"],
        "$XDSSubmissionSetSubmissionTimeFrom": ["20240501"],
    }
    reply = post("registry", R.query(vihf(now), R.FIND_SETS, sets), tenant)
    (package,) = _entries(_ok(reply))
    assert etree.QName(package).localname == "RegistryPackage" and package.get("id") == recent.submission_set
    schemes = [
        c.get("classificationScheme") or c.get("classificationNode")
        for c in package.iter(f"{{{RIM}}}Classification")
    ]
    assert schemes[-1] == "urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd"
    links = {"$uuid": [f"('{recent.submission_set}')"]}
    reply = post("registry", R.query(vihf(now), R.GET_ASSOCIATIONS, links), tenant)
    (assoc,) = _entries(_ok(reply))
    assert (assoc.get("sourceObject"), assoc.get("targetObject")) == (
        recent.submission_set,
        recent.entry_uuid,
    )
    get = {"$XDSDocumentEntryEntryUUID": [f"('{assoc.get('targetObject')}')"]}
    reply = post("registry", R.query(vihf(now), R.GET_DOCUMENTS, get, "ObjectRef"), tenant)
    assert _ids(_ok(reply)) == [recent.entry_uuid]


def test_find_documents_by_reference_id(post: Any, now: Any, tenant: str, store: Any) -> None:
    accession = "ACC-42^^^&1.2.250.1.999.1.1.7898.9&ISO^urn:ihe:iti:xds:2013:accession"
    wanted = R.feed(store, tenant, reference_ids=(accession,))
    R.feed(store, tenant)
    slots = _find(**{"$XDSDocumentEntryReferenceIdList": [f"('{accession}')"]})
    reply = post("registry", R.query(vihf(now), R.BY_REFERENCE, slots), tenant)
    assert _ids(_ok(reply)) == [wanted.entry_uuid]


def test_patient_id_of_another_patient_or_oid(post: Any, now: Any, tenant: str, store: Any) -> None:
    R.feed(store, tenant)
    other = _find(**{"$XDSDocumentEntryPatientId": ["'242083726103567^^^&1.2.250.1.213.1.4.10&ISO^NH'"]})
    reply = post("registry", R.query(vihf(now), R.FIND, other), tenant)
    assert reply.status_code == 200 and _error(reply.content) == "XDSPatientIdDoesNotMatch"
    assert schema("query.xsd").validate(etree.fromstring(etree.tostring(_payload(reply.content))))
    production = _find(**{"$XDSDocumentEntryPatientId": [f"'{PATIENT}^^^&1.2.250.1.213.1.4.8&ISO^NH'"]})
    assert _ids(_ok(post("registry", R.query(vihf(now), R.FIND, production), tenant))) == []


@pytest.mark.parametrize(
    ("query_id", "slots", "code"),
    [
        ("urn:uuid:10b545ea-725c-446d-9b95-8aeb444eddf3", _find(), "XDSUnknownStoredQuery"),  # GetAll
        (R.FIND, {}, "XDSStoredQueryMissingParam"),
        (R.FIND, _find(**{"$XDSFolderPatientId": ["'x'"]}), "XDSStoredQueryParamNumber"),
        (R.FIND, {"$XDSDocumentEntryStatus": ["('urn:x')"]}, "XDSRegistryError"),
        (R.GET_DOCUMENTS, {}, "XDSStoredQueryMissingParam"),
    ],
)
def test_stored_query_errors(
    query_id: str, slots: dict[str, list[str]], code: str, post: Any, now: Any, tenant: str
) -> None:
    reply = post("registry", R.query(vihf(now), query_id, slots), tenant)
    assert reply.status_code == 200
    assert _action(reply.content) == "urn:ihe:iti:2007:RegistryStoredQueryResponse"
    assert _error(reply.content) == code
    assert schema("query.xsd").validate(etree.fromstring(etree.tostring(_payload(reply.content))))


def test_security_refusals_stay_soap_faults(post: Any, now: Any, tenant: str, console: Any) -> None:
    no_patient = post("registry", R.query(vihf(now, ins=None), R.FIND, _find()), tenant)
    assert no_patient.status_code == 500 and fault_of(no_patient.content)["subcode"] == "soap:DMPInvalidVIHF"
    console.put(
        f"/_sandbox/dmp/patients/{PATIENT}?tenant={tenant}", json={"dmp": "closed"}
    ).raise_for_status()
    closed = post("registry", R.query(vihf(now), R.FIND, _find()), tenant)
    assert _error(closed.content) == "XDSUnknownPatientId"


def test_indirect_mode_finds_references_only(
    post: Any, now: Any, tenant: str, store: Any, pki: Any, console: Any
) -> None:
    console.put(
        f"/_sandbox/dmp/patients/{PATIENT}?tenant={tenant}",
        json={"authorizations": {"ST:410100000016001": "VALIDE"}},
    ).raise_for_status()
    doc = R.feed(store, tenant, ps="local-1")

    def token() -> Any:
        signer = pki.credentials("410100000016001", "org_sign")
        return vihf(now, mode="INDIRECTE", name_id="local-1", signer=signer, pki=pki)

    search = post("registry", R.query(token(), R.FIND, _find()), tenant, cert="org")
    assert search.status_code == 500 and fault_of(search.content)["subcode"] == "soap:DMPAccessDenied"
    get = {"$XDSDocumentEntryUniqueId": [f"('{doc.unique_id}')"]}
    reply = post("registry", R.query(token(), R.GET_DOCUMENTS, get, "ObjectRef"), tenant, cert="org")
    assert _ids(_ok(reply)) == [doc.entry_uuid]


# -- TD3.3 ----------------------------------------------------------------------------------------
def test_official_td33d_then_td33c_archive_unarchive_delete(
    post: Any, now: Any, tenant: str, store: Any, dmp_runner: Any
) -> None:
    doc = R.feed(store, tenant)
    assert _ids(_ok(post("registry", R.query(vihf(now), R.FIND, _find()), tenant))) == [doc.entry_uuid]
    reply = post("registry", R.status_update(vihf(now), doc.entry_uuid, R.APPROVED, R.ARCHIVED), tenant)
    ours = _ok(reply, "RegistryResponse")
    official = (EXAMPLES / "TD3.3d_-_Archiver_un_document_reponse.xml").read_bytes()
    assert _action(ours) == _action(official) == "urn:ihe:iti:2010:UpdateDocumentSet-Response"
    assert declarations(ours) == declarations(official)
    assert structure(_payload(ours)) == structure(_payload(official))
    docs = D.Documents(store)
    assert docs.get(tenant, entry_uuid=doc.entry_uuid).status == "Archived"  # type: ignore[union-attr]
    # the next searches see the new status (the registry's answer cache is keyed by it)
    assert _ids(_ok(post("registry", R.query(vihf(now), R.FIND, _find()), tenant))) == []
    archived = {"$XDSDocumentEntryStatus": [f"('{R.ARCHIVED}')"]}
    (entry,) = _entries(_ok(post("registry", R.query(vihf(now), R.FIND, archived), tenant)))
    assert (entry.get("id"), entry.get("status")) == (doc.entry_uuid, R.ARCHIVED)
    # TD3.3c as the official request: Archived -> Deleted
    data = rekey("TD3.3c_-_Supprimer_un_document_requete.xml", vihf(now))
    data = data.replace(b"urn:uuid:fe5287a2-ae6a-11eb-8f5d-0050569e422e", doc.entry_uuid.encode())
    reply = post("registry", data, tenant)
    official_c = (EXAMPLES / "TD3.3c_-_Supprimer_un_document_reponse.xml").read_bytes()
    assert structure(_payload(_ok(reply, "RegistryResponse"))) == structure(_payload(official_c))
    assert docs.get(tenant, entry_uuid=doc.entry_uuid).status == "Deleted"  # type: ignore[union-attr]
    facts = dmp_runner.sandbox.evidence.find(tenant, kind="dmp.document.updated", subject=doc.unique_id)
    assert [f["data"]["action"] for f in facts] == ["archive", "delete"]
    # unarchive of another document
    other = R.feed(store, tenant, status="Archived")
    post("registry", R.status_update(vihf(now), other.entry_uuid, R.ARCHIVED, R.APPROVED), tenant)
    assert docs.get(tenant, entry_uuid=other.entry_uuid).status == "Approved"  # type: ignore[union-attr]


def test_status_change_errors(post: Any, now: Any, tenant: str, store: Any) -> None:
    doc = R.feed(store, tenant)
    wrong = post("registry", R.status_update(vihf(now), doc.entry_uuid, R.ARCHIVED, R.DELETED), tenant)
    assert _action(wrong.content) == "urn:ihe:iti:2010:UpdateDocumentSet-Response"
    assert _error(wrong.content) == "XDSMetadataUpdateError"
    assert schema("rs.xsd").validate(etree.fromstring(etree.tostring(_payload(wrong.content))))
    unknown = post(
        "registry", R.status_update(vihf(now), "urn:uuid:" + "0" * 32, R.APPROVED, R.ARCHIVED), tenant
    )
    assert _error(unknown.content) == "XDSMetadataUpdateError"
    assert D.Documents(store).get(tenant, entry_uuid=doc.entry_uuid).status == "Approved"  # type: ignore[union-attr]


def test_only_the_author_or_the_mt_updates(
    post: Any, now: Any, tenant: str, store: Any, not_mt: None
) -> None:
    others = R.feed(store, tenant, ps=OTHER_PS, structure="1750000010")
    reply = post("registry", R.status_update(vihf(now), others.entry_uuid, R.APPROVED, R.ARCHIVED), tenant)
    assert reply.status_code == 500 and fault_of(reply.content)["subcode"] == "soap:DMPAccessDenied"
    patients = R.feed(store, tenant, class_code="90")  # deposited by the patient: the MT only
    reply = post("registry", R.status_update(vihf(now), patients.entry_uuid, R.APPROVED, R.ARCHIVED), tenant)
    assert fault_of(reply.content)["subcode"] == "soap:DMPAccessDenied"
    docs = D.Documents(store)
    assert {docs.get(tenant, entry_uuid=d.entry_uuid).status for d in (others, patients)} == {"Approved"}  # type: ignore[union-attr]


def test_mask_and_unmask_as_new_metadata_versions(
    post: Any, now: Any, tenant: str, store: Any, dmp_runner: Any
) -> None:
    doc = R.feed(store, tenant)
    reply = post("registry", R.new_version(vihf(now), doc, ("MASQUE_PS",)), tenant)
    _ok(reply, "RegistryResponse")
    docs = D.Documents(store)
    v1, v2 = docs.versions(tenant, doc.lid)
    assert (v1.entry_uuid, v1.status, v2.version, v2.status) == (doc.entry_uuid, "Deprecated", 2, "Approved")
    assert v2.entry_uuid != doc.entry_uuid and v2.lid == doc.lid and v2.masked_ps
    found = post("registry", R.query(vihf(now), R.FIND, _find()), tenant)
    (entry,) = _entries(_ok(found))
    assert (entry.get("id"), entry.get("lid")) == (v2.entry_uuid, doc.lid)
    assert entry.find(f"{{{RIM}}}VersionInfo").get("versionName") == "2"  # type: ignore[union-attr]
    codes = [c.get("nodeRepresentation") for c in entry.findall(f"{{{RIM}}}Classification")]
    assert "MASQUE_PS" in codes
    stale = post("registry", R.new_version(vihf(now), v2, (), previous="1"), tenant)
    assert _error(stale.content) == "XDSMetadataVersionError"
    post("registry", R.new_version(vihf(now), v2, ()), tenant).raise_for_status()
    v3 = docs.get(tenant, lid=doc.lid)
    assert v3 is not None and not v3.masked_ps
    post("registry", R.new_version(vihf(now), v3, ("INVISIBLE_PATIENT",)), tenant).raise_for_status()
    latest = docs.get(tenant, lid=doc.lid)
    assert latest is not None and latest.version == 4 and latest.invisible_patient
    facts = dmp_runner.sandbox.evidence.find(tenant, kind="dmp.document.updated", subject=doc.unique_id)
    assert [f["data"]["action"] for f in facts] == ["mask", "unmask", "invisible_patient"]


def test_update_of_another_patient(post: Any, now: Any, tenant: str, store: Any) -> None:
    doc = R.feed(store, tenant)
    data = R.status_update(vihf(now), doc.entry_uuid, R.APPROVED, R.ARCHIVED).replace(
        f'value="{PATIENT}^^^'.encode(), b'value="242083726103567^^^'
    )
    assert _error(post("registry", data, tenant).content) == "XDSPatientIdDoesNotMatch"


def test_another_services_body_is_cxfs_unknown_part(post: Any, now: Any, tenant: str) -> None:
    reply = post("registry", rekey("TD0.2_-_Test_d_existence_requete.xml", vihf(now)), tenant)
    assert reply.status_code == 500
    assert fault_of(reply.content)["reason"].startswith("Message part {urn:hl7-org:v3}PRPA_IN201307UV02")


def test_a_fault_rule_answers_the_xds_error_in_the_operations_shape(
    post: Any, now: Any, tenant: str, console: Any
) -> None:
    rule = {"service": "dmp", "operation": "TD3.1", "error": "xds_registry_error", "times": 1}
    r = console.post("/_sandbox/faults", params={"tenant": tenant}, json=rule)
    assert r.status_code in (200, 201), r.text
    reply = post("registry", R.query(vihf(now), R.FIND, _find()), tenant)
    assert reply.status_code == 200 and _error(reply.content) == "XDSRegistryError"
    assert _action(reply.content) == "urn:ihe:iti:2007:RegistryStoredQueryResponse"
    assert _ok(post("registry", R.query(vihf(now), R.FIND, _find()), tenant))  # once only


def test_td33_is_journaled_and_representatives_visibility(
    post: Any, now: Any, tenant: str, store: Any, console: Any
) -> None:
    doc = R.feed(store, tenant)
    reply = post("registry", R.new_version(vihf(now), doc, ("INVISIBLE_REPRESENTANTS_LEGAUX",)), tenant)
    _ok(reply, "RegistryResponse")
    latest = D.Documents(store).get(tenant, lid=doc.lid)
    assert latest is not None and latest.invisible_representants and not latest.invisible_patient
    journal = console.get("/_sandbox/journal", params={"service": "dmp", "tenant": tenant, "limit": 5}).json()
    items = journal if isinstance(journal, list) else journal.get("entries", journal.get("items", []))
    (entry,) = [e for e in items if e["operation"] == "TD3.3"]
    assert entry["outcome"] == "invisible_patient" and entry["caller"] == f"DIRECTE {GP}"


def test_the_mt_archives_a_document_deposited_by_the_patient(
    post: Any, now: Any, tenant: str, store: Any
) -> None:
    deposited = R.feed(store, tenant, ps=PATIENT, structure="", class_code="90")
    reply = post("registry", R.status_update(vihf(now), deposited.entry_uuid, R.APPROVED, R.ARCHIVED), tenant)
    _ok(reply, "RegistryResponse")  # Dr LEMAIRE is Sophie GIRARD's médecin traitant
    assert D.Documents(store).get(tenant, entry_uuid=deposited.entry_uuid).status == "Archived"  # type: ignore[union-attr]


@pytest.fixture(scope="module")
def strict_dmp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runner]:
    runner = Runner(
        make_config(tmp_path_factory.mktemp("strict-dmp"), services="dmp", dmp_validation="strict")
    )
    runner.start()
    yield runner
    runner.stop()


def test_strict_mode_refuses_the_oid_mismatch(strict_dmp: Runner, tmp_path: Any) -> None:
    sandbox = strict_dmp.sandbox
    R.feed(sandbox.store, "default")
    creds = sandbox.pki.credentials(GP, "cps_auth")
    (tmp_path / "ca.pem").write_bytes(sandbox.pki.ca_bundle())
    cert, key = tmp_path / "c.pem", tmp_path / "k.pem"
    cert.write_bytes(creds.fullchain_pem)
    key.write_bytes(creds.key_pem)
    context = ssl.create_default_context(cafile=str(tmp_path / "ca.pem"))
    context.load_cert_chain(str(cert), str(key))
    url = strict_dmp.url("dmp", "/si-dmp-server/v2/services/registry")
    now = sandbox.now("default")
    production = _find(**{"$XDSDocumentEntryPatientId": [f"'{PATIENT}^^^&1.2.250.1.213.1.4.8&ISO^NH'"]})
    with httpx.Client(verify=context, timeout=30) as client:
        headers = {"Content-Type": CT}
        ok = client.post(url, content=R.query(vihf(now), R.FIND, _find()), headers=headers)
        assert len(_ids(_ok(ok))) == 1
        refused = client.post(url, content=R.query(vihf(now), R.FIND, production), headers=headers)
    assert _error(refused.content) == "XDSPatientIdDoesNotMatch"


def test_a_seeded_patient_has_the_documents_fed_before_the_lgc(
    post: Any, now: Any, tenant: str, console: Any, dmp_runner: Runner
) -> None:
    """The first document call about a seeded patient makes the tenant's seeded documents (dmp.seed):
    an LGC's FindDocuments sees them, as it would see what other professionals fed."""
    from dmp import seed

    ins = sorted(seed.seeded_ins(dmp_runner.sandbox))[0]
    docs = D.Documents(dmp_runner.sandbox.store)
    assert docs.by_patient(tenant, ins) == []  # nothing made before that call
    console.put(
        f"/_sandbox/dmp/patients/{ins}?tenant={tenant}",
        json={"medecin_traitant": GP, "authorizations": {f"PS:{GP}": "VALIDE"}},
    ).raise_for_status()
    found = _ids(_ok(post("registry", R.query(vihf(now, ins=ins), R.FIND, _find()), tenant)))
    approved = {
        d.entry_uuid for d in docs.by_patient(tenant, ins) if d.status == "Approved" and d.kind == "document"
    }
    assert found and set(found) <= approved, (found, approved)
