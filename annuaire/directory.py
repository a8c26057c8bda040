"""The directory in memory: every resource once, pre-encoded, with the indexes searches use.

    Directory.build(builder)     records per type sorted by technical id (the order pages follow,
                                 as the ANS server sorts by _id), their compact JSON, search values
    directory.read(type, id)     O(1), by v2 or v1 id
    directory.by_rpps(rpps)      O(1) Practitioner;  directory.by_mailbox(address)  O(1) records
    directory.search(query)      the sorted ranks matching a parsed query (annuaire.query)
    directory.includes(...)      _include / _revinclude targets of a page

Token and exact-string values are dictionary-indexed, string prefixes use a sorted key list
(bisect), `:contains` scans the distinct values of one parameter only. A world is built once per
population key (`directory_for`) and shared by every tenant: per-tenant presets (the
inconsistency fault that hides some mailboxes from FHIR) apply when results are filtered and
serialised, never to the shared indexes.
"""

from __future__ import annotations

import bisect
import gc
import hashlib
import json
import threading
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from annuaire.params import PARAMS, TARGETS
from annuaire.resources import MAILBOX_METADATA, Builder, Built

if TYPE_CHECKING:
    from annuaire.query import Clause, Query
    from mocks.kernel import Sandbox


@lru_cache(maxsize=65536)
def normalise(text: str) -> str:
    """Case- and accent-insensitive form (FHIR string search)."""
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c)).casefold()


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def encode(resource: dict[str, Any]) -> bytes:
    """Compact JSON, UTF-8 unescaped, in the element order given (HAPI's encoder writes this)."""
    return _ENCODER.encode(resource).encode()


@dataclass
class Record:
    built: Built
    rank: int
    json: bytes
    v1_json: bytes | None = None
    without_hidden: bytes | None = None  # JSON with the hidden mailboxes removed (inconsistency)
    hidden: tuple[str, ...] = ()  # mailboxes the inconsistency fault hides from FHIR
    values: dict[str, list[Any]] = field(default_factory=dict)
    updated: datetime | None = None

    @property
    def type(self) -> str:
        return self.built.type

    @property
    def id(self) -> str:
        return self.built.id

    @property
    def ref(self) -> str:
        return f"{self.built.type}/{self.built.id}"


