"""The kit as a service uses it, behind the request harness, over real sockets: the official TD2.1
capture posted as soapUI sent it, an ITI-41 written by requests-toolbelt, an ITI-43 answer read by
zeep (MTOM/XOP) and by the standard library's MIME parser, the DMP's faults, and every bad input
of issue 10 answered with the protocol's fault (journaled, never a crash)."""

from __future__ import annotations

import email
import hashlib
import re
import socket
import uuid
from email import policy
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
import zeep
import zeep.wsa
from lxml import etree
from requests_toolbelt import MultipartEncoder

from mocks.pki import Pki, Professional

from .conftest import TD21_CONTENT_TYPE, journal
from .support import request, vihf

WSA = "http://www.w3.org/2005/08/addressing"
XDS = "urn:ihe:iti:xds-b:2007"
ITI41 = "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b"
SUCCESS = "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success"


def post(url: str, tenant: str, body: bytes, content_type: str) -> httpx.Response:
    headers = {"Content-Type": content_type, "X-Sandbox-Tenant": tenant}
    return httpx.post(url, content=body, headers=headers, timeout=30)


def test_the_official_td21_capture_is_accepted(
    service_url: str, tenant: str, td21: bytes, ctl: httpx.Client
) -> None:
    resp = post(service_url, tenant, td21, TD21_CONTENT_TYPE)
    assert resp.status_code == 200, resp.text
    # a SOAP 1.1 envelope gets a SOAP 1.1 answer, as CXF gives
    assert resp.headers["content-type"] == "text/xml;charset=UTF-8"
    root = etree.fromstring(resp.content)
    assert root.tag == "{http://schemas.xmlsoap.org/soap/envelope/}Envelope"
    assert root.findtext(f".//{{{WSA}}}RelatesTo") == "urn:uuid:b3745a7c-4d1a-4cfd-a752-536197e4ac7a"
    assert root.findtext(f".//{{{WSA}}}Action") == ITI41 + "Response"
    assert (
        root.find(".//{urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0}RegistryResponse").get("status") == SUCCESS
    )
    # the documents the service read have the SHA-1 of the parts the stdlib MIME parser finds
    message = email.message_from_bytes(
        f"Content-Type: {TD21_CONTENT_TYPE}\r\n\r\n".encode() + td21, policy=policy.HTTP
    )
    parts = list(message.iter_parts())
    expected = {
        "documentME2": hashlib.sha1(parts[1].get_payload(decode=True)).hexdigest(),
        "Signature01": hashlib.sha1(parts[2].get_payload(decode=True)).hexdigest(),
    }
    entry = journal(ctl, resp.headers["X-Sandbox-Trace-Id"])
    assert entry["details"]["documents"] == expected
    assert entry["details"]["soap"]["version"] == "1.1" and entry["details"]["soap"]["mtom"] is True


def _iti41(pki: Pki, creds, documents: dict[str, bytes], message_id: str) -> MultipartEncoder:
    """An ITI-41 package written by requests-toolbelt (not by the kit)."""
    body = "".join(
        f'<ns4:Document id="{doc_id}"><xop:Include xmlns:xop="http://www.w3.org/2004/08/xop/include" href="cid:{doc_id}%40lgc.example"/></ns4:Document>'
        for doc_id in documents
    )
    env = request(
        vihf(pki, creds, pki.sandbox.now()),
        f'<ns4:ProvideAndRegisterDocumentSetRequest xmlns:ns4="{XDS}">{body}</ns4:ProvideAndRegisterDocumentSetRequest>',
        ITI41,
        message_id,
    )
    fields: list = [
        (
            "root",
            (
                "root",
                env,
                'application/xop+xml; charset=UTF-8; type="application/soap+xml"',
                {"Content-ID": "<root@lgc.example>"},
            ),
        )
    ]
    for doc_id, data in documents.items():
        fields.append(
            (
                doc_id,
                (
                    doc_id,
                    data,
                    "text/xml",
                    {"Content-ID": f"<{doc_id}@lgc.example>", "Content-Transfer-Encoding": "binary"},
                ),
            )
        )
    return MultipartEncoder(fields=fields, boundary=f"MIMEBoundary_{uuid.uuid4().hex}")


def _content_type(encoder: MultipartEncoder) -> str:
    return encoder.content_type.replace("multipart/form-data", "multipart/related") + (
        f'; type="application/xop+xml"; start="<root@lgc.example>"; start-info="application/soap+xml"; action="{ITI41}"'
    )


