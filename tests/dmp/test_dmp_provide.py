"""TD2.1 / TD2.2 (ITI-41 ProvideAndRegisterDocumentSet-b on `repository`) over mutual TLS: the
official TD2.1 request re-keyed and sent as soapUI sent it (MTOM, SOAP 1.1 envelope, Cp1252 parts,
file-name Content-IDs, Document@id case) and with inline base64; the answer compared in structure
with the official response and validated against ebRS rs.xsd; what is stored, journaled and
established as evidence; the XAdES, metadata, author, RPLC and CDA rules; bad input answered in
the DMP's shape with nothing stored."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import re
import socket
from functools import cache
from typing import Any

import httpx
import pytest
from lxml import etree

from dmp.documents import Documents
from tests.dmp import provide_support as P
from tests.dmp import registry_support as R
from tests.dmp.conftest import tls_context, write
from tests.dmp.schemas import CONTRACT
from tests.dmp.support import (
    CLOSED,
    GP,
    GP_STRUCTURE,
    PATIENT,
    S12,
    TEST_OID,
    declarations,
    fault_of,
    structure,
    vihf,
)

RS = "urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0"
WSA = "http://www.w3.org/2005/08/addressing"
SUCCESS = "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success"
FAILURE = "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Failure"


@cache
def rs_schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(CONTRACT / "schema" / "ebRS" / "rs.xsd")))


def _response(reply: Any) -> etree._Element:
    assert reply.status_code == 200, reply.text
    root = etree.fromstring(reply.content)
    assert root.tag == f"{{{S12}}}Envelope"
    found = root.find(f"{{{S12}}}Body/{{{RS}}}RegistryResponse")
    assert found is not None, reply.text
    assert rs_schema().validate(etree.fromstring(etree.tostring(found))), rs_schema().error_log
    return found


def _errors(reply: Any) -> list[tuple[str, str]]:
    response = _response(reply)
    assert response.get("status") == FAILURE, reply.text
    return [
        (e.get("errorCode", ""), e.get("codeContext", "")) for e in response.iter(f"{{{RS}}}RegistryError")
    ]


def _journal(console: Any, tenant: str) -> dict[str, Any]:
    entries = console.get("/_sandbox/journal", params={"service": "dmp", "tenant": tenant, "limit": 1}).json()
    items = entries if isinstance(entries, list) else entries.get("entries", entries.get("items", []))
    return items[0]


@pytest.fixture
def feed(post: Any, now: Any, tenant: str, creds: Any) -> Any:
    """Send the re-keyed official request (options of provide_support.official_td21)."""

    def send(*, assertion: etree._Element | None = None, signer: Any = "gp", **kw: Any) -> tuple[Any, P.Ids]:
        signing = creds(GP, "cps_sign") if signer == "gp" else signer
        body, content_type, ids = P.official_td21(
            assertion if assertion is not None else vihf(now), signing, **kw
        )
        return post("repository", body, tenant, content_type=content_type), ids

    return send


def test_the_official_request_is_stored_and_answered_like_the_official_response(
    feed: Any, dmp_runner: Any, tenant: str, console: Any
) -> None:
    reply, ids = feed()
    response = _response(reply)
    assert response.get("status") == SUCCESS and len(response) == 0
    official = P.RESPONSE.read_bytes()
    assert structure(reply.content) == structure(official)
    assert declarations(reply.content) == declarations(official)
    root = etree.fromstring(reply.content)
    assert root.findtext(f".//{{{WSA}}}Action") == "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-bResponse"
    docs = Documents(dmp_runner.sandbox.store)
    stored = docs.get(tenant, unique_id=ids.document)
    assert stored is not None and stored.status == "Approved" and stored.kind == "document"
    _, cda, _ = P.parts()
    content = docs.content(tenant, ids.document)
    assert content is not None and b"<ClinicalDocument" in content and PATIENT.encode() in content
    assert stored.hash == hashlib.sha1(content).hexdigest() and stored.size == len(content)  # noqa: S324
    assert stored.ins == PATIENT and stored.ins_oid == TEST_OID and stored.xades["valid"] is True
    signature = docs.get(tenant, unique_id=ids.signature)
    assert signature is not None and signature.kind == "signature" and signature.masked_ps
    kinds = {a.type.rsplit(":", 1)[1] for a in docs.associations(tenant, source=signature.entry_uuid)}
    assert kinds == {"signs"}
    assert docs.submission_set(tenant, unique_id=ids.submission_set) is not None
    entry = _journal(console, tenant)
    assert (entry["operation"], entry["status"], entry["outcome"]) == ("TD2.1", 200, "Success")
    rules = {f["rule"] for f in entry["findings"]}
    own = [
        f
        for f in entry["findings"]
        if f["rule"].startswith(("DMP-XDS", "DMP-TIME")) and f["severity"] == "error"
    ]
    assert not own, own  # the official metadata are clean
    assert {"DMP-SOAP11", "DMP-XDS-DOCUMENT-ID", "DMP-XDS-CHARSET"} <= rules, rules
    facts = dmp_runner.sandbox.evidence.find(tenant, kind="dmp.document.accepted")
    assert [f["subject"] for f in facts] == [ids.document]
    data = facts[0]["data"]
    assert data["ins"] == PATIENT and data["ins_qualified"] is False
    assert (data["type_code"], data["format_code"], data["class_code"]) == (
        "27899-4",
        "urn:ihe:iti:xds-sd:text:2008",
        "10",
    )
    assert data["author_rpps"] == GP and data["replaces"] == "" and data["confidentiality"] == ["N"]


def test_inline_base64_is_accepted_and_reported(
    feed: Any, dmp_runner: Any, tenant: str, console: Any
) -> None:
    reply, ids = feed(inline=True)
    assert _response(reply).get("status") == SUCCESS
    assert Documents(dmp_runner.sandbox.store).exists(tenant, ids.document)
    assert "DMP-XDS-INLINE" in {f["rule"] for f in _journal(console, tenant)["findings"]}


# -- the lot's XAdES --------------------------------------------------------------------------------
SIGNATURE_OBJECT = rb'<ExtrinsicObject id="Signature01".*?</ExtrinsicObject>'


def _drop(*patterns: bytes) -> Any:
    return lambda root: _sub(root, *[(p, b"") for p in patterns])


def _sub(root: bytes, *pairs: tuple[bytes, bytes]) -> bytes:
    for pattern, new in pairs:
        changed = re.sub(pattern, new, root, count=1, flags=re.S)
        assert changed != root, pattern
        root = changed
    return root


def _nothing_stored(dmp_runner: Any, tenant: str, ids: P.Ids) -> None:
    docs = Documents(dmp_runner.sandbox.store)
    assert not docs.exists(tenant, ids.document) and not docs.exists(tenant, ids.signature)
    assert docs.submission_set(tenant, unique_id=ids.submission_set) is None
    assert dmp_runner.sandbox.evidence.count(tenant, kind="dmp.document.accepted") == 0


REFUSED = {
    "unsigned lot": (
        {"envelope": _drop(SIGNATURE_OBJECT, rb'<Association[^>]*id="assoc2".*?</Association>',
                           rb'<Association[^>]*id="assoc3".*?</Association>', rb'<ns4:Document id="Signature01">.*?</ns4:Document>')},
        "XDSRegistryMetadataError", "non signé",
    ),
    "no signs association": (
        {"envelope": _drop(rb'<Association[^>]*id="assoc3".*?</Association>')},
        "XDSRegistryMetadataError", "urn:ihe:iti:2007:AssociationType:signs",
    ),
    "wrong XAdES digest": (
        {"tamper": lambda cda: cda.replace(b"Exemple de Document", b"Exemple modifie")},
        "XDSRegistryMetadataError", "XAdES du lot invalide",
    ),
    "XAdES not XML": ({"xades": b"pas une signature"}, "XDSRegistryMetadataError", "XAdES du lot invalide"),
    "patientId OID mismatch": (
        {"envelope": lambda root: root.replace(b"1.2.250.1.213.1.4.10&amp;ISO^NH^^20100907", b"1.2.250.1.213.1.4.8&amp;ISO^NH^^20100907")},
        "XDSPatientIdDoesNotMatch", "1.2.250.1.213.1.4.8",
    ),
    "no Document for an ExtrinsicObject": (
        {"envelope": _drop(rb'<ns4:Document id="documentME2">.*?</ns4:Document>')},
        "XDSMissingDocument", "DocumentME2",
    ),
    "a Document without metadata": (
        {"envelope": lambda root: _sub(root, (rb"</ns4:ProvideAndRegisterDocumentSetRequest>",
                                              b'<ns4:Document id="Extra01">PHgvPg==</ns4:Document></ns4:ProvideAndRegisterDocumentSetRequest>'))},
        "XDSMissingDocumentMetadata", "Extra01",
    ),
    "hash not the bytes'": (
        {"envelope": lambda root: _sub(root, (rb'(<ExtrinsicObject id="DocumentME2"[^>]*>)',
                                              rb'\1<Slot name="hash"><ValueList><Value>da39a3ee5e6b4b0d3255bfef95601890afd80709</Value></ValueList></Slot>'))},
        "XDSNonIdenticalHash", "da39a3ee",
    ),
    "size not the bytes'": (
        {"envelope": lambda root: _sub(root, (rb'(<ExtrinsicObject id="DocumentME2"[^>]*>)',
                                              rb'\1<Slot name="size"><ValueList><Value>12</Value></ValueList></Slot>'))},
        "XDSNonIdenticalSize", "size 12",
    ),
    "a text/xml document that is not a CDA": (
        {"cda": lambda _cda: b"<note>pas un CDA</note>"}, "XDSRepositoryMetadataError", "n'est pas un CDA R2",
    ),
    "an author other than the caller (EX_2.1-1140)": (
        {"envelope": lambda root: root.replace(f"{GP}^MAX^LIBRE".encode(), b"899900077985^MAX^LIBRE")},
        "XDSRegistryMetadataError", "Aucun auteur",
    ),
    "two objects with one id": (
        {"envelope": lambda root: root.replace(b'id="Signature01" mimeType', b'id="DocumentME2" mimeType')},
        "XDSRegistryMetadataError",
        "DocumentME2",
    ),
    "no classCode": (
        {"envelope": _drop(rb'<Classification classificationScheme="urn:uuid:41a5887f[^>]*classifiedObject="DocumentME2".*?</Classification>')},
        "XDSRegistryMetadataError", "classCode",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", REFUSED)
def test_refused_submissions_store_nothing(
    feed: Any, dmp_runner: Any, tenant: str, console: Any, case: str
) -> None:
    options, code, context = REFUSED[case]
    reply, ids = feed(**options)
    found = _errors(reply)
    assert found and found[0][0] == code and context in found[0][1], found
    _nothing_stored(dmp_runner, tenant, ids)
    entry = _journal(console, tenant)
    assert entry["operation"] == "TD2.1" and entry["outcome"] == f"Failure {code}"


def test_a_uniqueid_is_fed_once(feed: Any, post: Any, now: Any, tenant: str, creds: Any) -> None:
    body, content_type, ids = P.official_td21(vihf(now), creds(GP, "cps_sign"))
    assert _response(post("repository", body, tenant, content_type=content_type)).get("status") == SUCCESS
    found = _errors(post("repository", body, tenant, content_type=content_type))
    assert found[0][0] == "XDSDuplicateUniqueIdInRegistry" and ids.document in found[0][1]


def test_a_patient_without_an_open_dmp(feed: Any, now: Any, dmp_runner: Any, tenant: str) -> None:
    reply, ids = feed(assertion=vihf(now, ins=CLOSED), ins=CLOSED)
    assert _errors(reply)[0][0] == "XDSUnknownPatientId"
    _nothing_stored(dmp_runner, tenant, ids)


REPORTED = {
    "a classCode outside JDV_J57": (
        lambda root: root.replace(b'classifiedObject="DocumentME2" id="cla5" nodeRepresentation="10"',
                                  b'classifiedObject="DocumentME2" id="cla5" nodeRepresentation="99"'),
        "DMP-XDS-CODE", "JDV_J57",
    ),
    "a wrong codingScheme": (
        lambda root: root.replace(b"<Value>1.2.250.1.213.1.1.4.9</Value>", b"<Value>1.2.3</Value>", 1),
        "DMP-XDS-CODE", "codingScheme",
    ),
    "an XCN without its assigning authority": (
        lambda root: root.replace(f"{GP}^MAX^LIBRE^^^^^^&amp;1.2.250.1.71.4.2.1&amp;ISO^D^^^IDNPS".encode(),
                                  f"{GP}^MAX^LIBRE".encode()),
        "DMP-XDS-XCN", "composante 9",
    ),
    "an XON without the structure id": (
        lambda root: root.replace(b"^IDNST^^^", b"^IDNST^^^"[:-3] + b"^^^").replace(b"&amp;ISO^IDNST^^^" + GP_STRUCTURE.encode(), b"&amp;ISO^IDNST"),
        "DMP-XDS-XON", "composante 10",
    ),
    "a local time": (
        lambda root: root.replace(b"<Value>20100319194535</Value>", b"<Value>20100319194535+0100</Value>"),
        "DMP-TIME-UTC", "creationTime",
    ),
    "an unknown classification scheme": (
        lambda root: root.replace(b'<ExternalIdentifier id="ei4"',
                                  b'<Classification classificationScheme="urn:uuid:00000000-8b07-4b77-a05e-ae952c785ead" '
                                  b'classifiedObject="DocumentME2" id="cla99" nodeRepresentation="X"/><ExternalIdentifier id="ei4"'),
        "DMP-XDS-UUID", "urn:uuid:00000000",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", REPORTED)
def test_metadata_findings_in_report_mode(
    feed: Any, dmp_runner: Any, tenant: str, console: Any, case: str
) -> None:
    change, rule, text = REPORTED[case]
    reply, ids = feed(envelope=change)
    assert _response(reply).get("status") == SUCCESS
    assert Documents(dmp_runner.sandbox.store).exists(tenant, ids.document)
    found = [f for f in _journal(console, tenant)["findings"] if f["rule"] == rule]
    assert found and text in found[0]["message"], found


def test_strict_mode_refuses_error_findings(
    feed: Any, dmp_runner: Any, tenant: str, monkeypatch: Any
) -> None:
    monkeypatch.setitem(dmp_runner.sandbox.config.values, "dmp_validation", "strict")
    reply, ids = feed(envelope=REPORTED["a classCode outside JDV_J57"][0])
    found = _errors(reply)
    assert found[0][0] == "XDSRegistryMetadataError" and "DMP-XDS-CODE" in found[0][1], found
    _nothing_stored(dmp_runner, tenant, ids)
    reply, ids = feed()  # clean metadata, but the official CDA disagrees with them (CDA engine)
    found = _errors(reply)
    assert found[0][0] == "XDSRepositoryMetadataError" and "CDA-" in found[0][1], found
    _nothing_stored(dmp_runner, tenant, ids)


# -- RPLC ---------------------------------------------------------------------------------------
RPLC_2007 = "urn:ihe:iti:2007:AssociationType:RPLC"
RPLC_2010 = "urn:ihe:iti:2010:AssociationType:RPLC"


def _replacing(entry_uuid: str, kind: str = RPLC_2007) -> Any:
    association = f'<Association associationType="{kind}" id="assoc4" sourceObject="DocumentME2" targetObject="{entry_uuid}"/>'
    return lambda root: _sub(
        root, (rb"</RegistryObjectList>", association.encode() + b"</RegistryObjectList>")
    )


def _related(unique_id: str) -> Any:
    block = f'<relatedDocument typeCode="RPLC"><parentDocument><id root="{unique_id}"/></parentDocument></relatedDocument>'
    return lambda cda: _sub(cda, (rb"<componentOf>", block.encode() + b"<componentOf>"))


@pytest.mark.parametrize("kind", [RPLC_2007, RPLC_2010])
def test_a_replacement_deprecates_the_previous_version(
    feed: Any, dmp_runner: Any, tenant: str, kind: str
) -> None:
    _, first = feed()
    docs = Documents(dmp_runner.sandbox.store)
    previous = docs.get(tenant, unique_id=first.document)
    assert previous is not None
    reply, second = feed(envelope=_replacing(previous.entry_uuid, kind), cda=_related(first.document))
    assert _response(reply).get("status") == SUCCESS
    old, new = docs.get(tenant, unique_id=first.document), docs.get(tenant, unique_id=second.document)
    assert old is not None and old.status == "Deprecated"
    assert new is not None and new.status == "Approved" and new.replaces == first.document
    assert [a.target for a in docs.associations(tenant, source=new.entry_uuid, type=kind)] == [
        previous.entry_uuid
    ]
    fact = dmp_runner.sandbox.evidence.find(tenant, kind="dmp.document.accepted", newest_first=True)[0]
    assert fact["subject"] == second.document and fact["data"]["replaces"] == first.document


def test_a_replacement_is_checked(
    feed: Any, dmp_runner: Any, tenant: str, post: Any, now: Any, creds: Any
) -> None:
    _, first = feed()
    docs = Documents(dmp_runner.sandbox.store)
    previous = docs.get(tenant, unique_id=first.document)
    assert previous is not None
    # the CDA does not name the replaced document
    reply, ids = feed(envelope=_replacing(previous.entry_uuid))
    found = _errors(reply)
    assert found[0][0] == "XDSRegistryMetadataError" and "relatedDocument" in found[0][1]
    _, unknown = feed(
        envelope=_replacing("urn:uuid:00000000-0000-0000-0000-000000000000"), cda=_related(first.document)
    )
    assert not docs.exists(tenant, ids.document) and not docs.exists(tenant, unknown.document)
    assert docs.get(tenant, unique_id=first.document).status == "Approved"  # type: ignore[union-attr]


def test_only_the_author_replaces(
    feed: Any, dmp_runner: Any, tenant: str, now: Any, creds: Any, pem_dir: Any, dmp_url: Any
) -> None:
    _, first = feed()
    previous = Documents(dmp_runner.sandbox.store).get(tenant, unique_id=first.document)
    assert previous is not None
    other = "810100000073"  # another médecin of the same cabinet
    body, content_type, ids = P.official_td21(
        vihf(now, name_id=other), creds(other, "cps_sign"), author=other,
        envelope=_replacing(previous.entry_uuid), cda=_related(first.document),
    )  # fmt: skip
    cert = write(pem_dir, "other-auth", creds(other, "cps_auth"))
    with httpx.Client(verify=tls_context(pem_dir / "ca.pem", cert), timeout=30) as client:
        reply = client.post(dmp_url("repository"), content=body,
                            headers={"Content-Type": content_type, "X-Sandbox-Tenant": tenant})  # fmt: skip
    fault = fault_of(reply.content)
    assert reply.status_code == 500 and fault["subcode"] == "soap:DMPAccessDenied", reply.text
    assert "seul l'auteur" in fault["reason"]
    _nothing_stored_of(dmp_runner, tenant, ids)


def _nothing_stored_of(dmp_runner: Any, tenant: str, ids: P.Ids) -> None:
    docs = Documents(dmp_runner.sandbox.store)
    assert (
        not docs.exists(tenant, ids.document)
        and docs.submission_set(tenant, unique_id=ids.submission_set) is None
    )


# -- TD2.2 (CPE) --------------------------------------------------------------------------------
@pytest.fixture
def cpe(dmp_runner: Any, monkeypatch: Any) -> None:
    """The GP's card taken for a CPE (the population has no CPE persona)."""
    population = dmp_runner.sandbox.population
    real = population.professional

    def professional(id_nat: str) -> Any:
        found = real(id_nat)
        return dataclasses.replace(found, card_type=2) if found is not None and id_nat == GP else found

    monkeypatch.setattr(population, "professional", professional)


