"""The stored form of the world: what `asdict` + JSON would give, and read back unchanged."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import asdict
from typing import Any

from mocks.population import _dumps, build
from mocks.population.model import CarteVitale, Patient, Professional, Structure


def test_stored_json_is_asdict_json_and_round_trips() -> None:
    world = build(3, "2026-01-01", 60, 20, 6)
    kinds: list[tuple[Callable[[dict[str, Any]], Any], Iterable[Any]]] = [
        (Patient.from_dict, world.patients.values()),
        (Professional.from_dict, world.professionals.values()),
        (Structure.from_dict, world.structures.values()),
        (CarteVitale.from_dict, world.cards.values()),
    ]
    for read, items in kinds:
        for obj in items:
            text = _dumps(obj)
            assert text == json.dumps(asdict(obj), ensure_ascii=False, separators=(",", ":"))
            assert read(json.loads(text)) == obj
