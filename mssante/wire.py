"""Mail bytes: parse a submitted message, complete its headers, write DSNs (RFC 3461-3464).

Parsing never changes the bytes that are stored: the operator keeps what the LGC sent, with
only the headers a submission server prepends (Received, and Date / Message-ID when missing,
RFC 6409 §8), so that a later check (the IHE_XDM reader) or a download sees the original MIME.

DSN layout (RFC 3464, as Postfix writes it, which operators run [inferred]):

    multipart/report; report-type=delivery-status
      text/plain                    human-readable notice (French and English)
      message/delivery-status       per-message fields (Reporting-MTA, Original-Envelope-Id,
                                    Arrival-Date), then per-recipient fields (Final-Recipient,
                                    Original-Recipient, Action, Status, Diagnostic-Code, ...)
      message/rfc822 (RET=FULL) or text/rfc822-headers (RET=HDRS, and the default)
"""

from __future__ import annotations

import email.policy
import uuid
from dataclasses import dataclass
from datetime import datetime
from email.parser import BytesHeaderParser, BytesParser
from email.utils import format_datetime, make_msgid

from mocks.mail import TlsInfo

PARSER = BytesParser(policy=email.policy.default)
HEADERS = BytesHeaderParser(policy=email.policy.default)
MAX_LINE = 998  # RFC 5321 §4.5.3.1.6, without CRLF


class MalformedMessage(ValueError):
    pass


def has_8bit(raw: bytes) -> bool:
    return not raw.isascii()  # in C: the generator over every byte cost 1 ms per 20 KB


def long_line(raw: bytes) -> bool:
    return any(len(line.rstrip(b"\r")) > MAX_LINE for line in raw.split(b"\n"))


def parse(raw: bytes) -> email.message.EmailMessage:
    msg = PARSER.parsebytes(raw)
    assert isinstance(msg, email.message.EmailMessage)
    return msg


def message_id_of(raw: bytes) -> str:
    """The Message-ID of a message we wrote (read from its header block)."""
    msg = HEADERS.parsebytes(header_block(raw))
    return str(msg.get("Message-ID") or "").strip()


def header_block(raw: bytes) -> bytes:
    """The header section of a message (up to the first empty line), CRLF ended."""
    for sep in (b"\r\n\r\n", b"\n\n"):
        end = raw.find(sep)
        if end >= 0:
            return raw[:end].replace(b"\r\n", b"\n").replace(b"\n", b"\r\n") + b"\r\n"
    return raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n").rstrip(b"\r\n") + b"\r\n"


def completed(
    raw: bytes,
    *,
    host: str,
    queue_id: str,
    helo: str,
    peer: str,
    identity: str,
    tls: TlsInfo | None,
    recipient: str | None,
    now: datetime,
    add_date: bool,
    add_message_id: bool,
    return_path: str = "",
) -> tuple[bytes, str]:
    """The bytes to store: Return-Path and a Received header (RFC 5321 §4.4: the delivering
    server records the reverse path), Date and Message-ID when the LGC omitted them (RFC 6409
    §8.1, §8.3), then the message unchanged. Returns (bytes, Message-ID)."""
    with_tls = f"(using {tls.protocol} with cipher {tls.cipher})\r\n\t" if tls else ""
    rcpt = f"\r\n\tfor <{recipient}>" if recipient else ""
    received = (
        f"Received: from {helo} ({peer})\r\n\t{with_tls}(Authenticated sender: {identity})\r\n\t"
        f"by {host} (Segur Sandbox MSSante) with ESMTPSA id {queue_id}{rcpt};\r\n\t{format_datetime(now)}\r\n"
    )
    extra = f"Return-Path: <{return_path}>\r\n" + received
    message_id = ""
    if add_date:
        extra += f"Date: {format_datetime(now)}\r\n"
    if add_message_id:
        message_id = make_msgid(domain=host)
        extra += f"Message-ID: {message_id}\r\n"
    return extra.encode("utf-8") + raw, message_id


# -- DSN ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RecipientStatus:
    recipient: str
    action: str  # delivered, failed, delayed, relayed
    status: str  # 2.0.0, 5.1.1, 4.4.7
    diagnostic: str = ""  # "smtp; 550 5.1.1 ..." for failures
    original: str = ""  # ORCPT: "rfc822;addr" as the client gave it


