"""The synthetic world's people and places, as plain frozen dataclasses (JSON round-trips).

Field names follow the French vocabulary the services use on the wire (INSi: `nom`, `prenoms`,
`sexe`, `date_naissance`, `lieu_naissance`; PSC: `exercices`, `activities`), so that a service maps
them without a dictionary of synonyms.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from functools import cache
from typing import Any, Literal

Sex = Literal["M", "F"]
IdentityStatus = Literal["PROV", "RECUP", "VALI", "QUAL"]
DmpState = Literal["none", "open", "closed"]


@cache
def _names(cls: Any) -> frozenset[str]:
    return frozenset(f.name for f in fields(cls))


def _from(cls: Any, data: dict[str, Any]) -> Any:
    names = _names(cls)  # cached: reading a stored world calls this for every entity
    values = {k: v for k, v in data.items() if k in names}
    if len(values) < len(names):
        return cls(**values)  # defaults to fill in
    # Every field given (a stored world): skip the frozen __init__ (its checks and defaults make
    # reading 100,000 people back several times slower). Attributes one by one, in field order,
    # not `__dict__.update`: that gives each object a whole dict of its own instead of the
    # class's shared keys, and a read world took twice the memory of a built one.
    obj = object.__new__(cls)
    for k, v in values.items():
        object.__setattr__(obj, k, v)
    return obj


@dataclass(frozen=True)
class HistoricIns:
    """A previous matricule of a person (INSHISTO)."""

    matricule: str
    cle: str
    kind: str = "NIR"  # NIR or NIA
    date_deb: str | None = None
    date_fin: str | None = None


@dataclass(frozen=True)
class Patient:
    id: str  # stable id: "pat-000042" (generated) or "insi-adrtrois-toussaint" (golden)
    nom: str  # birth name, as INSi spells it (upper case A-Z, space, hyphen, apostrophe)
    prenoms: tuple[str, ...]  # birth first names, in order
    sexe: Sex
    date_naissance: str  # YYYY-MM-DD; "00" day or month for lunar dates
    lieu_naissance: str  # COG: commune (DDCCC, 2A/2B) or country (99xxx)
    matricule: str  # 13 characters: NIR, or NIA for people not yet certified
    cle: str  # 2 digits (as the référentiel has it, even when it does not check)
    kind: str = "NIR"  # "NIR" (OID .8 / test .10) or "NIA" (OID .9 / test .11)
    nom_utilise: str = ""  # nom d'usage (e.g. a spouse's), "" when the birth name is used
    # The birth name as the identity document writes it (accents, ligatures, typographic
    # apostrophe), when INSi spells it otherwise: what an LGC must transliterate before calling.
    nom_document: str = ""
    prenom_utilise: str = ""
    histo: tuple[HistoricIns, ...] = ()
    adresse: str = ""
    code_postal: str = ""
    ville: str = ""
    telephone: str = ""
    email: str = ""
    identity_status: IdentityStatus = "PROV"  # what an LGC holding this patient may have reached
    dmp: DmpState = "open"
    medecin_traitant: str = ""  # idNat_PS
    cards: tuple[str, ...] = ()  # NIR (13) of the ouvrant droit of each Carte Vitale the person is on
    rang: str = "1"  # birth rank (twins: 1, 2)
    qualite: str = "00"  # 00 assuré (ouvrant droit), 06 enfant, 02 conjoint
    outcome: str | None = None  # magic persona: the INSi error it always produces
    # "" (generated), "insi-public", "sesam-vitale-public", "demo", "magic" (data/personas/*.json)
    persona: str = ""
    note: str = ""

    @property
    def ins(self) -> str:
        """Matricule INS, 15 characters (13 + key)."""
        return self.matricule + self.cle

    @property
    def mss_address(self) -> str:
        """The citizen MSSanté mailbox (Mon espace santé)."""
        return f"{self.ins}@patient.mssante.fr"

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ins": self.ins, "mss_address": self.mss_address}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Patient:
        data = dict(data)
        data["prenoms"] = tuple(data.get("prenoms") or ())
        data["cards"] = tuple(data.get("cards") or ())
        data["histo"] = tuple(_from(HistoricIns, h) for h in data.get("histo") or ())
        return _from(cls, data)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Rights:
    """An AMO rights period of a beneficiary."""

    start: str
    end: str  # may be in the past: expired rights


@dataclass(frozen=True)
class Beneficiary:
    patient_id: str
    nir: str  # the beneficiary's own matricule (13), "" when not known to the card
    rang: str
    qualite: str  # 00 assuré, 02 conjoint, 06 enfant
    rights: tuple[Rights, ...] = ()
    # the birth date as the card writes it when it is not the civil-status one: "YYMMDD" when the
    # card lacks the century (research A2.2 `dateEnCarte`); "" otherwise
    date_carte: str = ""


@dataclass(frozen=True)
class CarteVitale:
    """A Carte Vitale (physical card or the ApCV app) of an ouvrant droit, with its beneficiaries."""

    nir_od: str  # 13 characters, the card's ouvrant droit
    cle_od: str
    holder_id: str
    regime: str  # "01" régime général
    caisse: str  # 3 digits
    centre: str  # 4 digits
    apcv: bool  # the ApCV app is activated
    serial: str
    beneficiaries: tuple[Beneficiary, ...] = ()
    opposed: bool = False  # the card is in opposition (lost, stolen): ApCV refuses it

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CarteVitale:
        data = dict(data)
        data["beneficiaries"] = tuple(
            _from(Beneficiary, {**b, "rights": tuple(_from(Rights, r) for r in b.get("rights") or ())})
            for b in data.get("beneficiaries") or ()
        )
        return _from(cls, data)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Address:
    numero: str = ""
    type_voie: str = ""  # "R", "AV", "BD"
    libelle_voie: str = ""
    code_postal: str = ""
    commune: str = ""  # COG
    ville: str = ""
    departement: str = ""
    telephone: str = ""


@dataclass(frozen=True)
class Structure:
    id_nat: str  # idNat_Struct: 1+FINESS, 3+SIRET, 4+RPPS+rang
    technical_id: str  # identifiantTechniqueDeLaStructure: "R12345" (cabinet), "F<FINESS>"
    name: str  # raison sociale
    kind: str  # cabinet, cabinet_groupe, centre_sante, msp, hopital, pharmacie, laboratoire
    secteur: str  # TRE_R02 code, e.g. SA07
    finess: str = ""  # établissement géographique
    finess_ej: str = ""  # établissement juridique
    siret: str = ""
    address: Address = field(default_factory=Address)
    mss_domain: str = ""
    mss_org_address: str = ""  # organisational mailbox
    mss_app_address: str = ""  # applicative mailbox (the LGC's)
    locality: str = ""  # "Ville (DD)", as certificates name it
    certificate_state: str = "valid"  # valid / revoked / expired: magic structures
    persona: str = ""
    note: str = ""

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Structure:
        data = dict(data)
        data["address"] = _from(Address, data.get("address") or {})
        return _from(cls, data)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Activity:
    """A situation d'exercice: where and how a professional works."""

    structure_id: str  # idNat_Struct
    mode: str  # TRE_R23: L libéral, S salarié
    secteur: str  # TRE_R02
    role: str = ""  # TRE_R21 fonction, "" when unknown
    genre: str = "GENR01"


