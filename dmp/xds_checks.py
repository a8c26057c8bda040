"""The XDS metadata of an ITI-41 judged (research dmp.md §2.4, §2.5; official TD2.1 request):

    missing, problems = check_entry(entry, sets)      # a DocumentEntry (ExtrinsicObject)
    missing, problems = check_package(package, sets)  # the SubmissionSet (RegistryPackage)

`missing` lists the mandatory metadata absent: the DMP refuses the submission
(XDSRegistryMetadataError, IHE ITI TF-3 Table 4.2.4.1-2). `problems` are findings (dmp.checks
rules): classification / identifier UUIDs unknown to XDS.b, codes outside the DMP value sets or
with a wrong codingScheme (dmp.value_sets), XCN / XON formats, times not UTC `yyyyMMddHHmmss`.
Which of these the real DMP refuses is not public: they are error findings (refused in strict
mode) [inferred]. Pure functions, no state.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dmp import metadata as M
from dmp.value_sets import ValueSet

DE_CODES = {
    M.DE_CLASS: "classCode",
    M.DE_TYPE: "typeCode",
    M.DE_FORMAT: "formatCode",
    M.DE_HCF: "healthcareFacilityTypeCode",
    M.DE_PRACTICE: "practiceSettingCode",
    M.DE_CONFIDENTIALITY: "confidentialityCode",
    M.DE_EVENT: "eventCodeList",
}
DE_IDENTIFIERS = {M.DE_PATIENT_ID: "patientId", M.DE_UNIQUE_ID: "uniqueId"}
SS_CODES = {M.SS_CONTENT_TYPE: "contentTypeCode"}
SS_IDENTIFIERS = {M.SS_PATIENT_ID: "patientId", M.SS_SOURCE_ID: "sourceId", M.SS_UNIQUE_ID: "uniqueId"}
DE_REQUIRED_CODES = ("classCode", "typeCode", "formatCode", "healthcareFacilityTypeCode",
                     "practiceSettingCode", "confidentialityCode")  # fmt: skip
DE_TIMES = ("creationTime", "serviceStartTime", "serviceStopTime")
UTC_DTM = re.compile(r"^\d{14}$")
OID = re.compile(r"^[0-2](\.(0|[1-9]\d*))+$")
ASSIGNING = re.compile(r"^&([0-9.]+)&ISO$")


@dataclass(frozen=True)
class Problem:
    rule: str
    severity: str
    message: str
    location: str


def xcn_problem(value: str) -> str | None:
    """Why an XCN (authorPerson, legalAuthenticator) is not `id^nom^prénom^…^&OID&ISO^D^^^TYPE`."""
    parts = value.split("^")
    if not parts[0]:
        return "identifiant (composante 1) absent"
    if len(parts) < 9 or not ASSIGNING.match(parts[8]) or not OID.match(ASSIGNING.match(parts[8])[1]):  # type: ignore[index]
        return "autorité d'affectation (composante 9) « &OID&ISO » attendue"
    if len(parts) < 13 or not parts[12]:
        return "type d'identifiant (composante 13, ex. IDNPS) absent"
    return None


def xon_problem(value: str) -> str | None:
    """Why an XON (authorInstitution) is not `raison sociale^^^^^&OID&ISO^TYPE^^^identifiant`."""
    parts = value.split("^")
    if not parts[0]:
        return "raison sociale (composante 1) absente"
    match = ASSIGNING.match(parts[5]) if len(parts) > 5 else None
    if match is None or not OID.match(match[1]):
        return "autorité d'affectation (composante 6) « &OID&ISO » attendue"
    if len(parts) < 7 or not parts[6]:
        return "type d'identifiant (composante 7, ex. IDNST) absent"
    if len(parts) < 10 or not parts[9]:
        return "identifiant de la structure (composante 10) absent"
    return None


def names_empty(xcn: str) -> bool:
    """PDT-INF-617: the XCN's family (2) and given (3) names are empty."""
    parts = xcn.split("^") + ["", ""]
    return not parts[1].strip() or not parts[2].strip()


