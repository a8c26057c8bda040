"""The scoreboard of a tenant: every requirement of the catalogue with its status and the
evidence behind it.

    board = scoreboard_for(sandbox)          # one per sandbox: the catalogue, checked at start
    board.compute(tenant)                     # {"requirements": [...], "families": [...], ...}

Status per requirement (research cda-segur.md §C.3):

    PASS            the rule's newest pass is newer than its newest fail ("green")
    FAIL            its newest attempt failed
    NOT_OBSERVED    nothing seen yet, or the rule waits for a service still being built
    MANUAL_PENDING  a proof only a person can produce (video, CNDA authorisation...)
    N/A             declared not applicable (setting scoreboard_not_applicable)

A leaf's newest pass and newest fail are remembered per tenant (`scoreboard_marks`): a PASS
stays green, and a FAIL stays red, after the journal entries it stood on are pruned. A change of
the rule in the catalogue forgets them (the fingerprint is the rule's JSON).
"""

from __future__ import annotations

import hashlib
import json
import threading
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from mocks.clock import iso
from mocks.scoreboard import catalogue as catalogue_mod
from mocks.scoreboard import observe
from mocks.scoreboard.catalogue import AllOf, AnyOf, Catalogue, CatalogueError, EvidenceRule, Requirement
from mocks.scoreboard.observe import Observation, Snapshot
from mocks.scoreboard.rules import (
    FAIL,
    NOT_OBSERVED,
    PASS,
    AnyRule,
    Scope,
    Verdict,
    combine,
    evaluate,
    status_of,
)

if TYPE_CHECKING:
    from mocks.kernel import Sandbox

MANUAL_PENDING, NOT_APPLICABLE = "MANUAL_PENDING", "N/A"
STATUSES = (PASS, FAIL, NOT_OBSERVED, MANUAL_PENDING, NOT_APPLICABLE)

MIGRATIONS = [
    """
    CREATE TABLE scoreboard_marks (
        tenant TEXT NOT NULL,
        requirement TEXT NOT NULL,
        leaf INTEGER NOT NULL,
        outcome TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        ts REAL NOT NULL,
        count INTEGER NOT NULL DEFAULT 1,
        observation TEXT NOT NULL,
        PRIMARY KEY (tenant, requirement, leaf, outcome)
    );
    CREATE TABLE scoreboard_runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        tenant TEXT NOT NULL,
        scenario TEXT NOT NULL,
        persona TEXT NOT NULL DEFAULT '',
        starts_at TEXT NOT NULL,
        ends_at TEXT NOT NULL,
        created_at TEXT NOT NULL,
        state TEXT NOT NULL,
        status TEXT NOT NULL,
        finished_at TEXT,
        result TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX scoreboard_runs_tenant ON scoreboard_runs(tenant, scenario, id)
    """
]

_BOARDS: weakref.WeakKeyDictionary[Sandbox, Scoreboard] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def scoreboard_for(sandbox: Sandbox) -> Scoreboard:
    with _LOCK:
        board = _BOARDS.get(sandbox)
        if board is None:
            board = _BOARDS[sandbox] = Scoreboard(sandbox)
        return board


