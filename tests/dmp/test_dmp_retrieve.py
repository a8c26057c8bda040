"""TD3.2 (ITI-43 RetrieveDocumentSet) over mutual TLS: the official request re-keyed to our patient
is answered as the DMP's Apache CXF does (an MTOM package, faults included), read by independent
clients (requests-toolbelt's MultipartDecoder, zeep from the official WSDL); the bytes are those
stored; the answer has the official response's structure and is valid against the contract's
XDS.b schema once the XOP attachment is put back inline; the negatives of the rights matrix."""

from __future__ import annotations

import base64
import hashlib
import re
import uuid
from dataclasses import replace
from typing import Any
from urllib.parse import unquote

import pytest
import requests
from lxml import etree
from requests_toolbelt.multipart.decoder import MultipartDecoder
from zeep import Client, Settings
from zeep.wsa import WsAddressingPlugin

from dmp import documents as D
from dmp import metadata as M
from dmp.state import Authorization, States
from tests.dmp.schemas import CONTRACT
from tests.dmp.support import (
    EXAMPLES,
    GP,
    GP_STRUCTURE,
    PATIENT,
    S12,
    WSSE,
    declarations,
    fault_of,
    rekey,
    structure,
    vihf,
)
from tests.insi.clients import OfflineTransport

REQUEST = "TD3.2_-_Consultation_d_un_document_requete.xml"
RESPONSE = "TD3.2_-_Consultation_d_un_document_reponse.xml"
OFFICIAL_UID = "1.2.250.1.999.1.1.7898.1.995657292"
OTHER_AUTHOR = "899900063480"  # the official TD2.1 example's author
XDSB = "urn:ihe:iti:xds-b:2007"
RS = "urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0"
XOP = "http://www.w3.org/2004/08/xop/include"
WSA = "http://www.w3.org/2005/08/addressing"
FAILURE = "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Failure"
PARTIAL = "urn:ihe:iti:2007:ResponseStatusType:PartialSuccess"
SUCCESS = "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success"
CXF_CID = re.compile(r"^[0-9a-f-]{36}-\d+@urn:ihe:iti:xds-b:2007$")


# -- documents in the store (ITI-41 is served elsewhere: the official TD2.1 metadata, stored) ------
def _objects() -> M.Objects:
    raw = (EXAMPLES / "TD2.1_-_Alimentation_requete.xml").read_bytes()
    start, end = raw.index(b"<soap:Envelope"), raw.index(b"</soap:Envelope>") + len(b"</soap:Envelope>")
    rol = etree.fromstring(raw[start:end]).find(f".//{{{M.RIM}}}RegistryObjectList")
    assert rol is not None
    return M.read_objects(rol)


OBJECTS = _objects()


def store(
    runner: Any,
    tenant: str,
    content: bytes,
    *,
    unique_id: str = OFFICIAL_UID,
    ins: str = PATIENT,
    masked: bool = False,
    author: str = OTHER_AUTHOR,
    status: D.Status = "Approved",
) -> D.Document:
    """One document of the official TD2.1 submission stored for `ins` (the bytes given)."""
    entry, package = OBJECTS.entries[0], OBJECTS.packages[0]
    ss = D.SubmissionSet(
        f"urn:uuid:{uuid.uuid4()}", f"{unique_id}.0", ins, f"{ins}^^^&1.2.250.1.213.1.4.10&ISO^NH",
        "", "20210604135051", package.xml.decode(),
    )  # fmt: skip
    entry_uuid = f"urn:uuid:{uuid.uuid4()}"
    confidentiality = entry.confidentiality + ((M.Code("MASQUE_PS", M.VISIBILITY_SCHEME),) if masked else ())
    authors = tuple(replace(a, person=a.person.replace(OTHER_AUTHOR, author)) for a in entry.authors)
    doc = D.Document(
        entry_uuid, unique_id, entry_uuid, 1, status, ins, "1.2.250.1.213.1.4.10",
        f"{ins}^^^&1.2.250.1.213.1.4.10&ISO^NH", entry.mime_type, hashlib.sha1(content).hexdigest(),
        len(content), entry.xml.decode(), class_code=entry.code(M.DE_CLASS), confidentiality=confidentiality,
        masked_ps=masked, authors=authors, type_code=entry.code(M.DE_TYPE), title=entry.name,
        creation_time=entry.slot("creationTime"),
    )  # fmt: skip
    D.Documents(runner.sandbox.store).insert_submission(
        tenant, D.Submission(ss, (doc,), {unique_id: content})
    )
    return doc


