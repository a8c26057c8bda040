"""Identifier and lexical rules shared by the services (and checked on what an LGC sends).

- NIR / NIA key: 97 - (number mod 97), Corsica's 2A / 2B read as 19 / 18.
- RPPS (11 digits), FINESS (9), SIREN (9), SIRET (14), ADELI (9): Luhn key on the last digit.
  Real test identities do not all satisfy it: callers accept and flag, they do not refuse.
- INSi lexical rules for traits (research insi.md 2.9): upper case A-Z, space, hyphen, apostrophe;
  no accents, ligatures or double separators; dates may be lunar (day or month 00).
"""

from __future__ import annotations

import re
from datetime import date

NIR_PATTERN = re.compile(r"^[1-478][0-9]{2}(0[0-9]|1[0-2]|[2-9][0-9])(2A|2B|[0-9]{2})[0-9]{6}$")
INSI_NAME = re.compile(r"^[A-Z]+(?:(?: |-|'|--)[A-Z]+)*$")
INSI_FIRST_NAME = re.compile(r"^[A-Z]+(?:(?:-| |')[A-Z]+)*$")
COG_PATTERN = re.compile(r"^(?:[0-9]{2}|2A|2B)[0-9]{3}$")


def _nir_number(matricule: str) -> int:
    return int(matricule.replace("2A", "19").replace("2B", "18"))


def nir_key(matricule: str) -> str:
    """The 2-digit key of a 13-character NIR or NIA."""
    if len(matricule) != 13:
        raise ValueError("a NIR has 13 characters before its key")
    return f"{97 - _nir_number(matricule) % 97:02d}"


def nir_is_valid(matricule: str, key: str) -> bool:
    return bool(NIR_PATTERN.match(matricule)) and nir_key(matricule) == key


def luhn_digit(digits: str) -> str:
    """The Luhn check digit to append to `digits`."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2 == 0:
            n *= 2
            if n > 9:
                n -= 9
        total += n
    return str((10 - total % 10) % 10)


def luhn_is_valid(number: str) -> bool:
    return number.isdigit() and len(number) > 1 and luhn_digit(number[:-1]) == number[-1]


def rpps_is_valid(rpps: str) -> bool:
    return len(rpps) == 11 and luhn_is_valid(rpps)


def finess_is_valid(finess: str) -> bool:
    # Corsica's FINESS start 2A / 2B; the key is computed with 2A -> 20... [inferred]; read as digits
    digits = finess.replace("2A", "20").replace("2B", "20")
    return len(finess) == 9 and luhn_is_valid(digits)


def siret_is_valid(siret: str) -> bool:
    return len(siret) == 14 and luhn_is_valid(siret)


def cog_is_valid(code: str) -> bool:
    """Shape of a COG code: a commune (DDCCC, Corsica 2A/2B) or a country (99CCC)."""
    return bool(COG_PATTERN.match(code))


def insi_name_is_valid(name: str) -> bool:
    """A birth name as INSi expects it: upper case A-Z and single separators (double hyphen allowed)."""
    return bool(INSI_NAME.match(name))


def insi_first_name_is_valid(name: str) -> bool:
    return bool(INSI_FIRST_NAME.match(name))


def birth_date_is_valid(text: str) -> bool:
    """YYYY-MM-DD, a real date or a lunar one (unknown day and/or month written 00)."""
    m = re.fullmatch(r"([0-9]{4})-([0-9]{2})-([0-9]{2})", text)
    if not m:
        return False
    year, month, day = (int(g) for g in m.groups())
    if month == 0 or day == 0:
        return 0 <= month <= 12 and 0 <= day <= 31
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def nir_for(sexe: str, birth: str, place: str, order: int, nia: bool = False) -> str:
    """The 13-character matricule of a person: sex, year, month, place (COG), order of birth.
    A NIA (not yet certified, born abroad) starts with 7 or 8 instead of 1 or 2."""
    first = ("1" if sexe == "M" else "2") if not nia else ("7" if sexe == "M" else "8")
    year, month = birth[2:4], birth[5:7]
    if month == "00":
        month = "99"  # unknown month (lunar date) is written 20 or 99 [inferred: 99]
    if not place.startswith("99"):
        return f"{first}{year}{month}{place}{order % 1000:03d}"
    return f"{first}{year}{month}99{place[2:]}{order % 1000:03d}"