def _time(where: str, name: str, value: str) -> Problem | None:
    if not value or UTC_DTM.match(value):
        return None
    return Problem(
        "DMP-TIME-UTC", "error", f"{name} « {value} » : date UTC aaaaMMjjHHmmss attendue (EX_3.1-1070)", where
    )


def _authors(where: str, authors: tuple[M.Author, ...]) -> list[Problem]:
    out = []
    for a in authors:
        if a.person and (why := xcn_problem(a.person)):
            out.append(Problem("DMP-XDS-XCN", "error", f"authorPerson « {a.person} » : {why}", where))
        for xon in a.institutions:
            if why := xon_problem(xon):
                out.append(Problem("DMP-XDS-XON", "error", f"authorInstitution « {xon} » : {why}", where))
    return out


def _codes(
    where: str, codes: dict[str, tuple[M.Code, ...]], known: dict[str, str], sets: dict[str, ValueSet]
) -> list[Problem]:
    out = []
    for scheme, found in codes.items():
        name = known.get(scheme)
        if name is None:
            out.append(
                Problem("DMP-XDS-UUID", "warning", f"classificationScheme {scheme} inconnu de XDS.b", where)
            )
            continue
        value_set = sets.get(name)
        for code in found if value_set is not None else ():
            verdict = value_set.judge(code.code, code.scheme)  # type: ignore[union-attr]
            if verdict:
                out.append(Problem("DMP-XDS-CODE", verdict[0], f"{name} : {verdict[1]}", where))
    return out


def _identifiers(where: str, identifiers: tuple[M.Identifier, ...], known: dict[str, str]) -> list[Problem]:
    return [
        Problem("DMP-XDS-UUID", "warning", f"identificationScheme {i.scheme} inconnu de XDS.b", where)
        for i in identifiers
        if i.scheme not in known
    ]


def check_entry(entry: M.Entry, sets: dict[str, ValueSet]) -> tuple[list[str], list[Problem]]:
    where = f"ExtrinsicObject[@id='{entry.id}']"
    missing = [n for n in ("patientId", "uniqueId") if not entry.identifier(_key(DE_IDENTIFIERS, n))]
    missing += [n for n in DE_REQUIRED_CODES if entry.code(_key(DE_CODES, n)) is None]
    if not entry.slot("creationTime"):
        missing.append("creationTime")
    if not entry.authors:
        missing.append("author")
    problems = _codes(where, entry.classifications, DE_CODES, sets)
    problems += _identifiers(where, entry.identifiers, DE_IDENTIFIERS)
    problems += _authors(where, entry.authors)
    legal = entry.slot("legalAuthenticator")
    if legal and (why := xcn_problem(legal)):
        problems.append(Problem("DMP-XDS-XCN", "error", f"legalAuthenticator « {legal} » : {why}", where))
    problems += [p for name in DE_TIMES if (p := _time(where, name, entry.slot(name)))]
    return missing, problems


def check_package(package: M.Package, sets: dict[str, ValueSet]) -> tuple[list[str], list[Problem]]:
    where = f"RegistryPackage[@id='{package.id}']"
    missing = [
        n for n in ("patientId", "sourceId", "uniqueId") if not package.identifier(_key(SS_IDENTIFIERS, n))
    ]
    if not package.is_submission_set:
        missing.append(f"Classification classificationNode={M.SUBMISSION_SET_NODE}")
    if package.classifications.get(M.SS_CONTENT_TYPE) is None:
        missing.append("contentTypeCode")
    if not package.slot("submissionTime"):
        missing.append("submissionTime")
    if not package.authors:
        missing.append("author")
    problems = _codes(where, package.classifications, SS_CODES, sets)
    problems += _identifiers(where, package.identifiers, SS_IDENTIFIERS)
    problems += _authors(where, package.authors)
    time = _time(where, "submissionTime", package.slot("submissionTime"))
    return missing, problems + ([time] if time else [])


def _key(table: dict[str, str], name: str) -> str:
    return next(k for k, v in table.items() if v == name)
