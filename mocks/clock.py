"""The sandbox clock, per tenant: real time, offset from it, or frozen.

Every time read in the sandbox (tokens, certificate validity, CRLs, document dates) goes through
`Clock.now(tenant)`. The state is one row per tenant in the store, so every process agrees.
A tenant with no row follows real time. `advance` moves a frozen or offset clock forward.

The sandbox time of a tenant stays within `EARLIEST` (1970-01-01T00:00:00Z) and `LATEST`
(2199-12-31T23:59:59Z): certificates, tokens and INSi dates are computed from it and must stay
representable. A change that would leave that range (an offset of 1e308, a frozen year 9999 or 1,
an advance past 2199) raises `ClockError` and writes nothing.
"""

from __future__ import annotations

import math
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


EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2199, 12, 31, 23, 59, 59, tzinfo=UTC)


class ClockError(ValueError):
    """A clock change that would leave the documented range; nothing was written."""


def _check_instant(at: datetime) -> datetime:
    if not EARLIEST <= at <= LATEST:
        raise ClockError(f"sandbox time {iso(at)} is out of range: between {iso(EARLIEST)} and {iso(LATEST)}")
    return at


def _real_now() -> datetime:
    return datetime.fromtimestamp(time.time(), UTC)


def _shifted(seconds: float) -> datetime:
    """Real time plus `seconds`, checked (finite, within the range)."""
    if not isinstance(seconds, int | float) or not math.isfinite(seconds):
        raise ClockError("offset_seconds must be a finite number")
    span = (LATEST - EARLIEST).total_seconds()
    if abs(seconds) > span:
        raise ClockError(f"offset_seconds out of range: at most {span:.0f} seconds either way")
    return _check_instant(_real_now() + timedelta(seconds=seconds))


def check_row(row: dict[str, Any]) -> None:
    """Check a `clocks` row (as imported): mode, a finite offset, a frozen instant in range."""
    mode = row.get("mode")
    if mode not in ("real", "offset", "frozen"):
        raise ClockError(f"clock mode must be real, offset or frozen, not {mode!r}")
    offset = row.get("offset_seconds", 0.0)
    if isinstance(offset, bool) or not isinstance(offset, int | float):
        raise ClockError("clock offset_seconds must be a number")
    _shifted(float(offset))
    if mode == "frozen":
        at = row.get("frozen_at")
        if not isinstance(at, str):
            raise ClockError("a frozen clock needs frozen_at (ISO 8601)")
        try:
            parsed = datetime.fromisoformat(at)
        except ValueError:
            raise ClockError(f"clock frozen_at is not an ISO 8601 instant: {at!r}") from None
        _check_instant(utc(parsed))


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
        real = _real_now()
        if state["mode"] == "frozen":
            return datetime.fromisoformat(state["frozen_at"])
        return real + timedelta(seconds=state["offset_seconds"])

    def describe(self, tenant: str) -> dict[str, Any]:
        return {**self.state(tenant), "tenant": tenant, "now": iso(self.now(tenant))}

    def set_real(self, tenant: str) -> None:
        self.store.execute("DELETE FROM clocks WHERE tenant = ?", (tenant,))

    def set_offset(self, tenant: str, seconds: float) -> None:
        _shifted(seconds)
        self._put(tenant, "offset", float(seconds), None)

    def set_time(self, tenant: str, at: datetime, frozen: bool) -> None:
        """Jump to `at`, then stay there (frozen) or run on from there (offset)."""
        at = _check_instant(utc(at))
        if frozen:
            self._put(tenant, "frozen", 0.0, at.isoformat())
        else:
            self._put(tenant, "offset", (at - _real_now()).total_seconds(), None)

    def advance(self, tenant: str, seconds: float) -> None:
        if not isinstance(seconds, int | float) or not math.isfinite(seconds) or seconds <= 0:
            raise ClockError("seconds must be a finite number above 0")
        state = self.state(tenant)
        if state["mode"] == "frozen":
            try:
                at = datetime.fromisoformat(state["frozen_at"]) + timedelta(seconds=seconds)
            except OverflowError:
                raise ClockError(f"advancing by {seconds} s leaves the sandbox time range") from None
            self._put(tenant, "frozen", 0.0, _check_instant(utc(at)).isoformat())
        else:
            offset = state["offset_seconds"] + seconds
            _shifted(offset)
            self._put(tenant, "offset", offset, None)

    def _put(self, tenant: str, mode: str, offset: float, frozen_at: str | None) -> None:
        self.store.execute(
            "INSERT INTO clocks(tenant, mode, offset_seconds, frozen_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(tenant) DO UPDATE SET mode = excluded.mode, "
            "offset_seconds = excluded.offset_seconds, frozen_at = excluded.frozen_at",
            (tenant, mode, offset, frozen_at),
        )
