"""The stored form of the world: what `asdict` + JSON would give, and read back unchanged."""

from __future__ import annotations

import json
from dataclasses import asdict

from mocks.population import _dumps, build
from mocks.population.model import CarteVitale, Patient, Professional, Structure


def test_stored_json_is_asdict_json_and_round_trips() -> None:
    world = build(3, "2026-01-01", 60, 20, 6)
    kinds = [
        (Patient, world.patients.values()),
        (Professional, world.professionals.values()),
        (Structure, world.structures.values()),
        (CarteVitale, world.cards.values()),
    ]
    for cls, items in kinds:
        for obj in items:
            text = _dumps(obj)
            assert text == json.dumps(asdict(obj), ensure_ascii=False, separators=(",", ":"))
            assert cls.from_dict(json.loads(text)) == obj
