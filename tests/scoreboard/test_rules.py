"""Every automatable rule of the shipped catalogue, made to pass and to fail with synthetic
observations built from the rule itself (a small solver of the condition language), evaluated
in memory (no sandbox): a rule that can never pass, or that passes on anything, fails here.
Rules whose service is not built, and provisional ones, are evaluated as if wired (`built`
holds every service, the flag is dropped) — and, as shipped, stay NOT_OBSERVED."""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from typing import Any

import pytest

from mocks.scoreboard import catalogue as catalogue_mod
from mocks.scoreboard.catalogue import (
    AllOf,
    AnyOf,
    EvidenceRule,
    FindingsRule,
    Requirement,
    TlsRule,
)
from mocks.scoreboard.conditions import compile_where
from mocks.scoreboard.observe import Observation, Snapshot
from mocks.scoreboard.rules import FAIL, NOT_OBSERVED, PASS, Scope, evaluate, leaves

CATALOGUE = catalogue_mod.load()
AUTOMATABLE = CATALOGUE.automatable()
EVERY_SERVICE = {"insi", "psc", "annuaire", "pki", "dmp", "mss", "apcv"}


# -- a solver: values that meet (or miss) a condition ---------------------------------------------
def meet(spec: Any) -> Any:
    if isinstance(spec, Mapping):
        value: Any = None
        for op, arg in spec.items():
            if op == "eq":
                value = arg
            elif op == "in":
                value = arg[0]
            elif op in ("ne", "not_in"):
                value = "autre-valeur" if value is None else value
            elif op in ("gt", "gte"):
                value = arg + 1
            elif op in ("lt", "lte"):
                value = arg - 1
            elif op == "contains":
                value = [arg] if not isinstance(value, list) else [*value, arg]
            elif op == "startswith":
                value = f"{arg}X"
            elif op == "empty":
                value = None if arg else (value if value is not None else "x")
            elif op in ("any", "all"):
                value = [build(arg)]
            elif op == "none":
                value = []
        return value
    if isinstance(spec, list):
        return spec[0]
    return spec


def miss(spec: Any) -> Any:
    if isinstance(spec, Mapping):
        op, arg = next(iter(spec.items()))
        return {
            "eq": lambda: _other(arg), "ne": lambda: arg, "in": lambda: "hors-liste", "not_in": lambda: arg[0],
            "gt": lambda: arg, "gte": lambda: arg - 1, "lt": lambda: arg, "lte": lambda: arg + 1,
            "contains": lambda: [], "startswith": lambda: "zzz", "empty": lambda: "x" if arg else None,
            "any": lambda: [], "all": lambda: [violate(arg)], "none": lambda: [build(arg)],
        }[op]()  # fmt: skip
    if isinstance(spec, list):
        return "hors-liste"
    return _other(spec)


def _other(value: Any) -> Any:
    if value is True or value is False:
        return not value
    if isinstance(value, int | float):
        return value + 1
    if value is None:
        return 1
    return f"pas-{value}"


def put(obj: dict[str, Any], path: str, value: Any) -> None:
    steps = path.split(".")
    for step in steps[:-1]:
        obj = obj.setdefault(step, {})
    obj[steps[-1]] = value


def build(where: Mapping[str, Any] | None, base: dict[str, Any] | None = None) -> dict[str, Any]:
    out = dict(base or {})
    for path, spec in (where or {}).items():
        if compile_where({path: spec})(out):
            continue  # already met by what `where` built (e.g. a list with no element of `none`)
        put(out, path, meet(spec))
    return out


def violate(where: Mapping[str, Any]) -> dict[str, Any]:
    """Fields that meet every condition but the first."""
    items = list(where.items())
    out = build(dict(items[1:]))
    put(out, items[0][0], miss(items[0][1]))
    return out


