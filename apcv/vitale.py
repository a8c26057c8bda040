"""The Vitale data ApCV returns for a card: the ouvrant droit's contract (NIR + key, régime,
caisse, centre) and each beneficiary (names, birth date and rank, qualité, NIR certifié with its
certification date or `00000000`, AMO rights periods, and the INS when the NIR certifié is one),
read from the synthetic world (mocks.population, docs/personas.md). Research A2.1-A2.3: the field
set is the Vitale card's (SSV groups G101/G104/G105, Jfse `donneescv`); their XML is apcv.wire's.

Decisions [inferred]: a beneficiary known by a NIA carries it with `dateCertification="00000000"`
and no INS; a certified NIR's certification date is the start of the first rights period; a card
that lacks the century (`Beneficiary.date_carte`) gives `DateEnCarte` (YYMMDD) and no
`DateNaissance`; lunar dates keep their `00` (YYYYMMDD as on the card).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mocks.population import CarteVitale, Patient, Population

# the OID of a NIR used as INS, by INSi's OID family (setting insi_oid_family: same world, same OID)
INS_OID = {
    "production": "1.2.250.1.213.1.4.8",
    "test": "1.2.250.1.213.1.4.10",
    "demo": "1.2.250.1.213.1.4.11",
}


def compact(iso_date: str) -> str:
    """YYYY-MM-DD -> YYYYMMDD (lunar `00` kept)."""
    return iso_date.replace("-", "")


@dataclass(frozen=True)
class Ins:
    matricule: str
    cle: str
    oid: str
    nom: str  # birth name
    prenoms: tuple[str, ...]
    sexe: str
    date_naissance: str  # YYYY-MM-DD, as INSi writes it
    lieu_naissance: str

    @property
    def traits_hash(self) -> str:
        """The same hash INSi's `ins.qualified` evidence carries, so a DMP check treats both alike."""
        traits = "|".join(
            [self.nom, " ".join(self.prenoms), self.sexe, self.date_naissance, self.lieu_naissance]
        )
        return hashlib.sha256(traits.encode()).hexdigest()


@dataclass(frozen=True)
class Beneficiaire:
    numero: int  # 1.. in the card's order
    patient_id: str
    nom_usage: str  # "" when the birth name is used
    nom_famille: str  # birth name
    prenom: str  # usual first name
    date_naissance: str | None  # YYYYMMDD (lunar `00` kept); None when the card lacks the century
    date_en_carte: str | None  # YYMMDD, only when the century is missing
    rang: str
    qualite: str  # 00 assuré, 02 conjoint, 06 enfant
    nir: str  # NIR certifié (13), "" when the card holds none
    cle: str
    date_certification: str  # YYYYMMDD, "00000000" when not certified
    droits: tuple[tuple[str, str], ...]  # AMO rights periods (YYYYMMDD, YYYYMMDD)
    ins: Ins | None  # when the NIR certifié is the person's INS


@dataclass(frozen=True)
class DonneesVitale:
    nir_od: str
    cle_od: str
    regime: str
    caisse: str
    centre: str
    patient_id: str  # who showed the app
    beneficiaires: tuple[Beneficiaire, ...]

    def beneficiaire(self, nir: str | None, nom: str | None, prenom: str | None) -> Beneficiaire | None:
        """The beneficiary an invoice names: by NIR certifié when given, else by names."""
        for b in self.beneficiaires:
            if nir and b.nir == nir[:13]:
                return b
        if nir:
            return None
        for b in self.beneficiaires:
            if (nom or "").strip().upper() in (b.nom_famille, b.nom_usage) and (
                prenom or ""
            ).strip().upper() == b.prenom:
                return b
        return None


def _ins(patient: Patient, oid_family: str) -> Ins:
    return Ins(
        patient.matricule, patient.cle, INS_OID.get(oid_family, INS_OID["production"]),
        patient.nom, tuple(patient.prenoms), patient.sexe, patient.date_naissance, patient.lieu_naissance,
    )  # fmt: skip


def donnees(population: Population, card: CarteVitale, patient_id: str, oid_family: str) -> DonneesVitale:
    out = []
    for number, b in enumerate(card.beneficiaries, start=1):
        patient = population.patient(b.patient_id)
        if patient is None:
            continue
        certified = bool(b.nir) and patient.kind == "NIR" and b.nir == patient.matricule
        rights = tuple((compact(r.start), compact(r.end)) for r in b.rights)
        cle = patient.cle if b.nir == patient.matricule else ""
        out.append(
            Beneficiaire(
                numero=number,
                patient_id=patient.id,
                nom_usage=patient.nom_utilise,
                nom_famille=patient.nom,
                prenom=patient.prenom_utilise or (patient.prenoms[0] if patient.prenoms else ""),
                date_naissance=None if b.date_carte else compact(patient.date_naissance),
                date_en_carte=b.date_carte or None,
                rang=b.rang or "1",
                qualite=b.qualite,
                nir=b.nir,
                cle=cle,
                date_certification=(rights[0][0] if rights else "20000101") if certified else "00000000",
                droits=rights,
                ins=_ins(patient, oid_family) if certified else None,
            )
        )
    return DonneesVitale(
        card.nir_od, card.cle_od, card.regime, card.caisse, card.centre, patient_id, tuple(out)
    )