def test_td22_is_the_feed_of_a_cpe(cpe: None, feed: Any, console: Any, tenant: str) -> None:
    reply, _ = feed()
    assert _response(reply).get("status") == SUCCESS
    entry = _journal(console, tenant)
    assert (entry["operation"], entry["outcome"]) == ("TD2.2", "Success")


def test_td22_refuses_an_author_without_names(cpe: None, feed: Any, dmp_runner: Any, tenant: str) -> None:
    reply, ids = feed(envelope=lambda root: root.replace(f"{GP}^MAX^LIBRE^".encode(), f"{GP}^^^".encode()))
    found = _errors(reply)
    assert (
        found[0][0] == "XDSRegistryMetadataError"
        and "PDT-INF-617" not in found[0][1]
        and "Nom et prénom" in found[0][1]
    )
    _nothing_stored(dmp_runner, tenant, ids)


# -- bad input ----------------------------------------------------------------------------------
def test_a_broken_multipart_is_a_soap_fault(
    feed: Any, post: Any, now: Any, tenant: str, dmp_runner: Any, creds: Any
) -> None:
    body, content_type, ids = P.official_td21(vihf(now), creds(GP, "cps_sign"))
    cases = {
        "truncated": body[: len(body) // 2],
        "no part for an Include": body.replace(b"cid:WS_DMP_TD2.1-DocumentME2.xml", b"cid:nowhere"),
        "another boundary": body.replace(P.BOUNDARY, b"----=_Part_other"),
    }
    for name, data in cases.items():
        reply = post("repository", data, tenant, content_type=content_type)
        fault = fault_of(reply.content)  # CXF's fault for an unreadable message (status 500, as CXF)
        assert (reply.status_code, fault["code"], fault["reason"]) == (
            500,
            "soap:Sender",
            "Error reading XMLStreamReader.",
        ), name
    _nothing_stored(dmp_runner, tenant, ids)


def test_200_mb_is_refused_before_parsing(dmp_runner: Any, pem_dir: Any, gp_auth: Any, tenant: str) -> None:
    url = httpx.URL(dmp_runner.url("dmp", "/si-dmp-server/v2/services/repository"))
    context = tls_context(pem_dir / "ca.pem", gp_auth)
    with (
        socket.create_connection((url.host, url.port)) as raw,
        context.wrap_socket(raw, server_hostname=url.host) as tls,
    ):
        tls.sendall(
            f"POST {url.path} HTTP/1.1\r\nHost: {url.host}\r\nContent-Type: {P.CONTENT_TYPE}\r\n"
            f"X-Sandbox-Tenant: {tenant}\r\nContent-Length: {200 * 1024 * 1024}\r\n\r\n".encode()
            + b"x" * 65536
        )
        answer = tls.recv(65536)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"soap:Sender" in answer or b"Fault" in answer


# -- the reference LGC (demo/) as an independent client ----------------------------------------
def test_the_demo_lgc_feeds_a_letter(dmp_runner: Any, tenant: str, tmp_path: Any, console: Any) -> None:
    """demo/dmp.py's TD2.1 (demo/xds.py metadata, demo/xades.py signature, its own MTOM writer)
    after the demo's INSi qualification: the letter is accepted and counts for the funding."""
    from demo import dmp as demo_dmp
    from demo import document, identity, pki
    from demo.cast import Cast
    from demo.run import Run
    from demo.sandbox import Sandbox as DemoSandbox

    sandbox = DemoSandbox(dmp_runner.url("console"), tenant)
    sandbox.discover()
    run = Run(sandbox, Cast(psc_client=f"segur-demo-{tenant}"), tmp_path, out=io.StringIO())
    for step in (pki.step_credentials, identity.step_insi, document.step_document, demo_dmp.step_td02,
                 demo_dmp.step_td03, demo_dmp.step_td21):  # fmt: skip
        step(run)
    letter = run.letter
    assert run.dmp_fed == [letter.unique_id]
    stored = Documents(dmp_runner.sandbox.store).get(tenant, unique_id=letter.unique_id)
    assert stored is not None and stored.format_code is not None
    assert stored.format_code.code == "urn:ihe:iti:xds-sd:pdf:2008" and stored.xades["valid"]
    entry = _journal(console, tenant)
    assert (entry["operation"], entry["status"]) == ("TD2.1", 200)
    own = [f for f in entry["findings"] if f["severity"] == "error"]
    assert not own, own
    fact = dmp_runner.sandbox.evidence.find(tenant, kind="dmp.document.accepted")[0]
    assert fact["data"]["ins_qualified"] is True and fact["data"]["type_code"] == stored.type_code.code  # type: ignore[union-attr]


# -- indirect mode ------------------------------------------------------------------------------
def test_an_indirect_feed_is_imputed_to_the_structure(
    post: Any, now: Any, tenant: str, creds: Any, pki: Any, dmp_runner: Any
) -> None:
    org_sign = creds(GP_STRUCTURE, "org_sign")
    token = vihf(now, signer=org_sign, pki=pki, mode="INDIRECTE")
    body, content_type, ids = P.official_td21(token, org_sign)
    assert (
        _response(post("repository", body, tenant, cert="org", content_type=content_type)).get("status")
        == SUCCESS
    )
    fact = dmp_runner.sandbox.evidence.find(tenant, kind="dmp.document.accepted")[0]["data"]
    assert fact["auth_mode"] == "INDIRECTE" and fact["structure"] == GP_STRUCTURE
    # EX_2.1-1140: the structure must be an authorInstitution
    body, content_type, ids = P.official_td21(token, org_sign, structure="1750000010")
    found = _errors(post("repository", body, tenant, cert="org", content_type=content_type))
    assert found[0] == (
        "XDSRegistryMetadataError",
        "Aucun AuthorInstitution ne correspond à l'utilisateur du VIHF",
    )
    _nothing_stored_of(dmp_runner, tenant, ids)


def test_a_fault_rule_gives_an_xds_error_in_the_registry_response(
    feed: Any, console: Any, tenant: str, dmp_runner: Any
) -> None:
    rule = {"service": "dmp", "operation": "TD2.1", "error": "XDSRepositoryMetadataError", "times": 1}
    assert console.post("/_sandbox/faults", params={"tenant": tenant}, json=rule).status_code in (200, 201)
    reply, ids = feed()
    assert _errors(reply)[0][0] == "XDSRepositoryMetadataError"
    _nothing_stored(dmp_runner, tenant, ids)
    reply, _ = feed()  # times=1: the next feed passes
    assert _response(reply).get("status") == SUCCESS


def test_the_lots_xades_stays_with_a_masked_document(
    feed: Any, post: Any, now: Any, console: Any, tenant: str, dmp_runner: Any
) -> None:
    """Found by the round trip: after an ITI-57 metadata version the control routes lost the lot's
    XAdES (looked up by the new version's submission set, the update's)."""
    _, ids = feed()
    doc = Documents(dmp_runner.sandbox.store).get(tenant, unique_id=ids.document)
    assert doc is not None
    masking = R.new_version(vihf(now), doc, ("MASQUE_PS",))
    assert post("registry", masking, tenant).status_code == 200
    one = console.get(f"/_sandbox/dmp/documents/{ids.document}", params={"tenant": tenant}).json()
    listed = console.get("/_sandbox/dmp/documents", params={"tenant": tenant, "ins": PATIENT}).json()
    for shown in (one, *listed["documents"]):
        assert (shown["version"], shown["signature"]["uniqueId"]) == (2, ids.signature)
