"""PSC's tables in the store. Every per-tenant table has a `tenant` column (reset and export work
without PSC code); `psc_keys` is global (a reset does not change the JWKS). Steps are appended,
never edited: a data folder made by an older build migrates forward."""

from __future__ import annotations

from psc.keys import MIGRATIONS as KEY_MIGRATIONS

MIGRATIONS = [
    *KEY_MIGRATIONS,
    """
    CREATE TABLE psc_clients (
        tenant TEXT NOT NULL, client_id TEXT NOT NULL, data TEXT NOT NULL,
        PRIMARY KEY (tenant, client_id)
    );
    CREATE TABLE psc_requests (
        id TEXT PRIMARY KEY, tenant TEXT NOT NULL, kind TEXT NOT NULL, client_id TEXT NOT NULL,
        national_id TEXT NOT NULL DEFAULT '', channel TEXT NOT NULL DEFAULT '', status TEXT NOT NULL,
        params TEXT NOT NULL DEFAULT '{}', created_at REAL NOT NULL, pushed_at REAL, expires_at REAL,
        last_poll REAL, interval INTEGER NOT NULL DEFAULT 5, session_id TEXT, reason TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX psc_requests_tenant ON psc_requests(tenant, status);
    CREATE TABLE psc_sessions (
        id TEXT PRIMARY KEY, tenant TEXT NOT NULL, national_id TEXT NOT NULL, auth_mode TEXT NOT NULL,
        auth_time REAL NOT NULL, last_seen REAL NOT NULL, ended INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE psc_codes (
        code TEXT PRIMARY KEY, tenant TEXT NOT NULL, client_id TEXT NOT NULL, session_id TEXT NOT NULL,
        params TEXT NOT NULL, expires_at REAL NOT NULL, used INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE psc_tokens (
        jti TEXT PRIMARY KEY, tenant TEXT NOT NULL, kind TEXT NOT NULL, client_id TEXT NOT NULL,
        session_id TEXT NOT NULL, expires_at REAL NOT NULL, revoked INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX psc_tokens_session ON psc_tokens(session_id);
    CREATE TABLE psc_quirks (
        tenant TEXT NOT NULL, national_id TEXT NOT NULL, acr TEXT NOT NULL,
        PRIMARY KEY (tenant, national_id)
    );
    CREATE TABLE psc_settings (
        tenant TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (tenant, key)
    )
    """,
    # client assertions seen (private_key_jwt / client_secret_jwt): a jti serves once
    """
    CREATE TABLE psc_assertions (
        tenant TEXT NOT NULL, client_id TEXT NOT NULL, jti TEXT NOT NULL, expires_at REAL NOT NULL,
        PRIMARY KEY (tenant, client_id, jti)
    )
    """,
]
