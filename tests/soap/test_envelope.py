"""Envelopes in: SOAP 1.1 / 1.2 detection, hardened parsing (DOCTYPE, entities, size, garbage),
the action of a request from each place it can be said, WS-Addressing headers."""

from __future__ import annotations

from pathlib import Path

import pytest

from mocks import soap
from mocks.soap.envelope import DEFAULT_MAX_SIZE

S12 = "http://www.w3.org/2003/05/soap-envelope"
S11 = "http://schemas.xmlsoap.org/soap/envelope/"


def env(ns: str = S12, header: str = "", body: str = "<p:x xmlns:p='urn:x'/>") -> bytes:
    return f'<s:Envelope xmlns:s="{ns}"><s:Header>{header}</s:Header><s:Body>{body}</s:Body></s:Envelope>'.encode()


def test_the_version_is_the_envelope_namespace_and_the_content_type_is_kept() -> None:
    e = soap.parse_envelope(env(S12), "application/soap+xml; charset=utf-8")
    assert (e.version, e.declared_version, e.version_mismatch) == ("1.2", "1.2", False)
    assert e.payload is not None and e.payload.tag == "{urn:x}x"
    e = soap.parse_envelope(env(S11), "text/xml")
    assert (e.version, e.declared_version) == ("1.1", "1.1")
    # a 1.1 envelope announced as 1.2 (the official TD2.1 request): read, the mismatch kept
    e = soap.parse_envelope(env(S11), 'application/xop+xml; type="application/soap+xml"')
    assert (e.version, e.declared_version, e.version_mismatch) == ("1.1", "1.2", True)
    assert soap.version_of_content_type('multipart/related; start-info="text/xml"') == "1.1"
    assert soap.version_of_content_type("application/json") is None


XXE = b'<?xml version="1.0"?>\n<!DOCTYPE e [<!ENTITY x SYSTEM "file:///etc/passwd">]><e>&x;</e>'
LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
    b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]><l>&d;&d;</l>'
)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (XXE, "doctype"),
        (LAUGHS, "doctype"),
        (b"\xef\xbb\xbf<!-- c --><?pi x?>\n<!doctype html><html/>", "doctype"),
        ('<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE e><e/>'.encode("utf-16"), "doctype"),
        (b"<e>&undeclared;</e>", "xml"),
        (b"\x00\x01garbage\xff", "xml"),
        (b"", "xml"),
        (env()[:40], "xml"),
        (b"<notsoap/>", "envelope"),
        (b'<Envelope xmlns="urn:other"/>', "envelope"),
        (f'<s:Envelope xmlns:s="{S12}"><s:Header/></s:Envelope>'.encode(), "body"),
        (f'<s:Envelope xmlns:s="{S12}"><s:Body/><s:Header/></s:Envelope>'.encode(), "body"),
        (f'<s:Envelope xmlns:s="{S12}"><s:Body/><x/></s:Envelope>'.encode(), "body"),
    ],
)
def test_unreadable_messages_are_typed_errors(data: bytes, reason: str) -> None:
    with pytest.raises(soap.InvalidMessage) as info:
        soap.parse_envelope(data, "application/soap+xml")
    assert info.value.reason == reason
    # the version is the envelope's once read, else what the Content-Type announced
    assert info.value.version == "1.2"


def test_soap11_allows_elements_after_body_and_the_size_cap_reads_nothing() -> None:
    e = soap.parse_envelope(f'<s:Envelope xmlns:s="{S11}"><s:Body/><x/></s:Envelope>'.encode())
    assert e.version == "1.1" and e.payload is None
    with pytest.raises(soap.InvalidMessage) as info:
        soap.parse_envelope(env(), max_size=10)
    assert info.value.reason == "size"
    with pytest.raises(soap.InvalidMessage) as info:
        soap.read_request(b"x" * (DEFAULT_MAX_SIZE + 1), "text/xml")
    assert (info.value.reason, info.value.version) == ("size", "1.1")


