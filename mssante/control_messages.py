"""Control API of MSSanté, part 2 (mounted with mssante.control's blueprint at `/_sandbox/mss`):

    GET    /messages/<id>/parts                  the MIME tree (index, type, file name, size)
    GET    /messages/<id>/parts/<n>              one part, decoded (an attachment download)
    GET    /messages/<id>/xdm                    the IHE_XDM content: files, METADATA.XML
                                                 entries, documents, findings, CDA reports
    GET    /messages/<id>/receipts               DSN, MDN and error mails about this message
    POST   /mailboxes/<address>/messages/<id>/read   mark read (\\Seen); the manual MDN if asked
    GET    /mailboxes/<address>/profile          the mailbox's receipt profile (auto, manual, never)
    PUT    /mailboxes/<address>/profile          {"receipts": "auto" | "manual" | "never"}
    GET    /active                               mailboxes holding mail in the tenant (counts)
    GET    /citizen                              citizen inboxes (Mon espace santé) with mail
    GET    /inject                               the injection presets, documents and variants
    POST   /inject                               inject a message into the LGC's mailbox (201)

Same conventions as mssante.control: `?tenant=`, errors `{"error": ...}` with 400 / 404.
"""

from __future__ import annotations

import json
from email.message import Message
from typing import Any

from flask import Response, request

from mocks.control.api import ApiError, Param, json_response
from mssante import integration, metadata, wire, xdm
from mssante.control import PREFIX, TENANT, _mailbox, _message, mss, number, route, sandbox, tenant
from mssante.inject import PRESETS, InjectError, inject
from mssante.samples import KINDS, VARIANTS
from mssante.submission import clean, header, walk

MAX_PARTS = 200


def _id(message_id: str) -> int:
    return number(message_id)


def _parts(msg: Message) -> list[tuple[str, Message]]:
    """(path, part) depth first: "1", "1.2" ... like IMAP section numbers (the root is "0")."""
    out: list[tuple[str, Message]] = [("0", msg)]

    def visit(part: Message, path: str) -> None:
        payload = part.get_payload()
        if not part.is_multipart() or part.get_content_type().startswith("message/disposition"):
            return
        for i, child in enumerate(payload if isinstance(payload, list) else [], start=1):
            if len(out) >= MAX_PARTS:
                return
            sub = f"{path}.{i}" if path != "0" else str(i)
            out.append((sub, child))
            visit(child, sub)

    visit(msg, "0")
    return out


def _size(part: Message) -> int:
    if part.is_multipart():
        return 0
    try:
        data = part.get_payload(decode=True)
    except Exception:  # noqa: BLE001
        return 0
    return len(data) if isinstance(data, bytes) else 0


@route("GET", "/messages/{message_id}/parts", "The MIME tree of a stored message")
def message_parts(message_id: str) -> Response:
    mid = _id(message_id)
    row = _message(mid)
    msg = wire.parse(mss().mails.raw(mid))
    parts = [
        {
            "path": path,
            "depth": path.count(".") + (0 if path == "0" else 1),
            "content_type": part.get_content_type(),
            "filename": clean(part.get_filename() or ""),
            "disposition": clean(part.get("Content-Disposition") or "").split(";")[0],
            "size": _size(part),
            "download": f"{PREFIX}/messages/{mid}/parts/{path}?tenant={row['tenant']}",
        }
        for path, part in _parts(msg)
    ]
    return json_response({"message": mid, "subject": header(msg, "Subject"), "parts": parts})


@route("GET", "/messages/{message_id}/parts/{path}", "One MIME part, decoded (an attachment)")
def message_part(message_id: str, path: str) -> Response:
    mid = _id(message_id)
    _message(mid)
    msg = wire.parse(mss().mails.raw(mid))
    found = dict(_parts(msg)).get(path)
    if found is None or found.is_multipart():
        raise ApiError(404, f"no leaf part {path} in message {mid}")
    payload = found.get_payload(decode=True)
    data = payload if isinstance(payload, bytes) else found.as_bytes()
    name = clean(found.get_filename() or f"part-{path}").replace('"', "")
    return Response(data, 200, mimetype=found.get_content_type(),
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})  # fmt: skip


