"""One LGC's whole document life on the DMP, over mutual TLS, with independent clients (issue 14
"Tests", the round trip): httpx posts the official requests re-keyed (ITI-41 built by
provide_support, ITI-18 / ITI-57 by registry_support, ITI-43 by test_dmp_retrieve's builder),
requests-toolbelt's MultipartDecoder reads the MTOM answers, zeep from the official WSDL sends one
ITI-18 and one ITI-57.

feed (TD2.1) -> find (TD3.1, Approved) -> retrieve (TD3.2, the bytes) -> mask (TD3.3a, a new
metadata version) -> another PS, neither MT nor author, neither finds nor reads it -> the MT does
-> archive / unarchive (TD3.3d) -> replace (TD2.1 RPLC) -> delete (TD3.3c); then the journal,
the evidence ledger and the documents control route tell the same story.

Personas (docs/personas.md): Dr Camille LEMAIRE (GP) is the author; Dr Moussa DIALLO (GP, centre
de santé des Lilas) is made Sophie GIRARD's médecin traitant once the document is masked, so that
the MT's right is not the author's; Dr Hugo FONTAINE (hospital) is the other PS. All three hold a
VALIDE authorisation on her DMP."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from lxml import etree

from tests.dmp import provide_support as P
from tests.dmp import registry_support as R
from tests.dmp.conftest import tls_context, write
from tests.dmp.support import CENTRE, CT, GP, GP_STRUCTURE, PATIENT, TEST_OID, WSSE, fault_of, vihf
from tests.dmp.test_dmp_provide import _related, _replacing, _response
from tests.dmp.test_dmp_registry import _entries, _ok
from tests.dmp.test_dmp_registry_zeep import _values
from tests.dmp.test_dmp_retrieve import attachment_of, fault, mtom, status_of, xsd_valid
from tests.dmp.test_dmp_retrieve import request as retrieve_request
from tests.dmp.test_dmp_zeep import _client

RIM = R.RIM
SUCCESS = "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success"
CX = f"{PATIENT}^^^&{TEST_OID}&ISO^NH"
UNIQUE_ID_SCHEME = "urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab"
SS_PATIENT_ID = "urn:uuid:6b5aea1a-874d-4603-a4bc-96a0a7b38446"
REGISTRY_BINDING = "{urn:ihe:iti:xds-b:2007}DocumentRegistry_Binding_Soap12"


@dataclass(frozen=True)
class Ps:
    """A professional as the VIHF names them: id, situation d'exercice (structure, sector), specialty."""

    id: str
    structure: str
    secteur: str
    specialty: str | None


AUTHOR = Ps(GP, GP_STRUCTURE, "SA07", "SM54")  # Dr Camille LEMAIRE, her cabinet
MT = Ps("810100000040", CENTRE, "SA05", "SM26")  # Dr Moussa DIALLO
OTHER = Ps("810100000032", "1370000028", "SA01", "SM04")  # Dr Hugo FONTAINE, CH de Tours


@pytest.fixture
def world(
    dmp_runner: Any, pem_dir: Path, creds: Any, dmp_url: Any, console: Any, tenant: str
) -> Iterator[SimpleNamespace]:
    """Per professional: an httpx client with their CPS authentication certificate, their PEM pair
    (for zeep), and a VIHF maker on the tenant's clock."""
    certs = {p.id: write(pem_dir, f"rt-{p.id}", creds(p.id, "cps_auth")) for p in (AUTHOR, MT, OTHER)}
    clients = {
        ident: httpx.Client(verify=tls_context(pem_dir / "ca.pem", cert), timeout=30)
        for ident, cert in certs.items()
    }

    def token(ps: Ps) -> etree._Element:
        now = dmp_runner.sandbox.now(tenant)
        return vihf(now, name_id=ps.id, structure=ps.structure, secteur=ps.secteur, specialty=ps.specialty)

    def post(ps: Ps, service: str, data: bytes, content_type: str = CT) -> httpx.Response:
        headers = {"Content-Type": content_type, "X-Sandbox-Tenant": tenant}
        return clients[ps.id].post(dmp_url(service), content=data, headers=headers)

    def registry_service(ps: Ps) -> Any:
        return _client(
            "XDS.b_DocumentRegistry.wsdl", REGISTRY_BINDING, dmp_url("registry"),
            str(pem_dir / "ca.pem"), certs[ps.id], tenant,
        )  # fmt: skip

    yield SimpleNamespace(token=token, post=post, registry=registry_service, creds=creds)
    for client in clients.values():
        client.close()


