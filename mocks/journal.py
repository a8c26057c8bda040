"""The journal: one entry per exchange with the sandbox, bounded, queryable, and waitable.

`wait` long-polls on the server side so that tests never poll in a loop: it wakes up at once on
an append in this process and re-reads the store every 100 ms for appends made by other
processes (the compose containers share the store).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from typing import Any

from mocks.store import Store

log = logging.getLogger("segur")

MIGRATIONS = [
    """
    CREATE TABLE journal (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,
        tenant TEXT NOT NULL,
        service TEXT NOT NULL,
        operation TEXT NOT NULL,
        caller TEXT NOT NULL DEFAULT '',
        persona TEXT NOT NULL DEFAULT '',
        status INTEGER NOT NULL,
        outcome TEXT NOT NULL DEFAULT '',
        duration_ms REAL NOT NULL DEFAULT 0,
        request_size INTEGER NOT NULL DEFAULT 0,
        response_size INTEGER NOT NULL DEFAULT 0,
        trace_id TEXT NOT NULL DEFAULT '',
        findings TEXT NOT NULL DEFAULT '[]',
        finding_count INTEGER NOT NULL DEFAULT 0,
        details TEXT NOT NULL DEFAULT '{}',
        request_body TEXT,
        response_body TEXT,
        body_bytes INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX journal_tenant_service ON journal(tenant, service, operation);
    CREATE INDEX journal_trace ON journal(trace_id)
    """
]

# Appended to the kernel's migrations (mocks.kernel, after every older step): a tenant's page of
# the journal, newest first, reads 50 rows of this index instead of sorting all the tenant's rows.
TENANT_ORDER_INDEX = "CREATE INDEX journal_tenant_id ON journal(tenant, id)"

# filter name -> SQL condition (parameter bound by name)
FILTERS = {
    "tenant": "tenant = :tenant",
    "service": "service = :service",
    "operation": "operation = :operation",
    "status": "status = :status",
    "caller": "caller LIKE '%' || :caller || '%'",
    "persona": "persona = :persona",
    "outcome": "outcome = :outcome",
    "trace_id": "trace_id = :trace_id",
    "after_id": "id > :after_id",
    "has_findings": "(finding_count > 0) = :has_findings",
    "rule": "EXISTS (SELECT 1 FROM json_each(journal.findings) WHERE json_extract(value, '$.rule') = :rule)",
}
INT_FILTERS = {"status", "after_id"}
BOOL_FILTERS = {"has_findings"}
PRUNE_EVERY = 200


class Journal:
    def __init__(self, store: Store, max_entries: int, max_bytes: int, keep_bodies: bool):
        self.store = store
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.keep_bodies = keep_bodies
        self._appended = threading.Condition()
        self._since_prune = 0

    def append(self, entry: dict[str, Any]) -> int:
        findings = entry.get("findings") or []
        request_body = entry.get("request_body") if self.keep_bodies else None
        response_body = entry.get("response_body") if self.keep_bodies else None
        row = {
            "at": entry["at"],
            "tenant": entry["tenant"],
            "service": entry["service"],
            "operation": entry["operation"],
            "caller": entry.get("caller") or "",
            "persona": entry.get("persona") or "",
            "status": int(entry["status"]),
            "outcome": entry.get("outcome") or "",
            "duration_ms": round(float(entry.get("duration_ms") or 0), 3),
            "request_size": int(entry.get("request_size") or 0),
            "response_size": int(entry.get("response_size") or 0),
            "trace_id": entry.get("trace_id") or "",
            "findings": json.dumps(findings, ensure_ascii=False),
            "finding_count": len(findings),
            "details": json.dumps(entry.get("details") or {}, ensure_ascii=False, default=str),
            "request_body": request_body,
            "response_body": response_body,
            "body_bytes": len(request_body or "") + len(response_body or ""),
        }
        cursor = self.store.execute(
            f"INSERT INTO journal({', '.join(row)}) VALUES ({', '.join(':' + k for k in row)})", row
        )
        new_id = int(cursor.lastrowid or 0)
        self._log(row)
        with self._appended:
            self._appended.notify_all()
            self._since_prune += 1
            prune = self._since_prune >= PRUNE_EVERY
            if prune:
                self._since_prune = 0
        if prune:
            self.prune()
        return new_id

    @staticmethod
    def _log(row: dict[str, Any]) -> None:
        n = row["finding_count"]
        tail = f" ({n} finding{'s' if n != 1 else ''})" if n else ""
        outcome = f" {row['outcome']}" if row["outcome"] else ""
        tenant = f" [{row['tenant']}]" if row["tenant"] != "default" else ""
        log.info(
            "%s %s => %s%s%s%s",
            row["service"].upper(),
            row["operation"],
            row["status"],
            outcome,
            tail,
            tenant,
        )

    def prune(self) -> int:
        """Keep at most max_entries entries and max_bytes of bodies, dropping the oldest."""
        deleted = 0
        with self.store.tx() as conn:
            last = conn.execute("SELECT MAX(id) FROM journal").fetchone()[0] or 0
            deleted += conn.execute("DELETE FROM journal WHERE id <= ?", (last - self.max_entries,)).rowcount
            total = conn.execute("SELECT COALESCE(SUM(body_bytes), 0) FROM journal").fetchone()[0]
            if total > self.max_bytes:
                # drop the oldest entries until the newest ones fit in max_bytes
                cut = conn.execute(
                    "SELECT id FROM (SELECT id, SUM(body_bytes) OVER (ORDER BY id DESC) AS kept FROM journal) "
                    "WHERE kept > ? ORDER BY id DESC LIMIT 1",
                    (self.max_bytes,),
                ).fetchone()
                if cut:
                    deleted += conn.execute("DELETE FROM journal WHERE id <= ?", (cut[0],)).rowcount
        return deleted

    def attach_findings(self, entry_id: int, findings: list[dict[str, Any]], details: dict[str, Any]) -> bool:
        """Add findings (and details keys) to an existing entry: a verdict that arrives after the
        answer (the CDA engine in report mode). False when the entry is gone (pruned)."""
        with self.store.tx() as conn:
            row = conn.execute("SELECT findings, details FROM journal WHERE id = ?", (entry_id,)).fetchone()
            if row is None:
                return False
            merged = json.loads(row[0]) + findings
            conn.execute(
                "UPDATE journal SET findings = ?, finding_count = ?, details = ? WHERE id = ?",
                (
                    json.dumps(merged, ensure_ascii=False),
                    len(merged),
                    json.dumps({**json.loads(row[1]), **details}, ensure_ascii=False, default=str),
                    entry_id,
                ),
            )
        with self._appended:
            self._appended.notify_all()
        return True

    # -- queries -----------------------------------------------------------------------------
    @staticmethod
    def parse_filter(raw: dict[str, Any]) -> dict[str, Any]:
        """Check and type a filter; raises ValueError naming the wrong key or value."""
        unknown = sorted(set(raw) - set(FILTERS))
        if unknown:
            raise ValueError(
                f"unknown journal filter {', '.join(unknown)}; valid: {', '.join(sorted(FILTERS))}"
            )
        out: dict[str, Any] = {}
        for key, value in raw.items():
            if value is None or value == "":
                continue
            if key in INT_FILTERS:
                try:
                    out[key] = int(value)
                except (TypeError, ValueError):
                    raise ValueError(f"journal filter {key} must be an integer") from None
            elif key in BOOL_FILTERS:
                if str(value).lower() not in {"true", "false", "1", "0"}:
                    raise ValueError(f"journal filter {key} must be true or false")
                out[key] = 1 if str(value).lower() in {"true", "1"} else 0
            else:
                out[key] = str(value)
        return out

    def _where(self, flt: dict[str, Any]) -> str:
        return " AND ".join(FILTERS[k] for k in flt) or "1"

    def find(
        self,
        flt: dict[str, Any],
        limit: int = 100,
        offset: int = 0,
        bodies: bool = False,
        newest_first: bool = True,
    ) -> list[dict[str, Any]]:
        order = "DESC" if newest_first else "ASC"
        rows = self.store.query(
            f"SELECT * FROM journal WHERE {self._where(flt)} ORDER BY id {order} LIMIT :limit OFFSET :offset",
            {**flt, "limit": limit, "offset": offset},
        )
        return [self._entry(r, bodies) for r in rows]

    def count(self, flt: dict[str, Any]) -> int:
        row = self.store.one(f"SELECT COUNT(*) AS n FROM journal WHERE {self._where(flt)}", flt)
        return int(row["n"]) if row else 0

    def get(self, entry_id: int) -> dict[str, Any] | None:
        row = self.store.one("SELECT * FROM journal WHERE id = ?", (entry_id,))
        return self._entry(row, True) if row else None

    def wait(self, flt: dict[str, Any], timeout: float, count: int = 1) -> list[dict[str, Any]] | None:
        """Block until at least `count` entries match (oldest first), or return None on time-out."""
        deadline = time.monotonic() + timeout
        while True:
            if self.count(flt) >= count:
                return self.find(flt, limit=count, newest_first=False)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            with self._appended:
                self._appended.wait(min(0.1, remaining))

    def clear(self, tenant: str | None = None) -> int:
        if tenant is None:
            return self.store.execute("DELETE FROM journal").rowcount
        return self.store.execute("DELETE FROM journal WHERE tenant = ?", (tenant,)).rowcount

    @staticmethod
    def _entry(row: dict[str, Any], bodies: bool) -> dict[str, Any]:
        entry = dict(row)
        entry["findings"] = json.loads(entry["findings"])
        entry["details"] = json.loads(entry["details"])
        entry.pop("body_bytes", None)
        if not bodies:
            entry.pop("request_body", None)
            entry.pop("response_body", None)
        return entry
