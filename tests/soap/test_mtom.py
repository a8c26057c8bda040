"""MTOM / XOP: the official TD2.1 capture read as is, CXF packages written byte for byte and read
back by two other MIME stacks (the standard library's `email` with policy.HTTP, and
requests-toolbelt), every malformed package a typed InvalidMessage (hypothesis-fuzzed)."""

from __future__ import annotations

import base64
import contextlib
import email
import hashlib
import re
from email import policy
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree
from requests_toolbelt.multipart.decoder import MultipartDecoder

from mocks import soap
from mocks.soap.mtom import CxfIds, java_urlencode, normalise_cid

from .conftest import TD21_CONTENT_TYPE

XDS = "urn:ihe:iti:xds-b:2007"


def test_the_official_td21_capture_is_read_as_is(td21: bytes, examples: Path) -> None:
    for content_type in (TD21_CONTENT_TYPE, None):  # None: the boundary is read from the first line
        package = soap.parse_multipart(td21, content_type)
        assert package.boundary == "----=_Part_9_20030738.1554380517598"
        assert package.boundary_sniffed is (content_type is None)
        assert [p.content_id for p in package.parts] == [
            "rootpart@soapui.org",
            "WS_DMP_TD2.1-DocumentME2.xml",
            "WS_DMP_TD2.1-SignatureXades.xml",
        ]
        assert [p.transfer_encoding for p in package.parts] == ["8bit", "binary", "binary"]
        assert [p.charset for p in package.parts] == ["UTF-8", "Cp1252", "Cp1252"]
    req = soap.read_request(td21, TD21_CONTENT_TYPE)
    # the official oddity: a SOAP 1.1 envelope in a part typed application/soap+xml
    assert req.version == "1.1" and req.envelope.declared_version == "1.2" and req.envelope.version_mismatch
    assert req.action.wsa == req.action.start_info == "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b"
    assert req.action.part == "DocumentRepository_ProvideAndRegisterDocumentSet-b"
    binaries = req.binaries()
    assert [(b.element.get("id"), b.content_id) for b in binaries] == [
        ("documentME2", "WS_DMP_TD2.1-DocumentME2.xml"),
        ("Signature01", "WS_DMP_TD2.1-SignatureXades.xml"),
    ]
    # the attachments are the official files: the XAdES byte for byte, the CDA without its BOM
    # and with the capture's LF line ends
    xades = (examples / "TD2.1-SignatureXades.xml").read_bytes()
    cda = (examples / "TD2.1-DocumentME2.xml").read_bytes()
    assert binaries[1].data == xades
    assert binaries[0].data == cda.removeprefix(b"\xef\xbb\xbf").replace(b"\r\n", b"\n")
    # and the same bytes as the standard library's MIME parser finds (an independent reading)
    message = email.message_from_bytes(
        f"Content-Type: {TD21_CONTENT_TYPE}\r\n\r\n".encode() + td21, policy=policy.HTTP
    )
    stdlib = {part["Content-ID"].strip("<>"): part.get_payload(decode=True) for part in message.iter_parts()}
    for binary in binaries:
        assert hashlib.sha1(binary.data).hexdigest() == hashlib.sha1(stdlib[binary.content_id]).hexdigest()


def _envelope(href: str) -> bytes:
    return (
        '<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope"><soap:Body>'
        f'<ns4:RetrieveDocumentSetResponse xmlns:ns4="{XDS}"><ns4:DocumentResponse><ns4:Document>'
        f'<xop:Include href="{href}" xmlns:xop="http://www.w3.org/2004/08/xop/include"/>'
        "</ns4:Document></ns4:DocumentResponse></ns4:RetrieveDocumentSetResponse></soap:Body></soap:Envelope>"
    ).encode()