# -- the wire -----------------------------------------------------------------------------------
def request(token: etree._Element, *unique_ids: str, repository: str = "1.2.250.1.213.4.1.1.1.2") -> bytes:
    """The official TD3.2 request with our VIHF, for `unique_ids` (one DocumentRequest each)."""
    data = rekey(REQUEST, token)
    one = re.search(rb"<DocumentRequest>.*?</DocumentRequest>", data, re.S)
    assert one is not None
    items = b"".join(
        one.group(0)
        .replace(OFFICIAL_UID.encode(), uid.encode())
        .replace(b"1.2.250.1.213.4.1.1.1.2", repository.encode())
        for uid in (unique_ids or (OFFICIAL_UID,))
    )
    return data.replace(one.group(0), items)


def mtom(reply: Any) -> tuple[etree._Element, dict[str, bytes], MultipartDecoder]:
    """The root part's envelope and the attachments by Content-ID, read with requests-toolbelt."""
    ctype = reply.headers["content-type"]
    assert ctype.startswith("multipart/related;"), ctype
    decoder = MultipartDecoder(reply.content, ctype)
    root = etree.fromstring(decoder.parts[0].content)
    parts = {p.headers[b"Content-ID"].decode().strip("<>"): p.content for p in decoder.parts[1:]}
    return root, parts, decoder


def attachment_of(root: etree._Element, parts: dict[str, bytes]) -> bytes:
    include = root.find(f".//{{{XDSB}}}Document/{{{XOP}}}Include")
    assert include is not None
    return parts[unquote(include.get("href", "")[len("cid:") :])]


def registry_errors(root: etree._Element) -> list[tuple[str | None, str | None]]:
    return [(e.get("errorCode"), e.get("codeContext")) for e in root.iter(f"{{{RS}}}RegistryError")]


def status_of(root: etree._Element) -> str | None:
    found = root.find(f".//{{{RS}}}RegistryResponse")
    assert found is not None
    return found.get("status")


def xsd_valid(root: etree._Element, parts: dict[str, bytes]) -> None:
    """XOP-decode (each xop:Include replaced by its part in base64) and validate the payload."""
    payload = etree.fromstring(etree.tostring(root.find(f"{{{S12}}}Body")[0]))  # type: ignore[index]
    for include in list(payload.iter(f"{{{XOP}}}Include")):
        holder = include.getparent()
        assert holder is not None
        holder.remove(include)
        holder.text = base64.b64encode(parts[unquote(include.get("href", "")[4:])]).decode()
    schema = etree.XMLSchema(etree.parse(str(CONTRACT / "schema" / "IHE" / "XDS.b_DocumentRepository.xsd")))
    assert schema.validate(payload), schema.error_log


def journal(console: Any, tenant: str) -> dict[str, Any]:
    items = console.get("/_sandbox/journal", params={"service": "dmp", "tenant": tenant, "limit": 1}).json()
    items = items if isinstance(items, list) else items.get("entries", items.get("items", []))
    return items[0]  # type: ignore[no-any-return]


def set_mt(runner: Any, tenant: str, mt: str) -> None:
    """Make `mt` the patient's médecin traitant; Dr LEMAIRE keeps a VALIDE authorisation."""
    now = runner.sandbox.now(tenant)
    stamp = now.strftime("%Y%m%d%H%M%S")
    States(runner.sandbox).update(
        tenant,
        PATIENT,
        now,
        {"medecin_traitant": mt, "authorizations": {f"PS:{GP}": Authorization("VALIDE", stamp, stamp)}},
    )


