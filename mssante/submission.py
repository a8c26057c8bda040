"""One message as an LGC submitted it: what every content check reads (mssante.checks) and what
the checks learn about it (its kind, its IHE_XDM documents) for the evidence and the receipts.

    sub = Submission(raw, message, mail_from, recipients, identity, envelope, context=...)
    sub.attachments        the MIME walk, done once: IHE_XDM.ZIP, PDFs, the body part
    sub.kind               "mail", "xdm", "mdn" or "error-mail" (set by the checks)
    sub.documents          one `DocumentInfo` per CDA of the archive (set by mssante.documents)

`context` is None in unit uses (a benchmark, a test of one check): the checks that need the
sandbox (evidence, directory, history, the CDA engine) then do nothing.
"""

from __future__ import annotations

import binascii
import re
from dataclasses import dataclass, field
from email.message import EmailMessage, Message
from email.utils import getaddresses
from functools import cached_property
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mocks.kernel import Exchange, Sandbox
    from mssante.mailboxes import Directory, Mailbox
    from mssante.mailstore import MailStore

SURROGATES = re.compile(r"[\ud800-\udfff]")
FOLDING = re.compile(r"\r?\n(?=[ \t])")


def clean(value: object) -> str:
    """A header value as text that can be stored and shown (raw 8-bit bytes the email package
    kept as surrogates become U+FFFD)."""
    return SURROGATES.sub("\ufffd", str(value if value is not None else ""))


def header(message: Message, name: str) -> str:
    try:
        value = message.get(name)
    except Exception:  # noqa: BLE001 - a malformed header the email package cannot fold
        return ""
    return clean(value).strip() if value is not None else ""


def addresses(message: Message, name: str) -> list[str]:
    try:
        values = [clean(v) for v in message.get_all(name) or []]
    except Exception:  # noqa: BLE001
        return []
    return [a.lower() for _, a in getaddresses(values) if a]


@dataclass
class Context:
    """What the checks may consult besides the message."""

    sandbox: Sandbox
    tenant: str
    directory: Directory
    mails: MailStore
    exchange: Exchange | None = None
    sender: Mailbox | None = None  # the sending mailbox (MAIL FROM) in the directory
    validate_cda: bool = True  # False: skip the CDA engine (benchmarks)


@dataclass
class Attachments:
    zip: bytes | None = None  # IHE_XDM.ZIP
    zip_name: str = ""
    pdf_parts: list[tuple[str, Message]] = field(default_factory=list)
    body: Message | None = None  # the first non-attachment part (text/plain, multipart/alternative...)
    body_text: str = ""  # the text/plain content of the body, when it has one
    report: Message | None = None  # multipart/report (MDN) at the top
    rfc822: Message | None = None  # an attached message/rfc822 (error mails)
    parts: int = 0

    @cached_property
    def pdfs(self) -> list[tuple[str, bytes]]:
        """The PDF attachments, decoded on first use (most checks only need to know they exist)."""
        return [(name, _payload(part)) for name, part in self.pdf_parts]


@dataclass
class DocumentInfo:
    """One CDA of an IHE_XDM archive: what the evidence, the receipts and the pages need."""

    uri: str
    unique_id: str = ""
    type_code: str = ""
    type_label: str = ""
    title: str = ""
    ins: str = ""  # 15 characters, as in the CDA
    ins_qualified: bool = False
    set_id: str = ""
    version: str = ""
    replaces: str = ""
    confidentiality: list[str] = field(default_factory=list)
    level: str = ""
    family: str = ""
    given: str = ""
    birth_time: str = ""
    sex: str = ""
    author: str = ""  # idNat_PS
    structure: str = ""  # idNat_Struct of the author
    cda_report: int | None = None
    size: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "uniqueId": self.unique_id,
            "type_code": self.type_code,
            "type_label": self.type_label,
            "title": self.title,
            "ins": self.ins,
            "ins_qualified": self.ins_qualified,
            "uri": self.uri,
            "set_id": self.set_id,
            "version": self.version,
            "replaces": self.replaces,
            "confidentiality": self.confidentiality,
            "level": self.level,
            "author": self.author,
            "structure": self.structure,
            "cda_report": self.cda_report,
            "size": self.size,
        }


