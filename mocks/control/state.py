"""State export and import: every per-tenant table, as JSON, all or nothing.

Import checks the whole document before writing anything: the format, every tenant (the one
tenant-id grammar of mocks.tenants, description, bindings), every table and column name, every
row's tenant, every value (a JSON scalar that SQLite stores as given: no object or list, integers
within 64 bits, finite numbers), the columns a row must have, and the rows of the kernel tables
that the sandbox reads back as settings (clocks, fault rules: `checks`). Then it writes in one
transaction; a constraint SQLite still refuses rolls the whole import back (ValueError).
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Callable, Mapping
from typing import Any

from mocks import clock
from mocks.store import Store
from mocks.tenants import check_record

FORMAT = "segur-sandbox-state"
VERSION = 1
TENANT_KEYS = {"id", "description", "bindings", "created_at"}
INT64 = (-(2**63), 2**63 - 1)

# table -> a check of one row (raises ValueError); the kernel's, plus what the caller adds
RowCheck = Callable[[dict[str, Any]], None]
KERNEL_CHECKS: dict[str, RowCheck] = {"clocks": clock.check_row}


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


def check(store: Store, state: Any, checks: Mapping[str, RowCheck] | None = None) -> list[str]:
    """Check an export document whole; returns its tenant ids. Raises ValueError naming the first
    problem (its table, row number and column)."""
    if not isinstance(state, dict) or state.get("format") != FORMAT or state.get("version") != VERSION:
        raise ValueError(f"not a {FORMAT} version {VERSION} document")
    tenants, tables = state.get("tenants"), state.get("tables")
    if not isinstance(tenants, list) or not isinstance(tables, dict):
        raise ValueError("'tenants' must be a list and 'tables' an object")
    ids: list[str] = []
    for n, t in enumerate(tenants):
        if not isinstance(t, dict) or "id" not in t:
            raise ValueError(f"tenants[{n}]: an object with an 'id'")
        extra = sorted(set(t) - TENANT_KEYS)
        if extra:
            raise ValueError(f"tenants[{n}]: unknown keys {', '.join(extra)}")
        check_record(t["id"], t.get("description", ""), t.get("bindings", []))
        if t.get("created_at") is not None and not isinstance(t["created_at"], str):
            raise ValueError(f"tenants[{n}]: created_at must be a text (ISO 8601)")
        if t["id"] in ids:
            raise ValueError(f"tenants[{n}]: tenant {t['id']} listed twice")
        ids.append(t["id"])
    known = set(store.tenant_tables())
    unknown = sorted(set(tables) - known)
    if unknown:
        raise ValueError(f"unknown tables: {', '.join(unknown)}")
    row_checks = {**KERNEL_CHECKS, **(checks or {})}
    for table, rows in tables.items():
        if not isinstance(rows, list):
            raise ValueError(f"{table}: a list of rows")
        info = {r["name"]: r for r in store.query(f'PRAGMA table_info("{table}")')}
        autoinc = _autoincrement_key(store, table)
        required = {
            name
            for name, col in info.items()
            if col["notnull"] and col["dflt_value"] is None and name != autoinc
        }
        for n, row in enumerate(rows):
            where = f"{table}[{n}]"
            if not isinstance(row, dict):
                raise ValueError(f"{where}: rows must be objects")
            unknown_columns = set(row) - set(info)
            if unknown_columns:
                raise ValueError(f"{where}: unknown columns {', '.join(sorted(unknown_columns))}")
            missing = sorted(c for c in required if row.get(c) is None)
            if missing:
                raise ValueError(f"{where}: missing values for {', '.join(missing)}")
            for column, value in row.items():
                _check_value(f"{where}.{column}", value)
            if row.get("tenant") not in ids:
                raise ValueError(f"{where}: row of tenant {row.get('tenant')!r} not listed in 'tenants'")
            if table in row_checks:
                try:
                    row_checks[table](row)
                except ValueError as exc:
                    raise ValueError(f"{where}: {exc}") from None
    return ids


def import_(
    store: Store, state: Any, now_iso: str, checks: Mapping[str, RowCheck] | None = None
) -> list[str]:
    """Replace the state of every tenant in `state`; raises ValueError before writing anything."""
    ids = check(store, state, checks)
    tenants, tables = state["tenants"], state["tables"]
    known = set(store.tenant_tables())
    try:
        with store.tx() as conn:
            for t in tenants:
                conn.execute(
                    "INSERT INTO tenants(id, description, bindings, created_at) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT(id) DO UPDATE SET description = excluded.description, "
                    "bindings = excluded.bindings",
                    (
                        t["id"],
                        t.get("description", ""),
                        json.dumps(list(t.get("bindings", []))),
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
                        f'INSERT INTO "{table}" ({cols}) VALUES ({", ".join("?" * len(row))})',
                        list(row.values()),
                    )
    except sqlite3.Error as exc:  # a constraint the checks above do not know: nothing was written
        raise ValueError(f"the store refused the document, nothing imported: {exc}") from None
    return ids


def _check_value(where: str, value: Any) -> None:
    if value is None or isinstance(value, str | bool):
        return
    if isinstance(value, int):
        if not INT64[0] <= value <= INT64[1]:
            raise ValueError(f"{where}: integer out of the 64-bit range")
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{where}: not a finite number")
        return
    raise ValueError(f"{where}: a text, number, boolean or null (not {type(value).__name__})")


def _autoincrement_key(store: Store, table: str) -> str | None:
    """The integer primary key SQLite assigns (ids are renumbered on import to avoid clashes)."""
    pks = [r for r in store.query(f'PRAGMA table_info("{table}")') if r["pk"]]
    if len(pks) == 1 and pks[0]["type"].upper() == "INTEGER":
        return str(pks[0]["name"])
    return None
