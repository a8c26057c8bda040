"""The store-backed queue between the processes that submit documents (any service, any compose
container) and the one worker process that owns Saxon (mocks/cda/worker.py).

Tables (SQLite store of the data folder, shared by every process):
    cda_documents  content-addressed bodies (sha256 → bytes): 8 submissions of a document, one copy
    cda_jobs       one row per submission (tenant-keyed: reset and export see it); our own rules'
                   findings are written at submission, the official verdict when the worker is done
    cda_results    the result cache: XSD + schematron findings and SVRL by document SHA-256 +
                   data version + pipeline version (what decides the dispatch too)
    cda_worker     the worker's heartbeat, compiled profiles and state (health)

A job is claimed atomically (`UPDATE … RETURNING`), so several workers could share the queue.
A job whose worker died is queued again by the next worker start (twice at most).
"""

from __future__ import annotations

import json
import os
import time
import zlib
from typing import Any

from mocks.cda.report import CdaFinding
from mocks.store import Store

MIGRATIONS = [
    """
    CREATE TABLE cda_documents (
        sha256 TEXT PRIMARY KEY,
        body BLOB NOT NULL,
        stored_at REAL NOT NULL
    );
    CREATE TABLE cda_jobs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        tenant TEXT NOT NULL,
        state TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        result_key TEXT NOT NULL,
        name TEXT NOT NULL DEFAULT '',
        service TEXT NOT NULL DEFAULT '',
        trace_id TEXT NOT NULL DEFAULT '',
        mode TEXT NOT NULL DEFAULT 'report',
        attach INTEGER NOT NULL DEFAULT 0,
        attached INTEGER NOT NULL DEFAULT 0,
        tries INTEGER NOT NULL DEFAULT 0,
        meta TEXT NOT NULL DEFAULT '{}',
        own TEXT NOT NULL DEFAULT '[]',
        submitted_at TEXT NOT NULL,
        queued REAL NOT NULL,
        done REAL,
        worker TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX cda_jobs_state ON cda_jobs(state, id);
    CREATE TABLE cda_results (
        key TEXT PRIMARY KEY,
        sha256 TEXT NOT NULL,
        profiles TEXT NOT NULL,
        findings TEXT NOT NULL,
        svrl BLOB,
        duration_ms REAL NOT NULL,
        created REAL NOT NULL
    );
    CREATE TABLE cda_worker (
        id TEXT PRIMARY KEY,
        pid INTEGER NOT NULL,
        state TEXT NOT NULL,
        detail TEXT NOT NULL DEFAULT '',
        info TEXT NOT NULL DEFAULT '{}',
        heartbeat REAL NOT NULL
    )
    """
]

KEEP_JOBS = 5000
KEEP_RESULTS = 5000
ALIVE_SECONDS = 10.0  # a worker silent longer than this is dead


def result_key(sha256: str, data_digest: str, pipeline: str, volet: str | None) -> str:
    return f"{sha256}:{data_digest[:16]}:{pipeline}:{volet or 'auto'}"


