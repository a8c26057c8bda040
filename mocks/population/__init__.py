"""The synthetic world every service answers about: patients with their INS and Carte Vitale,
professionals, structures — generated (mocks.population.generate) plus the personas of
`data/personas/` (public test identities of the real platforms, demo and magic personas).

    population = sandbox.population
    population.patients()                 every patient (INSi builds its référentiel from it)
    population.patient(id)                by id;  population.by_matricule(nir13) active or historic
    population.by_traits(nom, sexe, date) the INSi candidates (exact birth name, sex, birth date)
    population.card(nir_od)               a Carte Vitale and its beneficiaries
    population.professional(id_nat)       by idNat_PS (8+RPPS, 0+ADELI); .professionals()
    population.structure(id_nat)          by idNat_Struct;  .structures()
    population.search(text)               patients, professionals and structures matching a text

The world is stored once per (seed, reference date, sizes, generator version) in `pop_*` tables
(global: no tenant column, untouched by resets) and held in memory read-only.
See docs/personas.md.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from faker import VERSION as FAKER_VERSION

from mocks.paths import DATA_FILES
from mocks.population.generate import GENERATOR_VERSION, household, professional, shared_structure, workplaces
from mocks.population.model import CarteVitale, Patient, Professional, Structure

if TYPE_CHECKING:
    from mocks.kernel import Sandbox

__all__ = ["CarteVitale", "Patient", "Population", "Professional", "Structure", "World"]

PERSONA_FILES = ("insi-public.json", "demo.json", "kits-public.json")

MIGRATIONS = [
    """
    CREATE TABLE pop_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE pop_patients (id TEXT PRIMARY KEY, matricule TEXT NOT NULL, nom TEXT NOT NULL,
        sexe TEXT NOT NULL, date_naissance TEXT NOT NULL, data TEXT NOT NULL);
    CREATE INDEX pop_patients_traits ON pop_patients(nom, sexe, date_naissance);
    CREATE INDEX pop_patients_matricule ON pop_patients(matricule);
    CREATE TABLE pop_professionals (id_nat TEXT PRIMARY KEY, nom TEXT NOT NULL, data TEXT NOT NULL);
    CREATE TABLE pop_structures (id_nat TEXT PRIMARY KEY, name TEXT NOT NULL, data TEXT NOT NULL);
    CREATE TABLE pop_cards (nir_od TEXT PRIMARY KEY, data TEXT NOT NULL)
    """
]


@dataclass
class World:
    """The whole world in memory, with its indexes."""

    patients: dict[str, Patient] = field(default_factory=dict)
    professionals: dict[str, Professional] = field(default_factory=dict)
    structures: dict[str, Structure] = field(default_factory=dict)
    cards: dict[str, CarteVitale] = field(default_factory=dict)
    by_traits: dict[tuple[str, str, str], list[Patient]] = field(default_factory=dict)
    by_matricule: dict[str, Patient] = field(default_factory=dict)

    def index(self) -> World:
        for p in self.patients.values():
            self.by_traits.setdefault((p.nom, p.sexe, p.date_naissance), []).append(p)
            self.by_matricule.setdefault(p.matricule, p)
        for p in self.patients.values():  # historic matricules, after every active one
            for h in p.histo:
                self.by_matricule.setdefault(h.matricule, p)
        return self


def build(seed: int, reference: str, households: int, professionals: int, structures: int) -> World:
    """Generate the world (pure function of its arguments), personas included."""
    world = World()
    for i in range(households):
        people, card = household(seed, reference, i)
        for p in people:
            world.patients[p.id] = p
        world.cards[card.nir_od] = card
    shared = [shared_structure(seed, reference, k) for k in range(structures)]
    for s in shared:
        world.structures[s.id_nat] = s
    places = workplaces(shared)
    for j in range(professionals):
        pro, cabinet = professional(seed, reference, j, places)
        world.professionals[pro.id_nat] = pro
        world.structures.setdefault(cabinet.id_nat, cabinet)
    for name in PERSONA_FILES:
        doc = json.loads((DATA_FILES / "personas" / name).read_text(encoding="utf-8"))
        for raw in doc.get("patients", []):
            p = Patient.from_dict({"persona": "insi-public", **raw})
            world.patients[p.id] = p
        for raw in doc.get("structures", []):
            s = Structure.from_dict(raw)
            world.structures[s.id_nat] = s
        for raw in doc.get("professionals", []):
            pro = Professional.from_dict(raw)
            world.professionals[pro.id_nat] = pro
        for raw in doc.get("cards", []):
            card = CarteVitale.from_dict(raw)
            world.cards[card.nir_od] = card
    return world.index()


class Population:
    def __init__(self, sandbox: Sandbox):
        self.sandbox = sandbox
        self._world: World | None = None
        self._lock = threading.Lock()
        self.generated_in = 0.0

    @property
    def key(self) -> str:
        c = self.sandbox.config
        return json.dumps(
            [
                GENERATOR_VERSION,
                FAKER_VERSION,  # names and streets come from Faker's lists: another version, another world
                c.seed,
                c["reference_date"],
                c["population_households"],
                c["population_professionals"],
                c["population_structures"],
            ]  # fmt: skip
        )

    def ensure(self) -> World:
        """The world, generated into the store if the stored one is not this configuration's."""
        if self._world is not None:
            return self._world
        with self._lock:
            if self._world is None:
                self._world = self._load_or_build()
        return self._world

    def _load_or_build(self) -> World:
        store = self.sandbox.store
        store.migrate("population", MIGRATIONS)
        row = store.one("SELECT value FROM pop_meta WHERE key = 'world'")
        if row is None or row["value"] != self.key:
            with store.tx() as conn:  # BEGIN IMMEDIATE: one process generates, the others wait
                row = conn.execute("SELECT value FROM pop_meta WHERE key = 'world'").fetchone()
                if row is None or row[0] != self.key:
                    started = time.perf_counter()
                    c = self.sandbox.config
                    world = build(c.seed, c["reference_date"], int(c["population_households"]),
                                  int(c["population_professionals"]), int(c["population_structures"]))  # fmt: skip
                    self._save(conn, world)
                    self.generated_in = time.perf_counter() - started
                    return world
        return self._read()

    def _save(self, conn: Any, world: World) -> None:
        for table in ("pop_patients", "pop_professionals", "pop_structures", "pop_cards", "pop_meta"):
            conn.execute(f"DELETE FROM {table}")
        conn.executemany(
            "INSERT INTO pop_patients VALUES (?, ?, ?, ?, ?, ?)",
            [
                (p.id, p.matricule, p.nom, p.sexe, p.date_naissance, _dumps(p))
                for p in world.patients.values()
            ],
        )
        conn.executemany(
            "INSERT INTO pop_professionals VALUES (?, ?, ?)",
            [(p.id_nat, p.nom, _dumps(p)) for p in world.professionals.values()],
        )
        conn.executemany(
            "INSERT INTO pop_structures VALUES (?, ?, ?)",
            [(s.id_nat, s.name, _dumps(s)) for s in world.structures.values()],
        )
        conn.executemany(
            "INSERT INTO pop_cards VALUES (?, ?)", [(c.nir_od, _dumps(c)) for c in world.cards.values()]
        )
        conn.execute("INSERT INTO pop_meta VALUES ('world', ?)", (self.key,))

    def _read(self) -> World:
        """The stored world, row by row (the rows are never all in memory at once: a restart
        peaks near the cold build's memory, not at twice it)."""
        conn = self.sandbox.store.conn
        world = World()
        for (data,) in conn.execute("SELECT data FROM pop_patients ORDER BY rowid"):
            p = Patient.from_dict(json.loads(data))
            world.patients[p.id] = p
        for (data,) in conn.execute("SELECT data FROM pop_professionals ORDER BY rowid"):
            pro = Professional.from_dict(json.loads(data))
            world.professionals[pro.id_nat] = pro
        for (data,) in conn.execute("SELECT data FROM pop_structures ORDER BY rowid"):
            s = Structure.from_dict(json.loads(data))
            world.structures[s.id_nat] = s
        for (data,) in conn.execute("SELECT data FROM pop_cards ORDER BY rowid"):
            c = CarteVitale.from_dict(json.loads(data))
            world.cards[c.nir_od] = c
        return world.index()

    # -- lookups ---------------------------------------------------------------------------------
    def patients(self) -> list[Patient]:
        return list(self.ensure().patients.values())

    def patient(self, patient_id: str) -> Patient | None:
        return self.ensure().patients.get(patient_id)

    def by_matricule(self, matricule: str) -> Patient | None:
        """The patient whose active or historic matricule (13 characters, or 15 with the key) this is."""
        return self.ensure().by_matricule.get(matricule[:13])

    def by_traits(self, nom: str, sexe: str, date_naissance: str) -> list[Patient]:
        return list(self.ensure().by_traits.get((nom, sexe, date_naissance), []))

    def card(self, nir_od: str) -> CarteVitale | None:
        return self.ensure().cards.get(nir_od[:13])

    def cards(self) -> list[CarteVitale]:
        return list(self.ensure().cards.values())

    def professionals(self) -> list[Professional]:
        return list(self.ensure().professionals.values())

    def professional(self, id_nat: str) -> Professional | None:
        """By idNat_PS (`8`+RPPS, `0`+ADELI, EDIT `ANS…`); a bare RPPS (11 digits) or ADELI
        (9 characters) is read with its prefix, as LGCs often hold the number alone."""
        found = self.ensure().professionals
        if id_nat in found:
            return found[id_nat]
        prefix = {11: "8", 9: "0"}.get(len(id_nat))
        return found.get(prefix + id_nat) if prefix else None

    def structures(self) -> list[Structure]:
        return list(self.ensure().structures.values())

    def structure(self, id_nat: str) -> Structure | None:
        """By idNat_Struct (`1`+FINESS, `3`+SIRET, `4`+RPPS+rang, ...); a bare FINESS (9
        characters) or SIRET (14 digits) is read with its prefix."""
        found = self.ensure().structures
        if id_nat in found:
            return found[id_nat]
        prefix = {9: "1", 14: "3"}.get(len(id_nat))
        return found.get(prefix + id_nat) if prefix else None

    def personas(self) -> dict[str, list[Any]]:
        """The named personas (public test identities, demo and magic), by kind."""
        w = self.ensure()
        return {
            "patients": [p for p in w.patients.values() if p.persona],
            "professionals": [p for p in w.professionals.values() if p.persona],
            "structures": [s for s in w.structures.values() if s.persona],
        }

    def search(self, text: str, limit: int = 50) -> dict[str, list[Any]]:
        """Patients (by name, INS), professionals (by name, idNat, RPPS), structures (name, id)."""
        q = text.strip().upper()
        w = self.ensure()

        def hit(*values: str) -> bool:
            return any(q in v.upper() for v in values if v)

        return {
            "patients": [p for p in w.patients.values() if hit(p.nom, " ".join(p.prenoms), p.ins, p.id)][
                :limit
            ],
            "professionals": [
                p
                for p in w.professionals.values()
                if hit(p.nom, " ".join(p.prenoms), p.id_nat, p.rpps, p.adeli)
            ][:limit],
            "structures": [s for s in w.structures.values() if hit(s.name, s.id_nat, s.technical_id)][:limit],
        }


# The C encoder walks nested dataclasses through `vars` (tuples become lists): the same JSON as
# `json.dumps(asdict(obj))`, five times faster (asdict deep-copies every value).
_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=vars).encode


def _dumps(obj: Any) -> str:
    return _ENCODE(obj)
