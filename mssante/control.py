"""Control API of MSSanté, mounted by the kernel at `/_sandbox/mss` (see docs/services/mssante.md).

    GET    /                                     listeners, liste blanche, settings in force
    GET    /mailboxes?type=&q=                   the operator's mailboxes (PER, ORG, APP, CAB)
    GET    /mailboxes/<address>                  one mailbox (citizen addresses included)
    GET    /mailboxes/<address>/messages         messages of the tenant in it (?folder=INBOX)
    GET    /messages/<id>                        one stored message: envelope and folders
    GET    /messages/<id>/eml                    its raw bytes (message/rfc822 download)
    GET    /outbound                             mail held for other operators' domains
    POST   /reset                                forget the tenant's MSSanté state

The tenant is `?tenant=`, else the X-Sandbox-Tenant header, else `default`. Errors are
`{"error": "..."}`: 404 for unknown mailboxes and messages.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Blueprint, Response, current_app, request

from mocks.control.api import ApiError, BlueprintRoutes, Param, json_response
from mocks.tenants import DEFAULT, HEADER, UnknownTenant

if TYPE_CHECKING:
    from mocks.kernel import Sandbox
    from mssante.service import Mss

blueprint = Blueprint("mss", __name__)
PREFIX = "/_sandbox/mss"
TENANT = Param("tenant", "tenant (default: X-Sandbox-Tenant header, else 'default')")
route = BlueprintRoutes(blueprint, PREFIX, "mss", [TENANT])
ROUTES = route.routes


@blueprint.errorhandler(ApiError)
def _api_error(exc: ApiError) -> Response:
    return json_response({"error": exc.message, **exc.extra}, exc.status)


@blueprint.errorhandler(UnknownTenant)
def _unknown_tenant(exc: UnknownTenant) -> Response:
    return json_response({"error": f"unknown tenant: {exc.tenant}", "tenant": exc.tenant}, 404)


def sandbox() -> Sandbox:
    return current_app.extensions["segur_sandbox"]  # type: ignore[no-any-return]


def mss() -> Mss:
    return sandbox().instances["mss"]  # type: ignore[return-value]


def tenant() -> str:
    name = request.args.get("tenant") or request.headers.get(HEADER) or DEFAULT
    if not sandbox().tenants.exists(name):
        raise UnknownTenant(name)
    return name


@route("GET", "/", "MSSanté: listeners, liste blanche, limits")
def index() -> Response:
    sb, service = sandbox(), mss()
    directory = service.directory()
    urls = {name: sb.url(name) for name in sb.listener_specs if name.startswith("mss")}
    return json_response(
        {
            "tenant": tenant(),
            "urls": urls,
            "liste_blanche": sorted(directory.domains),
            "outbound_domains": sorted(service.outbound()),
            "citizen_test_address": directory.test_citizen,
            "mailboxes": len(directory.by_address),
            "max_message_size": sb.config["mss_max_message_size"],
            "password_auth": sb.config["mss_password_auth"],
        }
    )


@route(
    "GET",
    "/mailboxes",
    "The operator's mailboxes (PER, ORG, APP, CAB; citizen ones by address)",
    [TENANT, Param("type", "PER, ORG, APP or CAB"), Param("q", "part of an address or name")],
)
def mailboxes() -> Response:
    tenant()
    kind = (request.args.get("type") or "").upper()
    text = (request.args.get("q") or "").lower()
    found = [
        m.as_dict()
        for m in mss().directory().all()
        if (not kind or m.type == kind) and (not text or text in m.address or text in m.display.lower())
    ]
    return json_response({"count": len(found), "mailboxes": found})


def _mailbox(address: str) -> dict[str, Any]:
    found = mss().directory().get(address)
    if found is None:
        raise ApiError(404, f"unknown mailbox: {address}")
    return found.as_dict()


@route("GET", "/mailboxes/{address}", "One mailbox")
def mailbox(address: str) -> Response:
    t = tenant()
    data = _mailbox(address)
    folders = [
        {"name": f.name, "special_use": f.special_use, "uidvalidity": f.uidvalidity, "next_uid": f.next_uid}
        for f in mss().mails.folders(t, address)
    ]
    return json_response({**data, "folders": folders})


@route(
    "GET",
    "/mailboxes/{address}/messages",
    "Messages in a mailbox of the tenant, newest first",
    [TENANT, Param("folder", "one folder (INBOX, Sent...)")],
)
def mailbox_messages(address: str) -> Response:
    t = tenant()
    _mailbox(address)
    rows = mss().mails.messages_of(t, address, request.args.get("folder") or None)
    for r in rows:
        r["eml"] = f"{PREFIX}/messages/{r['id']}/eml?tenant={t}"
    return json_response({"count": len(rows), "messages": rows})


def number(message_id: str) -> int:
    """A message id of a path: ASCII digits that fit SQLite's INTEGER, else a 404."""
    if not (message_id.isascii() and message_id.isdigit() and len(message_id) <= 18):
        raise ApiError(404, f"unknown message: {message_id}")
    return int(message_id)


def _message(message_id: int) -> dict[str, Any]:
    found = mss().mails.message(tenant(), message_id)
    if found is None:
        raise ApiError(404, f"unknown message: {message_id}")
    return found


@route("GET", "/messages/{message_id}", "One stored message: envelope, size, origin")
def message(message_id: str) -> Response:
    return json_response(_message(number(message_id)))


@route("GET", "/messages/{message_id}/eml", "The raw message (message/rfc822)")
def message_eml(message_id: str) -> Response:
    _message(number(message_id))
    raw = mss().mails.raw(number(message_id))
    return Response(
        raw,
        200,
        mimetype="message/rfc822",
        headers={"Content-Disposition": f'attachment; filename="message-{message_id}.eml"'},
    )


@route("GET", "/outbound", "Mail accepted for other operators' liste-blanche domains")
def outbound() -> Response:
    rows = mss().mails.outbound(tenant())
    return json_response({"count": len(rows), "outbound": rows})


@route("POST", "/reset", "Forget the tenant's MSSanté state (messages, folders, outbound)")
def reset() -> Response:
    t = tenant()
    deleted = sandbox().tenants.reset(t, "mss")
    return json_response({"tenant": t, "deleted": deleted})


# part 2's routes (messages, receipts, profiles, citizen inboxes, injection) on this blueprint
from mssante import control_messages  # noqa: E402,F401