# -- the nominal case ---------------------------------------------------------------------------
def test_official_request_answers_the_bytes_in_cxf_mtom(
    post: Any, now: Any, tenant: str, dmp_runner: Any, console: Any
) -> None:
    content = b"<ClinicalDocument>" + bytes(range(256)) * 64 + b"</ClinicalDocument>"
    store(dmp_runner, tenant, content)
    reply = post("repository", request(vihf(now)), tenant)
    assert reply.status_code == 200, reply.text
    ctype = reply.headers["content-type"]
    assert re.fullmatch(
        r'multipart/related; type="application/xop\+xml"; boundary="uuid:[0-9a-f-]{36}"; '
        r'start="<root\.message@cxf\.apache\.org>"; start-info="application/soap\+xml"',
        ctype,
    ), ctype
    root, parts, decoder = mtom(reply)
    assert decoder.parts[0].headers[b"Content-ID"] == b"<root.message@cxf.apache.org>"
    assert decoder.parts[0].headers[b"Content-Type"].startswith(b"application/xop+xml; charset=UTF-8")
    official = etree.parse(str(EXAMPLES / RESPONSE)).getroot()
    assert structure(root) == structure(official)
    assert declarations(etree.tostring(root)) == declarations(etree.tostring(official))
    assert root.findtext(f"{{{S12}}}Header/{{{WSA}}}Action") == "urn:ihe:iti:2007:RetrieveDocumentSetResponse"
    assert status_of(root) == SUCCESS
    assert root.findtext(f".//{{{XDSB}}}DocumentUniqueId") == OFFICIAL_UID
    assert root.findtext(f".//{{{XDSB}}}RepositoryUniqueId") == "1.2.250.1.213.4.1.1.1.2"
    assert root.findtext(f".//{{{XDSB}}}mimeType") == "text/xml"
    (cid,) = parts
    assert CXF_CID.match(cid), cid
    href = root.find(f".//{{{XOP}}}Include").get("href")  # type: ignore[union-attr]
    assert href == "cid:" + cid.replace("urn:ihe:iti:xds-b:2007", "urn%3Aihe%3Aiti%3Axds-b%3A2007")
    assert attachment_of(root, parts) == content
    assert decoder.parts[1].headers[b"Content-Transfer-Encoding"] == b"binary"
    xsd_valid(root, parts)
    entry = journal(console, tenant)
    assert (entry["operation"], entry["status"]) == ("TD3.2", 200)
    kept = console.get(f"/_sandbox/journal/{entry['id']}").json()["response_body"]
    assert "<ns4:RetrieveDocumentSetResponse" in kept  # the envelope as sent, the bytes elided
    assert f"[{len(content)} octets : le document {cid}]" in kept and "ClinicalDocument" not in kept


def test_zeep_from_the_official_wsdl_reads_the_document(
    pem_dir: Any, gp_auth: Any, dmp_url: Any, now: Any, tenant: str, dmp_runner: Any
) -> None:
    content = b"%PDF-1.4 " + bytes(range(256)) * 16
    store(dmp_runner, tenant, content, unique_id="1.2.250.1.999.1.1.7898.1.42")
    session = requests.Session()
    session.trust_env = False
    session.verify, session.cert = str(pem_dir / "ca.pem"), gp_auth
    session.headers["X-Sandbox-Tenant"] = tenant
    client = Client(
        str(CONTRACT / "wsdl" / "XDS.b_DocumentRepository.wsdl"),
        transport=OfflineTransport(session=session),
        settings=Settings(strict=False),
        plugins=[WsAddressingPlugin()],
    )
    service = client.create_service(
        "{urn:ihe:iti:xds-b:2007}DocumentRepository_Binding", dmp_url("repository")
    )
    security = etree.Element(f"{{{WSSE}}}Security", nsmap={"wsse": WSSE})
    security.append(vihf(now))
    out = service.DocumentRepository_RetrieveDocumentSet(
        DocumentRequest=[
            {
                "RepositoryUniqueId": "1.2.250.1.213.4.1.1.1.2",
                "DocumentUniqueId": "1.2.250.1.999.1.1.7898.1.42",
            }
        ],
        _soapheaders=[security],
    )
    assert out.RegistryResponse.status == SUCCESS
    (doc,) = out.DocumentResponse
    assert doc.DocumentUniqueId == "1.2.250.1.999.1.1.7898.1.42"
    assert doc.Document == content


def test_request_sent_as_mtom(post: Any, now: Any, tenant: str, dmp_runner: Any) -> None:
    """The .NET kit's repository binding is mtomMessageEncoding: the request itself is multipart."""
    store(dmp_runner, tenant, b"abc")
    boundary = "MIMEBoundary_0123456789"
    action = "urn:ihe:iti:2007:RetrieveDocumentSet"
    body = (
        (
            f'--{boundary}\r\nContent-Type: application/xop+xml; charset=UTF-8; type="application/soap+xml"\r\n'
            "Content-Transfer-Encoding: binary\r\nContent-ID: <root@lgc>\r\n\r\n"
        ).encode()
        + request(vihf(now))
        + f"\r\n--{boundary}--\r\n".encode()
    )
    ctype = (
        f'multipart/related; type="application/xop+xml"; boundary="{boundary}"; start="<root@lgc>"; '
        f'start-info="application/soap+xml"; action="{action}"'
    )
    root, parts, _ = mtom(post("repository", body, tenant, content_type=ctype))
    assert status_of(root) == SUCCESS and list(parts.values()) == [b"abc"]


