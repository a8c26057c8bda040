"""The wire layer alone: our answers against the real platform's bytes and the official XSDs, and
parsing of what real clients send (the official DMP-kit request, padoa's node-soap shape)."""

from __future__ import annotations

import re

import pytest
from lxml import etree

from insi import matching, wire
from insi.errors import ERRORS, fault_spec
from tests.insi.support import (
    CNDA,
    FAKE_IDAM_MESSAGE_ID,
    GOLDEN,
    LEGACY_INSI_102,
    LIVE_ADRTROIS_TOUSSAINT,
    LIVE_CR02,
    LIVE_DESIR_1020,
    LIVE_ECETINSI_PIERRE_ALAIN,
    LIVE_FAKE_IDAM,
    LIVE_TCHITCHI_CATARINA,
    SPECS,
    request_xml,
    validate_answer,
)

DIRECTORY = matching.ListDirectory(GOLDEN)


def answer(
    nom: str, prenoms: tuple[str, ...], sexe: str, date: str, lieu: str | None = None, era: str = "live"
) -> bytes:
    traits = wire.Traits(nom, list(prenoms), sexe, date, lieu)
    return wire.result_response(matching.resultat(matching.search_traits(DIRECTORY, traits)), era)


@pytest.mark.parametrize(
    ("traits", "live"),
    [
        (("ADRTROIS", ("TOUSSAINT",), "M", "1960-01-01"), LIVE_ADRTROIS_TOUSSAINT),
        (("DE VINCI", ("LEONARDO",), "M", "2014-02-01"), LIVE_CR02),
        (("TCHITCHI", ("CATARINA",), "F", "1936-06-21"), LIVE_TCHITCHI_CATARINA),
        (("ECETINSI", ("PIERRE-ALAIN",), "M", "2009-07-14"), LIVE_ECETINSI_PIERRE_ALAIN),
    ],
    ids=["adrtrois-toussaint", "de-vinci-cr02", "tchitchi-catarina", "ecetinsi-pierre-alain"],
)
def test_answers_are_byte_identical_to_the_live_platform(traits: tuple, live: str) -> None:
    data = answer(*traits)
    assert data == live.encode("utf-8")
    validate_answer(data)


def test_fake_idam_fault_is_byte_identical_and_echoes_the_message_id() -> None:
    data = wire.fault_response(fault_spec(ERRORS["desir_550"], "live", FAKE_IDAM_MESSAGE_ID))
    assert data == LIVE_FAKE_IDAM.encode("utf-8")
    erreur = validate_answer(data)
    assert erreur.get("messageID") == FAKE_IDAM_MESSAGE_ID
    # the alias by subcode renders the same fault
    assert wire.fault_response(fault_spec(ERRORS["siram_100"], "live", FAKE_IDAM_MESSAGE_ID)) == data


def test_gateway_fault_desir_1020_is_byte_identical() -> None:
    data = wire.fault_response(fault_spec(ERRORS["desir_1020"], "live", FAKE_IDAM_MESSAGE_ID))
    assert data == LIVE_DESIR_1020.encode("utf-8")
    validate_answer(data)


def test_older_era_application_fault_is_byte_identical() -> None:
    # 2022-2023: S: prefixes, xml:lang="en", severite="fatal" (not in the XSD enum), no messageID
    data = wire.fault_response(fault_spec(ERRORS["insi_102"], "2022", FAKE_IDAM_MESSAGE_ID), "2022")
    assert data == LEGACY_INSI_102.encode("utf-8")


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_every_live_fault_validates_against_the_fault_xsd(name: str) -> None:
    data = wire.fault_response(fault_spec(ERRORS[name], "live", "uuid:0f0e6f1c-94c4-4e4e-a0a4-7e7c5a0b6f6e"))
    erreur = validate_answer(data)
    assert erreur.get("code") == ERRORS[name].siram_code
    assert data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<soap:Envelope')


