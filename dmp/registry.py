"""The registry's TD3.1 (ITI-18 RegistryStoredQuery) rules on the document store, apart from the wire
(dmp.endpoints.registry) and the message formats (dmp.queries, dmp.registry_wire):

    run(docs, tenant, ins, query, who)   -> Result: the objects a stored query answers, visible
                                           to `who` (dmp.visibility), in submission order
    entry_view(doc) / package_view(set)  -> the registry_wire views of stored objects
    VERSIONS                             -> each stored version decoded and written once

TD3.3's rules are dmp.updates.

Decisions (research dmp.md §2.6, §2.8) where IHE or the DMP leave a choice, all [inferred]:
- FindDocuments answers the latest metadata version of each document (older versions of an
  ITI-57 update are Deprecated and not proposed); GetDocuments by entryUUID answers that very
  version, by uniqueId the latest one; GetDocuments and GetAssociations answer nothing for an
  object of another patient (the VIHF's patient scopes every query).
- Several values of one parameter, or several Slots of one name, are OR-ed (EventCodeList too).
- A parameter given while the document has no value for it excludes the document.
- Visibility (MASQUE_PS) is judged on the document's current version: GetDocuments and
  GetAssociations by the entryUUID of an older version of a masked document answer nothing to
  whom the document is masked.
- A patientId whose OID differs from the VIHF's (same INS) matches no document: an empty
  answer, as a registry keyed on the full CX gives; another INS is XDSPatientIdDoesNotMatch.
"""

from __future__ import annotations

import re
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from lxml import etree

from dmp import metadata, queries, registry_wire, rights, visibility
from dmp.documents import (
    STATUS_URN,
    URN_STATUS,
    Association,
    Document,
    Documents,
    SubmissionSet,
)
from dmp.documents import (
    _doc as decode_row,  # the store's row -> Document (read raw for VERSIONS)
)
from dmp.metadata import Code

DE = "$XDSDocumentEntry"
STABLE = registry_wire.DOCUMENT_ENTRY
# a stored query's code parameter -> the Document attribute(s) it filters
CODE_FIELDS = {
    f"{DE}ClassCode": "class_code",
    f"{DE}TypeCode": "type_code",
    f"{DE}FormatCode": "format_code",
    f"{DE}PracticeSettingCode": "practice_setting_code",
    f"{DE}HealthcareFacilityTypeCode": "hcf_type_code",
    f"{DE}EventCodeList": "event_codes",
    f"{DE}ConfidentialityCode": "confidentiality",
}
TIME_FIELDS = {
    "CreationTime": "creation_time",
    "ServiceStartTime": "service_start_time",
    "ServiceStopTime": "service_stop_time",
}


def parse_cx(cx: str) -> tuple[str, str]:
    """`INS^^^&OID&ISO^NH[^^date]` -> (INS, OID); ("", "") when it is not a CX."""
    parts = cx.split("^")
    if len(parts) < 4 or not parts[0]:
        return "", ""
    authority = parts[3].split("&")
    return parts[0], authority[1] if len(authority) > 1 else ""


# -- who sees what ------------------------------------------------------------------------------
def doc_of(d: Document) -> visibility.Doc:
    legal = d.legal_authenticator.split("^", 1)[0] if d.legal_authenticator else ""
    return visibility.Doc(
        tuple(c.code for c in d.confidentiality),
        d.class_code.code if d.class_code else "",
        tuple(x for x in (*d.author_ids, legal) if x),
        d.structure_ids,
        STATUS_URN[d.status],
    )


def who_of(ps: str, structure: str, mode: str, actor: rights.Actor) -> visibility.Who:
    return visibility.Who(ps, structure, mode, actor == "mt", actor == "cpe")


# -- TD3.1 ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Result:
    documents: tuple[Document, ...] = ()
    sets: tuple[SubmissionSet, ...] = ()
    associations: tuple[Association, ...] = ()
    written: tuple[str, ...] = ()  # the documents' ExtrinsicObjects when already written

    def extrinsic_objects(self) -> list[str]:
        if len(self.written) == len(self.documents):
            return list(self.written)
        return [registry_wire.extrinsic_object(entry_view(d)) for d in self.documents]

    @property
    def count(self) -> int:
        return len(self.documents) + len(self.sets) + len(self.associations)


