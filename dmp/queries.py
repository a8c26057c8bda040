"""TD3.1 (ITI-18 RegistryStoredQuery): reading an `AdhocQueryRequest` into a typed `StoredQuery`,
against the catalogue of stored queries the DMP serves (research dmp.md §2.6).

    query = read_query(adhoc_query_request)    # raises the catalogue's RegistryError entries
    query.name ("FindDocuments" ...), query.return_type ("LeafClass" | "ObjectRef"),
    query.params: {"$XDSDocumentEntryStatus": ("urn:...:Approved",), ...}
    query.one("$XDSDocumentEntryPatientId"), query.codes("$XDSDocumentEntryClassCode")

Slot values follow IHE ITI TF-2a §3.18.4.1.2.3.5: a single value in quotes (`'a'`), a list in
parentheses (`('a','b')`, several Value elements OR-ed), numbers and dates (`yyyyMMddHHmmss`
prefixes) unquoted; `''` doubles a quote inside a string. Codes are `code^^scheme`.

Errors (dmp.errors REGISTRY): an id that is a standard stored query the DMP does not serve, or no
stored query at all, is `XDSUnknownStoredQuery`; a required parameter missing is
`XDSStoredQueryMissingParam`; a parameter the query does not know, or several values for a
single-valued one, is `XDSStoredQueryParamNumber`; a value that cannot be read is
`XDSRegistryError` [inferred: IHE leaves the code to the registry].
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree

from dmp import errors

RIM = "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"
QUERY = "urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0"
APPROVED = "urn:oasis:names:tc:ebxml-regrep:StatusType:Approved"
DEPRECATED = "urn:oasis:names:tc:ebxml-regrep:StatusType:Deprecated"
ARCHIVED = "urn:asip:ci-sis:2010:StatusType:Archived"
DELETED = "urn:asip:ci-sis:2010:StatusType:Deleted"
STATUSES = (APPROVED, DEPRECATED, ARCHIVED, DELETED)


@dataclass(frozen=True)
class Definition:
    """A stored query: its name, required parameters (each a tuple of alternatives: one of them
    must be given) and optional ones; `multi` lists those that take several values."""

    name: str
    required: tuple[tuple[str, ...], ...]
    optional: tuple[str, ...]
    multi: tuple[str, ...] = ()

    @property
    def known(self) -> set[str]:
        return {p for alternatives in self.required for p in alternatives} | set(self.optional)


DE = "$XDSDocumentEntry"
FIND_DOCUMENTS_OPTIONAL = tuple(
    DE + p
    for p in (
        "ClassCode",
        "TypeCode",
        "PracticeSettingCode",
        "CreationTimeFrom",
        "CreationTimeTo",
        "ServiceStartTimeFrom",
        "ServiceStartTimeTo",
        "ServiceStopTimeFrom",
        "ServiceStopTimeTo",
        "HealthcareFacilityTypeCode",
        "EventCodeList",
        "ConfidentialityCode",
        "AuthorPerson",
        "FormatCode",
        "Type",
    )
)
CODED = tuple(
    DE + p
    for p in (
        "ClassCode",
        "TypeCode",
        "PracticeSettingCode",
        "HealthcareFacilityTypeCode",
        "EventCodeList",
        "ConfidentialityCode",
        "FormatCode",
    )
)

# the stored queries the DMP serves (research §2.6 [seen]); the patient id is optional (RG_3010:
# the VIHF's INS is used), so FindDocuments / FindSubmissionSets require only the status
CATALOGUE: dict[str, Definition] = {
    "urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d": Definition(
        "FindDocuments",
        ((f"{DE}Status",),),
        (f"{DE}PatientId", *FIND_DOCUMENTS_OPTIONAL),
        (f"{DE}Status", *CODED, f"{DE}AuthorPerson", f"{DE}Type"),
    ),
    "urn:uuid:5c4f972b-d56b-40ac-a5fc-c8ca9b40b9d4": Definition(
        "GetDocuments",
        ((f"{DE}EntryUUID", f"{DE}UniqueId"),),
        ("$homeCommunityId",),
        (f"{DE}EntryUUID", f"{DE}UniqueId"),
    ),
    "urn:uuid:12941a89-e02e-4be5-967c-ce4bfc8fe492": Definition(
        "FindDocumentsByReferenceId",
        ((f"{DE}Status",), (f"{DE}ReferenceIdList",)),
        (f"{DE}PatientId", *FIND_DOCUMENTS_OPTIONAL),
        (f"{DE}Status", f"{DE}ReferenceIdList", *CODED, f"{DE}AuthorPerson", f"{DE}Type"),
    ),
    "urn:uuid:f26abbcb-ac74-4422-8a30-edb644bbc1a9": Definition(
        "FindSubmissionSets",
        (("$XDSSubmissionSetStatus",),),
        (
            "$XDSSubmissionSetPatientId",
            "$XDSSubmissionSetSourceId",
            "$XDSSubmissionSetSubmissionTimeFrom",
            "$XDSSubmissionSetSubmissionTimeTo",
            "$XDSSubmissionSetAuthorPerson",
            "$XDSSubmissionSetContentType",
        ),
        ("$XDSSubmissionSetStatus", "$XDSSubmissionSetSourceId", "$XDSSubmissionSetContentType"),
    ),
    "urn:uuid:a7ae438b-4bc2-4642-93e9-be891f7bb155": Definition(
        "GetAssociations", (("$uuid",),), ("$homeCommunityId",), ("$uuid",)
    ),
}
# the other standard stored queries (IHE ITI TF-2a §3.18.4.1.2.3.7): XDSUnknownStoredQuery here
OTHER_STANDARD = {
    "urn:uuid:10b545ea-725c-446d-9b95-8aeb444eddf3": "GetAll",
    "urn:uuid:bab9529a-4a10-40b3-a01f-f68a615d247a": "GetDocumentsAndAssociations",
    "urn:uuid:51224314-5390-4169-9b91-b1980040715a": "GetSubmissionSets",
    "urn:uuid:e8e3cb2c-e39c-46b9-99e4-c12f57260b83": "GetSubmissionSetAndContents",
    "urn:uuid:5737b14c-8a1a-4539-b659-e03a34a5e1e4": "GetFolders",
    "urn:uuid:b909a503-523d-4517-8acf-8e5834dfc4c7": "GetFolderAndContents",
    "urn:uuid:10cae35a-c7f9-4cf5-b61e-fc3278ffb578": "GetFoldersForDocument",
    "urn:uuid:d90e5407-b356-4d91-a89f-873917b4b0e6": "GetRelatedDocuments",
    "urn:uuid:958f3006-baad-4929-a4de-ff1114824431": "FindFolders",
}


@dataclass(frozen=True)
class Code:
    code: str
    scheme: str = ""


@dataclass(frozen=True)
class StoredQuery:
    id: str
    name: str
    return_type: str  # LeafClass | ObjectRef
    params: dict[str, tuple[str, ...]]  # parameter -> values (strings unquoted, OR-ed)

    def one(self, name: str) -> str:
        values = self.params.get(name, ())
        return values[0] if values else ""

    def codes(self, name: str) -> tuple[Code, ...]:
        out = []
        for value in self.params.get(name, ()):
            code, _, rest = value.partition("^^")
            out.append(Code(code, rest))
        return tuple(out)

    def time(self, name: str) -> str:
        """A time bound as the 14-digit UTC stamp prefix it was given ('' when absent)."""
        return self.one(name)


_TOKEN = re.compile(r"\s*(?:'((?:[^']|'')*)'|([^,'()\s]+))\s*")


def parse_value(text: str) -> tuple[str, ...]:
    """One Value element: `'a'`, `('a','b')`, `20100101`, `(1,2)`; '' doubles a quote."""
    raw = text.strip()
    inner = raw[1:-1] if raw.startswith("(") and raw.endswith(")") else raw
    if raw.startswith("(") != raw.endswith(")"):
        raise ValueError(f"parenthèses non appariées : {raw}")
    out: list[str] = []
    pos = 0
    while pos < len(inner):
        match = _TOKEN.match(inner, pos)
        if match is None or match.end() == pos:
            raise ValueError(f"valeur illisible : {raw}")
        quoted, bare = match.group(1), match.group(2)
        out.append(quoted.replace("''", "'") if quoted is not None else bare)
        pos = match.end()
        if pos < len(inner):
            if inner[pos] != ",":
                raise ValueError(f"séparateur attendu : {raw}")
            pos += 1
    if not out:
        raise ValueError(f"valeur vide : {raw}")
    return tuple(out)


_STAMP = re.compile(r"^\d{4}(\d{2}){0,5}$")


def read_query(request: etree._Element) -> StoredQuery:
    """An AdhocQueryRequest read against CATALOGUE (raises the RegistryError entries)."""
    option = request.find(f"{{{QUERY}}}ResponseOption")
    return_type = option.get("returnType", "LeafClass") if option is not None else "LeafClass"
    if return_type not in ("LeafClass", "ObjectRef"):
        errors.fail("xds_registry_error", what=f"returnType « {return_type} » : LeafClass ou ObjectRef")
    adhoc = request.find(f"{{{RIM}}}AdhocQuery")
    query_id = adhoc.get("id", "") if adhoc is not None else ""
    definition = CATALOGUE.get(query_id)
    if adhoc is None or definition is None:
        known = OTHER_STANDARD.get(query_id)
        errors.fail(
            "XDSUnknownStoredQuery",
            what=f"{known} ({query_id}) n'est pas proposée par le DMP" if known else query_id or "absent",
            context=query_id,
        )
    params: dict[str, tuple[str, ...]] = {}
    for slot in adhoc.findall(f"{{{RIM}}}Slot"):
        name = slot.get("name", "")
        if name not in definition.known:
            errors.fail("XDSStoredQueryParamNumber", what=f"paramètre inconnu de {definition.name} : {name}")
        values: list[str] = []
        for value in slot.iterfind(f"{{{RIM}}}ValueList/{{{RIM}}}Value"):
            try:
                values.extend(parse_value(value.text or ""))
            except ValueError as exc:
                errors.fail("xds_registry_error", what=f"{name} : {exc}")
        if name in params:
            values = [*params[name], *values]
        if len(values) > 1 and name not in definition.multi:
            errors.fail("XDSStoredQueryParamNumber", what=f"{name} n'accepte qu'une valeur")
        if name.endswith(("TimeFrom", "TimeTo")) and not all(_STAMP.match(v) for v in values):
            errors.fail("xds_registry_error", what=f"{name} : date yyyyMMddHHmmss attendue")
        params[name] = tuple(values)
    for alternatives in definition.required:
        if not any(a in params for a in alternatives):
            errors.fail("XDSStoredQueryMissingParam", what=" ou ".join(alternatives), context=alternatives[0])
    for status_param in ("$XDSDocumentEntryStatus", "$XDSSubmissionSetStatus"):
        for status in params.get(status_param, ()):
            if status not in STATUSES:
                errors.fail("xds_registry_error", what=f"{status_param} : statut inconnu {status}")
    return StoredQuery(query_id, definition.name, return_type, params)


def in_range(value: str, low: str, high: str) -> bool:
    """IHE time bounds: From inclusive, To exclusive, compared on the given precision."""
    if not value:
        return not (low or high)
    if low and value[: len(low)] < low:
        return False
    return not (high and value[: len(high)] >= high)
