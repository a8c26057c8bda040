"""Identifier rules, against the facts of the research notes and as properties (hypothesis)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mocks.population import rules


@pytest.mark.parametrize(
    ("matricule", "key", "valid"),
    [
        ("160012B020777", "13", True),  # ADRTROIS TOUSSAINT, Corsica 2B
        ("297022A020778", "78", True),  # ADRTROIS DOMINIQUE, Corsica 2A
        ("1090763220834", "89", True),  # ECETINSI
        ("1090763220888", "35", True),  # PROVISOIRE (NIA)
        ("1810363220456", "60", False),  # HERMANN: the CNDA file's key is wrong (research 4)
        ("1810163220751", "42", False),  # ABAK's key for ADRDEUX is wrong, 40 is right
        ("1810163220751", "40", True),
    ],
)
def test_nir_keys_of_the_public_test_identities(matricule: str, key: str, valid: bool) -> None:
    assert rules.nir_is_valid(matricule, key) is valid


@given(st.integers(min_value=10**12, max_value=2 * 10**12 - 1))
def test_nir_key_complements_to_97(number: int) -> None:
    key = rules.nir_key(str(number))
    assert (number % 97 + int(key)) == 97 or (number % 97 == 0 and key == "97")


@given(st.sampled_from(["2A", "2B"]), st.integers(min_value=0, max_value=999999))
def test_corsica_reads_2a_as_19_and_2b_as_18(dept: str, rest: int) -> None:
    matricule = f"18003{dept}{rest:06d}"
    digits = matricule.replace("2A", "19").replace("2B", "18")
    assert rules.nir_key(matricule) == f"{97 - int(digits) % 97:02d}"


@pytest.mark.parametrize(
    ("rpps", "valid"),
    # research mssante.md 2.6: live RPPS pass Luhn, two IG/test ones do not
    [
        ("10000001916", True),
        ("10003854493", True),
        ("10005831911", True),
        ("10101205564", True),
        ("10102727017", False),
        ("10003461033", False),
    ],  # fmt: skip
)
def test_rpps_luhn(rpps: str, valid: bool) -> None:
    assert rules.rpps_is_valid(rpps) is valid


@pytest.mark.parametrize(
    ("finess", "valid"),
    [
        ("750010753", True),
        ("300017985", True),
        ("580008803", True),
        ("940000649", True),
        ("754567860", False),
    ],
)
def test_finess_luhn(finess: str, valid: bool) -> None:
    assert rules.finess_is_valid(finess) is valid


@given(st.text(alphabet="0123456789", min_size=5, max_size=14), st.integers(min_value=0, max_value=4))
def test_luhn_digit_makes_a_valid_number_and_a_changed_digit_breaks_it(digits: str, position: int) -> None:
    number = digits + rules.luhn_digit(digits)
    assert rules.luhn_is_valid(number)
    i = position % len(number)
    changed = number[:i] + str((int(number[i]) + 1) % 10) + number[i + 1 :]
    assert not rules.luhn_is_valid(changed)


@pytest.mark.parametrize(
    ("name", "valid"),
    [
        ("DE VINCI", True),
        ("D'ARTAGNAN DE L'HERAULT", True),
        ("MARTIN--DUPONT", True),
        ("PIERRE-ALAIN", True),
        ("Martin", False),
        ("CŒUR", False),
        ("D’ÆION", False),
        ("HÉLÈNE", False),
        ("MARTIN  DUPONT", False),
        ("-MARTIN", False),
        ("MARTIN-", False),
    ],  # fmt: skip
)
def test_insi_lexical_rules(name: str, valid: bool) -> None:
    assert rules.insi_name_is_valid(name) is valid


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("1961-00-00", True),
        ("1961-04-00", True),
        ("2014-02-01", True),
        ("2014-02-30", False),
        ("2014-13-01", False),
        ("01/02/2014", False),
    ],  # fmt: skip
)
def test_birth_dates_lunar_allowed(text: str, valid: bool) -> None:
    assert rules.birth_date_is_valid(text) is valid


def test_cog_shapes() -> None:
    assert rules.cog_is_valid("2A004") and rules.cog_is_valid("99350") and rules.cog_is_valid("63220")
    assert not rules.cog_is_valid("2C004") and not rules.cog_is_valid("6322")
