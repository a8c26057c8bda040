"""ApCV's state and its rules, on the tenant's sandbox clock: contexts (the "jeton ApCV",
research A1.3-A1.5) and the NFC pending slots.

- A context is created by a successful `authentifierUtilisateurProximite`, lives
  `apcv_context_lifetime` seconds (default 1800, the lifetime Jfse assumes, A1.4), and belongs
  to the professional (idNat_PS) whose assertion created it: another PS is refused
  (`PS_NON_AUTORISE`), a use after its end `CONTEXTE_EXPIRE`, a destroyed or never-seen one
  `CONTEXTE_INCONNU`. Renewal is a new scan (a new context; the older one lives on until its end).
- A QR code (its nonce) creates one context: the same PS scanning it again while that context
  lives gets the same context back (an LGC's retry); any other reuse is `QR_DEJA_UTILISE`.
- NFC (Jfse mode 1, A1.4): the phone page pushes the card to a pending slot; the next
  `authentifier...` call without `Donnees` of the chosen PS (or of any PS when none was chosen)
  takes it, within `apcv_nfc_lifetime` seconds.

Tables `apcv_contexts`, `apcv_nfc` carry a `tenant` column (reset and export need no code here).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from apcv.errors import ERRORS
from apcv.wire import instant
from mocks.soap.security import instant as read_instant

if TYPE_CHECKING:
    from mocks.store import Store

MIGRATIONS = [
    """
    CREATE TABLE apcv_contexts (
        tenant TEXT NOT NULL,
        id TEXT NOT NULL,
        ps TEXT NOT NULL,
        facturation TEXT NOT NULL DEFAULT '',
        nir_od TEXT NOT NULL,
        patient_id TEXT NOT NULL,
        qr_nonce TEXT NOT NULL DEFAULT '',
        mode TEXT NOT NULL,
        version TEXT NOT NULL,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        destroyed_at TEXT,
        PRIMARY KEY (tenant, id)
    );
    CREATE INDEX apcv_contexts_ps ON apcv_contexts(tenant, ps, created_at);
    CREATE INDEX apcv_contexts_nonce ON apcv_contexts(tenant, qr_nonce);
    CREATE TABLE apcv_nfc (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        tenant TEXT NOT NULL,
        ps TEXT NOT NULL DEFAULT '',
        nir_od TEXT NOT NULL,
        patient_id TEXT NOT NULL,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        taken_at TEXT,
        taken_by TEXT
    )
    """
]


@dataclass(frozen=True)
class Context:
    tenant: str
    id: str
    ps: str
    facturation: str
    nir_od: str
    patient_id: str
    qr_nonce: str
    mode: str  # "qr" or "nfc"
    version: str
    created_at: datetime
    expires_at: datetime
    destroyed_at: datetime | None

    def alive(self, now: datetime) -> bool:
        return self.destroyed_at is None and now < self.expires_at

    def as_dict(self, now: datetime) -> dict[str, Any]:
        state = "destroyed" if self.destroyed_at else ("expired" if now >= self.expires_at else "active")
        return {
            "id": self.id,
            "ps": self.ps,
            "facturation": self.facturation,
            "nir_od": self.nir_od,
            "patient": self.patient_id,
            "mode": self.mode,
            "version": self.version,
            "created_at": instant(self.created_at),
            "expires_at": instant(self.expires_at),
            "destroyed_at": instant(self.destroyed_at) if self.destroyed_at else None,
            "state": state,
        }


def _context(row: dict[str, Any]) -> Context:
    def when(text: str | None) -> datetime | None:
        return read_instant(text) if text else None

    created, expires = when(row["created_at"]), when(row["expires_at"])
    assert created is not None and expires is not None
    return Context(
        row["tenant"], row["id"], row["ps"], row["facturation"], row["nir_od"], row["patient_id"],
        row["qr_nonce"], row["mode"], row["version"], created, expires, when(row["destroyed_at"]),
    )  # fmt: skip


class Contexts:
    def __init__(self, store: Store):
        self.store = store

    def create(
        self,
        tenant: str,
        ps: str,
        facturation: str,
        nir_od: str,
        patient_id: str,
        *,
        nonce: str,
        mode: str,
        version: str,
        now: datetime,
        lifetime_s: int,
    ) -> Context:
        row = {
            "tenant": tenant,
            "id": secrets.token_hex(16).upper(),
            "ps": ps,
            "facturation": facturation,
            "nir_od": nir_od,
            "patient_id": patient_id,
            "qr_nonce": nonce,
            "mode": mode,
            "version": version,
            "created_at": instant(now),
            "expires_at": instant(now + timedelta(seconds=lifetime_s)),
            "destroyed_at": None,
        }
        self.store.execute(
            f"INSERT INTO apcv_contexts({', '.join(row)}) VALUES ({', '.join(':' + k for k in row)})", row
        )
        return _context(row)

    def get(self, tenant: str, context_id: str) -> Context | None:
        row = self.store.one("SELECT * FROM apcv_contexts WHERE tenant = ? AND id = ?", (tenant, context_id))
        return _context(row) if row else None

    def by_nonce(self, tenant: str, nonce: str) -> Context | None:
        row = self.store.one(
            "SELECT * FROM apcv_contexts WHERE tenant = ? AND qr_nonce = ? ORDER BY created_at LIMIT 1",
            (tenant, nonce),
        )
        return _context(row) if row else None

    def latest(self, tenant: str, ps: str) -> Context | None:
        """The professional's most recent context not destroyed (alive or expired)."""
        row = self.store.one(
            "SELECT * FROM apcv_contexts WHERE tenant = ? AND ps = ? AND destroyed_at IS NULL "
            "ORDER BY created_at DESC, rowid DESC LIMIT 1",
            (tenant, ps),
        )
        return _context(row) if row else None

    def destroy(self, tenant: str, context_id: str, now: datetime) -> None:
        self.store.execute(
            "UPDATE apcv_contexts SET destroyed_at = ? WHERE tenant = ? AND id = ? AND destroyed_at IS NULL",
            (instant(now), tenant, context_id),
        )

    def all(self, tenant: str) -> list[Context]:
        rows = self.store.query(
            "SELECT * FROM apcv_contexts WHERE tenant = ? ORDER BY created_at, rowid", (tenant,)
        )
        return [_context(r) for r in rows]