def test_cxf_packages_are_written_byte_for_byte() -> None:
    ids = CxfIds("b857abb7-a2c3-4db8-bd69-d5ff76826e72", start=1)
    cid = ids.next()
    # the official TD3.2 href (research dmp.md §1.2, Dehempe MtomParserTests)
    assert f"cid:{cid}" == "cid:b857abb7-a2c3-4db8-bd69-d5ff76826e72-2@urn%3Aihe%3Aiti%3Axds-b%3A2007"
    att = soap.Attachment(cid, b"%PDF-1.4\x00\xff\r\n--not a boundary\r\n")
    env = _envelope(att.href)
    ctype, body = soap.cxf_package(env, [att], boundary="uuid:be23ca67-74fc-412d-b7ba-1d3d52ee6dc1")
    assert ctype == (
        'multipart/related; type="application/xop+xml"; boundary="uuid:be23ca67-74fc-412d-b7ba-1d3d52ee6dc1"; '
        'start="<root.message@cxf.apache.org>"; start-info="application/soap+xml"'
    )
    assert body == (
        b"\r\n--uuid:be23ca67-74fc-412d-b7ba-1d3d52ee6dc1\r\n"
        b'Content-Type: application/xop+xml; charset=UTF-8; type="application/soap+xml"\r\n'
        b"Content-Transfer-Encoding: binary\r\n"
        b"Content-ID: <root.message@cxf.apache.org>\r\n\r\n"
        + env
        + b"\r\n--uuid:be23ca67-74fc-412d-b7ba-1d3d52ee6dc1\r\n"
        b"Content-Type: application/octet-stream\r\n"
        b"Content-Transfer-Encoding: binary\r\n"
        b"Content-ID: <b857abb7-a2c3-4db8-bd69-d5ff76826e72-2@urn:ihe:iti:xds-b:2007>\r\n\r\n"
        b"%PDF-1.4\x00\xff\r\n--not a boundary\r\n"
        b"\r\n--uuid:be23ca67-74fc-412d-b7ba-1d3d52ee6dc1--"
    )
    # a request's action goes, escaped, into start-info and the root part's type (CXF)
    ctype, body = soap.cxf_package(env, [], action="urn:ihe:iti:2007:RetrieveDocumentSet", boundary="uuid:x")
    assert ctype.endswith(
        'start-info="application/soap+xml; action=\\"urn:ihe:iti:2007:RetrieveDocumentSet\\""'
    )
    assert b'type="application/soap+xml; action=\\"urn:ihe:iti:2007:RetrieveDocumentSet\\""\r\n' in body
    assert soap.action_of(ctype).start_info == "urn:ihe:iti:2007:RetrieveDocumentSet"


def test_a_cxf_package_is_read_back_by_two_other_mime_stacks() -> None:
    ids = CxfIds()
    docs = [b"<ClinicalDocument>\r\n--uuid:</ClinicalDocument>", bytes(range(256)) * 40]
    atts = [soap.Attachment(ids.next(), d) for d in docs]
    env = (
        '<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope"><soap:Body><r xmlns:xop="http://www.w3.org/2004/08/xop/include">'
        + "".join(f'<d><xop:Include href="{a.href}"/></d>' for a in atts)
        + "</r></soap:Body></soap:Envelope>"
    ).encode()
    ctype, body = soap.cxf_package(env, atts)
    # 1. the standard library's email parser
    message = email.message_from_bytes(f"Content-Type: {ctype}\r\n\r\n".encode() + body, policy=policy.HTTP)
    assert message.get_content_type() == "multipart/related" and not message.defects
    parts = list(message.iter_parts())
    assert parts[0]["Content-ID"] == message.get_param("start") == "<root.message@cxf.apache.org>"
    assert parts[0].get_payload(decode=True) == env
    hrefs = re.findall(rb'href="cid:([^"]+)"', env)
    for href, part, data in zip(hrefs, parts[1:], docs, strict=True):
        assert normalise_cid(href.decode()) == part["Content-ID"].strip("<>")  # content ids matched
        assert part.get_payload(decode=True) == data
    # 2. requests-toolbelt (what zeep reads MTOM with)
    decoded = MultipartDecoder(body, ctype).parts
    assert [p.content for p in decoded] == [env, *docs]
    assert [p.headers[b"Content-ID"] for p in decoded][1:] == [f"<{a.header_id}>".encode() for a in atts]
    # 3. and our own reader, through the xop:Include hrefs
    req = soap.read_request(body, ctype)
    assert [b.data for b in req.binaries()] == docs and req.multipart is not None
    assert req.multipart.root.content_id == soap.CXF_ROOT_ID


