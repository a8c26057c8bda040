"""The CDA R2 header the sandbox writes for its generated documents, shaped like the ANS examples
(TestContenuCDA-3-0/ExemplesCDA, read in ../shared/specs by the tests only): HL7 France and CI-SIS
templateIds, the patient with the INS (test or production OID family, per `cda_ins_oids`) and
the birth traits, the author and the legal authenticator with their structure, the custodian,
an `informationRecipient` per recipient (DOC.05), the documented act, an optional replacement
(`relatedDocument typeCode="RPLC"`), the encounter's healthcare facility.

Element order follows the CDA schema (POCD_MT000040.ClinicalDocument). Everything is escaped
text; the body is the caller's.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from xml.sax.saxutils import escape, quoteattr

from mocks.population import nomenclatures
from mocks.population.model import Patient, Professional, Structure

LOINC = "2.16.840.1.113883.6.1"
IDNPS, IDNST = "1.2.250.1.71.4.2.1", "1.2.250.1.71.4.2.2"
INS_OIDS = {("test", "NIR"): "1.2.250.1.213.1.4.10", ("test", "NIA"): "1.2.250.1.213.1.4.11",
            ("production", "NIR"): "1.2.250.1.213.1.4.8", ("production", "NIA"): "1.2.250.1.213.1.4.9"}  # fmt: skip
PRACTICE = {"SA01": ("ETABLISSEMENT", "Etablissement de santé"), "SA05": ("AMBULATOIRE", "Ambulatoire"),
            "SA07": ("AMBULATOIRE", "Ambulatoire")}  # fmt: skip


def oid() -> str:
    """A fresh OID of the UUID arc (ISO/IEC 9834-8): document ids, setIds."""
    return f"2.25.{uuid.uuid4().int}"


def q(value: str) -> str:
    return quoteattr(value)


def t(value: str) -> str:
    return escape(value)


def ts(moment: datetime) -> str:
    return moment.strftime("%Y%m%d%H%M%S") + moment.strftime("%z")


@dataclass(frozen=True)
class Actor:
    """A professional acting for a structure (author, legal authenticator, performer)."""

    id_nat: str
    family: str
    given: str
    prefix: str
    suffix: str
    code: str
    code_label: str
    org_id: str
    org_name: str
    number: str
    street: str
    postal: str
    city: str
    phone: str
    facility: str  # TRE_R02 secteur, e.g. SA01
    facility_label: str
    address: str = ""  # MSSanté mailbox

    @classmethod
    def of(cls, pro: Professional, place: Structure) -> Actor:
        prof = nomenclatures.profession(pro.profession)
        sf = nomenclatures.savoir_faire().get(pro.savoir_faire, "")
        code = f"G15_{pro.profession}" + (f"/{pro.savoir_faire}" if pro.savoir_faire else "")
        label = prof.label + (f" - {sf} (SM)" if sf else "")
        a = place.address
        street = " ".join(x for x in ({"R": "Rue", "AV": "Avenue", "BD": "Boulevard", "PL": "Place"}.get(a.type_voie, a.type_voie), a.libelle_voie.title()) if x)  # fmt: skip
        return cls(pro.id_nat, pro.nom, pro.prenoms[0].title() if pro.prenoms else "", "MME" if pro.civilite == "MME" else "M",
                   pro.civilite_exercice, code, label, place.id_nat, place.name, a.numero, street, a.code_postal, a.ville,
                   a.telephone or "0100000000", place.secteur, nomenclatures.secteurs().get(place.secteur, place.secteur),
                   pro.mss_address)  # fmt: skip


def addr(a: Actor) -> str:
    number = f"<houseNumber>{t(a.number)}</houseNumber>" if a.number else ""
    return f"<addr>{number}<streetName>{t(a.street)}</streetName><postalCode>{t(a.postal)}</postalCode><city>{t(a.city)}</city></addr>"


@dataclass(frozen=True)
class Recipient:
    address: str
    name: str = ""
    id_nat: str = ""


@dataclass
class Header:
    """What varies between documents; `write()` gives the header elements as text."""

    patient: Patient
    author: Actor
    ins_family: str
    code: tuple[str, str, str]  # code, displayName, codeSystem
    title: str
    now: datetime
    templates: list[tuple[str, str]] = field(default_factory=list)
    recipients: list[Recipient] = field(default_factory=list)
    service_code: tuple[str, str, str] | None = None
    with_ins: bool = True
    family_override: str = ""  # a variant: the birth name as another software spells it
    id: str = field(default_factory=oid)
    set_id: str = field(default_factory=oid)
    version: int = 1
    replaces: str = ""
    extra_participants: str = ""
    lab_event: bool = False  # CR-BIO: lab:statusCode and the performer templateId

    @property
    def unique_id(self) -> str:
        return self.id

    def _patient(self) -> str:
        p = self.patient
        ids = ""
        if self.with_ins:
            ids += f'<id extension="{p.ins}" root="{INS_OIDS[(self.ins_family, p.kind)]}"/>'
        ids += f'<id extension="IPP{p.matricule[-7:]}" root="1.2.250.1.213.1.1.9.99.1"/>'
        givens = " ".join(x.title() for x in p.prenoms)
        first = p.prenoms[0].title() if p.prenoms else ""
        place = next((c for c in nomenclatures.places() if c.code == p.lieu_naissance), None)
        addr = (f"<addr><streetName>{t(p.adresse)}</streetName><postalCode>{t(p.code_postal)}</postalCode>"
                f"<city>{t(p.ville)}</city></addr>") if p.adresse else '<addr nullFlavor="UNK"/>'  # fmt: skip
        gender = {"F": "Féminin", "M": "Masculin"}[p.sexe]
        return (
            f"<recordTarget><patientRole>{ids}{addr}<telecom value={q('mailto:' + p.mss_address)}/>"
            f'<patient classCode="PSN"><name><family qualifier="BR">{t(self.family_override or p.nom)}</family>'
            f'<given>{t(givens)}</given><given qualifier="BR">{t(first)}</given>'
            f"{'<family qualifier=' + chr(34) + 'CL' + chr(34) + '>' + t(p.nom_utilise) + '</family>' if p.nom_utilise else ''}</name>"
            f'<administrativeGenderCode code="{p.sexe}" displayName="{gender}" codeSystem="2.16.840.1.113883.5.1"/>'
            f'<birthTime value="{p.date_naissance.replace("-", "")}"/>'
            f"<birthplace><place><addr><county>{t(p.lieu_naissance)}</county>"
            f"<city>{t(place.name if place else '')}</city></addr></place></birthplace>"
            "</patient></patientRole></recordTarget>"
        )

    def _person(self, tag: str = "assignedPerson") -> str:
        a = self.author
        suffix = f"<suffix>{t(a.suffix)}</suffix>" if a.suffix else ""
        return f"<{tag}><name><prefix>{t(a.prefix)}</prefix><given>{t(a.given)}</given><family>{t(a.family)}</family>{suffix}</name></{tag}>"

    def _addr(self) -> str:
        a = self.author
        return addr(a)

    def _org(self, practice: bool = False) -> str:
        a = self.author
        sic = ""
        if practice:
            code, label = PRACTICE.get(a.facility, ("AMBULATOIRE", "Ambulatoire"))
            sic = f'<standardIndustryClassCode code="{code}" displayName={q(label)} codeSystem="1.2.250.1.213.1.1.4.9" codeSystemName="practiceSettingCode"/>'
        return (f'<representedOrganization><id root="{IDNST}" extension="{a.org_id}"/><name>{t(a.org_name)}</name>'
                f'<telecom value="tel:{a.phone}" use="WP"/>{self._addr()}{sic}</representedOrganization>')  # fmt: skip

    def _entity(self, practice: bool = False) -> str:
        a = self.author
        return (f'<id root="{IDNPS}" extension="{a.id_nat}"/><code code="{a.code}" displayName={q(a.code_label)} '
                f'codeSystem="1.2.250.1.213.1.1.4.5"/>{self._addr()}<telecom value="tel:{a.phone}" use="WP"/>'
                f"{self._person()}{self._org(practice)}")  # fmt: skip

    def _recipients(self) -> str:
        out = ""
        for r in self.recipients:
            rid = f'<id root="{IDNPS}" extension="{r.id_nat}"/>' if r.id_nat else ""
            name = (
                f"<informationRecipient><name><family>{t(r.name)}</family></name></informationRecipient>"
                if r.name
                else ""
            )
            out += f"<informationRecipient><intendedRecipient>{rid}<telecom value={q('mailto:' + r.address)}/>{name}</intendedRecipient></informationRecipient>"
        return out

    def write(self, lab_ns: bool = False) -> str:
        now, a = ts(self.now), self.author
        code, display, system = self.code
        ns = ' xmlns:lab="urn:oid:1.3.6.1.4.1.19376.1.3.2"' if lab_ns else ""
        templates = "".join(
            f'<templateId root="{r}"' + (f' extension="{e}"' if e else "") + "/>"
            for r, e in [("2.16.840.1.113883.2.8.2.1", ""), ("1.2.250.1.213.1.1.1.1", ""), *self.templates]
        )
        svc = self.service_code or self.code
        event = (
            f'<documentationOf><serviceEvent><code code="{svc[0]}" displayName={q(svc[1])} codeSystem="{svc[2]}"'
            + (' codeSystemName="LOINC"' if svc[2] == LOINC else "") + "/>"
            + ('<lab:statusCode code="completed"/>' if self.lab_event else "")
            + f'<effectiveTime><low value="{now}"/><high value="{now}"/></effectiveTime>'
            + '<performer typeCode="PRF">' + ('<templateId root="1.3.6.1.4.1.19376.1.3.3.1.7"/>' if self.lab_event else "")
            + (f'<time><high value="{now}"/></time>' if self.lab_event else "")
            + f"<assignedEntity>{self._entity(practice=True)}</assignedEntity></performer></serviceEvent></documentationOf>"
        )  # fmt: skip
        related = (
            f'<relatedDocument typeCode="RPLC"><parentDocument><id root="{self.replaces}"/></parentDocument></relatedDocument>'
            if self.replaces else ""
        )  # fmt: skip
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<ClinicalDocument xmlns="urn:hl7-org:v3"{ns} xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            f'<realmCode code="FR"/><typeId root="2.16.840.1.113883.1.3" extension="POCD_HD000040"/>{templates}'
            f'<id root="{self.id}"/><code code="{code}" displayName={q(display)} codeSystem="{system}"'
            + (' codeSystemName="LOINC"' if system == LOINC else "") + "/>"
            f"<title>{t(self.title)}</title><effectiveTime value=\"{now}\"/>"
            '<confidentialityCode code="N" displayName="Normal" codeSystem="2.16.840.1.113883.5.25"/>'
            f'<languageCode code="fr-FR"/><setId root="{self.set_id}"/><versionNumber value="{self.version}"/>'
            + self._patient()
            + f'<author><time value="{now}"/><assignedAuthor>{self._entity()}</assignedAuthor></author>'
            + f'<custodian><assignedCustodian><representedCustodianOrganization><id root="{IDNST}" extension="{a.org_id}"/>'
            f"<name>{t(a.org_name)}</name><telecom value=\"tel:{a.phone}\" use=\"WP\"/>{self._addr()}"
            "</representedCustodianOrganization></assignedCustodian></custodian>"
            + self._recipients()
            + f'<legalAuthenticator><time value="{now}"/><signatureCode code="S"/><assignedEntity>{self._entity(practice=True)}</assignedEntity></legalAuthenticator>'
            + self.extra_participants
            + event
            + related
            + f'<componentOf><encompassingEncounter><effectiveTime><low value="{now}"/></effectiveTime>'
            + (f"<responsibleParty><assignedEntity>{self._entity()}</assignedEntity></responsibleParty>" if self.lab_event else "")
            + '<location><healthCareFacility>'
            f'<code code="{a.facility}" displayName={q(a.facility_label)} codeSystem="1.2.250.1.71.4.2.4"/>'
            "</healthCareFacility></location></encompassingEncounter></componentOf>"
        )  # fmt: skip
