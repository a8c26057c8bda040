"""Writing METADATA.XML: our own, from the CDA headers (the reader and the IHE XDS scheme UUIDs are
in mssante.metadata).

    xml = build([Document(uri, data, header)], submission_time=..., source_id=..., unique_id=...)

IHE XDS (ITI TF-3 §4.2) with the CI-SIS values the ANS stylesheet CDAHeaderToXDM.xsl derives
from the header (typeCode, title, creationTime, languageCode, confidentialityCode,
healthcareFacilityTypeCode, practiceSettingCode, serviceStart/StopTime, sourcePatientInfo
PID-5/7/8, authorPerson, authorInstitution, authorSpecialty, formatCode, uniqueId), plus what the
stylesheet leaves as placeholders: hash (SHA-1), size, URI, submissionTime, sourceId, patientId in
CX form `ins^^^&oid&ISO^NH`, and the XDM `intendedRecipient` of the submission set. Times are
written in UTC (XDS DTM). Element order follows the ebRIM 3.0 schema (Slot, Name, Classification,
ExternalIdentifier): the output validates against lcm.xsd (tests/mssante/test_inject.py).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from xml.sax.saxutils import quoteattr

from mssante.cda_header import Header
from mssante.metadata import CLASSES, DOC, LCM, N1_FORMATS, N3_FORMATS, RIM, SS, STABLE, SUBMISSION_SET_NODE


@dataclass(frozen=True)
class Document:
    """A CDA to describe: its bytes, its file name in the subset, its header."""

    uri: str
    data: bytes
    header: Header
    confidentiality: tuple[tuple[str, str, str], ...] = ()  # extra codes: (code, scheme, name)


def _dtm(ts: str) -> str:
    """HL7 TS (local time with offset) -> XDS DTM in UTC (IHE ITI TF-3 4.2.3.1.7)."""
    match = re.match(r"^(\d{4,14})(?:\.\d+)?([+-]\d{4})?$", ts.strip())
    if not match:
        return ts
    digits, zone = match.groups()
    if not zone or len(digits) < 10:
        return digits
    moment = datetime.strptime(digits.ljust(14, "0"), "%Y%m%d%H%M%S")
    sign = 1 if zone[0] == "+" else -1
    moment -= sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[3:5]))
    return moment.strftime("%Y%m%d%H%M%S")[: len(digits)]


def _slot(name: str, *values: str) -> str:
    vals = "".join(f"<Value>{_esc(v)}</Value>" for v in values)
    return f'<Slot name="{name}"><ValueList>{vals}</ValueList></Slot>'


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _name(value: str) -> str:
    return f'<Name><LocalizedString xml:lang="FR" charset="UTF8" value={quoteattr(value)}/></Name>'


def _coded(cid: str, scheme: str, obj: str, code: str, system: str, display: str) -> str:
    return (
        f'<Classification id="{cid}" classificationScheme="{scheme}" classifiedObject="{obj}" '
        f"nodeRepresentation={quoteattr(code)}>{_slot('codingScheme', system)}{_name(display)}</Classification>"
    )


def _ident(eid: str, scheme: str, obj: str, value: str, label: str) -> str:
    return (
        f'<ExternalIdentifier id="{eid}" registryObject="{obj}" identificationScheme="{scheme}" '
        f"value={quoteattr(value)}>{_name(label)}</ExternalIdentifier>"
    )


def author_person(h: Header) -> str:
    a = h.author
    return f"{a.id}^{a.family}^{a.given}^^^^^^&{a.root or '1.2.250.1.71.4.2.1'}&ISO^D^^^IDNPS"


def author_institution(h: Header) -> str:
    a = h.author
    return f"{a.org_name}^^^^^&{a.org_root or '1.2.250.1.71.4.2.2'}&ISO^IDNST^^^{a.org_id}"


def patient_cx(h: Header) -> str:
    return f"{h.ins}^^^&{h.ins_root}&ISO^NH" if h.ins else ""


def format_code(h: Header) -> tuple[str, str, str]:
    if h.level == "N1":
        label = (
            "Document à corps non structuré en Pdf/A-1"
            if h.media_type == "application/pdf"
            else "Document à corps non structuré en texte brut"
        )
        return N1_FORMATS.get(h.media_type, ""), "1.3.6.1.4.1.19376.1.2.3", label
    for root, _ in h.template_ids:
        if root in N3_FORMATS:
            code, label = N3_FORMATS[root]
            return (
                code,
                "1.3.6.1.4.1.19376.1.2.3" if code.startswith("urn:ihe") else "1.2.250.1.213.1.1.4.2.282",
                label,
            )
    return "urn:asipSante:modelesHorsProfils:2011", "1.2.250.1.213.1.1.4.2.282", "Modèle hors profils"


def _author(cid: str, scheme: str, obj: str, h: Header) -> str:
    a = h.author
    spec = f"{a.code.code}^{a.code.display}^{a.code.system}" if a.code.code else ""
    slots = _slot("authorPerson", author_person(h)) + _slot("authorInstitution", author_institution(h))
    if spec:
        slots += _slot("authorSpecialty", spec)
    return f'<Classification id="{cid}" classificationScheme="{scheme}" classifiedObject="{obj}" nodeRepresentation="">{slots}</Classification>'


def _extrinsic(n: int, doc: Document) -> str:
    h, obj = doc.header, f"Document{n:02d}"
    pid = patient_cx(h)
    fmt = format_code(h)
    klass = CLASSES.get(h.code.code, ("10", "Compte rendu"))
    parts = [
        f'<ExtrinsicObject id="{obj}" mimeType="text/xml" objectType="{STABLE}">',
        _slot("creationTime", _dtm(h.effective_time)),
        _slot("hash", hashlib.sha1(doc.data).hexdigest()),
        _slot("languageCode", h.language),
    ]
    if h.legal.id:
        legal = h.legal
        parts.append(
            _slot(
                "legalAuthenticator",
                f"{legal.id}^{legal.family}^{legal.given}^^^^^^&{legal.root}&ISO^D^^^IDNPS",
            )
        )
    if h.service_start:
        parts.append(_slot("serviceStartTime", _dtm(h.service_start)))
    if h.service_stop:
        parts.append(_slot("serviceStopTime", _dtm(h.service_stop)))
    parts += [
        _slot("size", str(len(doc.data))),
        _slot("sourcePatientId", pid),
        _slot(
            "sourcePatientInfo",
            f"PID-5|{h.family}^{h.given}^^^^^L",
            f"PID-7|{h.birth_time[:8]}",
            f"PID-8|{h.sex}",
        ),
        _slot("URI", doc.uri),
        _name(h.title),
        _author(f"{obj}_a", DOC["author"], obj, h),
        _coded(f"{obj}_c1", DOC["classCode"], obj, klass[0], "1.2.250.1.213.1.1.4.1", klass[1]),
        _coded(
            f"{obj}_c2",
            DOC["confidentialityCode"],
            obj,
            h.confidentiality.code,
            h.confidentiality.system,
            h.confidentiality.display,
        ),
    ]
    for i, (code, scheme, name) in enumerate(doc.confidentiality, start=3):
        parts.append(_coded(f"{obj}_c{i}", DOC["confidentialityCode"], obj, code, scheme, name))
    if h.service_code.code:
        parts.append(
            _coded(
                f"{obj}_ev",
                DOC["eventCodeList"],
                obj,
                h.service_code.code,
                h.service_code.system,
                h.service_code.display,
            )
        )
    parts += [
        _coded(f"{obj}_f", DOC["formatCode"], obj, *fmt),
        _coded(
            f"{obj}_hf",
            DOC["healthcareFacilityTypeCode"],
            obj,
            h.facility.code,
            h.facility.system,
            h.facility.display,
        ),
        _coded(
            f"{obj}_ps",
            DOC["practiceSettingCode"],
            obj,
            h.practice.code,
            h.practice.system,
            h.practice.display,
        ),
        _coded(f"{obj}_t", DOC["typeCode"], obj, h.code.code, h.code.system, h.code.display),
        _ident(f"{obj}_pid", DOC["patientId"], obj, pid, "XDSDocumentEntry.patientId"),
        _ident(f"{obj}_uid", DOC["uniqueId"], obj, h.unique_id, "XDSDocumentEntry.uniqueId"),
        "</ExtrinsicObject>",
    ]
    return "".join(parts)


def build(
    documents: Sequence[Document],
    *,
    submission_time: str,
    source_id: str,
    unique_id: str,
    recipients: Sequence[str] = (),
    content_type: tuple[str, str] = ("04", "Hospitalisation de jour"),
) -> bytes:
    """METADATA.XML for `documents` (one submission set, one DocumentEntry each). `recipients`
    are e-mail addresses (the XDM intendedRecipient, XTN `|^^Internet^address`)."""
    assert documents, "a submission set describes at least one document"
    first = documents[0].header
    ss = "SubmissionSet01"
    package = [
        f'<RegistryPackage id="{ss}">',
        _slot("submissionTime", submission_time),
    ]
    if recipients:
        package.append(_slot("intendedRecipient", *[f"|^^Internet^{r}" for r in recipients]))
    package += [
        _name(first.title if len(documents) == 1 else f"{len(documents)} documents"),
        _author(f"{ss}_a", SS["author"], ss, first),
        _coded(f"{ss}_ct", SS["contentTypeCode"], ss, content_type[0], "1.2.250.1.213.2.2", content_type[1]),
        _ident(f"{ss}_pid", SS["patientId"], ss, patient_cx(first), "XDSSubmissionSet.patientId"),
        _ident(f"{ss}_src", SS["sourceId"], ss, source_id, "XDSSubmissionSet.sourceId"),
        _ident(f"{ss}_uid", SS["uniqueId"], ss, unique_id, "XDSSubmissionSet.uniqueId"),
        "</RegistryPackage>",
        f'<Classification id="{ss}_node" classifiedObject="{ss}" classificationNode="{SUBMISSION_SET_NODE}"/>',
    ]
    body = "".join(package) + "".join(_extrinsic(n, d) for n, d in enumerate(documents, start=1))
    body += "".join(
        f'<Association id="as{n:02d}" associationType="urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember" '
        f'sourceObject="{ss}" targetObject="Document{n:02d}">{_slot("SubmissionSetStatus", "Original")}</Association>'
        for n in range(1, len(documents) + 1)
    )
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<lcm:SubmitObjectsRequest xmlns:lcm="{LCM}" xmlns="{RIM}"><RegistryObjectList>{body}'
        "</RegistryObjectList></lcm:SubmitObjectsRequest>\n"
    )
    return xml.encode("utf-8")
