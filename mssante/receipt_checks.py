"""Findings on the receipts an LGC sends — its MDN (RFC 8098) and its "standard" error mail — for
a message it received (an injected one, mssante.inject), as the ANS guide "Transmission au LPS
de documents CDA provenant d'un courriel MSSanté" shapes them (specs/mssante/ig-messages/:
struct-msg-mdn.md, struct-email-standard.md, error-codes.md; research mssante.md §2.3, §3.2):

- an MDN is `multipart/report; report-type=disposition-notification`: a human-readable part, a
  `message/disposition-notification` part with `Final-Recipient` and `Disposition` (RFC 8098)
  plus `Original-Message-ID` and `Original-Recipient` (the volet), then the original message;
  the IHE_XDM.zip and the PDF re-attached;
- `Disposition: <automatic-action|manual-action>/<MDN-sent-automatically|MDN-sent-manually>;
  <displayed|deleted|dispatched|processed>[/Error: <code>^<libellé>...]`, the code one of HL7
  0357 (0–207) or the volet's 900–906;
- its subject: the original's `XDM/1.0/DDM+…` on success, `[KO Intégration système !][<code>]
  XDM/1.0/DDM+…` on error (the code of the Disposition);
- `Original-Message-ID` names a message the sending mailbox received, and the MDN goes to that
  message's Disposition-Notification-To;
- the error mail (no MDN asked for): subject `[KO Intégration système !][<code>] …`,
  multipart/mixed with a text part, the original as `message/rfc822`, the ZIP and the PDF.
"""

from __future__ import annotations

import re
from email.message import Message
from typing import Any

from mocks.findings import Findings, Rule
from mssante.content import KO_SUBJECT
from mssante.submission import Submission, addresses, children, clean, header

GUIDE = "ANS, Transmission au LPS de documents CDA provenant d'un courriel MSSanté"
RULES = [
    Rule("MSS-MDN-STRUCTURE", "error", "MDN multipart/report (disposition-notification) en trois parties : texte, message/disposition-notification, message d'origine", f"RFC 8098 §3 ; {GUIDE}, structure du MDN"),
    Rule("MSS-MDN-FIELDS", "error", "Champs Final-Recipient et Disposition, et Original-Message-ID, Original-Recipient", f"RFC 8098 §3.2 ; {GUIDE}, structure du MDN"),
    Rule("MSS-MDN-DISPOSITION", "error", "Disposition: mode d'action/mode d'envoi; type[/Error: code^libellé]", f"RFC 8098 §3.2.6 ; {GUIDE}"),
    Rule("MSS-MDN-SUBJECT", "error", "Objet du MDN : XDM/1.0/DDM+… (succès) ou [KO Intégration système !][code] XDM/1.0/DDM+… (erreur)", f"{GUIDE}, structure du MDN"),
    Rule("MSS-MDN-ORIGINAL", "warning", "Le MDN répond à un message reçu par la BAL et va à son Disposition-Notification-To", "RFC 8098 §2.1, §3.2.5"),
    Rule("MSS-MDN-ATTACHMENTS", "warning", "IHE_XDM.zip et PDF d'origine joints au MDN ou au courriel d'erreur", f"{GUIDE}, structure du MDN et du courriel standard"),
    Rule("MSS-ERRMAIL-STRUCTURE", "error", "Courriel d'erreur multipart/mixed : texte, message d'origine (message/rfc822), pièces jointes", f"{GUIDE}, courriel standard"),
    Rule("MSS-ERROR-CODE", "error", "Code d'erreur de la table HL7 0357 (0 à 207) ou du volet (900 à 906)", f"{GUIDE}, codes d'erreur"),
]  # fmt: skip
CODES = {0, 100, 101, 102, 103, 198, 199, 200, 201, 202, 203, 207, *range(900, 907)}
DISPOSITION = re.compile(
    r"^\s*(?P<action>manual-action|automatic-action)\s*/\s*(?P<sending>MDN-sent-manually|MDN-sent-automatically)\s*;"
    r"\s*(?P<type>displayed|deleted|dispatched|processed)\s*(?:/\s*(?P<modifier>error|Error:\s*(?P<code>\d{1,3})\^\S.*))?\s*$",
    re.IGNORECASE | re.DOTALL,
)


def kind_of(sub: Submission) -> str:
    msg = sub.message
    if (
        msg.get_content_type() == "multipart/report"
        and (msg.get_param("report-type") or "") == "disposition-notification"
    ):
        return "mdn"
    if KO_SUBJECT.match(header(msg, "Subject")):
        return "error-mail"
    return sub.kind


def fields_of(report: Message) -> tuple[dict[str, str], list[Message]]:
    """The fields of the message/disposition-notification part (RFC 8098 §3.1), and the parts."""
    parts = children(report)
    for part in parts:
        if part.get_content_type() == "message/disposition-notification":
            out: dict[str, str] = {}
            for block in children(part):
                for key, value in block.items():
                    out.setdefault(key.lower(), clean(value).strip())
            return out, parts
    return {}, parts


def check_receipt(sub: Submission, findings: Findings) -> None:
    sub.kind = kind_of(sub)
    if sub.kind == "mdn":
        _mdn(sub, findings)
    elif sub.kind == "error-mail":
        _error_mail(sub, findings)


