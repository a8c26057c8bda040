"""The nomenclature data files of `data/nomenclatures/` (sources in SOURCES.md there)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache

from mocks.paths import DATA_FILES

FOLDER = DATA_FILES / "nomenclatures"


@dataclass(frozen=True)
class Place:
    code: str  # COG
    name: str
    kind: str  # commune / country
    postal_code: str


@dataclass(frozen=True)
class Profession:
    code: str  # TRE_G15
    label: str
    category: str
    registration_authority: str
    id_kind: str  # RPPS or ADELI: the identifier the sandbox gives this profession


def _rows(name: str) -> list[dict[str, str]]:
    with open(FOLDER / name, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@cache
def places() -> tuple[Place, ...]:
    return tuple(Place(r["code"], r["name"], r["kind"], r["postal_code"]) for r in _rows("cog.csv"))


@cache
def communes() -> tuple[Place, ...]:
    return tuple(p for p in places() if p.kind == "commune")


@cache
def countries() -> tuple[Place, ...]:
    return tuple(p for p in places() if p.kind == "country")


@cache
def professions() -> dict[str, Profession]:
    return {
        r["code"]: Profession(r["code"], r["label"], r["category"], r["registration_authority"], r["id_kind"])
        for r in _rows("professions.csv")
    }


def profession(code: str) -> Profession:
    return professions()[code]


@cache
def savoir_faire() -> dict[str, str]:
    return {r["code"]: r["label"] for r in _rows("savoir_faire.csv")}


@cache
def secteurs() -> dict[str, str]:
    return {r["code"]: r["label"] for r in _rows("secteurs.csv")}