@dataclass
class Submission:
    """One message as submitted: what the content checks look at."""

    raw: bytes
    message: EmailMessage
    mail_from: str
    recipients: list[str]
    identity: str  # caller (mailbox or national id)
    envelope: dict[str, Any] = field(default_factory=dict)
    context: Context | None = None
    kind: str = "mail"
    documents: list[DocumentInfo] = field(default_factory=list)
    xdm_files: list[str] = field(default_factory=list)

    @cached_property
    def attachments(self) -> Attachments:
        return walk(self.message)

    @cached_property
    def from_values(self) -> list[str]:
        """The From headers as text, once. A header without RFC 2047 words is taken as sent
        (unfolded): the email package's header registry, which decodes them, costs ~0.3 ms."""
        raw = [v for k, v in self.message.raw_items() if k.lower() == "from"]
        if any("=?" in v or SURROGATES.search(v) for v in raw):
            return [str(v) for v in self.message.get_all("From") or []]
        return [FOLDING.sub("", v).strip() for v in raw]  # RFC 5322 §2.2.3: unfold

    @property
    def sender_type(self) -> str:
        """PER, ORG, APP, CAB (the sending mailbox's type), "" when unknown."""
        ctx = self.context
        return ctx.sender.type if ctx is not None and ctx.sender is not None else ""

    def recipient_type(self, address: str) -> str:
        """PER, ORG, APP, CAB, CIT (a citizen mailbox), "" outside the sandbox's domains."""
        ctx = self.context
        if ctx is None:
            return "CIT" if address.lower().endswith("@patient.mssante.fr") else ""
        found = ctx.directory.get(address)
        return found.type if found is not None else ""

    def is_patient(self, address: str) -> bool:
        return address.lower().endswith("@patient.mssante.fr") or self.recipient_type(address) == "CIT"


def children(part: Message) -> list[Message]:
    """The sub-parts of a multipart (or message/*) part, as Messages."""
    payload = part.get_payload()
    return [p for p in payload if isinstance(p, Message)] if isinstance(payload, list) else []


def _is_attachment(part: Message) -> bool:
    disposition = (part.get("Content-Disposition") or "").lower()
    return disposition.startswith("attachment") or bool(part.get_filename())


def walk(message: Message) -> Attachments:
    """One pass over the MIME tree (bounded: a pathological nesting is cut at depth 8)."""
    found = Attachments()
    if message.get_content_type() == "multipart/report":
        found.report = message

    def visit(part: Message, depth: int) -> None:
        found.parts += 1
        if depth > 8 or found.parts > 500:
            return
        ctype = part.get_content_type()
        if ctype.startswith("message/"):
            if ctype == "message/rfc822" and found.rfc822 is None:
                inner = children(part)
                found.rfc822 = inner[0] if inner else None
            return
        if part.is_multipart() and ctype != "multipart/alternative":
            for sub in children(part):
                visit(sub, depth + 1)
            return
        name = clean(part.get_filename() or "")
        if ctype == "multipart/alternative" or not _is_attachment(part):
            if found.body is None:
                found.body = part
                found.body_text = _text_of(part)
            return
        if name.upper() == "IHE_XDM.ZIP" and found.zip is None:
            found.zip, found.zip_name = _payload(part), name
        elif ctype == "application/pdf" or name.lower().endswith(".pdf"):
            found.pdf_parts.append((name, part))

    visit(message, 0)
    return found


def _payload(part: Message) -> bytes:
    raw = part.get_payload()
    if isinstance(raw, str) and str(part.get("Content-Transfer-Encoding", "")).strip().lower() == "base64":
        # binascii skips line breaks itself: much faster than the email package's decoder on 1 MB
        try:
            return binascii.a2b_base64(raw.encode("ascii", "ignore"))
        except binascii.Error:
            pass  # the email package's lenient decoder below (padding defects)
    try:
        data = part.get_payload(decode=True)
    except Exception:  # noqa: BLE001 - a broken transfer encoding
        return b""
    return data if isinstance(data, bytes) else b""


def _text_of(part: Message) -> str:
    if part.get_content_type() == "multipart/alternative":
        for sub in children(part):
            if sub.get_content_type() == "text/plain":
                return _text_of(sub)
        return ""
    if part.get_content_type() != "text/plain":
        return ""
    data = _payload(part)
    charset = part.get_content_charset() or "utf-8"
    try:
        return data.decode(charset, "replace")
    except LookupError:
        return data.decode("utf-8", "replace")