def test_iti41_from_requests_toolbelt_then_iti43_read_by_zeep(
    service_url: str, tenant: str, pki: Pki, professional: Professional, specs: Path
) -> None:
    docs = {
        f"1.2.250.1.999.1.1.7898.3.{n}": f"<ClinicalDocument n='{n}'>é\r\n--MIMEBoundary</ClinicalDocument>".encode()
        for n in (1, 2)
    }
    encoder = _iti41(pki, pki.credentials(professional, "cps_sign"), docs, "urn:uuid:0000-1")
    resp = post(service_url, tenant, encoder.to_string(), _content_type(encoder))
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"] == "application/soap+xml;charset=UTF-8"
    # ITI-43 by zeep with the official repository WSDL; the answer is MTOM (CXF), zeep resolves the XOP
    client = zeep.Client(
        str(specs / "dmp" / "contract" / "wsdl" / "XDS.b_DocumentRepository.wsdl"),
        plugins=[zeep.wsa.WsAddressingPlugin()],
        transport=zeep.Transport(session=_session(tenant)),
    )
    service = client.create_service("{urn:ihe:iti:xds-b:2007}DocumentRepository_Binding", service_url)
    with client.settings(raw_response=True):
        raw = service.DocumentRepository_RetrieveDocumentSet(
            DocumentRequest=[
                {"RepositoryUniqueId": "1.2.250.1.213.4.1.1.1.2", "DocumentUniqueId": u} for u in docs
            ]
        )
    assert raw.status_code == 200 and raw.headers["content-type"].startswith(
        'multipart/related; type="application/xop+xml"; boundary="uuid:'
    )
    result = service.DocumentRepository_RetrieveDocumentSet(
        DocumentRequest=[
            {"RepositoryUniqueId": "1.2.250.1.213.4.1.1.1.2", "DocumentUniqueId": u} for u in docs
        ]
    )
    assert [d.Document for d in result.DocumentResponse] == list(docs.values())
    assert [d.DocumentUniqueId for d in result.DocumentResponse] == list(docs)
    # the same answer through the standard library: CXF's layout, content ids matched
    assert raw.content.startswith(b"\r\n--uuid:") and raw.content.endswith(b"--")
    message = email.message_from_bytes(
        f"Content-Type: {raw.headers['content-type']}\r\n\r\n".encode() + raw.content, policy=policy.HTTP
    )
    parts = list(message.iter_parts())
    assert (
        parts[0]["Content-ID"] == "<root.message@cxf.apache.org>"
        and parts[0]["Content-Transfer-Encoding"] == "binary"
    )
    hrefs = re.findall(rb'href="cid:([^"]+)"', parts[0].get_payload(decode=True))
    assert [h.decode().replace("%3A", ":") for h in hrefs] == [p["Content-ID"].strip("<>") for p in parts[1:]]
    assert all(
        re.fullmatch(r"<[0-9a-f-]{36}-\d+@urn:ihe:iti:xds-b:2007>", p["Content-ID"]) for p in parts[1:]
    )
    assert [p.get_payload(decode=True) for p in parts[1:]] == list(docs.values())


def _session(tenant: str):  # a requests session that names the tenant
    import requests

    session = requests.Session()
    session.headers["X-Sandbox-Tenant"] = tenant
    return session


def test_a_vihf_signed_with_the_authentication_certificate_is_the_dmp_fault(
    service_url: str, tenant: str, pki: Pki, professional: Professional
) -> None:
    encoder = _iti41(pki, pki.credentials(professional, "cps_auth"), {"1.2.3": b"<x/>"}, "urn:uuid:0000-2")
    resp = post(service_url, tenant, encoder.to_string(), _content_type(encoder))
    assert resp.status_code == 500 and resp.headers["content-type"] == "application/soap+xml;charset=UTF-8"
    message_id = etree.fromstring(resp.content).findtext(f".//{{{WSA}}}MessageID")
    assert re.fullmatch(r"urn:uuid:[0-9a-f-]{36}", message_id or "")
    assert (
        resp.content
        == (
            '<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope"><soap:Header>'
            f'<Action xmlns="{WSA}">http://www.w3.org/2005/08/addressing/soap/fault</Action>'
            f'<MessageID xmlns="{WSA}">{message_id}</MessageID><To xmlns="{WSA}">{WSA}/anonymous</To>'
            f'<RelatesTo xmlns="{WSA}">urn:uuid:0000-2</RelatesTo></soap:Header><soap:Body><soap:Fault>'
            "<soap:Code><soap:Value>soap:Sender</soap:Value><soap:Subcode><soap:Value>soap:DMPInvalidCertificate"
            '</soap:Value></soap:Subcode></soap:Code><soap:Reason><soap:Text xml:lang="en">Le certificat ayant signé le VIHF'
            " est invalide : Not a valid signature certificate</soap:Text></soap:Reason></soap:Fault></soap:Body></soap:Envelope>"
        ).encode()
    )