def usable(ctx: Context | None, ps: str, now: datetime) -> Context:
    """The context an operation names, when this PS may use it now (else the catalogue error)."""
    if ctx is None or ctx.destroyed_at is not None:
        ERRORS.fail("CONTEXTE_INCONNU")
    if ctx.ps != ps:
        ERRORS.fail(
            "PS_NON_AUTORISE", f"Le contexte ApCV {ctx.id} a été créé par un autre professionnel de santé."
        )
    if now >= ctx.expires_at:
        ERRORS.fail(
            "CONTEXTE_EXPIRE",
            f"Le contexte ApCV a expiré le {instant(ctx.expires_at)} : nouvelle lecture nécessaire.",
        )
    return ctx


@dataclass(frozen=True)
class NfcSlot:
    id: int
    ps: str
    nir_od: str
    patient_id: str
    expires_at: datetime


class Nfc:
    def __init__(self, store: Store):
        self.store = store

    def push(
        self, tenant: str, patient_id: str, nir_od: str, ps: str, now: datetime, lifetime_s: int
    ) -> NfcSlot:
        expires = now + timedelta(seconds=lifetime_s)
        cursor = self.store.execute(
            "INSERT INTO apcv_nfc(tenant, ps, nir_od, patient_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
            (tenant, ps, nir_od, patient_id, instant(now), instant(expires)),
        )
        return NfcSlot(int(cursor.lastrowid or 0), ps, nir_od, patient_id, expires)

    def take(self, tenant: str, ps: str, now: datetime) -> NfcSlot | None:
        """The oldest live slot for this PS (or for any PS), marked taken in the same transaction."""
        with self.store.tx() as conn:
            rows = conn.execute(
                "SELECT * FROM apcv_nfc WHERE tenant = ? AND taken_at IS NULL AND ps IN ('', ?) ORDER BY id",
                (tenant, ps),
            ).fetchall()
            for row in rows:
                expires = read_instant(row["expires_at"])
                if expires is None or now >= expires:
                    continue
                conn.execute(
                    "UPDATE apcv_nfc SET taken_at = ?, taken_by = ? WHERE id = ?",
                    (instant(now), ps, row["id"]),
                )
                return NfcSlot(int(row["id"]), row["ps"], row["nir_od"], row["patient_id"], expires)
        return None

    def pending(self, tenant: str, now: datetime) -> list[dict[str, Any]]:
        rows = self.store.query(
            "SELECT * FROM apcv_nfc WHERE tenant = ? AND taken_at IS NULL ORDER BY id", (tenant,)
        )
        out = []
        for r in rows:
            expires = read_instant(r["expires_at"])
            if expires is not None and now < expires:
                out.append(
                    {
                        "id": r["id"],
                        "ps": r["ps"] or None,
                        "patient": r["patient_id"],
                        "expires_at": r["expires_at"],
                    }
                )
        return out
