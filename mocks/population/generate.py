"""Deterministic generation of the synthetic world.

Every entity is a pure function of (seed, reference date, its index): it draws from its own
`random.Random`, seeded with a sub-seed derived from the seed and its index (SHA-256), among the French name
and street lists of Faker's `fr_FR` providers (read once; calling Faker per entity is 50 times
slower). The same inputs give the same world on any machine (with the same Faker version), and
growing the world adds people without changing the existing ones. People come by household (one adult
holding a Carte Vitale, sometimes children on it, sometimes twins), which keeps the card data
consistent without looking at other entities.
"""

from __future__ import annotations

import hashlib
import random
import unicodedata
from dataclasses import dataclass, replace
from datetime import date, timedelta
from functools import cache
from typing import Any

from faker.providers.address.fr_FR import Provider as AddressProvider
from faker.providers.person.fr_FR import Provider as PersonProvider

from mocks.population import nomenclatures as nom
from mocks.population.model import (
    Activity,
    Address,
    Beneficiary,
    CarteVitale,
    HistoricIns,
    Patient,
    Professional,
    Rights,
    Structure,
)
from mocks.population.rules import luhn_digit, nir_for, nir_key

# Bump when the generation changes: a stored world of another version is regenerated.
GENERATOR_VERSION = 3

PROFESSION_WEIGHTS = [("10", 45), ("60", 20), ("70", 12), ("21", 10), ("40", 8), ("50", 3), ("80", 2)]
SHARED_KINDS = [("hopital", "SA01", 2), ("centre_sante", "SA05", 3), ("pharmacie", "SA33", 4),
                ("laboratoire", "SA25", 1), ("cabinet_groupe", "SA08", 3)]  # fmt: skip
IDENTITY_STATUS = [("PROV", 15), ("RECUP", 20), ("VALI", 15), ("QUAL", 50)]
# Real French surnames written with a ligature: the document keeps it, INSi spells it out (CŒUR -> COEUR).
LIGATURE_NAMES = ("CŒURDEROY", "BŒUF", "LŒILLET", "ŒHMICHEN", "SŒUR")
STREET_TYPES = [("R", "RUE"), ("AV", "AVENUE"), ("BD", "BOULEVARD"), ("PL", "PLACE"), ("CHE", "CHEMIN")]


def sub_seed(seed: int, kind: str, index: int, reference: str) -> int:
    # The reference date is not part of the sub-seed: moving it keeps the same people and
    # moves their dates with it (ages stay the same).
    del reference
    digest = hashlib.sha256(f"{seed}|{kind}|{index}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def _names(values: Any) -> tuple[str, ...]:
    return tuple(values.keys() if isinstance(values, dict) else values)


LAST_NAMES = _names(PersonProvider.last_names)
FIRST_NAMES = {"M": _names(PersonProvider.first_names_male), "F": _names(PersonProvider.first_names_female)}
STREET_PREFIXES = _names(AddressProvider.street_prefixes)


@dataclass
class Draw:
    """The random source of one entity."""

    rng: random.Random

    @classmethod
    def of(cls, seed: int, kind: str, index: int, reference: str) -> Draw:
        return cls(random.Random(sub_seed(seed, kind, index, reference)))

    def last_name(self) -> str:
        return self.rng.choice(LAST_NAMES)

    def first_name(self, sexe: str) -> str:
        return self.rng.choice(FIRST_NAMES[sexe])

    def street(self) -> str:
        return f"{self.rng.choice(STREET_PREFIXES)} {self.last_name()}"

    def weighted(self, choices: list[tuple[str, int]]) -> str:
        return self.rng.choices([c for c, _ in choices], [w for _, w in choices])[0]


@cache
def insi_form(text: str) -> str:
    """A civil-status name as the INS référentiel spells it: upper case A-Z, ligatures spelt out,
    accents dropped, apostrophes straight (research insi.md 2.9)."""
    text = text.replace("œ", "oe").replace("Œ", "OE").replace("æ", "ae").replace("Æ", "AE").replace("’", "'")
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).upper()
    return " ".join("".join(c if c.isalpha() or c in "-' " else " " for c in text).split())


