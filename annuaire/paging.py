"""Paging state: the searches whose next links are still valid, in the store (survives a restart).

The ANS server stores each search's context server-side and hands out an opaque `_page?id=`
(v2) or `?_getpages=<uuid>&_pageId=<id>` (v1) link (research mssante.md 1.6; afas
NextUrlManager). Here:

    annuaire_searches  one row per first page: tenant, version, resource type, the request's
                       parameters, the world key, page size, total, expiry (sandbox clock)
    annuaire_pages     one row per next link handed out: its search and the last technical id
                       already served (keyset paging: the next page starts after it, so pages
                       never overlap nor skip, whatever the page size)

A page id that is unknown, of another tenant, expired, or from another world is gone (410).
"""

from __future__ import annotations

import json
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from mocks.clock import iso

if TYPE_CHECKING:
    from mocks.kernel import Sandbox

MIGRATIONS = [
    """
    CREATE TABLE annuaire_searches (
        id TEXT PRIMARY KEY,
        tenant TEXT NOT NULL,
        version TEXT NOT NULL,
        resource TEXT NOT NULL,
        params TEXT NOT NULL,
        world TEXT NOT NULL,
        page_size INTEGER NOT NULL,
        total INTEGER,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL
    );
    CREATE TABLE annuaire_pages (
        id TEXT PRIMARY KEY,
        tenant TEXT NOT NULL,
        search_id TEXT NOT NULL,
        after TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE INDEX annuaire_pages_search ON annuaire_pages(search_id)
    """
]


@dataclass(frozen=True)
class Search:
    id: str
    tenant: str
    version: str
    resource: str
    params: list[tuple[str, str]]
    world: str
    page_size: int
    total: int | None
    expires_at: datetime


class Gone(LookupError):
    """The page id is not (or no longer) valid; `reason` says why, for the journal."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class Pages:
    def __init__(self, sandbox: Sandbox, lifetime_s: int):
        self.sandbox = sandbox
        self.lifetime = timedelta(seconds=lifetime_s)

    def start(
        self,
        tenant: str,
        version: str,
        resource: str,
        params: list[tuple[str, str]],
        world: str,
        page_size: int,
        total: int | None,
        after: str,
    ) -> tuple[str, str]:
        """Record a search whose first page was served up to `after`: (search id, page id)."""
        search_id = str(uuid.uuid4())
        now = self.sandbox.now(tenant)
        page_id = secrets.token_urlsafe(96)
        with self.sandbox.store.tx() as conn:
            conn.execute(
                "INSERT INTO annuaire_searches VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (search_id, tenant, version, resource, json.dumps(params), world, page_size, total,
                 iso(now), iso(now + self.lifetime)),
            )  # fmt: skip
            conn.execute(
                "INSERT INTO annuaire_pages VALUES (?, ?, ?, ?, ?)",
                (page_id, tenant, search_id, after, iso(now)),
            )
        return search_id, page_id

    def next(self, tenant: str, search_id: str, after: str) -> str:
        """A page id for the page of `search_id` that starts after `after`."""
        page_id = secrets.token_urlsafe(96)
        self.sandbox.store.execute(
            "INSERT INTO annuaire_pages VALUES (?, ?, ?, ?, ?)",
            (page_id, tenant, search_id, after, iso(self.sandbox.now(tenant))),
        )
        return page_id

    def find(self, tenant: str, page_id: str, world: str, search_id: str | None = None) -> tuple[Search, str]:
        """The search of a page id and where its page starts; raises Gone."""
        row = self.sandbox.store.one(
            "SELECT p.after AS after, s.* FROM annuaire_pages p JOIN annuaire_searches s ON s.id = p.search_id "
            "WHERE p.id = ? AND p.tenant = ?",
            (page_id, tenant),
        )
        if row is None or (search_id is not None and row["id"] != search_id):
            raise Gone("unknown page id")
        expires = datetime.fromisoformat(row["expires_at"])
        if self.sandbox.now(tenant) >= expires:
            raise Gone("expired page id")
        if row["world"] != world:
            raise Gone("the synthetic world changed since the search")
        search = Search(
            row["id"], row["tenant"], row["version"], row["resource"],
            [tuple(p) for p in json.loads(row["params"])],  # type: ignore[misc]
            row["world"], int(row["page_size"]), row["total"], expires,
        )  # fmt: skip
        return search, str(row["after"])
