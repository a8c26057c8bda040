"""Public test identities of the official kits (SESAM-Vitale test cards, DMP client, INSi issuer
side, PSC EDIT): every identifier is one the research notes quote, and the cards hold who the
sources say they hold."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mocks.paths import DATA_FILES
from mocks.population import World, build, rules

RESEARCH = Path(__file__).resolve().parents[3] / "shared" / "research"
NOTES = "\n".join(
    (RESEARCH / n).read_text(encoding="utf-8")
    for n in ("apcv-sesam-vitale-igc-sante.md", "insi.md", "psc.md")
)
KITS = json.loads((DATA_FILES / "personas" / "kits-public.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def world() -> World:
    return build(1, "2026-01-01", 20, 5, 2)


def test_public_identifiers_are_quoted_by_the_research() -> None:
    for p in KITS["patients"]:
        if "synthetic" in p["note"]:
            continue
        assert p["nom"] in NOTES and p["matricule"] in NOTES and p["prenoms"][0] in NOTES, p["id"]
        assert rules.nir_is_valid(p["matricule"], p["cle"])
    for pro in KITS["professionals"]:
        assert pro["id_nat"] in NOTES and pro["nom"].split()[-1] in NOTES.upper(), pro["id_nat"]
    for s in KITS["structures"]:
        assert s["name"] in NOTES, s["id_nat"]


def test_sesam_vitale_cards(world: World) -> None:
    # research A4: all code régime 01, caisse 349, centre 9881
    cards = [world.cards[c["nir_od"]] for c in KITS["cards"]]
    assert {(c.regime, c.caisse, c.centre) for c in cards} == {("01", "349", "9881")}
    for card in cards:
        holder = world.patients[card.holder_id]
        assert holder.matricule == card.nir_od and card.nir_od in holder.cards
    adrdeux = world.cards["1810163220751"]
    child = world.patients[adrdeux.beneficiaries[1].patient_id]
    assert (child.nom, child.prenoms, child.date_naissance) == ("ADRDEUX", ("AUGUSTIN",), "1999-01-01")
    assert adrdeux.beneficiaries[1].qualite == "06" and child.matricule != adrdeux.nir_od
    assert rules.nir_is_valid(child.matricule, child.cle)


def test_issuer_side_identities_resolve(world: World) -> None:
    nurse = world.professionals["00B6087510"]
    assert nurse.profession == "60" and nurse.adeli == "0B6087510"
    padoa = world.structures["10B0152872"]
    assert (padoa.name, padoa.locality) == ("CENTRE DE SANTE RPPS15287", "Rhône (69)")
    edit = world.professionals["ANS20231122132732"]
    assert edit.persona == "edit" and edit.profession == "80"
    for pro in (nurse, edit, world.professionals["899700296140"]):
        assert all(a.structure_id in world.structures for a in pro.activities)


def test_psc_public_doctors_work_at_the_hospitals_the_fixtures_name(world: World) -> None:
    # psc.md 4: DOC0036624 at FINESS 0B0172805 / EJ 1B0062023, DOC0042788 at 0B0193488 / 1B0064166
    for id_nat, finess, ej in (
        ("899700366240", "0B0172805", "1B0062023"),
        ("899700427885", "0B0193488", "1B0064166"),
    ):
        assert finess in NOTES and ej in NOTES
        hospitals = [world.structures[a.structure_id] for a in world.professionals[id_nat].activities]
        hospital = next(s for s in hospitals if s.secteur == "SA01")
        assert (hospital.finess, hospital.finess_ej, hospital.technical_id) == (finess, ej, "F" + finess)
        assert hospital.name == "HOPITAL GENERIQUE FIN VARI"