SUBJECTS = {
    "delivered": "Successful Mail Delivery Report",
    "relayed": "Successful Mail Delivery Report",
    "failed": "Undelivered Mail Returned to Sender",
    "delayed": "Delayed Mail (still being retried)",
}

TEXTS = {
    "delivered": (
        "Votre message a été remis dans la boîte aux lettres du destinataire.\r\n"
        "Your message was successfully delivered to the destination(s) listed below."
    ),
    "relayed": (
        "Votre message a été transmis à l'opérateur MSSanté du destinataire.\r\n"
        "Your message was relayed to the destination(s) listed below."
    ),
    "failed": (
        "Votre message n'a pas pu être remis au(x) destinataire(s) ci-dessous.\r\n"
        "Your message could not be delivered to one or more recipients."
    ),
    "delayed": (
        "La remise de votre message est retardée ; l'opérateur réessaie.\r\n"
        "Delivery to the following recipients has been delayed; no action is required on your part."
    ),
}


def dsn(
    *,
    host: str,
    to: str,
    original: bytes,
    statuses: list[RecipientStatus],
    envid: str | None,
    ret: str | None,
    arrival: datetime,
    now: datetime,
) -> bytes:
    """A delivery status notification to `to` about `statuses` (all of the same action)."""
    action = statuses[0].action
    boundary = f"{uuid.uuid4().hex[:16]}.{int(now.timestamp())}/{host}"
    per_message = [f"Reporting-MTA: dns; {host}", f"X-Postfix-Queue-ID: {uuid.uuid4().hex[:10].upper()}"]
    if envid:
        per_message.append(f"Original-Envelope-Id: {envid}")
    per_message.append(f"Arrival-Date: {format_datetime(arrival)}")
    blocks = ["\r\n".join(per_message)]
    for st in statuses:
        fields = [f"Final-Recipient: rfc822; {st.recipient}"]
        if st.original:
            kind, _, addr = st.original.partition(";")
            fields.append(f"Original-Recipient: {kind.strip()}; {addr.strip()}")
        fields += [f"Action: {st.action}", f"Status: {st.status}"]
        if st.action in ("delivered", "relayed"):
            fields.append(f"Remote-MTA: dns; {host}")
        if st.diagnostic:
            fields.append(f"Diagnostic-Code: {st.diagnostic}")
        if st.action == "delayed":
            fields.append(f"Will-Retry-Until: {format_datetime(arrival.replace(microsecond=0))}")
        blocks.append("\r\n".join(fields))
    report = "\r\n\r\n".join(blocks) + "\r\n"
    human = (
        TEXTS[action]
        + "\r\n\r\n"
        + "\r\n".join(f"<{s.recipient}>: {s.action} ({s.status})" for s in statuses)
    )
    if (ret or "HDRS").upper() == "FULL":
        third = b"Content-Type: message/rfc822\r\nContent-Description: Undelivered Message\r\n\r\n" + original
    else:
        third = (
            b"Content-Type: text/rfc822-headers\r\nContent-Description: Message Headers\r\n\r\n"
            + header_block(original)
        )
    head = (
        f"From: Mail Delivery System <MAILER-DAEMON@{host}>\r\n"
        f"To: {to}\r\n"
        f"Subject: {SUBJECTS[action]}\r\n"
        f"Date: {format_datetime(now)}\r\n"
        f"Message-ID: {make_msgid(domain=host)}\r\n"
        "Auto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        f'Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary="{boundary}"\r\n'
        "Content-Transfer-Encoding: 8bit\r\n"
        "\r\n"
        "This is a MIME-encapsulated message.\r\n\r\n"
    )
    body = (
        f"--{boundary}\r\n"
        "Content-Description: Notification\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\n"
        f"{human}\r\n\r\n"
        f"--{boundary}\r\n"
        "Content-Description: Delivery report\r\n"
        "Content-Type: message/delivery-status\r\n\r\n"
        f"{report}\r\n"
        f"--{boundary}\r\n"
    )
    return head.encode() + body.encode("utf-8") + third + f"\r\n--{boundary}--\r\n".encode()