def _compact(path: str) -> bytes:
    """A CNDA file without its comments and indentation (they are hand-edited files)."""
    text = (CNDA / path).read_text(encoding="utf-8")
    text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
    text = re.sub(r">\s+<", "><", text).strip()
    head, rest = text.split("?>", 1)
    return (head + "?>\n" + rest.lstrip()).encode("utf-8")


def test_cnda_era_reproduces_the_cnda_files() -> None:
    cr01 = answer("HOUILLES", ("PIERRE",), "M", "1993-01-27", era="cnda")
    assert cr01 == _compact("REP_CR01.xml")
    # TEST_2.05: NIA identity, OID .9, TIQ with Prenom
    provisoire = answer("PROVISOIRE", ("MATRICULE",), "M", "2009-07-01", era="cnda")
    assert provisoire == _compact("TEST_2.05.xml")
    validate_answer(provisoire)


def test_2022_era_uses_ns2_prefixes_and_a_tiq_prenom() -> None:
    data = answer("TCHITCHI", ("CATARINA",), "F", "1936-06-21", era="2022")
    text = data.decode()
    assert (
        '<ns2:RESULTAT xmlns:ns3="http://www.cnamts.fr/INSiRecVit" xmlns:ns2="http://www.cnamts.fr/INSiResultat" xmlns="http://www.cnamts.fr/INSiRecSans">'
        in text
    )
    assert "<ns2:Prenom>CATARINA</ns2:Prenom><ns2:ListePrenom>CATARINA BELLA</ns2:ListePrenom>" in text
    validate_answer(data)


def test_oid_family_test_gives_the_test_oid() -> None:
    match = matching.search_traits(DIRECTORY, wire.Traits("ADRUN", ["ZOE"], "F", "1975-12-31"))
    data = wire.result_response(matching.resultat(match, "test"))
    assert b"<OID>1.2.250.1.213.1.4.10</OID>" in data


def test_parses_the_official_dmp_kit_request() -> None:
    data = (SPECS / "dmp" / "examples" / "WS_INS2_rechercherInsAvecTraitsIdentite_requete.xml").read_bytes()
    req = wire.parse_request(data, "application/soap+xml; charset=utf-8")
    assert req.operation == wire.OP_TRAITS
    assert req.traits == wire.Traits("PATB-QUATRE", ["LAURENCE"], "F", "1907-05-25", None)
    assert req.lps.idam == "NumAutorisation" and req.lps.idam_r == "4"
    assert req.bam.emetteur == "899900063480" and req.bam.has_couverture
    assert (
        req.assertion is not None
        and req.wsa_action
        and req.wsa_action.endswith("rechercherInsAvecTraitsIdentite")
    )


def test_parses_node_soap_request_with_apos_entity_and_action_parameter() -> None:
    data = request_xml("D&apos;ARTAGNAN DE L&apos;HERAULT", ("PIERRE-ALAIN",), "M", "2001-06-17")
    ctype = 'application/soap+xml; charset=utf-8; action="urn:ServiceIdentiteCertifiee:1.0.0:rechercherInsAvecTraitsIdentite"'
    req = wire.parse_request(data, ctype)
    assert req.traits is not None and req.traits.nom == "D'ARTAGNAN DE L'HERAULT"
    assert req.action_header == "urn:ServiceIdentiteCertifiee:1.0.0:rechercherInsAvecTraitsIdentite"
    assert req.message_id and req.message_id.startswith("uuid:")


def test_rejects_soap11_and_garbage() -> None:
    with pytest.raises(wire.MalformedRequest) as exc:
        wire.parse_request(
            b'<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body/></e:Envelope>'
        )
    assert exc.value.reason == "soap11"
    with pytest.raises(wire.MalformedRequest):
        wire.parse_request(b"<not xml")


