"""A CDA R2 N1 letter with its PDF/A-1b, shared by the reference client (demo/document.py) and the
DMP's seeded documents (dmp/seed.py): a PDF/A-1b made with fpdf2 (`enforce_compliance`) carrying
the patient's INS DataMatrix (ANS « INS — Format datamatrix » v2.2, research insi.md §2.8), and
the CDA header per the Structuration minimale (research cda-segur.md §A.1) with the PDF in
`nonXMLBody` (B64). The author is anything with the demo cast's fields (`Author`), the patient
anything with a qualified identity's fields (`LetterPatient`). The author's name, organisation,
document type and practice setting default to the demo cast's; the seed gives the population's.
The PDF's dates are `when`, so that the same inputs give the same bytes (the seed is
deterministic).
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

import zxingcpp
from lxml import etree
from PIL import Image


class NoFont(RuntimeError):
    """No TrueType font for the PDF/A (install fonts-dejavu-core or set SEGUR_DEMO_FONT)."""


class Author(Protocol):
    @property
    def professional(self) -> str: ...  # idNat_PS

    @property
    def structure(self) -> str: ...  # idNat_Struct

    @property
    def secteur(self) -> str: ...

    @property
    def specialty(self) -> str: ...

    @property
    def profession(self) -> str: ...


@dataclass(frozen=True)
class Signer:
    """Who the letter shows as author and where it was written (default: the demo cast's)."""

    given: str = "Camille"
    family: str = "LEMAIRE"
    civilite: str = "MME"  # JDV_J245 prefix
    organisation: str = "CENTRE DE SANTE DES LILAS"
    specialty_label: str = "Médecin - Médecine Générale (SM)"
    facility_label: str = "Centre de santé"
    practice_setting: tuple[str, str] = ("AMBULATOIRE", "Ambulatoire")


DEMO_SIGNER = Signer()


class LetterPatient(Protocol):
    @property
    def matricule(self) -> str: ...

    @property
    def cle(self) -> str: ...

    @property
    def nom(self) -> str: ...

    @property
    def prenoms(self) -> str: ...

    @property
    def sexe(self) -> str: ...

    @property
    def naissance(self) -> str: ...

    @property
    def lieu(self) -> str: ...

    @property
    def ins(self) -> str: ...

    @property
    def first_name(self) -> str: ...


HL7 = "urn:hl7-org:v3"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
GS = "\x1d"
# the DMP test platforms and the CDA engine's default family use INS-NIR de test (.10) in
# documents, while INSi's test platform answers the production OID (docs/personas.md "OID")
DOCUMENT_INS_OID = "1.2.250.1.213.1.4.10"
TYPE = ("11490-0", "Lettre de liaison à la sortie d'un établissement de soins")
FONTS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/usr/share/fonts/liberation/LiberationSans-Regular.ttf",
    "/Library/Fonts/Arial.ttf",
    "C:/Windows/Fonts/arial.ttf",
)


def oid() -> str:
    """A fresh OID for a document, its set or a submission (2.25 + a UUID, ITU-T X.667)."""
    return f"2.25.{uuid.uuid4().int}"


def datamatrix_payload(p: LetterPatient, oid_: str = DOCUMENT_INS_OID) -> str:
    """The INS DataMatrix payload: fixed header, then S1..S7 (GS after a short variable field)."""
    day = f"{p.naissance[8:10]}-{p.naissance[5:7]}-{p.naissance[0:4]}"
    fields = [
        f"S1{p.ins}",
        f"S2{oid_}" + (GS if len(oid_) < 20 else ""),
        f"S3{p.prenoms}" + GS,
        f"S4{p.nom}" + GS,
        f"S5{p.sexe}",
        f"S6{day}",
    ]
    if p.lieu:
        fields.append(f"S7{p.lieu}")
    return "IS01" + "0" * 22 + "".join(fields)


def datamatrix_png(payload: str) -> bytes:
    symbol = zxingcpp.create_barcode(payload, zxingcpp.BarcodeFormat.DataMatrix)
    image = Image.fromarray(zxingcpp.write_barcode_to_image(symbol, scale=6)).convert("RGB")
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def font() -> str:
    for path in (os.environ.get("SEGUR_DEMO_FONT", ""), *FONTS):
        if path and Path(path).is_file():
            return path
    raise NoFont(
        "aucune police TrueType trouvée pour le PDF/A (installez fonts-dejavu-core ou définissez SEGUR_DEMO_FONT)"
    )