# -- what the LGC reads back ------------------------------------------------------------------------
def find(w: Any, ps: Ps, status: str) -> list[etree._Element]:
    """ITI-18 FindDocuments (LeafClass) on the patient, one status: the ExtrinsicObjects answered."""
    slots = {"$XDSDocumentEntryPatientId": [f"'{CX}'"], "$XDSDocumentEntryStatus": [f"('{status}')"]}
    return _entries(_ok(w.post(ps, "registry", R.query(w.token(ps), R.FIND, slots))))


def unique_id(entry: etree._Element) -> str:
    return next(
        i.get("value", "")
        for i in entry.iter(f"{{{RIM}}}ExternalIdentifier")
        if i.get("identificationScheme") == UNIQUE_ID_SCHEME
    )


def version_of(entry: etree._Element) -> int:
    info = entry.find(f"{{{RIM}}}VersionInfo")
    assert info is not None
    return int(info.get("versionName", "0"))


def slot(entry: etree._Element, name: str) -> list[str]:
    for s in entry.findall(f"{{{RIM}}}Slot"):
        if s.get("name") == name:
            return [v.text or "" for v in s.iter(f"{{{RIM}}}Value")]
    return []


def codes(entry: etree._Element) -> list[str | None]:
    return [c.get("nodeRepresentation") for c in entry.findall(f"{{{RIM}}}Classification")]


def retrieve(w: Any, ps: Ps, unique: str) -> httpx.Response:
    return w.post(ps, "repository", retrieve_request(w.token(ps), unique))  # type: ignore[no-any-return]


def read(w: Any, ps: Ps, unique: str) -> bytes:
    """ITI-43 of one document, answered Success in MTOM (XSD-valid): its bytes."""
    root, parts, _ = mtom(retrieve(w, ps, unique))
    assert status_of(root) == SUCCESS
    xsd_valid(root, parts)
    return attachment_of(root, parts)


def as_answered(entry: etree._Element) -> Any:
    """What R.new_version needs of a document, taken from the ITI-18 answer (as an LGC does)."""
    return SimpleNamespace(
        metadata_xml=etree.tostring(entry).decode(), lid=entry.get("lid"), version=version_of(entry)
    )


def feed(w: Any, ps: Ps, **options: Any) -> tuple[httpx.Response, P.Ids, bytes]:
    """ITI-41: the official TD2.1 request re-keyed, signed (XAdES) with `ps`'s CPS signature key;
    the CDA's bytes as sent."""
    sent: list[bytes] = []
    transform: Callable[[bytes], bytes] = options.pop("cda", lambda cda: cda)

    def keep(cda: bytes) -> bytes:
        sent.append(transform(cda))
        return sent[-1]

    body, content_type, ids = P.official_td21(
        w.token(ps), w.creds(ps.id, "cps_sign"), author=ps.id, structure=ps.structure, cda=keep, **options
    )
    return w.post(ps, "repository", body, content_type), ids, sent[0]


def _security(w: Any, ps: Ps) -> etree._Element:
    security = etree.Element(f"{{{WSSE}}}Security", nsmap={"wsse": WSSE})
    security.append(w.token(ps))
    return security