@dataclass(frozen=True)
class Professional:
    id_nat: str  # idNat_PS: 8+RPPS or 0+ADELI
    rpps: str  # 11 digits, "" for ADELI-only professionals
    adeli: str  # 9 digits, "" when RPPS
    civilite: str  # M, MME
    civilite_exercice: str  # DR, "" (TRE_R11)
    nom: str  # nom d'exercice
    prenoms: tuple[str, ...]
    sexe: Sex
    date_naissance: str
    profession: str  # TRE_G15 code
    categorie: str  # C civil
    savoir_faire: str  # TRE_R38 code or ""
    savoir_faire_type: str  # S (spécialité ordinale) or ""
    activities: tuple[Activity, ...]
    ecps: bool  # e-CPS activated
    cps_card: str  # CPS card serial, "" when none
    card_type: int = 0  # 0 CPS, 1 CPF, 2 CPE, 3 CPA (TRE_R87-like private extension)
    mss_address: str = ""
    email: str = ""
    telephone: str = ""
    registration_authority: str = ""  # CNOM, CNOP, ...
    certificate_state: str = "valid"  # magic professionals: revoked, expired
    persona: str = ""
    note: str = ""

    @property
    def first_name(self) -> str:
        return self.prenoms[0] if self.prenoms else ""

    @property
    def last_name(self) -> str:
        return self.nom

    @property
    def profession_code(self) -> str:
        return self.profession

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Professional:
        data = dict(data)
        data["prenoms"] = tuple(data.get("prenoms") or ())
        data["activities"] = tuple(_from(Activity, a) for a in data.get("activities") or ())
        return _from(cls, data)  # type: ignore[no-any-return]