def pdf_a(
    author: Author,
    patient: LetterPatient,
    recipients: list[tuple[str, str, str]],
    version: int,
    body: str,
    when: datetime,
    *,
    signer: Signer = DEMO_SIGNER,
    kind: tuple[str, str] = TYPE,
) -> bytes:
    """The letter as PDF/A-1b, the INS DataMatrix next to the patient's identity."""
    from fpdf import FPDF  # here: ~1 s of import that `segur-sandbox up` (which builds the demo CLI) skips

    pdf = FPDF(enforce_compliance="PDFA_1B")
    pdf.set_creation_date(when)  # not "now": same inputs, same bytes (and the /ID below)
    inputs = f"{author.professional}|{patient.ins}|{version}|{body}|{when.isoformat()}|{kind}|{signer}"
    digest = hashlib.md5(inputs.encode(), usedforsecurity=False).hexdigest().upper()
    pdf.file_id = lambda: f"<{digest}><{digest}>"  # type: ignore[method-assign]
    pdf.set_title(kind[1])
    pdf.set_author(f"Dr {author.professional}")
    pdf.set_creator("segur-sandbox demo")
    pdf.add_font("Sans", fname=font())
    pdf.add_page()
    pdf.set_font("Sans", size=15)
    pdf.cell(0, 10, kind[1], new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Sans", size=10)
    pdf.cell(
        0,
        6,
        f"{signer.organisation} — Dr {signer.given} {signer.family}, {signer.specialty_label}",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.cell(0, 6, f"Version {version} — {when:%d/%m/%Y}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    top = pdf.get_y()
    pdf.multi_cell(
        120,
        6,
        (
            f"Patient : {patient.nom} {patient.prenoms}\nNé(e) le {patient.naissance[8:10]}/{patient.naissance[5:7]}/"
            f"{patient.naissance[:4]} ({patient.sexe}), lieu de naissance {patient.lieu}\n"
            f"INS : {patient.matricule} {patient.cle} (identité qualifiée)"
        ),
    )
    png = datamatrix_png(datamatrix_payload(patient))
    pdf.image(io.BytesIO(png), x=150, y=top, w=30, h=30)
    pdf.set_xy(145, top + 31)
    pdf.set_font("Sans", size=7)
    pdf.cell(40, 4, "INS à scanner", align="C")
    pdf.set_xy(pdf.l_margin, top + 40)
    pdf.set_font("Sans", size=10)
    for idnat, name, mailbox in recipients:
        pdf.cell(0, 6, f"Destinataire : {name} ({idnat}) — {mailbox}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.multi_cell(0, 6, body)
    pdf.ln(6)
    pdf.set_font("Sans", size=8)
    pdf.multi_cell(
        0, 4, "Document de démonstration du bac à sable Ségur : personnes fictives, aucune donnée réelle."
    )
    return _xmp_dates(bytes(pdf.output()))


_XMP_DATE = re.compile(rb'(xmp:(?:CreateDate|ModifyDate|MetadataDate)=")([^"]*)(")')


def _xmp_dates(data: bytes) -> bytes:
    """fpdf2 writes the XMP ModifyDate and MetadataDate as the time of writing: make them the
    CreateDate (same length, so the xref offsets hold)."""
    found = _XMP_DATE.search(data)
    if found is None:
        return data
    created = found.group(2)
    return _XMP_DATE.sub(
        lambda m: m.group(1) + (created if len(created) == len(m.group(2)) else m.group(2)) + m.group(3), data
    )


def _el(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    el = etree.SubElement(parent, f"{{{HL7}}}{tag}", **attrs)
    el.text = text
    return el


def _person_name(parent: etree._Element, given: str, family: str, prefix: str = "MME") -> None:
    """prefix: the civilité (JDV_J245), suffix: the civilité d'exercice (DR), as the ANS examples."""
    name = _el(parent, "name")
    _el(name, "prefix", prefix)
    _el(name, "given", given)
    _el(name, "family", family)
    _el(name, "suffix", "DR")


def cda_n1(
    cast: Author,
    letter_pdf: bytes,
    patient: LetterPatient,
    recipients: list[tuple[str, str, str]],
    unique_id: str,
    set_id: str,
    version: int,
    created: datetime,
    replaces: str | None,
    *,
    signer: Signer = DEMO_SIGNER,
    kind: tuple[str, str] = TYPE,
    confidentiality: tuple[str, str] = ("N", "Normal"),
) -> bytes:
    """The CDA R2 N1 header (Structuration minimale) around the PDF."""
    when = created.strftime("%Y%m%d%H%M%S+0000")
    doc = etree.Element(f"{{{HL7}}}ClinicalDocument", nsmap={None: HL7, "xsi": XSI})
    _el(doc, "realmCode", code="FR")
    _el(doc, "typeId", root="2.16.840.1.113883.1.3", extension="POCD_HD000040")
    for root in ("2.16.840.1.113883.2.8.2.1", "1.2.250.1.213.1.1.1.1", "1.3.6.1.4.1.19376.1.2.20"):
        _el(doc, "templateId", root=root)
    _el(doc, "id", root=unique_id)
    _el(
        doc,
        "code",
        code=kind[0],
        displayName=kind[1],
        codeSystem="2.16.840.1.113883.6.1",
        codeSystemName="LOINC",
    )
    _el(doc, "title", kind[1])
    _el(doc, "effectiveTime", value=when)
    _el(
        doc,
        "confidentialityCode",
        code=confidentiality[0],
        displayName=confidentiality[1],
        codeSystem="2.16.840.1.113883.5.25",
    )
    _el(doc, "languageCode", code="fr-FR")
    _el(doc, "setId", root=set_id)
    _el(doc, "versionNumber", value=str(version))
    role = _el(_el(doc, "recordTarget"), "patientRole")
    _el(role, "id", root=DOCUMENT_INS_OID, extension=patient.ins)
    _el(role, "addr", nullFlavor="NASK")
    _el(role, "telecom", nullFlavor="NASK")
    person = _el(role, "patient", classCode="PSN")
    name = _el(person, "name")
    _el(name, "family", patient.nom, qualifier="BR")
    _el(name, "given", patient.prenoms)
    _el(name, "given", patient.first_name, qualifier="BR")
    _el(
        person,
        "administrativeGenderCode",
        code=patient.sexe,
        displayName={"F": "Féminin", "M": "Masculin"}.get(patient.sexe, "Inconnu"),
        codeSystem="2.16.840.1.113883.5.1",
    )
    _el(person, "birthTime", value=patient.naissance.replace("-", ""))
    _el(_el(_el(_el(person, "birthplace"), "place"), "addr"), "county", patient.lieu)
    author = _el(doc, "author")
    _el(author, "time", value=when)
    assigned = _el(author, "assignedAuthor")
    _el(assigned, "id", root="1.2.250.1.71.4.2.1", extension=cast.professional)
    _el(
        assigned,
        "code",
        code=f"G15_{cast.profession}/{cast.specialty}",
        displayName=signer.specialty_label,
        codeSystem="1.2.250.1.213.1.1.4.5",
    )
    _person_name(_el(assigned, "assignedPerson"), signer.given, signer.family, signer.civilite)
    org = _el(assigned, "representedOrganization")
    _el(org, "id", root="1.2.250.1.71.4.2.2", extension=cast.structure)
    _el(org, "name", signer.organisation)
    custodian = _el(_el(_el(doc, "custodian"), "assignedCustodian"), "representedCustodianOrganization")
    _el(custodian, "id", root="1.2.250.1.71.4.2.2", extension=cast.structure)
    _el(custodian, "name", signer.organisation)
    for idnat, who, _mailbox in recipients:
        recipient = _el(_el(doc, "informationRecipient"), "intendedRecipient")
        _el(recipient, "id", root="1.2.250.1.71.4.2.1", extension=idnat)
        _el(recipient, "telecom", value=f"mailto:{_mailbox}", use="WP")
        given, _, family = who.partition(" ")
        _person_name(_el(recipient, "informationRecipient"), given, family)
    legal = _el(doc, "legalAuthenticator")
    _el(legal, "time", value=when)
    _el(legal, "signatureCode", code="S")
    entity = _el(legal, "assignedEntity")
    _el(entity, "id", root="1.2.250.1.71.4.2.1", extension=cast.professional)
    _person_name(_el(entity, "assignedPerson"), signer.given, signer.family, signer.civilite)
    event = _el(_el(doc, "documentationOf"), "serviceEvent")
    _el(
        event,
        "code",
        code=kind[0],
        displayName=kind[1],
        codeSystem="2.16.840.1.113883.6.1",
        codeSystemName="LOINC",
    )
    span = _el(event, "effectiveTime")
    _el(span, "low", value=when)
    _el(span, "high", value=when)
    performer = _el(_el(event, "performer", typeCode="PRF"), "assignedEntity")
    _el(performer, "id", root="1.2.250.1.71.4.2.1", extension=cast.professional)
    porg = _el(performer, "representedOrganization")
    _el(porg, "id", root="1.2.250.1.71.4.2.2", extension=cast.structure)
    _el(porg, "name", signer.organisation)
    _el(
        porg,
        "standardIndustryClassCode",
        code=signer.practice_setting[0],
        displayName=signer.practice_setting[1],
        codeSystem="1.2.250.1.213.1.1.4.9",
        codeSystemName="practiceSettingCode",
    )
    if replaces:  # CDA order: documentationOf, relatedDocument, componentOf
        related = _el(doc, "relatedDocument", typeCode="RPLC")
        _el(_el(related, "parentDocument"), "id", root=replaces)
    encounter = _el(_el(doc, "componentOf"), "encompassingEncounter")
    _el(_el(encounter, "effectiveTime"), "low", value=when)
    facility = _el(_el(encounter, "location"), "healthCareFacility")
    _el(
        facility,
        "code",
        code=cast.secteur,
        displayName=signer.facility_label,
        codeSystem="1.2.250.1.71.4.2.4",
    )
    body = _el(_el(doc, "component"), "nonXMLBody")
    _el(
        body, "text", base64.b64encode(letter_pdf).decode(), mediaType="application/pdf", representation="B64"
    )
    return etree.tostring(doc, xml_declaration=True, encoding="UTF-8")