def _xdm(raw: bytes) -> dict[str, Any]:
    att = walk(wire.parse(raw))
    if att.zip is None:
        return {"present": False}
    archive = xdm.read(att.zip)
    out: dict[str, Any] = {
        "present": True,
        "size": len(att.zip),
        "files": [{"name": n, "size": len(archive.files.get(n, b""))} for n in archive.names],
        "problems": [p.__dict__ for p in archive.problems],
        "entries": [],
        "pdfs": [{"name": n, "size": len(p)} for n, p in att.pdfs],
    }
    for folder in archive.subsets():
        data = archive.file(folder + "METADATA.XML")
        if data is None:
            continue
        try:
            meta = metadata.parse(data)
        except metadata.MetadataError as exc:
            out["metadata_error"] = str(exc)
            continue
        for e in meta.entries:
            out["entries"].append(
                {
                    "id": e.id,
                    "uri": folder + e.uri,
                    "uniqueId": e.unique_id,
                    "patientId": e.patient_id,
                    "typeCode": (e.code("typeCode") or metadata.Coded("")).__dict__,
                    "title": e.title,
                    "confidentiality": e.confidentiality,
                    "hash": e.slot("hash"),
                    "size": e.slot("size"),
                    "creationTime": e.slot("creationTime"),
                    "author": [v for a in e.authors for v in a.get("authorPerson", [])],
                }  # fmt: skip
            )
    return out


@route("GET", "/messages/{message_id}/xdm", "The IHE_XDM content of a message, its documents and findings")
def message_xdm(message_id: str) -> Response:
    mid = _id(message_id)
    row = _message(mid)
    env = row.get("envelope") or {}
    content = _xdm(mss().mails.raw(mid))
    reports = [d.get("cda_report") for d in env.get("documents", []) if d.get("cda_report")]
    return json_response({
        "message": mid, "kind": env.get("kind", row.get("origin")), **content,
        "documents": env.get("documents", []), "findings": env.get("checks", []),
        "cda_reports": [f"/_sandbox/cda/reports/{r}" for r in reports], "trace_id": env.get("trace_id", ""),
    })  # fmt: skip


def receipts_of(t: str, mid: int) -> list[dict[str, Any]]:
    rows = sandbox().store.query(
        "SELECT id, message_id, mail_from, rcpt_to, origin, envelope, received_at FROM mss_messages "
        "WHERE tenant = ? AND origin IN ('dsn', 'mdn', 'error-mail') AND id > ? ORDER BY id",
        (t, mid),
    )
    out = []
    for r in rows:
        env = json.loads(r["envelope"] or "{}")
        if env.get("receipt_for") == mid:
            out.append({"id": r["id"], "kind": r["origin"], "from": r["mail_from"], "to": json.loads(r["rcpt_to"]),
                        "detail": env.get("detail", ""), "at": r["received_at"],
                        "eml": f"{PREFIX}/messages/{r['id']}/eml?tenant={t}"})  # fmt: skip
    return out


@route("GET", "/messages/{message_id}/receipts", "DSN, MDN and error mails about a message")
def message_receipts(message_id: str) -> Response:
    mid = _id(message_id)
    _message(mid)
    return json_response({"message": mid, "receipts": receipts_of(tenant(), mid)})


@route(
    "POST", "/mailboxes/{address}/messages/{message_id}/read", "Mark a message read (\\Seen); MDN when asked"
)
def mark_read(address: str, message_id: str) -> Response:
    t, mid = tenant(), _id(message_id)
    _mailbox(address)
    mbx = mss().directory().get(address)
    assert mbx is not None
    service = mss()
    item = sandbox().store.one(
        "SELECT i.folder, i.uid, i.flags FROM mss_items i JOIN mss_folders f ON f.id = i.folder "
        "WHERE f.tenant = ? AND f.mailbox = ? AND i.message = ? AND i.expunged = 0 ORDER BY i.uid LIMIT 1",
        (t, mbx.address, mid),
    )
    if item is None:
        raise ApiError(404, f"message {mid} is not in {address}")
    flags = {f for f in str(item["flags"]).split(" ") if f}
    receipt = None
    if "$MDNSent" not in flags:
        receipt = service.receipts.displayed(t, mid, mbx)
    flags |= {"\\Seen"} | ({"$MDNSent"} if receipt is not None else set())
    service.mails.set_flags(item["folder"], item["uid"], flags)
    return json_response({"message": mid, "mailbox": mbx.address, "flags": sorted(flags), "mdn": receipt})


