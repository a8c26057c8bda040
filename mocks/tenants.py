"""Tenants isolate parallel test runs: every piece of per-tenant state is keyed by tenant id.

A request's tenant is chosen, in this order, by: the `X-Sandbox-Tenant` header, a path prefix
`/_t/<tenant>/` (stripped before routing, for clients that cannot add headers), a binding of
what the caller presented (a certificate subject or serial, an OAuth client id) to a tenant,
and finally the default tenant.

One grammar for tenant ids, everywhere (creation, import, the control plane's `?tenant=` and
`X-Sandbox-Tenant`, the services' header and path prefix): 1 to 63 characters among `a-z 0-9 _ -`,
starting with a letter or a digit, matched whole (`fullmatch`: no trailing newline). An id outside
it cannot exist: `InvalidTenantId` (a kind of `UnknownTenant`, so that the services answer it as
their unknown-tenant refusal; the control plane answers it 400).

`Generation` lets hot paths cache the small tables every request reads (tenants and their
bindings, clocks, fault rules) without missing a change made by another process (compose
containers share the store): triggers bump one counter on any change to those tables; a cache is
valid while the counter has not moved. `Sandbox.exchange` pins the counter for a request, so a
request reads it once.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Generic, TypeVar

from mocks.store import Store

DEFAULT = "default"
TENANT_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")
GRAMMAR = "1 to 63 characters among a-z 0-9 _ -, starting with a letter or a digit"
HEADER = "X-Sandbox-Tenant"
MAX_DESCRIPTION = 1000
MAX_BINDINGS = 100
MAX_BINDING = 1000  # a certificate subject is a few hundred characters

MIGRATIONS = [
    """
    CREATE TABLE tenants (
        id TEXT PRIMARY KEY,
        description TEXT NOT NULL DEFAULT '',
        bindings TEXT NOT NULL DEFAULT '[]',
        created_at TEXT NOT NULL
    )
    """
]


_WATCHED = ("tenants", "clocks", "faults")
# its own component: its steps never shift the kernel's numbering
GENERATION_MIGRATIONS = [
    "CREATE TABLE kernel_generation (id INTEGER PRIMARY KEY CHECK (id = 1), value INTEGER NOT NULL);\n"
    "INSERT INTO kernel_generation VALUES (1, 0);\n"
    + ";\n".join(
        f"CREATE TRIGGER kernel_generation_{table}_{op.lower()} AFTER {op} ON {table} "
        "BEGIN UPDATE kernel_generation SET value = value + 1 WHERE id = 1; END"
        for table in _WATCHED
        for op in ("INSERT", "UPDATE", "DELETE")
    )
]
T = TypeVar("T")


class Generation:
    """The change counter of the cached tables (tenants, clocks, faults), across processes."""

    def __init__(self, store: Store):
        self.store = store
        store.migrate("kernel-generation", GENERATION_MIGRATIONS)
        self._local = threading.local()

    def read(self) -> int:
        pinned = getattr(self._local, "pinned", None)
        if pinned is not None:
            return int(pinned)
        row = self.store.conn.execute("SELECT value FROM kernel_generation WHERE id = 1").fetchone()
        return int(row[0]) if row else -1

    @contextmanager
    def pinned(self) -> Iterator[None]:
        """Read the counter once for the block (one request) in this thread."""
        saved = getattr(self._local, "pinned", None)
        self._local.pinned = None
        self._local.pinned = self.read()
        try:
            yield
        finally:
            self._local.pinned = saved


class Cached(Generic[T]):
    """A value loaded from the store, reloaded when the generation has moved."""

    def __init__(self, generation: Generation, load: Callable[[], T]):
        self.generation, self.load = generation, load
        self._value: tuple[int, T] | None = None

    def get(self) -> T:
        current = self.generation.read()
        value = self._value
        if value is None or value[0] != current:
            value = (current, self.load())
            self._value = value
        return value[1]


class UnknownTenant(LookupError):
    def __init__(self, tenant: str):
        super().__init__(f"unknown tenant: {tenant}")
        self.tenant = tenant


class InvalidTenantId(UnknownTenant):
    """A tenant id outside the grammar (it cannot exist)."""

    def __init__(self, tenant: str):
        LookupError.__init__(self, f"invalid tenant id {tenant!r}: {GRAMMAR}")
        self.tenant = tenant


def valid_id(tenant: object) -> bool:
    return isinstance(tenant, str) and TENANT_ID.fullmatch(tenant) is not None


def check_id(tenant: object) -> str:
    """`tenant` when it follows the grammar, else InvalidTenantId."""
    if not valid_id(tenant):
        raise InvalidTenantId(str(tenant))
    return str(tenant)


def check_record(tenant: object, description: object = "", bindings: object = ()) -> list[str]:
    """Check a tenant as created or imported; returns its bindings as a list. Raises ValueError
    (InvalidTenantId for the id) naming what is wrong."""
    check_id(tenant)
    if not isinstance(description, str) or len(description) > MAX_DESCRIPTION:
        raise ValueError(
            f"tenant {tenant}: description must be a text of at most {MAX_DESCRIPTION} characters"
        )
    if not isinstance(bindings, list | tuple) or len(bindings) > MAX_BINDINGS:
        raise ValueError(f"tenant {tenant}: bindings must be a list of at most {MAX_BINDINGS} texts")
    for key in bindings:
        if not isinstance(key, str) or not key.strip() or len(key) > MAX_BINDING or "\x00" in key:
            raise ValueError(
                f"tenant {tenant}: each binding is a non-empty text of at most {MAX_BINDING} characters"
            )
    return list(bindings)


class Tenants:
    def __init__(self, store: Store, now_iso: Any, generation: Generation | None = None):
        self.store = store
        self._now_iso = now_iso
        self.generation = generation or Generation(store)
        # ids, and binding -> tenant (the first tenant by id holding it)
        self._index = Cached(self.generation, self._load_index)

    def _load_index(self) -> tuple[frozenset[str], dict[str, str]]:
        ids: list[str] = []
        bindings: dict[str, str] = {}
        for row in self.store.query("SELECT id, bindings FROM tenants ORDER BY id"):
            ids.append(row["id"])
            for key in json.loads(row["bindings"]):
                if isinstance(key, str):
                    bindings.setdefault(key, row["id"])
        return frozenset(ids), bindings

    def ensure_default(self) -> None:
        self.store.execute(
            "INSERT OR IGNORE INTO tenants(id, description, bindings, created_at) VALUES (?, ?, '[]', ?)",
            (DEFAULT, "default tenant", self._now_iso()),
        )

    def all(self) -> list[dict[str, Any]]:
        return [self._row(r) for r in self.store.query("SELECT * FROM tenants ORDER BY id")]

    def get(self, tenant: str) -> dict[str, Any]:
        check_id(tenant)
        row = self.store.one("SELECT * FROM tenants WHERE id = ?", (tenant,))
        if row is None:
            raise UnknownTenant(tenant)
        return self._row(row)

    def exists(self, tenant: str) -> bool:
        if not valid_id(tenant):
            return False
        return tenant in self._index.get()[0]

    def create(
        self, tenant: str, description: str = "", bindings: Sequence[str] | None = None
    ) -> dict[str, Any]:
        keys = check_record(tenant, description, list(bindings or []))
        self.store.execute(
            "INSERT INTO tenants(id, description, bindings, created_at) VALUES (?, ?, ?, ?)",
            (tenant, description, json.dumps(keys), self._now_iso()),
        )
        return self.get(tenant)

    def delete(self, tenant: str) -> None:
        """Delete a tenant and all its state, in one transaction; the default tenant stays."""
        self.get(tenant)
        with self.store.tx() as conn:
            for table in self.store.tenant_tables():
                conn.execute(f'DELETE FROM "{table}" WHERE tenant = ?', (tenant,))
            if tenant != DEFAULT:
                conn.execute("DELETE FROM tenants WHERE id = ?", (tenant,))

    def reset(self, tenant: str, service: str | None = None) -> int:
        """Forget a tenant's state (one service's, or all), keep the tenant. Returns rows deleted."""
        self.get(tenant)
        deleted = 0
        with self.store.tx() as conn:
            for table in self.store.tenant_tables(service):
                deleted += conn.execute(f'DELETE FROM "{table}" WHERE tenant = ?', (tenant,)).rowcount
            if service is not None:
                for table in ("journal", "faults"):
                    deleted += conn.execute(
                        f"DELETE FROM {table} WHERE tenant = ? AND service = ?", (tenant, service)
                    ).rowcount
        return deleted

    def resolve(self, header: str | None = None, presented: Sequence[str | None] | None = None) -> str:
        """The tenant of a request. An explicit tenant that does not exist is an error (404)."""
        ids, bindings = self._index.get()
        if header:
            check_id(header)
            if header not in ids:
                raise UnknownTenant(header)
            return header
        for key in presented or []:
            if key and key in bindings:
                return bindings[key]
        return DEFAULT

    @staticmethod
    def _row(row: dict[str, Any]) -> dict[str, Any]:
        return {**row, "bindings": json.loads(row["bindings"])}
