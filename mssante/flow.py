"""The submission pipeline: what happens to a message between DATA and the SMTP reply.

    RCPT    recipient(directory, address) -> the catalogue error for an unknown mailbox or a
            domain outside the liste blanche (550 5.1.1 / 550 5.7.1), else its route
    DATA    submit(ctx, envelope, raw):
            1. transport rules        8-bit without BODY=8BITMIME (554 5.6.1), long lines (500)
            2. parse                  email (policy default); the stored bytes stay the LGC's
            3. content checks         checks.CONTENT_CHECKS over a `Submission` (findings): the
                                      receipt it may be (MDN, error mail), its IHE_XDM.ZIP and
                                      every CDA through the CDA engine, the headers
            4. strict refusal         an error finding in strict mode: 550 5.6.0 <rule id>
            5. fault rules            operation "SMTP submit", persona = MAIL FROM
            6. complete               Return-Path, Received, and Date / Message-ID if missing
                                      (RFC 5321 §4.4, RFC 6409 §8)
            7. store and route        one mss_messages row; local mailboxes get an INBOX item,
                                      liste-blanche domains of other operators the outbound view;
                                      fault rules on "SMTP deliver" (persona = recipient) make
                                      one recipient fail or be delayed after acceptance
            8. DSN                    NOTIFY=SUCCESS / FAILURE / DELAY into the sender's INBOX
            9. evidence               mss.message.accepted; mss.delivered.citizen for the test
                                      citizen address (mssante.facts); the documents' history
           10. receipts               in the background: the receiving mailboxes integrate the
                                      documents and answer MDN / error mail (mssante.integration)
    -> "250 2.0.0 Ok: queued as <id>"

A recipient given twice is delivered once (as Postfix's duplicate filter does). Everything here
is blocking (SQLite, parsing): the SMTP front end runs it in the mail work pool.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from mocks.errors import ServiceError
from mocks.mail import TlsInfo
from mssante import checks, facts, history, wire
from mssante.errors import ERRORS
from mssante.mailboxes import Directory, Mailbox, domain_of
from mssante.submission import Context as CheckContext
from mssante.submission import Submission

if TYPE_CHECKING:
    from mocks.kernel import Exchange, Sandbox
    from mssante.auth import Identity
    from mssante.integration import Receipts
    from mssante.mailstore import MailStore

Route = Literal["local", "outbound"]


@dataclass
class Recipient:
    address: str
    route: Route
    mailbox: Mailbox | None
    notify: tuple[str, ...] = ()  # SUCCESS, FAILURE, DELAY or NEVER (RFC 3461 §4.1)
    orcpt: str = ""  # "rfc822;addr"


@dataclass
class Envelope:
    mail_from: str
    recipients: list[Recipient] = field(default_factory=list)
    ret: str | None = None  # FULL / HDRS (RFC 3461 §4.3)
    envid: str | None = None  # xtext-decoded (RFC 3461 §4.4)
    body: str = "7BIT"
    smtputf8: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "mail_from": self.mail_from,
            "recipients": [
                {"address": r.address, "route": r.route, "notify": list(r.notify), "orcpt": r.orcpt}
                for r in self.recipients
            ],
            "ret": self.ret,
            "envid": self.envid,
            "body": self.body,
            "smtputf8": self.smtputf8,
        }


@dataclass
class Context:
    """What the pipeline needs from the SMTP session."""

    sandbox: Sandbox
    directory: Directory
    mails: MailStore
    outbound: set[str]
    host: str
    identity: Identity
    helo: str
    peer: str
    tls: TlsInfo | None
    receipts: Receipts | None = None


def recipient(directory: Directory, outbound: set[str], address: str) -> tuple[Route, Mailbox | None]:
    """Where a recipient goes, or the catalogue error (ServiceError) that refuses it at RCPT."""
    domain = domain_of(address)
    if directory.serves(domain):
        mbx = directory.get(address)
        if mbx is None:
            ERRORS.fail("smtp_unknown_mailbox")
        return "local", mbx
    if domain in outbound:
        return "outbound", None
    ERRORS.fail("smtp_domain_not_listed")


def transport_rules(envelope: Envelope, raw: bytes) -> None:
    if envelope.body != "8BITMIME" and not envelope.smtputf8 and wire.has_8bit(raw):
        ERRORS.fail("smtp_8bit_undeclared")
    if wire.long_line(raw):
        ERRORS.fail("smtp_line_too_long")


def unique(recipients: list[Recipient]) -> list[Recipient]:
    seen: set[str] = set()
    out = []
    for r in recipients:
        if r.address.lower() not in seen:
            seen.add(r.address.lower())
            out.append(r)
    return out


def submit(ctx: Context, ex: Exchange, envelope: Envelope, raw: bytes) -> str:
    """Accept a message (the reply line) or raise the catalogue error that refuses it."""
    sandbox, tenant = ctx.sandbox, ctx.identity.tenant
    transport_rules(envelope, raw)
    envelope.recipients = unique(envelope.recipients)
    try:
        message = wire.parse(raw)
    except Exception as exc:  # noqa: BLE001 - email's parser is lenient; anything else is a 554
        raise ERRORS.error(
            "smtp_content_refused", f"Message refused: cannot parse ({type(exc).__name__})"
        ) from None
    sub = Submission(
        raw,
        message,
        envelope.mail_from,
        [r.address for r in envelope.recipients],
        ctx.identity.caller,
        envelope.as_dict(),
        context=CheckContext(
            sandbox, tenant, ctx.directory, ctx.mails, ex, ctx.directory.get(envelope.mail_from)
        ),
    )
    checks.run(sub, ex.findings)
    ex.details["kind"] = sub.kind
    if ex.findings.refuse:
        errors = ex.findings.errors
        more = f" (+{len(errors) - 1} other error findings)" if len(errors) > 1 else ""
        ERRORS.fail(
            "smtp_content_refused", f"Message refused: {errors[0].rule}{more}", outcome="refused (strict)"
        )
    ex.persona = envelope.mail_from
    ex.fault(envelope.mail_from)

    now = sandbox.now(tenant)
    queue_id = uuid.uuid4().hex[:12].upper()
    single = envelope.recipients[0].address if len(envelope.recipients) == 1 else None
    stored, added_id = wire.completed(
        raw,
        host=ctx.host,
        queue_id=queue_id,
        helo=ctx.helo,
        peer=ctx.peer,
        identity=ctx.identity.caller,
        tls=ctx.tls,
        recipient=single,
        now=now,
        add_date="Date" not in message,
        add_message_id="Message-ID" not in message,
        return_path=envelope.mail_from,
    )
    message_id = added_id or str(message.get("Message-ID", "")).strip()
    env = {
        **envelope.as_dict(),
        "queue_id": queue_id,
        "auth": {"kind": ctx.identity.kind, "subject": ctx.identity.subject, "login": ctx.identity.login},
        "tls": ctx.tls.as_dict() if ctx.tls else None,
        "helo": ctx.helo,
        "kind": sub.kind,
        "findings": [f.rule for f in ex.findings],
        "checks": [f.as_dict() for f in ex.findings],
        "documents": [d.as_dict() for d in sub.documents],
        "trace_id": ex.trace_id,
    }
    with sandbox.store.tx():  # the whole delivery in one transaction (wake-ups after its commit)
        stored_id, delivered = _store(ctx, ex, envelope, sub, stored, message_id, env, now)
    local = [r.mailbox for r in delivered if r.route == "local" and r.mailbox is not None]
    # a receipt (MDN or error mail) is only ever sent for an IHE_XDM message or on request
    asked = sub.kind == "xdm" or "Disposition-Notification-To" in message
    if ctx.receipts is not None and sub.kind not in ("mdn", "error-mail") and asked:
        orcpt = {r.address: r.orcpt.partition(";")[2] for r in delivered if r.orcpt}
        ctx.receipts.after_delivery(
            tenant, stored_id, local, sub.documents, sub.kind == "xdm", envelope.mail_from, orcpt
        )
    ex.details.update({"message": stored_id, "message_id": message_id, "queue_id": queue_id})
    return f"250 2.0.0 Ok: queued as {queue_id}"


def _store(
    ctx: Context,
    ex: Exchange,
    envelope: Envelope,
    sub: Submission,
    stored: bytes,
    message_id: str,
    env: dict[str, Any],
    now: datetime,
) -> tuple[int, list[Recipient]]:
    """Store an accepted message, deliver it (and its DSNs), record its documents and evidence."""
    sandbox, tenant = ctx.sandbox, ctx.identity.tenant
    stored_id = ctx.mails.add_message(
        tenant,
        stored,
        message_id=message_id,
        mail_from=envelope.mail_from,
        rcpt_to=[r.address for r in envelope.recipients],
        envelope=env,
        received_at=now.isoformat(),
        origin=sub.kind if sub.kind in ("mdn", "error-mail") else "smtp",
    )
    outcomes = _route(ctx, envelope, stored_id, now)
    _dsns(ctx, envelope, stored, outcomes, now, stored_id)
    delivered = [r for r, st in outcomes if st.action in ("delivered", "relayed")]
    history.record(
        sandbox.store, tenant, stored_id, envelope.mail_from, "sent", sub.documents, now.isoformat()
    )
    facts.accepted(
        sandbox,
        ex,
        tenant=tenant,
        directory=ctx.directory,
        identity=ctx.identity,
        sub=sub,
        message_id=message_id,
        recipients=[r.address for r in envelope.recipients],
        delivered=[r.address for r in delivered],
        size=len(stored),
        stored=stored_id,
    )
    return stored_id, delivered


def _route(
    ctx: Context, envelope: Envelope, stored: int, now: datetime
) -> list[tuple[Recipient, wire.RecipientStatus]]:
    tenant = ctx.identity.tenant
    out: list[tuple[Recipient, wire.RecipientStatus]] = []
    for rcpt in envelope.recipients:
        effect = ctx.sandbox.faults.match(tenant, "mss", "SMTP deliver", rcpt.address)
        if effect is not None and effect.error is not None:
            entry = effect.error
            code, enhanced = getattr(entry, "code", 550), getattr(entry, "enhanced", "5.0.0")
            if entry.name == "smtp_delay_dsn":
                out.append((rcpt, wire.RecipientStatus(rcpt.address, "delayed", "4.4.7", "", rcpt.orcpt)))
                continue
            line = f"smtp; {code} {enhanced} {getattr(entry, 'text', '')}".strip()
            action = "failed" if str(code).startswith("5") else "delayed"
            out.append(
                (rcpt, wire.RecipientStatus(rcpt.address, action, enhanced or "5.0.0", line, rcpt.orcpt))
            )
            continue
        if rcpt.route == "local":
            assert rcpt.mailbox is not None
            ctx.mails.folders(tenant, rcpt.address)
            ctx.mails.deliver(tenant, rcpt.address, stored)
            out.append((rcpt, wire.RecipientStatus(rcpt.address, "delivered", "2.0.0", "", rcpt.orcpt)))
        else:
            ctx.mails.hold_outbound(tenant, stored, rcpt.address, domain_of(rcpt.address), now.isoformat())
            out.append((rcpt, wire.RecipientStatus(rcpt.address, "relayed", "2.0.0", "", rcpt.orcpt)))
    return out


def _wants(rcpt: Recipient, action: str) -> bool:
    notify = rcpt.notify
    if "NEVER" in notify:
        return False
    if not notify:  # RFC 3461 §4.1: default is FAILURE (and DELAY at the MTA's discretion)
        return action in ("failed", "delayed")
    key = {"delivered": "SUCCESS", "relayed": "SUCCESS", "failed": "FAILURE", "delayed": "DELAY"}[action]
    return key in notify


def _dsns(
    ctx: Context,
    envelope: Envelope,
    original: bytes,
    outcomes: list[tuple[Recipient, wire.RecipientStatus]],
    now: datetime,
    stored: int = 0,
) -> None:
    sender = envelope.mail_from
    if not sender or ctx.directory.get(sender) is None:
        return
    by_action: dict[str, list[wire.RecipientStatus]] = {}
    for rcpt, st in outcomes:
        if _wants(rcpt, st.action):
            by_action.setdefault("delivered" if st.action == "relayed" else st.action, []).append(st)
    tenant = ctx.identity.tenant
    for statuses in by_action.values():
        data = wire.dsn(
            host=ctx.host,
            to=sender,
            original=original,
            statuses=statuses,
            envid=envelope.envid,
            ret=envelope.ret,
            arrival=now,
            now=now,
        )
        dsn_id = ctx.mails.add_message(
            tenant,
            data,
            mail_from="",
            rcpt_to=[sender],
            envelope={
                "dsn_for": sender,
                "receipt_for": stored,
                "kind": "dsn",
                "detail": ", ".join(f"{s.recipient} {s.action} {s.status}" for s in statuses),
            },
            received_at=now.isoformat(),
            origin="dsn",
        )
        ctx.mails.folders(tenant, sender)
        ctx.mails.deliver(tenant, sender, dsn_id)


def render(error: ServiceError) -> str:
    """The SMTP reply line of a catalogue error (its text may be replaced)."""
    entry = error.error
    code, enhanced = getattr(entry, "code", 451), getattr(entry, "enhanced", "")
    text = error.text or getattr(entry, "text", "") or entry.description
    return f"{code} {enhanced} {text}".replace("  ", " ").strip()
