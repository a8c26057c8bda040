"""The DMP's seeded documents: what other LGCs "fed" before the trainee's, so that a search, a
retrieve or the console's viewer has something to show (issue 14 "Data").

    seeded = ensure(sandbox, tenant)      # the seed's documents, made on first use per tenant
    plan(sandbox)                         # what would be made: patients, authors, documents

Made lazily (not at start-up, which stays fast) by the first reader of a tenant's documents (the
control routes, the console); a tenant reset removes them with the rest and the next reader makes
them again. Deterministic: the population's seed and reference date choose the patients (generated
adults with an open DMP, never a named persona, whose documents tests count) and the authors
(médecins of the population: a GP per patient, a specialist in town, a hospital médecin), and
give every identifier, time and byte of the CDA; only the XAdES differs between sandboxes (each
has its own PKI keys). Setting `dmp_seed_documents` off: no seed.

Each document is one submission like a real TD2.1 feed (research dmp.md §2.4, §2.5; the official
`TD2.1 - Alimentation_requête.xml` metadata shape): a submission set, the CDA R2 N1 around a
PDF/A-1b with the INS DataMatrix (mocks.cda.letter), the lot's XAdES signed with the author's CPS
signature certificate (mocks.pki.xades) and its ExtrinsicObject (MASQUE_PS + INVISIBLE_PATIENT),
the HasMember and `signs` associations. The XAdES is verified as the repository verifies it and
the CDA goes to the CDA engine (report mode; the authors vouch for the INS, qualified by their own
INSi call: no CDA-INS-NOT-QUALIFIED). Among them: one masked to professionals (MASQUE_PS), one
invisible to the patient, one archived, one replaced (RPLC: v1 Deprecated, v2 Approved).
"""

from __future__ import annotations

import hashlib
import logging
import random
import threading
import uuid
import weakref
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, Literal

from dmp import documents as D
from dmp import ebrim
from dmp import metadata as M
from mocks.cda import Context, letter
from mocks.pki.xades import sign_xades, verify_xades
from mocks.population.nomenclatures import savoir_faire, secteurs

if TYPE_CHECKING:
    from mocks.kernel import Sandbox
    from mocks.population.model import Patient, Professional, Structure

PATIENTS = 4
SOURCE_ID = "1.2.250.1.999.1.1.7898"  # the test sourceId root of the official examples [seen]
PS_OID, STRUCT_OID = "1.2.250.1.71.4.2.1", "1.2.250.1.71.4.2.2"
TRE_A03, LOINC, CONF, FORMATS = "1.2.250.1.213.1.1.4.1", "2.16.840.1.113883.6.1", "2.16.840.1.113883.5.25", "1.3.6.1.4.1.19376.1.2.3"  # fmt: skip
HCF_SCHEME, PRACTICE_SCHEME = "1.2.250.1.71.4.2.4", "1.2.250.1.213.1.1.4.9"
# [inferred] 07 for an outpatient visit (IG HL7v2 PV1-2 mapping); the examples show only 04
CONTENT_TYPE = M.Code("07", "1.2.250.1.213.2.2", "Consultation externe")
PDF_FORMAT = M.Code("urn:ihe:iti:xds-sd:pdf:2008", FORMATS, "Document à corps non structuré en Pdf/A-1")
MASKED = M.Code(M.MASQUE_PS, M.VISIBILITY_SCHEME, "Masqué aux professionnels de santé")
HIDDEN = M.Code(M.INVISIBLE_PATIENT, M.VISIBILITY_SCHEME, "Non visible par le patient")
NORMAL = M.Code("N", CONF, "Normal")
GPS = ("SM54", "SM26")  # médecine générale (TRE_R38)

