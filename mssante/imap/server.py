"""IMAP on pymap: 4143 (STARTTLS) and 4993 (implicit TLS), research mssante.md §1.3.

pymap (a full IMAP4rev1 server: FETCH BODYSTRUCTURE / partial / BINARY, SEARCH, STORE, COPY,
MOVE, UIDPLUS, IDLE, APPEND, UTF-7 names) serves the mailboxes of mssante.imap.backend. What it
lacks for MSSanté clients is added here, on its documented extension points (its command
registry, `ConnectionState`, `IMAPConnection`):

    SASL   AUTHENTICATE XOAUTH2 / OAUTHBEARER (RFC 7628 error challenge) / EXTERNAL (APP mailbox,
           client certificate), with SASL-IR (RFC 4959); tokens and certificates are verified
           by mssante.auth in the mail work pool, never on the loop
    TLS    no AUTH= and LOGINDISABLED before STARTTLS (AUTHENTICATE then: NO [PRIVACYREQUIRED]),
           the STARTTLS handshake bounded in time, implicit TLS on 4993 (mocks.mail)
    LIST   NAMESPACE (RFC 2342), LIST-EXTENDED selection / return options (RFC 5258),
           SPECIAL-USE (RFC 6154: Sent, Drafts, Trash), LIST-STATUS (RFC 5819)
    flags  PERMANENTFLAGS with `\\*`: keywords such as `$MDNSent` persist (backend)
    time   a PSC token expiring during the session: the next command gets `* BYE [UNAVAILABLE]`;
           a silent client gets `* BYE Autologout` after `mss_imap_idle_timeout` seconds

Journal: one entry per login attempt (`MSS IMAP LOGIN a@b => OK`), per SELECT/EXAMINE, and one
per session at its end with the count of every command it ran (the command batch). Fault rules
name the operations `IMAP LOGIN` and `IMAP SELECT` (persona: the mailbox address).

Over 400 lines: pymap's extension points (commands, state, connection) for one server, kept together.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import re
import ssl
import uuid
from argparse import Namespace
from collections import Counter
from collections.abc import Iterable
from contextlib import AsyncExitStack, closing
from typing import TYPE_CHECKING, Any, cast

from proxyprotocol.sock import SocketInfo
from pymap.context import connection_exit, current_command
from pymap.exceptions import InvalidAuth, ResponseError
from pymap.imap import IMAPConnection
from pymap.imap.state import ConnectionState
from pymap.parsing import Params
from pymap.parsing.command import Command, CommandAuth, nonauth
from pymap.parsing.commands import Commands
from pymap.parsing.exceptions import NotParseable
from pymap.parsing.modutf7 import modutf7_decode
from pymap.parsing.primitives import Number
from pymap.parsing.response import (
    CommandResponse,
    Response,
    ResponseBad,
    ResponseBye,
    ResponseCode,
    ResponseContinuation,
    ResponseNo,
    ResponseOk,
    UntaggedResponse,
)
from pymap.parsing.response.code import Capability
from pymap.parsing.response.specials import ListResponse, StatusResponse
from pymap.parsing.specials import StatusAttribute
from pymap.parsing.specials.astring import AString

from mocks.errors import DropConnection, ServiceError
from mocks.mail import (
    MailListener,
    TlsMode,
    blocking,
    mail_exchange,
    read_deadline,
    start_tls,
    tls_info,
    tls_journal,
)
from mssante import auth, sasl
from mssante.errors import ERRORS
from mssante.imap import speedups
from mssante.imap.backend import Config, Login

if TYPE_CHECKING:
    from mssante.service import Mss

log = logging.getLogger("segur.mss")
speedups.install()

LOGIN_CAPS = [b"NAMESPACE", b"SPECIAL-USE", b"LIST-EXTENDED", b"LIST-STATUS"]
LINE_LIMIT = 64 * 1024
FLUSH_AT = 64 * 1024  # bytes gathered before a write (one TLS record holds 16 KB)
LIST_PATTERN = re.compile(rb"[\x21\x23-\x27\x2A-\x5B\x5D-\x7A\x7C\x7E]+")


class Refused(ResponseError):
    """A catalogue ImapReply as a pymap response (tagged NO/BAD, or BYE)."""

    def __init__(self, name: str, text: str | None = None):
        super().__init__(name)
        self.entry = ERRORS[name]
        self.text = text

    def get_response(self, tag: bytes) -> Response:
        entry = self.entry
        text = (self.text or getattr(entry, "text", "") or entry.description).encode()
        code = (
            ResponseCode.of(getattr(entry, "response_code", "").encode())
            if getattr(entry, "response_code", "")
            else None
        )
        status = getattr(entry, "status", "NO")
        if status == "BYE":
            return ResponseBye(text, code)
        if status == "BAD":
            return ResponseBad(tag, text, code)
        return ResponseNo(tag, text, code)


def refused(error: ServiceError) -> Refused:
    return Refused(error.error.name, error.text)


# -- commands pymap lacks -----------------------------------------------------------------------
class AuthenticateCommand(nonauth.AuthenticateCommand):
    """AUTHENTICATE mechanism [initial-response] (SASL-IR, RFC 4959)."""

    def __init__(self, tag: bytes, mech_name: bytes, initial: bytes | None) -> None:
        super().__init__(tag, mech_name)
        self.initial = initial

    @classmethod
    def parse(cls, buf: memoryview, params: Params) -> tuple[AuthenticateCommand, memoryview]:
        line = bytes(buf).rstrip(b"\r\n")
        words = line.split()
        if not 1 <= len(words) <= 2 or not re.fullmatch(rb"[A-Za-z0-9_-]+", words[0]):
            raise NotParseable(buf)
        return cls(params.tag, words[0].upper(), words[1] if len(words) == 2 else None), buf[len(buf) :]


class NamespaceCommand(CommandAuth):
    command = b"NAMESPACE"

    @classmethod
    def parse(cls, buf: memoryview, params: Params) -> tuple[NamespaceCommand, memoryview]:
        if bytes(buf).strip():
            raise NotParseable(buf)
        return cls(params.tag), buf[len(buf) :]


def _words(inner: bytes) -> list[bytes]:
    return [w.upper() for w in inner.split() if w]


class ListCommand(CommandAuth):
    """LIST, with RFC 5258 selection and return options (SUBSCRIBED, SPECIAL-USE, CHILDREN,
    STATUS of RFC 5819) and several patterns."""

    command = b"LIST"
    only_subscribed = False

    def __init__(
        self,
        tag: bytes,
        ref: str,
        patterns: list[str],
        select: list[bytes],
        returns: list[bytes],
        status: list[bytes],
    ) -> None:
        super().__init__(tag)
        self.ref_name, self.patterns = ref, patterns
        self.select, self.returns, self.status = select, returns, status
        self.filter = patterns[0] if patterns else ""

    @classmethod
    def parse(cls, buf: memoryview, params: Params) -> tuple[ListCommand, memoryview]:
        data = bytes(buf)
        pos = 0

        def space() -> None:
            nonlocal pos
            if data[pos : pos + 1] != b" ":
                raise NotParseable(buf)
            pos += 1

        def group() -> bytes:
            nonlocal pos
            depth, start = 0, pos
            while pos < len(data):
                ch = data[pos : pos + 1]
                depth += ch == b"("
                depth -= ch == b")"
                pos += 1
                if depth == 0:
                    return data[start + 1 : pos - 1]
            raise NotParseable(buf)

        def name() -> str:
            nonlocal pos
            view = memoryview(data)[pos:]
            match = LIST_PATTERN.match(data, pos)
            if match and data[pos : pos + 1] not in (b'"', b"{"):
                pos = match.end()
                return modutf7_decode(match.group(0))
            value, rest = AString.parse(view, params)
            pos = len(data) - len(rest)
            return modutf7_decode(value.value)

        space()
        select: list[bytes] = []
        if data[pos : pos + 1] == b"(":
            select = _words(group())
            space()
        ref = name()
        space()
        if data[pos : pos + 1] == b"(":
            inner = group()
            patterns = [modutf7_decode(p.strip(b'"')) for p in inner.split()]
        else:
            patterns = [name()]
        returns: list[bytes] = []
        status: list[bytes] = []
        if data[pos:].upper().startswith(b" RETURN "):
            pos += 8
            inner = group()
            found = re.search(rb"STATUS\s*\(([^)]*)\)", inner, re.I)
            if found:
                status = _words(found.group(1))
                inner = inner[: found.start()] + inner[found.end() :]
                returns.append(b"STATUS")
            returns += _words(inner)
        if data[pos:].strip(b"\r\n"):
            raise NotParseable(buf)
        return cls(params.tag, ref, patterns, select, returns, status), buf[len(buf) :]


class MssCommands(Commands):
    def _load_commands(self) -> None:
        super()._load_commands()
        for cmd in (AuthenticateCommand, NamespaceCommand, ListCommand):
            self.register(cmd)


class MssConfig(Config):
    @property
    def commands(self) -> Commands:
        return MssCommands()


# -- state ----------------------------------------------------------------------------------------
class MssState(ConnectionState):
    def __init__(self, conn: MssConnection, login: Login, config: MssConfig) -> None:
        super().__init__(login, config)
        self.conn = conn

    @property
    def capability(self) -> Capability:
        caps = [b"LITERAL+", b"SASL-IR", b"ID"]
        if self._session is not None:
            return Capability(caps + list(self.config.login_capability))
        if not self.conn.secure:
            return Capability([*caps, b"STARTTLS", b"LOGINDISABLED"])
        mechs = [b"AUTH=" + m.encode() for m in self.conn.mechanisms()]
        disabled = [] if self.conn.mss.sandbox.config["mss_password_auth"] else [b"LOGINDISABLED"]
        return Capability(caps + mechs + disabled)

    async def do_greeting(self) -> CommandResponse:
        return ResponseOk(b"*", b"Segur Sandbox MSSante IMAP ready.", self.capability)

    async def do_starttls(self, cmd: Command) -> tuple[CommandResponse, None]:
        if self.conn.secure:
            return ResponseBad(cmd.tag, b"TLS is already active."), None
        return ResponseOk(cmd.tag, b"Begin TLS negotiation now."), None

    async def do_login(self, cmd: Any) -> tuple[CommandResponse, None]:
        if not self.conn.secure:
            raise Refused("imap_privacy_required")
        if not self.conn.mss.sandbox.config["mss_password_auth"]:
            raise Refused("imap_auth_failed", "LOGIN is disabled: AUTHENTICATE XOAUTH2 with a PSC token.")
        user = cmd.userid.decode("utf-8", "replace")
        password = cmd.password.decode("utf-8", "replace")
        creds = await self.conn.verify("LOGIN", sasl.BearerCredentials("PLAIN", user, password))
        return await self.do_authenticate(cmd, creds), None  # type: ignore[arg-type]

    async def do_namespace(self, cmd: NamespaceCommand) -> tuple[CommandResponse, None]:
        resp = ResponseOk(cmd.tag, b"NAMESPACE completed.")
        resp.add_untagged(UntaggedResponse(b'NAMESPACE (("" "/")) NIL NIL'))
        return resp, None

    async def do_select(self, cmd: Any) -> Any:
        await self.conn.journal_select(cmd)
        return await super().do_select(cmd)

    async def do_list(self, cmd: Any) -> Any:
        if not isinstance(cmd, ListCommand):  # LSUB
            return await super().do_list(cmd)
        subscribed_only = b"SUBSCRIBED" in cmd.select
        special_only = b"SPECIAL-USE" in cmd.select
        resp = ResponseOk(cmd.tag, b"LIST completed.")
        updates = None
        seen: set[str] = set()
        subscribed: set[str] = set()
        if subscribed_only or b"SUBSCRIBED" in cmd.returns:
            subs, _ = await self.session.list_mailboxes("", "*", subscribed=True)
            subscribed = {n for n, _, _ in subs}
        for pattern in cmd.patterns or [""]:
            found, updates = await self.session.list_mailboxes(cmd.ref_name, pattern, selected=self._selected)
            for name, sep, attrs in found:
                if name in seen or (subscribed_only and name not in subscribed):
                    continue
                if special_only and not {b"Sent", b"Drafts", b"Trash", b"Junk", b"Archive"} & set(attrs):
                    continue
                seen.add(name)
                extra = [b"Subscribed"] if name in subscribed else []
                resp.add_untagged(ListResponse(name, sep, [*attrs, *extra]))
                if cmd.status and b"Noselect" not in attrs and name:
                    resp.add_untagged(await self._status(name, cmd.status))
        return resp, updates

    async def _status(self, name: str, items: list[bytes]) -> StatusResponse:
        snapshot, _ = await self.session.get_mailbox(name)
        values = {
            b"MESSAGES": snapshot.exists,
            b"RECENT": snapshot.recent,
            b"UIDNEXT": snapshot.next_uid,
            b"UIDVALIDITY": snapshot.uid_validity,
            b"UNSEEN": snapshot.unseen,
        }
        data = {StatusAttribute(i): Number(values[i]) for i in items if i in values}
        return StatusResponse(name, data)


# -- connection -----------------------------------------------------------------------------------
class Credentials:
    """What pymap's Login receives: the identity mssante.auth verified."""

    def __init__(self, identity: auth.Identity):
        self.identity = identity
        self.authcid = identity.login
        self.authzid = identity.login


