"""The PKI's tables. Global (no `tenant` column): one PKI serves every tenant, and a tenant reset
keeps it. The CAs are written all at once, so a reader sees the whole hierarchy or none of it.

Any change to `pki_cas` or `pki_certs` bumps the kernel's generation counter (mocks.tenants,
Generation), so that every process caches the CA list and the certificate rows it reads on each
call (identify) and sees another process's issuance or revocation at its next request."""

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
    """,
    ";\n".join(
        f"CREATE TRIGGER pki_generation_{table}_{op.lower()} AFTER {op} ON {table} "
        "BEGIN UPDATE kernel_generation SET value = value + 1 WHERE id = 1; END"
        for table in ("pki_cas", "pki_certs")
        for op in ("INSERT", "UPDATE", "DELETE")
    ),
]