def test_external_entities_are_not_resolved(tmp_path: object) -> None:
    evil = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        b'<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope"><soap:Body>'
        b'<r:RECSANSVITALE xmlns:r="http://www.cnamts.fr/INSiRecSans"><r:NomNaissance>&e;</r:NomNaissance>'
        b"</r:RECSANSVITALE></soap:Body></soap:Envelope>"
    )
    req = wire.parse_request(evil)
    assert req.traits is not None and "root:" not in (req.traits.nom or "")


def test_answer_text_is_escaped() -> None:
    ident = matching.Identity("1010663220754", "60", "A<B&C", ("X",), "M", "2001-06-17", "63220")
    data = wire.result_response(matching.resultat(matching.Match("00", [ident])))
    assert etree.fromstring(data).findtext(".//{http://www.cnamts.fr/INSiResultat}NomNaissance") == "A<B&C"


def _shape(el: etree._Element) -> list[tuple[str, str]]:
    """(qualified tag, text) of every element in document order: the structure and values of a
    message, whatever its prefixes and indentation."""
    return [(str(e.tag), (e.text or "").strip()) for e in el.iter()]


def test_official_gie_example_pair_replayed_through_the_rules() -> None:
    """The GIE's WS_INS2 example: its request, matched against PATB-QUATRE LAURENCE (the identity the
    example's answer gives), answered in the era of the example (2021: ns2 prefixes)."""
    examples = SPECS / "dmp" / "examples"
    req = wire.parse_request((examples / "WS_INS2_rechercherInsAvecTraitsIdentite_requete.xml").read_bytes())
    laurence = matching.Identity(
        "2070585756270", "97", "PATB-QUATRE", ("LAURENCE",), "F", "1907-05-25", "85756"
    )
    assert req.traits is not None
    match = matching.search_traits(matching.ListDirectory([*GOLDEN, laurence]), req.traits)
    ours = etree.fromstring(wire.result_response(matching.resultat(match), "2022"))
    official = etree.fromstring(
        (examples / "WS_INS2_rechercherInsAvecTraitsIdentite_reponse.xml").read_bytes()
    )
    # the 2021 example predates ListePrenom in TIQ; everything else has the same structure and values
    for extra in ours.iter("{http://www.cnamts.fr/INSiResultat}ListePrenom"):
        extra.getparent().remove(extra)
    body = "{http://www.w3.org/2003/05/soap-envelope}Body"
    assert _shape(ours.find(body)) == _shape(official.find(body))
    assert ours.find(body)[0].nsmap == official.find(body)[0].nsmap


def test_older_era_desir_550_is_byte_identical() -> None:
    # padoa/tlsi-ins history (2022-11 .. 2025): the gateway fault in the S: style, messageID echoed
    legacy = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope">'
        '<env:Body xmlns:S="http://www.w3.org/2003/05/soap-envelope" xmlns:env="http://www.w3.org/2003/05/soap-envelope">'
        '<S:Fault xmlns:ns4="http://schemas.xmlsoap.org/soap/envelope/"><S:Code><S:Value>S:Sender</S:Value><S:Subcode>'
        '<S:Value>S:siram_100</S:Value></S:Subcode></S:Code><S:Reason><S:Text xml:lang="en">L\'accès par ce progiciel '
        "au service n'est pas autorisé. Contactez l'éditeur du progiciel ou votre responsable informatique.</S:Text>"
        '</S:Reason><S:Detail><siram:Erreur code="desir_550" messageID="uuid:b3549edd-4ae9-472a-b26f-fd2fb4ef397f" '
        'severite="erreur" xmlns:siram="urn:siram">Numéro d\'autorisation du logiciel inconnu.</siram:Erreur>'
        "</S:Detail></S:Fault></env:Body></soap:Envelope>"
    )
    data = wire.fault_response(fault_spec(ERRORS["desir_550"], "2022", FAKE_IDAM_MESSAGE_ID), "2022")
    assert data == legacy.encode("utf-8")