class MssConnection(IMAPConnection):
    def __init__(
        self,
        mss: Mss,
        listener: str,
        implicit: bool,
        config: MssConfig,
        reader: Any,
        writer: Any,
        tls_test: str | None = None,
    ) -> None:
        super().__init__(
            config.commands,
            config,
            reader,
            writer,
            SocketInfo.get(writer, None, unique_id=uuid.uuid4().bytes),
        )
        self.mss = mss
        self.listener = listener
        self.implicit = implicit
        self.tls_upgraded = False
        self.identity: auth.Identity | None = None
        self.counts: Counter[str] = Counter()
        self.trace = uuid.uuid4().hex
        self.idle_timeout = float(mss.sandbox.config["mss_imap_idle_timeout"])
        self.tls_test = tls_test
        self.tls_test_reported = False

    @property
    def secure(self) -> bool:
        return self.implicit or self.tls_upgraded

    def mechanisms(self) -> list[str]:
        found = ["XOAUTH2", "OAUTHBEARER"]
        info = tls_info(self.writer.transport)
        if info is not None and info.peer_der:
            found.append("EXTERNAL")
        if self.mss.sandbox.config["mss_password_auth"]:
            found.append("PLAIN")
        return found

    # writing: pymap writes a response piece by piece (`* 1 FETCH `, `(`, `FLAGS ()`, ...), each
    # piece its own TLS record and send. A client reading a non-blocking socket may then see half
    # a line (imapclient's idle_check drops it: idle_done later fails on its tail). Pieces are
    # gathered and leave at once, per response and per batch of IDLE updates.
    async def write_response(self, resp: Response) -> None:
        await self.write_updates([resp])

    async def write_updates(self, untagged: Iterable[Response]) -> None:
        out = _Gather(self.writer)
        try:
            for resp in untagged:
                await resp.async_write(out)
            out.flush()
            await self.writer.drain()
        except ConnectionError:
            pass

    # reading, with a deadline and a line limit
    async def _line(self, limit_reply: bool = True) -> bytes:
        try:
            return await read_deadline(self.reader.readuntil(b"\n"), self.idle_timeout)
        except TimeoutError:
            await self.write_response(Refused("imap_timeout").get_response(b"*"))
            await self.mss_journal("IMAP timeout", "BYE", "idle time-out")
            raise EOFError() from None
        except asyncio.IncompleteReadError:
            raise EOFError() from None
        except asyncio.LimitOverrunError as exc:
            await self.reader.read(exc.consumed)
            while True:
                try:
                    await self.reader.readuntil(b"\n")
                    break
                except asyncio.LimitOverrunError as more:
                    await self.reader.read(more.consumed)
            raise _TooLong() from None

    async def readline(self) -> memoryview:
        while True:
            try:
                buf = bytearray(await self._line())
            except _TooLong:
                await self.write_response(
                    UntaggedResponse(b"Line too long.", ResponseCode.of(b"TOOBIG"), condition=b"BAD")
                )
                continue
            while buf.endswith((b"+}\n", b"+}\r\n")):
                found = self._literal_plus.search(buf)
                if not found:
                    break
                buf += await self.reader.readexactly(int(found.group(1)))
                buf += await self._line()
            return memoryview(buf)

    async def read_continuation(self, literal_length: int) -> memoryview:
        extra = await self.reader.readexactly(literal_length)
        line = await self.readline()
        return memoryview(extra + bytes(line))

    async def read_command(self, state: ConnectionState) -> Command:
        cmd = await super().read_command(state)
        self.counts[bytes(cmd.command).decode("ascii", "replace")] += 1
        if self.tls_test and self.tls_upgraded and not self.tls_test_reported:
            self.tls_test_reported = True
            await self.mss_journal(
                f"TLS test {self.tls_test}",
                "OK",
                f"client went on ({bytes(cmd.command).decode()})",
                finding=True,
            )
        if self.identity is not None and not await blocking(
            auth.still_valid, self.mss.sandbox, self.identity
        ):
            await self.write_response(Refused("imap_token_expired").get_response(b"*"))
            await self.mss_journal("IMAP token expired", "BYE", "token expired during the session")
            raise EOFError()
        return cmd

    async def start_tls(self) -> None:
        try:
            await start_tls(self.writer, self.config.ssl_context)
        except (ssl.SSLError, ConnectionError, TimeoutError):
            if self.tls_test:
                await self.mss_journal(f"TLS test {self.tls_test}", "BYE", "handshake aborted by client")
            raise
        self.tls_upgraded = True
        if self.tls_test:
            await self.mss_journal(f"TLS test {self.tls_test}", "OK", "handshake completed")

    # SASL
    async def authenticate(self, state: ConnectionState, mech_name: bytes) -> Any:
        cmd = current_command.get()
        if not self.secure:
            await self.mss_journal(
                "IMAP AUTHENTICATE without TLS", "NO", "refused: privacy required", tls=tls_journal(None)
            )
            raise Refused("imap_privacy_required")
        mechanism = mech_name.decode("ascii", "replace").upper()
        if mechanism not in self.mechanisms():
            return None  # pymap: NO Invalid authentication mechanism
        initial = getattr(cmd, "initial", None)
        if initial is None:
            await self.write_response(ResponseContinuation(b""))
            initial = await self._sasl_line()
        try:
            creds = sasl.parse(mechanism, sasl.b64decode(initial))
        except sasl.SaslError as exc:
            await self.mss_journal("IMAP LOGIN", "NO" if "token" in str(exc) else "BAD", f"refused: {exc}")
            if "token" in str(exc):
                raise InvalidAuth() from None
            raise _Bad(str(exc)) from None
        return await self.verify(mechanism, creds)

    async def _sasl_line(self) -> bytes:
        try:
            line = await self._line()
        except _TooLong:
            raise _Bad("SASL response too long") from None
        line = line.strip()
        if line == b"*":
            raise _Bad("Authentication aborted")
        return line

    async def verify(self, mechanism: str, creds: sasl.Credentials) -> Credentials:
        found = await blocking(self._identify, creds)
        login = getattr(creds, "user", "") or getattr(creds, "authzid", "")
        if isinstance(found, auth.Refusal):
            if mechanism == "OAUTHBEARER":
                await self.write_response(ResponseContinuation(base64.b64encode(sasl.oauthbearer_failure())))
                await self._sasl_line()
            await self.mss_journal(
                f"IMAP LOGIN {login}".strip(), "NO", f"refused: {found.reason}", tenant=found.tenant
            )
            raise Refused("imap_auth_failed")
        try:
            await blocking(self._login_fault, found)
        except ServiceError as err:
            raise refused(err) from None
        self.identity = found
        await self.mss_journal(
            f"IMAP LOGIN {found.login}",
            "OK",
            f"{found.kind} {found.subject}",
            tls=tls_journal(tls_info(self.writer.transport)),
        )
        return Credentials(found)

    def _identify(self, creds: sasl.Credentials) -> auth.Identity | auth.Refusal:
        directory = self.mss.directory()
        if isinstance(creds, sasl.BearerCredentials):
            found = auth.bearer(self.mss.sandbox, directory, creds)
            if isinstance(found, auth.Identity) and not found.login:
                mine = [m for m in found.mailboxes]
                if len(mine) != 1:
                    return auth.Refusal(
                        f"{found.subject} owns {len(mine)} mailboxes: name one (user=)", found.tenant
                    )
                return auth.Identity(
                    found.kind,
                    found.subject,
                    found.tenant,
                    found.mailboxes,
                    mine[0].address,
                    found.expires,
                    found.details,
                )
            return found
        if isinstance(creds, sasl.ExternalCredentials):
            info = tls_info(self.writer.transport)
            return auth.certificate(
                self.mss.sandbox, directory, info.peer_der if info else None, creds.authzid
            )
        return auth.Refusal("mechanism not offered", "default")

    def _login_fault(self, identity: auth.Identity) -> None:
        with mail_exchange(
            self.mss.sandbox, "mss", "IMAP LOGIN", identity.tenant, self.writer.transport, self.trace
        ) as ex:
            ex.journal = False  # the login line is journaled by mss_journal; a fault journals itself
            ex.persona = identity.login
            try:
                ex.fault(identity.login)
            except (ServiceError, DropConnection):
                ex.journal, ex.caller, ex.status = True, identity.login, 0
                raise

    # journal
    async def mss_journal(
        self,
        operation: str,
        status: str,
        outcome: str,
        tenant: str | None = None,
        finding: bool = False,
        **details: Any,
    ) -> None:
        identity = self.identity
        tenant = tenant or (identity.tenant if identity else "default")
        caller = identity.caller if identity else ""
        counts = dict(self.counts)

        def write() -> None:
            with mail_exchange(self.mss.sandbox, "mss", operation, tenant, None, self.trace) as ex:
                ex.caller, ex.outcome = caller, outcome
                ex.status = {"OK": 200, "NO": 403, "BAD": 400, "BYE": 0}.get(status, 200)
                ex.details.update({"listener": self.listener, "imap": status, "commands": counts, **details})
                if finding:
                    ex.findings.add(
                        "MSS-TLS-NOT-ABORTED",
                        "error",
                        f"Le client a poursuivi après une poignée de main TLS qu'il devait refuser : {self.tls_test}.",
                        location=f"IMAP {self.listener}",
                    )

        await blocking(write)

    async def journal_select(self, cmd: Any) -> None:
        identity = self.identity
        assert identity is not None
        mailbox = getattr(cmd, "mailbox", "")

        def select() -> None:
            with mail_exchange(
                self.mss.sandbox, "mss", "IMAP SELECT", identity.tenant, self.writer.transport, self.trace
            ) as ex:
                ex.caller, ex.persona = identity.caller, identity.login
                ex.details.update(
                    {"listener": self.listener, "folder": mailbox, "commands": dict(self.counts)}
                )
                try:
                    ex.fault(identity.login)
                except ServiceError as err:
                    ex.outcome, ex.status = err.outcome, 403
                    raise
                ex.operation = f"IMAP SELECT {identity.login} {mailbox}"

        try:
            await blocking(select)
        except ServiceError as err:
            raise refused(err) from None


