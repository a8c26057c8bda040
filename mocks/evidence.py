"""The evidence ledger: durable typed facts that services establish and other services (and the
Ségur scoreboard) rely on, apart from the journal.

    sandbox.evidence.append(tenant, "ins.qualified", subject=ins, data={...}, exchange=ex)
    sandbox.evidence.find(tenant, kind="ins.qualified", subject=ins)
    sandbox.evidence.wait(tenant, timeout, kind=..., count=...)

A fact is `{id, tenant, kind, subject, at (tenant clock), data, service, journal_id, trace_id}`.
It is tenant-keyed (reset and export see it like any per-tenant table) and is **not** pruned
with the journal: a fact stays true after the exchange that proved it is gone. Kinds in use (this
list is the contract between the services that write them and the readers, the Ségur
scoreboard first; a writer may add fields, never rename these):

    ins.qualified            subject: the INS matricule (13 characters, as INSi returns it)
                             {ins, oid, traits_hash, auth_mode, caller, operation, via: insi|apcv}
    dmp.document.accepted    subject: the document uniqueId (ITI-41 accepted by the DMP)
                             {ins, ins_qualified: bool, type_code, format_code, class_code,
                              author_rpps, structure (idNat_Struct), auth_mode (DIRECTE|INDIRECTE|
                              INDIRECTE_RENFORCEE), caller, confidentiality: [codes], replaces
                              (uniqueId or ""), cda_errors: int | None (None: no verdict yet),
                              via_third_party: bool}
    dmp.document.updated     subject: the uniqueId (ITI-57 accepted) {action: mask|unmask|
                              invisible_patient|visible_patient|delete|archive|unarchive, caller}
    mss.message.accepted     subject: the Message-ID (an SMTP submission accepted by MSSanté)
                             {sender (address), sender_rpps, structure, sender_kind: PER|ORG|APP|CAB,
                              recipients: [{address, kind: PER|ORG|APP|CAB|patient|citizen_test|
                              external}], documents: [{uniqueId, type_code, ins, ins_qualified}],
                              xdm: bool, via_third_party: bool}
    mss.delivered.citizen    subject: the Message-ID of a message that reached the configured test
                              citizen address {address, sender, sender_rpps, structure}
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mocks.store import Store

if TYPE_CHECKING:
    from mocks.kernel import Exchange

KIND = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")

MIGRATIONS = [
    """
    CREATE TABLE evidence (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        tenant TEXT NOT NULL,
        kind TEXT NOT NULL,
        subject TEXT NOT NULL DEFAULT '',
        at TEXT NOT NULL,
        service TEXT NOT NULL DEFAULT '',
        journal_id INTEGER,
        trace_id TEXT NOT NULL DEFAULT '',
        data TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX evidence_kind ON evidence(tenant, kind, subject)
    """
]

COLUMNS = ("tenant", "kind", "subject", "at", "service", "journal_id", "trace_id", "data")
INSERT = f"INSERT INTO evidence({', '.join(COLUMNS)}) VALUES ({', '.join(':' + c for c in COLUMNS)})"

FILTERS = {
    "kind": "kind = :kind",
    "subject": "subject = :subject",
    "service": "service = :service",
    "after_id": "id > :after_id",
    "since": "at >= :since",
}


class Evidence:
    def __init__(self, store: Store, now_iso: Callable[[str], str]):
        self.store = store
        self._now_iso = now_iso
        self._appended = threading.Condition()

    def append(
        self,
        tenant: str,
        kind: str,
        subject: str = "",
        data: dict[str, Any] | None = None,
        exchange: Exchange | None = None,
    ) -> int | None:
        """Record a fact, committed before the exchange's answer leaves (it survives a kill -9).

        Given an exchange still to be journaled, the fact is written in the journal entry's
        transaction when the exchange ends (one commit a request; `journal_id` set, the entry's
        `details.evidence` listing it): it is visible from then on, and None is returned. Without
        one, it is committed now and its id returned."""
        if not KIND.match(kind):
            raise ValueError(f"evidence kind {kind!r}: dotted lower-case words, e.g. ins.qualified")
        row = {
            "tenant": tenant,
            "kind": kind,
            "subject": subject,
            "at": self._now_iso(tenant),
            "service": exchange.service if exchange else "",
            "journal_id": exchange.entry_id if exchange else None,
            "trace_id": exchange.trace_id if exchange else "",
            "data": json.dumps(data or {}, ensure_ascii=False, default=str, sort_keys=True),
        }
        if exchange is not None and exchange.journal and not exchange.recorded:
            exchange.facts.append(row)
            exchange.details.setdefault("evidence", [])  # the ids, once written
            return None
        with self.store.tx() as conn:
            (new_id,) = self.write(conn, [row])
        self.notify()
        return new_id

    @staticmethod
    def write(conn: sqlite3.Connection, rows: list[dict[str, Any]]) -> list[int]:
        """Insert facts in the caller's transaction (the journal's, for an exchange's facts)."""
        return [int(conn.execute(INSERT, row).lastrowid or 0) for row in rows]

    def link(self, evidence_ids: list[int], journal_id: int, conn: sqlite3.Connection | None = None) -> None:
        """Point facts at the journal entry of the exchange that established them (in the
        caller's transaction when `conn` is given)."""
        (conn or self.store.conn).execute(
            f"UPDATE evidence SET journal_id = ? WHERE id IN ({', '.join('?' * len(evidence_ids))})",
            (journal_id, *evidence_ids),
        )

    def notify(self) -> None:
        """Wake the waits of this process (after a commit of facts)."""
        with self._appended:
            self._appended.notify_all()

    @staticmethod
    def parse_filter(raw: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(raw) - set(FILTERS))
        if unknown:
            raise ValueError(
                f"unknown evidence filter {', '.join(unknown)}; valid: {', '.join(sorted(FILTERS))}"
            )
        out: dict[str, Any] = {}
        for key, value in raw.items():
            if value is None or value == "":
                continue
            if key == "after_id":
                try:
                    out[key] = int(value)
                except (TypeError, ValueError):
                    raise ValueError("evidence filter after_id must be an integer") from None
                if not 0 <= out[key] < 2**63:
                    raise ValueError("evidence filter after_id is out of range")
            else:
                out[key] = str(value)
        return out

    def _where(self, tenant: str, flt: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        clauses = ["tenant = :tenant", *(FILTERS[k] for k in flt)]
        return " AND ".join(clauses), {"tenant": tenant, **flt}

    def find(
        self, tenant: str, limit: int = 1000, offset: int = 0, newest_first: bool = False, **flt: Any
    ) -> list[dict[str, Any]]:
        where, params = self._where(tenant, self.parse_filter(flt))
        order = "DESC" if newest_first else "ASC"
        rows = self.store.query(
            f"SELECT * FROM evidence WHERE {where} ORDER BY id {order} LIMIT :limit OFFSET :offset",
            {**params, "limit": limit, "offset": offset},
        )
        return [self._out(r) for r in rows]

    def count(self, tenant: str, **flt: Any) -> int:
        where, params = self._where(tenant, self.parse_filter(flt))
        row = self.store.one(f"SELECT COUNT(*) AS n FROM evidence WHERE {where}", params)
        return int(row["n"]) if row else 0

    def exists(self, tenant: str, kind: str, subject: str) -> bool:
        return (
            self.store.one(
                "SELECT 1 AS x FROM evidence WHERE tenant = ? AND kind = ? AND subject = ? LIMIT 1",
                (tenant, kind, subject),
            )
            is not None
        )

    def wait(self, tenant: str, timeout: float, count: int = 1, **flt: Any) -> list[dict[str, Any]] | None:
        """Block until at least `count` facts match (oldest first), None on time-out. Wakes at once
        on an append in this process, and re-reads the store every 100 ms for other processes."""
        deadline = time.monotonic() + timeout
        while True:
            if self.count(tenant, **flt) >= count:
                return self.find(tenant, limit=count, **flt)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            with self._appended:
                self._appended.wait(min(0.1, remaining))

    @staticmethod
    def _out(row: dict[str, Any]) -> dict[str, Any]:
        return {**row, "data": json.loads(row["data"])}