# LOINC type (JDV_J07 / J66) and its class (TRE_A03 through ASS_X04; [inferred] for the seed)
CONSULTATION = (("11488-4", "CR ou fiche de consultation ou de visite"), ("10", "Compte rendu"))
LIAISON = (("11490-0", "Lettre de liaison à la sortie d'un établissement de soins"), ("10", "Compte rendu"))
IMAGING = (("18748-4", "CR d'imagerie médicale"), ("10", "Compte rendu"))
PRESCRIPTION = (("57833-6", "Prescription de produits de santé"), ("42", "Prescription"))
SYNTHESIS = (("60591-5", "Synthèse médicale"), ("11", "Synthèse"))
BIOLOGY = (("11502-2", "CR d'examens biologiques"), ("10", "Compte rendu"))


@dataclass(frozen=True)
class Spec:
    """One seeded document of a patient: its type, age, author, and what happened to it."""

    kind: tuple[tuple[str, str], tuple[str, str]]
    days_ago: int
    author: Literal["gp", "specialist", "hospital"] = "gp"
    masked: bool = False  # MASQUE_PS
    invisible_patient: bool = False
    archived: bool = False
    replaced: bool = False  # a v2 replaces it (RPLC) ten days later


# per chosen patient (in order)
SPECS: tuple[tuple[Spec, ...], ...] = (
    (Spec(CONSULTATION, 120), Spec(LIAISON, 60, "hospital", replaced=True)),
    (Spec(IMAGING, 90, "specialist", masked=True), Spec(PRESCRIPTION, 400, archived=True)),
    (Spec(SYNTHESIS, 30), Spec(BIOLOGY, 45, "specialist", invisible_patient=True)),
    (Spec(CONSULTATION, 15),),
)

BODIES = {
    "11488-4": "Consultation de suivi. Examen clinique sans particularité. Tension artérielle 128/78. "
    "Poursuite du traitement habituel.",
    "11490-0": "Hospitalisation de courte durée. Évolution favorable. Sortie au domicile avec un "
    "contrôle chez le médecin traitant sous quinze jours.",
    "18748-4": "Radiographie thoracique de face : pas d'anomalie pleuro-parenchymateuse visible.",
    "57833-6": "Paracétamol 1 g, un comprimé trois fois par jour pendant cinq jours.",
    "60591-5": "Synthèse médicale : antécédents, allergies (aucune connue), traitements en cours, "
    "vaccinations à jour.",
    "11502-2": "Bilan biologique : numération formule sanguine, ionogramme et créatinine normaux.",
}


@dataclass(frozen=True)
class Cast:
    """The author as mocks.cda.letter.Author wants it."""

    professional: str
    structure: str
    secteur: str
    specialty: str
    profession: str


@dataclass(frozen=True)
class LetterPatient:
    """A population patient as mocks.cda.letter.LetterPatient wants it (a qualified identity)."""

    matricule: str
    cle: str
    nom: str
    prenoms: str
    sexe: str
    naissance: str
    lieu: str

    @property
    def ins(self) -> str:
        return self.matricule + self.cle

    @property
    def first_name(self) -> str:
        return self.prenoms.split(" ")[0]


@dataclass(frozen=True)
class Author:
    professional: Professional
    structure: Structure
    secteur: str

    @property
    def xcn(self) -> str:
        p = self.professional
        return f"{p.id_nat}^{p.nom}^{p.first_name}^^^^^^&{PS_OID}&ISO^D^^^IDNPS"

    @property
    def xon(self) -> str:
        return f"{self.structure.name}^^^^^&{STRUCT_OID}&ISO^IDNST^^^{self.structure.id_nat}"

    @property
    def specialty(self) -> tuple[str, str]:
        code = self.professional.savoir_faire
        label = savoir_faire().get(code, "")
        return f"G15_{self.professional.profession}/{code}", f"Médecin - {label} (SM)"

    @property
    def hcf(self) -> M.Code:
        return M.Code(self.secteur, HCF_SCHEME, secteurs().get(self.secteur, self.secteur))

    @property
    def practice(self) -> M.Code:
        hospital = self.secteur in ("SA01", "SA02", "SA03", "SA04")
        return (M.Code("ETABLISSEMENT", PRACTICE_SCHEME, "Etablissement de santé") if hospital
                else M.Code("AMBULATOIRE", PRACTICE_SCHEME, "Ambulatoire"))  # fmt: skip

    def slots(self) -> ebrim.AuthorSlots:
        return ebrim.AuthorSlots(self.xcn, self.xon, self.specialty)

    def cast(self) -> Cast:
        p = self.professional
        return Cast(p.id_nat, self.structure.id_nat, self.secteur, p.savoir_faire, p.profession)

    def signer(self) -> letter.Signer:
        p, practice = self.professional, self.practice
        return letter.Signer(p.first_name.title(), p.nom, p.civilite or "MME", self.structure.name,
                             self.specialty[1], self.hcf.label, (practice.code, practice.label))  # fmt: skip


