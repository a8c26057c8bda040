"""Control routes of the kernel platform, mounted at `/_sandbox`:

GET  /evidence                 facts of the tenant (kind, subject, service, after_id, since)
GET  /evidence/count
GET  /evidence/wait            block until `count` facts match (408 on time-out)
POST /tokens/introspect        RFC 7662 introspection backed by the kernel's token trust
GET  /rules                    every service's findings rule catalogue (id, severity, title fr)
GET  /errors                   every service's error catalogue, typed (kind per protocol)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Blueprint, Response, current_app, request

from mocks.control.api import ApiError, BlueprintRoutes, Param, json_response, parse_json
from mocks.tenants import DEFAULT, HEADER, UnknownTenant

if TYPE_CHECKING:
    from mocks.kernel import Sandbox

blueprint = Blueprint("platform", __name__)
TENANT = Param("tenant", "tenant (default: X-Sandbox-Tenant header, else 'default')")
EVIDENCE = [
    TENANT,
    Param("kind", "e.g. ins.qualified, dmp.document.accepted"),
    Param("subject", "what the fact is about (an INS, a document uniqueId, an address)"),
    Param("service", "the service that established it"),
    Param("after_id", "only facts newer than this id", type="integer", minimum=0, maximum=2**63 - 1),
    Param("since", "only facts at or after this sandbox time (ISO 8601)"),
]
route = BlueprintRoutes(blueprint, "/_sandbox", "evidence")


def _sandbox() -> Sandbox:
    return current_app.extensions["segur_sandbox"]  # type: ignore[no-any-return]


def _tenant(sandbox: Sandbox) -> str:
    tenant = request.args.get("tenant") or request.headers.get(HEADER) or DEFAULT
    if not sandbox.tenants.exists(tenant):
        raise UnknownTenant(tenant)
    return tenant


def _filter() -> dict[str, Any]:
    flt = {k: v for k, v in request.args.items() if k in ("kind", "subject", "service", "after_id", "since")}
    unknown = sorted(set(request.args) - {"tenant", "kind", "subject", "service", "after_id", "since",
                                          "limit", "offset", "order", "timeout", "count"})  # fmt: skip
    if unknown:
        raise ApiError(400, f"unknown parameter {', '.join(unknown)}")
    from mocks.evidence import Evidence

    try:
        return Evidence.parse_filter(flt)
    except ValueError as exc:
        raise ApiError(400, str(exc)) from None


def _int(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name, str(default))
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, f"{name} must be an integer") from None
    if not low <= value <= high:
        raise ApiError(400, f"{name} must be between {low} and {high}")
    return value


@route(
    "GET",
    "/evidence",
    "Facts established by the services (durable, not pruned with the journal)",
    [
        *EVIDENCE,
        Param("limit", "at most this many (default 1000)", type="integer", minimum=1, maximum=100000),
        Param("offset", "skip", type="integer", minimum=0, maximum=2**31),
        Param("order", "asc (oldest first, default) or desc"),
    ],
)
def evidence_find() -> Response:
    sandbox = _sandbox()
    tenant, flt = _tenant(sandbox), _filter()
    order = request.args.get("order", "asc")
    if order not in ("asc", "desc"):
        raise ApiError(400, "order must be asc or desc")
    limit, offset = _int("limit", 1000, 1, 100000), _int("offset", 0, 0, 2**31)
    return json_response(sandbox.evidence.find(tenant, limit, offset, order == "desc", **flt))


@route("GET", "/evidence/count", "Count facts", EVIDENCE)
def evidence_count() -> Response:
    sandbox = _sandbox()
    return json_response({"count": sandbox.evidence.count(_tenant(sandbox), **_filter())})


@route(
    "GET",
    "/evidence/wait",
    "Wait until `count` facts match (oldest first); 408 on time-out",
    [
        *EVIDENCE,
        Param("timeout", "seconds, at most 300 (default 10)", type="number", minimum=0, maximum=300),
        Param("count", "how many (default 1)", type="integer", minimum=1, maximum=10000),
    ],
)
def evidence_wait() -> Response:
    sandbox = _sandbox()
    tenant, flt = _tenant(sandbox), _filter()
    try:
        timeout = float(request.args.get("timeout", "10"))
    except ValueError:
        raise ApiError(400, "timeout must be a number") from None
    if not 0 <= timeout <= 300:
        raise ApiError(400, "timeout must be between 0 and 300")
    count = _int("count", 1, 1, 10000)
    found = sandbox.evidence.wait(tenant, timeout, count, **flt)
    if found is None:
        matched = sandbox.evidence.count(tenant, **flt)
        return json_response({"error": "timed out", "matched": matched, "wanted": count}, 408)
    return json_response(found)


@route(
    "POST",
    "/tokens/introspect",
    "RFC 7662 introspection of a bearer token issued by a sandbox service (form field `token`)",
    [TENANT],
)
def tokens_introspect() -> Response:
    sandbox = _sandbox()
    tenant = _tenant(sandbox)
    token = request.form.get("token") if request.mimetype == "application/x-www-form-urlencoded" else None
    if token is None and request.is_json:
        data = parse_json(request.get_data(cache=True) or b"null")
        token = data.get("token") if isinstance(data, dict) else None
    if not isinstance(token, str) or not token:
        raise ApiError(400, "missing form parameter: token")
    return json_response(sandbox.tokens.introspect(token, tenant))


@route("GET", "/rules", "Every service's findings rule catalogue", [])
def rules() -> Response:
    sandbox = _sandbox()
    out: dict[str, list[dict[str, Any]]] = {}
    for name, entry in sandbox.services.items():
        catalogue = entry.rules
        if catalogue is not None:
            out[name] = [rule.as_dict() for rule in catalogue.values()]
    for name, catalogue in sandbox.component_rules().items():
        out[name] = [rule.as_dict() for rule in catalogue.values()]
    return json_response(out)


@route("GET", "/errors", "Every service's error catalogue, typed per protocol", [])
def errors() -> Response:
    sandbox = _sandbox()
    out: dict[str, Any] = {}
    for name, entry in sandbox.services.items():
        catalogue = entry.errors
        describe = getattr(entry.module.ERRORS, "describe", None) if hasattr(entry.module, "ERRORS") else None
        out[name] = (
            describe()
            if describe
            else {
                e.name: {"kind": e.kind, "description": e.description, "http_status": e.http_status}
                for e in catalogue.values()
            }
        )
    return json_response(out)