class Scoreboard:
    def __init__(self, sandbox: Sandbox):
        self.sandbox = sandbox
        path = str(sandbox.config.get("scoreboard_catalogue") or "") or None
        self.catalogue: Catalogue = catalogue_mod.load(path)
        declared = {x.strip() for x in str(sandbox.config.get("scoreboard_not_applicable") or "").split(",")}
        self.not_applicable = {x for x in declared if x}
        unknown = sorted(self.not_applicable - set(self.catalogue.by_id))
        if unknown:
            raise CatalogueError(
                f"scoreboard_not_applicable: unknown requirement(s) {', '.join(unknown)} "
                f"(ids are those of {self.catalogue.path}, e.g. DMP.06)"
            )
        sandbox.store.migrate("scoreboard", MIGRATIONS)

    def window_minutes(self, req: Requirement) -> float:
        configured = float(self.sandbox.config.get("scoreboard_window_minutes") or 15)
        return float(req.scenario.window_minutes or configured) if req.scenario else configured

    @property
    def built(self) -> set[str]:
        """Services part of this build (a rule of another one waits for it)."""
        return set(self.sandbox.services)

    def snapshot(self, tenant: str) -> Snapshot:
        return observe.read(self.sandbox, tenant)

    # -- the board ---------------------------------------------------------------------------
    def compute(self, tenant: str, snap: Snapshot | None = None, remember: bool = True) -> dict[str, Any]:
        snap = snap or self.snapshot(tenant)
        memory = Memory(self, tenant) if remember else None
        with observe.gc_paused():
            items = [self.requirement(req, snap, Scope(), memory) for req in self.catalogue.requirements]
        if memory is not None:
            memory.save()
        families = []
        for fid, fam in self.catalogue.model.families.items():
            members = [r for r in items if r["family"] == fid]
            families.append({"id": fid, "title": fam.title, "description": fam.description,
                             "counts": _counts(members), "requirements": [r["id"] for r in members]})  # fmt: skip
        return {
            "tenant": tenant,
            "computed_at": iso(self.sandbox.now(tenant)),
            "catalogue": {
                "title": self.catalogue.model.title,
                "source": self.catalogue.model.source,
                "version": self.catalogue.model.version,
                "requirements": len(items),
            },  # fmt: skip
            "disclaimer": self.catalogue.model.disclaimer,
            "summary": _counts(items),
            "families": families,
            "requirements": items,
        }

    def requirement(
        self, req: Requirement, snap: Snapshot, scope: Scope, memory: Memory | None
    ) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": req.id, "va2_id": req.va2_id, "family": req.family, "nature": req.nature, "text": req.text,
            "automation": req.automation, "proof": req.proof, "note": req.note,
        }  # fmt: skip
        out["scenario"] = (
            {
                "window_minutes": self.window_minutes(req),
                "title": req.scenario.title or req.text,
                "runs": f"/_sandbox/scenarios/{req.id}/runs",
            }  # fmt: skip
            if req.scenario
            else None
        )
        if req.id in self.not_applicable or not req.applicable:
            why = "déclarée non applicable à ce logiciel (réglage scoreboard_not_applicable)"
            return {**out, **_status(NOT_APPLICABLE, f"Non applicable : {req.note or why}.", [])}
        if req.rule is None:
            return {
                **out,
                **_status(MANUAL_PENDING, f"Preuve à produire hors du bac à sable : {req.proof}.", []),
            }
        verdict = self._evaluate(req, req.rule, snap, scope, memory, [0])
        return {**out, **self.describe(verdict, req.rule, snap.tenant)}

    def _evaluate(self, req: Requirement, rule: AnyRule, snap: Snapshot, scope: Scope, memory: Memory | None,
                  counter: list[int]) -> Verdict:  # fmt: skip
        if isinstance(rule, AllOf | AnyOf):
            parts = [self._evaluate(req, p, snap, scope, memory, counter) for p in rule.rules]
            return combine(rule, parts)
        leaf = counter[0]
        counter[0] += 1
        verdict = evaluate(rule, snap, scope, self.built)
        return memory.merge(req.id, leaf, rule, verdict) if memory is not None else verdict

    # -- describing a verdict ------------------------------------------------------------------
    def describe(self, verdict: Verdict, rule: AnyRule, tenant: str) -> dict[str, Any]:
        deciding = verdict.last_pass if verdict.status == PASS else verdict.last_fail
        if verdict.status == NOT_OBSERVED:
            deciding = verdict.last_pass or verdict.last_fail
        evidence = self.links(deciding, tenant) if deciding else self.where_to_look(rule, tenant)
        if verdict.status == PASS:
            reason = f"Conforme : {verdict.label} — observé le {_when(deciding)}."
        elif verdict.status == FAIL:
            assert deciding is not None
            missed = "; ".join(verdict.why_failed) or "conditions non remplies"
            reason = f"Non conforme le {_when(deciding)} : {missed}. Un essai conforme plus récent la rendra verte."
        elif verdict.awaiting:
            reason = f"En attente : {verdict.awaiting}."
        else:
            reason = f"Pas encore observé : {verdict.label}."
            if verdict.passes and verdict.passes < verdict.min_count:
                reason = f"{verdict.passes} observation(s) sur {verdict.min_count} : {verdict.label}."
        if verdict.pending:
            reason += f" ({verdict.pending} document(s) en attente du verdict CDA.)"
        out = _status(verdict.status, reason, evidence)
        out.update({"since": deciding.at if deciding else None, "expected": verdict.label,
                    "awaiting": verdict.awaiting, "why_failed": verdict.why_failed,
                    "counts": {"passes": verdict.passes, "fails": verdict.fails, "pending": verdict.pending}})  # fmt: skip
        if verdict.parts:
            assert isinstance(rule, AllOf | AnyOf)
            out["parts"] = [
                self.describe(p, r, tenant) for p, r in zip(verdict.parts, rule.rules, strict=True)
            ]
        return out

    def links(self, obs: Observation, tenant: str) -> list[dict[str, str]]:
        if obs.stored_links is not None:
            return list(obs.stored_links)
        return observe.links(obs, tenant, self.catalogue, self.built)

    def where_to_look(self, rule: AnyRule, tenant: str) -> list[dict[str, str]]:
        """For what is not observed: the query that would show it."""
        from mocks.scoreboard.rules import leaves

        out = []
        for leaf in leaves(rule):
            if isinstance(leaf, EvidenceRule):
                query = urlencode({"kind": leaf.kind, "tenant": tenant})
                out.append({"label": f"Preuves {leaf.kind} (requête)", "href": f"/_sandbox/evidence?{query}"})
            else:
                params = {"service": leaf.service, "tenant": tenant}
                operation = getattr(leaf, "operation", None)
                if isinstance(operation, str):
                    params["operation"] = operation
                label = f"Journal {leaf.service}" + (f" {operation}" if isinstance(operation, str) else "")
                out.append({"label": f"{label} (requête)", "href": f"/_sandbox/journal?{urlencode(params)}"})
        return list({link["href"]: link for link in out}.values())