@dataclass(frozen=True)
class Planned:
    patient: Patient
    gp: Author
    specialist: Author  # another médecin, in town
    hospital: Author  # a hospital médecin (the lettre de liaison)
    specs: tuple[Spec, ...]

    def author(self, spec: Spec) -> Author:
        return {"gp": self.gp, "specialist": self.specialist, "hospital": self.hospital}[spec.author]


class _Ids:
    """Identifiers drawn from the seed: the same world gives the same OIDs and entryUUIDs."""

    def __init__(self, key: str):
        self.key = key

    def _digest(self, name: str) -> bytes:
        return hashlib.sha256(f"dmp-seed:{self.key}:{name}".encode()).digest()[:16]

    def oid(self, name: str) -> str:
        return f"2.25.{uuid.UUID(bytes=self._digest(name), version=4).int}"

    def uuid(self, name: str) -> str:
        return f"urn:uuid:{uuid.UUID(bytes=self._digest(name), version=4)}"


def _key(sandbox: Sandbox) -> str:
    return f"{sandbox.config.seed}:{sandbox.config['reference_date']}"


def _author(sandbox: Sandbox, pro: Professional, hospital: bool) -> Author | None:
    for act in pro.activities:
        if hospital != (act.secteur in ("SA01", "SA02", "SA03", "SA04")):
            continue
        structure = sandbox.population.structure(act.structure_id)
        if structure is not None:
            return Author(pro, structure, act.secteur)
    return None


def plan(sandbox: Sandbox) -> list[Planned]:
    """The patients, their authors and their documents, from the population's seed."""
    pop = sandbox.population
    rng = random.Random(f"dmp-seed:{_key(sandbox)}")
    reference = date.fromisoformat(str(sandbox.config["reference_date"]))
    adults = [
        p
        for p in pop.patients()
        if not p.persona
        and p.dmp == "open"
        and p.kind == "NIR"
        and p.date_naissance[:4] < str(reference.year - 18)
    ]
    doctors = [
        p
        for p in pop.professionals()
        if p.profession == "10" and not p.persona and p.certificate_state == "valid" and p.card_type == 0
    ]
    gps = [a for p in doctors if p.savoir_faire in GPS and (a := _author(sandbox, p, False))]
    specialists = [
        a for p in doctors if p.savoir_faire not in GPS and (a := _author(sandbox, p, False))
    ] or gps
    hospital = [a for p in doctors if (a := _author(sandbox, p, True))] or specialists
    if not adults or not gps:
        return []
    patients = rng.sample(adults, min(PATIENTS, len(adults)))
    return [
        Planned(patient, rng.choice(gps), rng.choice(specialists), rng.choice(hospital), specs)
        for patient, specs in zip(patients, SPECS, strict=False)
    ]


def _stamp(when: datetime) -> str:
    return when.strftime("%Y%m%d%H%M%S")