def _code_match(codes: Iterable[Code], wanted: tuple[queries.Code, ...]) -> bool:
    return any(c.code == w.code and (not w.scheme or c.scheme == w.scheme) for c in codes for w in wanted)


def _like(pattern: str) -> re.Pattern[str]:
    """An XDS AuthorPerson value: SQL LIKE (% any run, _ one character)."""
    out = "".join(".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in pattern)
    return re.compile(f"^{out}$", re.S)


def _codes_of(d: Document, name: str) -> tuple[Code, ...]:
    value = getattr(d, name)
    return value if isinstance(value, tuple) else ((value,) if value is not None else ())


def document_filter(query: queries.StoredQuery) -> Callable[[Document], bool]:
    """The FindDocuments / FindDocumentsByReferenceId filters other than status and visibility,
    read once from the query."""
    tests: list[Callable[[Document], bool]] = []
    for param, name in CODE_FIELDS.items():
        wanted = query.codes(param)
        if wanted:
            tests.append(lambda d, n=name, w=wanted: _code_match(_codes_of(d, n), w))  # type: ignore[misc]
    for param, name in TIME_FIELDS.items():
        low, high = query.time(f"{DE}{param}From"), query.time(f"{DE}{param}To")
        if low or high:
            tests.append(lambda d, n=name, lo=low, hi=high: queries.in_range(getattr(d, n), lo, hi))  # type: ignore[misc]
    authors = [_like(p) for p in query.params.get(f"{DE}AuthorPerson", ())]
    if authors:
        tests.append(lambda d: any(p.match(a.person) for p in authors for a in d.authors))
    types = query.params.get(f"{DE}Type", ())
    if types and STABLE not in types:
        return lambda d: False
    refs = set(query.params.get(f"{DE}ReferenceIdList", ()))
    if refs:
        tests.append(lambda d: bool(refs & set(d.reference_ids)))
    return lambda d: all(t(d) for t in tests)


def _statuses(query: queries.StoredQuery, param: str) -> list[str]:
    return [URN_STATUS[s] for s in query.params.get(param, ()) if s in URN_STATUS]


class Versions:
    """Each stored metadata version decoded, and its ExtrinsicObject written, once. A row of
    dmp_documents changes in place only by its status (`Documents.set_status`); `Documents.update`
    writes a new row: (store, tenant, rowid, entryUUID, status) names a row's content (SQLite may give
    the re-inserted row its old rowid when it was the last one: `update` is for what the answer
    does not show, the CDA verdict and report). The patient's
    latest versions are listed on those columns alone and only the rows not seen yet are read
    whole; least recently used out. Reading, decoding and writing cost about 1 ms a document,
    the ITI-18 goals (50 documents >= 100 answers/s, 500 >= 10/s) leave far less."""

    LIST = (
        "SELECT rowid, entry_uuid, status FROM dmp_documents d WHERE tenant = ? AND ins = ? AND kind = 'document'"
        " AND version = (SELECT MAX(version) FROM dmp_documents m WHERE m.tenant = d.tenant AND m.lid = d.lid)"
        " AND status IN ({marks}) ORDER BY submitted_at, rowid"
    )

    def __init__(self, size: int = 4096):
        self.size = size
        self._items: OrderedDict[tuple[str, str, int, str, str], Version] = OrderedDict()
        self._lock = threading.Lock()

    def latest(self, docs: Documents, tenant: str, ins: str, statuses: list[str]) -> list[Version]:
        """The patient's latest versions with those statuses, oldest submission first."""
        if not statuses:
            return []
        sql = self.LIST.format(marks=", ".join("?" * len(statuses)))
        where = str(docs.store.path)  # two sandboxes of one process may seed the same ids
        keys = [
            (where, tenant, r["rowid"], r["entry_uuid"], r["status"])
            for r in docs.store.query(sql, [tenant, ins[:15], *statuses])
        ]
        with self._lock:
            found = {k: self._items[k] for k in keys if k in self._items}
            for k in found:
                self._items.move_to_end(k)
        missing = [k for k in keys if k not in found]
        for start in range(0, len(missing), 500):
            part = missing[start : start + 500]
            rows = docs.store.query(
                f"SELECT rowid, * FROM dmp_documents WHERE rowid IN ({', '.join('?' * len(part))})",
                [k[2] for k in part],
            )
            for row in rows:
                key = (where, tenant, row["rowid"], row["entry_uuid"], row["status"])
                doc = decode_row(row)
                found[key] = Version(doc, doc_of(doc))
        with self._lock:
            for k in missing:
                if k in found:
                    self._items[k] = found[k]
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return [found[k] for k in keys if k in found]


@dataclass
class Version:
    doc: Document
    rules: visibility.Doc
    _written: str = ""

    def written(self) -> str:
        if not self._written:
            self._written = registry_wire.extrinsic_object(entry_view(self.doc))
        return self._written


VERSIONS = Versions()


def run(docs: Documents, tenant: str, ins: str, query: queries.StoredQuery, who: visibility.Who) -> Result:
    def shown(d: Document | None) -> bool:
        if d is None or d.ins != ins[:15] or d.kind != "document":
            return False
        # visibility is the document's, i.e. its current version's: the older versions of a
        # masked document are masked too (an entryUUID seen before the mask shows nothing)
        current = d if d.status != "Deprecated" else docs.get(tenant, lid=d.lid) or d
        return visibility.visible(doc_of(current), who)

    if query.name in ("FindDocuments", "FindDocumentsByReferenceId"):
        keep = document_filter(query)
        versions = VERSIONS.latest(docs, tenant, ins, _statuses(query, f"{DE}Status"))
        found = [v for v in versions if keep(v.doc) and visibility.visible(v.rules, who)]
        written = tuple(v.written() for v in found) if query.return_type == "LeafClass" else ()
        return Result(tuple(v.doc for v in found), written=written)
    if query.name == "GetDocuments":
        out: list[Document] = []
        for entry_uuid in query.params.get(f"{DE}EntryUUID", ()):
            out.append(docs.get(tenant, entry_uuid=entry_uuid))  # type: ignore[arg-type]
        for unique_id in query.params.get(f"{DE}UniqueId", ()):
            out.append(docs.get(tenant, unique_id=unique_id))  # type: ignore[arg-type]
        unique = {d.entry_uuid: d for d in out if shown(d)}
        return Result(tuple(unique.values()))
    if query.name == "FindSubmissionSets":
        return Result(sets=tuple(s for s in docs.submission_sets(tenant, ins) if _set_matches(s, query)))
    assert query.name == "GetAssociations"
    links: dict[str, Association] = {}
    for ident in query.params.get("$uuid", ()):
        if not (shown(docs.get(tenant, entry_uuid=ident)) or _own_set(docs, tenant, ins, ident)):
            continue
        for a in docs.associations(tenant, either=ident):
            links.setdefault(a.entry_uuid, a)
    return Result(associations=tuple(links.values()))


def _own_set(docs: Documents, tenant: str, ins: str, entry_uuid: str) -> bool:
    found = docs.submission_set(tenant, entry_uuid=entry_uuid)
    return found is not None and found.ins == ins[:15]


def _set_matches(s: SubmissionSet, query: queries.StoredQuery) -> bool:
    ss = "$XDSSubmissionSet"
    if queries.APPROVED not in query.params.get(f"{ss}Status", ()):
        return False  # a submission set is always Approved
    sources = query.params.get(f"{ss}SourceId", ())
    if sources and s.source_id not in sources:
        return False
    low, high = query.time(f"{ss}SubmissionTimeFrom"), query.time(f"{ss}SubmissionTimeTo")
    if (low or high) and not queries.in_range(s.submission_time, low, high):
        return False
    authors = query.params.get(f"{ss}AuthorPerson", ())
    if authors and not any(_like(p).match(a.person) for p in authors for a in s.authors):
        return False
    kinds = query.codes(f"{ss}ContentType")
    return not kinds or (s.content_type_code is not None and _code_match((s.content_type_code,), kinds))


# -- the answer's views ---------------------------------------------------------------------------
def _id(owner: str, *what: str) -> str:
    """A stable urn:uuid for a sub-object of `owner` (same id on every query of it)."""
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, '|'.join((owner, *what)))}"


