"""The stored world is reused only by the configuration and the code that built it."""

from __future__ import annotations

import json
from pathlib import Path

import faker

from mocks.kernel import Sandbox
from mocks.testing import make_config

SIZES = {"population_households": 30, "population_professionals": 5, "population_structures": 2}


def test_a_world_built_with_other_faker_lists_is_regenerated(tmp_path: Path) -> None:
    first = Sandbox(make_config(tmp_path, **SIZES))
    first.population.ensure()
    key = json.loads(first.population.key)
    assert faker.VERSION in key
    stale = json.dumps([v if v != faker.VERSION else "0.0.0" for v in key])
    with first.store.tx() as conn:
        conn.execute("UPDATE pop_meta SET value = ? WHERE key = 'world'", (stale,))
    again = Sandbox(make_config(tmp_path, **SIZES)).population
    again.ensure()
    assert again.generated_in > 0
    unchanged = Sandbox(make_config(tmp_path, **SIZES)).population
    unchanged.ensure()
    assert unchanged.generated_in == 0


def test_the_world_has_no_tenant_column(tmp_path: Path) -> None:
    sandbox = Sandbox(make_config(tmp_path, **SIZES))
    sandbox.population.ensure()
    tables = [t for t in sandbox.store.tables() if t.startswith("pop_")]
    assert {"pop_patients", "pop_professionals", "pop_structures", "pop_cards", "pop_meta"} <= set(tables)
    assert not [t for t in sandbox.store.tenant_tables() if t.startswith("pop_")]  # resets never touch it


def test_bare_national_numbers_find_their_owner(tmp_path: Path) -> None:
    pop = Sandbox(make_config(tmp_path, **SIZES)).population
    for pro in pop.professionals():
        number = pro.rpps or pro.adeli
        if number:
            assert pop.professional(number) is pro
    hospital = pop.structure("0B0172805")  # the FINESS of the PSC fixtures' hospital
    assert hospital is not None and hospital.id_nat == "10B0172805"
    for s in pop.structures():
        if s.siret and s.id_nat == "3" + s.siret:
            assert pop.structure(s.siret) is s
    assert pop.professional("12345") is None and pop.structure("nope") is None
