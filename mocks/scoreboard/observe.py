"""What the scoreboard sees of a tenant: its facts (the evidence ledger) and its exchanges (the
journal), read once per computation into `Observation`s that the rules filter in memory.

Two reads (one per table, without bodies) whatever the number of requirements: the rules are
many and the rows few thousands, so filtering in Python beats one query per rule. A fact keeps a
`journal` field, the journal entry that established it while the journal still holds it; a DMP or
MSSanté fact appended before the CDA engine's verdict (`cda_errors: null`) takes its error count
from the verdict the engine attached to that entry (mocks/cda/worker.py: details.cda_report).
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

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


def read(sandbox: Sandbox, tenant: str) -> Snapshot:
    snap = Snapshot(tenant)
    entries: dict[int, dict[str, Any]] = {}
    rows = sandbox.store.query(
        "SELECT id, at, service, operation, caller, persona, status, outcome, trace_id, findings, details "
        "FROM journal WHERE tenant = ? ORDER BY id",
        (tenant,),
    )
    for row in rows:
        entry = dict(row)
        entry["findings"] = json.loads(entry["findings"])
        entry["details"] = json.loads(entry["details"])
        entries[entry["id"]] = entry
        snap.journal[entry["service"]].append(
            Observation(
                "journal",
                entry["id"],
                entry["at"],
                timestamp(entry["at"]),
                f"{entry['service']}/{entry['operation']}",
                entry,
                entry["id"],
            )  # fmt: skip
        )
        snap.last_journal_id = entry["id"]
    rows = sandbox.store.query(
        "SELECT id, kind, subject, at, service, journal_id, trace_id, data FROM evidence WHERE tenant = ? ORDER BY id",
        (tenant,),
    )
    for row in rows:
        data = json.loads(row["data"])
        fields: dict[str, Any] = {**data, "subject": row["subject"], "kind": row["kind"], "service": row["service"],
                  "at": row["at"], "journal_id": row["journal_id"], "trace_id": row["trace_id"]}  # fmt: skip
        linked = entries.get(row["journal_id"]) if row["journal_id"] else None
        fields["journal"] = linked
        if "cda_errors" in data and data["cda_errors"] is None and linked is not None:
            fields["cda_errors"] = cda_errors(linked)
        snap.evidence[row["kind"]].append(
            Observation(
                "evidence", row["id"], row["at"], timestamp(row["at"]), row["kind"], fields, row["journal_id"]
            )
        )
        snap.last_evidence_id = row["id"]
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
        query = urlencode({"kind": obs.kind, "subject": obs.fields.get("subject", ""), "tenant": tenant})
        out.append({"label": f"Preuve {obs.kind} n° {obs.id}", "href": f"/_sandbox/evidence?{query}"})
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
            out.append({"label": link.label, "href": _fill(link.href, obs)})
    return out


def _fill(template: str, obs: Observation) -> str:
    values = {"subject": quote(str(obs.fields.get("subject", "")), safe=""), "id": str(obs.id),
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
