"""Control API of PSC, mounted by the kernel at `/_sandbox/psc` (see docs/services/psc.md).

    GET    /                                   issuer, discovery and wallet URLs, auto-approval
    GET    /pending                            pending e-CPS pushes, card PIN prompts and CIBA requests
    POST   /pending/<id>/approve               the professional validates (phone / card)
    POST   /pending/<id>/refuse                the professional refuses
    PUT    /auto-approve                       {"after_seconds": 0 | N | -1 | null (back to the setting)}
    GET    /clients                            clients of the tenant (control API and configuration)
    GET    /clients/<client_id>
    PUT    /clients/<client_id>                create or replace {secret, redirect_uris, ...}
    POST   /clients                            create {client_id, ...} (409 when it exists)
    DELETE /clients/<client_id>
    GET    /quirks                             per-persona acr quirks of the tenant
    PUT    /quirks/<national_id>               {"acr": "default|eidas1|eidas2|eidas3|missing|duplicate"}

The tenant is `?tenant=`, else the X-Sandbox-Tenant header, else `default`. Errors are
`{"error": "..."}`: 400 for bad input (with what is wrong), 404 for unknown ids, 409 on conflict.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Blueprint, Response, current_app, request
from pydantic import BaseModel, ConfigDict, Field

from mocks.control.api import ApiError, BlueprintRoutes, Param, body, json_response
from mocks.tenants import DEFAULT, HEADER, UnknownTenant
from psc.claims import ACR_MODES
from psc.clients import AUTH_METHODS, Client
from psc.realm import Realm

if TYPE_CHECKING:
    from mocks.kernel import Sandbox

blueprint = Blueprint("psc", __name__)
PREFIX = "/_sandbox/psc"
TAG = "psc"
TENANT = Param("tenant", "tenant (default: X-Sandbox-Tenant header, else 'default')")


class AutoApprove(BaseModel):
    model_config = ConfigDict(extra="forbid")
    after_seconds: int | None = Field(
        description="0: at once; N: after N s; -1: never; null: the psc_auto_approve setting", ge=-1
    )


class ClientBody(BaseModel):
    """A client without its id (the id is in the path)."""

    model_config = ConfigDict(extra="forbid")
    secret: str = ""
    redirect_uris: list[str] = Field(default_factory=list)
    post_logout_redirect_uris: list[str] = Field(default_factory=list)
    grant_types: list[str] | None = None
    auth_method: str = Field("client_secret_basic", description=" | ".join(AUTH_METHODS))
    tls_subject: str = ""
    jwks: dict[str, Any] | None = Field(None, description="private_key_jwt: the client's public JWKS")
    description: str = ""


class Quirk(BaseModel):
    model_config = ConfigDict(extra="forbid")
    acr: str = Field(description=" | ".join(ACR_MODES))


route = BlueprintRoutes(blueprint, PREFIX, TAG, [TENANT])
ROUTES = route.routes


@blueprint.errorhandler(ApiError)
def _api_error(exc: ApiError) -> Response:
    return json_response({"error": exc.message, **exc.extra}, exc.status)


@blueprint.errorhandler(UnknownTenant)
def _unknown_tenant(exc: UnknownTenant) -> Response:
    return json_response({"error": f"unknown tenant: {exc.tenant}", "tenant": exc.tenant}, 404)


def sandbox() -> Sandbox:
    found = current_app.extensions.get("segur_sandbox")
    if found is None:
        raise RuntimeError("the control app does not expose its Sandbox (app.extensions['segur_sandbox'])")
    return found  # type: ignore[no-any-return]


def realm() -> Realm:
    service: Any = sandbox().instances["psc"]
    return service.realm  # type: ignore[no-any-return]


def tenant() -> str:
    name = request.args.get("tenant") or request.headers.get(HEADER) or DEFAULT
    if not sandbox().tenants.exists(name):
        raise UnknownTenant(name)
    return name


def _request_json(r: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": r["id"],
        "kind": "ciba" if r["kind"] == "ciba" else ("card" if r["channel"] == "CARD" else "e-cps"),
        "client_id": r["client_id"],
        "national_id": r["national_id"],
        "channel": r["channel"],
        "binding_message": r["params"].get("binding_message", ""),
        "status": r["status"],
        "expires_at": r["expires_at"],
    }


def _client_json(c: Client, source: str) -> dict[str, Any]:
    return {**c.model_dump(), "source": source}


@route("GET", "/", "PSC URLs and the tenant's auto-approval")
def index() -> Response:
    sb, t = sandbox(), tenant()
    r = realm()
    iss = r.issuer()
    return json_response(
        {
            "issuer": iss,
            "discovery": iss + "/.well-known/wallet-openid-configuration",
            "authorization_endpoint": sb.url("psc-wallet", "/auth"),
            "token_exchange_endpoint": sb.url(
                "psc-exchange", "/realms/signsessiondata/protocol/openid-connect/token"
            ),
            "auto_approve_after_seconds": r.logins.auto_approve(t),
            "card_pin": str(sb.config["psc_card_pin"]),
            "pending": len(r.logins.pending(t)),
        }
    )


@route("GET", "/pending", "pending e-CPS pushes, card prompts and CIBA requests")
def pending() -> Response:
    return json_response([_request_json(r) for r in realm().logins.pending(tenant())])


def _decide(request_id: str, status: str) -> Response:
    r, t = realm(), tenant()
    found = r.logins.get(request_id)
    if found is None or found["tenant"] != t:
        raise ApiError(404, f"unknown request: {request_id}")
    if found["status"] != "pending":
        raise ApiError(409, f"request {request_id} is {found['status']}, not pending")
    r.logins.resolve(request_id, status, "console")
    return json_response(_request_json(r.logins.get(request_id) or found))


@route(
    "POST", "/pending/{request_id}/approve", "approve a pending request (as the professional's phone or card)"
)
def approve(request_id: str) -> Response:
    return _decide(request_id, "approved")


@route("POST", "/pending/{request_id}/refuse", "refuse a pending request")
def refuse(request_id: str) -> Response:
    return _decide(request_id, "refused")


@route("PUT", "/auto-approve", "auto-approval of this tenant's pushes and CIBA requests", model=AutoApprove)
def auto_approve() -> Response:
    data: AutoApprove = body(AutoApprove)
    t = tenant()
    realm().logins.set_auto_approve(t, data.after_seconds)
    return json_response({"tenant": t, "auto_approve_after_seconds": realm().logins.auto_approve(t)})


@route("GET", "/clients", "clients of the tenant")
def clients() -> Response:
    return json_response([_client_json(c, s) for c, s in realm().clients.all(tenant())])


@route("GET", "/clients/{client_id}", "one client")
def get_client(client_id: str) -> Response:
    for c, s in realm().clients.all(tenant()):
        if c.client_id == client_id:
            return json_response(_client_json(c, s))
    raise ApiError(404, f"unknown client: {client_id}")


def _validated(client_id: str, data: dict[str, Any]) -> Client:
    from pydantic import ValidationError

    if data.get("grant_types") is None:
        data.pop("grant_types", None)
    try:
        return Client.model_validate({**data, "client_id": client_id})
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'client'}: {e['msg']}" for e in exc.errors()
        )
        raise ApiError(400, f"invalid client: {problems}") from None


@route("PUT", "/clients/{client_id}", "create or replace a client", model=ClientBody)
def put_client(client_id: str) -> Response:
    data: ClientBody = body(ClientBody)
    client = _validated(client_id, data.model_dump())
    realm().clients.put(tenant(), client)
    return json_response(_client_json(client, "control"))


@route("POST", "/clients", "register a client (409 when the id exists in the tenant)", model=Client)
def post_client() -> Response:
    raw = request.get_json(silent=True)
    if not isinstance(raw, dict):
        raise ApiError(400, "a JSON object is expected: {client_id, secret, redirect_uris, ...}")
    if not raw.get("client_id"):
        raise ApiError(400, "invalid client: client_id: required")
    t = tenant()
    client = _validated(str(raw["client_id"]), {k: v for k, v in raw.items() if k != "client_id"})
    if realm().clients.get(t, client.client_id) is not None:
        raise ApiError(409, f"client {client.client_id} exists; PUT /clients/{client.client_id} replaces it")
    realm().clients.put(t, client)
    return json_response(_client_json(client, "control"), 201)


@route("DELETE", "/clients/{client_id}", "delete a client registered through this API")
def delete_client(client_id: str) -> Response:
    if not realm().clients.delete(tenant(), client_id):
        raise ApiError(404, f"no client {client_id} registered through the control API in this tenant")
    return Response(status=204)


@route("GET", "/quirks", "per-persona acr quirks of the tenant")
def quirks() -> Response:
    return json_response(realm().tokens.quirks(tenant()))


@route("PUT", "/quirks/{national_id}", "set a persona's acr quirk", model=Quirk)
def put_quirk(national_id: str) -> Response:
    data: Quirk = body(Quirk)
    if sandbox().population.professional(national_id) is None:
        raise ApiError(404, f"unknown professional: {national_id}")
    try:
        realm().tokens.set_quirk(tenant(), national_id, data.acr)
    except ValueError as exc:
        raise ApiError(400, str(exc)) from None
    return json_response({"national_id": national_id, "acr": data.acr})