def _author_slots(a: metadata.Author) -> tuple[tuple[str, tuple[str, ...]], ...]:
    slots = (
        ("authorInstitution", a.institutions),
        ("authorPerson", (a.person,) if a.person else ()),
        ("authorRole", a.roles),
        ("authorSpecialty", a.specialties),
        ("authorTelecommunication", a.telecoms),
    )
    return tuple((n, v) for n, v in slots if v)


def _coded(owner: str, scheme: str, codes: Iterable[Code | None]) -> list[registry_wire.Coded]:
    return [
        registry_wire.Coded(_id(owner, scheme, str(i)), scheme, c.code, c.scheme, c.label)
        for i, c in enumerate(x for x in codes if x is not None)
    ]


def entry_view(d: Document) -> registry_wire.EntryView:
    """The stored version as the DMP answers it: the slots as sent, hash / size / repository as
    the repository computed them; classifications and identifiers from the stored fields."""
    sent = metadata.read_entry(etree.fromstring(d.metadata_xml)).slots if d.metadata_xml else {}
    slots: dict[str, tuple[str, ...]] = {k: v for k, v in sent.items() if v}
    slots.update(hash=(d.hash,), size=(str(d.size),), repositoryUniqueId=(d.repository_unique_id,))
    for name, value in (
        ("creationTime", d.creation_time),
        ("serviceStartTime", d.service_start_time),
        ("serviceStopTime", d.service_stop_time),
        ("legalAuthenticator", d.legal_authenticator),
        ("languageCode", d.language_code),
        ("sourcePatientId", d.source_patient_id),
    ):
        if value:
            slots[name] = (value,)
    if d.source_patient_info:
        slots["sourcePatientInfo"] = d.source_patient_info
    if d.reference_ids:
        slots["urn:ihe:iti:xds:2013:referenceIdList"] = d.reference_ids
    e = d.entry_uuid
    classes = [
        registry_wire.Coded(_id(e, "author", str(i)), metadata.DE_AUTHOR, slots=_author_slots(a))
        for i, a in enumerate(d.authors)
    ]
    classes += _coded(e, metadata.DE_CLASS, (d.class_code,))
    classes += _coded(e, metadata.DE_CONFIDENTIALITY, d.confidentiality)
    classes += _coded(e, metadata.DE_EVENT, d.event_codes)
    classes += _coded(e, metadata.DE_FORMAT, (d.format_code,))
    classes += _coded(e, metadata.DE_HCF, (d.hcf_type_code,))
    classes += _coded(e, metadata.DE_PRACTICE, (d.practice_setting_code,))
    classes += _coded(e, metadata.DE_TYPE, (d.type_code,))
    return registry_wire.EntryView(
        entry_uuid=e,
        lid=d.lid,
        status=STATUS_URN[d.status],
        mime_type=d.mime_type,
        version=str(d.version),
        slots=tuple(slots.items()),
        title=d.title,
        comments=d.comments,
        classifications=tuple(classes),
        patient_id=d.patient_id,
        patient_id_uuid=_id(e, "patientId"),
        unique_id=d.unique_id,
        unique_id_uuid=_id(e, "uniqueId"),
    )