def test_archived_and_two_documents(post: Any, now: Any, tenant: str, dmp_runner: Any) -> None:
    store(dmp_runner, tenant, b"one", unique_id="1.2.3.1")
    store(dmp_runner, tenant, b"two", unique_id="1.2.3.2", status="Archived")
    root, parts, _ = mtom(post("repository", request(vihf(now), "1.2.3.1", "1.2.3.2"), tenant))
    assert status_of(root) == SUCCESS
    ids = [r.findtext(f"{{{XDSB}}}DocumentUniqueId") for r in root.iter(f"{{{XDSB}}}DocumentResponse")]
    assert ids == ["1.2.3.1", "1.2.3.2"]
    assert sorted(parts.values()) == [b"one", b"two"]
    xsd_valid(root, parts)


# -- XDS errors: a RetrieveDocumentSetResponse Failure / PartialSuccess, in MTOM ------------------
def test_entry_uuid_instead_of_unique_id(
    post: Any, now: Any, tenant: str, dmp_runner: Any, console: Any
) -> None:
    doc = store(dmp_runner, tenant, b"abc")
    reply = post("repository", request(vihf(now), doc.entry_uuid), tenant)
    assert reply.status_code == 200
    root, parts, _ = mtom(reply)
    assert status_of(root) == FAILURE
    assert registry_errors(root) == [("XDSDocumentUniqueIdError", f"uniqueId={doc.entry_uuid}")]
    assert parts == {} and root.find(f".//{{{XDSB}}}DocumentResponse") is None
    xsd_valid(root, parts)
    entry = journal(console, tenant)
    assert entry["operation"] == "TD3.2"
    assert "DMP-ITI43-ENTRYUUID" in str(entry)


def test_wrong_repository_and_unknown_document(post: Any, now: Any, tenant: str, dmp_runner: Any) -> None:
    store(dmp_runner, tenant, b"abc")
    root, _, _ = mtom(post("repository", request(vihf(now), repository="1.2.250.1.213.4.1.1.1.3"), tenant))
    assert registry_errors(root) == [("XDSUnknownRepositoryId", "repositoryUniqueId=1.2.250.1.213.4.1.1.1.3")]
    root, parts, _ = mtom(post("repository", request(vihf(now), OFFICIAL_UID, "1.2.3.404"), tenant))
    assert status_of(root) == PARTIAL
    assert registry_errors(root) == [("XDSDocumentUniqueIdError", "uniqueId=1.2.3.404")]
    assert list(parts.values()) == [b"abc"]
    xsd_valid(root, parts)


def test_a_document_of_another_patient_is_not_found(
    post: Any, now: Any, tenant: str, dmp_runner: Any
) -> None:
    store(dmp_runner, tenant, b"abc", ins="242083726103567")
    root, _, _ = mtom(post("repository", request(vihf(now)), tenant))
    assert registry_errors(root) == [("XDSDocumentUniqueIdError", f"uniqueId={OFFICIAL_UID}")]


def test_closed_dmp(post: Any, now: Any, tenant: str, dmp_runner: Any) -> None:
    store(dmp_runner, tenant, b"abc")
    States(dmp_runner.sandbox).update(tenant, PATIENT, now, {"dmp": "closed"})
    root, parts, _ = mtom(post("repository", request(vihf(now)), tenant))
    assert status_of(root) == FAILURE and parts == {}
    assert registry_errors(root) == [
        ("XDSUnknownPatientId", f"Pas de DMP ouvert pour ce patient : {PATIENT}")
    ]


# -- rights: SOAP 1.2 faults, in MTOM too --------------------------------------------------------
def fault(reply: Any) -> dict[str, Any]:
    assert reply.status_code == 500, reply.text
    root, parts, decoder = mtom(reply)
    assert parts == {} and len(decoder.parts) == 1
    return fault_of(etree.tostring(root))


def test_masked_document_of_another_author_refused_to_a_non_mt(
    post: Any, now: Any, tenant: str, dmp_runner: Any, console: Any
) -> None:
    store(dmp_runner, tenant, b"secret", masked=True)
    assert status_of(mtom(post("repository", request(vihf(now)), tenant))[0]) == SUCCESS  # she is the MT
    set_mt(dmp_runner, tenant, "810100000099")
    got = fault(post("repository", request(vihf(now)), tenant))
    assert got["subcode"] == "soap:DMPAccessDenied"
    assert got["reason"].startswith("Document masqué aux professionnels de santé : seuls son auteur")
    assert journal(console, tenant)["status"] == 500