def _package(
    parts: list[tuple[list[str], bytes]], boundary: str = "MIMEBoundary_1", eol: bytes = b"\r\n"
) -> bytes:
    out = b""
    for headers, data in parts:
        out += (
            b"--" + boundary.encode() + eol + eol.join(h.encode() for h in headers) + eol + eol + data + eol
        )
    return out + b"--" + boundary.encode() + b"--" + eol


ROOT = b'<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body><d xmlns:xop="http://www.w3.org/2004/08/xop/include"><xop:Include href="cid:doc%40example.org"/></d><i>aGVsbG8=</i></e:Body></e:Envelope>'


@pytest.mark.parametrize(
    ("encoding", "data", "wire"),
    [
        ("binary", b"\x00\x01\xff", b"\x00\x01\xff"),
        ("8bit", "é".encode(), "é".encode()),
        ("base64", b"hello world" * 20, base64.encodebytes(b"hello world" * 20)),
        ("quoted-printable", "données=€".encode(), b"donn=C3=A9es=3D=E2=82=AC"),
    ],
)
def test_transfer_encodings_and_content_id_forms(encoding: str, data: bytes, wire: bytes) -> None:
    body = _package(
        [
            (['Content-Type: application/xop+xml; type="application/soap+xml"', "Content-ID: root"], ROOT),
            (
                [
                    "Content-Type: text/xml; charset=Cp1252",
                    f"Content-Transfer-Encoding: {encoding}",
                    "Content-ID: <doc@example.org>",
                ],
                wire,
            ),
        ],
        eol=b"\n" if encoding == "8bit" else b"\r\n",
    )
    req = soap.read_request(
        body, 'multipart/related; boundary=MIMEBoundary_1; start="<root>"; type="application/xop+xml"'
    )
    (binary,) = req.binaries()
    assert binary.data == data and binary.content_id == "doc@example.org"
    inline = req.envelope.body.find(".//i")
    assert req.content_of(inline).data == b"hello" and req.content_of(inline).source == "inline"


def test_unreferenced_attachments_and_the_start_part() -> None:
    body = _package(
        [
            (["Content-ID: <spare>"], b"x"),
            (["Content-ID: <root>"], ROOT),
            (["Content-ID: <doc@example.org>"], b"y"),
        ]
    )
    package = soap.parse_multipart(body, 'multipart/related; boundary="MIMEBoundary_1"; start="<root>"')
    assert package.root.content_id == "root" and package.root_index == 1
    req = soap.read_request(body, 'multipart/related; boundary="MIMEBoundary_1"; start="<root>"')
    assert [p.content_id for p in soap.unreferenced(package, req.binaries())] == ["spare"]