def _original(sub: Submission, message_id: str) -> dict[str, Any] | None:
    ctx = sub.context
    if ctx is None or not message_id:
        return None
    rows = ctx.sandbox.store.query(
        "SELECT m.id, m.mail_from, m.raw FROM mss_messages m JOIN mss_items i ON i.message = m.id "
        "JOIN mss_folders f ON f.id = i.folder WHERE m.tenant = ? AND m.message_id = ? AND f.mailbox = ? LIMIT 1",
        (ctx.tenant, message_id, sub.mail_from.lower()),
    )
    return rows[0] if rows else None


def _attached(sub: Submission, findings: Findings, original: dict[str, Any] | None) -> None:
    if original is None:
        return
    from mssante import wire

    had = wire.parse(bytes(original["raw"]))
    from mssante.submission import walk

    then = walk(had)
    now = sub.attachments
    missing = []
    if then.zip is not None and now.zip is None:
        missing.append("IHE_XDM.zip")
    if then.pdf_parts and not now.pdf_parts:
        missing.append("le PDF")
    if missing:
        findings.add(
            "MSS-MDN-ATTACHMENTS",
            "warning",
            f"{' et '.join(missing)} du message d'origine non joint(s).",
            location="attachments",
        )


def _mdn(sub: Submission, findings: Findings) -> None:
    fields, parts = fields_of(sub.message)
    kinds = [p.get_content_type() for p in parts]
    if len(parts) < 2 or not kinds[0].startswith("text/") or kinds[1] != "message/disposition-notification":
        findings.add("MSS-MDN-STRUCTURE", "error",
                     f"parties {', '.join(kinds) or '(aucune)'} : texte puis message/disposition-notification attendus.", location="Content-Type")  # fmt: skip
    elif len(parts) < 3 or kinds[2] not in ("message/rfc822", "text/rfc822-headers"):
        findings.add(
            "MSS-MDN-STRUCTURE",
            "error",
            "troisième partie (le message d'origine, message/rfc822) absente.",
            location="Content-Type",
        )
    for name in ("final-recipient", "disposition", "original-message-id", "original-recipient"):
        if not fields.get(name):
            title = "-".join(w.capitalize() for w in name.split("-")).replace("Id", "ID")
            findings.add(
                "MSS-MDN-FIELDS",
                "error",
                f"champ {title} absent de la notification.",
                location="message/disposition-notification",
            )
    disposition = fields.get("disposition", "")
    code = ""
    if disposition:
        match = DISPOSITION.match(disposition)
        if not match:
            findings.add(
                "MSS-MDN-DISPOSITION",
                "error",
                f"Disposition {disposition!r} : syntaxe RFC 8098 / volet attendue.",
                location="Disposition",
            )
        else:
            code = match["code"] or ""
            if code and int(code) not in CODES:
                findings.add(
                    "MSS-ERROR-CODE",
                    "error",
                    f"code d'erreur {code} hors des tables (0357 ou 900–906).",
                    location="Disposition",
                )
    subject = header(sub.message, "Subject")
    ko = KO_SUBJECT.match(subject)
    if code:
        if not ko or ko["code"] != code:
            findings.add(
                "MSS-MDN-SUBJECT",
                "error",
                f"MDN en erreur {code} : objet « [KO Intégration système !][{code}] XDM/1.0/DDM+… » attendu.",
                location="Subject",
            )
    elif ko or not subject.startswith("XDM/1.0/DDM+"):
        findings.add(
            "MSS-MDN-SUBJECT",
            "error",
            "MDN de succès : objet « XDM/1.0/DDM+<libellé> <NOM> <prénom> <JJ/MM/AAAA> » attendu.",
            location="Subject",
        )
    original = _original(sub, fields.get("original-message-id", ""))
    if fields.get("original-message-id") and sub.context is not None:
        if original is None:
            findings.add("MSS-MDN-ORIGINAL", "warning",
                         f"Original-Message-ID {fields['original-message-id']} : aucun message reçu par {sub.mail_from} sous cet identifiant.",
                         location="Original-Message-ID")  # fmt: skip
        else:
            from mssante import wire

            dnt = addresses(wire.parse(bytes(original["raw"])), "Disposition-Notification-To")
            if dnt and not set(dnt) & {r.lower() for r in sub.recipients}:
                findings.add(
                    "MSS-MDN-ORIGINAL",
                    "warning",
                    f"MDN non adressé au Disposition-Notification-To du message d'origine ({', '.join(dnt)}).",
                    location="RCPT TO",
                )
    _attached(sub, findings, original)


def _error_mail(sub: Submission, findings: Findings) -> None:
    msg = sub.message
    ko = KO_SUBJECT.match(header(msg, "Subject"))
    assert ko is not None
    if int(ko["code"]) not in CODES:
        findings.add(
            "MSS-ERROR-CODE",
            "error",
            f"code d'erreur {ko['code']} hors des tables (0357 ou 900–906).",
            location="Subject",
        )
    att = sub.attachments
    if msg.get_content_type() != "multipart/mixed" or att.rfc822 is None or att.body is None:
        findings.add("MSS-ERRMAIL-STRUCTURE", "error",
                     f"{msg.get_content_type()} : multipart/mixed avec un texte et le message d'origine en message/rfc822 attendu.",
                     location="Content-Type")  # fmt: skip
    if att.rfc822 is not None:
        original = _original(sub, header(att.rfc822, "Message-ID"))
        _attached(sub, findings, original)
