"""MSSanté's console pages (the console's page contract: mocks.console.contract), at `/mss`:

- `/mss`: the mailboxes holding mail in the tenant (PER, ORG, APP, CAB) with their receipt
  profile, a search of every mailbox of the operator, links to the citizen inboxes and the
  injection form;
- `/mss/bal/<address>`: one mailbox (citizen ones included, shown as "Mon espace santé"): its
  messages with their kind and findings, its receipt profile (auto, manual, never);
- `/mss/messages/<id>`: one message — headers, SMTP envelope, findings, the MIME tree with its
  downloads, the IHE_XDM content (files, METADATA.XML entries, documents and their CDA reports),
  the DSN / MDN / error mails about it, "marquer comme lu" (the manual MDN when asked);
- `/mss/citoyen`: the Mon espace santé inboxes of the tenant (and the test citizen address);
- `/mss/injecter`: inject a message into the LGC's mailbox (the presets of mssante.inject);
- persona panels: a patient's citizen inbox, a professional's mailboxes;
- Accueil's URLs: SMTP submission and IMAP.

Everything goes through the control API (/_sandbox/mss/..., /_sandbox/personas).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, render_template, request
from markupsafe import Markup

from mocks.console import ControlError, NavEntry, PageNotFound, Panel, control, done, page, tenant

blueprint = Blueprint("mss_pages", __name__, template_folder="templates")
NAV = [
    NavEntry("", "MSSanté", "MSSanté"),
    NavEntry("/citoyen", "Mon espace santé", "Citizen inbox"),
]
TYPES = {
    "PER": "personnelle",
    "ORG": "organisationnelle",
    "APP": "applicative",
    "CAB": "cabinet",
    "CIT": "Mon espace santé",
}
KINDS = {
    "xdm": "IHE_XDM",
    "mail": "courriel",
    "mdn": "MDN",
    "error-mail": "courriel d'erreur",
    "dsn": "DSN",
    "inject": "injecté",
    "smtp": "courriel",
}
PROFILES = {
    "auto": "automatique (intègre et répond)",
    "manual": "manuel (MDN à la lecture)",
    "never": "aucun accusé",
}


def lgc_urls(service: dict[str, Any]) -> list[tuple[str, str]]:
    urls = service.get("urls") or {}
    labels = [("mss-smtp", "SMTP soumission (STARTTLS)"), ("mss-smtps", "SMTP soumission (TLS implicite)"),
              ("mss-imap", "IMAP (STARTTLS)"), ("mss-imaps", "IMAP (TLS implicite)")]  # fmt: skip
    return [(label, urls[name]) for name, label in labels if name in urls]


def _get(path: str, **params: Any) -> Any:
    try:
        return control().get("/mss" + path, tenant=tenant(), **params)
    except ControlError as exc:
        if exc.status == 404:
            raise PageNotFound(exc.message, "/mss", "Retour à MSSanté") from None
        raise


@blueprint.get("")
@blueprint.get("/")
def home() -> Response:
    kind, text = request.args.get("type", ""), request.args.get("q", "")
    found = _get("/mailboxes", type=kind, q=text)["mailboxes"][:50] if (kind or text) else []
    return page("mss/home.html", "MSSanté", info=_get("/"), active=_get("/active")["mailboxes"], found=found,
                kind=kind, q=text, types=TYPES)  # fmt: skip


def _summaries(address: str) -> list[dict[str, Any]]:
    rows = _get(f"/mailboxes/{address}/messages")["messages"]
    for r in rows[:100]:
        r["kind_label"] = KINDS.get(r["envelope"].get("kind") or r["origin"], r["origin"])
        checks = r["envelope"].get("checks") or []
        r["errors"] = sum(1 for c in checks if c["severity"] == "error")
        r["warnings"] = sum(1 for c in checks if c["severity"] == "warning")
        r["subject"] = _subject(r["id"])
    return rows[:100]


def _subject(message: int) -> str:
    try:
        return str(control().get(f"/messages/{message}/parts", tenant=tenant())["subject"])
    except ControlError:
        return ""


@blueprint.get("/bal/<address>")
def mailbox(address: str) -> Response:
    box = _get(f"/mailboxes/{address}")
    profile = _get(f"/mailboxes/{address}/profile")
    title = "Mon espace santé" if box["type"] == "CIT" else "Boîte aux lettres"
    return page("mss/mailbox.html", f"{title} {box['address']}", box=box, profile=profile, profiles=PROFILES,
                messages=_summaries(address), types=TYPES)  # fmt: skip


@blueprint.post("/bal/<address>/profil")
def set_profile(address: str) -> Response:
    try:
        control().put(
            f"/mss/mailboxes/{address}/profile",
            {"receipts": request.form.get("receipts", "")},
            tenant=tenant(),
        )
    except ControlError as exc:
        return done(f"/mss/bal/{address}", error=exc.message)
    return done(f"/mss/bal/{address}", ok=f"Accusés : {PROFILES.get(request.form.get('receipts', ''), '')}.")


@blueprint.get("/messages/<int:message_id>")
def message(message_id: int) -> Response:
    row = _get(f"/messages/{message_id}")
    parts = _get(f"/messages/{message_id}/parts")
    content = _get(f"/messages/{message_id}/xdm")
    receipts = _get(f"/messages/{message_id}/receipts")["receipts"]
    raw = control().raw("GET", f"/mss/messages/{message_id}/eml", tenant=tenant()).get_data()
    end = raw.find(b"\r\n\r\n")
    head = raw[: end if end > 0 else 20000].decode("utf-8", "replace")
    bal = request.args.get("bal") or (row["rcpt_to"][0] if row["rcpt_to"] else "")
    return page("mss/message.html", parts["subject"] or f"Message {message_id}", row=row, parts=parts["parts"],
                content=content, receipts=receipts, head=head, bal=bal, kinds=KINDS, t=tenant(),
                findings=content.get("findings") or [])  # fmt: skip


@blueprint.post("/messages/<int:message_id>/lu")
def mark_read(message_id: int) -> Response:
    bal = request.form.get("bal", "")
    target = f"/mss/messages/{message_id}?bal={bal}"
    try:
        result = control().post(f"/mss/mailboxes/{bal}/messages/{message_id}/read", tenant=tenant())
    except ControlError as exc:
        return done(target, error=exc.message)
    extra = (
        f" MDN envoyé (message {result['mdn']})."
        if result.get("mdn")
        else " Aucun MDN (non demandé ou déjà envoyé)."
    )
    return done(target, ok="Message marqué comme lu." + extra)


@blueprint.get("/citoyen")
def citizen() -> Response:
    q = request.args.get("q", "")
    return page("mss/citizen.html", "Mon espace santé", inboxes=_get("/citizen", q=q)["inboxes"], q=q)


@blueprint.get("/injecter")
def inject_form() -> Response:
    options = _get("/inject")
    lgc = [
        m
        for m in _get("/mailboxes", type="APP")["mailboxes"]
        if m["address"].endswith("cds-lilas.mssante.fr")
    ]
    return page(
        "mss/inject.html",
        "Injecter un message",
        options=options,
        default_to=(lgc[0]["address"] if lgc else ""),
    )


@blueprint.post("/injecter")
def inject() -> Response:
    form = request.form
    body: dict[str, Any] = {
        "from_persona": form.get("from_persona", "labo"),
        "to": form.get("to", ""),
        "variant": form.get("variant", "ok"),
        "mdn": form.get("mdn") == "on",
    }
    for key in ("document", "patient", "in_reply_to"):
        if form.get(key):
            body[key] = form[key]
    try:
        result = control().post("/mss/inject", body, tenant=tenant())
    except ControlError as exc:
        return done("/mss/injecter", error=exc.message)
    return done(f"/mss/messages/{result['message']}?bal={result['to'][0]}",
                ok=f"Message injecté de {result['from']} vers {', '.join(result['to'])} : {result['subject']}")  # fmt: skip


def persona_panels(kind: str, persona: dict[str, Any]) -> list[Panel]:
    if kind == "patient":
        address = persona.get("mss_address", "")
        try:
            rows = control().get(f"/mss/mailboxes/{address}/messages", tenant=tenant(), folder="INBOX")[
                "messages"
            ]
        except ControlError:
            return []
        html = render_template("mss/panel_patient.html", address=address, count=len(rows),
                               unread=sum(1 for r in rows if "\\Seen" not in r.get("flags", [])))  # fmt: skip
        return [Panel("Messagerie Mon espace santé", Markup(html), "Citizen inbox", "mss-citoyen")]
    if kind == "professional":
        try:
            boxes = control().get("/mss/mailboxes", tenant=tenant(), q=persona.get("nom", "").lower())[
                "mailboxes"
            ]
        except ControlError:
            return []
        mine = [b for b in boxes if persona.get("id_nat") in b.get("owners", [])]
        if not mine:
            return []
        html = render_template("mss/panel_pro.html", boxes=mine, types=TYPES)
        return [Panel("Messageries MSSanté", Markup(html), "MSSanté mailboxes", "mss-bal")]
    return []
