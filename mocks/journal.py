"""The journal: one entry per exchange with the sandbox, bounded, queryable, and waitable.

`wait` long-polls on the server side so that tests never poll in a loop: it wakes up at once on
an append in this process and re-reads the store every 100 ms for appends made by other
processes (the compose containers share the store).

Pruning (at most `max_entries` entries and `max_bytes` of bodies) never runs on a request: every
PRUNE_EVERY appends wake a background thread (`journal-prune`), which reads the running totals
(`journal_stats`, kept by triggers) and deletes the oldest entries by id range.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
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
# a component of its own ("kernel-journal"), so that its steps never shift the kernel's numbering
STATS_MIGRATIONS = [
    # running totals kept by triggers (in every process's transactions), so that pruning reads
    # two numbers and walks the oldest ids instead of summing the table
    """
    CREATE TABLE journal_stats (id INTEGER PRIMARY KEY CHECK (id = 1), entries INTEGER NOT NULL, body_bytes INTEGER NOT NULL);
    INSERT INTO journal_stats VALUES (1, (SELECT COUNT(*) FROM journal), (SELECT COALESCE(SUM(body_bytes), 0) FROM journal));
    CREATE TRIGGER journal_stats_insert AFTER INSERT ON journal BEGIN UPDATE journal_stats SET entries = entries + 1, body_bytes = body_bytes + NEW.body_bytes WHERE id = 1; END;
    CREATE TRIGGER journal_stats_delete AFTER DELETE ON journal BEGIN UPDATE journal_stats SET entries = entries - 1, body_bytes = body_bytes - OLD.body_bytes WHERE id = 1; END
    """,
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
INSERT = (
    "INSERT INTO journal(at, tenant, service, operation, caller, persona, status, outcome, duration_ms, "
    "request_size, response_size, trace_id, findings, finding_count, details, request_body, response_body, "
    "body_bytes) VALUES (:at, :tenant, :service, :operation, :caller, :persona, :status, :outcome, "
    ":duration_ms, :request_size, :response_size, :trace_id, :findings, :finding_count, :details, "
    ":request_body, :response_body, :body_bytes)"
)
PRUNE_EVERY = 200
PRUNER_IDLE = 30.0  # seconds the pruning thread waits for work before it ends
PRUNE_LAST = "SELECT MAX(id) FROM journal"
PRUNE_STATS = "SELECT entries, body_bytes FROM journal_stats WHERE id = 1"
PRUNE_BELOW = "DELETE FROM journal WHERE id < ?"
PRUNE_OLDEST = "SELECT id, body_bytes FROM journal WHERE id > ? ORDER BY id LIMIT 500"


def _details(details: dict[str, Any]) -> str:
    return json.dumps(details, ensure_ascii=False, default=str)


@dataclass
class _Pending:
    row: dict[str, Any]
    then: Callable[[sqlite3.Connection, int], None] | None
    before: Callable[[sqlite3.Connection], dict[str, Any]] | None = None
    details: dict[str, Any] | None = None  # written by _write when `before` adds to them
    id: int | None = None
    error: BaseException | None = None


class Journal:
    def __init__(self, store: Store, max_entries: int, max_bytes: int, keep_bodies: bool):
        self.store = store
        store.migrate("kernel-journal", STATS_MIGRATIONS)
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.keep_bodies = keep_bodies
        self._appended = threading.Condition()
        self._since_prune = 0
        self._prune_lock = threading.Lock()
        self._prune_wanted = threading.Event()
        self._pruner: threading.Thread | None = None
        self._pruned = 0
        self._pending: list[_Pending] = []
        self._pending_lock = threading.Lock()
        self._writer = threading.Lock()

    def append(
        self,
        entry: dict[str, Any],
        then: Callable[[sqlite3.Connection, int], None] | None = None,
        before: Callable[[sqlite3.Connection], dict[str, Any]] | None = None,
    ) -> int:
        """Journal an exchange (committed when this returns). In the same transaction,
        `before(conn)` runs first and returns keys added to the entry's details (the ids of the
        exchange's evidence), `then(conn, id)` runs after the entry is written (the evidence's
        link to it). Concurrent appends share one commit (group commit): the first thread in
        writes every entry waiting, the others find theirs written."""
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
            "details": "" if before is not None else _details(entry.get("details") or {}),
            "request_body": request_body,
            "response_body": response_body,
            "body_bytes": len(request_body or "") + len(response_body or ""),
        }
        item = _Pending(row, then, before, entry.get("details") or {})
        with self._pending_lock:
            self._pending.append(item)
        with self._writer:
            if item.id is None and item.error is None:
                with self._pending_lock:
                    batch, self._pending = self._pending, []
                self._write(batch)
        if item.error is not None:
            raise item.error
        assert item.id is not None
        new_id = item.id
        self._log(row)
        with self._appended:
            self._appended.notify_all()
            self._since_prune += 1
            prune = self._since_prune >= PRUNE_EVERY
            if prune:
                self._since_prune = 0
        if prune:
            self._wake_pruner()
        return new_id

    def _write(self, batch: list[_Pending]) -> None:
        try:
            with self.store.tx() as conn:
                for item in batch:
                    if item.before is not None:
                        item.row["details"] = _details({**(item.details or {}), **item.before(conn)})
                    cursor = conn.execute(INSERT, item.row)
                    item.id = int(cursor.lastrowid or 0)
                    if item.then is not None:
                        item.then(conn, item.id)
        except BaseException as exc:  # noqa: BLE001 - every waiting append learns it
            for item in batch:
                item.id, item.error = None, exc
            raise

    def _wake_pruner(self) -> None:
        with self._prune_lock:
            self._prune_wanted.set()
            if self._pruner is None:
                self._pruner = threading.Thread(target=self._prune_loop, name="journal-prune", daemon=True)
                self._pruner.start()

    def _prune_loop(self) -> None:
        while True:
            if not self._prune_wanted.wait(PRUNER_IDLE):
                with self._prune_lock:
                    if not self._prune_wanted.is_set():  # idle: the next append starts a new one
                        self._pruner = None
                        return
            self._prune_wanted.clear()
            try:
                self.prune()
            except Exception:  # noqa: BLE001 - retried at the next wake-up
                log.exception("journal pruning failed")
            finally:
                with self._appended:
                    self._pruned += 1
                    self._appended.notify_all()

    def settle(self, timeout: float = 10) -> None:
        """Wait until a pruning asked for has run (tests and benchmarks)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._prune_lock:
                if self._pruner is None or not self._prune_wanted.is_set():
                    break
            time.sleep(0.005)
        with self._prune_lock:
            busy = self._pruner is not None
        if busy:  # a pass may be under way: wait for the next one to finish
            with self._appended:
                seen = self._pruned
                self._prune_wanted.set()
                self._appended.wait_for(lambda: self._pruned > seen, timeout)

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
        """Keep at most max_entries entries and max_bytes of bodies, dropping the oldest (by id:
        the primary key's order, never a scan of the table)."""
        deleted = 0
        with self.store.tx() as conn:
            last = conn.execute(PRUNE_LAST).fetchone()[0] or 0
            if conn.execute(PRUNE_STATS).fetchone()[0] > self.max_entries:
                deleted += conn.execute(PRUNE_BELOW, (last - self.max_entries + 1,)).rowcount
            excess = conn.execute(PRUNE_STATS).fetchone()[1] - self.max_bytes
            if excess > 0:
                cut, freed = None, 0
                while freed < excess:  # the oldest first, 500 at a time along the primary key
                    rows = conn.execute(PRUNE_OLDEST, (cut or 0,)).fetchall()
                    if not rows:
                        break
                    for row_id, size in rows:
                        cut, freed = row_id, freed + size
                        if freed >= excess:
                            break
                if cut is not None:
                    deleted += conn.execute(PRUNE_BELOW, (cut + 1,)).rowcount
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