BAD = {
    "no boundary anywhere": (b"garbage bytes \x00\xff", "multipart/related", "multipart-boundary"),
    "boundary not in body": (
        b"--other\r\n\r\nx\r\n--other--",
        "multipart/related; boundary=B",
        "multipart-boundary",
    ),
    "truncated": (
        _package([(["Content-ID: <root>"], ROOT)])[:-30],
        "multipart/related; boundary=MIMEBoundary_1",
        "multipart-truncated",
    ),
    "cut in a delimiter": (
        b"--B\r\nContent-ID: <a>\r\n\r\nx\r\n--B",
        "multipart/related; boundary=B",
        "multipart-truncated",
    ),
    "no part": (b"--B--\r\n", "multipart/related; boundary=B", "multipart-truncated"),
    "bad header": (
        b"--B\r\nnot a header\r\n\r\nx\r\n--B--",
        "multipart/related; boundary=B",
        "multipart-headers",
    ),
    "bad base64": (
        b"--B\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!!\r\n--B--",
        "multipart/related; boundary=B",
        "multipart-encoding",
    ),
    "unknown encoding": (
        b"--B\r\nContent-Transfer-Encoding: x-uuencode\r\n\r\nx\r\n--B--",
        "multipart/related; boundary=B",
        "multipart-encoding",
    ),
    "missing start": (
        _package([(["Content-ID: <a>"], ROOT)]),
        'multipart/related; boundary=MIMEBoundary_1; start="<b>"',
        "multipart-root",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_malformed_packages_are_typed_errors(case: str) -> None:
    body, ctype, reason = BAD[case]
    with pytest.raises(soap.InvalidMessage) as info:
        soap.parse_multipart(body, ctype)
    assert info.value.reason == reason


def test_an_include_to_a_missing_part_is_a_typed_error() -> None:
    body = _package([(["Content-ID: <root>"], ROOT)])
    req = soap.read_request(body, "multipart/related; boundary=MIMEBoundary_1")
    with pytest.raises(soap.InvalidMessage) as info:
        req.binaries()
    assert info.value.reason == "xop-missing-part" and "doc%40example.org" in info.value.message
    plain = soap.read_request(ROOT, "application/soap+xml")  # an xop:Include outside any package
    with pytest.raises(soap.InvalidMessage, match="not multipart"):
        plain.binaries()
    with pytest.raises(soap.InvalidMessage) as info:
        plain.content_of(etree.fromstring(b"<i>not base64 !</i>"))
    assert info.value.reason == "base64"


def test_java_url_encoding_of_content_ids() -> None:
    assert java_urlencode("urn:ihe:iti:xds-b:2007") == "urn%3Aihe%3Aiti%3Axds-b%3A2007"
    assert java_urlencode("a b~*._-") == "a+b%7E*._-"
    assert normalise_cid("cid:b857%3Aabc%40urn") == "b857:abc@urn"
    assert normalise_cid("<doc@host>") == normalise_cid("doc@host") == "doc@host"


VALID = soap.cxf_package(_envelope("cid:x-1@urn%3Aa"), [soap.Attachment("x-1@urn%3Aa", b"document")])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.binary(max_size=600),
    st.sampled_from([VALID[0], "multipart/related", 'multipart/related; boundary="uuid:"', None]),
)
def test_fuzz_random_bytes_give_a_package_or_a_typed_error(data: bytes, ctype: str | None) -> None:
    try:
        req = soap.read_request(data, ctype or "multipart/related")
        req.binaries()
    except soap.InvalidMessage:
        pass


@settings(max_examples=400, deadline=None)
@given(st.data())
def test_fuzz_mutated_cxf_packages_give_a_package_or_a_typed_error(data: st.DataObject) -> None:
    body = bytearray(VALID[1])
    for _ in range(data.draw(st.integers(1, 4))):
        op = data.draw(st.sampled_from(["cut", "flip", "insert", "delete"]))
        at = data.draw(st.integers(0, max(0, len(body) - 1)))
        if op == "cut":
            del body[at:]
        elif op == "flip" and body:
            body[at] ^= data.draw(st.integers(1, 255))
        elif op == "insert":
            body[at:at] = data.draw(st.sampled_from([b"\r\n", b"--", b"\n\n", b"--uuid:", b"\x00", b"<"]))
        elif body:
            del body[at : at + data.draw(st.integers(1, 40))]
    try:
        req = soap.read_request(bytes(body), VALID[0])
        for binary in req.binaries():
            assert isinstance(binary.data, bytes)
    except soap.InvalidMessage as exc:
        assert exc.reason


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200), st.binary(max_size=300))
def test_fuzz_content_types_never_raise_and_requests_fail_typed(ctype: str, data: bytes) -> None:
    parsed = soap.parse_content_type(ctype)
    assert isinstance(parsed.params, dict)
    body = b"--B\r\nContent-Type: " + ctype.encode("utf-8", "replace") + b"\r\n\r\n" + data + b"\r\n--B--"
    for candidate in (data, body):
        with contextlib.suppress(soap.InvalidMessage):
            soap.read_request(candidate, f"multipart/related; boundary=B; {ctype}")
