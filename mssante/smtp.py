"""SMTP submission on aiosmtpd: 4587 (STARTTLS) and 4465 (implicit TLS), research mssante.md §1.3.

An `aiosmtpd.smtp.SMTP` subclass, one per connection, on the kernel's mail loop (mocks.mail):

    220 greeting -> EHLO (before TLS: STARTTLS, no AUTH; after: AUTH XOAUTH2 OAUTHBEARER
    [EXTERNAL with a client certificate] [PLAIN with mss_password_auth], DSN, ENHANCEDSTATUSCODES,
    8BITMIME, SMTPUTF8, SIZE, PIPELINING) -> AUTH (mssante.sasl / mssante.auth) -> MAIL FROM with
    SIZE BODY SMTPUTF8 RET ENVID (530 5.7.0 before TLS or AUTH; 550 5.7.1 a sender not owned)
    -> RCPT TO with NOTIFY ORCPT (550 5.1.1, 550 5.7.1, 452 4.5.3) -> DATA -> mssante.flow

Every reply carries an RFC 3463 enhanced code (`push` adds the code aiosmtpd's own replies lack,
with Postfix's wording). Blocking work (token and certificate checks, the pipeline, the journal)
runs in the mail work pool; one journal entry per transaction (`MSS SMTP submit a@b → 2 rcpt =>
250`) and per failed AUTH. An idle client gets `421 4.4.2` after `mss_idle_timeout` seconds.
aiosmtpd's private helpers used: `_getaddr`, `_reader`, `_tls_protocol` (pinned by version 1.4).

Over 400 lines: one aiosmtpd subclass: its command overrides (EHLO, AUTH, MAIL, RCPT, DATA) read best together.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import re
import ssl
import uuid
from typing import TYPE_CHECKING, Any, cast

from aiosmtpd.smtp import MISSING, SMTP, syntax

from mocks.errors import DropConnection, ServiceError
from mocks.mail import (
    MailListener,
    TlsInfo,
    blocking,
    mail_exchange,
    notify_threadsafe,
    tls_info,
    tls_journal,
)
from mssante import auth, flow, sasl
from mssante.errors import ERRORS

if TYPE_CHECKING:
    from mssante.service import Mss

log = logging.getLogger("segur.mss")
logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every session at INFO

AUTH_LINE_LIMIT = sasl.MAX_SASL + 64
XTEXT = re.compile(r"\+([0-9A-F]{2})")
NOTIFY = {"NEVER", "SUCCESS", "FAILURE", "DELAY"}

# aiosmtpd's own reply texts -> with an enhanced status code (Postfix's wording where it has one)
REWRITES = {
    "250 OK": "250 2.0.0 Ok",
    "221 Bye": "221 2.0.0 Bye",
    "220 Ready to start TLS": "220 2.0.0 Ready to start TLS",
    "354 End data with <CR><LF>.<CR><LF>": "354 End data with <CR><LF>.<CR><LF>",
    "552 Error: Too much mail data": "552 5.3.4 Error: message file too big",
    "500 Line too long (see RFC5321 4.5.3.1.6)": "500 5.5.2 Line too long (see RFC5321 4.5.3.1.6)",
    "500 Command line too long": "500 5.5.2 Error: line too long",
    "503 Error: need MAIL command": "503 5.5.1 Error: need MAIL command",
    "503 Error: need RCPT command": "503 5.5.1 Error: need RCPT command",
    "503 Error: nested MAIL command": "503 5.5.1 Error: nested MAIL command",
    "500 Error: bad syntax": "500 5.5.2 Error: bad syntax",
    "503 Error: send HELO first": "503 5.5.1 Error: send HELO/EHLO first",
    "503 Error: send EHLO first": "503 5.5.1 Error: send HELO/EHLO first",
    "252 Cannot VRFY user, but will accept message and attempt delivery": "252 2.0.0 Cannot VRFY user",
}
NO_ENHANCED = {"220", "354", "334", "250-"}


def xtext_decode(value: str) -> str:
    """RFC 3461 §4: xtext, `+XX` hex escapes."""
    return XTEXT.sub(lambda m: chr(int(m.group(1), 16)), value)


def _params(rest: str) -> dict[str, str | bool] | None:
    """ESMTP parameters, keys upper-cased, values as sent (ENVID and ORCPT are case-sensitive)."""
    out: dict[str, str | bool] = {}
    for word in rest.split():
        key, eq, value = word.partition("=")
        if not key.replace("-", "").isalnum() or (eq and not value):
            return None
        out[key.upper()] = value if eq else True
    return out


class MssSmtp(SMTP):
    """One SMTP session of the sandbox operator."""

    def __init__(
        self,
        mss: Mss,
        listener: str,
        implicit: bool,
        starttls: ssl.SSLContext | None,
        tls_test: str | None = None,
    ):
        cfg = mss.sandbox.config
        super().__init__(
            handler=None,
            hostname=mss.host,
            ident="ESMTP Ségur Sandbox MSSanté",
            tls_context=starttls,
            data_size_limit=int(cfg["mss_max_message_size"]),
            enable_SMTPUTF8=True,
            timeout=float(cfg["mss_idle_timeout"]),
            auth_require_tls=not implicit,
            loop=asyncio.get_running_loop(),
        )
        self.command_size_limits["AUTH"] = AUTH_LINE_LIMIT  # a PSC JWT in an initial response
        # before EHLO too: an AUTH sent without the EHLO that must follow STARTTLS gets 503, not 500
        self.command_size_limit = AUTH_LINE_LIMIT
        self._handle_hooks["DATA"] = self._data  # aiosmtpd calls the DATA hook only when it exists
        self.mss = mss
        self.listener = listener
        self.implicit = implicit
        self.identity: auth.Identity | None = None
        self.envelope_state: flow.Envelope | None = None
        self.refused: list[dict[str, str]] = []  # RCPT refusals of the current transaction
        self.trace = uuid.uuid4().hex
        self.tls_test = tls_test  # a TLS test endpoint (mssante.tlstest): the variant
        self.tls_test_reported = False

    # -- transport ---------------------------------------------------------------------------
    def _cb_client_connected(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # aiosmtpd's reader limit is its 1001-byte DATA line limit; an AUTH line with a PSC JWT
        # is longer. DATA lines are still held to RFC 5321 (aiosmtpd and flow.transport_rules).
        reader._limit = AUTH_LINE_LIMIT  # type: ignore[attr-defined]
        super()._cb_client_connected(reader, writer)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self.mss.smtp_sessions.add(self)

    def connection_lost(self, error: Exception | None) -> None:
        self.mss.smtp_sessions.discard(self)
        super().connection_lost(error)

    @property
    def secure(self) -> bool:
        return self.implicit or self._tls_protocol is not None

    @property
    def tls(self) -> TlsInfo | None:
        return tls_info(self.transport)

    def _timeout_cb(self) -> None:
        # RFC 5321 §4.2: 421 before closing, as Postfix does ("timeout exceeded")
        if self.transport is not None and not self.transport.is_closing():
            entry = ERRORS["smtp_timeout"]
            cast(asyncio.WriteTransport, self.transport).write(
                f"421 4.4.2 {self.hostname} {getattr(entry, 'text', '')}\r\n".encode()
            )
            asyncio.get_running_loop().create_task(self._journal("SMTP timeout", 421, "idle time-out"))
        super()._timeout_cb()

    async def push(self, status: Any) -> None:
        text = status.decode("utf-8", "replace") if isinstance(status, bytes) else str(status)
        text = REWRITES.get(text, text)
        code = text[:3]
        if (
            len(text) >= 4
            and code.isdigit()
            and text[3] in " -"
            and not re.match(r"^\d\.\d{1,3}\.\d{1,3}\b", text[4:])
            and code not in ("220", "354", "334")
            and not (code == "250" and text[3] == "-")
        ):
            text = f"{code}{text[3]}{code[0]}.0.0 {text[4:]}"
        await super().push(text)

    async def reply(self, error: ServiceError) -> None:
        await self.push(flow.render(error))

    # -- journal -----------------------------------------------------------------------------
    async def _journal(
        self, operation: str, status: int, outcome: str, tenant: str | None = None, **details: Any
    ) -> None:
        tenant = tenant or (self.identity.tenant if self.identity else "default")
        caller = self.identity.caller if self.identity else ""

        def write() -> None:
            with mail_exchange(self.mss.sandbox, "mss", operation, tenant, None, self.trace) as ex:
                ex.caller, ex.status, ex.outcome = caller, status, outcome
                ex.details.update(
                    {
                        "listener": self.listener,
                        "peer": str(self.session.peer if self.session else ""),
                        **details,
                    }
                )

        await blocking(write)

    # -- TLS test endpoints ------------------------------------------------------------------
    @syntax("STARTTLS", when="tls_context")
    async def smtp_STARTTLS(self, arg: str) -> None:
        if not self.tls_test:
            await super().smtp_STARTTLS(arg)
            return
        try:
            await super().smtp_STARTTLS(arg)
        except Exception:
            await self._journal(
                f"TLS test {self.tls_test}", 0, "handshake aborted by client", variant=self.tls_test
            )
            raise
        await self._journal(f"TLS test {self.tls_test}", 220, "handshake completed", variant=self.tls_test)

    async def _went_on(self, command: str) -> None:
        """A client that goes on after a test endpoint's handshake: the finding of its journal line."""
        self.tls_test_reported = True
        variant = self.tls_test

        def write() -> None:
            with mail_exchange(
                self.mss.sandbox, "mss", f"TLS test {variant}", "default", None, self.trace
            ) as ex:
                ex.status, ex.outcome = 250, f"client went on ({command})"
                ex.findings.add(
                    "MSS-TLS-NOT-ABORTED",
                    "error",
                    f"Le client a poursuivi ({command}) après une poignée de main TLS qu'il devait refuser : {variant}.",
                    location=f"SMTP {self.listener}",
                )

        await blocking(write)

    # -- EHLO --------------------------------------------------------------------------------
    def mechanisms(self) -> list[str]:
        found = ["XOAUTH2", "OAUTHBEARER"]
        tls = self.tls
        if tls is not None and tls.peer_der:
            found.append("EXTERNAL")
        if self.mss.sandbox.config["mss_password_auth"]:
            found.append("PLAIN")
        return found

    @syntax("EHLO hostname")
    async def smtp_EHLO(self, hostname: str) -> None:
        if not hostname:
            await self.push("501 5.5.4 Syntax: EHLO hostname")
            return
        if self.tls_test and self.secure and not self.tls_test_reported:
            await self._went_on("EHLO")
        self._set_rset_state()
        self.envelope_state, self.refused = None, []
        assert self.session is not None
        self.session.extended_smtp = True
        self.session.host_name = hostname
        lines = [self.hostname, "PIPELINING", f"SIZE {self.data_size_limit}"]
        if self.tls_context is not None and not self.secure:
            lines.append("STARTTLS")
        if self.secure:
            lines.append("AUTH " + " ".join(self.mechanisms()))
        lines += ["ENHANCEDSTATUSCODES", "8BITMIME", "DSN", "SMTPUTF8"]
        for i, line in enumerate(lines):
            await super().push(f"250{'-' if i < len(lines) - 1 else ' '}{line}")

    # -- AUTH --------------------------------------------------------------------------------
    async def _sasl_response(self, challenge: bytes) -> bytes | None:
        """Send a 334 challenge and read the client's line (None: the reply was already sent)."""
        await super().push("334 " + base64.b64encode(challenge).decode())
        try:
            line = await self._reader.readuntil(b"\n")
        except asyncio.LimitOverrunError as exc:
            await self._discard_line(exc.consumed)
            await self.reply(ERRORS.error("smtp_auth_too_long"))
            return None
        line = line.strip()
        if line == b"*":
            await self.reply(ERRORS.error("smtp_auth_aborted"))
            return None
        return line

    async def _discard_line(self, consumed: int) -> None:
        await self._reader.read(consumed)
        while True:
            try:
                await self._reader.readuntil(b"\n")
                return
            except asyncio.LimitOverrunError as exc:
                await self._reader.read(exc.consumed)

    @syntax("AUTH <mechanism>")
    async def smtp_AUTH(self, arg: str) -> None:
        if await self.check_helo_needed("EHLO"):
            return
        if not self.secure:
            await self.reply(ERRORS.error("smtp_auth_encryption"))
            return
        if self.identity is not None:
            await self.reply(ERRORS.error("smtp_already_authenticated"))
            return
        words = (arg or "").split()
        if not words or len(words) > 2:
            await self.push("501 5.5.4 Syntax: AUTH mechanism [initial-response]")
            return
        mechanism = words[0].upper()
        if mechanism not in self.mechanisms():
            await self.reply(ERRORS.error("smtp_auth_mechanism"))
            return
        initial: bytes | None = words[1].encode() if len(words) == 2 else None
        if initial is None:
            initial = await self._sasl_response(b"")
            if initial is None:
                return
        try:
            creds = sasl.parse(mechanism, sasl.b64decode(initial))
        except sasl.SaslError as exc:
            name = "smtp_auth_too_long" if exc.reason == "too_long" else "smtp_auth_syntax"
            if exc.reason == "syntax" and "token" in str(exc):
                name = "smtp_auth_failed"
            await self._journal(
                "SMTP AUTH",
                int(name == "smtp_auth_failed") and 535 or 501,
                f"refused: {exc}",
                mechanism=mechanism,
            )
            await self.reply(ERRORS.error(name))
            return
        found = await blocking(self._identify, creds)
        if isinstance(found, auth.Refusal):
            if mechanism == "OAUTHBEARER":  # RFC 7628 §3.2.3: error challenge, client sends ^A
                answer = await self._sasl_response(sasl.oauthbearer_failure())
                if answer is None:
                    return
            await self._journal(
                "SMTP AUTH", 535, f"refused: {found.reason}", mechanism=mechanism, tenant=found.tenant
            )
            await self.reply(ERRORS.error("smtp_auth_failed"))
            return
        self.identity = found
        assert self.session is not None
        self.session.authenticated = True
        await self._journal("SMTP AUTH", 235, f"{found.kind} {found.subject}", mechanism=mechanism)
        await self.push("235 2.7.0 Authentication successful")

    def _identify(self, creds: sasl.Credentials) -> auth.Identity | auth.Refusal:
        directory = self.mss.directory()
        if isinstance(creds, sasl.BearerCredentials):
            return auth.bearer(self.mss.sandbox, directory, creds)
        if isinstance(creds, sasl.ExternalCredentials):
            tls = self.tls
            return auth.certificate(self.mss.sandbox, directory, tls.peer_der if tls else None, creds.authzid)
        # PLAIN (mss_password_auth): the password is a PSC access token
        bearer = sasl.BearerCredentials("PLAIN", creds.user, creds.password)
        try:
            sasl.parse_xoauth2(f"user={creds.user}\x01auth=Bearer {creds.password}\x01\x01".encode())
        except sasl.SaslError:
            return auth.Refusal("malformed password", "default")
        return auth.bearer(self.mss.sandbox, directory, bearer)

    # -- MAIL / RCPT -------------------------------------------------------------------------
    @syntax("MAIL FROM: <address>", extended=" [SP <mail-parameters>]")
    async def smtp_MAIL(self, arg: str | None) -> None:
        if await self.check_helo_needed():
            return
        if not self.secure:
            await self._journal(
                "SMTP MAIL without TLS", 530, "refused: STARTTLS first", tls=tls_journal(None)
            )
            await self.reply(ERRORS.error("smtp_starttls_required"))
            return
        if self.identity is None:
            tls = self.tls
            if tls is not None and tls.peer_der:  # APP mailbox: the certificate is the identity
                found = await blocking(self._identify, sasl.ExternalCredentials(""))
                if isinstance(found, auth.Identity):
                    self.identity = found
            if self.identity is None:
                await self.reply(ERRORS.error("smtp_auth_required"))
                return
        if self.envelope_state is not None:
            await self.push("503 5.5.1 Error: nested MAIL command")
            return
        rest = self._strip_command_keyword("FROM:", arg or "")
        if rest is None:
            await self.push("501 5.5.4 Syntax: MAIL FROM:<address>")
            return
        address, tail = self._getaddr(rest)
        if address is None or tail is None:
            await self.reply(ERRORS.error("smtp_bad_address"))
            return
        params = _params(tail)
        if params is None:
            await self.reply(ERRORS.error("smtp_bad_parameter"))
            return
        env = flow.Envelope(address)
        size = params.pop("SIZE", None)
        if size is not None:
            if not isinstance(size, str) or not size.isdigit():
                await self.reply(ERRORS.error("smtp_bad_parameter", "Bad SIZE parameter"))
                return
            if self.data_size_limit and int(size) > self.data_size_limit:
                await self.reply(ERRORS.error("smtp_size"))
                return
        body = params.pop("BODY", "7BIT")
        if not isinstance(body, str) or body.upper() not in ("7BIT", "8BITMIME"):
            await self.reply(ERRORS.error("smtp_bad_parameter", "Bad BODY parameter"))
            return
        env.body = body.upper()
        env.smtputf8 = bool(params.pop("SMTPUTF8", False))
        ret = params.pop("RET", None)
        if ret is not None:
            if not isinstance(ret, str) or ret.upper() not in ("FULL", "HDRS"):
                await self.reply(ERRORS.error("smtp_bad_parameter", "Bad RET parameter"))
                return
            env.ret = ret.upper()
        envid = params.pop("ENVID", None)
        if envid is not None:
            if not isinstance(envid, str) or len(envid) > 100:
                await self.reply(ERRORS.error("smtp_bad_parameter", "Bad ENVID parameter"))
                return
            env.envid = xtext_decode(envid)
        params.pop("AUTH", None)  # RFC 4954 §5: accepted, not used
        if params:
            await self.reply(ERRORS.error("smtp_bad_parameter", f"Unsupported option: {sorted(params)[0]}"))
            return
        if not self.identity.owns(address):
            await self._journal(
                f"SMTP submit {address or '<>'}", 550, "refused: sender not owned", mail_from=address
            )
            await self.reply(ERRORS.error("smtp_sender_not_owned"))
            return
        self.envelope_state, self.refused = env, []
        assert self.envelope is not None
        self.envelope.mail_from = address
        await self.push("250 2.1.0 Ok")

    @syntax("RCPT TO: <address>", extended=" [SP <mail-parameters>]")
    async def smtp_RCPT(self, arg: str | None) -> None:
        if await self.check_helo_needed():
            return
        env = self.envelope_state
        if env is None:
            await self.push("503 5.5.1 Error: need MAIL command")
            return
        rest = self._strip_command_keyword("TO:", arg or "")
        if rest is None:
            await self.push("501 5.5.4 Syntax: RCPT TO:<address>")
            return
        address, tail = self._getaddr(rest)
        if not address or tail is None or "@" not in address:
            await self.reply(ERRORS.error("smtp_bad_address"))
            return
        params = _params(tail)
        if params is None:
            await self.reply(ERRORS.error("smtp_bad_parameter"))
            return
        notify: tuple[str, ...] = ()
        raw_notify = params.pop("NOTIFY", None)
        if raw_notify is not None:
            values = tuple(v.upper() for v in str(raw_notify).split(","))
            if not values or not set(values) <= NOTIFY or ("NEVER" in values and len(values) > 1):
                await self.reply(ERRORS.error("smtp_bad_parameter", "Bad NOTIFY parameter"))
                return
            notify = values
        orcpt = ""
        raw_orcpt = params.pop("ORCPT", None)
        if raw_orcpt is not None:
            kind, semi, addr = str(raw_orcpt).partition(";")
            if not semi or not kind or not addr:
                await self.reply(ERRORS.error("smtp_bad_parameter", "Bad ORCPT parameter"))
                return
            orcpt = f"{kind};{xtext_decode(addr)}"
        if params:
            await self.reply(ERRORS.error("smtp_bad_parameter", f"Unsupported option: {sorted(params)[0]}"))
            return
        if len(env.recipients) >= int(self.mss.sandbox.config["mss_max_recipients"]):
            self.refused.append({"address": address, "reply": "452 4.5.3"})
            await self.reply(ERRORS.error("smtp_too_many_recipients"))
            return
        try:
            route, mailbox = flow.recipient(self.mss.directory(), self.mss.outbound(), address)
        except ServiceError as err:
            line = flow.render(err)
            self.refused.append({"address": address, "reply": line})
            await self.push(line)
            return
        env.recipients.append(flow.Recipient(address.lower(), route, mailbox, notify, orcpt))
        assert self.envelope is not None
        self.envelope.rcpt_tos.append(address)
        await self.push("250 2.1.5 Ok")

    @syntax("RSET")
    async def smtp_RSET(self, arg: str) -> None:
        await self._abandon("RSET")
        await super().smtp_RSET(arg)

    @syntax("QUIT")
    async def smtp_QUIT(self, arg: str) -> None:
        await self._abandon("QUIT")
        await super().smtp_QUIT(arg)

    async def _abandon(self, why: str) -> None:
        env = self.envelope_state
        if env is not None and self.refused:
            await self._journal(
                f"SMTP submit {env.mail_from} → {len(env.recipients)} rcpt",
                int(self.refused[-1]["reply"][:3]),
                f"abandoned at {why} after RCPT refusals",
                refused=self.refused,
            )
        self.envelope_state, self.refused = None, []

    def _set_post_data_state(self) -> None:
        super()._set_post_data_state()
        self.envelope_state = None

    @syntax("DATA")
    async def smtp_DATA(self, arg: str) -> None:
        """aiosmtpd's DATA, read in blocks: it awaited one `readuntil` per line (64 % of the
        CPU of a 1 MB message). Same replies: 500 for a line over 1001 bytes, 552 over SIZE."""
        if self.envelope_state is None:
            await self.push("503 5.5.1 Error: need MAIL command")
            return
        if await self.check_helo_needed() or await self.check_auth_needed("DATA"):
            return
        assert self.envelope is not None
        if not self.envelope.rcpt_tos:
            await self.push("503 Error: need RCPT command")
            return
        if arg:
            await self.push("501 Syntax: DATA")
            return
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        data, too_much = await self._read_data()
        if too_much:
            await self.push("552 Error: Too much mail data")
        elif max(map(len, data.split(b"\r\n"))) > self.line_length_limit - 2:
            await self.push("500 Line too long (see RFC5321 4.5.3.1.6)")
        else:
            # RFC 5321 §4.5.2: a line's leading dot is transparency, not data
            content = data[1:] if data.startswith(b".") else data
            content = content.replace(b"\r\n.", b"\r\n")
            self.envelope.content = self.envelope.original_content = content
            status = await self._call_handler_hook("DATA")
            self._set_post_data_state()
            await self.push("250 OK" if status is MISSING else status)
            return
        self._set_post_data_state()

    async def _read_data(self) -> tuple[bytes, bool]:
        """The message up to the `<CRLF>.<CRLF>` that ends it (without the final `.<CRLF>`), and
        whether it was over SIZE (then not kept: read and dropped)."""
        reader = self._reader
        limit = reader._limit  # type: ignore[attr-defined]
        size = self.data_size_limit or 0
        reader._limit = size + 64 * 1024 if size else 2**31  # type: ignore[attr-defined]
        data, tail, dropped = bytearray(), b"", 0
        try:
            while True:
                try:
                    chunk = await reader.readuntil(b".\r\n")
                except asyncio.LimitOverrunError as exc:  # no end within SIZE: drop what came
                    chunk = await reader.read(exc.consumed)
                    dropped += len(data) + len(chunk)
                    tail, data = (tail + bytes(data) + chunk)[-5:], bytearray()
                    continue
                data += chunk
                seen = tail + bytes(data[-5:])
                if (dropped == 0 and len(data) == 3) or seen.endswith(b"\r\n.\r\n"):
                    break  # `.<CRLF>` at the start of a line
        finally:
            reader._limit = limit  # type: ignore[attr-defined]
        too_much = bool(size) and dropped + len(data) - 3 > size
        return (b"" if too_much else bytes(data[:-3])), too_much

    # aiosmtpd's DATA hook, with the message read (dot-unstuffed, CRLF kept)
    async def _data(self, server: Any, session: Any, envelope: Any) -> Any:
        env, self.envelope_state = self.envelope_state, None
        assert env is not None and self.envelope is not None and self.identity is not None
        raw = bytes(self.envelope.original_content or b"")
        try:
            return await blocking(self._submit, env, raw)
        except DropConnection:
            return None

    def _submit(self, env: flow.Envelope, raw: bytes) -> str:
        assert self.identity is not None
        ctx = flow.Context(
            self.mss.sandbox,
            self.mss.directory(),
            self.mss.mails,
            self.mss.outbound(),
            self.mss.host,
            self.identity,
            self.session.host_name or "" if self.session else "",
            str(self.session.peer[0]) if self.session and self.session.peer else "",
            self.tls,
            self.mss.receipts,
        )
        operation = "SMTP submit"
        with mail_exchange(
            self.mss.sandbox, "mss", operation, self.identity.tenant, self.transport, self.trace
        ) as ex:
            ex.caller = self.identity.caller
            ex.request_body = raw[:65536].decode("utf-8", "replace")
            ex.details.update(
                {
                    "listener": self.listener,
                    "envelope": env.as_dict(),
                    "refused": self.refused,
                    "tls": tls_journal(ctx.tls),
                }
            )
            try:
                line = flow.submit(ctx, ex, env, raw)
            except ServiceError as err:
                line = flow.render(err)
                ex.outcome = err.outcome
            except DropConnection:
                raise
            except Exception as exc:  # noqa: BLE001 - a bug of ours answers 451 with its trace id
                log.exception("MSS SMTP submit failed (trace %s)", ex.trace_id)
                ex.outcome = f"internal error: {type(exc).__name__}"
                line = f"{flow.render(ERRORS.error('smtp_server_error'))} (trace {ex.trace_id})"
            ex.status = int(line[:3])
            ex.operation = f"SMTP submit {env.mail_from} → {len(env.recipients)} rcpt"
            ex.response_body = line
        self.refused = []
        return line


class SmtpServer:
    """A MailServer: the SMTP listener of one port."""

    def __init__(
        self,
        mss: Mss,
        name: str,
        context: ssl.SSLContext | None,
        tls_mode: str,
        host: str,
        port: int,
        tls_test: str | None = None,
    ):
        implicit = tls_mode == "implicit"
        starttls = context if tls_mode == "starttls" else None
        self.listener = MailListener(
            name,
            host,
            port,
            context,
            "implicit" if implicit else ("starttls" if starttls else "none"),
            protocol=lambda: MssSmtp(mss, name, implicit, starttls, tls_test),
        )
        self.mss = mss

    @property
    def port(self) -> int:
        return self.listener.port

    def start(self) -> None:
        self.listener.start()

    def stop(self) -> None:
        for session in list(self.mss.smtp_sessions):
            transport = session.transport
            if session.listener == self.listener.name and transport is not None:
                with contextlib.suppress(Exception):
                    notify_threadsafe(transport.close)
        self.listener.stop()