def _document(entry: M.Entry, ins: str, ins_oid: str, content: bytes, **fields: Any) -> D.Document:
    """A stored Document from the ExtrinsicObject read back (what an ITI-41 would store)."""
    masked, invisible, representants = M.visibility(entry.confidentiality)
    return D.Document(
        entry_uuid=entry.id,
        unique_id=entry.unique_id,
        lid=entry.id,
        version=1,
        status="Approved",
        ins=ins,
        ins_oid=ins_oid,
        patient_id=entry.patient_id,
        mime_type=entry.mime_type,
        hash=hashlib.sha1(content).hexdigest(),
        size=len(content),
        metadata_xml=entry.xml.decode(),
        class_code=entry.code(M.DE_CLASS),
        type_code=entry.code(M.DE_TYPE),
        format_code=entry.code(M.DE_FORMAT),
        practice_setting_code=entry.code(M.DE_PRACTICE),
        hcf_type_code=entry.code(M.DE_HCF),
        event_codes=entry.event_codes,
        confidentiality=entry.confidentiality,
        masked_ps=masked,
        invisible_patient=invisible,
        invisible_representants=representants,
        creation_time=entry.slot("creationTime"),
        service_start_time=entry.slot("serviceStartTime"),
        service_stop_time=entry.slot("serviceStopTime"),
        authors=entry.authors,
        legal_authenticator=entry.slot("legalAuthenticator"),
        title=entry.name,
        language_code=entry.slot("languageCode"),
        source_patient_id=entry.slot("sourcePatientId"),
        source_patient_info=entry.slots.get("sourcePatientInfo", ()),
        via_seed=True,
        **fields,
    )


@dataclass(frozen=True)
class Made:
    """One seeded lot, before it is stored."""

    submission: D.Submission
    cda: bytes
    status: D.Status
    context: Context  # what the CDA engine was given

    @property
    def document(self) -> D.Document:
        return self.submission.documents[0]


