"""The DMP's functional rights: PDT-INF-526 v1.8 (25.09.2024) and, for the reinforced indirect
mode (INDIRECTE_RENFORCEE, "AIR"), PDT-INF-606 v1.3 (08.07.2025), transcribed cell by cell
(../shared/specs/dmp/notes/). Rows are transactions (a TD, with the action for TD0.3, TD3.1, TD3.2,
TD3.3), columns an actor and an access mode:

    actor   ps (PS non médecin, CPS/CPF) | medecin (médecin, not the patient's MT) | mt (médecin
            traitant DMP) | medecin_travail | cpe (CPE, non-PS) | indirect (certificat de
            structure, INDIRECTE)
    access  normal | centre_15 (régulation) | bris_de_glace

Part 2 (documents) and the patient transactions ask the same question:

    decision = rights.decide("TD3.2:masque", actor="medecin", access="bris_de_glace", air=False)
    decision.allowed, decision.note        # note: the matrix's condition, e.g. 7 (patient's consent)
    rights.require("TD0.5", actor, access, air)   # raises the refusal's catalogue error

A "oui (n)" cell is allowed with condition n (NOTES); the caller applies the condition (own
documents for 6/8, the structure's for 9, TD0.4 restrictions 2/3). Each refusal is a catalogue
error: `refus_centre15` (TD0.5 outside régulation), `refus_mt` (se supprimer MT by another PS),
else `refus_mode`. Rows the matrices do not list (TD1.1, TD1.2, TD1.3b, TD1.4; MT in régulation;
the médecin du travail in the AIR table) are [inferred] and marked so in INFERRED.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from dmp import errors

Actor = Literal["ps", "medecin", "mt", "medecin_travail", "cpe", "indirect"]
Access = Literal["normal", "centre_15", "bris_de_glace"]

ACTORS: tuple[Actor, ...] = ("ps", "medecin", "mt", "medecin_travail", "cpe", "indirect")
ACCESSES: tuple[Access, ...] = ("normal", "centre_15", "bris_de_glace")

# PDT-INF-526 page 2, its twelve columns in order
COLUMNS_526: tuple[tuple[Actor, Access], ...] = (
    ("ps", "normal"),
    ("ps", "centre_15"),
    ("ps", "bris_de_glace"),
    ("medecin", "normal"),
    ("medecin", "centre_15"),
    ("medecin", "bris_de_glace"),
    ("medecin_travail", "normal"),  # "sans objet" in the matrix
    ("mt", "normal"),
    ("mt", "bris_de_glace"),
    ("cpe", "normal"),
    ("indirect", "normal"),
    ("indirect", "centre_15"),
)
# PDT-INF-606 page 2 (AIR), its nine columns in order
COLUMNS_606: tuple[tuple[Actor, Access], ...] = (
    ("ps", "normal"),
    ("ps", "centre_15"),
    ("ps", "bris_de_glace"),
    ("medecin", "normal"),
    ("medecin", "centre_15"),
    ("medecin", "bris_de_glace"),
    ("mt", "normal"),
    ("mt", "bris_de_glace"),
    ("cpe", "normal"),
)

NOTES = {
    1: "TD0.3 - l'autorisation est donnée à la structure (AIR, PE) / en indirect",
    2: "TD0.4 - recherche limitée aux PS appartenant à la même structure",
    3: "TD0.4 - recherche limitée, par date, aux nouvelles autorisations",
    4: "TD2.1/TD2.2 - ajout de documents, imputabilité à la structure",
    5: "TD3.1 - recherche de la référence d'un document (en vue de sa suppression)",
    6: "TD3.2 - ses propres documents uniquement (ceux dont il est l'auteur)",
    7: "TD3.2 - document masqué en bris de glace ou centre 15 : seulement si le patient l'a autorisé",
    8: "TD3.3 - ses propres documents uniquement (ceux dont il est l'auteur)",
    9: "TD3.3 - les documents de la structure uniquement",
    10: "TD1.3b / TD1.4 / TD1.5 - seulement pour les DMP non rattachés à Mon espace santé",
}

# fmt: off
MATRIX_526: dict[str, str] = {
    # transaction             ps: n  c15 bdg | méd: n  c15 bdg | travail | MT: n  bdg | CPE  | ind: n  c15
    "TD0.0":                 "oui oui oui oui oui oui oui oui oui oui oui oui",
    "TD0.1":                 "oui oui oui oui oui oui oui oui oui oui oui oui",
    "TD0.2":                 "oui oui oui oui oui oui oui oui oui oui oui oui",
    "TD0.3:AJOUT":           "oui non non oui non non non oui non oui(1) non non",
    "TD0.3:SUPPRESSION":     "oui non non oui non non non oui non non non non",
    "TD0.3:MEDECIN_TRAITANT": "non non non non non non non oui non non non non",
    "TD0.4":                 "oui oui oui oui oui oui oui oui oui oui(2) oui(3) non",
    "TD0.5":                 "non oui non non oui non non non non non non oui",
    "TD0.9":                 "oui oui oui oui oui oui oui oui oui oui non non",
    "TD1.3a":                "oui oui oui oui oui oui oui oui oui oui oui oui",
    "TD1.6":                 "oui non non oui non non oui oui non non non non",
    "TD2.1":                 "oui oui oui oui oui oui oui oui oui non oui(4) oui(4)",
    "TD2.2":                 "non non non non non non non non non oui(4) non non",
    "TD3.1:metadata":        "oui oui oui oui oui oui oui oui oui non non non",
    "TD3.1:reference":       "oui oui oui oui oui oui oui oui oui oui(5) oui(5) oui(5)",
    "TD3.2:normal":          "oui oui oui oui oui oui non oui oui non non non",
    "TD3.2:masque":          "oui(6) oui(7) oui(7) oui(6) oui(7) oui(7) non oui oui(7) non non non",
    "TD3.2:invisible":       "oui oui oui oui oui oui non oui oui non non non",
    "TD3.2:archive":         "oui oui oui oui oui oui non oui oui non non non",
    "TD3.2:obsolete":        "oui oui oui oui oui oui non oui oui non non non",
    "TD3.2:supprime":        "oui oui oui oui oui oui non oui oui non non non",
    "TD3.3a:masquer":        "oui non non oui non non oui oui non non non non",
    "TD3.3a:demasquer":      "oui(8) non non oui(8) non non oui(8) oui non non non non",
    "TD3.3b":                "oui non non oui non non oui oui non non non non",
    "TD3.3d:archiver":       "oui(8) non non oui(8) oui oui oui(8) oui oui non non non",
    "TD3.3d:desarchiver":    "oui(8) non non oui(8) oui oui oui(8) oui oui non non non",
    "TD3.3c":                "oui(8) oui(8) oui(8) oui(8) oui(8) oui(8) oui(8) oui(8) oui(8) oui(9) oui(9) oui(9)",
    # [inferred] not in PDT-INF-526 v1.8: the administrative transactions, in normal access only,
    # for every actor but the médecin du travail (PDT-INF-617 shows CPE using them)
    "TD1.1":                 "oui non non oui non non non oui non oui oui non",
    "TD1.2":                 "oui non non oui non non non oui non oui oui non",
    "TD1.3b":                "oui(10) non non oui(10) non non non oui(10) non oui(10) oui(10) non",
    "TD1.4":                 "oui(10) non non oui(10) non non non oui(10) non oui(10) oui(10) non",
}
MATRIX_606: dict[str, str] = {
    # transaction             ps: n  c15 bdg | méd: n  c15 bdg | MT: n  bdg | PE
    "TD0.1":                 "oui oui oui oui oui oui oui oui oui",
    "TD0.2":                 "oui oui oui oui oui oui oui oui oui",
    "TD0.3:AJOUT":           "oui non non oui non non oui non oui(1)",
    "TD0.3:SUPPRESSION":     "oui non non oui non non oui non non",
    "TD0.4":                 "oui oui oui oui oui oui oui oui oui(2)",
    "TD0.5":                 "non oui non non oui non non non non",
    "TD0.9":                 "oui oui oui oui oui oui oui oui oui",  # "TD0.10" in PDT-INF-606
    "TD1.3a":                "oui oui oui oui oui oui oui oui oui",
    "TD1.6":                 "oui non non oui non non oui non non",
    "TD2.1":                 "non non non non non non non non non",
    "TD2.2":                 "non non non non non non non non non",
    "TD3.1:metadata":        "oui oui oui oui oui oui oui oui non",
    "TD3.1:reference":       "oui oui oui oui oui oui oui oui oui(5)",
    "TD3.2:normal":          "oui oui oui oui oui oui oui oui non",
    "TD3.2:masque":          "oui(6) oui(7) oui(7) oui(6) oui(7) oui(7) oui oui(7) non",
    "TD3.2:invisible":       "oui oui oui oui oui oui oui oui non",
    "TD3.2:archive":         "oui oui oui oui oui oui oui oui non",
    "TD3.2:obsolete":        "oui oui oui oui oui oui oui oui non",
    "TD3.2:supprime":        "oui oui oui oui oui oui oui oui non",
    "TD3.3a:masquer":        "oui non non oui non non oui non non",
    "TD3.3a:demasquer":      "oui(8) non non oui(8) non non oui non non",
    "TD3.3b":                "oui non non oui non non oui non non",
    "TD3.3d:archiver":       "oui(8) non non oui oui oui oui oui non",
    "TD3.3d:desarchiver":    "oui(8) non non oui oui oui oui oui non",
    "TD3.3c":                "oui(8) oui(8) oui(8) oui(8) oui(8) oui(8) oui(8) oui(8) oui(9)",
}
# fmt: on

INFERRED = {
    "TD1.1, TD1.2, TD1.3b, TD1.4": "absent de PDT-INF-526 v1.8 : accès normal, tous acteurs sauf médecin du travail",
    "MT en régulation": "colonne absente : les droits du médecin (non MT) en régulation",
    "AIR, médecin du travail / indirect": "colonnes absentes de PDT-INF-606 : refusé",
    "TD0.0 / TD0.1 / TD0.5 / TD1.x en AIR": "TD0.0 retiré ; TD1.1 à TD1.4 absents : refusés en AIR",
}

_CELL = re.compile(r"^(oui|non)(?:\((\d+)\))?$")


@dataclass(frozen=True)
class Cell:
    allowed: bool
    note: int | None = None


@dataclass(frozen=True)
class Decision:
    row: str
    actor: Actor
    access: Access
    air: bool
    allowed: bool
    note: int | None = None
    error: str | None = None  # the catalogue error of a refusal

    @property
    def condition(self) -> str:
        return NOTES.get(self.note, "") if self.note else ""


def _parse(
    matrix: dict[str, str], columns: tuple[tuple[Actor, Access], ...]
) -> dict[str, dict[tuple[Actor, Access], Cell]]:
    table: dict[str, dict[tuple[Actor, Access], Cell]] = {}
    for row, text in matrix.items():
        cells = text.split()
        if len(cells) != len(columns):
            raise ValueError(f"rights row {row}: {len(cells)} cells for {len(columns)} columns")
        parsed: dict[tuple[Actor, Access], Cell] = {}
        for column, cell in zip(columns, cells, strict=True):
            match = _CELL.match(cell)
            if match is None:
                raise ValueError(f"rights row {row}: bad cell {cell!r}")
            parsed[column] = Cell(match.group(1) == "oui", int(match.group(2)) if match.group(2) else None)
        table[row] = parsed
    return table


TABLE_526 = _parse(MATRIX_526, COLUMNS_526)
TABLE_606 = _parse(MATRIX_606, COLUMNS_606)
ROWS = tuple(TABLE_526)


def cell(row: str, actor: Actor, access: Access, air: bool = False) -> Cell:
    """The matrix cell (a column the matrix does not have is [inferred], see INFERRED)."""
    table = TABLE_606 if air else TABLE_526
    cells = table.get(row)
    if cells is None:
        if row not in TABLE_526:
            raise KeyError(f"unknown rights row: {row}")
        return Cell(False)  # AIR rows PDT-INF-606 does not list
    if (actor, access) in cells:
        return cells[(actor, access)]
    if actor == "mt" and access == "centre_15":
        return cells.get(("medecin", "centre_15"), Cell(False))
    return Cell(False)  # e.g. CPE or indirect in bris de glace: no such column, no such right


def decide(row: str, actor: Actor, access: Access, air: bool = False) -> Decision:
    found = cell(row, actor, access, air)
    error = None
    if not found.allowed:
        if row == "TD0.5" and access != "centre_15":
            error = "refus_centre15"
        elif row == "TD0.3:MEDECIN_TRAITANT":
            error = "refus_mt"
        else:
            error = "refus_mode"
    return Decision(row, actor, access, air, found.allowed, found.note, error)


ACTOR_LABELS = {
    "ps": "authentification directe (PS non médecin)",
    "medecin": "authentification directe (médecin)",
    "mt": "authentification directe (médecin traitant DMP)",
    "medecin_travail": "authentification directe (médecin du travail)",
    "cpe": "authentification directe par CPE",
    "indirect": "authentification indirecte",
}
ACCESS_LABELS = {
    "normal": "accès normal",
    "centre_15": "mode centre 15",
    "bris_de_glace": "mode bris de glace",
}


def describe(actor: Actor, access: Access, air: bool) -> str:
    label = "authentification indirecte renforcée (AIR)" if air else ACTOR_LABELS[actor]
    return f"{label}, {ACCESS_LABELS[access]}"


def require(row: str, actor: Actor, access: Access, air: bool = False) -> Decision:
    """The decision, or the refusal's catalogue error raised."""
    decision = decide(row, actor, access, air)
    if not decision.allowed:
        assert decision.error is not None
        errors.fail(decision.error, td=row.split(":")[0], mode=describe(actor, access, air))
    return decision
