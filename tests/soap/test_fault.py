"""Envelopes out: the DMP-style (Apache CXF) faults and answers, the INSi presets byte for byte
against INSi's own writer, faults read by zeep and SOAP 1.1 faults valid against their XSD."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import xmlschema
import zeep
from lxml import etree

from mocks import soap

WSA = "http://www.w3.org/2005/08/addressing"
REASON = "Le certificat ayant signé le VIHF est invalide : Not a valid signature certificate"


def test_the_dmp_style_fault_is_cxf_s_bytes() -> None:
    """research dmp.md §3.1: `soap:Sender / soap:DMPInvalidCertificate` and its reason; CXF's
    Soap12FaultOutInterceptor writes the fault in the envelope's prefix, the subcode in the SOAP
    namespace, xml:lang from its (English) message bundle, no XML declaration."""
    fault = soap.Fault(REASON, code="Sender", subcode="DMPInvalidCertificate")
    headers = soap.response_headers(
        "http://www.w3.org/2005/08/addressing/soap/fault", "urn:uuid:req", message_id="urn:uuid:resp"
    )
    assert (
        soap.fault_envelope(fault, soap.CXF12, headers)
        == (
            '<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope"><soap:Header>'
            f'<Action xmlns="{WSA}">http://www.w3.org/2005/08/addressing/soap/fault</Action>'
            f'<MessageID xmlns="{WSA}">urn:uuid:resp</MessageID>'
            f'<To xmlns="{WSA}">http://www.w3.org/2005/08/addressing/anonymous</To>'
            f'<RelatesTo xmlns="{WSA}">urn:uuid:req</RelatesTo></soap:Header>'
            "<soap:Body><soap:Fault><soap:Code><soap:Value>soap:Sender</soap:Value><soap:Subcode>"
            "<soap:Value>soap:DMPInvalidCertificate</soap:Value></soap:Subcode></soap:Code>"
            f'<soap:Reason><soap:Text xml:lang="en">{REASON}</soap:Text></soap:Reason>'
            "</soap:Fault></soap:Body></soap:Envelope>"
        ).encode()
    )
    # a subcode in another namespace is declared on its Value element, as CXF's getUniquePrefix does
    other = soap.Fault("x", code="Receiver", subcode="E1", subcode_namespace="urn:errors")
    assert b'<soap:Value xmlns:ns1="urn:errors">ns1:E1</soap:Value>' in soap.fault_envelope(other)


def _strip(xml: bytes) -> bytes:
    """An official example without soapUI's indentation (whitespace between tags)."""
    return re.sub(rb">\s+<", b"><", xml.strip())


@pytest.mark.parametrize(
    ("name", "action"),
    [
        ("TD2.1_-_Alimentation_reponse.xml", "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-bResponse"),
        ("TD3.2_-_Consultation_d_un_document_reponse.xml", "urn:ihe:iti:2007:RetrieveDocumentSetResponse"),
    ],
)
def test_cxf_answers_match_the_official_answers(examples: Path, name: str, action: str) -> None:
    official = _strip((examples / name).read_bytes())
    root = etree.fromstring(official)
    relates = root.findtext(f".//{{{WSA}}}RelatesTo")
    message_id = root.findtext(f".//{{{WSA}}}MessageID")
    body = root.find("{http://www.w3.org/2003/05/soap-envelope}Body")
    payload = re.search(rb"<soap:Body>(.*)</soap:Body>", official, re.S)
    assert payload is not None and body is not None
    ctype, written = soap.cxf_response(payload.group(1), action, relates, message_id=message_id)
    assert written == official
    assert ctype == "application/soap+xml;charset=UTF-8"


def test_insi_presets_write_the_platform_s_two_fault_forms() -> None:
    """research insi.md §3.1: the live form `<?xml ...?>\\n<soap:Envelope><env:Body
    xmlns:env><soap:Fault>` with xml:lang="fr", and the 2022 form `<env:Body xmlns:S xmlns:env>
    <S:Fault xmlns:ns4=SOAP 1.1>` with xml:lang="en" (insi.wire writes its faults with these
    presets; tests/insi compare them with the padoa fixtures byte for byte)."""
    s12, s11 = soap.SOAP12, soap.SOAP11
    detail = '<siram:Erreur code="desir_550" severite="erreur" xmlns:siram="urn:siram">Numéro inconnu.</siram:Erreur>'
    fault = soap.Fault("L'accès <refusé> & co", code="Sender", subcode="siram_100", detail=detail)
    assert soap.fault_envelope(fault, soap.INSI_LIVE).decode() == (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<soap:Envelope xmlns:soap="{s12}"><env:Body xmlns:env="{s12}">'
        "<soap:Fault><soap:Code><soap:Value>soap:Sender</soap:Value><soap:Subcode><soap:Value>soap:siram_100"
        '</soap:Value></soap:Subcode></soap:Code><soap:Reason><soap:Text xml:lang="fr">L\'accès &lt;refusé&gt; &amp; co'
        f"</soap:Text></soap:Reason><soap:Detail>{detail}</soap:Detail></soap:Fault></env:Body></soap:Envelope>"
    )
    assert soap.fault_envelope(fault, soap.INSI_2022).decode() == (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<soap:Envelope xmlns:soap="{s12}">'
        f'<env:Body xmlns:S="{s12}" xmlns:env="{s12}"><S:Fault xmlns:ns4="{s11}"><S:Code><S:Value>S:Sender</S:Value>'
        '<S:Subcode><S:Value>S:siram_100</S:Value></S:Subcode></S:Code><S:Reason><S:Text xml:lang="en">'
        f"L'accès &lt;refusé&gt; &amp; co</S:Text></S:Reason><S:Detail>{detail}</S:Detail></S:Fault></env:Body></soap:Envelope>"
    )


