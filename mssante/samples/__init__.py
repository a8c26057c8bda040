"""Documents the sandbox generates for its personas, to test an LGC's reception (MSS.23–25,
BIO.*): templates of our own, shaped like the ANS examples (the examples themselves stay in
../shared/specs, for the tests).

    doc = generate("crbio", patient=..., author=Actor.of(pro, structure), recipients=[...],
                   now=..., ins_family="test", variant="ok")
    doc.cda, doc.pdf, doc.header (mssante.cda_header.Header), doc.pdf_name

Kinds (`KINDS`): `crbio` CR-BIO 2024.01 N3 (11502-2, glycémie à jeun and cholestérol LDL), `ldl`
a lettre de liaison à la sortie as an N1 with its PDF (11490-0), `vsm` a VSM 1.4 N3 (SYNTH).
Variants (`VARIANTS`): `ok`; `sans-ins` (the patient without INS: IPP only); `traits-differents`
(the birth name spelled otherwise than INSi's); `nouvelle-version` (the caller gives `replaces`,
`set_id` and `version`: relatedDocument RPLC).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from mocks.population.model import Patient
from mssante import cda_header
from mssante.samples import bodies
from mssante.samples.cda import Actor, Header, Recipient, ts
from mssante.samples.pdf import pdf as make_pdf

KINDS = {
    "crbio": "Compte rendu d'examens biologiques (CR-BIO, N3)",
    "ldl": "Lettre de liaison à la sortie (N1 + PDF)",
    "vsm": "Volet de synthèse médicale (VSM, N3)",
}
VARIANTS = {
    "ok": "conforme, INS qualifié",
    "sans-ins": "sans INS (IPP seul) : rapprochement par les traits",
    "traits-differents": "nom de naissance écrit autrement qu'à l'INSi",
    "nouvelle-version": "nouvelle version du dernier document injecté (RPLC)",
}
RESULTS = [
    bodies.Result("40193-5", "Glucose à jeun [Moles/Volume] Sérum/Plasma ; Numérique", "Glycémie à jeun", "5.2", "mmol/L", "3.89", "6.00"),
    bodies.Result("13457-7", "Cholestérol LDL [Masse/Volume] Sérum/Plasma ; Numérique ; Calcul", "Cholestérol LDL", "1.62", "g/L", "0.50", "1.60", "H"),
]  # fmt: skip


@dataclass(frozen=True)
class Generated:
    kind: str
    cda: bytes
    pdf: bytes
    header: cda_header.Header
    pdf_name: str


def _lines(kind: str, patient: Patient, author: Actor, now: datetime) -> list[str]:
    who = f"{patient.nom} {' '.join(patient.prenoms)}, né(e) le {patient.date_naissance[8:10]}/{patient.date_naissance[5:7]}/{patient.date_naissance[:4]}"
    head = [f"Patient : {who}", f"INS : {patient.ins}", f"Auteur : {author.suffix} {author.given} {author.family}, {author.org_name}",
            f"Date : {now.strftime('%d/%m/%Y %H:%M')}", ""]  # fmt: skip
    if kind == "crbio":
        return head + [f"{r.shown} : {r.value} {r.unit} (référence {r.low} - {r.high})" for r in RESULTS]
    if kind == "ldl":
        return head + ["Motif d'hospitalisation : douleur thoracique.", "Traitement de sortie : aspirine 75 mg/j.",
                       "Suivi : consultation de cardiologie à un mois."]  # fmt: skip
    return head + ["Hypertension artérielle.", "Allergie : pénicilline.", "Traitement : amlodipine 5 mg/j."]


def generate(
    kind: str,
    *,
    patient: Patient,
    author: Actor,
    recipients: list[Recipient],
    now: datetime,
    ins_family: str = "test",
    variant: str = "ok",
    replaces: str = "",
    set_id: str = "",
    version: int = 1,
) -> Generated:
    if kind not in KINDS:
        raise ValueError(f"modèle inconnu {kind!r} : {', '.join(KINDS)}")
    if variant not in VARIANTS:
        raise ValueError(f"variante inconnue {variant!r} : {', '.join(VARIANTS)}")
    titles = {"crbio": ("11502-2", "CR d'examens biologiques", "Compte rendu d'examens biologiques"),
              "ldl": ("11490-0", "Lettre de liaison à la sortie d'un établissement de soins", "Lettre de liaison à la sortie"),
              "vsm": ("SYNTH", "Synthèse", "Synthèse médicale")}  # fmt: skip
    code, display, title = titles[kind]
    system = "1.2.250.1.213.1.1.4.12" if kind == "vsm" else "2.16.840.1.113883.6.1"
    header = Header(patient, author, ins_family, (code, display, system), title, now, recipients=recipients)
    header.with_ins = variant != "sans-ins"
    if variant == "traits-differents":
        header.family_override = patient.nom + ("E" if not patient.nom.endswith("E") else "S")
    if replaces:
        header.replaces, header.version = replaces, version
        header.set_id = set_id or header.set_id
    pdf = make_pdf(title, _lines(kind, patient, author, now), created=now)
    if kind == "crbio":
        header.templates = [("1.3.6.1.4.1.19376.1.3.3", ""), ("1.2.250.1.213.1.1.1.55", "2024.01")]
        header.service_code = ("18719-5", "Biochimie", "2.16.840.1.113883.6.1")
        header.lab_event = True
        text = header.write(lab_ns=True) + bodies.crbio(RESULTS, pdf, ts(now))
    elif kind == "ldl":
        header.templates = [("1.3.6.1.4.1.19376.1.2.20", "")]
        text = header.write() + bodies.n1(pdf)
    else:
        header.templates = [("1.2.250.1.213.1.1.1.13", "201310")]
        header.service_code = ("34117-2", "Historique et clinique", "2.16.840.1.113883.6.1")
        header.extra_participants = _pcp(header)
        text = header.write() + bodies.vsm(
            ["Hypertension artérielle essentielle (depuis 2015)", "Allergie à la pénicilline"],
            ["Surveillance de la kaliémie"],
            ["Amlodipine 5 mg, un comprimé par jour"],
        )
    data = text.encode("utf-8")
    name = fold_name(f"{now.strftime('%Y%m%d')}_{title}_{patient.nom}") + ".pdf"
    return Generated(kind, data, pdf, cda_header.read(data), name)


def fold_name(text: str) -> str:
    """An ASCII file name, as the ANS example names its PDF (20220531_CR_d_imagerie_medicale_...)."""
    import re
    import unicodedata

    plain = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return re.sub(r"[^A-Za-z0-9_-]+", "_", plain).strip("_")


def _pcp(header: Header) -> str:
    """VSM: the médecin traitant participant the volet requires (functionCode PCP)."""
    a = header.author
    from mssante.samples.cda import IDNPS, IDNST, addr, t

    return (
        '<participant typeCode="INF"><functionCode code="PCP" displayName="Médecin Traitant" codeSystem="2.16.840.1.113883.5.88"/>'
        f'<time><low value="{ts(header.now)}"/></time><associatedEntity classCode="PROV"><id root="{IDNPS}" extension="{a.id_nat}"/>'
        f"{addr(a)}"
        f'<telecom value="tel:{a.phone}" use="WP"/><associatedPerson><name><prefix>{t(a.prefix)}</prefix><given>{t(a.given)}</given>'
        f'<family>{t(a.family)}</family></name></associatedPerson><scopingOrganization><id root="{IDNST}" extension="{a.org_id}"/>'
        f"<name>{t(a.org_name)}</name></scopingOrganization></associatedEntity></participant>"
    )  # fmt: skip


__all__ = ["KINDS", "VARIANTS", "Actor", "Generated", "Recipient", "generate"]