@route("GET", "/mailboxes/{address}/profile", "The receipt profile of a mailbox (auto, manual, never)")
def get_profile(address: str) -> Response:
    t = tenant()
    _mailbox(address)
    mbx = mss().directory().get(address)
    assert mbx is not None
    return json_response({"mailbox": mbx.address, "receipts": integration.profile(mss(), t, mbx),
                          "default": integration.default_profile(mbx)})  # fmt: skip


@route("PUT", "/mailboxes/{address}/profile", 'Set the receipt profile: {"receipts": "auto|manual|never"}')
def put_profile(address: str) -> Response:
    t = tenant()
    _mailbox(address)
    mbx = mss().directory().get(address)
    assert mbx is not None
    data = request.get_json(silent=True)
    value = data.get("receipts") if isinstance(data, dict) else None
    if value not in integration.PROFILES:
        raise ApiError(400, "receipts: auto, manual or never")
    integration.set_profile(mss(), t, mbx, str(value))
    return json_response({"mailbox": mbx.address, "receipts": value})


def _counts(t: str, citizen: bool) -> dict[str, dict[str, Any]]:
    like = "LIKE" if citizen else "NOT LIKE"
    rows = sandbox().store.query(
        "SELECT f.mailbox, COUNT(*) AS messages, SUM(CASE WHEN i.flags LIKE '%\\Seen%' THEN 0 ELSE 1 END) AS unread, "
        "MAX(i.message) AS last FROM mss_items i JOIN mss_folders f ON f.id = i.folder WHERE f.tenant = ? "
        f"AND f.mailbox {like} '%@patient.mssante.fr' AND f.name = 'INBOX' AND i.expunged = 0 GROUP BY f.mailbox",
        (t,),
    )
    return {r["mailbox"]: r for r in rows}


@route("GET", "/active", "Mailboxes of the operator holding mail in the tenant (INBOX counts), latest first")
def active() -> Response:
    t = tenant()
    directory = mss().directory()
    out = []
    for address, row in sorted(_counts(t, False).items(), key=lambda kv: -int(kv[1]["last"] or 0)):
        mbx = directory.get(address)
        if mbx is not None:
            out.append({**mbx.as_dict(), "messages": int(row["messages"]), "unread": int(row["unread"] or 0),
                        "receipts": integration.profile(mss(), t, mbx)})  # fmt: skip
    return json_response({"count": len(out), "mailboxes": out})


@route("GET", "/citizen", "Citizen inboxes (Mon espace santé) holding mail in the tenant",
       [TENANT, Param("q", "part of an INS or a name")])  # fmt: skip
def citizen() -> Response:
    t = tenant()
    directory = mss().directory()
    text = (request.args.get("q") or "").lower()
    counts = _counts(t, True)
    boxes = sorted({directory.test_citizen, *counts})
    out = []
    for address in boxes:
        mbx = directory.get(address)
        if mbx is None:
            continue
        entry = {"address": address, "display": mbx.display, "patient": mbx.patient,
                 "test": address == directory.test_citizen,
                 "messages": int(counts.get(address, {}).get("messages") or 0),
                 "unread": int(counts.get(address, {}).get("unread") or 0)}  # fmt: skip
        if not text or text in address or text in mbx.display.lower():
            out.append(entry)
    return json_response({"count": len(out), "inboxes": out})


@route("GET", "/inject", "Injection presets, document templates and variants")
def inject_options() -> Response:
    return json_response({
        "presets": {k: {"from": p.sender, "document": p.document, "label": p.label} for k, p in PRESETS.items()},
        "documents": KINDS, "variants": VARIANTS,
    })  # fmt: skip


@route(
    "POST",
    "/inject",
    "Inject a message into a sandbox mailbox (the LGC's): a hospital, a lab, a colleague or a patient writes",
)
def inject_message() -> Response:
    t = tenant()
    data = request.get_json(silent=True)
    try:
        result = inject(mss(), t, data if isinstance(data, dict) else {})
    except InjectError as exc:
        raise ApiError(400, str(exc)) from None
    return json_response(result, 201)
