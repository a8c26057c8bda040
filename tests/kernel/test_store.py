"""The store's checkpoints run in a background thread, not in the commit of a request."""

from __future__ import annotations

import shutil
import sqlite3
import time
from pathlib import Path

import pytest

from mocks import store as store_mod
from mocks.store import Store


def _rows_in_main_file(db: Path, tmp_path: Path) -> int:
    """Rows readable from the database file alone (what a checkpoint has copied out of the WAL)."""
    alone = tmp_path / "alone.db"
    shutil.copyfile(db, alone)
    conn = sqlite3.connect(alone)
    try:
        return int(conn.execute("SELECT count(*) FROM t").fetchone()[0])
    except sqlite3.OperationalError:  # the table itself is still only in the WAL
        return 0
    finally:
        conn.close()


def test_committed_pages_reach_the_database_file_without_a_request_checkpointing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_mod, "CHECKPOINT_EVERY", 0.05)
    store = Store(tmp_path / "s.db")
    try:
        assert store.one("PRAGMA wal_autocheckpoint") == {"wal_autocheckpoint": store_mod.WAL_BOUND}
        with store.tx() as conn:
            conn.execute("CREATE TABLE t (x TEXT)")
        for _ in range(20):  # far below the automatic checkpoint's bound
            with store.tx() as conn:
                conn.execute("INSERT INTO t VALUES (?)", ("x" * 500,))
        deadline = time.monotonic() + 5
        while _rows_in_main_file(store.path, tmp_path) < 20 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _rows_in_main_file(store.path, tmp_path) == 20
    finally:
        store.close()
    assert store._checkpointer is None  # close() ends the thread


def test_the_checkpoint_thread_ends_when_idle_and_comes_back_with_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_mod, "CHECKPOINT_EVERY", 0.02)
    monkeypatch.setattr(store_mod, "CHECKPOINT_IDLE", 0.1)
    store = Store(tmp_path / "s.db")
    try:
        with store.tx() as conn:
            conn.execute("CREATE TABLE t (x TEXT)")
        first = store._checkpointer
        assert first is not None and first.is_alive()
        first.join(timeout=5)
        assert not first.is_alive() and store._checkpointer is None  # idle: gone
        with store.tx() as conn:
            conn.execute("INSERT INTO t VALUES ('y')")
        again = store._checkpointer
        assert again is not None and again is not first and again.is_alive()
    finally:
        store.close()


def test_after_commit_runs_once_the_outer_transaction_commits_never_on_rollback(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    store.execute("CREATE TABLE t (x INTEGER)")
    seen: list[int] = []
    other = Store(tmp_path / "s.db")  # another connection: what a woken reader would see

    def count() -> None:
        seen.append(int(other.one("SELECT COUNT(*) AS n FROM t")["n"]))  # type: ignore[index]

    with store.tx() as conn:
        conn.execute("INSERT INTO t VALUES (1)")
        with store.tx():  # a nested call joins the outer transaction
            store.after_commit(count)
        assert seen == []
    assert seen == [1]
    with pytest.raises(RuntimeError), store.tx() as conn:
        conn.execute("INSERT INTO t VALUES (2)")
        store.after_commit(count)
        raise RuntimeError
    store.after_commit(count)  # outside a transaction: at once
    assert seen == [1, 1]
    other.close()
    store.close()
