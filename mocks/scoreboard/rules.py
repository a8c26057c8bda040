"""Evaluating a catalogue rule over a snapshot: which observations are attempts, which of them
pass, and the verdict.

A leaf rule selects attempts (`where`, a service's operation), sets aside those without a verdict
yet (`pending`), and splits the rest into passes and fails (`pass`, `clean_of`, `rules`, the TLS
outcome). Its status is PASS when its newest pass is newer than its newest fail (and there are
`min_count` passes), FAIL when its newest attempt failed, NOT_OBSERVED otherwise; a provisional
rule, or one whose service is not part of this build, is NOT_OBSERVED with what it waits for.
`all_of` passes when every part passes; `any_of` when one part passes and none fails. Both fail
as soon as one part fails.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from mocks.scoreboard.catalogue import AllOf, AnyOf, EvidenceRule, FindingsRule, JournalRule, TlsRule
from mocks.scoreboard.conditions import MISSING, Predicate, compile_where, get
from mocks.scoreboard.contract import EVIDENCE_SERVICE
from mocks.scoreboard.observe import Observation, Snapshot, matches_persona

PASS, FAIL, NOT_OBSERVED = "PASS", "FAIL", "NOT_OBSERVED"
Leaf = EvidenceRule | JournalRule | FindingsRule | TlsRule
AnyRule = Leaf | AllOf | AnyOf


@dataclass
class Scope:
    """What a computation looks at: the whole history, or a scenario's window and persona."""

    since: float | None = None
    until: float | None = None
    persona: set[str] | None = None

    def admits(self, obs: Observation) -> bool:
        if self.since is not None and obs.ts < self.since:
            return False
        if self.until is not None and obs.ts > self.until:
            return False
        return self.persona is None or matches_persona(obs, self.persona)


@dataclass
class Verdict:
    status: str
    label: str
    last_pass: Observation | None = None
    last_fail: Observation | None = None
    passes: int = 0
    fails: int = 0
    pending: int = 0
    why_failed: list[str] = field(default_factory=list)  # what the newest fail missed, in French
    awaiting: str | None = None  # a provisional rule's wiring, or the service not built
    parts: list[Verdict] = field(default_factory=list)
    min_count: int = 1

    def observations(self) -> list[Observation]:
        own = [o for o in (self.last_pass, self.last_fail) if o is not None]
        return own + [o for p in self.parts for o in p.observations()]


@dataclass(frozen=True)
class Compiled:
    where: Predicate
    passes: Callable[[dict[str, Any]], list[str]]  # the unmet conditions of an attempt ([] = pass)
    pending: Predicate | None


def evaluate(rule: AnyRule, snap: Snapshot, scope: Scope, built: set[str]) -> Verdict:
    if isinstance(rule, AllOf | AnyOf):
        parts = [evaluate(p, snap, scope, built) for p in rule.rules]
        return combine(rule, parts)
    label = rule.label
    service = rule.service if not isinstance(rule, EvidenceRule) else EVIDENCE_SERVICE.get(rule.kind, "")
    if rule.provisional:
        return Verdict(NOT_OBSERVED, label, awaiting=rule.provisional, min_count=rule.min_count)
    if not isinstance(rule, EvidenceRule) and service not in built:
        return Verdict(NOT_OBSERVED, label, awaiting=f"service {service} absent de cette version",
                       min_count=rule.min_count)  # fmt: skip
    compiled = _compile(_key(rule))
    verdict = Verdict(NOT_OBSERVED, label, min_count=rule.min_count)
    everything = scope.since is None and scope.until is None and scope.persona is None
    for obs in _candidates(rule, snap):
        if not (everything or scope.admits(obs)) or not compiled.where(obs.fields):
            continue
        if compiled.pending is not None and compiled.pending(obs.fields):
            verdict.pending += 1
            continue
        unmet = compiled.passes(obs.fields)
        if not unmet:
            verdict.passes += 1
            if verdict.last_pass is None or obs.order > verdict.last_pass.order:
                verdict.last_pass = obs
        else:
            verdict.fails += 1
            if verdict.last_fail is None or obs.order > verdict.last_fail.order:
                verdict.last_fail, verdict.why_failed = obs, unmet
    verdict.status = status_of(verdict.last_pass, verdict.last_fail, verdict.passes, rule.min_count)
    return verdict


def status_of(
    last_pass: Observation | None, last_fail: Observation | None, passes: int, min_count: int
) -> str:
    """Green only on a PASS newer than the last FAIL."""
    if last_pass is not None and (last_fail is None or last_pass.order > last_fail.order):
        return PASS if passes >= min_count else NOT_OBSERVED
    return FAIL if last_fail is not None else NOT_OBSERVED