def test_without_authorisation_or_blocked(post: Any, now: Any, tenant: str, dmp_runner: Any) -> None:
    store(dmp_runner, tenant, b"abc")
    States(dmp_runner.sandbox).update(tenant, PATIENT, now, {"medecin_traitant": "810100000099"})
    got = fault(post("repository", request(vihf(now)), tenant))
    assert got["reason"] == "Accès refusé : le professionnel n'est pas autorisé sur ce DMP (NON_EXISTE)"
    assert (
        status_of(mtom(post("repository", request(vihf(now, purpose="bris_de_glace")), tenant))[0]) == SUCCESS
    )
    States(dmp_runner.sandbox).update(tenant, PATIENT, now, {"blocked": [f"PS:{GP}"]})
    got = fault(post("repository", request(vihf(now, purpose="bris_de_glace")), tenant))
    assert got["reason"] == "Accès refusé : le patient a bloqué ce professionnel"


def test_masked_document_of_her_own_is_readable(post: Any, now: Any, tenant: str, dmp_runner: Any) -> None:
    store(dmp_runner, tenant, b"mine", masked=True, author=GP)
    set_mt(dmp_runner, tenant, "810100000099")
    root, parts, _ = mtom(post("repository", request(vihf(now)), tenant))
    assert status_of(root) == SUCCESS and list(parts.values()) == [b"mine"]


def test_masked_document_in_bris_de_glace(post: Any, now: Any, tenant: str, dmp_runner: Any) -> None:
    store(dmp_runner, tenant, b"secret", masked=True, author=GP)
    got = fault(post("repository", request(vihf(now, purpose="bris_de_glace")), tenant))
    assert got["subcode"] == "soap:DMPAccessDenied"
    assert "seulement si le patient l'a autorisé" in got["reason"]


def test_indirect_mode_is_refused(
    post: Any, now: Any, tenant: str, dmp_runner: Any, pki: Any, creds: Any
) -> None:
    store(dmp_runner, tenant, b"abc")
    token = vihf(now, mode="INDIRECTE", signer=creds(GP_STRUCTURE, "org_sign"), pki=pki)
    got = fault(post("repository", request(token), tenant, cert="org"))
    assert got["subcode"] == "soap:DMPAccessDenied"
    assert got["reason"] == "Transaction TD3.2 non autorisée en authentification indirecte, accès normal"


@pytest.mark.parametrize(
    ("case", "subcode"),
    [("no resource-id", "soap:DMPInvalidVIHF"), ("no security", "soap:DMPInvalidVIHF"), ("garbage", None)],
)
def test_faults_are_mtom(case: str, subcode: str | None, post: Any, now: Any, tenant: str) -> None:
    data = {
        "no resource-id": lambda: request(vihf(now, ins=None)),
        "no security": lambda: re.sub(
            rb"<wsse:Security.*?</wsse:Security>", b"", request(vihf(now)), flags=re.S
        ),
        "garbage": lambda: request(vihf(now)).replace(b"</soap:Body>", b""),
    }[case]()
    reply = post("repository", data, tenant)
    if case == "garbage":  # unreadable: CXF has no operation yet, a plain fault
        assert reply.status_code == 500 and reply.headers["content-type"].startswith("application/soap+xml")
        return
    assert fault(reply)["subcode"] == subcode


@pytest.mark.parametrize("error", ["XDSDocumentUniqueIdError", "refus_masque"])
def test_fault_rules_answer_in_the_operations_shape(
    error: str, post: Any, now: Any, tenant: str, dmp_runner: Any, console: Any
) -> None:
    """A trainer's fault rule on TD3.2: an XDS entry is a Failure answer, a SOAP one a fault, MTOM."""
    store(dmp_runner, tenant, b"abc")
    rule = {"service": "dmp", "operation": "TD3.2", "error": error}
    console.post("/_sandbox/faults", params={"tenant": tenant}, json=rule).raise_for_status()
    reply = post("repository", request(vihf(now)), tenant)
    if error == "refus_masque":
        assert fault(reply)["subcode"] == "soap:DMPAccessDenied"
        return
    root, parts, _ = mtom(reply)
    assert status_of(root) == FAILURE and parts == {}
    assert registry_errors(root) == [("XDSDocumentUniqueIdError", "uniqueId=…")]
