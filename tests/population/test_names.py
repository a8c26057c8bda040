"""Names of the generated people: the INSi spelling, the identity document's spelling that an LGC
must transliterate into it (insi.md 2.9), used names."""

from __future__ import annotations

import pytest

from mocks.population import World, build, rules
from mocks.population.generate import insi_form


@pytest.fixture(scope="module")
def world() -> World:
    return build(5, "2026-01-01", 1500, 5, 2)


def test_document_spelling_transliterates_to_the_insi_name(world: World) -> None:
    generated = [p for p in world.patients.values() if p.id.startswith("pat-")]
    documents = [p for p in generated if p.nom_document]
    assert documents, "some names carry accents, ligatures or apostrophes on their document"
    for p in documents:
        assert p.nom_document != p.nom and not rules.insi_name_is_valid(p.nom_document)
        assert insi_form(p.nom_document) == p.nom
    assert any(c in p.nom_document for p in documents for c in "ŒÆ")  # ligatures for some
    assert any("’" in p.nom_document for p in documents)  # typographic apostrophe (CNDA 2.03 cas 3)
    assert all(rules.insi_name_is_valid(p.nom) for p in generated)


def test_used_names(world: World) -> None:
    used = [p for p in world.patients.values() if p.nom_utilise]
    assert used and all(p.sexe == "F" and p.qualite == "00" for p in used)
    assert all(rules.insi_name_is_valid(p.nom_utilise) for p in used)
    assert any(p.nom_utilise != p.nom for p in used)


@pytest.mark.parametrize(
    ("document", "insi"),
    [("D’ÆION", "D'AEION"), ("CŒUR", "COEUR"), ("LEFÈVRE", "LEFEVRE"), ("DE LA  FONTAINE", "DE LA FONTAINE")],
)
def test_insi_form_of_the_cnda_inputs(document: str, insi: str) -> None:
    assert insi_form(document) == insi


def test_addresses_keep_their_number(world: World) -> None:
    for p in [p for p in world.patients.values() if p.id.startswith("pat-")][:200]:
        number, _, street = p.adresse.partition(" ")
        assert number.isdigit() and street and street == street.upper(), p.adresse
