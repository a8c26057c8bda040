"""What the scoreboard sees of a tenant: its facts (the evidence ledger) and its exchanges (the
journal), read once per computation into `Observation`s that the rules filter in memory.

Two reads (one per table, without bodies) whatever the number of requirements: the rules are
many and the rows few thousands, so filtering in Python beats one query per rule. A fact keeps a
`journal` field, the journal entry that established it while the journal still holds it; a DMP or
MSSanté fact appended before the CDA engine's verdict (`cda_errors: null`) takes its error count
from the verdict the engine attached to that entry (mocks/cda/worker.py: details.cda_report).
"""

from __future__ import annotations

import gc
import json
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from mocks.scoreboard.conditions import MISSING, get
from mocks.scoreboard.contract import PERSONA_FIELDS

if TYPE_CHECKING:
    from mocks.kernel import Sandbox
    from mocks.scoreboard.catalogue import Catalogue


def timestamp(at: str) -> float:
    """Seconds since the epoch of a sandbox time (iso() drops zero microseconds, so the strings
    do not sort: compare these)."""
    try:
        return datetime.fromisoformat(at.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0


@dataclass
class Observation:
    source: str  # "evidence" or "journal"
    id: int
    at: str
    ts: float
    kind: str  # the evidence kind, or "<service>/<operation>"
    fields: dict[str, Any]  # what conditions read
    journal_id: int | None = None
    stored_links: list[dict[str, str]] | None = None  # a remembered observation's links

    @property
    def order(self) -> tuple[float, int, int]:
        return (self.ts, 0 if self.source == "evidence" else 1, self.id)

    def summary(self) -> dict[str, Any]:
        """What a run's snapshot keeps of it (enough to show it once the journal is pruned)."""
        fields = {k: v for k, v in self.fields.items() if k != "journal"}
        return {"source": self.source, "id": self.id, "at": self.at, "kind": self.kind,
                "journal_id": self.journal_id, "fields": fields}  # fmt: skip


@dataclass
class Snapshot:
    tenant: str
    evidence: dict[str, list[Observation]] = field(default_factory=lambda: defaultdict(list))
    journal: dict[str, list[Observation]] = field(default_factory=lambda: defaultdict(list))
    last_evidence_id: int = 0
    last_journal_id: int = 0
    _indexes: dict[tuple[str, str], dict[Any, list[Observation]]] = field(default_factory=dict)

    def facts(self, kind: str, equal: tuple[str, Any] | None = None) -> list[Observation]:
        """The facts of a kind; with `equal` (field, scalar), only those whose top-level field has
        that value (an index built once per snapshot: rules on one type code skip the others)."""
        if equal is None:
            return self.evidence.get(kind, [])
        key = (kind, equal[0])
        index = self._indexes.get(key)
        if index is None:
            index = self._indexes[key] = defaultdict(list)
            for obs in self.evidence.get(kind, []):
                value = obs.fields.get(equal[0])
                if isinstance(value, str | int | bool) or value is None:
                    index[value].append(obs)
        return index.get(equal[1], [])


@contextmanager
def gc_paused() -> Iterator[None]:
    """Tens of thousands of small containers that all stay alive are built at once (a snapshot,
    a board, a balance): the cyclic GC would scan them again and again meanwhile (half the time
    of a read), and none of them is a cycle."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def read(sandbox: Sandbox, tenant: str) -> Snapshot:
    with gc_paused():
        return _read(sandbox, tenant)


def _read(sandbox: Sandbox, tenant: str) -> Snapshot:
    snap = Snapshot(tenant)
    entries: dict[int, dict[str, Any]] = {}
    stamps: dict[str, float] = {}  # one parse per distinct time (a burst shares its second)
    loads = json.loads
    cursor = sandbox.store.execute(
        "SELECT id, at, service, operation, caller, persona, status, outcome, trace_id, findings, details "
        "FROM journal WHERE tenant = ? ORDER BY id",
        (tenant,),
    )
    for jid, at, service, operation, caller, persona, status, outcome, trace, findings, details in cursor:
        entry = {"id": jid, "at": at, "service": service, "operation": operation, "caller": caller,
                 "persona": persona, "status": status, "outcome": outcome, "trace_id": trace,
                 "findings": loads(findings), "details": loads(details)}  # fmt: skip
        entries[jid] = entry
        ts = stamps.get(at)
        if ts is None:
            ts = stamps[at] = timestamp(at)
        snap.journal[service].append(
            Observation("journal", jid, at, ts, f"{service}/{operation}", entry, jid)
        )
        snap.last_journal_id = jid
    cursor = sandbox.store.execute(
        "SELECT id, kind, subject, at, service, journal_id, trace_id, data FROM evidence WHERE tenant = ? ORDER BY id",
        (tenant,),
    )
    for eid, kind, subject, at, service, journal_id, trace, raw in cursor:
        data = loads(raw)
        fields: dict[str, Any] = {**data, "subject": subject, "kind": kind, "service": service, "at": at,
                                  "journal_id": journal_id, "trace_id": trace}  # fmt: skip
        linked = entries.get(journal_id) if journal_id else None
        fields["journal"] = linked
        if linked is not None and "cda_errors" in data and data["cda_errors"] is None:
            fields["cda_errors"] = cda_errors(linked)
        ts = stamps.get(at)
        if ts is None:
            ts = stamps[at] = timestamp(at)
        snap.evidence[kind].append(Observation("evidence", eid, at, ts, kind, fields, journal_id))
        snap.last_evidence_id = eid
    return snap


def cda_errors(entry: dict[str, Any]) -> int | None:
    """Error findings of the CDA engine on a journal entry once its verdict is attached."""
    if not entry["details"].get("cda_report"):
        return None
    return sum(
        1
        for f in entry["findings"]
        if f.get("severity") == "error" and str(f.get("rule", "")).startswith("CDA-")
    )


# -- personas -----------------------------------------------------------------------------------
def persona_keys(persona: str) -> set[str]:
    """The forms a persona may take in the facts: a 15-character INS is also its 13-character
    matricule; an idNat_PS `8<RPPS>` is also the RPPS."""
    p = persona.strip()
    keys = {p, p.lower()}
    if len(p) == 15 and p[:13].isalnum():
        keys.add(p[:13])
    if len(p) == 12 and p.startswith("8") and p[1:].isdigit():
        keys.add(p[1:])
    if len(p) == 11 and p.isdigit():
        keys.add("8" + p)
    return keys


def matches_persona(obs: Observation, keys: set[str]) -> bool:
    if obs.source == "journal":
        entry = obs.fields
        if entry.get("persona") in keys:
            return True
        caller = str(entry.get("caller") or "")
        return any(k and k in caller for k in keys if len(k) >= 6)
    for path in PERSONA_FIELDS.get(obs.kind, ()):
        if "[]." in path:
            items, _, leaf = path.partition("[].")
            values = [e.get(leaf) for e in obs.fields.get(items) or [] if isinstance(e, dict)]
        else:
            values = [get(obs.fields, path)]
        for value in values:
            if value is MISSING or value is None:
                continue
            text = str(value)
            if text in keys or text.lower() in keys or any(len(k) >= 6 and k in text for k in keys):
                return True
    return False


# -- links to the evidence ----------------------------------------------------------------------
def links(
    obs: Observation, tenant: str, catalogue: Catalogue | None, built: set[str]
) -> list[dict[str, str]]:
    """Where a reader (or a script) finds what this observation stands on."""
    out: list[dict[str, str]] = []
    if obs.source == "evidence":
        # kinds and tenant ids are URL-safe tokens (mocks.evidence.KIND, mocks.tenants.TENANT_ID)
        subject = quote(str(obs.fields.get("subject", "")), safe="")
        out.append({"label": f"Preuve {obs.kind} n° {obs.id}",
                    "href": f"/_sandbox/evidence?kind={obs.kind}&subject={subject}&tenant={tenant}"})  # fmt: skip
    if obs.journal_id:
        out.append({"label": f"Échange n° {obs.journal_id} du journal", "href": f"/_sandbox/journal/{obs.journal_id}",
                    "console": f"/journal/{obs.journal_id}"})  # fmt: skip
    entry = obs.fields if obs.source == "journal" else obs.fields.get("journal")
    report = (entry or {}).get("details", {}).get("cda_report") if entry else None
    if report:
        out.append(
            {"label": f"Rapport CDA n° {report}", "href": f"/_sandbox/cda/reports/{report}?format=html"}
        )
    if catalogue is not None and obs.source == "evidence":
        for link in catalogue.model.links:
            if link.kind != obs.kind or link.provisional or (link.service and link.service not in built):
                continue
            out.append({"label": link.label, "href": _fill(link.href, obs, tenant)})
    return out


def _fill(template: str, obs: Observation, tenant: str) -> str:
    values = {"tenant": tenant, "subject": quote(str(obs.fields.get("subject", "")), safe=""), "id": str(obs.id),
              "journal_id": str(obs.journal_id or "")}  # fmt: skip
    out = template
    for key, value in values.items():
        out = out.replace("{" + key + "}", value)
    while "{data." in out:
        start = out.index("{data.")
        end = out.index("}", start)
        value = get(obs.fields, out[start + 6 : end])
        out = out[:start] + quote("" if value is MISSING else str(value), safe="") + out[end + 1 :]
    return out