def _status(status: str, reason: str, evidence: list[dict[str, str]]) -> dict[str, Any]:
    return {"status": status, "green": status == PASS, "reason": reason, "evidence": evidence}


def _counts(items: list[dict[str, Any]]) -> dict[str, int]:
    counts = {s: 0 for s in STATUSES}
    for item in items:
        counts[item["status"]] += 1
    counts["total"] = len(items)
    counts["automatable"] = sum(1 for i in items if i["automation"] != "manual")
    return counts


def _when(obs: Observation | None) -> str:
    return obs.at[:19].replace("T", " ") + " UTC" if obs else ""


# -- remembered passes and fails ------------------------------------------------------------------
@dataclass
class Mark:
    ts: float
    count: int
    observation: dict[str, Any]


class Memory:
    """The newest pass and fail of each leaf of a tenant, kept across journal pruning."""

    def __init__(self, board: Scoreboard, tenant: str):
        self.board, self.tenant = board, tenant
        self.marks: dict[tuple[str, int, str], tuple[str, Mark]] = {}
        rows = board.sandbox.store.query(
            "SELECT requirement, leaf, outcome, fingerprint, ts, count, observation FROM scoreboard_marks WHERE tenant = ?",
            (tenant,),
        )
        for r in rows:
            self.marks[(r["requirement"], r["leaf"], r["outcome"])] = (
                r["fingerprint"], Mark(r["ts"], r["count"], json.loads(r["observation"])))  # fmt: skip
        self.changed: list[tuple[str, int, str, str, Mark]] = []

    def merge(self, requirement: str, leaf: int, rule: AnyRule, verdict: Verdict) -> Verdict:
        if verdict.awaiting:
            return verdict
        fingerprint = hashlib.sha256(rule.model_dump_json(by_alias=True).encode()).hexdigest()[:16]
        for outcome in ("pass", "fail"):
            current = verdict.last_pass if outcome == "pass" else verdict.last_fail
            count = verdict.passes if outcome == "pass" else verdict.fails
            stored = self.marks.get((requirement, leaf, outcome))
            mark = stored[1] if stored and stored[0] == fingerprint else None
            if mark is not None and (current is None or mark.ts > current.ts):
                remembered = _remembered(mark.observation)
                if outcome == "pass":
                    verdict.last_pass, verdict.passes = remembered, max(count, mark.count)
                else:
                    verdict.last_fail, verdict.fails = remembered, max(count, mark.count)
                    verdict.why_failed = list(mark.observation.get("why_failed") or [])
            elif current is not None and (mark is None or current.ts > mark.ts or count > mark.count):
                saved = {**current.summary(), "links": self.board.links(current, self.tenant)}
                if outcome == "fail":
                    saved["why_failed"] = verdict.why_failed
                self.changed.append((requirement, leaf, outcome, fingerprint, Mark(current.ts, count, saved)))
        verdict.status = status_of(verdict.last_pass, verdict.last_fail, verdict.passes, verdict.min_count)
        return verdict

    def save(self) -> None:
        if not self.changed:
            return
        with self.board.sandbox.store.tx() as conn:
            for requirement, leaf, outcome, fingerprint, mark in self.changed:
                conn.execute(
                    "INSERT INTO scoreboard_marks(tenant, requirement, leaf, outcome, fingerprint, ts, count, observation) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(tenant, requirement, leaf, outcome) DO UPDATE SET "
                    "fingerprint = excluded.fingerprint, ts = excluded.ts, count = excluded.count, "
                    "observation = excluded.observation",
                    (
                        self.tenant,
                        requirement,
                        leaf,
                        outcome,
                        fingerprint,
                        mark.ts,
                        mark.count,
                        json.dumps(mark.observation, ensure_ascii=False, default=str),
                    ),  # fmt: skip
                )
        self.changed.clear()


def _remembered(saved: dict[str, Any]) -> Observation:
    return Observation(saved["source"], saved["id"], saved["at"], observe.timestamp(saved["at"]), saved["kind"],
                       dict(saved.get("fields") or {}), saved.get("journal_id"), list(saved.get("links") or []))  # fmt: skip
