"""The directory's FHIR resources, built from the synthetic population (AS DP profiles, API v2).

    professional          -> Practitioner (exercice professionnel) with its PER mailbox
    activity              -> PractitionerRole (situation d'exercice), the PER mailbox on the first one
    structure             -> Organization (EG, or the practice) with its ORG and APP mailboxes;
                             a FINESS structure with a FINESS EJ also gets its EJ Organization (partOf)
    hospital              -> HealthcareService (activité de soins) and Device (équipement lourd)

Element order, systems and extensions follow the live API samples and the IG examples (research
mssante.md 2.5, 2.6; ../shared/specs/annuaire/ig-examples): meta with the FR Core and AS DP
canonicals and `meta.source`, the `mailbox-mss` telecom slice with `fr-core-contact-point-email-type`
MSSANTE and `as-ext-mailbox-mss-metadata` (type, description, digitization), `url` before the
value in every extension as the live server writes it. Inactive resources carry only id,
identifiers and `active=false` (research 2.5). Technical ids are derived from the seed and the
national identifiers (`003-5818457-5939334` style for a v2 Practitioner, `003-5818457` in v1).

Over 400 lines: one builder method per resource type, each a literal FHIR tree kept whole so it
reads like the IG example it follows.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from mocks.population import Population, Professional, Structure
from mocks.population import nomenclatures as nom

SOURCE = "https://annuaire.sante.fr"
AS = "https://interop.esante.gouv.fr/ig/fhir/annuaire/StructureDefinition/"
FRCORE = "https://hl7.fr/ig/fhir/core/StructureDefinition/"
PROFILES = {
    "Practitioner": [FRCORE + "fr-core-practitioner", AS + "as-dp-practitioner"],
    "PractitionerRole": [FRCORE + "fr-core-practitioner-role", AS + "as-dp-practitionerrole"],
    "Organization": [FRCORE + "fr-core-organization", AS + "as-dp-organization"],
    "HealthcareService": [
        FRCORE + "fr-core-healthcare-service",
        AS + "as-dp-healthcareservice-healthcare-activity",
    ],
    "Device": [AS + "as-dp-device"],
}
ID_TYPE = "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203"
NOS = "https://mos.esante.gouv.fr/NOS/"
EMAIL_TYPE = FRCORE + "fr-core-contact-point-email-type"
TYPE_MESSAGERIE = NOS + "TRE_R256-TypeMessagerie/FHIR/TRE-R256-TypeMessagerie"
MAILBOX_METADATA = AS + "as-ext-mailbox-mss-metadata"
TYPE_BAL = NOS + "TRE_R257-TypeBAL/FHIR/TRE-R257-TypeBAL"
SMARTCARD = AS + "as-ext-smartcard"
ORG_TYPES = AS + "as-ext-organization-types"
SYSTEMS = {
    "IDNPS": "urn:oid:1.2.250.1.71.4.2.1",
    "RPPS": "https://rpps.esante.gouv.fr",
    "ADELI": "https://adeli.esante.gouv.fr",
    "IDNST": "urn:oid:1.2.250.1.71.4.2.2",
    "FINEG": "https://finess.esante.gouv.fr",
    "FINEJ": "https://finess.esante.gouv.fr",
    "SIRET": "https://sirene.fr",
    "RPPSRG": "https://rppsrang.esante.gouv.fr",
}
TRE = {
    "profession": NOS + "TRE_G15-ProfessionSante/FHIR/TRE-G15-ProfessionSante",
    "categorie": NOS + "TRE_R09-CategorieProfessionnelle/FHIR/TRE-R09-CategorieProfessionnelle",
    "savoir_faire": NOS + "TRE_R38-SpecialiteOrdinale/FHIR/TRE-R38-SpecialiteOrdinale",
    "type_savoir_faire": NOS + "TRE_R04-TypeSavoirFaire/FHIR/TRE-R04-TypeSavoirFaire",
    "genre": NOS + "TRE_R22-GenreActivite/FHIR/TRE-R22-GenreActivite",
    "mode": NOS + "TRE_R23-ModeExercice/FHIR/TRE-R23-ModeExercice",
    "fonction": NOS + "TRE_R21-Fonction/FHIR/TRE-R21-Fonction",
    "secteur": NOS + "TRE_R02-SecteurActivite/FHIR/TRE-R02-SecteurActivite",
    "carte": NOS + "TRE_R87-TypeCarte/FHIR/TRE-R87-TypeCarte",
    "commune": NOS + "TRE_R13-Commune/FHIR/TRE-R13-Commune",
    "org_type": "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-3307",
    "forme_activite": NOS + "TRE_R276-FormeActivite/FHIR/TRE-R276-FormeActivite",
    "activite_sanitaire": NOS + "TRE_R277-ActiviteSanitaireRegulee/FHIR/TRE-R277-ActiviteSanitaireRegulee",
    "eml": NOS + "TRE_R272-EquipementMaterielLourd/FHIR/TRE-R272-EquipementMaterielLourd",
}
ARHGOS = "https://arhgos.esante.gouv.fr"  # [inferred] system of the ARHGOS authorisation numbers
CARD_TYPES = {0: "CPS", 1: "CPF", 2: "CPE", 3: "CPA"}
PARIS = ZoneInfo("Europe/Paris")


@dataclass
class Mailbox:
    """An MSSanté mailbox as the directory publishes it (FHIR telecom and extraction line)."""

    address: str
    kind: str  # PER, ORG, APP, CAB
    description: str = ""
    service: str = ""
    digitization: bool = True


@dataclass
class Built:
    """One resource: its v2 JSON tree, its v1 id and what the indexes need beyond the JSON."""

    type: str
    id: str
    v1_id: str
    resource: dict[str, Any]
    mailboxes: list[Mailbox] = field(default_factory=list)
    refs: dict[str, str] = field(default_factory=dict)  # search parameter -> target "Type/id"
    information_system: str = ""  # RPPS | FINESS | MSS (data-information-system)
    authority: str = ""  # data-registration-authority code
    smartcards: list[tuple[str, str]] = field(default_factory=list)  # (type, number)
    persona: str = ""  # national id of the subject (journal, fault rules)


def _digits(seed: int, kind: str, key: str, width: int) -> int:
    digest = hashlib.sha256(f"{seed}|annuaire|{kind}|{key}".encode()).digest()
    low = 10 ** (width - 1)
    return low + int.from_bytes(digest[:8], "big") % (9 * low)


class Ids:
    """Technical ids, derived from the seed and a stable key (never from list positions, so that
    growing the world keeps every existing id); collisions are salted deterministically."""

    def __init__(self, seed: int):
        self.seed = seed
        self.taken: set[str] = set()

    def make(self, kind: str, key: str, pattern: str, widths: tuple[int, ...]) -> tuple[int, ...]:
        salt = 0
        while True:
            salted = key if not salt else f"{key}#{salt}"
            numbers = tuple(_digits(self.seed, f"{kind}{i}", salted, w) for i, w in enumerate(widths))
            made = pattern.format(*numbers)
            if made not in self.taken:
                self.taken.add(made)
                return numbers
            salt += 1


def last_updated(seed: int, key: str, reference: date) -> str:
    """A deterministic lastUpdated in the 400 days before the reference date (Paris time, ms)."""
    n = _digits(seed, "updated", key, 12)
    moment = datetime(reference.year, reference.month, reference.day, tzinfo=PARIS) - timedelta(
        days=n % 400, seconds=(n // 400) % 86400, milliseconds=(n // 7) % 1000
    )
    text = moment.isoformat(timespec="milliseconds")
    return text


def _meta(kind: str, updated: str) -> dict[str, Any]:
    return {"versionId": "1", "lastUpdated": updated, "source": SOURCE, "profile": list(PROFILES[kind])}


def _identifier(code: str, value: str) -> dict[str, Any]:
    return {
        "use": "official",
        "type": {"coding": [{"system": ID_TYPE, "code": code}]},
        "system": SYSTEMS[code],
        "value": value,
    }


def _coding(system: str, code: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code}]}


def mailbox_telecom(box: Mailbox) -> dict[str, Any]:
    """The `mailbox-mss` telecom slice (as-mailbox-mss), extensions written url first."""
    metadata: list[dict[str, Any]] = [{"url": "type", "valueCodeableConcept": _coding(TYPE_BAL, box.kind)}]
    if box.description:
        metadata.append({"url": "description", "valueString": box.description})
    if box.service:
        metadata.append({"url": "service", "valueString": box.service})
    metadata.append({"url": "digitization", "valueBoolean": box.digitization})
    return {
        "extension": [
            {"url": EMAIL_TYPE, "valueCoding": {"system": TYPE_MESSAGERIE, "code": "MSSANTE"}},
            {"url": MAILBOX_METADATA, "extension": metadata},
        ],
        "system": "email",
        "value": box.address,
    }


def _address(structure: Structure) -> list[dict[str, Any]]:
    a = structure.address
    if not (a.code_postal or a.ville):
        return []
    line_parts = [p for p in (a.numero, a.type_voie, a.libelle_voie) if p]
    line_ext = []
    if a.numero:
        line_ext.append(
            {
                "url": "http://hl7.org/fhir/StructureDefinition/iso21090-ADXP-houseNumber",
                "valueString": a.numero,
            }
        )
    if a.type_voie:
        line_ext.append(
            {
                "url": "http://hl7.org/fhir/StructureDefinition/iso21090-ADXP-streetNameType",
                "valueString": a.type_voie,
            }
        )
    if a.libelle_voie:
        line_ext.append(
            {
                "url": "http://hl7.org/fhir/StructureDefinition/iso21090-ADXP-streetNameBase",
                "valueString": a.libelle_voie,
            }
        )
    out: dict[str, Any] = {}
    if a.commune:
        out["extension"] = [
            {
                "url": FRCORE + "fr-core-address-insee-code",
                "valueCoding": {"system": TRE["commune"], "code": a.commune},
            }
        ]
    if line_parts:
        out["line"] = [" ".join(line_parts) + f", {a.code_postal} {a.ville}".rstrip(", ")]
        out["_line"] = [{"extension": line_ext}]
    out["city"] = a.ville
    if a.departement:
        out["district"] = a.departement
    out["postalCode"] = a.code_postal
    return [out]


def structure_mailboxes(s: Structure) -> list[Mailbox]:
    boxes = []
    if s.mss_org_address:
        boxes.append(Mailbox(s.mss_org_address, "ORG", f"{s.name} Secrétariat", "Secrétariat"))
    if s.mss_app_address:
        boxes.append(Mailbox(s.mss_app_address, "APP", f"{s.name} Messagerie applicative"))
    return boxes


class Builder:
    """Builds every resource of a world, ids first (references need them)."""

    def __init__(self, population: Population, seed: int, reference: str):
        self.population = population
        self.seed = seed
        self.reference = date.fromisoformat(reference)
        self.ids = Ids(seed)
        self.professionals = population.professionals()
        self.structures = {s.id_nat: s for s in population.structures()}
        self.pract: dict[str, tuple[str, str]] = {}  # id_nat -> (v2 id, v1 id)
        self.role: dict[tuple[str, str], tuple[str, str]] = {}  # (id_nat, structure) -> ids
        self.org: dict[str, str] = {}  # idNat_Struct (or "EJ:" + FINESS EJ) -> id
        self._assign()

    def _assign(self) -> None:
        for p in self.professionals:
            a, b = self.ids.make("pract", p.id_nat, "003-{}-{}", (7, 7))
            self.pract[p.id_nat] = (f"003-{a}-{b}", f"003-{a}")
            for act in p.activities:
                key = (p.id_nat, act.structure_id)
                if key in self.role:
                    continue
                a, b = self.ids.make("role", "|".join(key), "005-{}-{}", (7, 7))
                self.role[key] = (f"005-{a}-{b}", f"005-{a}")
            if self.inactive_role(p):
                key = (p.id_nat, "closed")
                a, b = self.ids.make("role", "|".join(key), "005-{}-{}", (7, 7))
                self.role[key] = (f"005-{a}-{b}", f"005-{a}")
        for s in self.structures.values():
            (n,) = self.ids.make("org", s.id_nat, "001-01-{}", (6,))
            self.org[s.id_nat] = f"001-01-{n}"
            if s.finess_ej and s.finess:
                ej = "EJ:" + s.finess_ej
                if ej not in self.org:
                    (n,) = self.ids.make("org", ej, "001-01-{}", (6,))
                    self.org[ej] = f"001-01-{n}"

    def inactive_role(self, p: Professional) -> bool:
        """About one professional in a hundred also has a closed former situation d'exercice."""
        return _digits(self.seed, "closed", p.id_nat, 6) % 100 == 0

    def _updated(self, key: str) -> str:
        return last_updated(self.seed, key, self.reference)

    # -- resources --------------------------------------------------------------------------------
    def all(self) -> Iterator[Built]:
        for p in self.professionals:
            yield self.practitioner(p)
            yield from self.roles(p)
        entities: set[str] = set()
        for s in self.structures.values():
            yield self.organization(s)
            if s.finess_ej and s.finess and s.finess_ej not in entities:
                entities.add(s.finess_ej)  # one EJ for the EGs it holds
                yield self.legal_entity(s)
            if s.kind == "hopital":
                yield self.healthcare_service(s)
                yield self.device(s)

    def practitioner(self, p: Professional) -> Built:
        v2, v1 = self.pract[p.id_nat]
        info = nom.professions().get(p.profession)
        r: dict[str, Any] = {
            "resourceType": "Practitioner",
            "id": v2,
            "meta": _meta("Practitioner", self._updated(v2)),
            "language": "fr",
        }
        cards = []
        if p.cps_card:
            card = CARD_TYPES.get(p.card_type, "CPS")
            cards.append((card, p.cps_card))
            start = self.reference - timedelta(days=_digits(self.seed, "card", p.id_nat, 6) % 900)
            r["extension"] = [
                {
                    "url": SMARTCARD,
                    "extension": [
                        {"url": "type", "valueCodeableConcept": _coding(TRE["carte"], card)},
                        {"url": "number", "valueString": p.cps_card},
                        {
                            "url": "period",
                            "valuePeriod": {
                                "start": start.isoformat(),
                                "end": (start + timedelta(days=3 * 365)).isoformat(),
                            },
                        },
                    ],
                }
            ]
        ids = [_identifier("IDNPS", p.id_nat)]
        if p.rpps:
            ids.append(_identifier("RPPS", p.rpps))
        if p.adeli:
            ids.append(_identifier("ADELI", p.adeli))
        r["identifier"] = ids
        r["active"] = True
        name: dict[str, Any] = {
            "use": "usual",
            "family": p.nom,
            "given": [p.first_name] if p.first_name else [],
        }
        if p.civilite:
            name["prefix"] = [p.civilite]
        if p.civilite_exercice:
            name["suffix"] = [p.civilite_exercice]
        if not name["given"]:
            del name["given"]
        r["name"] = [name]
        boxes = [Mailbox(p.mss_address, "PER")] if p.mss_address else []
        if boxes:
            r["telecom"] = [mailbox_telecom(b) for b in boxes]
        quals = [
            {
                "code": {
                    "coding": [
                        {"system": TRE["profession"], "code": p.profession},
                        {"system": TRE["categorie"], "code": p.categorie or "C"},
                    ]
                }
            }
        ]
        if p.savoir_faire:
            codings = [{"system": TRE["savoir_faire"], "code": p.savoir_faire}]
            if p.savoir_faire_type:
                codings.append({"system": TRE["type_savoir_faire"], "code": p.savoir_faire_type})
            quals.append({"code": {"coding": codings}})
        r["qualification"] = quals
        return Built(
            "Practitioner", v2, v1, r, boxes, information_system="RPPS",
            authority=p.registration_authority or (info.registration_authority if info else ""),
            smartcards=cards, persona=p.id_nat,
        )  # fmt: skip

    def roles(self, p: Professional) -> Iterator[Built]:
        seen: set[str] = set()
        first = True
        for act in p.activities:
            if act.structure_id in seen:
                continue
            seen.add(act.structure_id)
            v2, v1 = self.role[(p.id_nat, act.structure_id)]
            r: dict[str, Any] = {
                "resourceType": "PractitionerRole",
                "id": v2,
                "meta": _meta("PractitionerRole", self._updated(v2)),
                "language": "fr",
            }
            r["identifier"] = [
                {"system": SYSTEMS["RPPS"], "value": str(_digits(self.seed, "situation", v2, 10))}
            ]
            r["active"] = True
            r["practitioner"] = {"reference": f"Practitioner/{self.pract[p.id_nat][0]}"}
            refs = {"practitioner": f"Practitioner/{self.pract[p.id_nat][0]}"}
            org = self.org.get(act.structure_id)
            if org:
                r["organization"] = {"reference": f"Organization/{org}"}
                refs["organization"] = f"Organization/{org}"
            codes = [_coding(TRE["genre"], act.genre or "GENR01"), _coding(TRE["mode"], act.mode)]
            if act.role:
                codes.append(_coding(TRE["fonction"], act.role))
            r["code"] = codes
            boxes = [Mailbox(p.mss_address, "PER")] if first and p.mss_address else []
            if boxes:
                r["telecom"] = [mailbox_telecom(b) for b in boxes]
            first = False
            yield Built(
                "PractitionerRole", v2, v1, r, boxes, refs, "RPPS", p.registration_authority, persona=p.id_nat
            )
        if self.inactive_role(p):
            v2, v1 = self.role[(p.id_nat, "closed")]
            r = {
                "resourceType": "PractitionerRole",
                "id": v2,
                "meta": {"source": SOURCE, "profile": list(PROFILES["PractitionerRole"])},
                "identifier": [
                    {"system": SYSTEMS["RPPS"], "value": str(_digits(self.seed, "situation", v2, 10))}
                ],
                "active": False,
            }
            yield Built(
                "PractitionerRole", v2, v1, r, [], {}, "RPPS", p.registration_authority, persona=p.id_nat
            )

    def organization(self, s: Structure) -> Built:
        oid = self.org[s.id_nat]
        r: dict[str, Any] = {
            "resourceType": "Organization",
            "id": oid,
            "meta": _meta("Organization", self._updated(oid)),
            "language": "fr",
        }
        ids = [_identifier("IDNST", s.id_nat)]
        if s.finess:
            ids.append(_identifier("FINEG", s.finess))
        if s.siret:
            ids.append(_identifier("SIRET", s.siret))
        if s.id_nat.startswith("4"):
            ids.append(_identifier("RPPSRG", s.id_nat[1:]))
        r["identifier"] = ids
        r["active"] = True
        entity = "GEOGRAPHICAL-ENTITY" if s.finess else "LEGAL-ENTITY"
        r["type"] = [
            {
                "extension": [{"url": ORG_TYPES, "valueCode": "organizationType"}],
                "coding": [{"system": TRE["org_type"], "code": entity}],
            },
            {
                "extension": [{"url": ORG_TYPES, "valueCode": "secteurActiviteRASS"}],
                "coding": [{"system": TRE["secteur"], "code": s.secteur}],
            },
        ]
        r["name"] = s.name
        telecom: list[dict[str, Any]] = []
        if s.address.telephone:
            telecom.append({"system": "phone", "value": s.address.telephone, "rank": 1})
        boxes = structure_mailboxes(s)
        telecom.extend(mailbox_telecom(b) for b in boxes)
        if telecom:
            r["telecom"] = telecom
        address = _address(s)
        if address:
            r["address"] = address
        refs = {}
        ej = self.org.get("EJ:" + s.finess_ej) if s.finess_ej and s.finess else None
        if ej:
            r["partOf"] = {"reference": f"Organization/{ej}"}
            refs["partof"] = f"Organization/{ej}"
        system = "FINESS" if s.finess else "RPPS"
        return Built(
            "Organization", oid, oid, r, boxes, refs, system, "ARS" if s.finess else "CNOM", persona=s.id_nat
        )

    def legal_entity(self, s: Structure) -> Built:
        key = "EJ:" + s.finess_ej
        oid = self.org[key]
        r: dict[str, Any] = {
            "resourceType": "Organization",
            "id": oid,
            "meta": _meta("Organization", self._updated(oid)),
            "language": "fr",
        }
        r["identifier"] = [_identifier("IDNST", "1" + s.finess_ej), _identifier("FINEJ", s.finess_ej)]
        r["active"] = True
        r["type"] = [
            {
                "extension": [{"url": ORG_TYPES, "valueCode": "organizationType"}],
                "coding": [{"system": TRE["org_type"], "code": "LEGAL-ENTITY"}],
            }
        ]
        r["name"] = s.name
        address = _address(s)
        if address:
            r["address"] = address
        return Built("Organization", oid, oid, r, [], {}, "FINESS", "ARS", persona="1" + s.finess_ej)

    def healthcare_service(self, s: Structure) -> Built:
        (n,) = self.ids.make("hcs", s.id_nat, "004-{}-01", (7,))
        hid = f"004-{n}-01"
        dept = s.address.departement or "75"
        r: dict[str, Any] = {
            "resourceType": "HealthcareService",
            "id": hid,
            "meta": _meta("HealthcareService", self._updated(hid)),
            "language": "fr",
            "identifier": [{"system": ARHGOS, "value": f"{dept}-{dept}-{n % 100000:05d}"}],
            "active": True,
            "providedBy": {"reference": f"Organization/{self.org[s.id_nat]}"},
            "type": [_coding(TRE["activite_sanitaire"], "01")],
            "characteristic": [_coding(TRE["forme_activite"], "01")],
        }
        refs = {"organization": f"Organization/{self.org[s.id_nat]}"}
        return Built("HealthcareService", hid, hid, r, [], refs, "FINESS", "ARS", persona=s.id_nat)

    def device(self, s: Structure) -> Built:
        (n,) = self.ids.make("device", s.id_nat, "002-{}", (7,))
        did = f"002-{n}"
        dept = s.address.departement or "75"
        r: dict[str, Any] = {
            "resourceType": "Device",
            "id": did,
            "meta": _meta("Device", self._updated(did)),
            "language": "fr",
            "identifier": [{"system": ARHGOS, "value": f"{dept}-{dept}-{(n // 7) % 100000:05d}"}],
            "status": "active",
            "manufacturer": "SIEMENS",
            "type": _coding(TRE["eml"], "05602"),
            "owner": {"reference": f"Organization/{self.org[s.id_nat]}"},
        }
        refs = {"organization": f"Organization/{self.org[s.id_nat]}"}
        return Built("Device", did, did, r, [], refs, "FINESS", "ARS", persona=s.id_nat)
