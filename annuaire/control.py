"""Control API of the Annuaire, mounted by the kernel at `/_sandbox/annuaire` (see docs/services/annuaire.md).

    GET    /                        URLs, world size, the tenant's keys and options
    GET    /keys                    the tenant's API keys
    POST   /keys                    create one {"label": "...", "key": optional fixed value} -> 201
    DELETE /keys/<key>              revoke it (401 afterwards)
    GET    /options                 the tenant's gateway preset, rate limit, inconsistency fault
    PUT    /options                 {"gateway": "none|down|invalid-url|timeout|large-count",
                                     "rate_limit": N | 0 | null, "inconsistency": true|false}
    GET    /resources/<national id> the FHIR ids (v2 and v1) of a professional or structure
    GET    /fhir/<v2|v1>/<type>?…   the FHIR API's answer to a search (or `_page?id=`, v2) as an
    GET    /fhir/<v2|v1>/<type>/<id>  LGC of the tenant gets it — same status, bytes, links and
                                    OperationOutcomes, the tenant's inconsistency fault applied —
                                    without API key, rate limit, gateway preset, fault rules or
                                    journal entry: what the console's Annuaire page shows

The tenant is `?tenant=`, else the X-Sandbox-Tenant header, else `default`. Errors are
`{"error": "..."}`: 400 for bad input, 404 for an unknown key, tenant or persona, 409 for a key
that exists.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Response, current_app, request
from pydantic import BaseModel, ConfigDict, Field

from annuaire.directory import directory_for
from annuaire.errors import PRESETS
from annuaire.flow import Call
from mocks.control.api import ApiError, BlueprintRoutes, Param, body, json_response
from mocks.errors import ServiceError
from mocks.harness import Refused, Reply
from mocks.kernel import Exchange
from mocks.tenants import DEFAULT, HEADER, UnknownTenant

if TYPE_CHECKING:
    from annuaire.service import Annuaire
    from mocks.kernel import Sandbox

blueprint = Blueprint("annuaire", __name__)
PREFIX = "/_sandbox/annuaire"
TAG = "annuaire"
TENANT = Param("tenant", "tenant (default: X-Sandbox-Tenant header, else 'default')")

route = BlueprintRoutes(blueprint, PREFIX, TAG, [TENANT])
ROUTES = route.routes


class NewKey(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: str = Field("", description="what the key is for (shown in the journal as the caller)")
    key: str | None = Field(
        None, min_length=8, max_length=128, description="a fixed value (default: a random UUID)"
    )


class OptionsBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    gateway: str | None = Field(None, description=" | ".join(PRESETS))
    rate_limit: int | None = Field(None, ge=0, description="calls per second per key, 0: none")
    inconsistency: bool | None = Field(
        None, description="hide ~2 % of the mailboxes from FHIR (still in the extraction)"
    )
    reset_rate_limit: bool = Field(False, description="true: back to the annuaire_rate_limit setting")


@blueprint.errorhandler(ApiError)
def _api_error(exc: ApiError) -> Response:
    return json_response({"error": exc.message, **exc.extra}, exc.status)


@blueprint.errorhandler(UnknownTenant)
def _unknown_tenant(exc: UnknownTenant) -> Response:
    return json_response({"error": f"unknown tenant: {exc.tenant}", "tenant": exc.tenant}, 404)


def sandbox() -> Sandbox:
    return current_app.extensions["segur_sandbox"]  # type: ignore[no-any-return]


def service() -> Annuaire:
    return sandbox().instances["annuaire"]  # type: ignore[return-value]


def tenant() -> str:
    name = request.args.get("tenant") or request.headers.get(HEADER) or DEFAULT
    if not sandbox().tenants.exists(name):
        raise UnknownTenant(name)
    return name


@route("GET", "/", "Annuaire URLs, world size, the tenant's keys and options")
def index() -> Response:
    sb, t = sandbox(), tenant()
    svc = service()
    data: dict[str, Any] = {
        "fhir": sb.url("annuaire", "/fhir/v2"),
        "fhir_v1": sb.url("annuaire", "/fhir/v1"),
        "extraction": sb.url(
            "annuaire",
            "/annuaire-sante-webservices/V300/services/extraction/Extraction_Correspondance_MSSante",
        ),
        "listeblanche": sb.url("annuaire", "/listeblanchemssante.xml"),
        "checksum": sb.url("annuaire", "/checksum"),
        "ca_chain": sb.url("annuaire", "/AC/Chaine_de_certification-IGC-Sante.p7b"),
        "header": "ESANTE-API-KEY",
        "keys": len(svc.keys.list(t)),
        "options": svc.options.get(t),
    }
    return json_response(data)


@route("GET", "/keys", "The tenant's API keys")
def keys() -> Response:
    return json_response(service().keys.list(tenant()))


@route("POST", "/keys", "Create an API key in the tenant", model=NewKey)
def create_key() -> Response:
    req: NewKey = body(NewKey)
    t = tenant()
    try:
        created = service().keys.create(t, req.label, req.key)
    except sqlite3.IntegrityError:
        raise ApiError(409, f"key exists: {req.key}") from None
    return json_response(created, 201)


@route("DELETE", "/keys/{key}", "Revoke an API key")
def delete_key(key: str) -> Response:
    if not service().keys.delete(tenant(), key):
        raise ApiError(404, f"unknown key: {key}")
    return json_response({"deleted": key})


@route("GET", "/options", "The tenant's gateway preset, rate limit and inconsistency fault")
def options() -> Response:
    return json_response(service().options.get(tenant()))


@route(
    "PUT",
    "/options",
    "Change the tenant's gateway preset, rate limit or inconsistency fault",
    model=OptionsBody,
)
def put_options() -> Response:
    req: OptionsBody = body(OptionsBody)
    changes = {k: v for k, v in req.model_dump().items() if v is not None and k != "reset_rate_limit"}
    if req.reset_rate_limit:
        changes["rate_limit"] = None
    if "gateway" in changes and changes["gateway"] not in PRESETS:
        raise ApiError(400, f"gateway preset: one of {', '.join(PRESETS)}")
    return json_response(service().options.update(tenant(), changes))


@route(
    "GET",
    "/resources/{national_id}",
    "FHIR ids (v2, v1) of a professional (idNat_PS) or structure (idNat_Struct)",
)
def resources(national_id: str) -> Response:
    tenant()
    directory = directory_for(sandbox())
    found = []
    for kind, index in directory.types.items():
        for rec in index.records:
            if rec.built.persona == national_id:
                found.append(
                    {
                        "type": kind,
                        "id": rec.id,
                        "v1_id": rec.built.v1_id,
                        "active": rec.built.resource.get("active", True),
                    }
                )
    if not found:
        raise ApiError(404, f"no resource for national id {national_id}")
    return json_response(found)


class Preview(Exchange):
    """A FHIR call made for the console: never journaled, fault rules not applied (a trainer
    browsing the directory must not use up a rule meant for the LGC)."""

    def fault(self, persona: str | None = None) -> None:
        return None


@route(
    "GET",
    "/fhir/{version}/{kind}",
    "The FHIR answer to a search as the tenant's LGC gets it (query string: the FHIR search "
    "parameters; v2 `_page?id=` for a next page), without key, rate limit, gateway preset, fault "
    "rules or journal",
)
def fhir_search(version: str, kind: str) -> Response:
    return _preview(version, kind)


@route(
    "GET",
    "/fhir/{version}/{kind}/{rid}",
    "The FHIR answer to a read as the tenant's LGC gets it (404 OperationOutcome if unknown)",
)
def fhir_read(version: str, kind: str, rid: str) -> Response:
    return _preview(version, f"{kind}/{rid}")


def _preview(version: str, rest: str) -> Response:
    if version not in ("v1", "v2"):
        raise ApiError(404, f"unknown FHIR API version: {version} (v2 or v1)")
    t = tenant()
    svc = service()
    raw = request.query_string.decode("latin-1")
    query = "&".join(tok for tok in raw.split("&") if tok and tok.partition("=")[0] != "tenant")
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": f"/fhir/{version}/{rest}",
        "QUERY_STRING": query,
        "SCRIPT_NAME": "",
    }
    ex = Preview(sandbox(), "annuaire", "console preview", t, environ, caller="console", journal=False)
    call = Call(version, sandbox().url("annuaire"), environ, svc.options.get(t))
    try:
        reply = svc.flow.route(ex, call, "/" + rest)
    except ServiceError as err:
        reply = svc.protocol.render(ex, err)
    except Refused as ref:
        reply = svc.protocol.refusal(ex, ref.status, ref.message)
    return _response(reply)


def _response(reply: Reply) -> Response:
    return Response(reply.body, reply.status, reply.header_list())