class Queue:
    def __init__(self, store: Store):
        self.store = store
        store.migrate("cda", MIGRATIONS)

    # -- submission side ---------------------------------------------------------------------
    def put_document(self, sha256: str, body: bytes) -> None:
        self.store.execute(
            "INSERT OR IGNORE INTO cda_documents(sha256, body, stored_at) VALUES (?, ?, ?)",
            (sha256, body, time.time()),
        )

    def document(self, sha256: str) -> bytes | None:
        row = self.store.one("SELECT body FROM cda_documents WHERE sha256 = ?", (sha256,))
        return bytes(row["body"]) if row else None

    def add_job(self, row: dict[str, Any]) -> int:
        row = {**row, "queued": time.time()}
        if "own" in row:
            row["own"] = _dump(row["own"])
        if "meta" in row:
            row["meta"] = json.dumps(row["meta"], ensure_ascii=False)
        cursor = self.store.execute(
            f"INSERT INTO cda_jobs({', '.join(row)}) VALUES ({', '.join(':' + k for k in row)})", row
        )
        new_id = int(cursor.lastrowid or 0)
        if new_id % 100 == 0:
            self.prune()
        return new_id

    def job(self, job_id: int) -> dict[str, Any] | None:
        row = self.store.one("SELECT * FROM cda_jobs WHERE id = ?", (job_id,))
        return _job(row) if row else None

    def result(self, key: str) -> dict[str, Any] | None:
        row = self.store.one("SELECT * FROM cda_results WHERE key = ?", (key,))
        if row is None:
            return None
        row["findings"] = [CdaFinding.from_dict(f) for f in json.loads(row["findings"])]
        row["profiles"] = json.loads(row["profiles"])
        return row

    def svrl(self, key: str) -> dict[str, str]:
        row = self.store.one("SELECT svrl FROM cda_results WHERE key = ?", (key,))
        if row is None or row["svrl"] is None:
            return {}
        return dict(json.loads(zlib.decompress(row["svrl"]).decode("utf-8")))

    def depth(self) -> int:
        row = self.store.one("SELECT COUNT(*) AS n FROM cda_jobs WHERE state IN ('queued', 'running')")
        return int(row["n"]) if row else 0

    def workers(self) -> list[dict[str, Any]]:
        rows = self.store.query("SELECT * FROM cda_worker ORDER BY heartbeat DESC")
        now = time.time()
        for row in rows:
            row["info"] = json.loads(row["info"])
            row["alive"] = now - row["heartbeat"] < ALIVE_SECONDS
        return rows

    def alive(self) -> bool:
        return any(w["alive"] for w in self.workers())

    # -- worker side -------------------------------------------------------------------------
    def claim(self, worker: str) -> dict[str, Any] | None:
        row = self.store.one(
            "UPDATE cda_jobs SET state = 'running', worker = ?, tries = tries + 1 WHERE id = ("
            "SELECT id FROM cda_jobs WHERE state = 'queued' ORDER BY id LIMIT 1) RETURNING *",
            (worker,),
        )
        return _job(row) if row else None

    def store_result(
        self,
        key: str,
        sha256: str,
        profiles: list[str],
        items: list[CdaFinding],
        svrl: dict[str, str],
        ms: float,
    ) -> None:
        packed = zlib.compress(json.dumps(svrl, ensure_ascii=False).encode("utf-8"), 6)
        self.store.execute(
            "INSERT OR REPLACE INTO cda_results(key, sha256, profiles, findings, svrl, duration_ms, created) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (key, sha256, json.dumps(profiles), _dump(items), packed, ms, time.time()),
        )

    def finish(self, job_ids: list[int]) -> None:
        marks = ", ".join("?" * len(job_ids))
        self.store.execute(
            f"UPDATE cda_jobs SET state = 'done', done = ? WHERE id IN ({marks})", (time.time(), *job_ids)
        )

    def waiting_for(self, key: str) -> list[int]:
        """Queued jobs of the same document and data: answered by one run."""
        rows = self.store.query("SELECT id FROM cda_jobs WHERE result_key = ? AND state = 'queued'", (key,))
        return [int(r["id"]) for r in rows]

    def to_attach(self, max_age: float = 300.0) -> list[dict[str, Any]]:
        rows = self.store.query(
            "SELECT * FROM cda_jobs WHERE state = 'done' AND attach = 1 AND attached = 0 AND done > ?",
            (time.time() - max_age,),
        )
        return [_job(r) for r in rows]

    def mark_attached(self, job_id: int) -> None:
        self.store.execute("UPDATE cda_jobs SET attached = 1 WHERE id = ?", (job_id,))

    def requeue_orphans(self) -> int:
        """Jobs left running by a dead worker: queued again, or failed after two tries."""
        alive = {w["id"] for w in self.workers() if w["alive"]}
        rows = self.store.query("SELECT id, worker, tries FROM cda_jobs WHERE state = 'running'")
        count = 0
        for row in rows:
            if row["worker"] in alive:
                continue
            state = "queued" if row["tries"] < 2 else "failed"
            self.store.execute(
                "UPDATE cda_jobs SET state = ?, done = ? WHERE id = ?", (state, time.time(), row["id"])
            )
            count += 1
        return count

    def heartbeat(
        self, worker: str, state: str, detail: str = "", info: dict[str, Any] | None = None
    ) -> None:
        self.store.execute(
            "INSERT INTO cda_worker(id, pid, state, detail, info, heartbeat) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET state = excluded.state, detail = excluded.detail, "
            "info = excluded.info, heartbeat = excluded.heartbeat",
            (worker, os.getpid(), state, detail, json.dumps(info or {}, ensure_ascii=False), time.time()),
        )

    def forget_worker(self, worker: str) -> None:
        self.store.execute("DELETE FROM cda_worker WHERE id = ?", (worker,))

    def forget_pid(self, pid: int) -> None:
        """A worker process that died: its heartbeat no longer counts (its jobs can be requeued)."""
        self.store.execute("DELETE FROM cda_worker WHERE pid = ? AND state != 'failed'", (pid,))

    def rekey(self, job_id: int, key: str) -> None:
        self.store.execute("UPDATE cda_jobs SET result_key = ? WHERE id = ?", (key, job_id))

    def set_attach(self, job_id: int, attach: bool) -> None:
        self.store.execute("UPDATE cda_jobs SET attach = ? WHERE id = ?", (int(attach), job_id))

    def recent_volets(self, limit: int = 8) -> list[str]:
        """The volets of the latest documents (what to precompile after StrucMin)."""
        rows = self.store.query(
            "SELECT json_extract(meta, '$.volet') AS volet, MAX(id) AS last FROM cda_jobs "
            "WHERE json_extract(meta, '$.volet') IS NOT NULL GROUP BY volet ORDER BY last DESC LIMIT ?",
            (limit,),
        )
        return [str(r["volet"]) for r in rows if r["volet"]]

    def prune(self) -> None:
        with self.store.tx() as conn:
            last = conn.execute("SELECT MAX(id) FROM cda_jobs").fetchone()[0] or 0
            conn.execute(
                "DELETE FROM cda_jobs WHERE id <= ? AND state IN ('done', 'failed')", (last - KEEP_JOBS,)
            )
            conn.execute(
                "DELETE FROM cda_results WHERE key NOT IN (SELECT key FROM cda_results ORDER BY created DESC LIMIT ?)",
                (KEEP_RESULTS,),
            )
            conn.execute("DELETE FROM cda_documents WHERE sha256 NOT IN (SELECT sha256 FROM cda_jobs)")


def _dump(items: list[CdaFinding]) -> str:
    return json.dumps([f.as_dict() for f in items], ensure_ascii=False)


def _job(row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    out["meta"] = json.loads(out["meta"])
    out["own"] = [CdaFinding.from_dict(f) for f in json.loads(out["own"])]
    return out