def package_view(s: SubmissionSet) -> registry_wire.PackageView:
    e = s.entry_uuid
    sent = metadata.read_package(etree.fromstring(s.metadata_xml)) if s.metadata_xml else None
    slots = {k: v for k, v in (sent.slots if sent else {}).items() if v}
    if s.submission_time:
        slots["submissionTime"] = (s.submission_time,)
    classes = [
        registry_wire.Coded(_id(e, "author", str(i)), metadata.SS_AUTHOR, slots=_author_slots(a))
        for i, a in enumerate(s.authors)
    ]
    classes += _coded(e, metadata.SS_CONTENT_TYPE, (s.content_type_code,))
    idents = (
        (metadata.SS_PATIENT_ID, s.patient_id),
        (metadata.SS_SOURCE_ID, s.source_id),
        (metadata.SS_UNIQUE_ID, s.unique_id),
    )
    return registry_wire.PackageView(
        entry_uuid=e,
        status=STATUS_URN["Approved"],
        slots=tuple(slots.items()),
        title=s.title or (sent.name if sent else ""),
        comments=s.comments,
        classifications=tuple(classes),
        node_id=_id(e, "node"),
        identifiers=tuple((_id(e, scheme), scheme, v) for scheme, v in idents if v),
    )


def association_view(a: Association) -> registry_wire.AssociationView:
    slots = tuple((k, tuple(v)) for k, v in a.slots.items())
    return registry_wire.AssociationView(a.entry_uuid, a.type, a.source, a.target, slots)