def _birth_name(d: Draw) -> tuple[str, str]:
    """The birth name as INSi spells it, and as the identity document writes it (accents kept,
    typographic apostrophe): the LGC's transliteration (insi.md 2.9, CNDA 2.03 cas 3) turns the
    second into the first."""
    raw = d.last_name().upper()
    roll = d.rng.random()
    if roll < 0.06:
        raw = f"{raw}-{d.last_name().upper()}"
    elif roll < 0.08:
        raw = f"{raw}--{d.last_name().upper()}"  # double hyphen: two birth names
    elif roll < 0.11:
        raw = f"{d.rng.choice(['DE', 'DE LA', 'DU', 'LE'])} {raw}"
    elif roll < 0.13:
        raw = f"{d.rng.choice(['D', 'L'])}’{raw}"
    return insi_form(raw), raw


def _first_names(d: Draw, sexe: str) -> tuple[str, ...]:
    names = [insi_form(d.first_name(sexe)) for _ in range(d.rng.choices([1, 2, 3, 4], [45, 35, 15, 5])[0])]
    if d.rng.random() < 0.1:
        names[0] = f"{names[0]}-{insi_form(d.first_name(sexe))}"  # composite first name: JEAN-PIERRE
    return tuple(dict.fromkeys(n.replace(" ", "-") for n in names))


def _birth(d: Draw, reference: date, min_age: int, max_age: int) -> date:
    days = d.rng.randint(min_age * 365, max_age * 365 + 364)
    return reference - timedelta(days=days)


def _place(d: Draw, abroad_share: float) -> str:
    if d.rng.random() < abroad_share:
        return d.rng.choice(nom.countries()).code
    return d.rng.choice(nom.communes()).code


def _person(d: Draw, pid: str, sexe: str, born: date, place: str, lunar: bool, nia: bool) -> Patient:
    birth = born.isoformat()
    if lunar:
        birth = birth[:5] + ("00-00" if d.rng.random() < 0.5 else birth[5:8] + "00")
    order = d.rng.randint(1, 999)
    matricule = nir_for(sexe, birth, place, order, nia)
    histo: tuple[HistoricIns, ...] = ()
    if not nia and place.startswith("99") and d.rng.random() < 0.3:
        old = nir_for(sexe, birth, place, d.rng.randint(1, 999), nia=True)
        histo = (HistoricIns(old, nir_key(old), "NIA"),)  # certified since: the NIA is history
    commune = d.rng.choice(nom.communes())
    nom_insi, nom_document = _birth_name(d)
    return Patient(
        id=pid,
        nom=nom_insi,
        nom_document=nom_document if nom_document != nom_insi else "",
        prenoms=_first_names(d, sexe),
        sexe=sexe,  # type: ignore[arg-type]
        date_naissance=birth,
        lieu_naissance=place,
        matricule=matricule,
        cle=nir_key(matricule),
        kind="NIA" if nia else "NIR",
        histo=histo,
        adresse=f"{d.rng.randint(1, 120)} {insi_form(d.street())}",  # the number is not a name: kept
        code_postal=commune.postal_code,
        ville=commune.name.upper(),
        telephone=f"06{d.rng.randrange(10**8):08d}",
        email=f"{insi_form(d.first_name(sexe)).lower()}.{d.rng.randint(1, 9999)}@example.org",
        identity_status=d.weighted(IDENTITY_STATUS),  # type: ignore[arg-type]
        dmp=d.weighted([("open", 80), ("none", 15), ("closed", 5)]),  # type: ignore[arg-type]
    )


