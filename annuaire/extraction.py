"""The flat "Extraction Correspondance MSSanté" file (research mssante.md 1.7).

Served at `/annuaire-sante-webservices/V300/services/extraction/Extraction_Correspondance_MSSante`
as a ZIP holding one `Extraction_Correspondance_MSSante_AAAAMMJJhhmm.txt`: UTF-8, `|`-separated,
one header line, the 31 columns in their order, `PER` lines (a professional's personal mailbox,
with the structure of its first situation d'exercice) and `ORG` lines (a structure's
organisational mailbox) — the live file carries no `APP` line. Dated from the world's reference
date, so that a seed always gives the same bytes; built once per world (and inconsistency
setting) and cached. With the inconsistency fault on, the file still lists the mailboxes FHIR
hides: that is the real inconsistency users meet.
"""

from __future__ import annotations

import io
import threading
import zipfile
from datetime import date

from mocks.population import Population, Professional, Structure
from mocks.population import nomenclatures as nom

PATH = "/annuaire-sante-webservices/V300/services/extraction/Extraction_Correspondance_MSSante"
COLUMNS = (
    "Type de BAL", "Adresse BAL", "Type Identifiant PP", "Identifiant PP", "Identification nationale PP",
    "Type identifiant structure", "Identification Structure", "Service de rattachement",
    "Civilité d'exercice", "Nom d'exercice", "Prénom d'exercice", "Catégorie profession",
    "Libellé de catégorie profession", "Code Profession", "Libellé Profession", "Code savoir-faire",
    "Libellé savoir-faire", "Dématérialisation", "Raison Sociale structure BAL",
    "Enseigne commerciale structure BAL", "L2COMPLEMENTLOCALISATION structure BAL",
    "L3COMPLEMENTDISTRIBUTION structure BAL", "L4NUMEROVOIE structure BAL",
    "L4COMPLEMENTNUMEROVOIE structure BAL", "NL4TYPEVOIE structure BAL", "L4LIBELLEVOIE structure BAL",
    "L5LIEUDITMENTION structure BAL", "L6LIGNEACHEMINEMENT structure BAL", "Code postal structure BAL",
    "Département structure BAL", "Pays structure BAL",
)  # fmt: skip
CATEGORIES = {"C": "Civil", "M": "Militaire", "E": "Etudiant"}


def _structure_columns(s: Structure | None) -> list[str]:
    if s is None:
        return [""] * 13
    a = s.address
    acheminement = f"{a.code_postal} {a.ville}".strip()
    return [s.name, "", "", "", a.numero, "", a.type_voie, a.libelle_voie, "", acheminement, a.code_postal,
            a.departement, "France" if a.code_postal else ""]  # fmt: skip


def _structure_id(s: Structure | None) -> tuple[str, str]:
    """(Type identifiant structure, Identification Structure): idNat_Struct prefix and value."""
    if s is None:
        return "", ""
    return s.id_nat[:1], s.id_nat[1:]


def per_line(p: Professional, s: Structure | None) -> list[str]:
    info = nom.professions().get(p.profession)
    kind, value = _structure_id(s)
    return [
        "PER", p.mss_address, "8" if p.rpps else "0", p.rpps or p.adeli, p.id_nat, kind, value, "",
        p.civilite_exercice, p.nom, p.first_name, p.categorie, CATEGORIES.get(p.categorie, ""),
        p.profession, info.label if info else "", p.savoir_faire,
        nom.savoir_faire().get(p.savoir_faire, "") if p.savoir_faire else "", "true",
        *_structure_columns(s),
    ]  # fmt: skip


def org_line(s: Structure) -> list[str]:
    kind, value = _structure_id(s)
    return ["ORG", s.mss_org_address, "", "", "", kind, value, "Secrétariat", "", "", "", "", "", "", "",
            "", "", "true", *_structure_columns(s)]  # fmt: skip


def rows(population: Population) -> list[list[str]]:
    structures = {s.id_nat: s for s in population.structures()}
    out = []
    for p in population.professionals():
        if p.mss_address:
            first = structures.get(p.activities[0].structure_id) if p.activities else None
            out.append(per_line(p, first))
    for s in structures.values():
        if s.mss_org_address:
            out.append(org_line(s))
    return out


def file_name(reference: date) -> str:
    return f"Extraction_Correspondance_MSSante_{reference:%Y%m%d}0000.txt"


def text(population: Population) -> str:
    lines = ["|".join(COLUMNS)] + ["|".join(v.replace("|", " ") for v in row) for row in rows(population)]
    return "\n".join(lines) + "\n"


def archive(population: Population, reference: date) -> bytes:
    """The ZIP, byte-stable for a world (fixed entry date)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        info = zipfile.ZipInfo(
            file_name(reference), date_time=(reference.year, reference.month, reference.day, 0, 0, 0)
        )
        info.compress_type = zipfile.ZIP_DEFLATED
        zf.writestr(info, text(population).encode("utf-8"))
    return buffer.getvalue()


class Cache:
    """The archive of the current world, built once (the benchmark measures the build)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key = ""
        self._data = b""

    def get(self, key: str, population: Population, reference: date) -> bytes:
        with self._lock:
            if key != self._key:
                self._data = archive(population, reference)
                self._key = key
            return self._data