@pytest.fixture(scope="module")
def repository_binding(specs: Path) -> zeep.wsdl.bindings.soap.Soap12Binding:
    client = zeep.Client(str(specs / "dmp" / "contract" / "wsdl" / "XDS.b_DocumentRepository.wsdl"))
    binding = client.wsdl.bindings["{urn:ihe:iti:xds-b:2007}DocumentRepository_Binding"]
    return binding


def test_zeep_reads_the_faults(repository_binding: zeep.wsdl.bindings.soap.Soap12Binding) -> None:
    detail = '<e:Erreur xmlns:e="urn:e" code="X">détail</e:Erreur>'
    fault = soap.Fault(REASON, code="Sender", subcode="DMPInvalidCertificate", detail=detail)
    doc = etree.fromstring(soap.fault_envelope(fault))
    with pytest.raises(zeep.exceptions.Fault) as info:
        repository_binding.process_error(doc, None)
    assert info.value.message == REASON and info.value.code == "soap:Sender"
    assert [str(q) for q in info.value.subcodes] == [
        "{http://www.w3.org/2003/05/soap-envelope}DMPInvalidCertificate"
    ]
    assert info.value.detail.find("{urn:e}Erreur").text == "détail"


def test_soap11_faults_are_valid_and_map_the_codes() -> None:
    schema = xmlschema.XMLSchema(
        str(Path(xmlschema.__file__).parent / "schemas" / "WSDL" / "soap-envelope.xsd")
    )
    fault = soap.Fault("raison <x>", code="Sender", subcode="Ignored", detail_text="a & b", role="urn:r")
    xml = soap.fault_envelope(fault, soap.CXF11)
    schema.validate(xml.decode())
    assert xml == (
        b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><soap:Fault>'
        b"<faultcode>soap:Client</faultcode><faultstring>raison &lt;x&gt;</faultstring>"
        b"<faultactor>urn:r</faultactor><detail>a &amp; b</detail></soap:Fault></soap:Body></soap:Envelope>"
    )
    # the same style in the other version keeps prefixes and rewrites the SOAP namespace
    assert soap.CXF12.with_version("1.1") == soap.CXF11
    rewritten = soap.INSI_LIVE.with_version("1.1")
    assert rewritten.body_declarations == (("env", soap.SOAP11),)


def test_the_protocols_render_catalogue_entries_refusals_and_crashes() -> None:
    from types import SimpleNamespace
    from typing import Any

    from mocks.errors import Catalogue, HttpError, SoapFault

    errors = Catalogue(
        [
            SoapFault(
                name="busy",
                description="occupé",
                code="Receiver",
                subcode="Busy",
                detail="réessayez",
                http_status=503,
            ),
            HttpError(name="gateway", description="passerelle", http_status=502, body="<html>502</html>"),
        ]
    )
    ex: Any = SimpleNamespace(details={}, trace_id="t-1")
    p11 = soap.Soap11Protocol()
    reply = p11.render(ex, errors.error("busy"))
    assert (reply.status, reply.content_type) == (503, "text/xml;charset=UTF-8")
    assert reply.body == (
        b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><soap:Fault>'
        b"<faultcode>soap:Server</faultcode><faultstring>occup\xc3\xa9</faultstring><detail>r\xc3\xa9essayez</detail>"
        b"</soap:Fault></soap:Body></soap:Envelope>"
    )
    assert p11.render(ex, errors.error("gateway")).body == b"<html>502</html>"
    # the request's version wins (remember()), WS-A headers answer a request that had them
    ex.details["soap"] = {"version": "1.2", "message_id": "urn:uuid:m", "addressing": True}
    p12 = soap.Soap12Protocol(action_in_content_type=True, mtom=lambda _ex: False)
    reply = p11.render(ex, errors.error("busy", "texte levé"))
    assert reply.content_type == "application/soap+xml;charset=UTF-8" and b"texte lev\xc3\xa9" in reply.body
    assert b'<RelatesTo xmlns="http://www.w3.org/2005/08/addressing">urn:uuid:m</RelatesTo>' in reply.body
    answer = p12.answer(ex, "<r/>", "urn:a:Response")
    assert answer.content_type == 'application/soap+xml;charset=UTF-8;action="urn:a:Response"'
    crash = p12.crash(ex)
    assert crash.status == 500 and b"Fault occurred while processing. (sandbox trace t-1)" in crash.body
    refused = p12.refusal(ex, 413, "trop gros")
    assert refused.status == 413 and b"<soap:Value>soap:Sender</soap:Value>" in refused.body
    packed = soap.Soap12Protocol(mtom=True).refusal(ex, 503, "plus tard")
    assert packed.content_type is not None and packed.content_type.startswith(
        'multipart/related; type="application/xop+xml"'
    )
    assert b"<soap:Value>soap:Receiver</soap:Value>" in packed.body
