"""The INSi référentiel seen by the matching rules: an adapter from the sandbox population
(mocks.population: patients, Carte Vitale data, golden and magic INSi personas) to
`insi.matching.Directory`. The population is deterministic (seed + reference date), so nothing
here is per-tenant state; the adapter is cached per population object.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from insi.matching import HistoricIns, Identity, ListDirectory

if TYPE_CHECKING:
    from mocks.kernel import Sandbox


def _get(obj: Any, *names: str, default: Any = None) -> Any:
    for name in names:
        value = obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)
        if value not in (None, ""):
            return value
    return default


def identity_of(person: Any) -> Identity:
    """An Identity from a population person (attribute or dict shaped)."""
    prenoms = _get(person, "prenoms", "first_names", "given_names", default=())
    if isinstance(prenoms, str):
        prenoms = prenoms.split(" ")
    histo = tuple(
        HistoricIns(
            matricule=str(_get(h, "matricule", "nir", "number")),
            cle=_get(h, "cle", "key"),
            kind=str(_get(h, "kind", "type", default="NIR")),
            date_deb=_get(h, "date_deb", "start"),
            date_fin=_get(h, "date_fin", "end"),
        )
        for h in _get(person, "histo", "ins_histo", "historic", default=())
    )
    cards = _get(person, "cards", "nir_od", "ouvrant_droit", default=())
    if isinstance(cards, str):
        cards = (cards,)
    return Identity(
        matricule=str(_get(person, "matricule", "nir", "ins")),
        cle=_get(person, "cle", "nir_key", "key"),
        nom=str(_get(person, "nom", "birth_name", "nom_naissance")),
        prenoms=tuple(str(p) for p in prenoms),
        sexe=str(_get(person, "sexe", "sex", "gender")),
        date_naissance=str(_get(person, "date_naissance", "birth_date")),
        lieu_naissance=_get(person, "lieu_naissance", "birth_place", "cog"),
        kind=str(_get(person, "kind", "matricule_type", default="NIR")),
        histo=histo,
        outcome=_get(person, "outcome", "insi_outcome"),
        cards=tuple(str(c) for c in cards),
        rang=str(_get(person, "rang", "birth_rank", default="1")),
    )


class PopulationDirectory:
    """`insi.matching.Directory` over `mocks.population.Population` (read-only, shared by tenants)."""

    def __init__(self, population: Any):
        self.population = population
        self._identities: dict[str, Identity] = {}

    def _identity(self, patient: Any) -> Identity:
        key = str(_get(patient, "id", default="")) or str(_get(patient, "matricule"))
        found = self._identities.get(key)
        if found is None:
            found = self._identities[key] = identity_of(patient)
        return found

    @property
    def identities(self) -> list[Identity]:
        return [self._identity(p) for p in self.population.patients()]

    def by_traits(self, nom: str, sexe: str, date_naissance: str) -> list[Identity]:
        return [self._identity(p) for p in self.population.by_traits(nom, sexe, date_naissance)]

    def by_card(self, nir_od: str) -> list[Identity]:
        card = self.population.card(nir_od)
        if card is None:
            return []
        found: list[Identity] = []
        for beneficiary in card.beneficiaries:
            patient = self.population.patient(beneficiary.patient_id)
            if patient is not None:
                # the rank is the card's (rang gémellaire as the card records it)
                found.append(replace(self._identity(patient), rang=str(beneficiary.rang or "1")))
        return found

    def by_matricule(self, matricule: str) -> Identity | None:
        patient = self.population.by_matricule(matricule)
        return self._identity(patient) if patient is not None else None


Referentiel = PopulationDirectory | ListDirectory
_CACHE: dict[int, tuple[Any, Referentiel]] = {}


def directory_for(sandbox: Sandbox, tenant: str) -> Referentiel:
    """The référentiel of the sandbox's synthetic world (same in every tenant: the population is
    a function of the seed and reference date). Empty when this build has no population."""
    try:
        population: Any = sandbox.population
    except ImportError:
        return ListDirectory([])
    cached = _CACHE.get(id(sandbox))
    if cached is not None and cached[0] is population:
        return cached[1]
    directory = PopulationDirectory(population)
    _CACHE[id(sandbox)] = (population, directory)
    return directory
