"""The Annuaire's business answers and per-tenant state, apart from any wire format.

- `Options` (table `annuaire_options`, one row per tenant): the gateway preset (none, down,
  invalid-url, timeout, large-count), the rate limit override and the inconsistency fault (a
  deterministic ~2 % of the mailboxes stay in the extraction file but vanish from FHIR, as users
  reported, research mssante.md 6 / issue #365);
- `page(...)`: one page of a search — keyset paging over the technical-id order (the ANS server's
  lastId mechanism), the includes of that page, whether another page follows and the total.
"""

from __future__ import annotations

import bisect
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from annuaire.directory import Directory, Record
from annuaire.errors import PRESETS

if TYPE_CHECKING:
    from annuaire.query import Query
    from mocks.kernel import Sandbox

MIGRATIONS = [
    """
    CREATE TABLE annuaire_options (
        tenant TEXT PRIMARY KEY,
        data TEXT NOT NULL DEFAULT '{}'
    )
    """
]
DEFAULTS: dict[str, Any] = {"gateway": "none", "rate_limit": None, "inconsistency": False}


class Options:
    def __init__(self, sandbox: Sandbox):
        self.sandbox = sandbox

    def get(self, tenant: str) -> dict[str, Any]:
        row = self.sandbox.store.one("SELECT data FROM annuaire_options WHERE tenant = ?", (tenant,))
        return {**DEFAULTS, **(json.loads(row["data"]) if row else {})}

    def update(self, tenant: str, changes: dict[str, Any]) -> dict[str, Any]:
        if "gateway" in changes and changes["gateway"] not in PRESETS:
            raise ValueError(f"gateway preset: one of {', '.join(PRESETS)}")
        current = {**self.get(tenant), **changes}
        self.sandbox.store.execute(
            "INSERT INTO annuaire_options(tenant, data) VALUES (?, ?) "
            "ON CONFLICT(tenant) DO UPDATE SET data = excluded.data",
            (tenant, json.dumps(current)),
        )
        return current

    def rate_limit(self, tenant: str, options: dict[str, Any]) -> int:
        """Calls per second per key (0: no limit): the tenant's override, else the setting."""
        value = options.get("rate_limit")
        return int(self.sandbox.config["annuaire_rate_limit"] if value is None else value)


@dataclass
class Page:
    matches: list[Record]
    included: list[Record] = field(default_factory=list)
    total: int | None = None
    more: bool = False

    @property
    def last_id(self) -> str:
        return self.matches[-1].id if self.matches else ""


class Results:
    """Recent searches' matching ranks, so that each page of a long paging does not search
    again (the world is immutable under its key, so a cached result stays right)."""

    def __init__(self, size: int = 64):
        self.size = size
        self._lock = threading.Lock()
        self._cache: OrderedDict[tuple[Any, ...], list[int]] = OrderedDict()

    def ranks(self, directory: Directory, query: Query, hidden: set[str]) -> list[int]:
        key = (directory.key, query.type, repr(query.clauses), bool(hidden))
        with self._lock:
            found = self._cache.get(key)
            if found is not None:
                self._cache.move_to_end(key)
                return found
        found = directory.search(query, hidden)
        with self._lock:
            self._cache[key] = found
            while len(self._cache) > self.size:
                self._cache.popitem(last=False)
        return found


def page(
    directory: Directory, results: Results, query: Query, after: str, hidden: set[str], count_total: bool
) -> Page:
    """The `query.count` matches after technical id `after` ("" for the first page)."""
    ranks = results.ranks(directory, query, hidden)
    index = directory.types[query.type]
    start = 0
    if after:
        # the first match whose id sorts after `after` (ranks follow the id order)
        position = bisect.bisect_right(index.id_list, after)
        start = bisect.bisect_left(ranks, position)
    chosen = ranks[start : start + query.count]
    matches = [index.records[r] for r in chosen]
    out = Page(matches, more=start + query.count < len(ranks) and query.count > 0)
    if count_total:
        out.total = len(ranks)
    if matches and (query.include or query.revinclude):
        out.included = directory.includes(query.type, matches, query.include, query.revinclude)
    return out


def wants_total(query: Query) -> bool:
    """`_total=none` never; `estimate`/`accurate` always; by default, except for text searches
    (`:contains`), which the live server answers without a total (modifying-search-results.md)."""
    if query.total == "none":
        return False
    if query.total in ("estimate", "accurate"):
        return True
    return not query.text_search
