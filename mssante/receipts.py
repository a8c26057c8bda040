"""The receipts a sandbox mailbox sends back: the MDN (RFC 8098) and the "standard" error mail,
byte for byte as the ANS guide shows them (specs/mssante/ig-messages/struct-msg-mdn.md and
struct-email-standard.md; research mssante.md §2.3, §3.2).

    raw = mdn(original=..., reporter=..., to=..., disposition=Disposition(...), ...)
    raw = error_mail(original=..., reporter=..., to=..., error=IntegrationError, ...)

MDN:

    Subject: XDM/1.0/DDM+…  or  [KO Intégration système !][902] XDM/1.0/DDM+…
    Content-Type: multipart/report; report-type=disposition-notification; boundary="…"
      text/plain                          "Le document n’a pas pu être intégré.
                                           Le système a retourné l'erreur 902^…"
      message/disposition-notification    Reporting-UA, Original-Recipient: rfc822;…,
                                          Final-Recipient: rfc822; …, Original-Message-ID: <…>,
                                          Disposition: automatic-action/MDN-sent-automatically;
                                          processed[/Error: 902^Identifiant de patient inconnu^
                                          messageErrorCondition| E^Error^errorSeverity]
      message/rfc822                      the original message
      application/zip  IHE_XDM.zip        re-attached (base64), as the guide's example
      application/pdf  <its name>         re-attached (base64)

The guide's example puts the ZIP and the PDF after the third part, inside the report; RFC 6522
speaks of two or three parts: readers that stop after three still find the original message,
which carries both attachments too.

Error mail (no MDN asked for): multipart/mixed — text/plain (code and libellé), the original as
message/rfc822 (`message_original.eml`), the ZIP and the PDF — subject `[KO Intégration
système !][code] …` (the text of the guide; its example shows `[Erreur d’intégration !]`).
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from datetime import datetime
from email.header import Header as MimeHeader
from email.utils import format_datetime

from mssante.submission import Attachments

KO = "[KO Intégration système !]"
SUFFIX = "^messageErrorCondition| E^Error^errorSeverity"  # as the guide's example MDN writes it


@dataclass(frozen=True)
class Disposition:
    action: str = "automatic-action"  # or manual-action
    sending: str = "MDN-sent-automatically"  # or MDN-sent-manually
    type: str = "processed"  # displayed, deleted, dispatched, processed
    code: str = ""  # 900-906 on an integration error
    label: str = ""

    @property
    def field(self) -> str:
        head = f"{self.action}/{self.sending}; {self.type}"
        return head + (f"/Error: {self.error_text}" if self.code else "")

    @property
    def error_text(self) -> str:
        return f"{self.code}^{self.label}{SUFFIX}" if self.code else ""


def _b64(data: bytes) -> str:
    text = base64.b64encode(data).decode()
    return "\r\n".join(text[i : i + 76] for i in range(0, len(text), 76))


def _subject(original_subject: str, code: str) -> str:
    subject = original_subject or "(sans objet)"
    value = f"{KO}[{code}] {subject}" if code else subject
    return value if value.isascii() else MimeHeader(value, "utf-8").encode(maxlinelen=76)


def _attachments(att: Attachments) -> list[str]:
    out = []
    if att.zip is not None:
        name = att.zip_name or "IHE_XDM.zip"
        out.append(
            f'Content-Type: application/zip; name="{name}"\r\nContent-Transfer-Encoding: base64\r\n'
            f'Content-Disposition: attachment; filename="{name}"\r\n\r\n{_b64(att.zip)}'
        )
    for name, pdf in att.pdfs:
        shown = MimeHeader(name, "utf-8").encode() if not name.isascii() else name
        out.append(
            f'Content-Type: application/pdf; name="{shown}"\r\nContent-Transfer-Encoding: base64\r\n'
            f'Content-Disposition: attachment; filename="{shown}"\r\n\r\n{_b64(pdf)}'
        )
    return out


def _head(
    reporter: str, to: str, subject: str, now: datetime, host: str, original_id: str, ctype: str
) -> str:
    lines = [
        f"Date: {format_datetime(now)}",
        f"From: {reporter}",
        f"Message-ID: <{uuid.uuid4().hex}@{host}>",
        f"Subject: {subject}",
        f"To: {to}",
    ]
    if original_id:
        lines += [f"In-Reply-To: {original_id}", f"References: {original_id}"]
    lines += ["Auto-Submitted: auto-replied", "MIME-Version: 1.0", ctype]
    return "\r\n".join(lines) + "\r\n\r\n"


def mdn(
    *,
    original: bytes,
    original_id: str,
    original_subject: str,
    attachments: Attachments,
    reporter: str,
    to: str,
    original_recipient: str,
    disposition: Disposition,
    now: datetime,
    host: str,
) -> bytes:
    boundary = f"RAA{uuid.uuid4().hex[:5].upper()}.{int(now.timestamp())}/{host}"
    if disposition.code:
        human = (
            "Le document n’a pas pu être intégré.\r\n"
            f"Le système a retourné l'erreur {disposition.error_text}\r\n"
        )
    elif disposition.type == "displayed":
        human = "Le message ci-dessous a été affiché dans la boîte aux lettres du destinataire.\r\n"
    else:
        human = "Le message ci-dessous a été intégré automatiquement dans le logiciel du destinataire.\r\n"
    report = (
        f"Reporting-UA: {host}; Ségur Sandbox MSSanté\r\n"
        f"Original-Recipient: rfc822;{original_recipient}\r\n"
        f"Final-Recipient: rfc822; {reporter}\r\n"
        f"Original-Message-ID: {original_id}\r\n"
        f"Disposition: {disposition.field}\r\n"
    )
    parts = [
        f"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{human}",
        f"Content-Type: message/disposition-notification\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{report}",
        "Content-Type: message/rfc822\r\n\r\n" + original.decode("utf-8", "surrogateescape"),
        *_attachments(attachments),
    ]
    ctype = (
        f'Content-Type: multipart/report; report-type=disposition-notification;\r\n\tboundary="{boundary}"'
    )
    head = _head(reporter, to, _subject(original_subject, disposition.code), now, host, original_id, ctype)
    body = (
        "".join(f"--{boundary}\r\n{p.rstrip(chr(13) + chr(10))}\r\n" for p in parts) + f"--{boundary}--\r\n"
    )
    return (head + body).encode("utf-8", "surrogateescape")


def error_mail(
    *,
    original: bytes,
    original_id: str,
    original_subject: str,
    attachments: Attachments,
    reporter: str,
    to: str,
    code: str,
    label: str,
    now: datetime,
    host: str,
    team: str,
) -> bytes:
    boundary = f"boundary{uuid.uuid4().hex[:12]}"
    text = (
        "Bonjour,\r\n\r\n"
        "Le document envoyé n’a pas pu être intégré correctement dans le système.\r\n"
        "Voici les détails de l’erreur rencontrée :\r\n\r\n"
        f"- Erreur détectée : {label}\r\n"
        f"- Code d’erreur : {code}\r\n\r\n\r\n"
        "Vous trouverez en pièce jointe :\r\n"
        "1. Le message original contenant le document soumis.\r\n"
        "2. Les fichiers liés (archive ZIP et PDF associés au message original).\r\n\r\n"
        "Veuillez vérifier les informations fournies et soumettre à nouveau les documents après correction.\r\n"
        "Si le problème persiste, contactez notre service technique.\r\n\r\n"
        f"Cordialement,\r\n{team}\r\n"
    )
    parts = [
        f'Content-Type: text/plain; charset="UTF-8"\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{text}',
        'Content-Type: message/rfc822\r\nContent-Disposition: attachment; filename="message_original.eml"\r\n\r\n'
        + original.decode("utf-8", "surrogateescape"),
        *_attachments(attachments),
    ]
    ctype = f'Content-Type: multipart/mixed; boundary="{boundary}"'
    head = _head(reporter, to, _subject(original_subject, code), now, host, original_id, ctype)
    body = (
        "".join(f"--{boundary}\r\n{p.rstrip(chr(13) + chr(10))}\r\n" for p in parts) + f"--{boundary}--\r\n"
    )
    return (head + body).encode("utf-8", "surrogateescape")
