"""The sandbox clock, per tenant: real time, offset from it, or frozen.

Every time read in the sandbox (tokens, certificate validity, CRLs, document dates) goes through
`Clock.now(tenant)`. The state is one row per tenant in the store, so every process agrees.
A tenant with no row follows real time. `advance` moves a frozen or offset clock forward.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from mocks.store import Store

if TYPE_CHECKING:
    from mocks.tenants import Generation

MIGRATIONS = [
    """
    CREATE TABLE clocks (
        tenant TEXT PRIMARY KEY,
        mode TEXT NOT NULL CHECK (mode IN ('real', 'offset', 'frozen')),
        offset_seconds REAL NOT NULL DEFAULT 0,
        frozen_at TEXT
    )
    """
]


def utc(dt: datetime) -> datetime:
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def iso(dt: datetime) -> str:
    return utc(dt).isoformat().replace("+00:00", "Z")


class Clock:
    def __init__(self, store: Store, generation: Generation | None = None):
        from mocks.tenants import Cached, Generation

        self.store = store
        # every clock row, reloaded when any process changes tenants, clocks or faults
        self._rows = Cached(generation or Generation(store), self._load)

    def _load(self) -> dict[str, dict[str, Any]]:
        return {
            row["tenant"]: {
                "mode": row["mode"],
                "offset_seconds": row["offset_seconds"],
                "frozen_at": row["frozen_at"],
            }
            for row in self.store.query("SELECT * FROM clocks")
        }

    def state(self, tenant: str) -> dict[str, Any]:
        row = self._rows.get().get(tenant)
        if row is None:
            return {"mode": "real", "offset_seconds": 0.0, "frozen_at": None}
        return dict(row)

    def now(self, tenant: str = "default") -> datetime:
        state = self.state(tenant)
        real = datetime.fromtimestamp(time.time(), UTC)
        if state["mode"] == "frozen":
            return datetime.fromisoformat(state["frozen_at"])
        return real + timedelta(seconds=state["offset_seconds"])

    def describe(self, tenant: str) -> dict[str, Any]:
        return {**self.state(tenant), "tenant": tenant, "now": iso(self.now(tenant))}

    def set_real(self, tenant: str) -> None:
        self.store.execute("DELETE FROM clocks WHERE tenant = ?", (tenant,))

    def set_offset(self, tenant: str, seconds: float) -> None:
        self._put(tenant, "offset", seconds, None)

    def set_time(self, tenant: str, at: datetime, frozen: bool) -> None:
        """Jump to `at`, then stay there (frozen) or run on from there (offset)."""
        at = utc(at)
        if frozen:
            self._put(tenant, "frozen", 0.0, at.isoformat())
        else:
            self._put(tenant, "offset", (at - datetime.fromtimestamp(time.time(), UTC)).total_seconds(), None)

    def advance(self, tenant: str, seconds: float) -> None:
        state = self.state(tenant)
        if state["mode"] == "frozen":
            at = datetime.fromisoformat(state["frozen_at"]) + timedelta(seconds=seconds)
            self._put(tenant, "frozen", 0.0, at.isoformat())
        else:
            self._put(tenant, "offset", state["offset_seconds"] + seconds, None)

    def _put(self, tenant: str, mode: str, offset: float, frozen_at: str | None) -> None:
        self.store.execute(
            "INSERT INTO clocks(tenant, mode, offset_seconds, frozen_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(tenant) DO UPDATE SET mode = excluded.mode, "
            "offset_seconds = excluded.offset_seconds, frozen_at = excluded.frozen_at",
            (tenant, mode, offset, frozen_at),
        )
