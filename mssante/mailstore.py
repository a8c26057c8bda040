"""Mail state in the sandbox store, tenant-keyed: messages (raw bytes with their envelope),
folders per mailbox (UIDVALIDITY, next UID, mod-sequence, SPECIAL-USE), and the items that put a
message in a folder (UID, flags and keywords, internal date, \\Recent).

    mss_messages  one row per stored message: the raw RFC 5322 bytes as received, the SMTP
                  envelope (MAIL FROM, RCPT TO, DSN parameters, authenticated identity, TLS)
    mss_folders   INBOX, Sent, Drafts, Trash (created on first use) and the client's own folders
    mss_items     (folder, uid) -> message; an expunged item stays as a tombstone with the
                  mod-sequence of its expunge, so every IMAP session (in any process) learns it
    mss_outbound  mail accepted for liste-blanche domains of other operators (not delivered here)
    mss_documents the CDA documents of accepted IHE_XDM messages, sent (by the sender's mailbox)
                  and received (by each local recipient): versions and replacements (mssante.history)
    mss_profiles  a mailbox's receipt profile in a tenant: auto, manual, never (mssante.receipts)
    mss_imap_summaries  a message's FETCH ENVELOPE, BODY and BODYSTRUCTURE answers as written
                  once, in the background after delivery or by the first FETCH (mssante.imap)

Every change of a folder bumps its `modseq`; an IMAP session asks for the items changed since the
mod-sequence it last saw (mssante.imap.backend). Writers in this process wake IDLE sessions at
once (`watch` / `changed`); sessions of another process see the change at their next poll.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from mocks.mail import notify_threadsafe
from mocks.store import Store
from mssante import history

MIGRATIONS = [
    """
    CREATE TABLE mss_messages (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        tenant TEXT NOT NULL,
        message_id TEXT NOT NULL DEFAULT '',
        mail_from TEXT NOT NULL DEFAULT '',
        rcpt_to TEXT NOT NULL DEFAULT '[]',
        envelope TEXT NOT NULL DEFAULT '{}',
        raw BLOB NOT NULL,
        size INTEGER NOT NULL,
        received_at TEXT NOT NULL,
        origin TEXT NOT NULL DEFAULT 'smtp'
    );
    CREATE TABLE mss_folders (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        tenant TEXT NOT NULL,
        mailbox TEXT NOT NULL,
        name TEXT NOT NULL,
        uidvalidity INTEGER NOT NULL,
        next_uid INTEGER NOT NULL DEFAULT 1,
        modseq INTEGER NOT NULL DEFAULT 1,
        subscribed INTEGER NOT NULL DEFAULT 1,
        special_use TEXT NOT NULL DEFAULT '',
        UNIQUE (tenant, mailbox, name)
    );
    CREATE TABLE mss_items (
        tenant TEXT NOT NULL,
        folder INTEGER NOT NULL,
        uid INTEGER NOT NULL,
        message INTEGER NOT NULL,
        flags TEXT NOT NULL DEFAULT '',
        internal_date REAL NOT NULL,
        recent INTEGER NOT NULL DEFAULT 1,
        modseq INTEGER NOT NULL,
        expunged INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (folder, uid)
    );
    CREATE INDEX mss_items_modseq ON mss_items(folder, modseq);
    CREATE INDEX mss_messages_tenant ON mss_messages(tenant, id);
    CREATE TABLE mss_outbound (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        tenant TEXT NOT NULL,
        message INTEGER NOT NULL,
        recipient TEXT NOT NULL,
        domain TEXT NOT NULL,
        at TEXT NOT NULL
    )
    """,
    history.MIGRATION,  # the documents and the receipt profiles (MSSanté part 2)
    # what IMAP answers of a message that never changes, written once (mssante.imap.backend)
    """
    CREATE TABLE mss_imap_summaries (
        message INTEGER PRIMARY KEY,
        tenant TEXT NOT NULL,
        version INTEGER NOT NULL,
        envelope BLOB NOT NULL,
        body BLOB NOT NULL,
        bodystructure BLOB NOT NULL
    )
    """,
]

# folders every mailbox has, with their RFC 6154 SPECIAL-USE attribute
DEFAULT_FOLDERS = (("INBOX", ""), ("Sent", "\\Sent"), ("Drafts", "\\Drafts"), ("Trash", "\\Trash"))


@dataclass(frozen=True)
class Folder:
    id: int
    tenant: str
    mailbox: str
    name: str
    uidvalidity: int
    next_uid: int
    modseq: int
    subscribed: bool
    special_use: str

    @classmethod
    def of(cls, row: dict[str, Any]) -> Folder:
        return cls(
            row["id"],
            row["tenant"],
            row["mailbox"],
            row["name"],
            row["uidvalidity"],
            row["next_uid"],
            row["modseq"],
            bool(row["subscribed"]),
            row["special_use"],
        )


@dataclass(frozen=True)
class Item:
    uid: int
    message: int
    flags: frozenset[str]
    internal_date: float
    recent: bool
    modseq: int
    expunged: bool

    @classmethod
    def of(cls, row: Any) -> Item:
        flags = frozenset(f for f in str(row["flags"]).split(" ") if f)
        return cls(
            row["uid"],
            row["message"],
            flags,
            row["internal_date"],
            bool(row["recent"]),
            row["modseq"],
            bool(row["expunged"]),
        )


def _uidvalidity() -> int:
    # like pymap: two time-based bytes, two random (a new folder never reuses an old value)
    return ((int(time.time()) % 65535) << 16) + random.randint(0, 65535)  # noqa: S311


class Watchers:
    """In-process wake-ups for IDLE: callbacks per folder id, called on the mail loop."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_folder: dict[int, set[Callable[[], None]]] = {}

    def watch(self, folder: int, callback: Callable[[], None]) -> Callable[[], None]:
        with self._lock:
            self._by_folder.setdefault(folder, set()).add(callback)

        def unwatch() -> None:
            with self._lock:
                self._by_folder.get(folder, set()).discard(callback)

        return unwatch

    def changed(self, folder: int) -> None:
        with self._lock:
            callbacks = list(self._by_folder.get(folder, ()))
        for cb in callbacks:
            notify_threadsafe(cb)