class _Gather:
    """A WriteStream that holds what pymap writes and passes it on in blocks of `FLUSH_AT` bytes
    (a FETCH of a thousand messages does not wait whole in memory)."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self.writer = writer
        self.parts: list[bytes] = []
        self.size = 0

    def write(self, data: bytes) -> None:
        self.parts.append(data)
        self.size += len(data)
        if self.size >= FLUSH_AT:
            self.flush()

    def flush(self) -> None:
        if self.parts:
            self.writer.write(b"".join(self.parts))
            self.parts, self.size = [], 0


class _TooLong(Exception):
    pass


class _Bad(ResponseError):
    def __init__(self, text: str):
        super().__init__(text)
        self.raw = text.encode()

    def get_response(self, tag: bytes) -> Response:
        return ResponseBad(tag, self.raw)


class ImapServer:
    """A MailServer: the IMAP listener of one port."""

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
        self.mss = mss
        self.tls_test = tls_test
        self.name = name
        self.implicit = tls_mode == "implicit"
        self.config = MssConfig(
            Namespace(passlib_cfg=None, proxy_protocol=None, debug=False),
            mails=mss.mails,
            capabilities=LOGIN_CAPS,
            host=host,
            port=port,
            ssl_context=context,
            tls_enabled=tls_mode == "starttls",
            reject_dnsbl=False,
            invalid_user_sleep=0,
            bad_command_limit=10,
            max_append_len=int(mss.sandbox.config["mss_max_message_size"]),
        )
        self.login = Login(self.config)
        self.listener = MailListener(
            name,
            host,
            port,
            context,
            cast(TlsMode, tls_mode),
            handler=self.connected,
            limit=LINE_LIMIT,  # type: ignore[arg-type]
        )

    async def connected(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.config.apply_context()
        conn = MssConnection(self.mss, self.name, self.implicit, self.config, reader, writer, self.tls_test)
        state = MssState(conn, self.login, self.config)
        try:
            async with AsyncExitStack() as stack:
                connection_exit.set(stack)
                stack.enter_context(closing(conn))
                await conn.run(state)
        finally:
            if conn.identity is not None and conn.counts:
                await conn.mss_journal(
                    f"IMAP session {conn.identity.login}", "OK", f"{sum(conn.counts.values())} commands"
                )

    @property
    def port(self) -> int:
        return self.listener.port

    def start(self) -> None:
        self.listener.start()

    def stop(self) -> None:
        self.listener.stop()


__all__ = ["ImapServer"]
