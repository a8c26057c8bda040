"""Who calls the Annuaire API: the `ESANTE-API-KEY` header (research mssante.md 1.6, get-api-key.md),
and how fast (17 calls per second per Gravitee application, 429 beyond).

Keys are created per tenant through the control API (`POST /_sandbox/annuaire/keys`, like an
application subscribed on the Gravitee portal) and stored in `annuaire_keys`; a request presenting
a key lands in that key's tenant unless it names another one (then the key is unknown there: 401).
Keys of the `annuaire_api_keys` setting are valid in every tenant. The rate limit counts calls per
key in one-second windows (the gateway's), on real time, in this process.
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mocks.clock import iso

if TYPE_CHECKING:
    from mocks.kernel import Sandbox

HEADER = "HTTP_ESANTE_API_KEY"
MIGRATIONS = [
    """
    CREATE TABLE annuaire_keys (
        key TEXT PRIMARY KEY,
        tenant TEXT NOT NULL,
        label TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL
    )
    """
]


@dataclass(frozen=True)
class Caller:
    key: str
    tenant: str | None  # None: a key valid in every tenant (setting)
    label: str = ""


class Keys:
    def __init__(self, sandbox: Sandbox):
        self.sandbox = sandbox

    def configured(self) -> list[str]:
        return [
            k.strip() for k in str(self.sandbox.config.get("annuaire_api_keys") or "").split(",") if k.strip()
        ]

    def create(self, tenant: str, label: str = "", key: str | None = None) -> dict[str, Any]:
        key = key or str(uuid.uuid4())
        now = iso(self.sandbox.now(tenant))
        self.sandbox.store.execute(
            "INSERT INTO annuaire_keys(key, tenant, label, created_at) VALUES (?, ?, ?, ?)",
            (key, tenant, label, now),
        )
        return {"key": key, "tenant": tenant, "label": label, "created_at": now, "header": "ESANTE-API-KEY"}

    def list(self, tenant: str) -> list[dict[str, Any]]:
        return self.sandbox.store.query(
            "SELECT key, tenant, label, created_at FROM annuaire_keys WHERE tenant = ? ORDER BY created_at, key",
            (tenant,),
        )

    def delete(self, tenant: str, key: str) -> bool:
        cur = self.sandbox.store.execute(
            "DELETE FROM annuaire_keys WHERE tenant = ? AND key = ?", (tenant, key)
        )
        return cur.rowcount > 0

    def identify(self, environ: dict[str, Any]) -> Caller | None | str:
        """The caller of a request: a Caller, None (no header) or "invalid" (an unknown key)."""
        key = (environ.get(HEADER) or "").strip()
        if not key:
            return None
        if key in self.configured():
            return Caller(key, None, "annuaire_api_keys")
        row = self.sandbox.store.one("SELECT tenant, label FROM annuaire_keys WHERE key = ?", (key,))
        if row is None:
            return "invalid"
        return Caller(key, str(row["tenant"]), str(row["label"]))


def presented(environ: dict[str, Any]) -> list[str | None]:
    """What the caller presents for tenant bindings: the API key itself."""
    return [(environ.get(HEADER) or "").strip() or None]


class RateLimit:
    """Calls per key per one-second window (the gateway's rate-limit policy)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[int, int]] = {}

    def hit(self, key: str, limit: int) -> tuple[bool, int, float]:
        """(allowed, remaining, seconds until the window resets)."""
        now = time.time()
        window = int(now)
        with self._lock:
            start, count = self._windows.get(key, (window, 0))
            if start != window:
                start, count = window, 0
            count += 1
            self._windows[key] = (start, count)
            if len(self._windows) > 10000:  # forget idle keys
                self._windows = {k: v for k, v in self._windows.items() if v[0] == window}
        return count <= limit, max(0, limit - count), window + 1 - now
