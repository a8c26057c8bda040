"""The DMP state of each patient, per tenant: derived deterministically from the population, then
changed by the transactions (TD0.3, TD1.1-TD1.4) and the control API (/_sandbox/dmp/patients/<ins>).

    state = States(sandbox).get(tenant, ins, today)    # PatientState (never None: unknown INS = no DMP)
    state.dmp ("open" | "none" | "closed"), state.ens, state.medecin_traitant, state.minor ...
    state.authorization(holder) -> "VALIDE" | "EXPIRE" | "INTERDIT" | "NON_EXISTE"
    States(sandbox).update(tenant, ins, today, change)  # read-modify-write of the stored overrides

Derived from the population (mocks.population, docs/personas.md): `Patient.dmp`, `medecin_traitant`
(who holds a VALIDE authorisation and STATUT_MT), the INS-C (a stable 22-digit number from the
INS), a minor's legal representative (the holder of the Carte Vitale the minor is on). The flags
the population does not carry are drawn from the INS for generated people (≈60 % attached to Mon
espace santé, 3 % with a bris-de-glace opposition) and off for the named personas, so that trainers
and tests start from a plain DMP and set the rest on the control API. Stored overrides (table
`dmp_patients`, one JSON document per tenant and INS) win over the derived values; deleting them
returns to the population.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from mocks.kernel import Sandbox
    from mocks.population.model import Patient

DmpStatus = Literal["open", "none", "closed"]
AuthStatus = Literal["VALIDE", "EXPIRE", "INTERDIT", "NON_EXISTE"]

MIGRATIONS = [
    "CREATE TABLE dmp_patients (tenant TEXT NOT NULL, ins TEXT NOT NULL, data TEXT NOT NULL, "
    "updated_at TEXT NOT NULL, PRIMARY KEY (tenant, ins))"
]


@dataclass(frozen=True)
class Authorization:
    status: Literal["VALIDE", "EXPIRE"]
    start: str  # yyyyMMddHHmmss
    last_action: str


@dataclass(frozen=True)
class Representative:
    nom: str
    prenom: str
    lien: str = "FTH"  # HL7 RoleCode (FTH père, MTH mère, GRD tuteur)


@dataclass(frozen=True)
class PatientState:
    ins: str  # 15 characters
    dmp: DmpStatus
    nom: str = ""
    prenom: str = ""
    sexe: str = ""
    naissance: str = ""  # yyyymmdd
    ins_c: str = ""
    ens: bool = False  # RATTACHEMENT_ENS (Mon espace santé)
    compte_internet: bool = False
    opposition_bris_de_glace: bool = False
    opposition_acces_urgence: bool = False
    medecin_traitant: str = ""
    representative: Representative | None = None
    minor: bool = False
    blocked: tuple[str, ...] = ()  # holders (PS:<idNat>, ST:<idNat_Struct>) blocked by the patient
    authorizations: dict[str, Authorization] = field(default_factory=dict)
    telecoms: tuple[tuple[str, str], ...] = ()  # (use, value)
    adresse: tuple[str, str, str] = ("", "", "")  # street, postal code, city
    closed_reason: str = ""
    last_update: str = ""
    known: bool = True  # False: not in the population and never created

    def authorization(self, holder: str) -> AuthStatus:
        if holder in self.blocked:
            return "INTERDIT"
        found = self.authorizations.get(holder)
        if found is not None:
            return found.status
        if self.medecin_traitant and holder == f"PS:{self.medecin_traitant}":
            return "VALIDE"
        return "NON_EXISTE"

    def is_mt(self, ps: str) -> bool:
        return bool(self.medecin_traitant) and ps == self.medecin_traitant

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["authorizations"] = {k: asdict(v) for k, v in self.authorizations.items()}
        return data


# what the control API and the transactions may change
EDITABLE = (
    "dmp",
    "ens",
    "compte_internet",
    "opposition_bris_de_glace",
    "opposition_acces_urgence",
    "medecin_traitant",
    "representative",
    "blocked",
    "authorizations",
    "nom",
    "prenom",
    "sexe",
    "naissance",
    "telecoms",
    "adresse",
    "closed_reason",
    "last_update",
    "known",
)


def _digest(ins: str, salt: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{salt}:{ins}".encode()).digest()[:8], "big")


def ins_c(ins: str) -> str:
    """A stable 22-digit INS-C (root 1.2.250.1.213.1.4.2) for an INS: the DMP still returns it."""
    return str(_digest(ins, "ins-c") % 10**22).zfill(22)


def _age(birth: str, today: date) -> int:
    try:
        year, month, day = int(birth[0:4]), int(birth[5:7]) or 1, int(birth[8:10]) or 1
    except ValueError:
        return 99
    return today.year - year - ((today.month, today.day) < (month, day))


def derived(sandbox: Sandbox, ins: str, today: date) -> PatientState:
    """The state the population gives the patient of `ins` (no DMP when unknown)."""
    try:
        patient: Patient | None = sandbox.population.by_matricule(ins)
    except ImportError:
        patient = None
    if patient is None:
        return PatientState(ins=ins, dmp="none", ins_c=ins_c(ins), known=False)
    named = bool(patient.persona)
    minor = _age(patient.date_naissance, today) < 18
    representative = None
    if minor:
        for nir in patient.cards:
            card = sandbox.population.card(nir)
            holder = sandbox.population.patient(card.holder_id) if card else None
            if holder is not None and holder.id != patient.id:
                lien = "MTH" if holder.sexe == "F" else "FTH"
                representative = Representative(holder.nom, holder.prenoms[0] if holder.prenoms else "", lien)
                break
        if representative is None:
            representative = Representative(patient.nom, "REPRESENTANT", "GRD")
    ens = False if named else _digest(ins, "ens") % 100 < 60
    telecoms = []
    if patient.email:
        telecoms.append(("", f"mailto:{patient.email}"))
    if patient.telephone:
        telecoms.append(("MC", f"tel:{patient.telephone}"))
    return PatientState(
        ins=patient.ins,
        dmp=patient.dmp,
        nom=patient.nom_utilise or patient.nom,
        prenom=patient.prenoms[0] if patient.prenoms else "",
        sexe=patient.sexe,
        naissance=patient.date_naissance.replace("-", ""),
        ins_c=ins_c(patient.ins),
        ens=ens and patient.dmp != "none",
        compte_internet=ens and patient.dmp == "open",
        opposition_bris_de_glace=False if named else _digest(ins, "bdg") % 100 < 3,
        medecin_traitant=patient.medecin_traitant if patient.dmp != "none" else "",
        representative=representative,
        minor=minor,
        telecoms=tuple(telecoms),
        adresse=(patient.adresse, patient.code_postal, patient.ville),
    )


def _load(data: dict[str, Any]) -> dict[str, Any]:
    out = dict(data)
    if out.get("representative"):
        out["representative"] = Representative(**out["representative"])
    if "authorizations" in out:
        out["authorizations"] = {k: Authorization(**v) for k, v in out["authorizations"].items()}
    for key in ("blocked", "telecoms"):
        if key in out:
            out[key] = tuple(tuple(x) if isinstance(x, list) else x for x in out[key])
    if "adresse" in out:
        out["adresse"] = tuple(out["adresse"])
    return out


def _dump(change: dict[str, Any]) -> dict[str, Any]:
    out = dict(change)
    rep = out.get("representative")
    if isinstance(rep, Representative):
        out["representative"] = asdict(rep)
    if "authorizations" in out:
        out["authorizations"] = {
            k: asdict(v) if isinstance(v, Authorization) else v for k, v in out["authorizations"].items()
        }
    return out


class States:
    def __init__(self, sandbox: Sandbox):
        self.sandbox = sandbox

    def overrides(self, tenant: str, ins: str) -> dict[str, Any]:
        row = self.sandbox.store.one(
            "SELECT data FROM dmp_patients WHERE tenant = ? AND ins = ?", (tenant, ins[:15])
        )
        return json.loads(row["data"]) if row else {}

    def get(self, tenant: str, ins: str, today: date) -> PatientState:
        base = derived(self.sandbox, ins[:15], today)
        stored = self.overrides(tenant, ins)
        if not stored:
            return base
        return replace(base, **{k: v for k, v in _load(stored).items() if k in EDITABLE})

    def update(self, tenant: str, ins: str, now: datetime, change: dict[str, Any]) -> PatientState:
        unknown = set(change) - set(EDITABLE)
        if unknown:
            raise ValueError(f"not a DMP state field: {', '.join(sorted(unknown))}")
        store = self.sandbox.store
        with store.tx():
            stored = self.overrides(tenant, ins)
            stored.update(_dump(change))
            store.execute(
                "INSERT INTO dmp_patients (tenant, ins, data, updated_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (tenant, ins) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at",
                (tenant, ins[:15], json.dumps(stored, ensure_ascii=False), now.isoformat()),
            )
        return self.get(tenant, ins, now.date())

    def reset(self, tenant: str, ins: str) -> bool:
        cur = self.sandbox.store.execute(
            "DELETE FROM dmp_patients WHERE tenant = ? AND ins = ?", (tenant, ins[:15])
        )
        return bool(cur.rowcount)
