"""The synthetic world: determinism, consistency, the golden personas' fidelity to the research."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from dataclasses import asdict
from datetime import date
from pathlib import Path

import pytest

from mocks.paths import DATA_FILES
from mocks.population import World, build, rules

RESEARCH = Path(__file__).resolve().parents[3] / "shared" / "research"
SMALL = (1, "2026-01-01", 300, 80, 20)


@pytest.fixture(scope="module")
def world() -> World:
    return build(*SMALL)


def digest(w: World) -> str:
    dump = json.dumps(
        [
            [asdict(x) for x in w.patients.values()],
            [asdict(x) for x in w.professionals.values()],
            [asdict(x) for x in w.structures.values()],
            [asdict(x) for x in w.cards.values()],
        ],  # fmt: skip
        sort_keys=True,
        ensure_ascii=False,
    )
    return hashlib.sha256(dump.encode()).hexdigest()


def test_same_seed_same_world_in_another_process(world: World) -> None:
    code = "from mocks.population import build; import sys; sys.path.insert(0, %r); from test_world import digest; print(digest(build(*%r)))"
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run(
        [sys.executable, "-c", code % (str(Path(__file__).parent), SMALL)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    assert out.stdout.strip() == digest(world)


def test_another_seed_another_world(world: World) -> None:
    other = build(2, *SMALL[1:])
    assert digest(other) != digest(world)
    generated = [p for p in world.patients if p.startswith("pat-")]
    assert (
        sum(world.patients[p].nom == other.patients[p].nom for p in generated if p in other.patients)
        < len(generated) / 4
    )


def test_growing_the_world_keeps_existing_people(world: World) -> None:
    bigger = build(SMALL[0], SMALL[1], SMALL[2] + 50, SMALL[3] + 10, SMALL[4])
    for pid, patient in world.patients.items():
        assert asdict(bigger.patients[pid]) == asdict(patient)
    for id_nat, pro in world.professionals.items():
        assert (bigger.professionals[id_nat].nom, bigger.professionals[id_nat].rpps) == (pro.nom, pro.rpps)


def test_generated_identities_are_consistent(world: World) -> None:
    generated = [p for p in world.patients.values() if p.id.startswith("pat-")]
    assert len(generated) > 300
    for p in generated:
        assert rules.nir_is_valid(p.matricule, p.cle), p
        assert p.matricule[0] in ("17" if p.sexe == "M" else "28")
        assert p.matricule[1:3] == p.date_naissance[2:4]
        assert rules.insi_name_is_valid(p.nom), p.nom
        assert all(rules.insi_first_name_is_valid(n) for n in p.prenoms), p.prenoms
        assert rules.birth_date_is_valid(p.date_naissance)
        assert rules.cog_is_valid(p.lieu_naissance)
        assert p.kind == ("NIA" if p.matricule[0] in "78" else "NIR")
        assert p.mss_address == f"{p.matricule}{p.cle}@patient.mssante.fr"
    assert any(p.kind == "NIA" for p in generated)
    assert any("-00" in p.date_naissance for p in generated)  # lunar dates exist


def test_cards_hold_their_household(world: World) -> None:
    twins = 0
    for card in world.cards.values():
        holder = world.patients[card.holder_id]
        assert holder.matricule == card.nir_od and holder.qualite == "00"
        children = [b for b in card.beneficiaries if b.qualite == "06"]
        for b in children:
            child = world.patients[b.patient_id]
            assert card.nir_od in child.cards and (child.nom == holder.nom or bool(holder.persona))
        births = [world.patients[b.patient_id].date_naissance for b in children]
        if len(births) != len(set(births)):
            twins += 1
            same = [b for b in children if births.count(world.patients[b.patient_id].date_naissance) == 2]
            assert sorted(b.rang for b in same) == ["1", "2"]
    demo = world.cards[world.patients["demo-girard-sophie"].matricule]
    assert [b.rang for b in demo.beneficiaries] == ["1", "1", "2"]


def test_professionals_and_structures(world: World) -> None:
    for pro in world.professionals.values():
        if pro.rpps:
            assert pro.id_nat == "8" + pro.rpps
            if not pro.persona:
                assert rules.rpps_is_valid(pro.rpps)
        elif pro.persona == "edit":  # PSC EDIT identities: SubjectNameID ANS<yyyyMMddHHmmss> (psc.md 4)
            assert pro.id_nat.startswith("ANS") and len(pro.id_nat) == 17
        else:
            assert pro.id_nat == "0" + pro.adeli and len(pro.adeli) == 9
        assert pro.activities
        for activity in pro.activities:
            assert activity.structure_id in world.structures, activity
    for s in world.structures.values():
        if s.finess and not s.persona:
            assert rules.finess_is_valid(s.finess) and s.id_nat in ("1" + s.finess, "3" + s.siret)
        if s.kind == "cabinet_groupe":
            assert rules.siret_is_valid(s.siret)
    assert {"10", "21", "60"} <= {p.profession for p in world.professionals.values()}
    assert any(not p.rpps for p in world.professionals.values())  # ADELI-only professionals


def test_golden_insi_personas_are_those_of_the_research_note(world: World) -> None:
    note = (RESEARCH / "insi.md").read_text(encoding="utf-8")
    doc = json.loads((DATA_FILES / "personas" / "insi-public.json").read_text(encoding="utf-8"))
    public = [p for p in doc["patients"] if "synthetic" not in p["note"]]
    assert len(public) >= 12
    for p in public:
        assert p["matricule"] in note and p["cle"] in note, p["id"]
        assert p["nom"] in note and p["date_naissance"] in note
        patient = world.patients[p["id"]]
        assert patient.ins == p["matricule"] + p["cle"]
    assert world.patients["insi-provisoire-matricule"].kind == "NIA"
    assert [h.matricule for h in world.patients["insi-ecetinsi-pierre-alain"].histo] == ["2090763220834"]
    # DE VINCI LEONARDO M 2014-02-01 has a homonym, which makes INSi's CR 02 without birthplace
    assert len(world.by_traits[("DE VINCI", "M", "2014-02-01")]) == 2
    assert world.by_matricule["2090763220834"].id == "insi-ecetinsi-pierre-alain"  # historic matricule


def test_psc_public_identities_keep_their_national_ids(world: World) -> None:
    note = (RESEARCH / "psc.md").read_text(encoding="utf-8")
    for id_nat in ("899700366240", "899700427885", "899700218896"):
        assert id_nat in note
        assert world.professionals[id_nat].profession == "10"
    assert world.professionals["899700366240"].savoir_faire == "SM26"


def test_the_reference_date_moves_dates_not_people(world: World) -> None:
    ref = date.fromisoformat(SMALL[1])
    later = build(SMALL[0], "2036-01-01", 50, 5, 2)
    shift = (date(2036, 1, 1) - ref).days
    for pid in [p for p in later.patients if p.startswith("pat-")][:30]:
        before, after = world.patients[pid], later.patients[pid]
        assert (before.nom, before.prenoms, before.sexe) == (after.nom, after.prenoms, after.sexe)
        if "-00" not in before.date_naissance:
            moved = (
                date.fromisoformat(after.date_naissance) - date.fromisoformat(before.date_naissance)
            ).days
            assert moved == shift
    assert all(p.date_naissance[:4] <= str(ref.year) for p in world.patients.values())