def test_cp1252_root_part_without_declaration_is_decoded_with_its_charset() -> None:
    body = env(body="<p:x xmlns:p='urn:x'>Médecin</p:x>").decode().encode("cp1252")
    package = (
        b'--B\r\nContent-Type: application/xop+xml; charset=Cp1252; type="application/soap+xml"\r\n\r\n'
        + body
        + b"\r\n--B--"
    )
    req = soap.read_request(package, "multipart/related; boundary=B")
    assert req.envelope.payload is not None and req.envelope.payload.text == "Médecin"


def test_the_action_from_each_place() -> None:
    assert soap.action_of('application/soap+xml;charset=UTF-8;action="urn:a"').value == "urn:a"
    assert soap.action_of("text/xml", soap_action='"urn:b"').http == "urn:b"
    mtom = (
        'multipart/related; type="application/xop+xml"; start-info="application/soap+xml; action=\\"urn:c\\""'
    )
    assert soap.action_of(mtom).start_info == "urn:c"
    assert (
        soap.action_of('multipart/related; start-info="application/soap+xml"; action="urn:d"').start_info
        == "urn:d"
    )
    part = 'application/xop+xml; charset=UTF-8; type="application/soap+xml"; action="odd"'
    assert soap.action_of("multipart/related", part_content_type=part).part == "odd"
    e = soap.parse_envelope(
        env(header='<Action xmlns="http://www.w3.org/2005/08/addressing"> urn:e </Action>')
    )
    action = soap.action_of('application/soap+xml; action="urn:a"', envelope=e)
    assert action.value == "urn:e" and action.as_dict() == {"http": "urn:a", "wsa": "urn:e"}


def test_ws_addressing_headers_of_the_official_request(td21: bytes) -> None:
    from .conftest import TD21_CONTENT_TYPE

    wsa = soap.read_request(td21, TD21_CONTENT_TYPE).addressing
    assert wsa.present and wsa.message_id == "urn:uuid:b3745a7c-4d1a-4cfd-a752-536197e4ac7a"
    assert wsa.to == "" and wsa.reply_to == soap.WSA_ANONYMOUS and wsa.reply_is_anonymous
    assert wsa.action == "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b"
    # mustUnderstand="true" without the SOAP namespace (as in the official example)
    assert wsa.must_understand == {"ReplyTo": True, "Action": True} and wsa.must_understand_qualified == {}


def test_ws_addressing_qualified_must_understand_duplicates_and_unknown_headers() -> None:
    a = "http://www.w3.org/2005/08/addressing"
    header = (
        f'<w:MessageID xmlns:w="{a}">urn:uuid:1</w:MessageID><w:MessageID xmlns:w="{a}">urn:uuid:2</w:MessageID>'
        f'<w:Action xmlns:w="{a}" s:mustUnderstand="1">urn:x</w:Action><w:Foo xmlns:w="{a}"/>'
        f'<w:RelatesTo xmlns:w="{a}">urn:uuid:0</w:RelatesTo>'
    )
    wsa = soap.parse_addressing(soap.parse_envelope(env(header=header)))
    assert wsa.message_id == "urn:uuid:1" and wsa.duplicates == ("MessageID",) and wsa.unknown == ("Foo",)
    assert wsa.must_understand_qualified == {"Action": True} and wsa.relates_to == "urn:uuid:0"
    none = soap.parse_addressing(soap.parse_envelope(env()))
    assert not none.present and none.message_id is None


def test_every_official_request_example_is_read(examples: Path) -> None:
    """The plain (non-MTOM) official requests: SOAP 1.2 envelopes with WS-Addressing and a VIHF."""
    count = 0
    for path in sorted(examples.glob("*_requete.xml")):
        if path.name.startswith("TD2.1"):
            continue
        req = soap.read_request(path.read_bytes(), "application/soap+xml")
        security = soap.read_security(req.envelope)
        assert req.version == "1.2", path.name
        assert req.addressing.message_id and req.action.wsa, path.name
        if path.name.startswith("TD"):
            assert security is not None and security.assertion is not None, path.name
        count += 1
    assert count >= 15
