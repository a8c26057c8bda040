"""The golden INSi personas against the table of the research note (insi.md section 4), row by
row: every identity the note shows answered with a matricule is in the world with exactly those
traits, that key, that kind (OID .8 NIR / .9 NIA); the CR 02 and CR 01 rows find what INSi needs
to answer them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mocks.population import World, build

RESEARCH = Path(__file__).resolve().parents[3] / "shared" / "research" / "insi.md"


def research_rows() -> list[list[str]]:
    text = RESEARCH.read_text(encoding="utf-8")
    section = text.split("## 4. Test data", 1)[1].split("\n## 5", 1)[0]
    rows = [[c.strip() for c in line.strip().strip("|").split("|")] for line in section.splitlines()]
    return [r for r in rows if len(r) == 11 and re.fullmatch(r"\d{4}-\d{2}-\d{2}", r[3])]


ROWS = research_rows()
FOUND = [r for r in ROWS if re.match(r"[0-9AB]{13} ", r[6])]


@pytest.fixture(scope="module")
def world() -> World:
    return build(1, "2026-01-01", 30, 5, 2)


def test_the_note_is_parsed() -> None:
    assert len(ROWS) >= 12 and len(FOUND) >= 11


@pytest.mark.parametrize("row", FOUND, ids=[f"{r[0]} {r[1]}" for r in FOUND])
def test_found_identity_has_the_notes_traits(world: World, row: list[str]) -> None:
    nom = row[0].split(" (")[0]
    matricule, key = row[6].replace('"', "").split()[:2]
    patient = world.by_matricule.get(matricule)
    assert patient is not None, row
    assert (patient.nom, patient.sexe, patient.date_naissance, patient.cle) == (nom, row[2], row[3], key)
    assert " ".join(patient.prenoms) == row[8] and patient.lieu_naissance == row[9]
    assert patient.kind == ("NIA" if ".9" in row[7] else "NIR")
    for historic in re.findall(r"INSHISTO ([0-9AB]{13})", row[5]):
        assert historic in [h.matricule for h in patient.histo]


def test_cr02_row_finds_two_and_the_birthplace_separates_them(world: World) -> None:
    row = next(r for r in ROWS if r[5].strip("*") == "02")
    candidates = world.by_traits[(row[0], row[2], row[3])]
    assert len(candidates) == 2 and [p.lieu_naissance for p in candidates].count("63220") == 1


def test_cr01_rows_find_nobody_with_that_first_name(world: World) -> None:
    houilles = next(r for r in ROWS if r[0] == "HOUILLES")
    assert not world.by_traits.get((houilles[0], houilles[2], houilles[3]))
    tchitchi = next(r for r in ROWS if r[0] == "TCHITCHI")
    (catarina,) = world.by_traits[(tchitchi[0], tchitchi[2], tchitchi[3])]
    assert "OLA" not in catarina.prenoms and "CATARINA" in catarina.prenoms
