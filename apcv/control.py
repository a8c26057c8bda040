"""Control API of ApCV, mounted by the kernel at `/_sandbox/apcv` (see docs/services/apcv.md).

    GET  /                    endpoint, WSDL and settings, the signerVitale public key
    GET  /qr?patient=         a fresh QR code payload, as text (what the LGC puts in Donnees)
    GET  /qr.png, /qr.svg     the same as an image (segno); GET /qr.json: payload, SVG, expiry
    POST /nfc                 {"patient", "ps"?}: the card waits for the next authentifier call
    GET  /nfc                 pending NFC readings
    GET  /contexts            the tenant's contexts (active, expired, destroyed)
    GET  /personas            a card of the world for each case (twins, lunar date...)

`patient` is a patient id (`demo-girard-sophie`) or a matricule INS. The tenant is `?tenant=`,
else the X-Sandbox-Tenant header, else `default`. Errors are `{"error": "..."}`: 400 bad input,
404 unknown patient or tenant, 409 for a patient whose application is not activated.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

import segno
from flask import Blueprint, Response, current_app, request
from pydantic import BaseModel, ConfigDict, Field

from apcv import qr
from apcv.flow import Flow
from mocks.control.api import ApiError, BlueprintRoutes, Param, body, json_response
from mocks.tenants import DEFAULT, HEADER, UnknownTenant

if TYPE_CHECKING:
    from mocks.kernel import Sandbox
    from mocks.population import CarteVitale, Patient

blueprint = Blueprint("apcv", __name__)
PREFIX = "/_sandbox/apcv"
TENANT = Param("tenant", "tenant (default: X-Sandbox-Tenant header, else 'default')")
PATIENT = Param("patient", "patient id or matricule INS", required=True)
route = BlueprintRoutes(blueprint, PREFIX, "apcv", [TENANT])
ROUTES = route.routes


class NfcBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    patient: str = Field(description="patient id or matricule INS")
    ps: str | None = Field(None, description="idNat_PS whose next call takes the card (none: any PS)")


@blueprint.errorhandler(ApiError)
def _api_error(exc: ApiError) -> Response:
    return json_response({"error": exc.message, **exc.extra}, exc.status)


@blueprint.errorhandler(UnknownTenant)
def _unknown_tenant(exc: UnknownTenant) -> Response:
    return json_response({"error": f"unknown tenant: {exc.tenant}", "tenant": exc.tenant}, 404)


def sandbox() -> Sandbox:
    return current_app.extensions["segur_sandbox"]  # type: ignore[no-any-return]


def flow() -> Flow:
    service: Any = sandbox().instances["apcv"]
    return service.flow  # type: ignore[no-any-return]


def tenant() -> str:
    name = request.args.get("tenant") or request.headers.get(HEADER) or DEFAULT
    if not sandbox().tenants.exists(name):
        raise UnknownTenant(name)
    return name


def find_patient(value: str | None) -> tuple[Patient, CarteVitale]:
    if not value:
        raise ApiError(400, "patient is required (patient id or matricule INS)")
    population = sandbox().population
    patient = population.patient(value) or population.by_matricule(value)
    if patient is None:
        raise ApiError(404, f"unknown patient: {value}")
    card = next((c for c in (population.card(n) for n in patient.cards) if c is not None), None)
    if card is None:
        raise ApiError(404, f"{patient.id} has no Carte Vitale")
    return patient, card


def _active(value: str | None) -> tuple[Patient, CarteVitale]:
    patient, card = find_patient(value)
    if not card.apcv:
        raise ApiError(
            409, f"l'application carte Vitale de {patient.id} n'est pas activée", patient=patient.id
        )
    return patient, card


def _payload(value: str | None) -> tuple[str, int]:
    patient, card = _active(value)
    t = tenant()
    now = sandbox().now(t)
    lifetime = int(sandbox().config["apcv_qr_lifetime"])
    return qr.make(flow().keys, t, card.nir_od, patient.id, now, lifetime), lifetime


def _code(payload: str) -> segno.QRCode:
    return segno.make(payload, error="m")


@route("GET", "/", "ApCV endpoint, WSDL, settings and the signerVitale public key")
def index() -> Response:
    sb = sandbox()
    path = str(sb.config["apcv_path"])
    return json_response(
        {
            "endpoint": sb.url("apcv", path),
            "wsdl": sb.url("apcv", path + "?wsdl"),
            "context_lifetime": int(sb.config["apcv_context_lifetime"]),
            "qr_lifetime": int(sb.config["apcv_qr_lifetime"]),
            "nfc_lifetime": int(sb.config["apcv_nfc_lifetime"]),
            "signature_public_key": flow().keys.public_pem(),
        }
    )


@route("GET", "/qr", "a fresh QR code payload, as text", [TENANT, PATIENT])
def qr_text() -> Response:
    payload, _ = _payload(request.args.get("patient"))
    return Response(payload, 200, mimetype="text/plain")


@route(
    "GET",
    "/qr.png",
    "a fresh QR code as PNG",
    [TENANT, PATIENT, Param("scale", "pixels per module (default 8)")],
)
def qr_png() -> Response:
    payload, _ = _payload(request.args.get("patient"))
    try:
        scale = max(1, min(40, int(request.args.get("scale") or 8)))
    except ValueError:
        raise ApiError(400, "scale must be an integer") from None
    out = io.BytesIO()
    _code(payload).save(out, kind="png", scale=scale, border=4)
    return Response(out.getvalue(), 200, mimetype="image/png", headers={"Cache-Control": "no-store"})


@route("GET", "/qr.svg", "a fresh QR code as SVG", [TENANT, PATIENT])
def qr_svg() -> Response:
    payload, _ = _payload(request.args.get("patient"))
    out = io.BytesIO()
    _code(payload).save(out, kind="svg", scale=8, border=4, xmldecl=False)
    return Response(out.getvalue(), 200, mimetype="image/svg+xml", headers={"Cache-Control": "no-store"})


@route("GET", "/qr.json", "a fresh QR code: payload, inline SVG, seconds left", [TENANT, PATIENT])
def qr_json() -> Response:
    payload, lifetime = _payload(request.args.get("patient"))
    out = io.BytesIO()
    _code(payload).save(out, kind="svg", scale=8, border=4, xmldecl=False, svgns=True, omitsize=True)
    return json_response({"payload": payload, "svg": out.getvalue().decode(), "expires_in": lifetime})


@route(
    "POST",
    "/nfc",
    "the patient holds the phone to the reader: the card waits for the next call",
    model=NfcBody,
)
def nfc_push() -> Response:
    data: NfcBody = body(NfcBody)
    patient, card = _active(data.patient)
    if card.opposed:
        raise ApiError(409, f"la carte Vitale de {patient.id} est en opposition", patient=patient.id)
    t = tenant()
    lifetime = int(sandbox().config["apcv_nfc_lifetime"])
    slot = flow().nfc.push(t, patient.id, card.nir_od, (data.ps or "").strip(), sandbox().now(t), lifetime)
    return json_response(
        {"id": slot.id, "patient": patient.id, "ps": slot.ps or None, "expires_in": lifetime}, 201
    )


@route("GET", "/nfc", "pending NFC readings of the tenant")
def nfc_pending() -> Response:
    t = tenant()
    return json_response(flow().nfc.pending(t, sandbox().now(t)))


@route("GET", "/contexts", "the tenant's ApCV contexts")
def contexts() -> Response:
    t = tenant()
    now = sandbox().now(t)
    return json_response([c.as_dict(now) for c in flow().contexts.all(t)])


def _cases() -> dict[str, Any]:
    """A card of the world for each case the docs name (named personas first, else generated)."""
    population = sandbox().population
    cards = sorted(population.cards(), key=lambda c: (not population.patient(c.holder_id).persona, c.nir_od))  # type: ignore[union-attr]

    def people(card: CarteVitale) -> list[Any]:
        return [population.patient(b.patient_id) for b in card.beneficiaries]

    tests = {
        "twins": lambda c: c.apcv and any(b.rang == "2" for b in c.beneficiaries),
        "several_beneficiaries": lambda c: c.apcv and len(c.beneficiaries) >= 3,
        "lunar_date": lambda c: c.apcv and any(p and "-00" in p.date_naissance for p in people(c)),
        "missing_century": lambda c: c.apcv and any(b.date_carte for b in c.beneficiaries),
        "expired_rights": lambda c: (
            c.apcv and any(r.end < population_reference() for b in c.beneficiaries for r in b.rights)
        ),
        "app_not_activated": lambda c: not c.apcv,
        "card_opposed": lambda c: c.opposed,
    }
    out: dict[str, Any] = {}
    for case, test in tests.items():
        card = next((c for c in cards if test(c)), None)
        out[case] = (
            None if card is None else {"patient": card.holder_id, "nir_od": card.nir_od, "apcv": card.apcv}
        )
    return out


def population_reference() -> str:
    return str(sandbox().config["reference_date"])


@route("GET", "/personas", "a patient of the world for each ApCV case")
def personas() -> Response:
    return json_response(_cases())