class MailStore:
    def __init__(self, store: Store):
        self.store = store
        self.watchers = Watchers()
        # called with a message id after the commit that put it in a folder (the background
        # IMAP summaries, mssante.imap.summaries): cheap, never failing, on the caller's thread
        self.arrivals: list[Callable[[Iterable[int]], None]] = []

    # -- messages ----------------------------------------------------------------------------
    def add_message(
        self,
        tenant: str,
        raw: bytes,
        *,
        message_id: str = "",
        mail_from: str = "",
        rcpt_to: Sequence[str] = (),
        envelope: dict[str, Any] | None = None,
        received_at: str,
        origin: str = "smtp",
    ) -> int:
        cur = self.store.execute(
            "INSERT INTO mss_messages(tenant, message_id, mail_from, rcpt_to, envelope, raw, size, "
            "received_at, origin) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                tenant,
                message_id,
                mail_from,
                json.dumps(list(rcpt_to)),
                json.dumps(envelope or {}, ensure_ascii=False, default=str),
                raw,
                len(raw),
                received_at,
                origin,
            ),
        )
        return int(cur.lastrowid or 0)

    def raw(self, message: int) -> bytes:
        row = self.store.one("SELECT raw FROM mss_messages WHERE id = ?", (message,))
        return bytes(row["raw"]) if row else b""

    def summaries(self, messages: Sequence[int], version: int) -> dict[int, tuple[bytes, bytes, bytes]]:
        """The stored IMAP summaries (envelope, body, bodystructure) of these messages, as
        written by that version of the writer (an older one is written again)."""
        found: dict[int, tuple[bytes, bytes, bytes]] = {}
        for chunk in _chunks(messages):
            rows = self.store.conn.execute(
                "SELECT message, envelope, body, bodystructure FROM mss_imap_summaries "
                f"WHERE version = ? AND message IN ({', '.join('?' * len(chunk))})",
                [version, *chunk],
            ).fetchall()
            found.update({r[0]: (bytes(r[1]), bytes(r[2]), bytes(r[3])) for r in rows})
        return found

    def unsummarized(self, messages: Sequence[int], version: int) -> list[tuple[int, bytes]]:
        """(id, raw bytes) of those messages that have no summary of that version yet."""
        out: list[tuple[int, bytes]] = []
        for chunk in _chunks(messages):
            rows = self.store.conn.execute(
                "SELECT m.id, m.raw FROM mss_messages m LEFT JOIN mss_imap_summaries s "
                f"ON s.message = m.id AND s.version = ? WHERE s.message IS NULL AND m.id IN ({', '.join('?' * len(chunk))})",
                [version, *chunk],
            ).fetchall()
            out.extend((int(r[0]), bytes(r[1])) for r in rows)
        return out

    def add_summaries(self, summaries: dict[int, tuple[bytes, bytes, bytes]], version: int) -> None:
        """Store IMAP summaries, in the tenant of their message (a message gone is skipped)."""
        with self.store.tx() as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO mss_imap_summaries(message, tenant, version, envelope, body, "
                "bodystructure) SELECT id, tenant, ?, ?, ?, ? FROM mss_messages WHERE id = ?",
                [(version, *values, message) for message, values in summaries.items()],
            )

    def message(self, tenant: str, message: int) -> dict[str, Any] | None:
        row = self.store.one("SELECT * FROM mss_messages WHERE tenant = ? AND id = ?", (tenant, message))
        return _message_row(row) if row else None

    def messages_of(self, tenant: str, mailbox: str, folder: str | None = None) -> list[dict[str, Any]]:
        """Messages in a mailbox (every folder, or one), newest first, without their bytes."""
        sql = (
            "SELECT m.id, m.message_id, m.mail_from, m.rcpt_to, m.envelope, m.size, m.received_at, "
            "m.origin, f.name AS folder, i.uid, i.flags FROM mss_items i JOIN mss_folders f ON f.id = i.folder "
            "JOIN mss_messages m ON m.id = i.message WHERE f.tenant = ? AND f.mailbox = ? AND i.expunged = 0"
        )
        params: list[Any] = [tenant, mailbox.lower()]
        if folder:
            sql += " AND f.name = ?"
            params.append(folder)
        rows = self.store.query(sql + " ORDER BY m.id DESC", params)
        return [_message_row(r) for r in rows]

    def outbound(self, tenant: str) -> list[dict[str, Any]]:
        return self.store.query(
            "SELECT o.id, o.recipient, o.domain, o.at, o.message, m.message_id, m.mail_from FROM mss_outbound o "
            "JOIN mss_messages m ON m.id = o.message WHERE o.tenant = ? ORDER BY o.id DESC",
            (tenant,),
        )

    def hold_outbound(self, tenant: str, message: int, recipient: str, domain: str, at: str) -> None:
        self.store.execute(
            "INSERT INTO mss_outbound(tenant, message, recipient, domain, at) VALUES (?, ?, ?, ?, ?)",
            (tenant, message, recipient, domain, at),
        )

    # -- folders -----------------------------------------------------------------------------
    def folders(self, tenant: str, mailbox: str) -> list[Folder]:
        mailbox = mailbox.lower()
        rows = self.store.query(
            "SELECT * FROM mss_folders WHERE tenant = ? AND mailbox = ? ORDER BY id", (tenant, mailbox)
        )
        if not any(r["name"] == "INBOX" for r in rows):
            with self.store.tx() as conn:
                for name, use in DEFAULT_FOLDERS:
                    conn.execute(
                        "INSERT OR IGNORE INTO mss_folders(tenant, mailbox, name, uidvalidity, special_use) "
                        "VALUES (?, ?, ?, ?, ?)",
                        (tenant, mailbox, name, _uidvalidity(), use),
                    )
            rows = self.store.query(
                "SELECT * FROM mss_folders WHERE tenant = ? AND mailbox = ? ORDER BY id", (tenant, mailbox)
            )
        return [Folder.of(r) for r in rows]

    def folder(self, tenant: str, mailbox: str, name: str) -> Folder | None:
        if name.upper() == "INBOX":
            name = "INBOX"
        for f in self.folders(tenant, mailbox):
            if f.name == name:
                return f
        return None

    def folder_by_id(self, folder: int) -> Folder | None:
        row = self.store.one("SELECT * FROM mss_folders WHERE id = ?", (folder,))
        return Folder.of(row) if row else None

    def create_folder(self, tenant: str, mailbox: str, name: str, special_use: str = "") -> Folder:
        self.folders(tenant, mailbox)
        cur = self.store.execute(
            "INSERT INTO mss_folders(tenant, mailbox, name, uidvalidity, special_use) VALUES (?, ?, ?, ?, ?)",
            (tenant, mailbox.lower(), name, _uidvalidity(), special_use),
        )
        found = self.folder_by_id(int(cur.lastrowid or 0))
        assert found is not None
        return found

    def delete_folder(self, folder: Folder) -> None:
        with self.store.tx() as conn:
            conn.execute("DELETE FROM mss_items WHERE folder = ?", (folder.id,))
            conn.execute("DELETE FROM mss_folders WHERE id = ?", (folder.id,))
        self.watchers.changed(folder.id)

    def rename_folder(self, folder: Folder, name: str) -> None:
        # a renamed folder keeps its UIDVALIDITY (RFC 3501 §6.3.5: its messages keep their UIDs)
        self.store.execute("UPDATE mss_folders SET name = ? WHERE id = ?", (name, folder.id))

    def subscribe(self, folder: Folder, subscribed: bool) -> None:
        self.store.execute("UPDATE mss_folders SET subscribed = ? WHERE id = ?", (int(subscribed), folder.id))

    # -- items -------------------------------------------------------------------------------
    def _bump(self, conn: Any, folder: int, uids: int = 0) -> tuple[int, int]:
        """Next mod-sequence (and the first of `uids` new UIDs) of a folder, inside a transaction."""
        conn.execute(
            "UPDATE mss_folders SET modseq = modseq + 1, next_uid = next_uid + ? WHERE id = ?", (uids, folder)
        )
        row = conn.execute("SELECT modseq, next_uid FROM mss_folders WHERE id = ?", (folder,)).fetchone()
        return int(row[0]), int(row[1]) - uids

    def put(
        self, folder: int, tenant: str, message: int, flags: Iterable[str] = (), when: float | None = None
    ) -> int:
        """Add a message to a folder; returns its UID."""
        with self.store.tx() as conn:
            modseq, uid = self._bump(conn, folder, 1)
            conn.execute(
                "INSERT INTO mss_items(tenant, folder, uid, message, flags, internal_date, recent, modseq) "
                "VALUES (?, ?, ?, ?, ?, ?, 1, ?)",
                (tenant, folder, uid, message, " ".join(sorted(set(flags))), when or time.time(), modseq),
            )
        self.store.after_commit(lambda: self._arrived(folder, message))
        return uid

    def _arrived(self, folder: int, message: int) -> None:
        self.watchers.changed(folder)
        for arrived in self.arrivals:
            arrived((message,))

    def deliver(self, tenant: str, mailbox: str, message: int, name: str = "INBOX") -> int:
        folder = self.folder(tenant, mailbox, name)
        assert folder is not None, f"{mailbox} has no folder {name}"
        return self.put(folder.id, tenant, message)

    def items(self, folder: int) -> list[Item]:
        rows = self.store.conn.execute(
            "SELECT uid, message, flags, internal_date, recent, modseq, expunged FROM mss_items "
            "WHERE folder = ? AND expunged = 0 ORDER BY uid",
            (folder,),
        ).fetchall()
        return [Item.of(r) for r in rows]

    def item(self, folder: int, uid: int) -> Item | None:
        row = self.store.conn.execute(
            "SELECT uid, message, flags, internal_date, recent, modseq, expunged FROM mss_items "
            "WHERE folder = ? AND uid = ?",
            (folder, uid),
        ).fetchone()
        return Item.of(row) if row else None

    def changes(self, folder: int, since: int) -> tuple[list[Item], list[int]]:
        rows = self.store.conn.execute(
            "SELECT uid, message, flags, internal_date, recent, modseq, expunged FROM mss_items "
            "WHERE folder = ? AND modseq > ? ORDER BY uid",
            (folder, since),
        ).fetchall()
        items = [Item.of(r) for r in rows]
        return [i for i in items if not i.expunged], [i.uid for i in items if i.expunged]

    def modseq(self, folder: int) -> int:
        row = self.store.conn.execute("SELECT modseq FROM mss_folders WHERE id = ?", (folder,)).fetchone()
        return int(row[0]) if row else 0

    def set_flags(self, folder: int, uid: int, flags: Iterable[str]) -> Item | None:
        with self.store.tx() as conn:
            modseq, _ = self._bump(conn, folder)
            conn.execute(
                "UPDATE mss_items SET flags = ?, modseq = ? WHERE folder = ? AND uid = ? AND expunged = 0",
                (" ".join(sorted(set(flags))), modseq, folder, uid),
            )
        self.watchers.changed(folder)
        return self.item(folder, uid)

    def expunge(self, folder: int, uids: Iterable[int]) -> None:
        uids = list(uids)
        if not uids:
            return
        with self.store.tx() as conn:
            modseq, _ = self._bump(conn, folder)
            conn.executemany(
                "UPDATE mss_items SET expunged = 1, modseq = ? WHERE folder = ? AND uid = ?",
                [(modseq, folder, uid) for uid in uids],
            )
        self.watchers.changed(folder)

    def claim_recent(self, folder: int) -> list[int]:
        """The UIDs still \\Recent, now no longer (RFC 3501: one session sees them recent)."""
        with self.store.tx() as conn:
            rows = conn.execute(
                "SELECT uid FROM mss_items WHERE folder = ? AND recent = 1 AND expunged = 0", (folder,)
            ).fetchall()
            if rows:
                conn.execute("UPDATE mss_items SET recent = 0 WHERE folder = ? AND recent = 1", (folder,))
        return [int(r[0]) for r in rows]


def _message_row(row: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in row.items() if k != "raw"}
    out["rcpt_to"] = json.loads(out.get("rcpt_to") or "[]")
    out["envelope"] = json.loads(out.get("envelope") or "{}")
    if "flags" in out:
        out["flags"] = [f for f in str(out["flags"]).split(" ") if f]
    return out


def _chunks(messages: Sequence[int], size: int = 500) -> Iterator[list[int]]:
    """`messages` in lists of at most `size` (SQLite's bound on a query's parameters)."""
    for start in range(0, len(messages), size):
        yield list(messages[start : start + size])
