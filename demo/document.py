"""Step 4: the letter as a CDA R2 N1 (built by mocks/cda/letter.py, shared with the DMP seeds) — a PDF/A-1b made here (fpdf2, `enforce_compliance`: XMP
`pdfaid`, sRGB output intent, embedded font, PDF 1.4, no transparency) carrying the patient's INS
DataMatrix (ANS « INS — Format datamatrix » v2.2: `IS` `01` + 22 zeros, then S1 matricule INS,
S2 OID, S3 birth first names, S4 birth name, S5 sex, S6 birth date JJ-MM-AAAA, S7 birthplace,
`<GS>` after a variable field shorter than its maximum; research insi.md §2.8), encoded with
zxing-cpp (zint) and decoded back from the page image to check it; then the CDA header per the
Structuration minimale (research cda-segur.md §A.1: three templateIds, INS traits BR/CL, author,
custodian, legalAuthenticator, documentationOf with the practice setting, encompassingEncounter
with the healthcare facility type, informationRecipient for each recipient — DOC.05) and the PDF
in `nonXMLBody` (B64). The document is validated by the sandbox's CDA engine (docs/cda.md) before
anything is sent.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import UTC, datetime

import zxingcpp
from PIL import Image

from demo.identity import Patient
from demo.run import Failed, Run, Skip
from mocks.cda import letter
from mocks.cda.letter import DOCUMENT_INS_OID as DOCUMENT_INS_OID
from mocks.cda.letter import GS, TYPE, datamatrix_payload, datamatrix_png, oid


@dataclass
class Letter:
    """One document as the LGC keeps it: the CDA bytes, its PDF, its identifiers."""

    cda: bytes
    pdf: bytes
    unique_id: str
    set_id: str
    version: int
    patient: Patient
    created: datetime
    recipients: list[tuple[str, str, str]] = field(default_factory=list)  # (idNat, name, mailbox)
    replaces: str | None = None  # uniqueId of the previous version (RPLC)

    @property
    def title(self) -> str:
        return TYPE[1]


def font() -> str:
    try:
        return letter.font()
    except letter.NoFont as exc:
        raise Skip(str(exc)) from None


def make_letter(
    run: Run,
    patient: Patient,
    recipients: list[tuple[str, str, str]],
    *,
    previous: Letter | None = None,
    body: str | None = None,
) -> Letter:
    version = previous.version + 1 if previous else 1
    text = body or (
        "Chère Consœur, cher Confrère,\n\nJe vous adresse ma patiente pour avis. Antécédents : néant. "
        "Traitement en cours : aucun.\n\nBien confraternellement,\nDr Camille LEMAIRE"
    )
    if previous:
        text = "Annule et remplace la version précédente.\n\n" + text
    font()  # no TrueType font: the step is skipped, saying why
    pdf = letter.pdf_a(run.cast, patient, recipients, version, text, datetime.now(UTC))
    unique_id, set_id = oid(), previous.set_id if previous else oid()
    created = datetime.now(UTC).replace(microsecond=0)
    cda = letter.cda_n1(
        run.cast,
        pdf,
        patient,
        recipients,
        unique_id,
        set_id,
        version,
        created,
        previous.unique_id if previous else None,
    )
    return Letter(
        cda,
        pdf,
        unique_id,
        set_id,
        version,
        patient,
        created,
        recipients,
        previous.unique_id if previous else None,
    )


def read_datamatrix(png: bytes) -> str:
    """Decode the DataMatrix image (what a scanner of the printed page reads)."""
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    if not found:
        raise Failed("le DataMatrix ne se lit pas")
    return bytes(found[0].bytes).decode("latin-1")


def step_document(run: Run) -> None:
    """Produire la lettre : PDF/A-1 avec DataMatrix INS, CDA R2 N1 (structuration minimale)

    research cda-segur.md §A.1 (StrucMin), §B.2 DOC.01–DOC.05; insi.md §2.8 (DataMatrix INS);
    docs/cda.md: validée par POST /_sandbox/cda/validate avant tout envoi.
    """
    patient = run.patient
    if run.preset == "ins-non-qualifie":
        from demo.identity import unqualified_patient

        patient = unqualified_patient(run)
        run.say(
            f"--fail ins-non-qualifie : document pour {patient.nom} {patient.prenoms}, INS jamais qualifié par l'INSi"
        )
    recipients = [run.recipient] if run.has("recipient") else []
    letter = make_letter(run, patient, recipients)
    read = read_datamatrix(datamatrix_png(datamatrix_payload(patient)))
    if read != datamatrix_payload(patient):
        raise Failed(f"DataMatrix relu différent : {read!r}")
    run.say(f"PDF/A-1b : {len(letter.pdf)} octets, DataMatrix INS relu : {read[:30].replace(GS, '<GS>')}…")
    run.say(f"CDA N1 : {len(letter.cda)} octets, uniqueId {letter.unique_id[:24]}…, type {TYPE[0]}")
    (run.workdir / "lettre.pdf").write_bytes(letter.pdf)
    (run.workdir / "lettre.xml").write_bytes(letter.cda)
    report = validate(run, letter.cda, "lettre.xml")
    run.keep(letter=letter, letter_patient=patient)
    if report is not None:
        run.keep(cda_report=report)


def validate(run: Run, cda: bytes, name: str) -> dict[str, object] | None:
    """The CDA engine's verdict (XSD, StrucMin, our rules); None when the engine is absent."""
    answer = run.sandbox.control.post(
        "/cda/validate",
        params={"tenant": run.sandbox.tenant, "name": name, "wait": 90},
        content=cda,
        headers={"Content-Type": "application/xml"},
        timeout=120,
    )
    if answer.status_code == 404:
        run.say("moteur CDA absent de ce bac à sable : validation non faite")
        return None
    if answer.status_code not in (200, 202):
        raise Failed(f"validation CDA : HTTP {answer.status_code} {answer.text[:200]}")
    report = answer.json()
    counts = report.get("counts", {})
    run.say(f"moteur CDA : profils {', '.join(report.get('profiles', []))} ; constats {counts}")
    errors = [f for f in report.get("findings", []) if f.get("severity") in ("error", "fatal")]
    for f in errors[:8]:
        run.say(f"  ✗ [{f.get('profile')} {f.get('rule') or f.get('pattern')}] {str(f.get('message'))[:150]}")
    rules = {str(f.get("rule")) for f in errors}
    if run.preset == "ins-non-qualifie":
        if "CDA-INS-NOT-QUALIFIED" in rules:
            run.expect("constat CDA-INS-NOT-QUALIFIED : l'INS du document n'a jamais été qualifié par l'INSi")
            return report
        raise Failed("le constat CDA-INS-NOT-QUALIFIED était attendu")
    if errors:
        raise Failed(f"{len(errors)} erreur(s) de conformité : le document ne part pas")
    return report
