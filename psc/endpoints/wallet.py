"""What the wallet's endpoints share: a page in the wallet's style, the login page with its
personas described in French, and the end of a successful login (the code delivered to the
client with `state`, `session_state`, `iss`, in Keycloak's order, and the SSO cookie)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Response, request

from mocks.population import nomenclatures
from psc import login_pages, wire
from psc.protocol import trust_redirect

if TYPE_CHECKING:
    from mocks.kernel import Exchange
    from psc.realm import Realm
    from psc.sessions import Session

SESSION_COOKIE = "PSC_WALLET_SESSION"


def page(
    title: str, body: str, status: int = 200, error: str = "", refresh: int = 0, **values: Any
) -> Response:
    return wire.html_response(login_pages.html(title, body, error=error, refresh=refresh, **values), status)


def full_name(pro: Any) -> str:
    return f"{' '.join(pro.prenoms)} {pro.nom}" if pro else ""


def describe(pro: Any) -> str:
    """A professional as the login list shows them, in French: profession, speciality, and what
    they can log in with (the magic personas' broken cards and missing e-CPS included)."""
    try:
        what = nomenclatures.profession(pro.profession).label
    except KeyError:
        what = f"profession {pro.profession}"
    speciality = nomenclatures.savoir_faire().get(pro.savoir_faire or "", "")
    if speciality:
        what += f", {speciality}"
    card = {"revoked": "carte CPS révoquée", "expired": "carte CPS expirée"}.get(
        pro.certificate_state, "carte CPS" if pro.cps_card else ""
    )
    means = [m for m in ("e-CPS" if pro.ecps else "sans e-CPS", card) if m]
    return f"{what} ; {' et '.join(means)}"


def login_page(
    realm: Realm, rid: str, client_id: str, error: str = "", national_id: str = "", status: int = 200
) -> Response:
    pros = realm.sandbox.population.personas()["professionals"]
    personas = [
        {
            "id_nat": p.id_nat,
            "label": f"{p.civilite_exercice or p.civilite} {' '.join(p.prenoms)} {p.nom} — {p.id_nat} ({describe(p)})",
        }
        for p in pros
    ]
    return page(
        "Identifiez-vous",
        login_pages.LOGIN,
        status,
        error=error,
        client_id=client_id,
        rid=rid,
        personas=personas,
        national_id=national_id,
        action=request.script_root + "/auth/login",
    )


def trust(ex: Exchange, login: dict[str, Any]) -> None:
    """A login request's errors go back to its client (its redirect URI was checked at /auth)."""
    params = login["params"]
    trust_redirect(ex, params["redirect_uri"], params.get("state"), params.get("response_mode") or "query")


def finish(
    realm: Realm, tenant: str, params: dict[str, Any], session: Session, rid: str | None = None
) -> Response:
    """Code issued: back to the client with state, session_state, iss and code (Keycloak's order)."""
    code = realm.sessions.new_code(tenant, params["client_id"], session, params)
    if rid:
        realm.logins.update(rid, status="done", session_id=session.id)
    query = {}
    if params.get("state"):
        query["state"] = params["state"]
    query.update({"session_state": session.id, "iss": realm.issuer(request.script_root), "code": code})
    response = wire.deliver(params["redirect_uri"], query, params.get("response_mode") or "query")
    response.set_cookie(
        SESSION_COOKIE,
        session.id,
        httponly=True,
        secure=True,
        samesite="None",
        path=request.script_root or "/",
    )
    return response