def household(seed: int, reference: str, index: int) -> tuple[list[Patient], CarteVitale]:
    """An adult holding a Carte Vitale, with 0 to 3 children on it (sometimes twins)."""
    ref = date.fromisoformat(reference)
    d = Draw.of(seed, "household", index, reference)
    abroad = d.rng.random() < 0.12
    lunar = abroad and d.rng.random() < 0.2
    nia = abroad and d.rng.random() < 0.3
    sexe = d.rng.choice("MF")
    adult = _person(
        d, f"pat-{index:06d}-0", sexe, _birth(d, ref, 18, 95), _place(d, 1.0 if abroad else 0.0), lunar, nia
    )
    people = [adult]
    birth = date.fromisoformat(adult.date_naissance.replace("-00", "-01"))
    children = 0
    if (ref - birth).days < 55 * 365 and d.rng.random() < 0.45:
        children = d.rng.choices([1, 2, 3], [50, 35, 15])[0]
    twins = children >= 2 and d.rng.random() < 0.15
    for k in range(1, children + 1):
        born = date.fromisoformat(people[1].date_naissance) if twins and k == 2 else _birth(d, ref, 0, 17)
        child = _person(d, f"pat-{index:06d}-{k}", d.rng.choice("MF"), born, _place(d, 0.0), False, False)
        rang = "2" if twins and k == 2 else "1"
        child = Patient(**{**child.__dict__, "nom": adult.nom, "nom_document": adult.nom_document,
                           "rang": rang, "qualite": "06",
                           "adresse": adult.adresse, "code_postal": adult.code_postal, "ville": adult.ville})  # fmt: skip
        people.append(child)
    start = ref.replace(month=1, day=1) - timedelta(days=365)
    end = (
        start + timedelta(days=3 * 365) if d.rng.random() > 0.05 else ref - timedelta(days=30)
    )  # some expired
    rights = (Rights(start.isoformat(), end.isoformat()),)
    card = CarteVitale(
        nir_od=adult.matricule,
        cle_od=adult.cle,
        holder_id=adult.id,
        regime="01",
        caisse=f"{d.rng.randint(1, 999):03d}",
        centre=f"{d.rng.randint(1, 9999):04d}",
        apcv=d.rng.random() < 0.3,
        serial=f"CV{sub_seed(seed, 'card', index, reference) % 10**10:010d}",
        beneficiaries=tuple(
            Beneficiary(p.id, p.matricule if p.qualite == "00" else "", p.rang, p.qualite, rights)
            for p in people
        ),
    )
    people = [Patient(**{**p.__dict__, "cards": (adult.matricule,)}) for p in people]
    return _names_in_use(d, ref, people), card


def _names_in_use(d: Draw, ref: date, people: list[Patient]) -> list[Patient]:
    """Drawn after everything else, so that the draws above keep their values: a used name
    (nom d'usage, e.g. a spouse's) for some adult women, and a ligature in some families' name."""
    if d.rng.random() < 0.01:
        document = d.rng.choice(LIGATURE_NAMES)
        people = [replace(p, nom=insi_form(document), nom_document=document) for p in people]
    adult = people[0]
    born = int(adult.date_naissance[:4])
    if adult.sexe == "F" and ref.year - born >= 25 and d.rng.random() < 0.4:
        people[0] = replace(adult, nom_utilise=insi_form(d.last_name()))
    return people


def _address(d: Draw) -> Address:
    commune = d.rng.choice(nom.communes())
    kind, label = d.rng.choice(STREET_TYPES)
    street = insi_form(d.last_name())
    return Address(
        numero=str(d.rng.randint(1, 120)),
        type_voie=kind,
        libelle_voie=street,
        code_postal=commune.postal_code,
        commune=commune.code,
        ville=commune.name.upper(),
        departement=commune.code[:2],
        telephone=f"0{d.rng.randint(1, 5)}{d.rng.randrange(10**8):08d}",
    )


def _domain(name: str) -> str:
    return "-".join(insi_form(name).lower().replace("'", " ").split())[:40] + ".mssante.fr"


def shared_structure(seed: int, reference: str, index: int) -> Structure:
    """A hospital, centre de santé, pharmacy, laboratory or group practice."""
    d = Draw.of(seed, "structure", index, reference)
    kind, secteur, _ = d.rng.choices(SHARED_KINDS, [w for *_, w in SHARED_KINDS])[0]
    address = _address(d)
    city = address.ville
    label = {
        "hopital": f"CENTRE HOSPITALIER DE {city}",
        "centre_sante": f"CENTRE DE SANTE {insi_form(d.last_name())}",
        "pharmacie": f"PHARMACIE {insi_form(d.last_name())}",
        "laboratoire": f"LABORATOIRE DE BIOLOGIE MEDICALE DE {city}",
        "cabinet_groupe": f"CABINET MEDICAL {insi_form(d.last_name())}",
    }[kind]
    dept = address.departement if address.departement.isdigit() else "20"
    finess = f"{dept}{index % 10**6:06d}"
    finess += luhn_digit(finess)
    ej = f"{dept}{(index + 500000) % 10**6:06d}"
    ej += luhn_digit(ej)
    siren = f"8{index % 10**7:07d}"
    siren += luhn_digit(siren)
    siret = siren + f"{d.rng.randint(1, 9999):04d}"
    siret += luhn_digit(siret)
    if kind == "cabinet_groupe":
        id_nat, technical, finess, ej = "3" + siret, f"R{700000 + index}", "", ""
    else:
        id_nat, technical = "1" + finess, "F" + finess
    domain = _domain(label)
    return Structure(
        id_nat=id_nat,
        technical_id=technical,
        name=label,
        kind=kind,
        secteur=secteur,
        finess=finess,
        finess_ej=ej,
        siret=siret,
        address=address,
        mss_domain=domain,
        mss_org_address=f"secretariat@{domain}",
        mss_app_address=f"lgc@{domain}",
        locality=f"{city.title()} ({address.departement})",
    )


