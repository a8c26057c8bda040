"""The store: one SQLite file in the data folder, shared by every process of the sandbox.

- WAL journal, `synchronous=NORMAL`: a committed transaction survives the process being killed
  at any moment (it is in the WAL, which SQLite replays), and readers never block the writer.
- Checkpoints off the request path: SQLite's automatic checkpoint runs (with its fsync) in
  whichever commit crosses 1,000 WAL pages, i.e. inside a request. A background thread per
  process (`store-checkpoint`) checkpoints instead (PASSIVE: it never blocks readers or writers)
  while the store is being written; the automatic one stays as a bound, at WAL_BOUND pages, for
  when that thread falls behind. Durability is unchanged: a commit is in the WAL either way.
- One connection per thread (sqlite3 connections are not shared across threads), wrapped in a
  `sqlite_utils.Database` for convenient table access.
- Forward-only migrations per component (`kernel`, `insi`, ...), applied under `BEGIN IMMEDIATE`
  so that several processes starting together apply each step once.
- Conventions that make reset and export generic: a table holding per-tenant state has a
  `tenant` column; a service's tables are named `<service>_...`.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import sqlite_utils

# A migration step: SQL script, or a function given the raw connection (inside the transaction).
Migration = str | Callable[[sqlite3.Connection], None]

log = logging.getLogger("segur")

BUSY_TIMEOUT_MS = 15000
CHECKPOINT_EVERY = 0.25  # seconds between background checkpoints while the store is written
CHECKPOINT_IDLE = 30.0  # seconds without a write before the checkpoint thread ends
WAL_BOUND = 10000  # pages (~40 MB): the automatic checkpoint, a request's, only past this


class Store:
    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._writes = 0  # write transactions begun in this process (the checkpointer watches it)
        self._checkpointer: threading.Thread | None = None
        self._closed = threading.Event()
        conn = self.conn
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(
            "CREATE TABLE IF NOT EXISTS _schema (component TEXT PRIMARY KEY, version INTEGER NOT NULL)"
        )

    # -- connections -------------------------------------------------------------------------
    @property
    def conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(
                self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
            )
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute(f"PRAGMA wal_autocheckpoint={WAL_BOUND}")
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    @property
    def db(self) -> sqlite_utils.Database:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite_utils.Database(self.conn)
            self._local.db = db
        return db

    def close(self) -> None:
        self._closed.set()
        thread = self._checkpointer
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)
        with self._lock:
            for conn in self._all:
                with suppress(sqlite3.Error):
                    conn.close()
            self._all.clear()
        self._local = threading.local()

    # -- transactions ------------------------------------------------------------------------
    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """A write transaction (BEGIN IMMEDIATE): all or nothing. Nested calls join the outer one."""
        conn = self.conn
        if conn.in_transaction:
            yield conn
            return
        conn.execute("BEGIN IMMEDIATE")
        self._local.after = []
        try:
            yield conn
        except BaseException:
            self._local.after = []
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        self.wrote()
        after, self._local.after = self._local.after, []
        for callback in after:
            callback()

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Call `callback` once this thread's transaction commits (at once outside one; never if
        it rolls back): wake-ups that must not see the rows before they are committed."""
        pending = getattr(self._local, "after", None)
        if not self.conn.in_transaction or pending is None:  # (a BEGIN outside tx(): no hook)
            callback()
            return
        pending.append(callback)

    # -- checkpoints (off the request path) ----------------------------------------------------
    def wrote(self) -> None:
        """Note a write (tx() calls it; a writer outside tx() may): the checkpoint thread runs
        while writes come, and ends after CHECKPOINT_IDLE seconds without one."""
        self._writes += 1
        if self._checkpointer is None and not self._closed.is_set():
            with self._lock:
                if self._checkpointer is None:
                    self._checkpointer = threading.Thread(
                        target=self._checkpoint_loop, name="store-checkpoint", daemon=True
                    )
                    self._checkpointer.start()

    def _checkpoint_loop(self) -> None:
        seen, idle = -1, 0.0
        conn: sqlite3.Connection | None = None
        try:
            conn = sqlite3.connect(self.path, timeout=0, isolation_level=None, check_same_thread=False)
            while not self._closed.wait(CHECKPOINT_EVERY):
                if self._writes == seen:
                    idle += CHECKPOINT_EVERY
                    if idle >= CHECKPOINT_IDLE:
                        break
                    continue
                seen, idle = self._writes, 0.0
                with suppress(sqlite3.Error):  # busy (another process's checkpoint): next pass
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except sqlite3.Error:
            log.warning("store: background checkpoints stopped (%s)", self.path, exc_info=True)
        finally:
            if conn is not None:
                conn.close()
            with self._lock:
                self._checkpointer = None
            if self._writes != seen and not self._closed.is_set():
                self.wrote()  # a write came as the thread was ending

    def query(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[dict[str, Any]]:
        return [dict(r) for r in self.conn.execute(sql, params).fetchall()]

    def one(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> dict[str, Any] | None:
        row = self.conn.execute(sql, params).fetchone()
        return dict(row) if row is not None else None

    def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> sqlite3.Cursor:
        return self.conn.execute(sql, params)

    # -- schema ------------------------------------------------------------------------------
    def version(self, component: str) -> int:
        row = self.one("SELECT version FROM _schema WHERE component = ?", (component,))
        return int(row["version"]) if row else 0

    def migrate(self, component: str, steps: Sequence[Migration]) -> int:
        """Apply the steps of `component` not yet applied; returns the new version."""
        with self.tx() as conn:
            row = conn.execute("SELECT version FROM _schema WHERE component = ?", (component,)).fetchone()
            current = int(row[0]) if row else 0
            for number, step in enumerate(steps, start=1):
                if number <= current:
                    continue
                if isinstance(step, str):
                    for statement in _statements(step):
                        conn.execute(statement)
                else:
                    step(conn)
            if len(steps) > current:
                conn.execute(
                    "INSERT INTO _schema(component, version) VALUES (?, ?) "
                    "ON CONFLICT(component) DO UPDATE SET version = excluded.version",
                    (component, len(steps)),
                )
            return max(current, len(steps))

    def tables(self) -> list[str]:
        return [
            r["name"]
            for r in self.query(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]

    def columns(self, table: str) -> list[str]:
        return [r["name"] for r in self.query(f'PRAGMA table_info("{table}")')]

    def tenant_tables(self, prefix: str | None = None) -> list[str]:
        """Tables holding per-tenant state (they have a `tenant` column), optionally one service's."""
        found = [t for t in self.tables() if "tenant" in self.columns(t) and t != "tenants"]
        if prefix is not None:
            found = [t for t in found if t.startswith(prefix + "_")]
        return found


def _statements(script: str) -> list[str]:
    """Split a migration script on `;` at line ends (our migrations hold no literal semicolons)."""
    return [s.strip() for s in script.split(";\n") if s.strip().rstrip(";").strip()]
