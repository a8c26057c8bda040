"""The operator's mailboxes (BAL) and domains, drawn from the synthetic population.

Types follow TRE_R257-TypeBAL (research mssante.md §1.1):

    PER  a professional's personal mailbox: the national one (`prenom.nom@medecin.mssante.fr`,
         the population's `mss_address`) plus one per structure domain they work in
         (`prenom.nom@<structure domain>`); owner: the idNat_PS (PSC `SubjectNameID`)
    ORG  a structure's organisational mailbox (`secretariat@<domain>`); owners: every professional
         working there (several PS and secretaries)
    APP  a structure's applicative mailbox (`lgc@<domain>`: the Ségur sending path); owner: the
         structure, by its ORG AUTH_CLI certificate
    CAB  a practitioner's cabinet mailbox (`cabinet.prenom.nom@<national domain>`) for a
         professional holding a cabinet [inferred: the type is "en cours de travaux" at ANS]
    citizen  `<matricule INS 15>@patient.mssante.fr` for every patient (delivery only here;
         read through the control API and the console), and the configured test citizen address (`mss_citizen_test_address`)

The liste blanche is every domain of these mailboxes (the population is what the Annuaire
publishes) plus `mss_outbound_domains`: liste-blanche domains of other operators, whose mail is
held in the "outbound" view. The directory is built once per population key (cheap: a few
thousand entries) and shared by the SMTP and IMAP front ends.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from mocks.kernel import Sandbox
    from mocks.population.model import Professional, Structure

CITIZEN_DOMAIN = "patient.mssante.fr"
NATIONAL_DOMAINS = ("medecin.mssante.fr", "pharmacien.mssante.fr", "infirmier.mssante.fr", "pro.mssante.fr")
BalType = Literal["PER", "ORG", "APP", "CAB", "CIT"]


@dataclass(frozen=True)
class Mailbox:
    address: str  # lower case
    type: BalType
    display: str  # the name an LGC shows
    owners: frozenset[str] = field(default_factory=frozenset)  # idNat_PS (PER/ORG/CAB) or idNat_Struct (APP)
    structure: str = ""  # idNat_Struct of ORG / APP / structure PER
    patient: str = ""  # INS of a citizen mailbox

    def owned_by(self, identity: str) -> bool:
        return identity in self.owners

    def as_dict(self) -> dict[str, object]:
        return {
            "address": self.address,
            "type": self.type,
            "display": self.display,
            "owners": sorted(self.owners),
            "structure": self.structure,
            "patient": self.patient,
        }


def domain_of(address: str) -> str:
    return address.rpartition("@")[2].lower()


def _local(address: str) -> str:
    return address.partition("@")[0]


class Directory:
    """Every mailbox of the sandbox operator, by address, and the domains it serves."""

    def __init__(self, mailboxes: Iterable[Mailbox], citizens: dict[str, str], test_citizen: str):
        self.by_address: dict[str, Mailbox] = {}
        for mbx in mailboxes:
            old = self.by_address.get(mbx.address)
            if old is None:
                self.by_address[mbx.address] = mbx
            elif old.type == mbx.type:
                # two professionals with the same name on one domain: both own it [inferred]
                merged = Mailbox(mbx.address, mbx.type, old.display, old.owners | mbx.owners, old.structure)
                self.by_address[mbx.address] = merged
        self.citizens = citizens  # INS -> display name
        self.test_citizen = test_citizen.lower()
        self.domains = {domain_of(a) for a in self.by_address} | {
            CITIZEN_DOMAIN,
            domain_of(self.test_citizen),
        }
        self.domains |= set(NATIONAL_DOMAINS)
        self.by_owner: dict[str, list[Mailbox]] = {}  # every login asks which mailboxes are its
        for mbx in self.by_address.values():
            for owner in mbx.owners:
                self.by_owner.setdefault(owner, []).append(mbx)

    def get(self, address: str) -> Mailbox | None:
        address = address.lower()
        found = self.by_address.get(address)
        if found is not None:
            return found
        local, _, domain = address.partition("@")
        if address == self.test_citizen:
            return Mailbox(address, "CIT", "Adresse de test citoyenne (Mon espace santé)")
        if domain == CITIZEN_DOMAIN and local in self.citizens:
            return Mailbox(address, "CIT", self.citizens[local], patient=local)
        return None

    def owned(self, identity: str) -> list[Mailbox]:
        return list(self.by_owner.get(identity, ()))

    def app_of(self, structure: str) -> list[Mailbox]:
        return [m for m in self.by_owner.get(structure, ()) if m.type == "APP"]

    def serves(self, domain: str) -> bool:
        return domain.lower() in self.domains

    def all(self) -> list[Mailbox]:
        return sorted(self.by_address.values(), key=lambda m: m.address)


def build(
    professionals: Iterable[Professional],
    structures: Iterable[Structure],
    citizens: dict[str, str],
    test_citizen: str,
) -> Directory:
    structures_by_id = {s.id_nat: s for s in structures}
    boxes: list[Mailbox] = []
    workers: dict[str, set[str]] = {}
    for pro in professionals:
        name = f"{' '.join(pro.prenoms[:1])} {pro.nom}".strip()
        for act in pro.activities:
            workers.setdefault(act.structure_id, set()).add(pro.id_nat)
        if not pro.mss_address:
            continue
        own = frozenset({pro.id_nat})
        boxes.append(Mailbox(pro.mss_address.lower(), "PER", name, own))
        local = _local(pro.mss_address).lower()
        national = domain_of(pro.mss_address)
        for act in pro.activities:
            place = structures_by_id.get(act.structure_id)
            if place is None:
                continue
            domain = (place.mss_domain or "").lower()
            if domain and domain != national and domain not in NATIONAL_DOMAINS:
                boxes.append(Mailbox(f"{local}@{domain}", "PER", name, own, place.id_nat))
            if place.kind == "cabinet" and act.mode == "L" and national in NATIONAL_DOMAINS:
                boxes.append(Mailbox(f"cabinet.{local}@{national}", "CAB", place.name, own, place.id_nat))
    for s in structures_by_id.values():
        staff = frozenset(workers.get(s.id_nat, ()))
        if s.mss_org_address:
            boxes.append(Mailbox(s.mss_org_address.lower(), "ORG", s.name, staff, s.id_nat))
        if s.mss_app_address:
            boxes.append(Mailbox(s.mss_app_address.lower(), "APP", s.name, frozenset({s.id_nat}), s.id_nat))
    return Directory(boxes, citizens, test_citizen)


class Directories:
    """The directory of the current population, built on first use."""

    def __init__(self, sandbox: Sandbox):
        self.sandbox = sandbox
        self._lock = threading.Lock()
        self._built: tuple[str, Directory] | None = None

    def get(self) -> Directory:
        pop = self.sandbox.population
        key = pop.key + "|" + str(self.sandbox.config.get("mss_citizen_test_address") or "")
        with self._lock:
            if self._built is None or self._built[0] != key:
                world = pop.ensure()
                citizens = {
                    p.ins: f"{' '.join(p.prenoms[:1])} {p.nom}".strip() for p in world.patients.values()
                }
                test = str(self.sandbox.config.get("mss_citizen_test_address") or "")
                directory = build(world.professionals.values(), world.structures.values(), citizens, test)
                self._built = (key, directory)
            return self._built[1]

    def outbound_domains(self) -> set[str]:
        raw = str(self.sandbox.config.get("mss_outbound_domains") or "")
        return {d.strip().lower() for d in raw.split(",") if d.strip()}
