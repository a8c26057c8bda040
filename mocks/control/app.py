"""The control plane under `/_sandbox/`: health, info, reset, tenants, clock, faults, journal,
findings, state export/import, plus the blueprints of the kernel components (personas, PKI) and
of services that have one (e.g. PSC approvals). OpenAPI at `/_sandbox/openapi.json`, docs at
`/_sandbox/docs`."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from flask import Flask, Response, request, send_from_directory
from pydantic import BaseModel, ConfigDict, Field, RootModel
from werkzeug.exceptions import HTTPException

import mocks
from mocks.clock import EARLIEST, LATEST, ClockError, iso
from mocks.control import state as state_mod
from mocks.control.api import Api, ApiError, BlueprintRoutes, Param, body, json_response, parse_json
from mocks.faults import FaultRule, UnknownName
from mocks.findings import SEVERITIES
from mocks.journal import FILTERS, INT_FILTERS
from mocks.kernel import Sandbox
from mocks.registry import optional_module
from mocks.tenants import DEFAULT, GRAMMAR, HEADER, MAX_DESCRIPTION, InvalidTenantId, UnknownTenant, valid_id

if TYPE_CHECKING:
    from mocks.runner import Runner

log = logging.getLogger("segur")

# Kernel components' blueprints: (module, URL prefix under /_sandbox). A service's own control
# routes are its package's `control` module, mounted at /_sandbox/<service> from the registry.
BLUEPRINTS = [
    ("mocks.control.platform", ""),
    ("mocks.population.control", "/personas"),
    ("mocks.cda.control", "/cda"),
    ("mocks.scoreboard.control", ""),
]

TENANT_PARAM = Param("tenant", "tenant (default: X-Sandbox-Tenant header, else 'default')")
MAX_ID = 2**63 - 1  # SQLite integers
JOURNAL_PARAMS = [
    Param(k, f"journal filter {k}", type="integer", minimum=0, maximum=MAX_ID)
    if k in INT_FILTERS
    else Param(k, f"journal filter {k}", type="boolean")
    if k == "has_findings"
    else Param(k, f"journal filter {k}")
    for k in FILTERS
]
RULE_ID = Param("rule_id", "the rule's id", "path", "integer", minimum=0, maximum=MAX_ID)
ENTRY_ID = Param("entry_id", "the entry's id", "path", "integer", minimum=0, maximum=MAX_ID)
MAX_BODY = 256 * 1024 * 1024  # a state import of a busy tenant


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class ResetRequest(Strict):
    service: str | None = Field(None, description="only this service's state")
    tenant: str | None = Field(None, description="only this tenant (default: every tenant)")


class TenantCreate(Strict):
    id: str = Field(description=GRAMMAR)
    description: str = Field("", max_length=MAX_DESCRIPTION)
    bindings: list[str] = Field(
        default_factory=list,
        description="what callers present that selects this tenant: certificate subject or serial, OAuth client id",
    )


RANGE = f"between {iso(EARLIEST)} and {iso(LATEST)}"


SPAN = (LATEST - EARLIEST).total_seconds()


class ClockReal(Strict):
    mode: Literal["real"] = Field(description="follow real time")


class ClockFrozen(Strict):
    mode: Literal["frozen"] = Field(description="stop at an instant")
    at: datetime | None = Field(None, description=f"the instant (default: now), {RANGE}")


class ClockOffset(Strict):
    mode: Literal["offset"] = Field(description="run on from a shifted instant")
    at: datetime | None = Field(None, description=f"the sandbox time to jump to, {RANGE}")
    offset_seconds: float | None = Field(
        None, ge=-SPAN, le=SPAN, description=f"seconds ahead of real time (the result {RANGE})"
    )


class ClockSet(RootModel[Annotated[ClockReal | ClockFrozen | ClockOffset, Field(discriminator="mode")]]):
    """Real time, a frozen instant, or an offset (`at` or `offset_seconds`, exactly one)."""


class ClockAdvance(Strict):
    seconds: float = Field(gt=0, le=100 * 365 * 86400, description=f"the result {RANGE}")


class FaultList(Strict):
    rules: list[FaultRule]


def tenant_arg(sandbox: Sandbox) -> str:
    tenant = request.args.get("tenant") or request.headers.get(HEADER) or DEFAULT
    if not sandbox.tenants.exists(tenant):
        raise UnknownTenant(tenant)
    return tenant


def create_app(sandbox: Sandbox, runner: Runner | None = None) -> Flask:
    app = Flask("segur-sandbox-control")
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY
    api = Api(app, "Ségur Sandbox control plane", mocks.__version__)
    # the services this process runs (ready or not yet): what `readyz?local=1` waits for
    local = list(runner.enabled) if runner else []

    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError) -> Response:
        return json_response({"error": exc.message, **exc.extra}, exc.status)

    @app.errorhandler(UnknownTenant)
    def _unknown_tenant(exc: UnknownTenant) -> Response:
        if isinstance(exc, InvalidTenantId):
            return json_response({"error": str(exc), "tenant": exc.tenant}, 400)
        return json_response({"error": f"unknown tenant: {exc.tenant}", "tenant": exc.tenant}, 404)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        return json_response({"error": exc.description or exc.name}, exc.code or 500)

    @app.errorhandler(Exception)
    def _crash(exc: Exception) -> Response:
        # a bug of ours: JSON with a trace id to find the traceback in the log, never an HTML page
        trace = uuid.uuid4().hex
        log.error("control plane %s %s failed (trace %s)", request.method, request.path, trace, exc_info=exc)
        return json_response({"error": "internal error", "trace_id": trace}, 500)

    @app.before_request
    def _tenant_grammar() -> None:
        # one tenant-id grammar for every control route, the components' blueprints included
        # (the console's pages, at /, answer in their own shape)
        if not request.path.startswith("/_sandbox/"):
            return
        for where, value in (("tenant", request.args.get("tenant")), (HEADER, request.headers.get(HEADER))):
            if value and not valid_id(value):
                raise ApiError(400, f"invalid tenant id in {where} {value!r}: {GRAMMAR}", tenant=value)

    from mocks.console import mount as mount_console

    mount_console(app, sandbox)  # the web console at / (mocks/console, docs/console.md)

    # -- health and info ---------------------------------------------------------------------
    def health_data() -> dict[str, Any]:
        statuses = sandbox.statuses()
        services: dict[str, dict[str, Any]] = {}
        for name in sandbox.services:
            row = statuses.get(name)
            # A service another process runs (a compose container) reports through the store;
            # one that no process has started, and that this one does not run, is disabled.
            if row is None and name not in local:
                services[name] = {"state": "disabled"}
                continue
            services[name] = {
                "state": row["state"] if row else "starting",
                "detail": row["detail"] if row else "",
                "urls": row["urls"] if row else {},
                "local": name in local,
            }
        return services

    @api.route("GET", "/", "Index: links to everything", "info")
    def index() -> Response:
        return json_response(
            {
                "name": "Ségur Sandbox",
                "version": mocks.__version__,
                "docs": "/_sandbox/docs",
                "openapi": "/_sandbox/openapi.json",
                "endpoints": sorted({r.path for r in api.routes}),
            }
        )

    @api.route("GET", "/health", "State of every service (starting, ready, failed, disabled)", "info")
    def health() -> Response:
        services = health_data()
        ok = all(s["state"] in ("ready", "disabled", "stopped") for s in services.values())
        out: dict[str, Any] = {"status": "ok" if ok else "degraded", "services": services}
        if optional_module("mocks.cda.engine") is not None:  # the CDA engine: not installed is fine
            cda = sandbox.cda.health()
            out["cda"] = {k: cda[k] for k in ("state", "detail", "path") if k in cda}
            out["status"] = "degraded" if cda["state"] == "failed" else out["status"]
        return json_response(out)

    @api.route("GET", "/livez", "The control plane answers", "info")
    def livez() -> Response:
        return json_response({"status": "ok"})

    @api.route(
        "GET",
        "/readyz",
        "200 when every enabled service is ready (local=1: only the services of this process), else 503",
        "info",
        [Param("local", "1: only this process's services", type="boolean")],
    )
    def readyz() -> Response:
        services = health_data()
        if request.args.get("local") in ("1", "true"):
            services = {n: s for n, s in services.items() if n in local}
        waiting = sorted(n for n, s in services.items() if s["state"] not in ("ready", "disabled", "stopped"))
        return json_response({"ready": not waiting, "waiting": waiting}, 503 if waiting else 200)

    @api.route("GET", "/info", "Version, enabled services and their URLs, world settings", "info")
    def info() -> Response:
        services = health_data()
        return json_response(
            {
                "version": mocks.__version__,
                "host": sandbox.config.host,
                "seed": sandbox.config.seed,
                "reference_date": sandbox.config["reference_date"],
                "services": {
                    name: {
                        "title": entry.title,
                        "enabled": services[name]["state"] != "disabled",
                        **services[name],
                    }
                    for name, entry in sandbox.services.items()
                },
                "console": sandbox.url("console", "/_sandbox/"),
            }
        )

    @api.route("GET", "/config", "Effective configuration and where each value came from", "info")
    def config() -> Response:
        return json_response(sandbox.config.describe())

    # -- reset and tenants ---------------------------------------------------------------------
    @api.route("POST", "/reset", "Reset everything, one service, or one tenant", "reset", body=ResetRequest)
    def reset() -> Response:
        req = body(ResetRequest)
        if req.service is not None and req.service not in sandbox.services:
            raise ApiError(
                400, f"unknown service {req.service!r}; valid: {', '.join(sorted(sandbox.services))}"
            )
        if req.tenant is not None:
            sandbox.tenants.get(req.tenant)
            targets = [req.tenant]
        else:
            targets = [t["id"] for t in sandbox.tenants.all()]
        deleted = 0
        with sandbox.store.tx():
            for tenant in targets:
                deleted += sandbox.tenants.reset(tenant, req.service)
            if req.tenant is None and req.service is None:
                for tenant in targets:
                    if tenant != DEFAULT:
                        sandbox.tenants.delete(tenant)
        return json_response(
            {"reset": True, "tenants": targets, "service": req.service, "rows_deleted": deleted}
        )

    @api.route("GET", "/tenants", "List tenants", "tenants")
    def tenants_list() -> Response:
        return json_response(sandbox.tenants.all())

    @api.route("POST", "/tenants", "Create a tenant", "tenants", body=TenantCreate)
    def tenants_create() -> Response:
        req = body(TenantCreate)
        if sandbox.tenants.exists(req.id):
            raise ApiError(409, f"tenant already exists: {req.id}")
        try:
            return json_response(sandbox.tenants.create(req.id, req.description, req.bindings), 201)
        except ValueError as exc:
            raise ApiError(400, str(exc)) from None

    @api.route("GET", "/tenants/{tenant}", "One tenant", "tenants")
    def tenants_get(tenant: str) -> Response:
        return json_response(sandbox.tenants.get(tenant))

    @api.route(
        "DELETE", "/tenants/{tenant}", "Delete a tenant and its state (the default one is reset)", "tenants"
    )
    def tenants_delete(tenant: str) -> Response:
        sandbox.tenants.delete(tenant)
        return json_response({"deleted": tenant})

    @api.route("POST", "/tenants/{tenant}/reset", "Forget a tenant's state, keep the tenant", "tenants")
    def tenants_reset(tenant: str) -> Response:
        return json_response({"tenant": tenant, "rows_deleted": sandbox.tenants.reset(tenant)})

    # -- clock -----------------------------------------------------------------------------------
    @api.route("GET", "/clock", "The tenant's sandbox time", "clock", [TENANT_PARAM])
    def clock_get() -> Response:
        return json_response(sandbox.clock.describe(tenant_arg(sandbox)))

    @api.route(
        "PUT", "/clock", "Real time, an offset, or a frozen instant", "clock", [TENANT_PARAM], ClockSet
    )
    def clock_set() -> Response:
        tenant = tenant_arg(sandbox)
        req = body(ClockSet).root
        try:
            if isinstance(req, ClockReal):
                sandbox.clock.set_real(tenant)
            elif isinstance(req, ClockFrozen):
                sandbox.clock.set_time(tenant, req.at or sandbox.now(tenant), frozen=True)
            else:
                if (req.at is None) == (req.offset_seconds is None):
                    raise ApiError(400, "mode offset takes exactly one of 'at' and 'offset_seconds'")
                if req.at is not None:
                    sandbox.clock.set_time(tenant, req.at, frozen=False)
                else:
                    sandbox.clock.set_offset(tenant, float(req.offset_seconds or 0))
        except ClockError as exc:
            raise ApiError(400, str(exc)) from None
        return json_response(sandbox.clock.describe(tenant))

    @api.route(
        "POST", "/clock/advance", "Move the tenant's clock forward", "clock", [TENANT_PARAM], ClockAdvance
    )
    def clock_advance() -> Response:
        tenant = tenant_arg(sandbox)
        try:
            sandbox.clock.advance(tenant, body(ClockAdvance).seconds)
        except ClockError as exc:
            raise ApiError(400, str(exc)) from None
        return json_response(sandbox.clock.describe(tenant))

    # -- faults ----------------------------------------------------------------------------------
    @api.route("GET", "/faults/catalogue", "Every service's error names that a rule can trigger", "faults")
    def faults_catalogue() -> Response:
        return json_response(
            {
                name: {
                    e.name: {"description": e.description, "http_status": e.http_status}
                    for e in entry.errors.values()
                }
                for name, entry in sandbox.services.items()
            }
        )

    @api.route(
        "GET",
        "/faults/operations",
        "Every service's operation names that a rule can name (null: the service declares none)",
        "faults",
    )
    def faults_operations() -> Response:
        return json_response({name: entry.operations for name, entry in sandbox.services.items()})

    @api.route("GET", "/faults", "The tenant's fault rules", "faults", [TENANT_PARAM])
    def faults_list() -> Response:
        return json_response(sandbox.faults.list(tenant_arg(sandbox)))

    @api.route("POST", "/faults", "Add a fault rule", "faults", [TENANT_PARAM], FaultRule)
    def faults_add() -> Response:
        tenant = tenant_arg(sandbox)
        rule = body(FaultRule)
        try:
            warning = sandbox.faults.validate(rule)
            created = sandbox.faults.add(tenant, rule)
        except UnknownName as exc:
            raise ApiError(400, str(exc)) from None
        if warning:
            created["warning"] = warning
        return _warned(json_response(created, 201), [warning])

    @api.route(
        "PUT",
        "/faults",
        "Replace all the tenant's rules (empty list: no faults)",
        "faults",
        [TENANT_PARAM],
        FaultList,
    )
    def faults_replace() -> Response:
        tenant = tenant_arg(sandbox)
        rules = body(FaultList).rules
        try:
            warnings: list[str | None] = list(sandbox.faults.validate_all(rules))
            return _warned(json_response(sandbox.faults.replace_all(tenant, rules)), warnings)
        except UnknownName as exc:
            raise ApiError(400, str(exc)) from None

    @api.route("DELETE", "/faults", "Remove all the tenant's rules", "faults", [TENANT_PARAM])
    def faults_clear() -> Response:
        return json_response({"deleted": sandbox.faults.clear(tenant_arg(sandbox))})

    @api.route("GET", "/faults/{rule_id}", "One rule", "faults", [TENANT_PARAM, RULE_ID])
    def faults_get(rule_id: str) -> Response:
        rule = sandbox.faults.get(tenant_arg(sandbox), _int(rule_id, "rule id", 0, MAX_ID))
        if rule is None:
            raise ApiError(404, f"unknown fault rule: {rule_id}")
        return json_response(rule)

    @api.route("DELETE", "/faults/{rule_id}", "Remove one rule", "faults", [TENANT_PARAM, RULE_ID])
    def faults_delete(rule_id: str) -> Response:
        if not sandbox.faults.delete(tenant_arg(sandbox), _int(rule_id, "rule id", 0, MAX_ID)):
            raise ApiError(404, f"unknown fault rule: {rule_id}")
        return json_response({"deleted": int(rule_id)})

    # -- journal and findings --------------------------------------------------------------------
    def journal_filter() -> dict[str, Any]:
        raw = {
            k: v
            for k, v in request.args.items()
            if k not in {"limit", "offset", "bodies", "timeout", "count", "order", "severity"}
        }
        if "tenant" not in raw and request.headers.get(HEADER):
            raw["tenant"] = request.headers[HEADER]
        if raw.get("tenant") and not sandbox.tenants.exists(raw["tenant"]):
            raise UnknownTenant(raw["tenant"])
        try:
            flt = sandbox.journal.parse_filter(raw)
        except ValueError as exc:
            raise ApiError(400, str(exc)) from None
        for key in INT_FILTERS & set(flt):
            if not 0 <= flt[key] <= MAX_ID:
                raise ApiError(400, f"journal filter {key} must be between 0 and {MAX_ID}")
        return flt

    paging = [
        Param("limit", "at most this many (default 100)", type="integer", minimum=1, maximum=10000),
        Param("offset", "skip", type="integer", minimum=0, maximum=MAX_ID),
        Param("bodies", "include request and response bodies", type="boolean"),
        Param("order", "desc (newest first, default) or asc"),
    ]

    @api.route("GET", "/journal", "Find exchanges (newest first)", "journal", JOURNAL_PARAMS + paging)
    def journal_find() -> Response:
        flt = journal_filter()
        limit = _int(request.args.get("limit", "100"), "limit", 1, 10000)
        offset = _int(request.args.get("offset", "0"), "offset", 0, MAX_ID)
        order = request.args.get("order", "desc")
        if order not in ("asc", "desc"):
            raise ApiError(400, "order must be asc or desc")
        bodies = request.args.get("bodies") in ("1", "true")
        return json_response(sandbox.journal.find(flt, limit, offset, bodies, newest_first=order == "desc"))

    @api.route("GET", "/journal/count", "Count exchanges", "journal", JOURNAL_PARAMS)
    def journal_count() -> Response:
        return json_response({"count": sandbox.journal.count(journal_filter())})

    @api.route(
        "GET",
        "/journal/wait",
        "Wait until `count` exchanges match the filter (oldest first); 408 on time-out",
        "journal",
        [
            *JOURNAL_PARAMS,
            Param("timeout", "seconds, at most 300 (default 10)", type="number", minimum=0, maximum=300),
            Param("count", "how many (default 1)", type="integer", minimum=1, maximum=10000),
        ],
    )
    def journal_wait() -> Response:
        flt = journal_filter()
        timeout = _float(request.args.get("timeout", "10"), "timeout", 0, 300)
        count = _int(request.args.get("count", "1"), "count", 1, 10000)
        found = sandbox.journal.wait(flt, timeout, count)
        if found is None:
            return json_response(
                {"error": "timed out", "matched": sandbox.journal.count(flt), "wanted": count}, 408
            )
        return json_response(found)

    @api.route("GET", "/journal/{entry_id}", "One exchange with its bodies", "journal", [ENTRY_ID])
    def journal_get(entry_id: str) -> Response:
        entry = sandbox.journal.get(_int(entry_id, "entry id", 0, MAX_ID))
        if entry is None:
            raise ApiError(404, f"unknown journal entry: {entry_id}")
        return json_response(entry)

    @api.route(
        "DELETE", "/journal", "Clear the journal (one tenant with ?tenant=)", "journal", [TENANT_PARAM]
    )
    def journal_clear() -> Response:
        tenant = request.args.get("tenant") or request.headers.get(HEADER)
        if tenant and not sandbox.tenants.exists(tenant):
            raise UnknownTenant(tenant)
        return json_response({"deleted": sandbox.journal.clear(tenant)})

    @api.route(
        "GET",
        "/findings",
        "Findings on what the LGC sent, newest first",
        "journal",
        [*JOURNAL_PARAMS, *paging[:2], Param("severity", "error, warning or info")],
    )
    def findings() -> Response:
        flt = {**journal_filter(), "has_findings": 1}
        severity = request.args.get("severity")
        if severity is not None and severity not in SEVERITIES:
            raise ApiError(400, f"severity must be one of {', '.join(SEVERITIES)}")
        limit = _int(request.args.get("limit", "100"), "limit", 1, 10000)
        out = []
        for entry in sandbox.journal.find(
            flt, limit, _int(request.args.get("offset", "0"), "offset", 0, MAX_ID)
        ):
            for f in entry["findings"]:
                if ("rule" in flt and f["rule"] != flt["rule"]) or (severity and f["severity"] != severity):
                    continue
                out.append(
                    {
                        **f,
                        "entry": entry["id"],
                        "at": entry["at"],
                        "tenant": entry["tenant"],
                        "service": entry["service"],
                        "operation": entry["operation"],
                    }
                )
        return json_response(out)

    # -- state -----------------------------------------------------------------------------------
    @api.route(
        "GET",
        "/state/export",
        "Export the state of one tenant (?tenant=) or all, as JSON",
        "state",
        [TENANT_PARAM],
    )
    def state_export() -> Response:
        tenant = request.args.get("tenant") or request.headers.get(HEADER)
        tenants = [sandbox.tenants.get(tenant)] if tenant else sandbox.tenants.all()
        return json_response(state_mod.export(sandbox.store, tenants))

    @api.route("POST", "/state/import", "Replace the state of the tenants in an export document", "state")
    def state_import() -> Response:
        data = parse_json(request.get_data(cache=True) or b"null")
        if not isinstance(data, dict):
            raise ApiError(400, "body must be a JSON export document")
        try:
            ids = state_mod.import_(
                sandbox.store, data, iso(sandbox.now()), {"faults": sandbox.faults.check_row}
            )
        except ValueError as exc:
            raise ApiError(400, str(exc)) from None
        return json_response({"imported": ids})

    # -- documentation ---------------------------------------------------------------------------
    @app.get("/_sandbox/openapi.json")
    def openapi() -> Response:
        return json_response(api.openapi(request.host_url.rstrip("/")))

    @app.get("/_sandbox/docs")
    @app.get("/_sandbox/docs/")
    def docs() -> Response:
        return Response(_DOCS_PAGE, mimetype="text/html")

    @app.get("/_sandbox/docs/<path:name>")
    def docs_assets(name: str) -> Response:
        from swagger_ui_bundle import swagger_ui_path

        return send_from_directory(swagger_ui_path, name)

    app.extensions["segur_sandbox"] = sandbox  # the blueprints' way to the kernel (also when mounted)
    mounts = [(optional_module(m), prefix) for m, prefix in BLUEPRINTS]
    mounts += [(entry.part("control"), "/" + name) for name, entry in sandbox.services.items()]
    for module, prefix in mounts:
        if module is not None:
            app.register_blueprint(module.blueprint, url_prefix="/_sandbox" + prefix)
            routes = getattr(module, "route", None)
            if isinstance(routes, BlueprintRoutes):
                api.routes.extend(routes.routes)  # documented in /_sandbox/openapi.json

    app.extensions["segur_api"] = api
    return app


def _warned(resp: Response, warnings: list[str | None]) -> Response:
    """RFC 7234 Warning headers (299: miscellaneous persistent warning) for what was not checked."""
    for warning in dict.fromkeys(w for w in warnings if w):
        resp.headers.add("Warning", '299 segur-sandbox "' + warning.replace('"', "'") + '"')
    return resp


def _int(text: str, what: str, low: int | None = None, high: int | None = None) -> int:
    try:
        value = int(text)
    except (TypeError, ValueError):
        raise ApiError(400, f"{what} must be an integer") from None
    if (low is not None and value < low) or (high is not None and value > high):
        raise ApiError(400, f"{what} must be between {low} and {high}")
    return value


def _float(text: str, what: str, low: float, high: float) -> float:
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise ApiError(400, f"{what} must be a number") from None
    if not low <= value <= high:
        raise ApiError(400, f"{what} must be between {low} and {high}")
    return value


# Swagger UI from the swagger-ui-bundle package, served locally: no CDN, works offline.
_DOCS_PAGE = """<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><title>Ségur Sandbox — control plane</title>
<link rel="stylesheet" href="/_sandbox/docs/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/_sandbox/docs/swagger-ui-bundle.js"></script>
<script>window.ui = SwaggerUIBundle({url: "/_sandbox/openapi.json", dom_id: "#swagger-ui"});</script>
</body></html>
"""
