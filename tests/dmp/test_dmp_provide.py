"""TD2.1 / TD2.2 (ITI-41 ProvideAndRegisterDocumentSet-b on `repository`) over mutual TLS: the
official TD2.1 request re-keyed and sent as soapUI sent it (MTOM, SOAP 1.1 envelope, Cp1252 parts,
file-name Content-IDs, Document@id case) and with inline base64; the answer compared in structure
with the official response and validated against ebRS rs.xsd; what is stored, journaled and
established as evidence; the XAdES, metadata, author, RPLC and CDA rules; bad input answered in
the DMP's shape with nothing stored."""

from __future__ import annotations

import hashlib
from functools import cache
from typing import Any

import pytest
from lxml import etree

from dmp.documents import Documents
from tests.dmp import provide_support as P
from tests.dmp.schemas import CONTRACT
from tests.dmp.support import GP, PATIENT, S12, TEST_OID, declarations, fault_of, structure, vihf

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
    return [(e.get("errorCode", ""), e.get("codeContext", "")) for e in response.iter(f"{{{RS}}}RegistryError")]


def _journal(console: Any, tenant: str) -> dict[str, Any]:
    entries = console.get("/_sandbox/journal", params={"service": "dmp", "tenant": tenant, "limit": 1}).json()
    items = entries if isinstance(entries, list) else entries.get("entries", entries.get("items", []))
    return items[0]


@pytest.fixture
def feed(post: Any, now: Any, tenant: str, creds: Any) -> Any:
    """Send the re-keyed official request (options of provide_support.official_td21)."""

    def send(*, assertion: etree._Element | None = None, signer: Any = "gp", **kw: Any) -> tuple[Any, P.Ids]:
        signing = creds(GP, "cps_sign") if signer == "gp" else signer
        body, content_type, ids = P.official_td21(assertion if assertion is not None else vihf(now), signing, **kw)
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
    own = [f for f in entry["findings"] if f["rule"].startswith(("DMP-XDS", "DMP-TIME")) and f["severity"] == "error"]
    assert not own, own  # the official metadata are clean
    assert {"DMP-SOAP11", "DMP-XDS-DOCUMENT-ID", "DMP-XDS-CHARSET"} <= rules, rules
    facts = dmp_runner.sandbox.evidence.find(tenant, kind="dmp.document.accepted")
    assert [f["subject"] for f in facts] == [ids.document]
    data = facts[0]["data"]
    assert data["ins"] == PATIENT and data["ins_qualified"] is False
    assert (data["type_code"], data["format_code"], data["class_code"]) == ("27899-4", "urn:ihe:iti:xds-sd:text:2008", "10")
    assert data["author_rpps"] == GP and data["replaces"] == "" and data["confidentiality"] == ["N"]


def test_inline_base64_is_accepted_and_reported(feed: Any, dmp_runner: Any, tenant: str, console: Any) -> None:
    reply, ids = feed(inline=True)
    assert _response(reply).get("status") == SUCCESS
    assert Documents(dmp_runner.sandbox.store).exists(tenant, ids.document)
    assert "DMP-XDS-INLINE" in {f["rule"] for f in _journal(console, tenant)["findings"]}
