"""The DMP's documents, per tenant: every metadata version of every DocumentEntry fed (ITI-41, the
seed, ITI-57), its bytes, its submission set and the associations, with what the DMP noticed
(XAdES verdict, caller, CDA findings). The registry (ITI-18, ITI-57), the repository (ITI-41,
ITI-43), the control API and the console read and write through this module only.

    docs = Documents(sandbox.store)
    docs.insert_submission(tenant, Submission(...))        # one transaction: set, entries, bytes, links
    docs.get(tenant, unique_id=...) / docs.get(tenant, entry_uuid=...)   # latest version / that version
    docs.by_patient(tenant, ins, statuses=("Approved",))   # latest version of each document
    docs.content(tenant, unique_id)                         # the bytes
    docs.new_version(tenant, entry_uuid, new_entry_uuid, ...)   # ITI-57 metadata update
    docs.set_status(tenant, entry_uuid, "Archived")         # availability status
    docs.associations(tenant, source=..., target=..., type=...)

Identifiers (research dmp.md §2.6): `uniqueId` names the document (its bytes, ITI-43); `lid` (the
logicalId, the first version's entryUUID) is stable across metadata versions; `entryUUID` changes
with every version. Every version is a row of `dmp_documents`; the latest (highest `version` of
a lid) is the one queries see, the older ones are Deprecated. Status is stored short (`Approved`,
`Archived`, `Deprecated`, `Deleted`); `STATUS_URN` gives the wire form. Times are the XDS
`yyyyMMddHHmmss` UTC strings as sent, so that string comparison is time order.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

from dmp.metadata import Author, Code
from mocks.store import Store

if TYPE_CHECKING:
    from mocks.pki.xades import XadesVerdict

Status = Literal["Approved", "Archived", "Deprecated", "Deleted"]
STATUSES: tuple[Status, ...] = ("Approved", "Archived", "Deprecated", "Deleted")
STATUS_URN: dict[str, str] = {
    "Approved": "urn:oasis:names:tc:ebxml-regrep:StatusType:Approved",
    "Deprecated": "urn:oasis:names:tc:ebxml-regrep:StatusType:Deprecated",
    "Archived": "urn:asip:ci-sis:2010:StatusType:Archived",
    "Deleted": "urn:asip:ci-sis:2010:StatusType:Deleted",
}
URN_STATUS: dict[str, Status] = {urn: s for s, urn in STATUS_URN.items()}  # type: ignore[misc]
REPOSITORY_UNIQUE_ID = "1.2.250.1.213.4.1.1.1.2"

MIGRATIONS = [
    """
    CREATE TABLE dmp_documents (
        tenant TEXT NOT NULL,
        entry_uuid TEXT NOT NULL,
        unique_id TEXT NOT NULL,
        lid TEXT NOT NULL,
        version INTEGER NOT NULL,
        status TEXT NOT NULL,
        kind TEXT NOT NULL,
        ins TEXT NOT NULL,
        ins_oid TEXT NOT NULL,
        patient_id TEXT NOT NULL,
        class_code TEXT NOT NULL DEFAULT '',
        type_code TEXT NOT NULL DEFAULT '',
        format_code TEXT NOT NULL DEFAULT '',
        practice_setting_code TEXT NOT NULL DEFAULT '',
        hcf_type_code TEXT NOT NULL DEFAULT '',
        masked_ps INTEGER NOT NULL DEFAULT 0,
        invisible_patient INTEGER NOT NULL DEFAULT 0,
        invisible_representants INTEGER NOT NULL DEFAULT 0,
        creation_time TEXT NOT NULL DEFAULT '',
        service_start_time TEXT NOT NULL DEFAULT '',
        service_stop_time TEXT NOT NULL DEFAULT '',
        submission_set TEXT NOT NULL DEFAULT '',
        submitted_at TEXT NOT NULL DEFAULT '',
        data TEXT NOT NULL,
        metadata_xml TEXT NOT NULL,
        PRIMARY KEY (tenant, entry_uuid)
    );
    CREATE INDEX dmp_documents_unique ON dmp_documents (tenant, unique_id, version);
    CREATE INDEX dmp_documents_lid ON dmp_documents (tenant, lid, version);
    CREATE INDEX dmp_documents_patient ON dmp_documents (tenant, ins);
    CREATE TABLE dmp_document_content (
        tenant TEXT NOT NULL,
        unique_id TEXT NOT NULL,
        content BLOB NOT NULL,
        PRIMARY KEY (tenant, unique_id)
    );
    CREATE TABLE dmp_submission_sets (
        tenant TEXT NOT NULL,
        entry_uuid TEXT NOT NULL,
        unique_id TEXT NOT NULL,
        ins TEXT NOT NULL,
        submission_time TEXT NOT NULL DEFAULT '',
        submitted_at TEXT NOT NULL DEFAULT '',
        data TEXT NOT NULL,
        metadata_xml TEXT NOT NULL,
        PRIMARY KEY (tenant, entry_uuid)
    );
    CREATE INDEX dmp_submission_sets_patient ON dmp_submission_sets (tenant, ins);
    CREATE TABLE dmp_associations (
        tenant TEXT NOT NULL,
        entry_uuid TEXT NOT NULL,
        type TEXT NOT NULL,
        source TEXT NOT NULL,
        target TEXT NOT NULL,
        submission_set TEXT NOT NULL DEFAULT '',
        slots TEXT NOT NULL DEFAULT '{}',
        PRIMARY KEY (tenant, entry_uuid)
    );
    CREATE INDEX dmp_associations_source ON dmp_associations (tenant, source);
    CREATE INDEX dmp_associations_target ON dmp_associations (tenant, target)
    """
]


@dataclass(frozen=True)
class Document:
    """One metadata version of a DocumentEntry (the lot's XAdES is one too, kind "signature")."""

    entry_uuid: str
    unique_id: str
    lid: str
    version: int
    status: Status
    ins: str  # the 15-character INS of patientId
    ins_oid: str  # the assigning authority OID of patientId
    patient_id: str  # the CX as sent
    mime_type: str
    hash: str  # SHA-1 hex of the bytes
    size: int
    metadata_xml: str  # the ExtrinsicObject as received (ids as sent; see entry_uuid for ours)
    kind: Literal["document", "signature"] = "document"
    repository_unique_id: str = REPOSITORY_UNIQUE_ID
    class_code: Code | None = None
    type_code: Code | None = None
    format_code: Code | None = None
    practice_setting_code: Code | None = None
    hcf_type_code: Code | None = None
    event_codes: tuple[Code, ...] = ()
    confidentiality: tuple[Code, ...] = ()  # every code, N/R/V first, then TRE_A07 visibility
    masked_ps: bool = False
    invisible_patient: bool = False
    invisible_representants: bool = False
    creation_time: str = ""  # yyyyMMddHHmmss UTC
    service_start_time: str = ""
    service_stop_time: str = ""
    authors: tuple[Author, ...] = ()
    legal_authenticator: str = ""  # XCN
    title: str = ""
    comments: str = ""
    language_code: str = ""
    source_patient_id: str = ""
    source_patient_info: tuple[str, ...] = ()
    reference_ids: tuple[str, ...] = ()
    submission_set: str = ""  # entryUUID of the submission set that brought this version
    submitted_at: str = ""  # ISO instant on the tenant clock
    caller: dict[str, Any] = field(default_factory=dict)  # who fed it (auth.Caller / VIHF summary)
    xades: dict[str, Any] = field(default_factory=dict)  # verdict of the lot's signature
    cda_findings: list[dict[str, Any]] = field(default_factory=list)
    cda_report_id: str = ""  # CDA engine report (mocks.cda), "" while none
    replaces: str = ""  # uniqueId of the document this one replaces (RPLC)
    via_seed: bool = False

    @property
    def status_urn(self) -> str:
        return STATUS_URN[self.status]

    @property
    def author_ids(self) -> tuple[str, ...]:
        return tuple(a.person_id for a in self.authors if a.person)

    @property
    def structure_ids(self) -> tuple[str, ...]:
        return tuple(s for a in self.authors for s in a.structure_ids if s)


@dataclass(frozen=True)
class SubmissionSet:
    entry_uuid: str
    unique_id: str
    ins: str
    patient_id: str
    source_id: str
    submission_time: str  # yyyyMMddHHmmss UTC
    metadata_xml: str
    authors: tuple[Author, ...] = ()
    content_type_code: Code | None = None
    title: str = ""
    comments: str = ""
    submitted_at: str = ""
    caller: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Association:
    entry_uuid: str
    type: str  # the full associationType URN
    source: str  # entryUUIDs
    target: str
    submission_set: str = ""
    slots: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Submission:
    """What one ITI-41 (or the seed) registers at once."""

    submission_set: SubmissionSet
    documents: tuple[Document, ...]
    contents: dict[str, bytes]  # uniqueId -> bytes
    associations: tuple[Association, ...] = ()
    deprecate: tuple[str, ...] = ()  # entryUUIDs made Deprecated by RPLC


class DocumentError(Exception):
    pass


def _code(data: dict[str, Any] | None) -> Code | None:
    return Code(**data) if data else None


def _author(data: dict[str, Any]) -> Author:
    fields: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
    return Author(**fields)


_COLUMNS = (
    "tenant, entry_uuid, unique_id, lid, version, status, kind, ins, ins_oid, patient_id, class_code, "
    "type_code, format_code, practice_setting_code, hcf_type_code, masked_ps, invisible_patient, "
    "invisible_representants, creation_time, service_start_time, service_stop_time, submission_set, "
    "submitted_at, data, metadata_xml"
)
_ROW_FIELDS = {
    "entry_uuid",
    "unique_id",
    "lid",
    "version",
    "status",
    "kind",
    "ins",
    "ins_oid",
    "patient_id",
    "masked_ps",
    "invisible_patient",
    "invisible_representants",
    "creation_time",
    "service_start_time",
    "service_stop_time",
    "submission_set",
    "submitted_at",
    "metadata_xml",
}
_CODE_FIELDS = ("class_code", "type_code", "format_code", "practice_setting_code", "hcf_type_code")


def _doc_row(tenant: str, d: Document) -> tuple[Any, ...]:
    data = asdict(d)
    for k in _ROW_FIELDS:
        data.pop(k)
    return (
        tenant,
        d.entry_uuid,
        d.unique_id,
        d.lid,
        d.version,
        d.status,
        d.kind,
        d.ins,
        d.ins_oid,
        d.patient_id,
        *[(getattr(d, k).code if getattr(d, k) else "") for k in _CODE_FIELDS],
        int(d.masked_ps),
        int(d.invisible_patient),
        int(d.invisible_representants),
        d.creation_time,
        d.service_start_time,
        d.service_stop_time,
        d.submission_set,
        d.submitted_at,
        json.dumps(data, ensure_ascii=False),
        d.metadata_xml,
    )


def _doc(row: dict[str, Any]) -> Document:
    data = json.loads(row["data"])
    for k in _CODE_FIELDS:
        data[k] = _code(data.get(k))
    data["event_codes"] = tuple(Code(**c) for c in data.get("event_codes", ()))
    data["confidentiality"] = tuple(Code(**c) for c in data.get("confidentiality", ()))
    data["authors"] = tuple(_author(a) for a in data.get("authors", ()))
    for k in ("source_patient_info", "reference_ids"):
        data[k] = tuple(data.get(k, ()))
    for k in _ROW_FIELDS:
        data[k] = row[k]
    for k in ("masked_ps", "invisible_patient", "invisible_representants"):
        data[k] = bool(data[k])
    return Document(**data)


def _set(row: dict[str, Any]) -> SubmissionSet:
    data = json.loads(row["data"])
    data["authors"] = tuple(_author(a) for a in data.get("authors", ()))
    data["content_type_code"] = _code(data.get("content_type_code"))
    for k in ("entry_uuid", "unique_id", "ins", "submission_time", "submitted_at", "metadata_xml"):
        data[k] = row[k]
    return SubmissionSet(**data)


def _assoc(row: dict[str, Any]) -> Association:
    return Association(
        row["entry_uuid"],
        row["type"],
        row["source"],
        row["target"],
        row["submission_set"],
        json.loads(row["slots"]),
    )


def visibility_of(confidentiality: Iterable[Code]) -> dict[str, bool]:
    """The three visibility flags from a confidentiality list (for `replace`)."""
    codes = {c.code for c in confidentiality}
    return {
        "masked_ps": "MASQUE_PS" in codes,
        "invisible_patient": "INVISIBLE_PATIENT" in codes,
        "invisible_representants": "INVISIBLE_REPRESENTANTS_LEGAUX" in codes,
    }


def xades_record(verdict: XadesVerdict) -> dict[str, Any]:
    """The stored form of the lot's XAdES verdict (`Document.xades`), for the API and the console."""
    signer = verdict.signer
    return {
        "valid": verdict.valid,
        "failures": [{"reason": f.reason, "message": f.message} for f in verdict.failures],
        "signer": {
            "subject": signer.subject,
            "kind": signer.kind,
            "persona": signer.persona,
            "status": signer.status,
            "serial": signer.serial,
        }
        if signer
        else None,  # fmt: skip
        "signing_time": verdict.signing_time_text or "",
        "signature_method": verdict.signature_method,
        "references": [{"unique_id": r.unique_id, "status": r.status} for r in verdict.references],
    }


class Documents:
    def __init__(self, store: Store):
        self.store = store

    # -- writing ---------------------------------------------------------------------------
    def insert_submission(self, tenant: str, sub: Submission) -> None:
        """Register a submission in one transaction; DocumentError on a duplicate uniqueId."""
        s = sub.submission_set
        set_data = asdict(s)
        for k in ("entry_uuid", "unique_id", "ins", "submission_time", "submitted_at", "metadata_xml"):
            set_data.pop(k)
        with self.store.tx():
            for d in sub.documents:
                if d.version == 1 and self.exists(tenant, d.unique_id):
                    raise DocumentError(f"uniqueId already registered: {d.unique_id}")
            self.store.execute(
                "INSERT INTO dmp_submission_sets (tenant, entry_uuid, unique_id, ins, submission_time, "
                "submitted_at, data, metadata_xml) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    tenant,
                    s.entry_uuid,
                    s.unique_id,
                    s.ins,
                    s.submission_time,
                    s.submitted_at,
                    json.dumps(set_data, ensure_ascii=False),
                    s.metadata_xml,
                ),
            )
            for entry_uuid in sub.deprecate:
                self.set_status(tenant, entry_uuid, "Deprecated")
            for d in sub.documents:
                self._insert(tenant, d)
            for unique_id, content in sub.contents.items():
                self.store.execute(
                    "INSERT OR REPLACE INTO dmp_document_content (tenant, unique_id, content) VALUES (?, ?, ?)",
                    (tenant, unique_id, content),
                )
            for a in sub.associations:
                self.add_association(tenant, a)

    def _insert(self, tenant: str, d: Document) -> None:
        marks = ", ".join("?" * len(_COLUMNS.split(",")))
        self.store.execute(f"INSERT INTO dmp_documents ({_COLUMNS}) VALUES ({marks})", _doc_row(tenant, d))

    def add_association(self, tenant: str, a: Association) -> None:
        self.store.execute(
            "INSERT INTO dmp_associations (tenant, entry_uuid, type, source, target, submission_set, slots) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (tenant, a.entry_uuid, a.type, a.source, a.target, a.submission_set, json.dumps(a.slots)),
        )

    def new_version(
        self,
        tenant: str,
        entry_uuid: str,
        new_entry_uuid: str,
        metadata_xml: str,
        submission_set: str = "",
        submitted_at: str = "",
        **changes: Any,
    ) -> Document:
        """A new metadata version of the document whose current version is `entry_uuid` (ITI-57):
        same lid and uniqueId, version + 1, the fields in `changes` replaced (give `confidentiality`
        with its `visibility_of` flags); the previous version becomes Deprecated. DocumentError when
        `entry_uuid` is not the latest version of its document."""
        with self.store.tx():
            current = self.get(tenant, entry_uuid=entry_uuid)
            if current is None:
                raise DocumentError(f"unknown entryUUID: {entry_uuid}")
            latest = self.get(tenant, lid=current.lid)
            if latest is None or latest.entry_uuid != entry_uuid:
                raise DocumentError(f"not the latest version: {entry_uuid}")
            if "confidentiality" in changes:
                changes = {**visibility_of(changes["confidentiality"]), **changes}
            new = replace(
                current,
                entry_uuid=new_entry_uuid,
                version=current.version + 1,
                metadata_xml=metadata_xml,
                submission_set=submission_set or current.submission_set,
                submitted_at=submitted_at or current.submitted_at,
                **changes,
            )
            previous_status = current.status
            self.set_status(tenant, entry_uuid, "Deprecated")
            self._insert(tenant, replace(new, status=changes.get("status", previous_status)))
        found = self.get(tenant, entry_uuid=new_entry_uuid)
        assert found is not None
        return found

    def set_status(self, tenant: str, entry_uuid: str, status: Status) -> bool:
        if status not in STATUSES:
            raise ValueError(f"not a status: {status}")
        cur = self.store.execute(
            "UPDATE dmp_documents SET status = ? WHERE tenant = ? AND entry_uuid = ?",
            (status, tenant, entry_uuid),
        )
        return bool(cur.rowcount)

    def update(self, tenant: str, entry_uuid: str, **changes: Any) -> Document:
        """Change fields of one version in place (CDA verdict arriving later, report id...)."""
        with self.store.tx():
            current = self.get(tenant, entry_uuid=entry_uuid)
            if current is None:
                raise DocumentError(f"unknown entryUUID: {entry_uuid}")
            new = replace(current, **changes)
            self.store.execute(
                "DELETE FROM dmp_documents WHERE tenant = ? AND entry_uuid = ?", (tenant, entry_uuid)
            )
            self._insert(tenant, new)
        return new

    # -- reading ---------------------------------------------------------------------------
    def exists(self, tenant: str, unique_id: str) -> bool:
        return (
            self.store.one(
                "SELECT 1 FROM dmp_documents WHERE tenant = ? AND unique_id = ? LIMIT 1", (tenant, unique_id)
            )
            is not None
        )

    def get(
        self, tenant: str, *, unique_id: str = "", entry_uuid: str = "", lid: str = ""
    ) -> Document | None:
        """By entryUUID: that version. By uniqueId or lid: the latest version."""
        if entry_uuid:
            row = self.store.one(
                "SELECT * FROM dmp_documents WHERE tenant = ? AND entry_uuid = ?", (tenant, entry_uuid)
            )
        elif unique_id:
            row = self.store.one(
                "SELECT * FROM dmp_documents WHERE tenant = ? AND unique_id = ? ORDER BY version DESC LIMIT 1",
                (tenant, unique_id),
            )
        elif lid:
            row = self.store.one(
                "SELECT * FROM dmp_documents WHERE tenant = ? AND lid = ? ORDER BY version DESC LIMIT 1",
                (tenant, lid),
            )
        else:
            raise ValueError("give unique_id, entry_uuid or lid")
        return _doc(row) if row else None

    def versions(self, tenant: str, lid: str) -> list[Document]:
        rows = self.store.query(
            "SELECT * FROM dmp_documents WHERE tenant = ? AND lid = ? ORDER BY version", (tenant, lid)
        )
        return [_doc(r) for r in rows]

    def by_patient(
        self,
        tenant: str,
        ins: str,
        statuses: Sequence[str] | None = None,
        kinds: Sequence[str] = ("document",),
        latest_only: bool = True,
    ) -> list[Document]:
        """The patient's documents (latest version of each unless `latest_only` is False), oldest
        submission first; `statuses` short names (None: every status)."""
        sql = "SELECT * FROM dmp_documents d WHERE tenant = ? AND ins = ?"
        params: list[Any] = [tenant, ins[:15]]
        if latest_only:
            sql += " AND version = (SELECT MAX(version) FROM dmp_documents m WHERE m.tenant = d.tenant AND m.lid = d.lid)"
        if statuses is not None:
            sql += f" AND status IN ({', '.join('?' * len(statuses))})"
            params += list(statuses)
        if kinds:
            sql += f" AND kind IN ({', '.join('?' * len(kinds))})"
            params += list(kinds)
        sql += " ORDER BY submitted_at, rowid"
        return [_doc(r) for r in self.store.query(sql, params)]

    def last_submission(self, tenant: str, ins: str) -> str:
        """When the patient's last document was fed (yyyyMMddHHmmss on the tenant clock), "" for none."""
        rows = self.store.query(
            "SELECT MAX(submitted_at) AS at FROM dmp_documents WHERE tenant = ? AND ins = ? AND kind = 'document'",
            [tenant, ins[:15]],
        )
        at = (rows[0]["at"] if rows else "") or ""
        return re.sub(r"\D", "", at)[:14]

    def patients(self, tenant: str) -> list[str]:
        return [
            r["ins"]
            for r in self.store.query(
                "SELECT DISTINCT ins FROM dmp_documents WHERE tenant = ? ORDER BY ins", (tenant,)
            )
        ]

    def content(self, tenant: str, unique_id: str) -> bytes | None:
        row = self.store.one(
            "SELECT content FROM dmp_document_content WHERE tenant = ? AND unique_id = ?", (tenant, unique_id)
        )
        return bytes(row["content"]) if row else None

    def submission_set(
        self, tenant: str, *, entry_uuid: str = "", unique_id: str = ""
    ) -> SubmissionSet | None:
        if entry_uuid:
            row = self.store.one(
                "SELECT * FROM dmp_submission_sets WHERE tenant = ? AND entry_uuid = ?", (tenant, entry_uuid)
            )
        else:
            row = self.store.one(
                "SELECT * FROM dmp_submission_sets WHERE tenant = ? AND unique_id = ?", (tenant, unique_id)
            )
        return _set(row) if row else None

    def submission_sets(self, tenant: str, ins: str) -> list[SubmissionSet]:
        rows = self.store.query(
            "SELECT * FROM dmp_submission_sets WHERE tenant = ? AND ins = ? ORDER BY submission_time, rowid",
            (tenant, ins[:15]),
        )
        return [_set(r) for r in rows]

    def associations(
        self, tenant: str, *, source: str = "", target: str = "", type: str = "", either: str = ""
    ) -> list[Association]:
        """Associations filtered by source / target / type; `either`: source or target."""
        sql = "SELECT * FROM dmp_associations WHERE tenant = ?"
        params: list[Any] = [tenant]
        for column, value in (("source", source), ("target", target), ("type", type)):
            if value:
                sql += f" AND {column} = ?"
                params.append(value)
        if either:
            sql += " AND (source = ? OR target = ?)"
            params += [either, either]
        sql += " ORDER BY rowid"
        return [_assoc(r) for r in self.store.query(sql, params)]
