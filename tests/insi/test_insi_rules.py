"""Matching rules and conformance checks, without sockets."""

from __future__ import annotations

import pytest

from insi import checks, matching, wire
from mocks.findings import Findings
from tests.insi.support import GOLDEN, SPECS, request_xml

D = matching.ListDirectory(GOLDEN)


def code(nom: str, prenoms: list[str], sexe: str, date: str, lieu: str | None = None) -> str:
    return matching.search_traits(D, wire.Traits(nom, prenoms, sexe, date, lieu)).code


@pytest.mark.parametrize(
    ("prenoms", "expected"),
    [
        (["PIERRE-ALAIN"], "00"),  # first birth first name
        (["PIERRE-ALAIN MURIEL FLORIANT"], "00"),  # the full list in one Prenom
        (["PIERRE-ALAIN", "MURIEL"], "00"),  # several Prenom elements, in order
        (["PIERRE-ALAIN MURIEL"], "00"),
        (["MURIEL"], "01"),  # a later first name alone
        (["PIERRE"], "01"),  # part of a composed first name
        (["MURIEL PIERRE-ALAIN"], "01"),  # wrong order
        ([], "01"),
    ],
)
def test_first_name_strategy(prenoms: list[str], expected: str) -> None:
    assert code("ECETINSI", prenoms, "M", "2009-07-14") == expected


def test_birthplace_breaks_a_02_and_filters() -> None:
    assert code("DE VINCI", ["LEONARDO"], "M", "2014-02-01") == "02"
    assert code("DE VINCI", ["LEONARDO"], "M", "2014-02-01", "63220") == "00"
    assert code("DE VINCI", ["LEONARDO"], "M", "2014-02-01", "75056") == "01"
    assert code("ADRTROIS", ["TOUSSAINT"], "M", "1960-01-01", "63220") == "01"


def test_sex_and_date_must_match() -> None:
    assert code("ADRTROIS", ["TOUSSAINT"], "F", "1960-01-01") == "01"
    assert code("ADRTROIS", ["TOUSSAINT"], "M", "1960-01-02") == "01"


def test_lunar_dates_match_themselves_only() -> None:
    lunar = matching.Identity("1500099123004", None, "LUNE", ("ALI",), "M", "1950-00-00", "99123")
    d = matching.ListDirectory([lunar])
    assert matching.search_traits(d, wire.Traits("LUNE", ["ALI"], "M", "1950-00-00")).code == "00"
    assert matching.search_traits(d, wire.Traits("LUNE", ["ALI"], "M", "1950-01-01")).code == "01"


def test_card_search_designates_the_beneficiary_by_birth_date_and_rank() -> None:
    parent = matching.Identity(
        "1800175056123", "12", "MARTIN", ("PAUL",), "M", "1980-01-01", "75056", cards=("1800175056123",)
    )
    twin1 = matching.Identity(
        "2150175056201",
        "55",
        "MARTIN",
        ("LEA",),
        "F",
        "2015-01-01",
        "75056",
        cards=("1800175056123",),
        rang="1",
    )
    twin2 = matching.Identity(
        "2150175056202",
        "28",
        "MARTIN",
        ("ZOE",),
        "F",
        "2015-01-01",
        "75056",
        cards=("1800175056123",),
        rang="2",
    )
    d = matching.ListDirectory([parent, twin1, twin2])
    od = wire.Matricule("1800175056123", "12")
    assert matching.search_card(d, wire.CarteVitale(None, od, None, "2015-01-01", None)).code == "02"
    found = matching.search_card(d, wire.CarteVitale(None, od, None, "2015-01-01", "2"))
    assert found.code == "00" and found.identity == twin2
    assert matching.search_card(d, wire.CarteVitale(None, od, None, "1980-01-01", "1")).identity == parent
    # NIR certifié of the beneficiary on the card
    direct = matching.search_card(
        d, wire.CarteVitale(wire.Matricule("2150175056201"), od, None, "2015-01-01", "1")
    )
    assert direct.identity == twin1
    assert (
        matching.search_card(
            d, wire.CarteVitale(None, wire.Matricule("1999999999999"), None, "2015-01-01", "1")
        ).code
        == "01"
    )


def test_historic_matricule_finds_the_person_and_the_answer_lists_it() -> None:
    ident = D.by_matricule("2090763220834")
    assert ident is not None and ident.matricule == "1090763220834"
    res = matching.resultat(matching.Match("00", [ident]))
    assert res.histo[0].matricule == "2090763220834" and res.histo[0].date_fin == "2019-02-28"