def test_a_document_from_feed_to_delete(world: Any, console: Any, tenant: str) -> None:
    w = world
    grant = {f"PS:{p.id}": "VALIDE" for p in (AUTHOR, MT, OTHER)}
    console.put(
        f"/_sandbox/dmp/patients/{PATIENT}", params={"tenant": tenant}, json={"authorizations": grant}
    ).raise_for_status()

    # 1. TD2.1: the author feeds the letter
    reply, first, cda = feed(w, AUTHOR)
    assert _response(reply).get("status") == SUCCESS

    # 2. TD3.1: found, Approved, version 1, hash and size of the bytes sent
    (entry,) = find(w, AUTHOR, R.APPROVED)
    assert unique_id(entry) == first.document and entry.get("status") == R.APPROVED
    lid, v1_uuid = entry.get("lid"), entry.get("id")
    assert lid == v1_uuid and version_of(entry) == 1
    assert slot(entry, "hash") == [hashlib.sha1(cda).hexdigest()]  # noqa: S324 - XDS's hash
    assert slot(entry, "size") == [str(len(cda))]

    # 3. TD3.2: the very bytes, in CXF MTOM
    assert read(w, AUTHOR, first.document) == cda

    # 4. TD3.3a: masked to professionals, from the metadata the search answered: a new version
    masking = R.new_version(w.token(AUTHOR), as_answered(entry), ("MASQUE_PS",))
    _ok(w.post(AUTHOR, "registry", masking), "RegistryResponse")
    (masked,) = find(w, AUTHOR, R.APPROVED)
    assert (masked.get("lid"), version_of(masked), unique_id(masked)) == (lid, 2, first.document)
    v2_uuid = masked.get("id")
    assert v2_uuid != v1_uuid and "MASQUE_PS" in codes(masked)
    assert slot(masked, "hash") == slot(entry, "hash") and slot(masked, "size") == slot(entry, "size")
    # the first version, Deprecated, is answered by its entryUUID (FindDocuments answers the latest)
    get = {"$XDSDocumentEntryEntryUUID": [f"('{v1_uuid}')"]}
    reply = w.post(AUTHOR, "registry", R.query(w.token(AUTHOR), R.GET_DOCUMENTS, get))
    (old,) = _entries(_ok(reply))
    assert (old.get("id"), old.get("status"), version_of(old)) == (v1_uuid, R.DEPRECATED, 1)
    assert "MASQUE_PS" not in codes(old)

    # 5. Dr DIALLO becomes the médecin traitant; Dr FONTAINE (neither MT nor author) sees nothing
    console.put(
        f"/_sandbox/dmp/patients/{PATIENT}", params={"tenant": tenant}, json={"medecin_traitant": MT.id}
    ).raise_for_status()
    assert find(w, OTHER, R.APPROVED) == []
    for ident in (v1_uuid, v2_uuid):  # nor by an entryUUID seen before the mask
        get = {"$XDSDocumentEntryEntryUUID": [f"('{ident}')"]}
        assert _entries(_ok(w.post(OTHER, "registry", R.query(w.token(OTHER), R.GET_DOCUMENTS, get)))) == []
    get = {"$XDSDocumentEntryUniqueId": [f"('{first.document}')"]}
    assert _entries(_ok(w.post(OTHER, "registry", R.query(w.token(OTHER), R.GET_DOCUMENTS, get)))) == []
    refused = fault(retrieve(w, OTHER, first.document))
    assert refused["subcode"] == "soap:DMPAccessDenied"
    assert refused["reason"].startswith("Document masqué aux professionnels de santé")

    # 6. the MT finds it (zeep, from the official WSDL) and reads it
    service = w.registry(MT)
    out = service.DocumentRegistry_RegistryStoredQuery(
        ResponseOption={"returnType": "LeafClass", "returnComposedObjects": True},
        AdhocQuery={
            "id": R.FIND,
            "Slot": [
                {"name": "$XDSDocumentEntryPatientId", "ValueList": _values(f"'{CX}'")},
                {"name": "$XDSDocumentEntryStatus", "ValueList": _values(f"('{R.APPROVED}')")},
            ],
        },
        _soapheaders=[_security(w, MT)],
    )
    assert out.status == SUCCESS and out.totalResultCount == 1
    raw = list(out.RegistryObjectList._raw_elements)  # noqa: SLF001 - zeep keeps the members raw
    assert [(r.get("id"), r.get("lid")) for r in raw] == [(v2_uuid, lid)]
    assert read(w, MT, first.document) == cda

    # 7. TD3.3d: the author archives it (zeep), the searches by status follow
    service = w.registry(AUTHOR)
    element = service._binding.wsdl.types.get_element  # noqa: SLF001 - the WSDL's own types
    package = element(f"{{{RIM}}}RegistryPackage")(
        id="SubmissionSet01",
        Slot=[{"name": "submissionTime", "ValueList": _values("20240601100000")}],
        ExternalIdentifier=[
            {"registryObject": "SubmissionSet01", "identificationScheme": SS_PATIENT_ID, "value": CX}
        ],
    )
    association = element(f"{{{RIM}}}Association")(
        id="association1",
        associationType="urn:ihe:iti:2010:AssociationType:UpdateAvailabilityStatus",
        sourceObject="SubmissionSet01",
        targetObject=v2_uuid,
        Slot=[
            {"name": "OriginalStatus", "ValueList": _values(R.APPROVED)},
            {"name": "NewStatus", "ValueList": _values(R.ARCHIVED)},
        ],
    )
    out = service.DocumentRegistry_UpdateDocumentSet(
        RegistryObjectList={"Identifiable": [package, association]}, _soapheaders=[_security(w, AUTHOR)]
    )
    assert out.status == SUCCESS
    assert find(w, AUTHOR, R.APPROVED) == []
    (archived,) = find(w, AUTHOR, R.ARCHIVED)
    assert (archived.get("id"), archived.get("status")) == (v2_uuid, R.ARCHIVED)
    assert find(w, OTHER, R.ARCHIVED) == []  # archived, still masked

    # 8. TD3.3d: unarchived
    unarchive = R.status_update(w.token(AUTHOR), v2_uuid, R.ARCHIVED, R.APPROVED)
    _ok(w.post(AUTHOR, "registry", unarchive), "RegistryResponse")
    assert [e.get("id") for e in find(w, AUTHOR, R.APPROVED)] == [v2_uuid]

    # 9. TD2.1 RPLC: a new document replaces it, the CDA's relatedDocument naming it
    reply, second, cda2 = feed(w, AUTHOR, envelope=_replacing(v2_uuid), cda=_related(first.document))
    assert _response(reply).get("status") == SUCCESS
    (current,) = find(w, AUTHOR, R.APPROVED)
    assert unique_id(current) == second.document and version_of(current) == 1
    replaced = {unique_id(e): e.get("id") for e in find(w, AUTHOR, R.DEPRECATED)}
    assert replaced == {first.document: v2_uuid}
    assert b'<relatedDocument typeCode="RPLC"><parentDocument><id root="' + first.document.encode() in cda2
    assert read(w, AUTHOR, second.document) == cda2
    assert read(w, AUTHOR, first.document) == cda  # replaced, still readable (TD3.2:obsolete)
    links = {"$uuid": [f"('{v2_uuid}')"]}
    reply = w.post(AUTHOR, "registry", R.query(w.token(AUTHOR), R.GET_ASSOCIATIONS, links))
    answered = [(a.get("associationType", "").rsplit(":", 1)[1], a.get("sourceObject"), a.get("targetObject"))
                for a in _entries(_ok(reply))]  # fmt: skip
    assert [kind for kind, _, _ in answered] == [
        "HasMember", "UpdateAvailabilityStatus", "UpdateAvailabilityStatus", "RPLC"
    ]  # fmt: skip
    assert answered[-1][1:] == (current.get("id"), v2_uuid)

    # 10. TD3.3c: the replacement deleted; nothing Approved is left
    delete = R.status_update(w.token(AUTHOR), current.get("id", ""), R.APPROVED, R.DELETED)
    _ok(w.post(AUTHOR, "registry", delete), "RegistryResponse")
    assert find(w, AUTHOR, R.APPROVED) == []
    (deleted,) = find(w, AUTHOR, R.DELETED)
    assert unique_id(deleted) == second.document

    # 11. the journal, the evidence ledger and the control route tell the same story
    journal = console.get(
        "/_sandbox/journal", params={"tenant": tenant, "service": "dmp", "limit": 100, "order": "asc"}
    ).json()
    lines = [(e["operation"], e["status"], e["outcome"]) for e in journal]
    # every search answered; TD0.1 is each TLS connection's first authenticated call (5 clients)
    searches = [line for line in lines if line[0] == "TD3.1"]
    assert len(searches) == 17 and {status for _, status, _ in searches} == {200}, searches
    assert len([line for line in lines if line[0] == "TD0.1"]) >= 5
    assert [line for line in lines if line[0] not in ("TD3.1", "TD0.1")] == [
        ("TD2.1", 200, "Success"),
        ("TD3.2", 200, "1 document(s)"),
        ("TD3.3", 200, "mask"),
        ("TD3.2", 500, "error refus_masque"),
        ("TD3.2", 200, "1 document(s)"),
        ("TD3.3", 200, "archive"),
        ("TD3.3", 200, "unarchive"),
        ("TD2.1", 200, "Success"),
        ("TD3.2", 200, "1 document(s)"),
        ("TD3.2", 200, "1 document(s)"),
        ("TD3.3", 200, "delete"),
    ], lines
    evidence = lambda kind: console.get(  # noqa: E731
        "/_sandbox/evidence", params={"tenant": tenant, "kind": kind}
    ).json()
    assert [f["subject"] for f in evidence("dmp.document.accepted")] == [first.document, second.document]
    updated = [(f["subject"], f["data"]["action"]) for f in evidence("dmp.document.updated")]
    assert updated == [
        (first.document, "mask"),
        (first.document, "archive"),
        (first.document, "unarchive"),
        (second.document, "delete"),
    ]
    shown = console.get(f"/_sandbox/dmp/documents/{first.document}", params={"tenant": tenant}).json()
    assert [(v["entryUUID"], v["version"], v["status"]) for v in shown["versions"]] == [
        (v1_uuid, 1, "Deprecated"),
        (v2_uuid, 2, "Deprecated"),
    ]
    assert shown["replacedBy"] == second.document and shown["visibility"] == ["MASQUE_PS"]
    # the lot's XAdES is still the masked version's (its submission set is the update's)
    assert (shown["signature"]["valid"], shown["signature"]["uniqueId"]) == (True, first.signature)
    listed = console.get("/_sandbox/dmp/documents", params={"tenant": tenant, "ins": PATIENT}).json()
    assert [(d["uniqueId"], d["status"], d["replaces"], d["replacedBy"]) for d in listed["documents"]] == [
        (first.document, "Deprecated", "", second.document),
        (second.document, "Deleted", first.document, ""),
    ]
    page = console.get(f"/dmp/patients/{PATIENT}", params={"tenant": tenant})  # the console's viewer
    assert page.status_code == 200
    assert all(w in page.text for w in ("remplacé", "supprimé", "masqué aux professionnels")), page.text
    again = console.get(f"/_sandbox/dmp/documents/{second.document}", params={"tenant": tenant}).json()
    assert (again["status"], again["replaces"], len(again["versions"])) == ("Deleted", first.document, 1)


