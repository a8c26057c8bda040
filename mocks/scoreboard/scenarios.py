"""Scenario runs: "within this window, for this persona, expect what the requirement's rule
expects" — the sandbox's counterpart of a Gazelle test with its permanent link (research
cda-segur.md §C.2).

    run = start(board, tenant, "DOC.02", persona="1600128020777", minutes=15)
    run = get(board, tenant, "DOC.02", run["id"], wait=30)      # long-polls on the kernel's wait

A run is `running` until the rule passes within the window (`passed`, status PASS) or the window
ends (`failed` when its newest attempt failed, `expired` when nothing was seen). It is evaluated
when read; the verdict and the observations it stands on (their fields and links) are stored
with the run when it ends, so a finished run stays valid after the journal is pruned. Runs are
independent: several may overlap, for the same persona or not.

The wait alternates the evidence ledger's and the journal's long-polls (`Evidence.wait`,
`Journal.wait`: woken at once by an append in this process, every 100 ms across processes), so
a verdict is seen within a few hundred milliseconds of the exchange that decides it.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from mocks.clock import iso
from mocks.scoreboard.observe import persona_keys, timestamp
from mocks.scoreboard.rules import FAIL, NOT_OBSERVED, PASS, Scope

if TYPE_CHECKING:
    from mocks.scoreboard.board import Scoreboard
    from mocks.scoreboard.catalogue import Requirement

MAX_WAIT = 300.0
SLICE = 0.2


class RunError(ValueError):
    """A request the runner refuses: `status` is the HTTP status (400, 404)."""

    def __init__(self, status: int, message: str, **extra: Any):
        super().__init__(message)
        self.status, self.message, self.extra = status, message, extra


def scenario_ids(board: Scoreboard) -> list[str]:
    return [r.id for r in board.catalogue.requirements if r.scenario is not None and r.rule is not None]


def scenario(board: Scoreboard, scenario_id: str) -> Requirement:
    req = board.catalogue.by_id.get(scenario_id)
    if req is None or req.scenario is None or req.rule is None:
        valid = scenario_ids(board)
        raise RunError(404, f"unknown scenario {scenario_id!r}; valid: {', '.join(valid)}", valid=valid)
    return req


def describe(board: Scoreboard, req: Requirement) -> dict[str, Any]:
    assert req.scenario is not None and req.rule is not None
    return {"id": req.id, "title": req.scenario.title or req.text, "family": req.family, "text": req.text,
            "window_minutes": board.window_minutes(req), "expects": _labels(req),
            "runs": f"/_sandbox/scenarios/{req.id}/runs"}  # fmt: skip


def _labels(req: Requirement) -> list[str]:
    from mocks.scoreboard.rules import leaves

    assert req.rule is not None
    return [leaf.label for leaf in leaves(req.rule)]


def _parse(text: str, name: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (ValueError, AttributeError):
        raise RunError(400, f"{name} must be an ISO 8601 instant, e.g. 2026-12-02T10:00:00Z") from None
    if value.tzinfo is None:
        raise RunError(400, f"{name} needs a time zone (Z or +01:00)")
    return value


def start(board: Scoreboard, tenant: str, scenario_id: str, persona: str | None = None,
          minutes: float | None = None, starts_at: str | None = None, ends_at: str | None = None) -> dict[str, Any]:  # fmt: skip
    req = scenario(board, scenario_id)
    now = board.sandbox.now(tenant)
    begin = _parse(starts_at, "from") if starts_at else now
    if minutes is not None and not 0 < minutes <= 24 * 60:
        raise RunError(400, "minutes must be between 0 and 1440")
    if ends_at and minutes is not None:
        raise RunError(400, "give either 'to' or 'minutes', not both")
    try:
        length = timedelta(minutes=minutes or board.window_minutes(req))
        end = _parse(ends_at, "to") if ends_at else begin + length
    except OverflowError:
        raise RunError(400, "the window ends after the year 9999") from None
    if end <= now:
        raise RunError(
            400, f"the window is in the past: it ends at {iso(end)}, the tenant's time is {iso(now)}"
        )
    if end <= begin:
        raise RunError(400, "the window ends before it starts ('to' must be after 'from')")
    persona = (persona or "").strip()
    if len(persona) > 200:
        raise RunError(400, "persona: at most 200 characters")
    cursor = board.sandbox.store.execute(
        "INSERT INTO scoreboard_runs(tenant, scenario, persona, starts_at, ends_at, created_at, state, status) "
        "VALUES (?, ?, ?, ?, ?, ?, 'running', ?)",
        (tenant, req.id, persona, iso(begin), iso(end), iso(now), NOT_OBSERVED),
    )
    return get(board, tenant, req.id, int(cursor.lastrowid or 0))


def runs(board: Scoreboard, tenant: str, scenario_id: str) -> list[dict[str, Any]]:
    scenario(board, scenario_id)
    rows = board.sandbox.store.query(
        "SELECT id FROM scoreboard_runs WHERE tenant = ? AND scenario = ? ORDER BY id DESC LIMIT 100",
        (tenant, scenario_id),
    )
    return [get(board, tenant, scenario_id, int(r["id"])) for r in rows]


def get(board: Scoreboard, tenant: str, scenario_id: str, run_id: int, wait: float = 0) -> dict[str, Any]:
    req = scenario(board, scenario_id)
    row = _row(board, tenant, scenario_id, run_id)
    deadline = time.monotonic() + min(max(wait, 0.0), MAX_WAIT)
    while True:
        if row["state"] != "running":
            return _out(row)
        snap = board.snapshot(tenant)
        result = _evaluate(board, req, row, snap)
        if result["state"] != "running":
            board.sandbox.store.execute(
                "UPDATE scoreboard_runs SET state = ?, status = ?, finished_at = ?, result = ? WHERE id = ? AND state = 'running'",
                (
                    result["state"],
                    result["status"],
                    iso(board.sandbox.now(tenant)),
                    json.dumps(result, ensure_ascii=False, default=str),
                    run_id,
                ),  # fmt: skip
            )
            return _out(_row(board, tenant, scenario_id, run_id))
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return _out({**row, "status": result["status"], "result": json.dumps(result, default=str)})
        # until something new is appended (a fact, an exchange, or a CDA verdict attached to an
        # exchange, which notifies the journal's waiters), a slice of each at a time
        step = min(SLICE, remaining)
        board.sandbox.evidence.wait(tenant, step, after_id=snap.last_evidence_id)
        board.sandbox.journal.wait({"tenant": tenant, "after_id": snap.last_journal_id}, step)


def _row(board: Scoreboard, tenant: str, scenario_id: str, run_id: int) -> dict[str, Any]:
    row = board.sandbox.store.one(
        "SELECT * FROM scoreboard_runs WHERE id = ? AND tenant = ? AND scenario = ?",
        (run_id, tenant, scenario_id),
    )
    if row is None:
        raise RunError(404, f"unknown run {run_id} of scenario {scenario_id} in tenant {tenant}")
    return dict(row)


def _evaluate(board: Scoreboard, req: Requirement, row: dict[str, Any], snap: Any) -> dict[str, Any]:
    assert req.rule is not None
    scope = Scope(timestamp(row["starts_at"]), timestamp(row["ends_at"]),
                  persona_keys(row["persona"]) if row["persona"] else None)  # fmt: skip
    verdict = board._evaluate(req, req.rule, snap, scope, None, [0])
    described = board.describe(verdict, req.rule, row["tenant"])
    ended = board.sandbox.now(row["tenant"]).timestamp() >= timestamp(row["ends_at"])
    if verdict.status == PASS:
        state = "passed"
    elif ended:
        state = "failed" if verdict.status == FAIL else "expired"
    else:
        state = "running"
    observations = [{**o.summary(), "links": board.links(o, row["tenant"])} for o in verdict.observations()]
    return {"state": state, "status": verdict.status, "verdict": described, "observations": observations}


def _out(row: dict[str, Any]) -> dict[str, Any]:
    result = json.loads(row.get("result") or "{}")
    return {
        "id": row["id"],
        "scenario": row["scenario"],
        "tenant": row["tenant"],
        "persona": row["persona"],
        "from": row["starts_at"],
        "to": row["ends_at"],
        "created_at": row["created_at"],
        "state": row["state"],
        "status": row["status"] if row["state"] != "running" else result.get("status", NOT_OBSERVED),
        "green": (row["status"] if row["state"] != "running" else result.get("status")) == PASS,
        "finished_at": row.get("finished_at"),
        "reason": (result.get("verdict") or {}).get("reason", ""),
        "verdict": result.get("verdict"),
        "observations": result.get("observations", []),
        "href": f"/_sandbox/scenarios/{row['scenario']}/runs/{row['id']}",
    }
