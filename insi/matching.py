"""INSi business rules: which identity a search designates (docs/services/insi.md, "Matching rules").

The rules read identities through `Directory`, a small protocol that `insi.directory` implements
on top of the sandbox population (mocks.population); tests may give their own.

RECSANSVITALE (traits):
1. candidates: same birth name, sex and birth date (string equality: lunar dates such as
   `1950-00-00` only match themselves), compared in upper case;
2. first names: the first names sent (every `Prenom` element, each split on spaces) must be the
   identity's birth first names from the first one on: the first one alone, the first ones in
   order, or the full list (TCHITCHI OLA fails, CATARINA succeeds) [inferred, research 7.3];
3. birthplace: when a COG is sent, only identities born there remain (this breaks a `02`);
4. 0 identity -> CR 01, 1 -> CR 00, several -> CR 02.

RECVITALE (Carte Vitale): the beneficiary of the card designated by the NIR of the ouvrant droit
(`MatriculeOD`), the birth date and the birth rank; `MatriculeIndividu` (NIR certifié, when the
card holds one) designates the beneficiary directly. Same 0/1/several outcome.

A magic identity may carry an `outcome`: a catalogue error name it always answers with.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from insi.wire import CarteVitale, Ins, Resultat, Tiq, Traits

OID_NIR = "1.2.250.1.213.1.4.8"
OID_NIA = "1.2.250.1.213.1.4.9"
OID_FAMILIES = {
    # the real test platform answers with the production OIDs (research 2.6)
    "production": {"NIR": OID_NIR, "NIA": OID_NIA},
    "test": {"NIR": "1.2.250.1.213.1.4.10", "NIA": OID_NIA},
    "demo": {"NIR": "1.2.250.1.213.1.4.11", "NIA": OID_NIA},
}


@dataclass(frozen=True)
class HistoricIns:
    matricule: str
    cle: str | None
    kind: str = "NIR"  # "NIR" or "NIA"
    date_deb: str | None = None
    date_fin: str | None = None


@dataclass(frozen=True)
class Identity:
    """A person as the INSi référentiel knows them."""

    matricule: str  # 13 characters
    cle: str | None
    nom: str  # birth name
    prenoms: tuple[str, ...]  # birth first names, in order
    sexe: str  # "M" / "F"
    date_naissance: str  # "YYYY-MM-DD", lunar dates allowed ("00" day or month)
    lieu_naissance: str | None  # COG
    kind: str = "NIR"  # "NIR" or "NIA": decides the OID
    histo: tuple[HistoricIns, ...] = ()
    outcome: str | None = None  # magic persona: an error name of insi.errors.ERRORS
    # Carte Vitale: NIR of the ouvrant droit on whose card this person is, and birth rank
    cards: tuple[str, ...] = ()
    rang: str = "1"


class Directory(Protocol):
    def by_traits(self, nom: str, sexe: str, date_naissance: str) -> Sequence[Identity]:
        """Identities with this birth name, sex and birth date (upper-case, exact)."""
        ...

    def by_card(self, nir_od: str) -> Sequence[Identity]:
        """Beneficiaries of the Carte Vitale of this ouvrant droit (13-character NIR)."""
        ...

    def by_matricule(self, matricule: str) -> Identity | None:
        """The identity whose matricule INS (active or historic) this is."""
        ...


@dataclass
class Match:
    code: str  # "00", "01", "02"
    identities: list[Identity] = field(default_factory=list)

    @property
    def identity(self) -> Identity | None:
        return self.identities[0] if self.code == "00" else None


def _up(text: str | None) -> str:
    return (text or "").strip().upper()


def first_name_tokens(prenoms: Sequence[str]) -> list[str]:
    return [tok for p in prenoms for tok in _up(p).split(" ") if tok]


def first_names_match(sent: Sequence[str], birth: Sequence[str]) -> bool:
    tokens = first_name_tokens(sent)
    return bool(tokens) and list(birth[: len(tokens)]) == tokens


def search_traits(directory: Directory, traits: Traits) -> Match:
    if not (traits.nom and traits.sexe and traits.date_naissance):
        return Match("01")
    found = [
        ident
        for ident in directory.by_traits(_up(traits.nom), _up(traits.sexe), traits.date_naissance.strip())
        if first_names_match(traits.prenoms, ident.prenoms)
    ]
    if traits.lieu_naissance and traits.lieu_naissance.strip():
        cog = _up(traits.lieu_naissance)
        found = [i for i in found if _up(i.lieu_naissance) == cog]
    return _outcome(found)


def search_card(directory: Directory, carte: CarteVitale) -> Match:
    individu = carte.matricule_individu
    if individu is not None and individu.num:
        ident = directory.by_matricule(_up(individu.num)[:13])
        if ident is None or (carte.date_naissance and ident.date_naissance != carte.date_naissance.strip()):
            return Match("01")
        return Match("00", [ident])
    od = carte.matricule_od
    if od is None or not od.num:
        return Match("01")
    found = list(directory.by_card(_up(od.num)[:13]))
    if carte.date_naissance:
        found = [i for i in found if i.date_naissance == carte.date_naissance.strip()]
    if carte.rang and carte.rang.strip():
        found = [i for i in found if i.rang == carte.rang.strip().lstrip("0")]
    if carte.nom and carte.nom.strip():
        found = [i for i in found if i.nom == _up(carte.nom)]
    return _outcome(found)


def _outcome(found: list[Identity]) -> Match:
    unique = list({i.matricule: i for i in found}.values())
    if not unique:
        return Match("01")
    if len(unique) > 1:
        return Match("02", unique)
    return Match("00", unique)


def resultat(match: Match, oid_family: str = "production") -> Resultat:
    """The RESULTAT of a match: INSACTIF, INSHISTO and TIQ for `00`, the CR alone otherwise."""
    ident = match.identity
    if ident is None:
        return Resultat(match.code)
    oids = OID_FAMILIES.get(oid_family, OID_FAMILIES["production"])
    return Resultat(
        "00",
        actif=Ins(ident.matricule, ident.cle, oids.get(ident.kind, oids["NIR"])),
        histo=tuple(
            Ins(h.matricule, h.cle, oids.get(h.kind, oids["NIR"]), h.date_deb, h.date_fin)
            for h in ident.histo
        ),
        tiq=Tiq(ident.nom, ident.prenoms, ident.sexe, ident.date_naissance, ident.lieu_naissance),
    )


def verify(directory: Directory, matricule: str | None, traits: Traits) -> tuple[str, str]:
    """[inferred] Verification: is this INS the one of these traits? (code, label)."""
    ident = directory.by_matricule(_up(matricule)[:13]) if matricule else None
    if ident is None:
        return "01", "Aucune identite trouvee"
    same = (
        _up(traits.nom) == ident.nom
        and _up(traits.sexe) == ident.sexe
        and (traits.date_naissance or "").strip() == ident.date_naissance
        and first_names_match(traits.prenoms, ident.prenoms)
        and (not traits.lieu_naissance or _up(traits.lieu_naissance) == _up(ident.lieu_naissance))
    )
    return ("00", "OK") if same else ("02", "Traits d'identite non concordants")


class ListDirectory:
    """A Directory over a list of identities (tests, and the fallback when there is no population)."""

    def __init__(self, identities: Sequence[Identity]):
        self.identities = list(identities)
        self._traits: dict[tuple[str, str, str], list[Identity]] = {}
        self._cards: dict[str, list[Identity]] = {}
        self._matricules: dict[str, Identity] = {}
        for i in self.identities:
            self._traits.setdefault((i.nom, i.sexe, i.date_naissance), []).append(i)
            for card in i.cards:
                self._cards.setdefault(card, []).append(i)
            for m in (i.matricule, *(h.matricule for h in i.histo)):
                self._matricules.setdefault(m, i)

    def by_traits(self, nom: str, sexe: str, date_naissance: str) -> list[Identity]:
        return list(self._traits.get((nom, sexe, date_naissance), ()))

    def by_card(self, nir_od: str) -> list[Identity]:
        return list(self._cards.get(nir_od, ()))

    def by_matricule(self, matricule: str) -> Identity | None:
        return self._matricules.get(matricule)