class TypeIndex:
    """The records of one resource type and the indexes of its search parameters."""

    def __init__(self, kind: str, records: list[Record]):
        self.kind = kind
        self.records = records
        self.id_list = [r.id for r in records]  # sorted: ranks follow the technical-id order
        self.all = range(len(records))
        self.tokens: dict[str, dict[tuple[str, str], set[int]]] = {}
        self.codes: dict[str, dict[str, set[int]]] = {}
        self.systems: dict[str, dict[str, set[int]]] = {}
        self.strings: dict[str, dict[str, set[int]]] = {}  # normalised value -> ranks
        self.raw: dict[str, dict[str, set[int]]] = {}  # raw value -> ranks (exact)
        self.sorted_keys: dict[str, list[str]] = {}
        self.refs: dict[str, dict[str, set[int]]] = {}
        for name, param in PARAMS[kind].items():
            if name == "_id":
                continue
            if param.type == "token":
                self.tokens[name], self.codes[name], self.systems[name] = {}, {}, {}
            elif param.type == "string":
                self.strings[name], self.raw[name] = {}, {}
            elif param.type == "reference":
                self.refs[name] = {}
        self.by_id = {r.id: r.rank for r in records}
        indexed = {n: p for n, p in PARAMS[kind].items() if n != "_id"}  # _id: the id map
        for rec in records:
            for name, param in indexed.items():
                values = param.extract(rec.built)
                rec.values[name] = values
                if param.type == "token":
                    for system, code in values:
                        self.tokens[name].setdefault((system, code), set()).add(rec.rank)
                        self.codes[name].setdefault(code, set()).add(rec.rank)
                        self.systems[name].setdefault(system, set()).add(rec.rank)
                elif param.type == "string":
                    for v in values:
                        self.strings[name].setdefault(normalise(v), set()).add(rec.rank)
                        self.raw[name].setdefault(v, set()).add(rec.rank)
                elif param.type == "reference":
                    for target in values:
                        self.refs[name].setdefault(target, set()).add(rec.rank)
                        self.refs[name].setdefault(target.rpartition("/")[2], set()).add(rec.rank)
                elif param.type == "date" and values:
                    rec.updated = datetime.fromisoformat(values[0])
        for name, found in self.strings.items():
            self.sorted_keys[name] = sorted(found)

    # -- one clause ---------------------------------------------------------------------------
    def match(self, clause: Clause, hidden: set[str]) -> set[int]:
        param = PARAMS[self.kind][clause.name]
        found: set[int] = set()
        for value in clause.values:
            if param.type == "token":
                found |= self._token(clause.name, value)
            elif param.type == "string":
                found |= self._string(clause.name, clause.modifier, value)
            elif param.type == "reference":
                found |= self.refs[clause.name].get(value, set())
            elif param.type == "date":
                found |= {r.rank for r in self.records if r.updated is not None and value.matches(r.updated)}
        if clause.name == "mailbox-mss" and hidden:
            found = {r for r in found if not self._only_hidden(self.records[r], clause, hidden)}
        if param.type == "token" and clause.modifier == "not":
            return set(self.all) - found
        return found

    def _token(self, name: str, value: str) -> set[int]:
        if name == "_id":
            rank = self.by_id.get(value.rpartition("|")[2])
            return set() if rank is None else {rank}
        if "|" in value:
            system, _, code = value.partition("|")
            if not code:
                return self.systems[name].get(system, set())
            return self.tokens[name].get((system, code), set())
        return self.codes[name].get(value, set())

    def _string(self, name: str, modifier: str | None, value: str) -> set[int]:
        if modifier == "exact":
            if name == "mailbox-mss":  # addresses compare case-insensitively
                return self.strings[name].get(normalise(value), set())
            return self.raw[name].get(value, set())
        needle = normalise(value)
        keys = self.sorted_keys[name]
        found: set[int] = set()
        if modifier in ("contains", "text"):
            for key in keys:
                if needle in key:
                    found |= self.strings[name][key]
            return found
        start = bisect.bisect_left(keys, needle)
        for key in keys[start:]:
            if not key.startswith(needle):
                break
            found |= self.strings[name][key]
        return found

    @staticmethod
    def _only_hidden(rec: Record, clause: Clause, hidden: set[str]) -> bool:
        """True when the record matched only through mailboxes hidden from FHIR."""
        visible = [v for v in rec.values["mailbox-mss"] if normalise(v) not in hidden]
        for value in clause.values:
            needle = normalise(value)
            for v in visible:
                n = normalise(v)
                if (clause.modifier == "exact" and n == needle) or (
                    clause.modifier in ("contains", "text") and needle in n
                ):
                    return False
                if clause.modifier is None and n.startswith(needle):
                    return False
        return True


