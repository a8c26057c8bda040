"""Journal pruning is off the request path and walks the primary key: appends never prune, a
background thread does, the bounds (entries, body bytes) still hold, and no statement of the
pruning scans the table."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from mocks import journal as journal_mod
from mocks.journal import Journal
from mocks.store import Store


def _entry(i: int, body: str = "") -> dict[str, object]:
    return {
        "at": "2026-01-01T00:00:00Z",
        "tenant": "default",
        "service": "bench",
        "operation": f"op{i}",
        "status": 200,
        "request_body": body,
        "response_body": body,
    }


@pytest.fixture
def store(tmp_path: Path) -> Store:
    store = Store(tmp_path / "j.db")
    store.migrate("kernel", journal_mod.MIGRATIONS)
    return store


def test_appends_never_prune_a_background_thread_does(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    journal = Journal(store, max_entries=150, max_bytes=10**9, keep_bodies=True)
    threads: list[str] = []
    prune = journal.prune

    def spy() -> int:
        threads.append(threading.current_thread().name)
        return prune()

    monkeypatch.setattr(journal, "prune", spy)
    for i in range(journal_mod.PRUNE_EVERY * 3):
        journal.append(_entry(i))
    journal.settle()
    assert threads and threading.current_thread().name not in threads
    assert set(threads) == {"journal-prune"}
    assert journal.count({}) == 150
    assert (
        journal.find({}, limit=1)[0]["operation"] == f"op{journal_mod.PRUNE_EVERY * 3 - 1}"
    )  # the newest kept


def test_body_bytes_bound_holds_through_the_running_totals(store: Store) -> None:
    journal = Journal(store, max_entries=10**6, max_bytes=50_000, keep_bodies=True)
    for i in range(journal_mod.PRUNE_EVERY):
        journal.append(_entry(i, "x" * 500))  # 1,000 body bytes each
    journal.settle()
    kept = store.one("SELECT COUNT(*) AS n, SUM(body_bytes) AS b FROM journal")
    assert kept is not None and kept["b"] <= 50_000 and kept["n"] == 50
    stats = store.one("SELECT entries, body_bytes FROM journal_stats")
    assert stats == {"entries": kept["n"], "body_bytes": kept["b"]}
    journal.clear()
    assert store.one("SELECT entries, body_bytes FROM journal_stats") == {"entries": 0, "body_bytes": 0}


def test_no_pruning_statement_scans_the_journal(store: Store) -> None:
    Journal(store, max_entries=10, max_bytes=10, keep_bodies=True)
    for sql, params in [
        (journal_mod.PRUNE_LAST, ()),
        (journal_mod.PRUNE_STATS, ()),
        (journal_mod.PRUNE_BELOW, (5,)),
        (journal_mod.PRUNE_OLDEST, (5,)),
    ]:
        plan = " ".join(str(r["detail"]) for r in store.query("EXPLAIN QUERY PLAN " + sql, params))
        assert "SCAN" not in plan, (sql, plan)