def _lot(
    sandbox: Sandbox,
    tenant: str,
    ids: _Ids,
    who: Planned,
    spec: Spec,
    name: str,
    version: int,
    previous: D.Document | None,
) -> Made:
    patient, author = who.patient, who.author(spec)
    reference = datetime.combine(date.fromisoformat(str(sandbox.config["reference_date"])), time(9, 30), UTC)
    created = reference - timedelta(days=spec.days_ago - (10 if version > 1 else 0))
    (type_code, type_label), (class_code, class_label) = spec.kind
    ins_oid = letter.DOCUMENT_INS_OID
    lp = LetterPatient(patient.matricule, patient.cle, patient.nom, " ".join(patient.prenoms), patient.sexe,
                       patient.date_naissance, patient.lieu_naissance)  # fmt: skip
    doc_uid, set_uid, sig_uid = ids.oid(f"{name}:doc"), ids.oid(f"{name}:set"), ids.oid(f"{name}:sig")
    set_id = ids.oid(f"{name.split(':v')[0]}:setId")
    text = BODIES[type_code] + (
        "\n\nAnnule et remplace la version précédente (correction)." if previous else ""
    )
    pdf = letter.pdf_a(author.cast(), lp, [], version, text, created, signer=author.signer(), kind=(type_code, type_label))  # fmt: skip
    cda = letter.cda_n1(author.cast(), pdf, lp, [], doc_uid, set_id, version, created,
                        previous.unique_id if previous else None, signer=author.signer(),
                        kind=(type_code, type_label))  # fmt: skip
    patient_id = f"{lp.ins}^^^&{ins_oid}&ISO^NH"
    info = (f"PID-5|{patient.nom}^{patient.prenoms[0]}^^^^^L", f"PID-7|{patient.date_naissance.replace('-', '')}",
            f"PID-8|{patient.sexe}")  # fmt: skip
    confidentiality = (
        NORMAL,
        *([MASKED] if spec.masked else []),
        *([HIDDEN] if spec.invisible_patient else []),
    )
    stamp = _stamp(created)
    submitted = created + timedelta(minutes=20)
    doc_fields = ebrim.EntryFields(ids.uuid(f"{name}:doc"), doc_uid, type_label, M.Code(type_code, LOINC, type_label),
                                   M.Code(class_code, TRE_A03, class_label), PDF_FORMAT, author.hcf,
                                   author.practice, confidentiality, (), stamp, stamp, stamp, "fr-FR")  # fmt: skip
    # the lot's signature entry as the official example (research dmp.md §2.4): hidden from everyone
    sig_fields = ebrim.EntryFields(ids.uuid(f"{name}:sig"), sig_uid, "Source",
                                   M.Code("E1762", "ASTM", "Full Document"),
                                   M.Code(M.SIGNATURE_CLASS, "URN", "Digital Signature"),
                                   M.Code("http://www.w3.org/2000/09/xmldsig#", "URN", "Default Signature Style"),
                                   author.hcf, author.practice, (NORMAL, MASKED, HIDDEN),
                                   (M.Code("1.2.840.10065.1.12.1.14", "1.2.840.10065.1.12", "Source"),),
                                   _stamp(submitted), _stamp(submitted), _stamp(submitted), "art")  # fmt: skip
    slots = author.slots()
    entry = M.read_entry(ebrim.entry(doc_fields, slots, patient_id, patient_id, info))
    sig_entry_xml = ebrim.entry(sig_fields, slots, patient_id, patient_id, ())
    set_uuid = ids.uuid(f"{name}:set")
    package = M.read_package(ebrim.package(set_uuid, set_uid, _stamp(submitted), slots, patient_id, type_label,
                                           CONTENT_TYPE, SOURCE_ID))  # fmt: skip
    credentials = sandbox.pki.credentials(author.professional.id_nat, "cps_sign")
    signature = sign_xades(credentials, {doc_uid: cda}, set_uid, signing_time=submitted).xml
    verdict = verify_xades(sandbox.pki, signature, {doc_uid: cda}, tenant, submission_set=set_uid)
    caller = {"via": "seed", "idnat_ps": author.professional.id_nat, "structure": author.structure.id_nat,
              "mode": "DIRECTE"}  # fmt: skip
    common: dict[str, Any] = {"submission_set": set_uuid, "submitted_at": submitted.isoformat(),
                              "caller": caller, "xades": D.xades_record(verdict)}  # fmt: skip
    context = Context(tenant=tenant, service="dmp", ins_qualified=True, name=f"{type_label}.xml",
                      xds={"typeCode": type_code, "formatCode": PDF_FORMAT.code, "uniqueId": doc_uid,
                           "creationTime": stamp, "patientId": patient_id, "languageCode": "fr-FR",
                           "confidentialityCode": "N", "healthcareFacilityTypeCode": author.hcf.code,
                           "practiceSettingCode": author.practice.code, "hash": hashlib.sha1(cda).hexdigest(),
                           "size": len(cda)})  # fmt: skip
    report = sandbox.cda.submit(cda, context)
    document = _document(entry, lp.ins, ins_oid, cda, **common, cda_report_id=str(report.id or ""),
                         cda_findings=[f.as_dict() for f in report.findings],
                         replaces=previous.unique_id if previous else "")  # fmt: skip
    sig_entry = M.read_entry(sig_entry_xml)
    sig_doc = _document(sig_entry, lp.ins, ins_oid, signature, **common, kind="signature")
    ss = D.SubmissionSet(set_uuid, set_uid, lp.ins, patient_id, SOURCE_ID, _stamp(submitted),
                         package.xml.decode(), authors=package.authors,
                         content_type_code=package.classifications[M.SS_CONTENT_TYPE][0], title=package.name,
                         submitted_at=submitted.isoformat(), caller=caller)  # fmt: skip
    links = [
        D.Association(ids.uuid(f"{name}:a1"), M.HAS_MEMBER, set_uuid, document.entry_uuid, set_uuid,
                      {"SubmissionSetStatus": ["Original"]}),
        D.Association(ids.uuid(f"{name}:a2"), M.HAS_MEMBER, set_uuid, sig_doc.entry_uuid, set_uuid,
                      {"SubmissionSetStatus": ["Original"]}),
        D.Association(ids.uuid(f"{name}:a3"), M.SIGNS, sig_doc.entry_uuid, set_uuid, set_uuid),
    ]  # fmt: skip
    if previous:
        links.append(D.Association(ids.uuid(f"{name}:a4"), M.RPLC[0], document.entry_uuid, previous.entry_uuid, set_uuid))  # fmt: skip
    sub = D.Submission(ss, (document, sig_doc), {doc_uid: cda, sig_uid: signature}, tuple(links),
                       deprecate=(previous.entry_uuid,) if previous else ())  # fmt: skip
    return Made(sub, cda, "Archived" if spec.archived else "Approved", context)