class Directory:
    def __init__(self, key: str, seed: int, built: Iterable[Built]):
        self.key = key
        by_type: dict[str, list[Built]] = {kind: [] for kind in PARAMS}
        for b in built:
            by_type[b.type].append(b)
        self.types: dict[str, TypeIndex] = {}
        self.ids: dict[str, dict[str, Record]] = {}
        self.v1_ids: dict[str, dict[str, Record]] = {}
        self.mailboxes: dict[str, list[Record]] = {}
        self.rpps: dict[str, Record] = {}
        # mailboxes of about one in fifty records, hidden from FHIR by the inconsistency fault
        self.inconsistent: set[str] = set()
        for kind, items in by_type.items():
            items.sort(key=lambda b: b.id)
            records = [Record(b, rank, encode(b.resource)) for rank, b in enumerate(items)]
            self.types[kind] = TypeIndex(kind, records)
            self.ids[kind] = {r.id: r for r in records}
            self.v1_ids[kind] = {r.built.v1_id: r for r in records}
            for rec in records:
                for box in rec.built.mailboxes:
                    self.mailboxes.setdefault(box.address.casefold(), []).append(rec)
                    digest = hashlib.sha256(f"{seed}|inconsistent|{box.address}".encode()).digest()
                    if digest[0] % 50 == 0:
                        self.inconsistent.add(normalise(box.address))
                if kind == "Practitioner":
                    for system, value in rec.values["identifier"]:
                        if system == "https://rpps.esante.gouv.fr":
                            self.rpps[value] = rec
        for kind in ("Practitioner", "PractitionerRole", "Organization"):
            for rec in self.types[kind].records:
                rec.hidden = tuple(
                    b.address for b in rec.built.mailboxes if normalise(b.address) in self.inconsistent
                )
        self.size = {kind: len(t.records) for kind, t in self.types.items()}

    @classmethod
    def build(cls, key: str, builder: Builder) -> Directory:
        return cls(key, builder.seed, builder.all())

    # -- lookups -------------------------------------------------------------------------------
    def read(self, kind: str, rid: str, v1: bool = False) -> Record | None:
        return (self.v1_ids if v1 else self.ids)[kind].get(rid)

    def by_rpps(self, rpps: str) -> Record | None:
        return self.rpps.get(rpps)

    def by_mailbox(self, address: str) -> list[Record]:
        return list(self.mailboxes.get(address.casefold(), ()))

    def record(self, ref: str) -> Record | None:
        kind, _, rid = ref.partition("/")
        return self.ids.get(kind, {}).get(rid)

    # -- search --------------------------------------------------------------------------------
    def search(self, query: Query, hidden: set[str]) -> list[int]:
        """Ranks (sorted: technical id order) of the records matching every clause."""
        index = self.types[query.type]
        if not query.clauses:
            return list(index.all)
        found: set[int] | None = None
        for clause in sorted(query.clauses, key=lambda c: c.cost):
            matched = index.match(clause, hidden)
            found = matched if found is None else found & matched
            if not found:
                return []
        return sorted(found or ())

    def includes(
        self, kind: str, page: list[Record], include: list[str], revinclude: list[str]
    ) -> list[Record]:
        """Records named by the page's references (_include) or naming the page (_revinclude)."""
        out: dict[str, Record] = {}
        on_page = {r.ref for r in page}
        for spec in include:
            source, _, name = spec.partition(":")
            names = [n for (t, n) in TARGETS if t == kind] if spec == "*" else [name]
            for rec in page:
                for n in names:
                    for ref in rec.values.get(n, []):
                        target = self.record(ref)
                        if target is not None and target.ref not in on_page:
                            out.setdefault(target.ref, target)
        for spec in revinclude:
            source, _, name = spec.partition(":")
            index = self.types.get(source)
            if index is None or name not in index.refs:
                continue
            for rec in page:
                for rank in sorted(index.refs[name].get(rec.ref, ())):
                    found = index.records[rank]
                    out.setdefault(found.ref, found)
        return list(out.values())


_lock = threading.Lock()
_cache: dict[str, Directory] = {}


def directory_for(sandbox: Sandbox) -> Directory:
    """The Directory of the sandbox's current world, built on first use (one per world key)."""
    population = sandbox.population
    population.ensure()
    key = population.key
    found = _cache.get(key)
    if found is not None:
        return found
    with _lock:
        found = _cache.get(key)
        if found is None:
            cfg = sandbox.config
            # hundreds of thousands of small dicts: the cyclic collector would rescan them all
            # many times over while they are built (3x slower); none of them forms a cycle
            enabled = gc.isenabled()
            gc.disable()
            try:
                found = Directory.build(key, Builder(population, cfg.seed, str(cfg["reference_date"])))
            finally:
                if enabled:
                    gc.enable()
            while len(_cache) >= 2:  # the current world and one other (tests run several)
                _cache.pop(next(iter(_cache)))
            _cache[key] = found
    return found


@lru_cache(maxsize=4096)
def strip_mailboxes(data: bytes, hidden: tuple[str, ...]) -> bytes:
    """A resource's JSON without the telecoms of `hidden` mailboxes (the inconsistency fault)."""
    resource = json.loads(data)
    wanted = {h.casefold() for h in hidden}
    resource["telecom"] = [
        t
        for t in resource.get("telecom", [])
        if not (
            str(t.get("value", "")).casefold() in wanted
            and any(e.get("url") == MAILBOX_METADATA for e in t.get("extension", []))
        )
    ]
    if not resource["telecom"]:
        del resource["telecom"]
    return encode(resource)
