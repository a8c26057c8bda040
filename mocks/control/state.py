"""State export and import: every per-tenant table, as JSON, all or nothing."""

from __future__ import annotations

from typing import Any

from mocks.store import Store

FORMAT = "segur-sandbox-state"
VERSION = 1


def export(store: Store, tenants: list[dict[str, Any]]) -> dict[str, Any]:
    ids = [t["id"] for t in tenants]
    marks = ",".join("?" * len(ids))
    tables: dict[str, list[dict[str, Any]]] = {}
    for table in store.tenant_tables():
        rows = store.query(f'SELECT * FROM "{table}" WHERE tenant IN ({marks}) ORDER BY rowid', ids)
        tables[table] = rows
    return {
        "format": FORMAT,
        "version": VERSION,
        "schema": {r["component"]: r["version"] for r in store.query("SELECT * FROM _schema")},
        "tenants": tenants,
        "tables": tables,
    }


def import_(store: Store, state: dict[str, Any], now_iso: str) -> list[str]:
    """Replace the state of every tenant in `state`; raises ValueError before writing anything."""
    if state.get("format") != FORMAT or state.get("version") != VERSION:
        raise ValueError(f"not a {FORMAT} version {VERSION} document")
    tenants = state.get("tenants")
    tables = state.get("tables")
    if not isinstance(tenants, list) or not isinstance(tables, dict):
        raise ValueError("'tenants' must be a list and 'tables' an object")
    known = set(store.tenant_tables())
    unknown = sorted(set(tables) - known)
    if unknown:
        raise ValueError(f"unknown tables: {', '.join(unknown)}")
    ids = []
    for t in tenants:
        if not isinstance(t, dict) or not isinstance(t.get("id"), str):
            raise ValueError("each tenant needs an 'id'")
        ids.append(t["id"])
    for table, rows in tables.items():
        columns = set(store.columns(table))
        for row in rows:
            if not isinstance(row, dict):
                raise ValueError(f"{table}: rows must be objects")
            extra = set(row) - columns
            if extra:
                raise ValueError(f"{table}: unknown columns {', '.join(sorted(extra))}")
            if row.get("tenant") not in ids:
                raise ValueError(f"{table}: row of tenant {row.get('tenant')!r} not listed in 'tenants'")
    with store.tx() as conn:
        for t in tenants:
            conn.execute(
                "INSERT INTO tenants(id, description, bindings, created_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET description = excluded.description, bindings = excluded.bindings",
                (
                    t["id"],
                    t.get("description", ""),
                    _json(t.get("bindings", [])),
                    t.get("created_at") or now_iso,
                ),
            )
            for table in known:
                conn.execute(f'DELETE FROM "{table}" WHERE tenant = ?', (t["id"],))
        for table, rows in tables.items():
            autoinc = _autoincrement_key(store, table)
            for row in rows:
                row = {k: v for k, v in row.items() if k != autoinc}
                cols = ", ".join(f'"{c}"' for c in row)
                conn.execute(
                    f'INSERT INTO "{table}" ({cols}) VALUES ({", ".join("?" * len(row))})', list(row.values())
                )
    return ids


def _json(value: Any) -> str:
    import json

    return value if isinstance(value, str) else json.dumps(value)


def _autoincrement_key(store: Store, table: str) -> str | None:
    """The integer primary key SQLite assigns (ids are renumbered on import to avoid clashes)."""
    pks = [r for r in store.query(f'PRAGMA table_info("{table}")') if r["pk"]]
    if len(pks) == 1 and pks[0]["type"].upper() == "INTEGER":
        return str(pks[0]["name"])
    return None
