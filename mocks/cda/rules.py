"""Our own rules (pipeline step 5, research/cda-segur.md §A.7 and §C.1): what the ANS schematrons
do not check, or cannot know. Pure functions of the parsed document and the context; they run in
the caller's process at submission (milliseconds), so their findings are on the journal entry at
once, even while the official verdict is queued.

- INS OID family (test .10/.11 vs production .8/.9) against the configuration: StrucMin accepts
  all four, so a production OID in a test environment passes it;
- INS without `ins.qualified` evidence in the tenant (INSi never qualified it: rule 28, INS.37);
- N1 body: mediaType, representation B64, base64, PDF magic, PDF/A-1 claim (XMP pdfaid: a claim,
  not a validation), identical to a given twin PDF (MSSanté attachment);
- informationRecipient vs the actual recipients (DOC.05);
- CDA header vs the XDS metadata the DMP received (typeCode, formatCode, practiceSetting,
  healthcareFacilityType, confidentiality, language, creation and service times, uniqueId,
  patientId, hash and size).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from lxml import etree

from mocks.cda.parse import Parsed
from mocks.cda.pdf import n1_body, pdfa_claim
from mocks.cda.report import SANDBOX, CdaFinding
from mocks.findings import Severity

HL7 = "urn:hl7-org:v3"
NS = {"h": HL7}
INS_OIDS = {
    "1.2.250.1.213.1.4.8": ("production", "INS-NIR"),
    "1.2.250.1.213.1.4.9": ("production", "INS-NIA"),
    "1.2.250.1.213.1.4.10": ("test", "INS-NIR de test"),
    "1.2.250.1.213.1.4.11": ("test", "INS-NIR de démonstration"),
}
N1_MEDIA = {"application/pdf": "urn:ihe:iti:xds-sd:pdf:2008", "text/plain": "urn:ihe:iti:xds-sd:text:2008"}
# formatCode of the N3 volets we know (JDV_J10, research/cda-segur.md §A.4)
N3_FORMATS = {
    "VSM": "urn:asip:ci-sis:vsm:2012",
    "BIO-CR-BIO": "urn:ihe:lab:xd-lab:2008",
    "IPS-FR": "urn:ihe:pcc:ips:2020",
}
TS = re.compile(r"^(\d{4,14})(?:\.\d+)?([+-]\d{4})?$")


@dataclass
class Context:
    """What the caller knows besides the document (every field optional).

    tenant       whose evidence ledger decides "INS qualified"
    service      who asks (dmp, mssante, api): the journal entry to complete is looked up with it
    ins_family   "test" or "production"; default: the cda_ins_oids setting
    xds          the XDS DocumentEntry metadata received with the document (DMP ITI-41), keys:
                 typeCode, formatCode, practiceSettingCode, healthcareFacilityTypeCode (each a
                 code, or {"code", "scheme"}), confidentialityCode (a code or a list), languageCode,
                 creationTime, serviceStartTime, serviceStopTime (XDS DTM, UTC), uniqueId,
                 patientId (CX "ext^^^&root&ISO"), hash (SHA-1 hex), size
    twin_pdf     the PDF sent beside the CDA (MSSanté attachment): must equal the N1's
    recipients   identifiers of the actual recipients (MSSanté addresses, RPPS idNat)
    volet        force the volet schematron (a name of mocks.cda.profiles.TEMPLATES' values)
    name         file name, for the report
    ins_qualified  the sender vouches that the INS was qualified elsewhere (the DMP's seeded
                 documents, fed by another LGC): no CDA-INS-NOT-QUALIFIED from this tenant's INSi
    """

    tenant: str = "default"
    service: str = ""
    ins_family: str | None = None
    xds: Mapping[str, Any] | None = None
    twin_pdf: bytes | None = None
    recipients: Sequence[str] | None = None
    volet: str | None = None
    name: str = ""
    ins_qualified: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def _finding(rule: str, message: str, location: str = "", severity: Severity = "error") -> CdaFinding:
    return CdaFinding(SANDBOX, rule, severity, message, location)


def check(parsed: Parsed, ctx: Context, family: str, qualified: Callable[[str], bool]) -> list[CdaFinding]:
    doc = parsed.doc
    out = ins_rules(doc, family, qualified)
    out += n1_rules(doc, ctx.twin_pdf)
    if ctx.recipients:
        out += recipient_rules(doc, ctx.recipients)
    if ctx.xds:
        out += xds_rules(doc, parsed.raw, ctx.xds, ctx.volet)
    return out


# -- INS ----------------------------------------------------------------------------------------
def ins_rules(doc: etree._Element, family: str, qualified: Callable[[str], bool]) -> list[CdaFinding]:
    out = []
    for i, pid in enumerate(doc.findall("h:recordTarget/h:patientRole/h:id", NS), start=1):
        root, ext = pid.get("root", ""), pid.get("extension", "")
        if root not in INS_OIDS:
            continue
        where = f"/ClinicalDocument/recordTarget/patientRole/id[{i}]"
        kind, label = INS_OIDS[root]
        if kind != family:
            expected = "1.2.250.1.213.1.4.10 ou .11" if family == "test" else "1.2.250.1.213.1.4.8 ou .9"
            out.append(
                _finding(
                    "CDA-INS-OID",
                    f"INS sous l'OID {root} ({label}, famille {kind}) alors que l'environnement attend "
                    f"la famille {family} ({expected})",
                    where,
                )
            )
        if ext and not qualified(ext):
            out.append(
                _finding(
                    "CDA-INS-NOT-QUALIFIED",
                    f"INS {ext} transmis sans identité qualifiée : l'INSi du bac à sable n'a jamais "
                    "renvoyé cet INS à ce tenant (matricule et OID ne se transmettent que pour une "
                    "identité qualifiée)",
                    where,
                )
            )
    return out


# -- N1 body --------------------------------------------------------------------------------------
def n1_rules(doc: etree._Element, twin: bytes | None) -> list[CdaFinding]:
    text, body = n1_body(doc)
    if text is None:
        return []
    where = "/ClinicalDocument/component/nonXMLBody/text"
    out = []
    media = text.get("mediaType")
    if media not in N1_MEDIA:
        shown = f"mediaType {media!r}" if media is not None else "mediaType absent"
        out.append(
            _finding(
                "CDA-N1-MEDIATYPE",
                f"{shown} : un corps non structuré est application/pdf ou text/plain (une image "
                "doit d'abord être convertie en PDF/A-1)",
                where + "/@mediaType",
            )
        )
    if text.get("representation") != "B64":
        out.append(
            _finding(
                "CDA-N1-REPRESENTATION",
                f"representation {text.get('representation')!r} : B64 attendu (contenu encodé en base64)",
                where + "/@representation",
            )
        )
    if body is None:
        out.append(
            _finding("CDA-N1-BASE64", "le contenu de nonXMLBody/text n'est pas du base64 valide", where)
        )
        return out
    if media == "application/pdf":
        if not body.startswith(b"%PDF-"):
            out.append(
                _finding(
                    "CDA-N1-PDF",
                    f"mediaType application/pdf mais le contenu décodé n'est pas un PDF (début {body[:8]!r})",
                    where,
                )
            )
        else:
            claim = pdfa_claim(body)
            if claim != "1":
                said = f"PDF/A-{claim} déclaré" if claim else "aucune déclaration PDF/A (XMP pdfaid:part)"
                out.append(_finding("CDA-N1-PDFA", f"{said} : PDF/A-1 attendu", where, "warning"))
    if twin is not None and body != twin:
        out.append(
            _finding("CDA-N1-TWIN-PDF", "le PDF joint diffère du PDF encapsulé : " + _diff(body, twin), where)
        )
    return out


def _diff(a: bytes, b: bytes) -> str:
    first = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
    return f"{len(a)} octets dans le CDA, {len(b)} dans la pièce jointe, premier écart à l'octet {first}"


# -- recipients -------------------------------------------------------------------------------------
def recipient_rules(doc: etree._Element, recipients: Sequence[str]) -> list[CdaFinding]:
    listed: set[str] = set()
    for rec in doc.findall("h:informationRecipient/h:intendedRecipient", NS):
        for pid in rec.findall("h:id", NS):
            listed.update(v.lower() for v in (pid.get("extension"), pid.get("root")) if v)
        for tel in rec.findall("h:telecom", NS) + rec.findall("h:informationRecipient/h:telecom", NS):
            value = (tel.get("value") or "").lower()
            listed.add(value.removeprefix("mailto:"))
    return [
        _finding(
            "CDA-RECIPIENT",
            f"le destinataire {r} n'est pas listé dans informationRecipient (id ou telecom mailto:)",
            "/ClinicalDocument/informationRecipient",
            "warning",
        )
        for r in recipients
        if r.strip().lower().removeprefix("mailto:") not in listed
    ]


# -- XDS metadata -------------------------------------------------------------------------------------
def _code(value: Any) -> tuple[str, str]:
    if isinstance(value, Mapping):
        return str(value.get("code", "")), str(value.get("scheme") or value.get("codingScheme") or "")
    if isinstance(value, list | tuple):
        return str(value[0]), str(value[1] if len(value) > 1 else "")
    return str(value), ""


def _utc(ts: str) -> tuple[datetime, int] | None:
    """An HL7 TS / XDS DTM as (UTC instant, digits of precision)."""
    match = TS.match(ts.strip())
    if not match:
        return None
    digits, zone = match.groups()
    fmt = "%Y%m%d%H%M%S"[: {4: 2, 6: 4, 8: 6, 10: 8, 12: 10, 14: 12}.get(len(digits), 0)]
    if not fmt:
        return None
    moment = datetime.strptime(digits, fmt)
    if zone:
        sign = 1 if zone[0] == "+" else -1
        moment -= sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[3:5]))
    return moment.replace(tzinfo=UTC), len(digits)


def _same_time(cda: str, xds: str) -> bool:
    a, b = _utc(cda), _utc(xds)
    if a is None or b is None:
        return cda.strip() == xds.strip()
    digits = min(a[1], b[1])
    return a[0].strftime("%Y%m%d%H%M%S")[:digits] == b[0].strftime("%Y%m%d%H%M%S")[:digits]


def xds_rules(doc: etree._Element, raw: bytes, xds: Mapping[str, Any], volet: str | None) -> list[CdaFinding]:
    out: list[CdaFinding] = []

    def attr(path: str, name: str) -> str:
        el = doc.find(path, NS)
        return el.get(name, "") if el is not None else ""

    def coded(key: str, rule: str, path: str, label: str) -> None:
        if key not in xds:
            return
        code, scheme = _code(xds[key])
        cda_code, cda_system = attr(path, "code"), attr(path, "codeSystem")
        if code != cda_code or (scheme and scheme != cda_system):
            out.append(
                _finding(
                    rule,
                    f"{key} XDS {code}{' (' + scheme + ')' if scheme else ''} ≠ {label} du CDA "
                    f"{cda_code or '(absent)'}{' (' + cda_system + ')' if cda_system else ''}",
                    "/ClinicalDocument/" + path.replace("h:", ""),
                )
            )

    coded("typeCode", "CDA-XDS-TYPECODE", "h:code", "code")
    perf = "h:documentationOf/h:serviceEvent/h:performer/h:assignedEntity/h:representedOrganization"
    coded(
        "practiceSettingCode",
        "CDA-XDS-PRACTICESETTING",
        perf + "/h:standardIndustryClassCode",
        "standardIndustryClassCode",
    )
    coded(
        "healthcareFacilityTypeCode",
        "CDA-XDS-FACILITY",
        "h:componentOf/h:encompassingEncounter/h:location/h:healthCareFacility/h:code",
        "healthCareFacility/code",
    )
    if "formatCode" in xds:
        expected = _expected_format(doc, volet)
        given, _ = _code(xds["formatCode"])
        if expected and given != expected:
            out.append(
                _finding(
                    "CDA-XDS-FORMATCODE",
                    f"formatCode XDS {given} ; attendu {expected} pour ce document",
                    "/ClinicalDocument/component",
                )
            )
    if "confidentialityCode" in xds:
        raw_codes = xds["confidentialityCode"]
        codes = {_code(c)[0] for c in (raw_codes if isinstance(raw_codes, list) else [raw_codes])}
        cda = attr("h:confidentialityCode", "code")
        if cda not in codes:
            out.append(
                _finding(
                    "CDA-XDS-CONFIDENTIALITY",
                    f"confidentialityCode du CDA {cda or '(absent)'} absent des codes XDS {sorted(codes)}",
                    "/ClinicalDocument/confidentialityCode",
                )  # fmt: skip
            )
    if "languageCode" in xds and str(xds["languageCode"]).lower() != attr("h:languageCode", "code").lower():
        out.append(_finding("CDA-XDS-LANGUAGE", f"languageCode XDS {xds['languageCode']} ≠ CDA {attr('h:languageCode', 'code')}",
                            "/ClinicalDocument/languageCode"))  # fmt: skip
    if "creationTime" in xds and not _same_time(attr("h:effectiveTime", "value"), str(xds["creationTime"])):
        out.append(_finding("CDA-XDS-CREATIONTIME", f"creationTime XDS {xds['creationTime']} ≠ effectiveTime du CDA "
                            f"{attr('h:effectiveTime', 'value')} (même instant attendu, en UTC côté XDS)", "/ClinicalDocument/effectiveTime"))  # fmt: skip
    for key, bound in (("serviceStartTime", "low"), ("serviceStopTime", "high")):
        path = f"h:documentationOf/h:serviceEvent/h:effectiveTime/h:{bound}"
        if key in xds and not _same_time(attr(path, "value"), str(xds[key])):
            out.append(_finding("CDA-XDS-SERVICETIME", f"{key} XDS {xds[key]} ≠ serviceEvent/effectiveTime/{bound} du CDA "
                                f"{attr(path, 'value') or '(absent)'}", "/ClinicalDocument/" + path.replace("h:", "")))  # fmt: skip
    if "uniqueId" in xds:
        root, ext = attr("h:id", "root"), attr("h:id", "extension")
        expected_id = f"{root}^{ext}" if ext else root
        if str(xds["uniqueId"]) != expected_id:
            out.append(
                _finding(
                    "CDA-XDS-UNIQUEID",
                    f"uniqueId XDS {xds['uniqueId']} ≠ id du CDA {expected_id}",
                    "/ClinicalDocument/id",
                )
            )
    if "patientId" in xds:
        out += _patient_id(doc, str(xds["patientId"]))
    if "hash" in xds and str(xds["hash"]).lower() != hashlib.sha1(raw).hexdigest():
        out.append(
            _finding(
                "CDA-XDS-HASH", f"hash XDS {xds['hash']} ≠ SHA-1 du document {hashlib.sha1(raw).hexdigest()}"
            )
        )
    if "size" in xds and str(xds["size"]) != str(len(raw)):
        out.append(_finding("CDA-XDS-HASH", f"size XDS {xds['size']} ≠ taille du document {len(raw)} octets"))
    return out


def _expected_format(doc: etree._Element, volet: str | None) -> str:
    text = doc.find("h:component/h:nonXMLBody/h:text", NS)
    if text is not None:
        return N1_MEDIA.get(text.get("mediaType") or "", "")
    if volet is None:
        from mocks.cda.profiles import choose

        volet = choose(doc).volet
    return next((fmt for prefix, fmt in N3_FORMATS.items() if volet and volet.startswith(prefix)), "")


def _patient_id(doc: etree._Element, cx: str) -> list[CdaFinding]:
    ext, _, rest = cx.partition("^^^")
    root = rest.strip("&").split("&")[0] if rest else ""
    ids = [
        (p.get("extension", ""), p.get("root", ""))
        for p in doc.findall("h:recordTarget/h:patientRole/h:id", NS)
    ]
    if (ext, root) in ids:
        return []
    shown = ", ".join(f"{e}^^^&{r}&ISO" for e, r in ids if r in INS_OIDS) or "(aucun INS)"
    return [
        _finding(
            "CDA-XDS-PATIENTID",
            f"patientId XDS {cx} ≠ INS du CDA {shown}",
            "/ClinicalDocument/recordTarget/patientRole/id",
        )
    ]
