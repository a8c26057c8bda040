"""Control API of the DMP, mounted by the kernel at `/_sandbox/dmp` (see docs/services/dmp.md).

    GET    /                    the service URLs and the rights matrix rows
    GET    /patients/<ins>      a patient's DMP state in the tenant (derived from the population,
                                then the stored changes)
    PUT    /patients/<ins>      change it: {"dmp": "open|none|closed", "ens": bool,
                                "compte_internet": bool, "opposition_bris_de_glace": bool,
                                "opposition_acces_urgence": bool, "medecin_traitant": "<idNat_PS>",
                                "blocked": ["PS:<idNat>"|"ST:<idNat_Struct>"],
                                "authorizations": {"PS:<idNat>": "VALIDE"|"EXPIRE"},
                                "representative": {"nom", "prenom", "lien"} | null}
    DELETE /patients/<ins>      back to the population

The tenant is `?tenant=`, else the X-Sandbox-Tenant header, else `default`. Errors are
`{"error": "..."}` (400 bad input, 404 unknown tenant).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from flask import Blueprint, Response, current_app, request
from pydantic import BaseModel, ConfigDict, Field

from dmp import flow, rights
from dmp.endpoints import endpoints
from dmp.state import Authorization, Representative, States
from mocks.control.api import ApiError, BlueprintRoutes, Param, body, json_response
from mocks.tenants import DEFAULT, HEADER, UnknownTenant

if TYPE_CHECKING:
    from mocks.kernel import Sandbox

blueprint = Blueprint("dmp", __name__)
PREFIX = "/_sandbox/dmp"
TENANT = Param("tenant", "tenant (default: X-Sandbox-Tenant header, else 'default')")
route = BlueprintRoutes(blueprint, PREFIX, "dmp", [TENANT])
ROUTES = route.routes


class RepresentativeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    nom: str
    prenom: str
    lien: str = "FTH"


class StateBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    dmp: Literal["open", "none", "closed"] | None = None
    ens: bool | None = Field(None, description="RATTACHEMENT_ENS: attached to Mon espace santé")
    compte_internet: bool | None = None
    opposition_bris_de_glace: bool | None = None
    opposition_acces_urgence: bool | None = None
    medecin_traitant: str | None = Field(
        None, description="idNat_PS of the médecin traitant DMP, '' for none"
    )
    blocked: list[str] | None = Field(
        None, description="holders blocked by the patient: PS:<idNat>, ST:<idNat_Struct>"
    )
    authorizations: dict[str, Literal["VALIDE", "EXPIRE"]] | None = None
    telecoms: list[tuple[str, str]] | None = Field(
        None, description="[[use, value]]: ['', 'mailto:…'], ['MC', 'tel:…']"
    )
    adresse: tuple[str, str, str] | None = Field(None, description="[street, postal code, city]")
    representative: RepresentativeBody | None = None
    clear_representative: bool = False


@blueprint.errorhandler(ApiError)
def _api_error(exc: ApiError) -> Response:
    return json_response({"error": exc.message, **exc.extra}, exc.status)


@blueprint.errorhandler(UnknownTenant)
def _unknown_tenant(exc: UnknownTenant) -> Response:
    return json_response({"error": f"unknown tenant: {exc.tenant}", "tenant": exc.tenant}, 404)


def sandbox() -> Sandbox:
    return current_app.extensions["segur_sandbox"]  # type: ignore[no-any-return]


def tenant() -> str:
    name = request.args.get("tenant") or request.headers.get(HEADER) or DEFAULT
    if not sandbox().tenants.exists(name):
        raise UnknownTenant(name)
    return name


def _ins(ins: str) -> str:
    if len(ins) not in (13, 15) or not ins[:13].replace("A", "0").replace("B", "0").isdigit():
        raise ApiError(400, f"not an INS (13 or 15 characters): {ins}")
    return ins


@route("GET", "/", "DMP URLs and the rights matrix rows")
def index() -> Response:
    sb = sandbox()
    return json_response(
        {
            "services": {name: sb.url("dmp", f"{flow.BASE}{name}") for name in sorted(endpoints())},
            "rights_rows": list(rights.ROWS),
        }
    )


@route("GET", "/patients/{ins}", "A patient's DMP state in the tenant")
def get_patient(ins: str) -> Response:
    sb, t = sandbox(), tenant()
    return json_response(States(sb).get(t, _ins(ins), sb.now(t).date()).as_dict())


@route("PUT", "/patients/{ins}", "Change a patient's DMP state in the tenant", model=StateBody)
def put_patient(ins: str) -> Response:
    req: StateBody = body(StateBody)
    sb, t = sandbox(), tenant()
    now = sb.now(t)
    stamp = now.strftime("%Y%m%d%H%M%S")
    change: dict[str, Any] = {
        k: v
        for k, v in req.model_dump(
            exclude={"representative", "clear_representative", "authorizations"}
        ).items()
        if v is not None
    }
    if req.authorizations is not None:
        change["authorizations"] = {h: Authorization(s, stamp, stamp) for h, s in req.authorizations.items()}
    if req.representative is not None:
        change["representative"] = Representative(**req.representative.model_dump())
    if req.clear_representative:
        change["representative"] = None
    for holder in list(req.blocked or []) + list(req.authorizations or {}):
        if not holder.startswith(("PS:", "ST:")):
            raise ApiError(400, f"holder {holder!r}: PS:<idNat_PS> or ST:<idNat_Struct>")
    if change.get("dmp") == "open":
        change["known"] = True
    state = States(sb).update(t, _ins(ins), now, change)
    return json_response(state.as_dict())


@route("DELETE", "/patients/{ins}", "Back to the population's DMP state")
def delete_patient(ins: str) -> Response:
    sb, t = sandbox(), tenant()
    States(sb).reset(t, _ins(ins))
    return json_response(States(sb).get(t, ins, sb.now(t).date()).as_dict())
