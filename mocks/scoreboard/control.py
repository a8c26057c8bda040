"""Control routes of the Ségur scoreboard, mounted at /_sandbox (docs/scoreboard.md):

GET  /scoreboard                          every requirement, its status and evidence; the balance
GET  /scoreboard/requirements/{id}        one requirement
GET  /scoreboard/balance                  the funding balance (?period=all|month|year|custom)
GET  /scoreboard/report.html              the printable "rapport de préparation Ségur"
GET  /scoreboard/junit.xml                JUnit XML, one testcase per automatable requirement
GET  /scenarios                           the scenarios (requirements a run can be started for)
GET  /scenarios/{id}                      one scenario
GET  /scenarios/{id}/runs                 its runs in the tenant, newest first
POST /scenarios/{id}/runs                 start a run: {persona?, minutes? | from?, to?}
GET  /scenarios/{id}/runs/{run}           a run; ?wait=N long-polls until its verdict (≤ 300 s)

The catalogue is loaded and checked when the control app mounts this blueprint: a corrupt
catalogue stops the start with its file and line (CatalogueError, a StartError).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Blueprint, Response, current_app, request
from flask.blueprints import BlueprintSetupState
from pydantic import BaseModel, ConfigDict, Field

from mocks.control.api import ApiError, BlueprintRoutes, Param, body, json_response
from mocks.scoreboard import balance as balance_mod
from mocks.scoreboard import scenarios
from mocks.scoreboard.board import STATUSES, Scoreboard, scoreboard_for
from mocks.scoreboard.outputs import junit_xml, report_html
from mocks.tenants import DEFAULT, HEADER, UnknownTenant

if TYPE_CHECKING:
    from mocks.kernel import Sandbox

blueprint = Blueprint("scoreboard", __name__)
route = BlueprintRoutes(blueprint, "/_sandbox", "scoreboard")
TENANT = Param("tenant", "tenant (default: X-Sandbox-Tenant header, else 'default')")
PERIOD = [
    Param("period", "balance period: all (default), month, year, custom"),
    Param("at", "month: YYYY-MM (default: the tenant's current month); year: YYYY"),
    Param("from", "custom: first day or instant (ISO 8601)"),
    Param("to", "custom: end, exclusive (ISO 8601)"),
]
FILTERS = [
    Param("family", "only this family (e.g. DMP)"),
    Param("status", f"only this status: {', '.join(STATUSES)}"),
]


@blueprint.record_once
def _load_at_mount(state: BlueprintSetupState) -> None:
    sandbox = state.app.extensions.get("segur_sandbox")
    if sandbox is not None:
        scoreboard_for(sandbox)  # raises CatalogueError (a StartError) on a corrupt catalogue


class RunRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    persona: str | None = Field(None, description="an INS, an RPPS / idNat_PS, a structure id or an address")
    minutes: float | None = Field(None, description="window length (default: the scenario's, else 15)")
    from_: str | None = Field(None, alias="from", description="window start (ISO 8601; default: now)")
    to: str | None = Field(None, description="window end (ISO 8601), instead of minutes")


def _sandbox() -> Sandbox:
    return current_app.extensions["segur_sandbox"]  # type: ignore[no-any-return]


def _board() -> Scoreboard:
    return scoreboard_for(_sandbox())


def _tenant() -> str:
    tenant = request.args.get("tenant") or request.headers.get(HEADER) or DEFAULT
    if not _sandbox().tenants.exists(tenant):
        raise UnknownTenant(tenant)
    return tenant


def _period(board: Scoreboard, tenant: str) -> balance_mod.Period:
    args = request.args
    try:
        return balance_mod.period(args.get("period"), args.get("at"), args.get("from"), args.get("to"),
                                  board.sandbox.now(tenant))  # fmt: skip
    except balance_mod.PeriodError as exc:
        raise ApiError(400, str(exc)) from None


def _full(board: Scoreboard, tenant: str) -> tuple[dict[str, Any], dict[str, Any]]:
    span = _period(board, tenant)
    snap = board.snapshot(tenant)
    return board.compute(tenant, snap), balance_mod.compute(board, snap, span)


@route("GET", "/scoreboard", "Ségur readiness: every requirement, its status and evidence, and the balance",
       [TENANT, *FILTERS, *PERIOD])  # fmt: skip
def scoreboard() -> Response:
    board, tenant = _board(), _tenant()
    family, status = request.args.get("family"), request.args.get("status")
    if family and family not in board.catalogue.model.families:
        raise ApiError(400, f"unknown family {family!r}; valid: {', '.join(board.catalogue.model.families)}")
    if status and status not in STATUSES:
        raise ApiError(400, f"unknown status {status!r}; valid: {', '.join(STATUSES)}")
    data, bal = _full(board, tenant)
    if family or status:
        data["requirements"] = [r for r in data["requirements"]
                                if (not family or r["family"] == family) and (not status or r["status"] == status)]  # fmt: skip
    data["balance"] = bal
    data["links"] = {"report": "/_sandbox/scoreboard/report.html", "junit": "/_sandbox/scoreboard/junit.xml",
                     "scenarios": "/_sandbox/scenarios", "console": "/preparation-segur"}  # fmt: skip
    return json_response(data)


@route(
    "GET", "/scoreboard/requirements/{requirement}", "One requirement with its status and evidence", [TENANT]
)
def requirement(requirement: str) -> Response:
    board, tenant = _board(), _tenant()
    if requirement not in board.catalogue.by_id:
        valid = list(board.catalogue.by_id)
        raise ApiError(404, f"unknown requirement {requirement!r}; valid: {', '.join(valid)}", valid=valid)
    found = next(r for r in board.compute(tenant)["requirements"] if r["id"] == requirement)
    return json_response(found)


@route("GET", "/scoreboard/balance", "The funding balance (paiement du solde) per RPPS, structure and period",
       [TENANT, *PERIOD])  # fmt: skip
def balance() -> Response:
    board, tenant = _board(), _tenant()
    return json_response(balance_mod.compute(board, board.snapshot(tenant), _period(board, tenant)))


@route("GET", "/scoreboard/report.html", "The printable « rapport de préparation Ségur » (HTML, French)",
       [TENANT, *PERIOD])  # fmt: skip
def report() -> Response:
    board, tenant = _board(), _tenant()
    data, bal = _full(board, tenant)
    html = report_html(data, bal, request.host_url.rstrip("/"))
    return Response(html, 200, mimetype="text/html",
                    headers={"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"})  # fmt: skip


@route("GET", "/scoreboard/junit.xml", "JUnit XML for CI: one testcase per automatable requirement", [TENANT])
def junit() -> Response:
    board, tenant = _board(), _tenant()
    return Response(
        junit_xml(board.compute(tenant), request.host_url.rstrip("/")), 200, mimetype="application/xml"
    )


# -- scenarios ----------------------------------------------------------------------------------
def _run_error(exc: scenarios.RunError) -> ApiError:
    return ApiError(exc.status, exc.message, **exc.extra)


@route("GET", "/scenarios", "Scenarios: requirements a time-boxed run can be started for", [])
def scenario_list() -> Response:
    board = _board()
    return json_response(
        [scenarios.describe(board, board.catalogue.by_id[i]) for i in scenarios.scenario_ids(board)]
    )


@route("GET", "/scenarios/{scenario}", "One scenario", [])
def scenario_get(scenario: str) -> Response:
    board = _board()
    try:
        return json_response(scenarios.describe(board, scenarios.scenario(board, scenario)))
    except scenarios.RunError as exc:
        raise _run_error(exc) from None


@route("GET", "/scenarios/{scenario}/runs", "The scenario's runs in the tenant, newest first", [TENANT])
def runs_list(scenario: str) -> Response:
    board, tenant = _board(), _tenant()
    try:
        return json_response(scenarios.runs(board, tenant, scenario))
    except scenarios.RunError as exc:
        raise _run_error(exc) from None


@route("POST", "/scenarios/{scenario}/runs", "Start a run: within the window, expect the scenario's observations",
       [TENANT], RunRequest)  # fmt: skip
def runs_start(scenario: str) -> Response:
    board, tenant = _board(), _tenant()
    req = body(RunRequest)
    try:
        run = scenarios.start(board, tenant, scenario, req.persona, req.minutes, req.from_, req.to)
    except scenarios.RunError as exc:
        raise _run_error(exc) from None
    response = json_response(run, 201)
    response.headers["Location"] = run["href"]
    return response


@route("GET", "/scenarios/{scenario}/runs/{run}", "A run; ?wait=N long-polls until its verdict",
       [TENANT, Param("wait", "seconds to wait for a verdict, at most 300 (default 0)", type="number")])  # fmt: skip
def runs_get(scenario: str, run: str) -> Response:
    board, tenant = _board(), _tenant()
    try:
        run_id = int(run)
        wait = float(request.args.get("wait", "0"))
    except ValueError:
        raise ApiError(400, "run must be an integer and wait a number") from None
    if not 0 <= wait <= scenarios.MAX_WAIT:
        raise ApiError(400, f"wait must be between 0 and {scenarios.MAX_WAIT:.0f}")
    try:
        return json_response(scenarios.get(board, tenant, scenario, run_id, wait))
    except scenarios.RunError as exc:
        raise _run_error(exc) from None