def test_verification_inferred_shape() -> None:
    traits = wire.Traits("ADRTROIS", ["TOUSSAINT"], "M", "1960-01-01", "2B020")
    assert matching.verify(D, "160012B020777", traits)[0] == "00"
    assert (
        matching.verify(D, "160012B020777", wire.Traits("ADRTROIS", ["DOMINIQUE"], "M", "1960-01-01"))[0]
        == "02"
    )
    assert matching.verify(D, "1999999999999", traits)[0] == "01"


# -- checks -------------------------------------------------------------------------------------
def rules(
    data: bytes, content_type: str = "application/soap+xml; charset=utf-8", emitter: str | None = None
) -> dict[str, str]:
    sink = Findings("report")
    checks.check_request(sink, wire.parse_request(data, content_type), content_type, emitter)
    return {f.rule: f.severity for f in sink}


def test_a_well_formed_request_has_no_warning() -> None:
    found = rules(request_xml(emetteur="10B0152872"), emitter="10B0152872")
    assert not {r: s for r, s in found.items() if s != "info"}, found


@pytest.mark.parametrize(
    "nom",
    ["adrtrois", "ADRTRÖIS", "D’AEION", "DÆION", " ADRTROIS", "ADR  TROIS", "ADR_TROIS", "-ADRTROIS"],
)
def test_lexical_rules_on_the_birth_name(nom: str) -> None:
    assert rules(request_xml(nom))["INSI-TRAITS-LEXIQUE"] == "error"


@pytest.mark.parametrize("nom", ["DE VINCI", "D'ARTAGNAN DE L'HERAULT", "MARTIN--DURAND", "PATB-QUATRE"])
def test_lexically_valid_birth_names(nom: str) -> None:
    assert "INSI-TRAITS-LEXIQUE" not in rules(request_xml(nom))


@pytest.mark.parametrize(
    ("prenom", "ok"), [("PIERRE-ALAIN", True), ("JEAN--PAUL", False), ("CŒUR", False), ("ANNE-", False)]
)
def test_lexical_rules_on_first_names(prenom: str, ok: bool) -> None:
    assert ("INSI-TRAITS-LEXIQUE" not in rules(request_xml(prenoms=(prenom,)))) == ok


def test_header_rules() -> None:
    found = rules(
        request_xml(message_id="0dfb8f66-de74-4f30-ba83-bebde1239ebf", lps_nom="GIE"), emitter="10B0152872"
    )
    assert found["INSI-MESSAGEID"] == "warning"
    assert found["INSI-LPS-NOM"] == "warning"
    assert found["INSI-EMETTEUR"] == "warning"
    assert rules(request_xml(), content_type="text/xml")["INSI-CONTENT-TYPE"] == "error"
    wrong_action = (
        'application/soap+xml; action="urn:ServiceIdentiteCertifiee:1.0.0:rechercherInsAvecCarteVitale"'
    )
    assert rules(request_xml(), content_type=wrong_action)["INSI-ACTION"] == "error"


def test_missing_traits_and_bad_sex() -> None:
    found = rules(request_xml(nom=None, prenoms=(), sexe="I", date="14/07/2009"))
    assert found["INSI-NOM-ABSENT"] == found["INSI-PRENOM-ABSENT"] == "error"
    assert found["INSI-SEXE"] == found["INSI-DATE"] == "error"


def test_official_dmp_kit_request_findings() -> None:
    """The GIE's own example has no uuid: MessageID and a bare LPS/Nom: both are noted."""
    data = (SPECS / "dmp" / "examples" / "WS_INS2_rechercherInsAvecTraitsIdentite_requete.xml").read_bytes()
    found = rules(data)
    assert found["INSI-MESSAGEID"] == "warning" and found["INSI-LPS-NOM"] == "warning"
    assert "INSI-TRAITS-LEXIQUE" not in found


def test_strict_refusal_uses_the_real_fault_when_known() -> None:
    sink = Findings("strict")
    checks.check_traits(sink, wire.Traits("D’ÆION", ["CŒUR"], "M", "1987-01-25"))
    assert sink.refuse and checks.refusal(sink) == ("insi_102", "")
    sink = Findings("strict")
    checks.check_traits(sink, wire.Traits(None, ["X"], "M", "1987-01-25"))
    assert checks.refusal(sink)[0] == "insi_19"
    sink = Findings("strict")
    checks.check_traits(sink, wire.Traits("X", ["X"], "I", "1987-01-25"))
    name, text = checks.refusal(sink)
    assert name == "conformite" and text.startswith("INSI-SEXE")


def test_nir_key() -> None:
    # keys of the public test matricules (research 2.6), Corsica included
    for nir, key in [
        ("160012B020777", "13"),
        ("297022A020778", "78"),
        ("2070585756270", "97"),
        ("1090763220888", "35"),
    ]:
        assert checks.nir_key(nir) == key
