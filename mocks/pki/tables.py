"""The PKI's tables. Global (no `tenant` column): one PKI serves every tenant, and a tenant reset
keeps it. The CAs are written all at once, so a reader sees the whole hierarchy or none of it."""

from __future__ import annotations

MIGRATIONS = [
    """
    CREATE TABLE pki_cas (
        name TEXT PRIMARY KEY,
        parent TEXT,
        cert_der BLOB NOT NULL,
        key_pem BLOB NOT NULL,
        created_at TEXT NOT NULL,
        crl_number INTEGER NOT NULL DEFAULT 0,
        crl_this_update TEXT,
        crl_next_update TEXT,
        crl_der BLOB
    );
    CREATE TABLE pki_certs (
        serial TEXT PRIMARY KEY,
        ca TEXT NOT NULL,
        kind TEXT NOT NULL,
        persona TEXT NOT NULL,
        subject TEXT NOT NULL,
        not_before TEXT NOT NULL,
        not_after TEXT NOT NULL,
        issued_at TEXT NOT NULL,
        cert_der BLOB NOT NULL,
        key_pem BLOB NOT NULL,
        current INTEGER NOT NULL DEFAULT 1,
        revoked_at TEXT,
        revocation_reason TEXT
    );
    CREATE INDEX pki_certs_persona ON pki_certs(persona, kind, current);
    CREATE TABLE pki_subjects (
        persona TEXT PRIMARY KEY,
        type TEXT NOT NULL CHECK (type IN ('professional', 'structure')),
        data TEXT NOT NULL
    )
    """
]