def workplaces(shared: list[Structure]) -> dict[bool, list[Structure]]:
    """Shared structures where pharmacists (True) and the other professionals (False) may work."""
    return {
        True: [s for s in shared if s.kind == "pharmacie"],
        False: [s for s in shared if s.kind != "pharmacie"],
    }


def professional(
    seed: int, reference: str, index: int, places: dict[bool, list[Structure]]
) -> tuple[Professional, Structure]:
    """A professional, with the individual practice (cabinet) they hold, and maybe a shared
    workplace (drawn among the structures of this world's size)."""
    ref = date.fromisoformat(reference)
    d = Draw.of(seed, "professional", index, reference)
    profession = d.weighted(PROFESSION_WEIGHTS)
    info = nom.profession(profession)
    sexe = d.rng.choice("MF")
    prenoms = _first_names(d, sexe)[:2]
    family = insi_form(d.last_name())
    born = _birth(d, ref, 26, 70).isoformat()
    rpps = adeli = ""
    if info.id_kind == "ADELI":
        dept = f"{index // 10000 % 95 + 1:02d}"
        adeli = f"{dept}{profession}{index % 10000:04d}"
        adeli += luhn_digit(adeli)
        id_nat = "0" + adeli
    else:
        base = f"19{index:08d}"
        rpps = base + luhn_digit(base)
        id_nat = "8" + rpps
    doctor = profession == "10"
    own = Structure(
        id_nat=("4" + rpps + "001") if rpps else ("0" + adeli),
        technical_id=f"R{100000 + index}",
        name=f"CABINET {'DU DR ' if doctor else ''}{prenoms[0]} {family}",
        kind="cabinet",
        secteur="SA07",
        address=_address(d),
        mss_domain="",
        locality="",
    )
    own = Structure(
        **{**own.__dict__, "locality": f"{own.address.ville.title()} ({own.address.departement})"}
    )
    activities = []
    candidates = places[profession == "21"]
    if profession != "21":
        activities.append(Activity(own.id_nat, "L", "SA07"))
    if candidates and (profession == "21" or d.rng.random() < 0.4):
        place = candidates[d.rng.randrange(len(candidates))]
        activities.append(Activity(place.id_nat, "S" if place.kind != "pharmacie" else "L", place.secteur))
    if not activities:
        activities.append(Activity(own.id_nat, "L", "SA07"))
    savoir_faire = (
        d.weighted([("SM54", 60), ("SM26", 30), ("SM04", 4), ("SM40", 4), ("SM42", 2)]) if doctor else ""
    )
    domain = {"10": "medecin", "60": "infirmier", "21": "pharmacien"}.get(profession, "pro")
    mail_name = f"{prenoms[0].lower()}.{family.lower()}".replace(" ", "-").replace("'", "")
    pro = Professional(
        id_nat=id_nat,
        rpps=rpps,
        adeli=adeli,
        civilite="M" if sexe == "M" else "MME",
        civilite_exercice="DR" if doctor or profession == "40" else "",
        nom=family,
        prenoms=prenoms,
        sexe=sexe,  # type: ignore[arg-type]
        date_naissance=born,
        profession=profession,
        categorie=info.category,
        savoir_faire=savoir_faire,
        savoir_faire_type="S" if savoir_faire else "",
        activities=tuple(activities),
        ecps=d.rng.random() < 0.7,
        cps_card=f"2{sub_seed(seed, 'cps', index, reference) % 10**9:09d}",
        mss_address=f"{mail_name}@{domain}.mssante.fr",
        email=f"{mail_name}@example.org",
        telephone=f"06{d.rng.randrange(10**8):08d}",
        registration_authority=info.registration_authority,
    )
    return pro, own