def combine(rule: AllOf | AnyOf, parts: list[Verdict]) -> Verdict:
    statuses = [p.status for p in parts]
    if FAIL in statuses:
        status = FAIL
    elif isinstance(rule, AllOf):
        status = PASS if all(s == PASS for s in statuses) else NOT_OBSERVED
    else:
        status = PASS if PASS in statuses else NOT_OBSERVED
    label = (" et " if isinstance(rule, AllOf) else " ou ").join(p.label for p in parts)
    out = Verdict(status, label, parts=parts)
    passes = [p.last_pass for p in parts if p.last_pass is not None and p.status == PASS]
    fails = [p.last_fail for p in parts if p.last_fail is not None]
    out.last_pass = max(passes, key=lambda o: o.order) if passes and status == PASS else None
    out.last_fail = max(fails, key=lambda o: o.order) if fails else None
    out.passes, out.fails = sum(p.passes for p in parts), sum(p.fails for p in parts)
    out.pending = sum(p.pending for p in parts)
    waiting = [p.awaiting for p in parts if p.awaiting and p.status != PASS]
    out.awaiting = "; ".join(dict.fromkeys(waiting)) or None
    failed = next((p for p in parts if p.status == FAIL), None)
    out.why_failed = failed.why_failed if failed else []
    return out


def leaves(rule: AnyRule) -> Iterable[Leaf]:
    if isinstance(rule, AllOf | AnyOf):
        for part in rule.rules:
            yield from leaves(part)
    else:
        yield rule


def sources(rule: AnyRule) -> set[str]:
    """Which tables a rule reads: "evidence", "journal" (a scenario waits on those)."""
    return {"evidence" if isinstance(leaf, EvidenceRule) else "journal" for leaf in leaves(rule)}


# -- compiling a leaf once ----------------------------------------------------------------------
def _key(rule: Leaf) -> str:
    return json.dumps(rule.model_dump(by_alias=True), sort_keys=True, default=str)


@cache
def _compile(key: str) -> Compiled:
    spec = json.loads(key)
    kind = spec["type"]
    where = compile_where(spec.get("where"))
    pass_spec = spec.get("pass") or {}
    pass_checks = [(path, compile_where({path: test}), test) for path, test in pass_spec.items()]

    whole = compile_where(pass_spec)

    def unmet_conditions(fields: dict[str, Any]) -> list[str]:
        if whole(fields):  # the common case: one call, then the details only for a fail
            return []
        return [_explain(path, test, fields) for path, check, test in pass_checks if not check(fields)]

    if kind == "evidence":
        pending = compile_where(spec["pending"]) if spec.get("pending") else None
        return Compiled(where, unmet_conditions, pending)
    operations = spec.get("operation")
    ops = None if operations is None else ({operations} if isinstance(operations, str) else set(operations))
    if kind == "tls":
        listeners = set(spec["listeners"])
        expect, protocols, ciphers = spec["expect"], spec.get("protocols"), spec.get("ciphers")

        def tls_where(fields: Mapping[str, Any]) -> bool:
            return get(fields, "details.listener") in listeners and isinstance(
                get(fields, "details.tls"), dict
            )

        def tls_unmet(fields: dict[str, Any]) -> list[str]:
            tls = fields["details"]["tls"]
            out = []
            if tls.get("outcome") != expect:
                out.append(f"poignée de main TLS : {tls.get('outcome')} (attendu : {expect})")
            if expect == "completed" and protocols and tls.get("protocol") not in protocols:
                out.append(f"protocole {tls.get('protocol')} (attendu : {', '.join(protocols)})")
            if expect == "completed" and ciphers and tls.get("cipher") not in ciphers:
                out.append(f"suite {tls.get('cipher')} (attendu : {', '.join(ciphers)})")
            return out

        return Compiled(tls_where, tls_unmet, None)
    patterns = spec.get("rules") if kind == "findings" else spec.get("clean_of")
    severities = {"error"} if spec.get("severity", "error") == "error" else {"error", "warning"}

    def journal_where(fields: Mapping[str, Any]) -> bool:
        if ops is not None and fields.get("operation") not in ops:
            return False
        if get(fields, "details.fault_rule") is not MISSING:
            return False  # a fault the sandbox injected says nothing about the LGC
        return where(fields)

    def journal_unmet(fields: dict[str, Any]) -> list[str]:
        out = unmet_conditions(fields)
        for finding in fields.get("findings") or []:
            rule_id = str(finding.get("rule", ""))
            if finding.get("severity") in severities and any(
                fnmatch.fnmatchcase(rule_id, p) for p in patterns or []
            ):
                out.append(f"constat {rule_id} : {finding.get('message', '')}")
        return out

    return Compiled(journal_where, journal_unmet, None)


def _candidates(rule: Leaf, snap: Snapshot) -> list[Observation]:
    if isinstance(rule, EvidenceRule):
        return snap.facts(rule.kind, _equality(rule))
    return snap.journal.get(rule.service, [])


def _equality(rule: EvidenceRule) -> tuple[str, Any] | None:
    """A top-level `field: "scalar"` of `where` (the most selective-looking: a type code first)."""
    found = [(k, v) for k, v in (rule.where or {}).items()
             if "." not in k and (isinstance(v, str | int | bool) and not isinstance(v, float))]  # fmt: skip
    found.sort(key=lambda kv: kv[0] != "type_code")
    return found[0] if found else None


def _explain(path: str, test: Any, fields: dict[str, Any]) -> str:
    value = get(fields, path)
    shown = "absent" if value is MISSING else json.dumps(value, ensure_ascii=False, default=str)
    if len(shown) > 120:
        shown = shown[:117] + "..."
    return f"{path} = {shown} (attendu : {json.dumps(test, ensure_ascii=False)})"
