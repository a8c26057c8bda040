"""The CDA documents that went through the operator, per tenant (table `mss_documents`): what a
replacement is checked against (MSS.02 "annule et remplace": same setId, versionNumber + 1) and
what a receiving mailbox already integrated (MDN error 900/901).

    record(store, tenant, message, mailbox, direction, documents, at)   direction: sent | received
    previous(store, tenant, set_id=..., unique_id=..., mailbox=..., direction=...)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from mocks.store import Store
from mssante.submission import DocumentInfo

# a migration step of mssante.mailstore.MIGRATIONS: this table, the mailbox receipt profiles
# (mssante.integration) and an index to find a message by its Message-ID
MIGRATION = """
    CREATE TABLE mss_documents (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        tenant TEXT NOT NULL,
        message INTEGER NOT NULL,
        mailbox TEXT NOT NULL,
        direction TEXT NOT NULL,
        unique_id TEXT NOT NULL,
        set_id TEXT NOT NULL DEFAULT '',
        version TEXT NOT NULL DEFAULT '',
        type_code TEXT NOT NULL DEFAULT '',
        ins TEXT NOT NULL DEFAULT '',
        author TEXT NOT NULL DEFAULT '',
        structure TEXT NOT NULL DEFAULT '',
        at TEXT NOT NULL
    );
    CREATE INDEX mss_documents_set ON mss_documents(tenant, set_id);
    CREATE INDEX mss_documents_uid ON mss_documents(tenant, unique_id);
    CREATE INDEX mss_messages_mid ON mss_messages(tenant, message_id);
    CREATE TABLE mss_profiles (
        tenant TEXT NOT NULL,
        mailbox TEXT NOT NULL,
        receipts TEXT NOT NULL,
        PRIMARY KEY (tenant, mailbox)
    )
    """


def record(
    store: Store,
    tenant: str,
    message: int,
    mailbox: str,
    direction: str,
    documents: Iterable[DocumentInfo],
    at: str,
) -> None:
    rows = [
        (tenant, message, mailbox.lower(), direction, d.unique_id, d.set_id, d.version, d.type_code, d.ins,
         d.author, d.structure, at)
        for d in documents
        if d.unique_id
    ]  # fmt: skip
    if rows:
        with store.tx() as conn:
            conn.executemany(
                "INSERT INTO mss_documents(tenant, message, mailbox, direction, unique_id, set_id, version, "
                "type_code, ins, author, structure, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )


def previous(
    store: Store,
    tenant: str,
    *,
    set_id: str = "",
    unique_id: str = "",
    mailbox: str = "",
    direction: str = "",
) -> list[dict[str, Any]]:
    """Documents already seen with this setId (or uniqueId), newest first."""
    sql = "SELECT * FROM mss_documents WHERE tenant = ?"
    params: list[Any] = [tenant]
    if set_id:
        sql += " AND set_id = ?"
        params.append(set_id)
    if unique_id:
        sql += " AND unique_id = ?"
        params.append(unique_id)
    if mailbox:
        sql += " AND mailbox = ?"
        params.append(mailbox.lower())
    if direction:
        sql += " AND direction = ?"
        params.append(direction)
    return store.query(sql + " ORDER BY id DESC LIMIT 50", params)


def version_number(value: str) -> int | None:
    return int(value) if value.isdigit() else None