def test_an_indirect_lgc_feeds_replaces_and_deletes(
    post: Any, console: Any, tenant: str, creds: Any, pki: Any, dmp_runner: Any
) -> None:
    """The structure's LGC (indirect mode, ORG certificates): what the matrix leaves it of the
    round trip: feed, find the reference (GetDocuments ObjectRef), replace, delete; no metadata
    search, no retrieve, no archive."""
    console.put(
        f"/_sandbox/dmp/patients/{PATIENT}",
        params={"tenant": tenant},
        json={"authorizations": {f"ST:{GP_STRUCTURE}": "VALIDE"}},
    ).raise_for_status()
    signer = creds(GP_STRUCTURE, "org_sign")

    def token() -> etree._Element:
        return vihf(dmp_runner.sandbox.now(tenant), signer=signer, pki=pki, mode="INDIRECTE", name_id="lgc-1")

    def send(service: str, data: bytes, content_type: str = CT) -> httpx.Response:
        return post(service, data, tenant, cert="org", content_type=content_type)  # type: ignore[no-any-return]

    def reference(unique: str) -> list[etree._Element]:
        get = {"$XDSDocumentEntryUniqueId": [f"('{unique}')"]}
        return _entries(_ok(send("registry", R.query(token(), R.GET_DOCUMENTS, get, "ObjectRef"))))

    body, content_type, first = P.official_td21(token(), signer)
    assert _response(send("repository", body, content_type)).get("status") == SUCCESS
    (ref,) = reference(first.document)
    assert etree.QName(ref).localname == "ObjectRef"
    v1 = ref.get("id", "")
    for refused in (
        send("registry", R.query(token(), R.FIND, {"$XDSDocumentEntryStatus": [f"('{R.APPROVED}')"]})),
        send("registry", R.status_update(token(), v1, R.APPROVED, R.ARCHIVED)),
    ):
        assert refused.status_code == 500 and fault_of(refused.content)["subcode"] == "soap:DMPAccessDenied"
    assert (
        fault(send("repository", retrieve_request(token(), first.document)))["subcode"]
        == "soap:DMPAccessDenied"
    )

    body, content_type, second = P.official_td21(
        token(), signer, envelope=_replacing(v1), cda=_related(first.document)
    )
    assert _response(send("repository", body, content_type)).get("status") == SUCCESS
    (ref2,) = reference(second.document)
    _ok(
        send("registry", R.status_update(token(), ref2.get("id", ""), R.APPROVED, R.DELETED)),
        "RegistryResponse",
    )
    shown = console.get("/_sandbox/dmp/documents", params={"tenant": tenant, "ins": PATIENT}).json()
    assert [(d["uniqueId"], d["status"]) for d in shown["documents"]] == [
        (first.document, "Deprecated"),
        (second.document, "Deleted"),
    ]
    facts = console.get(
        "/_sandbox/evidence", params={"tenant": tenant, "kind": "dmp.document.updated"}
    ).json()
    assert [(f["subject"], f["data"]["action"]) for f in facts] == [(second.document, "delete")]
    accepted = console.get(
        "/_sandbox/evidence", params={"tenant": tenant, "kind": "dmp.document.accepted"}
    ).json()
    assert [(f["data"]["auth_mode"], f["data"]["structure"], f["data"]["replaces"]) for f in accepted] == [
        ("INDIRECTE", GP_STRUCTURE, ""),
        ("INDIRECTE", GP_STRUCTURE, first.document),
    ]