def test_iti43_faults_are_mtom_too(service_url: str, tenant: str, specs: Path) -> None:
    client = zeep.Client(
        str(specs / "dmp" / "contract" / "wsdl" / "XDS.b_DocumentRepository.wsdl"),
        transport=zeep.Transport(session=_session(tenant)),
    )
    service = client.create_service("{urn:ihe:iti:xds-b:2007}DocumentRepository_Binding", service_url)
    with pytest.raises(zeep.exceptions.Fault) as info:
        service.DocumentRepository_RetrieveDocumentSet(
            DocumentRequest=[
                {"RepositoryUniqueId": "1.2.250.1.213.4.1.1.1.2", "DocumentUniqueId": "urn:uuid:nope"}
            ]
        )
    assert info.value.code == "soap:Sender" and info.value.message == "uniqueId=urn:uuid:nope"
    assert [q.localname for q in info.value.subcodes] == ["XDSDocumentUniqueIdError"]
    with client.settings(raw_response=True):
        raw = service.DocumentRepository_RetrieveDocumentSet(
            DocumentRequest=[{"RepositoryUniqueId": "1.2.250.1.213.4.1.1.1.2", "DocumentUniqueId": "x"}]
        )
    assert raw.status_code == 500 and raw.headers["content-type"].startswith("multipart/related;")


ENV = b'<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope"><soap:Body>%s</soap:Body></soap:Envelope>'
PRB = b'<ProvideAndRegisterDocumentSetRequest xmlns="urn:ihe:iti:xds-b:2007"><Document id="d"><xop:Include xmlns:xop="http://www.w3.org/2004/08/xop/include" href="cid:missing"/></Document></ProvideAndRegisterDocumentSetRequest>'
MTOM = f'multipart/related; boundary=B; type="application/xop+xml"; start-info="application/soap+xml"; action="{ITI41}"'
BAD_INPUTS = {
    "garbage bytes": (b"\x00\xffgarbage\x01", "application/soap+xml", "xml"),
    "doctype": (
        b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>' + ENV % b"&e;",
        "application/soap+xml",
        "doctype",
    ),
    "entities": (ENV % b"&undeclared;", "application/soap+xml", "xml"),
    "truncated multipart": (b"--B\r\nContent-ID: <r>\r\n\r\n" + ENV % PRB, MTOM, "multipart-truncated"),
    "xop:Include to a missing part": (b"--B\r\n\r\n" + ENV % PRB + b"\r\n--B--", MTOM, "xop-missing-part"),
    "not an envelope": (b"<x/>", "application/soap+xml", "envelope"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_is_the_protocols_fault_and_journaled(
    service_url: str, tenant: str, ctl: httpx.Client, case: str
) -> None:
    body, ctype, reason = BAD_INPUTS[case]
    resp = post(service_url, tenant, body, ctype)
    assert resp.status_code == 500 and resp.headers["content-type"] == "application/soap+xml;charset=UTF-8"
    fault = etree.fromstring(resp.content).find(".//{http://www.w3.org/2003/05/soap-envelope}Fault")
    assert fault is not None
    assert fault.findtext(".//{http://www.w3.org/2003/05/soap-envelope}Value") == "soap:Sender"
    entry = journal(ctl, resp.headers["X-Sandbox-Trace-Id"])
    assert entry["details"]["invalid"] == reason and entry["outcome"] == "error malformed"
    assert entry["tenant"] == tenant and entry["status"] == 500


def test_a_2gb_content_length_is_refused_without_reading(soap_runner, ctl: httpx.Client, tenant: str) -> None:
    url = urlsplit(soap_runner.url("soaptest", "/repository"))
    trace = uuid.uuid4().hex
    with socket.create_connection((url.hostname, url.port), timeout=30) as sock:
        sock.sendall(
            (
                f"POST /repository HTTP/1.1\r\nHost: {url.netloc}\r\nContent-Type: application/soap+xml\r\n"
                f"X-Sandbox-Tenant: {tenant}\r\nX-Sandbox-Trace-Id: {trace}\r\nContent-Length: 2147483648\r\n\r\n"
            ).encode()
            + ENV % b"<x/>"
        )
        data = b""
        while b"</soap:Envelope>" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413 ") and b"Connection: close" in head
    assert b"<soap:Value>soap:Sender</soap:Value>" in body and b"larger than 4194304 bytes" in body
    entry = journal(ctl, trace)
    assert entry["status"] == 413 and entry["outcome"] == "refused: body too large"


def test_crashes_and_unknown_paths(service_url: str, tenant: str, ctl: httpx.Client) -> None:
    resp = post(service_url.replace("/repository", "/crash"), tenant, ENV % b"<x/>", "application/soap+xml")
    trace = resp.headers["X-Sandbox-Trace-Id"]
    assert resp.status_code == 500 and "Traceback" not in resp.text
    assert f"Fault occurred while processing. (sandbox trace {trace})" in resp.text
    assert "<soap:Value>soap:Receiver</soap:Value>" in resp.text
    assert journal(ctl, trace)["outcome"] == "internal error: RuntimeError"
    resp = post(service_url.replace("/repository", "/nowhere"), tenant, b"", "application/soap+xml")
    assert resp.status_code == 404 and resp.content == b"<html><body>No service was found.</body></html>"