# -- observations for a leaf ---------------------------------------------------------------------
def observation(leaf: Any, passing: bool, ts: float) -> Observation:
    if isinstance(leaf, EvidenceRule):
        fields = build(leaf.where)
        pass_spec = leaf.pass_ or {}
        fields = build(pass_spec, fields) if passing else {**fields, **violate(pass_spec)}
        assert compile_where(leaf.where)(fields), (leaf.label, fields)
        return Observation("evidence", int(ts), f"2026-01-01T00:00:{int(ts):02d}Z", ts, leaf.kind, fields)
    entry: dict[str, Any] = {"service": leaf.service, "status": 200, "findings": [], "details": {}}
    operation = getattr(leaf, "operation", None)
    entry["operation"] = operation if isinstance(operation, str) else (operation or ["op"])[0]
    if isinstance(leaf, TlsRule):
        tls = {"outcome": leaf.expect, "protocol": (leaf.protocols or ["TLSv1.2"])[0],
               "cipher": (leaf.ciphers or ["ECDHE-RSA-AES256-GCM-SHA384"])[0]}  # fmt: skip
        if not passing:
            tls["outcome"] = "completed" if leaf.expect == "aborted_by_client" else "aborted_by_client"
        entry["details"] = {"listener": leaf.listeners[0], "tls": tls}
    else:
        entry = build(leaf.where, entry)
        entry = build(leaf.pass_, entry)
        if not passing:
            patterns = leaf.rules if isinstance(leaf, FindingsRule) else leaf.clean_of
            if patterns:
                rule_id = patterns[0].replace("*", "X")
                assert fnmatch.fnmatchcase(rule_id, patterns[0])
                entry["findings"] = [{"rule": rule_id, "severity": "error", "message": "synthétique"}]
            else:
                entry = {**entry, **violate(leaf.pass_ or {})} if leaf.pass_ else entry
    return Observation("journal", int(ts), f"2026-01-01T00:00:{int(ts):02d}Z", ts,
                       f"{leaf.service}/{entry['operation']}", entry, int(ts))  # fmt: skip


def can_fail(leaf: Any) -> bool:
    if isinstance(leaf, EvidenceRule):
        return bool(leaf.pass_)
    if isinstance(leaf, TlsRule):
        return True
    return bool(leaf.pass_) or bool(leaf.rules if isinstance(leaf, FindingsRule) else leaf.clean_of)


def unflagged(rule: Any) -> Any:
    """The rule as it will be once wired (provisional flags dropped)."""
    if isinstance(rule, AllOf | AnyOf):
        return rule.model_copy(update={"rules": [unflagged(r) for r in rule.rules]})
    return rule.model_copy(update={"provisional": None})


def snapshot(observations: list[Observation]) -> Snapshot:
    snap = Snapshot("t")
    for obs in observations:
        target = snap.evidence if obs.source == "evidence" else snap.journal
        target[obs.kind if obs.source == "evidence" else obs.fields["service"]].append(obs)
    return snap


def passing_set(rule: Any, ts: float) -> list[Observation]:
    if isinstance(rule, AllOf):
        return [o for part in rule.rules for o in passing_set(part, ts)]
    if isinstance(rule, AnyOf):
        return passing_set(rule.rules[0], ts)
    return [observation(rule, True, ts + i) for i in range(rule.min_count)]


def failing_set(rule: Any, ts: float) -> list[Observation] | None:
    if isinstance(rule, AllOf | AnyOf):
        for part in rule.rules:
            found = failing_set(part, ts)
            if found is not None:
                return found
        return None
    return [observation(rule, False, ts)] if can_fail(rule) else None


@pytest.mark.parametrize("req", AUTOMATABLE, ids=[r.id for r in AUTOMATABLE])
def test_rule_passes_and_fails_on_synthetic_observations(req: Requirement) -> None:
    rule = unflagged(req.rule)
    assert evaluate(rule, snapshot([]), Scope(), EVERY_SERVICE).status == NOT_OBSERVED
    good = passing_set(rule, 10)
    verdict = evaluate(rule, snapshot(good), Scope(), EVERY_SERVICE)
    assert verdict.status == PASS, (req.id, verdict.label, [o.fields for o in good])
    assert verdict.last_pass is not None
    bad = failing_set(rule, 100)
    if bad is None:  # "seen at least once" rules: nothing observed can fail them
        assert all(not can_fail(leaf) for leaf in leaves(rule)), req.id
        return
    verdict = evaluate(rule, snapshot(good + bad), Scope(), EVERY_SERVICE)
    assert verdict.status == FAIL, (req.id, [o.fields for o in bad])
    assert verdict.why_failed, req.id  # the reader is told what the attempt missed
    # green again only on a PASS newer than that FAIL
    newer = passing_set(rule, 200)
    assert evaluate(rule, snapshot(good + bad + newer), Scope(), EVERY_SERVICE).status == PASS