_LOCK = threading.Lock()
log = logging.getLogger(__name__)


def marker(sandbox: Sandbox) -> str:
    """The uniqueId of the first seeded submission set: present = the tenant is seeded."""
    return _Ids(_key(sandbox)).oid("p0:d0:v1:set")


def unique_ids(sandbox: Sandbox) -> frozenset[str]:
    """Every uniqueId the seed can make (documents and their lot's XAdES), without making them."""
    ids = _Ids(_key(sandbox))
    return frozenset(
        ids.oid(f"p{p}:d{d}:v{v}:{part}")
        for p, specs in enumerate(SPECS[:PATIENTS])
        for d, spec in enumerate(specs)
        for v in ((1, 2) if spec.replaced else (1,))
        for part in ("doc", "sig")
    )


_SEEDED: weakref.WeakKeyDictionary[Sandbox, frozenset[str]] = weakref.WeakKeyDictionary()


def seeded_ins(sandbox: Sandbox) -> frozenset[str]:
    """The INS (matricule + clé) of the patients with seeded documents (the plan, once per sandbox)."""
    if sandbox not in _SEEDED:
        _SEEDED[sandbox] = frozenset(p.patient.matricule + p.patient.cle for p in plan(sandbox))
    return _SEEDED[sandbox]


def ensure_for(sandbox: Sandbox, tenant: str, ins: str) -> int:
    """`ensure`, when `ins` is one of the seeded patients: an LGC's call about such a patient sees
    the documents fed before it; calls about any other patient never pay for the seeding."""
    if not sandbox.config.get("dmp_seed_documents", True) or ins not in seeded_ins(sandbox):
        return 0
    try:
        return ensure(sandbox, tenant)
    except letter.NoFont as exc:  # the LGC's call goes on without them; the control routes say why
        log.warning("DMP seeded documents not made: %s", exc)
        return 0


def ensure(sandbox: Sandbox, tenant: str) -> int:
    """Make the tenant's seeded documents unless it has them; the number made (0: already there,
    or the `dmp_seed_documents` setting is off)."""
    if not sandbox.config.get("dmp_seed_documents", True):
        return 0
    docs = D.Documents(sandbox.store)
    if docs.submission_set(tenant, unique_id=marker(sandbox)) is not None:
        return 0
    with _LOCK:
        if docs.submission_set(tenant, unique_id=marker(sandbox)) is not None:
            return 0
        return _make(sandbox, tenant, docs)


def build(sandbox: Sandbox, tenant: str) -> list[Made]:
    """Every seeded lot, in feeding order, not stored (PDFs and signatures: seconds)."""
    ids, lots = _Ids(_key(sandbox)), []
    for p, who in enumerate(plan(sandbox)):
        for d, spec in enumerate(who.specs):
            name = f"p{p}:d{d}"
            first = _lot(sandbox, tenant, ids, who, spec, f"{name}:v1", 1, None)
            lots.append(first)
            if spec.replaced:
                lots.append(_lot(sandbox, tenant, ids, who, spec, f"{name}:v2", 2, first.document))
    return lots


def _make(sandbox: Sandbox, tenant: str, docs: D.Documents) -> int:
    lots = build(sandbox, tenant)
    try:
        with sandbox.store.tx():  # all or nothing: the marker is never there alone
            for lot in lots:
                docs.insert_submission(tenant, lot.submission)
                if lot.status != "Approved":
                    docs.set_status(tenant, lot.document.entry_uuid, lot.status)
    except D.DocumentError:  # another process seeded this tenant meanwhile
        return 0
    return len(lots)