def test_a_fail_older_than_the_pass_keeps_it_green() -> None:
    rule = CATALOGUE.by_id["DOC.02"].rule
    bad, good = observation(rule, False, 5), observation(rule, True, 6)
    assert evaluate(rule, snapshot([bad, good]), Scope(), EVERY_SERVICE).status == PASS
    assert (
        evaluate(rule, snapshot([good, observation(rule, False, 7)]), Scope(), EVERY_SERVICE).status == FAIL
    )


def test_pending_cda_verdict_is_neither_pass_nor_fail() -> None:
    rule = CATALOGUE.by_id["DOC.02"].rule
    obs = observation(rule, True, 5)
    obs.fields["cda_errors"] = None
    verdict = evaluate(rule, snapshot([obs]), Scope(), EVERY_SERVICE)
    assert verdict.status == NOT_OBSERVED and verdict.pending == 1


def test_provisional_and_unbuilt_rules_wait_for_their_wiring() -> None:
    for req in AUTOMATABLE:
        for leaf in leaves(req.rule):
            if not leaf.provisional:
                continue
            wired = unflagged(leaf)
            verdict = evaluate(leaf, snapshot([observation(wired, True, 1)]), Scope(), EVERY_SERVICE)
            assert verdict.status == NOT_OBSERVED and verdict.awaiting == leaf.provisional, req.id
    rule = CATALOGUE.by_id["INS.53"].rule  # a built service's rule waits when the service is not in the build
    verdict = evaluate(rule, snapshot([observation(rule, True, 1)]), Scope(), {"psc"})
    assert verdict.status == NOT_OBSERVED and "insi" in (verdict.awaiting or "")


def test_fault_rules_injected_by_the_sandbox_are_not_attempts() -> None:
    rule = CATALOGUE.by_id["INS.53"].rule
    obs = observation(rule, False, 1)
    obs.fields["details"]["fault_rule"] = 7
    assert evaluate(rule, snapshot([obs]), Scope(), EVERY_SERVICE).status == NOT_OBSERVED


def test_scope_keeps_only_the_window_and_the_persona() -> None:
    rule = CATALOGUE.by_id["DOC.02"].rule
    obs = observation(rule, True, 50)
    obs.fields["ins"] = "1600128020777"
    assert evaluate(rule, snapshot([obs]), Scope(since=40, until=60), EVERY_SERVICE).status == PASS
    assert evaluate(rule, snapshot([obs]), Scope(since=51), EVERY_SERVICE).status == NOT_OBSERVED
    keys = {"160012802077713", "1600128020777"}
    assert evaluate(rule, snapshot([obs]), Scope(persona=keys), EVERY_SERVICE).status == PASS
    assert (
        evaluate(rule, snapshot([obs]), Scope(persona={"2970226020778"}), EVERY_SERVICE).status
        == NOT_OBSERVED
    )


def test_every_family_of_the_issue_is_in_the_catalogue() -> None:
    expected = {"INS": 57, "DOC": 9, "DMP": 7, "MSS": 25, "ANN": 5, "APCV": 1, "BIO": 8, "ERGO": 8,
                "PORT": 1, "PSC": 1, "TBB": 3, "ePresc": 2}  # fmt: skip
    for family, count in expected.items():
        ids = [r.id for r in CATALOGUE.requirements if r.family == family]
        assert ids == [f"{family}.{n:02d}" for n in range(1, count + 1)], family


@pytest.mark.parametrize(
    "leaf",
    [leaf for r in AUTOMATABLE for leaf in leaves(r.rule)],
    ids=[f"{r.id}-{i}" for r in AUTOMATABLE for i, _ in enumerate(leaves(r.rule))],
)
def test_every_leaf_passes_and_fails_alone(leaf: Any) -> None:
    wired = unflagged(leaf)
    good = passing_set(wired, 10)
    assert evaluate(wired, snapshot(good), Scope(), EVERY_SERVICE).status == PASS, wired.label
    if can_fail(wired):
        bad = [observation(wired, False, 50)]
        assert evaluate(wired, snapshot(good + bad), Scope(), EVERY_SERVICE).status == FAIL, wired.label
