"""Mail listeners (SMTP, IMAP): the asyncio plumbing a mail service builds its servers on.

    loop thread (one per process, `mail_loop()`)      only I/O runs there: accept, TLS, read, write
      └─ MailListener(name, bind, port, context, tls_mode, serve)       one listening socket each
           ├─ implicit TLS: the handshake is part of the accept, bounded by `handshake_timeout`
           ├─ STARTTLS: the protocol upgrades the stream itself (`start_tls(writer, context)`)
           └─ serve(reader, writer, conn) -> a coroutine per connection (or a Protocol factory)
    work pool (`blocking(fn, ...)`)                   service logic, SQLite, parsing, fault delays

The guarantees, the same as the HTTP edge's (docs/architecture.md): a TLS handshake that never
completes, a client that stays silent or reads slowly, or a fault rule's delay never holds the
loop — each connection is its own task, every read has a deadline (`read_deadline`), and every
blocking step of a service runs in the work pool. A listener binds in `start()`, so a port
conflict is reported at start like an HTTP listener's.

Exchanges: a mail service opens one `sandbox.exchange(...)` per SMTP transaction or IMAP command
batch with `mail_exchange(...)`, which gives the exchange a trace id (there is no WSGI environ)
and an `on_drop` that aborts the connection, so that `ex.fault(persona)` works as on HTTP: a
delay sleeps (in the work pool), a drop closes the socket, an error raises the catalogue entry
(mocks.errors.SmtpReply / ImapReply) that the protocol renders as its reply.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
import threading
import uuid
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, Literal, TypeVar

if TYPE_CHECKING:
    from mocks.kernel import Exchange, Sandbox

log = logging.getLogger("segur.mail")

T = TypeVar("T")
TlsMode = Literal["implicit", "starttls", "none"]
HANDSHAKE_TIMEOUT = 10.0  # seconds a client has to complete a TLS handshake
WORKERS = 16


class _Loop:
    """The process's mail event loop, in a daemon thread, started on first use."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self.pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="mail-work")

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None or self._loop.is_closed():
                ready = threading.Event()
                loop = asyncio.new_event_loop()

                def run() -> None:
                    asyncio.set_event_loop(loop)
                    loop.call_soon(ready.set)
                    loop.run_forever()

                threading.Thread(target=run, name="mail-loop", daemon=True).start()
                ready.wait()
                self._loop = loop
            return self._loop

    def call(self, coro: Awaitable[T], timeout: float | None = 30) -> T:
        """Run a coroutine on the loop from another thread and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)  # type: ignore[arg-type]


_LOOP = _Loop()


def mail_loop() -> asyncio.AbstractEventLoop:
    return _LOOP.loop


def call_in_loop(coro: Awaitable[T], timeout: float | None = 30) -> T:
    return _LOOP.call(coro, timeout)


async def blocking(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a blocking step (SQLite, parsing, a fault rule's delay) in the work pool."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_LOOP.pool, partial(fn, *args, **kwargs))


def notify_threadsafe(callback: Callable[[], None]) -> None:
    """Schedule `callback` on the mail loop from any thread (e.g. wake IMAP IDLE sessions)."""
    loop = _LOOP._loop
    if loop is not None and not loop.is_closed():
        loop.call_soon_threadsafe(callback)


async def read_deadline(awaitable: Awaitable[T], seconds: float | None) -> T:
    """`await awaitable` within `seconds` (None: no deadline); TimeoutError after."""
    if not seconds:
        return await awaitable
    return await asyncio.wait_for(awaitable, seconds)


async def start_tls(
    writer: asyncio.StreamWriter, context: ssl.SSLContext, timeout: float = HANDSHAKE_TIMEOUT
) -> None:
    """Upgrade a stream connection to TLS (STARTTLS), the handshake bounded by `timeout`."""
    await writer.start_tls(context, ssl_handshake_timeout=timeout)


@dataclass(frozen=True)
class TlsInfo:
    """What a mail session knows of its TLS layer (journaled with each exchange)."""

    protocol: str | None
    cipher: str | None
    peer_der: bytes | None

    def as_dict(self) -> dict[str, Any]:
        return {"protocol": self.protocol, "cipher": self.cipher, "client_certificate": bool(self.peer_der)}


def tls_journal(info: TlsInfo | None) -> dict[str, Any]:
    """`details.tls` of a session's journal entry: the outcome the scoreboard reads (MSS.03), then
    the parameters; `plaintext` for a client that went on without TLS."""
    return {"outcome": "completed", **info.as_dict()} if info else {"outcome": "plaintext"}


def tls_info(transport: asyncio.BaseTransport | None) -> TlsInfo | None:
    """The TLS parameters of a transport, None when it is not (yet) TLS."""
    if transport is None:
        return None
    obj = transport.get_extra_info("ssl_object")
    if obj is None:
        return None
    cipher = obj.cipher()
    return TlsInfo(obj.version(), cipher[0] if cipher else None, obj.getpeercert(binary_form=True))


@contextlib.contextmanager
def mail_exchange(
    sandbox: Sandbox,
    service: str,
    operation: str,
    tenant: str,
    transport: asyncio.BaseTransport | None,
    trace: str = "",
) -> Iterator[Exchange]:
    """`sandbox.exchange(...)` for a mail session: a trace id, and a fault rule's drop aborts the
    transport (call from the work pool: `ex.fault` may sleep)."""
    with sandbox.exchange(service, operation, tenant) as ex:
        ex.trace = trace or uuid.uuid4().hex
        if transport is not None:
            loop = _LOOP._loop

            abort = getattr(transport, "abort", transport.close)

            def drop() -> None:
                if loop is not None and not loop.is_closed():
                    loop.call_soon_threadsafe(abort)

            ex.on_drop = drop
        yield ex


ConnectionHandler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
ProtocolFactory = Callable[[], asyncio.BaseProtocol]


class MailListener:
    """One listening socket on the mail loop (the `MailServer` a mail listener factory returns).

    Give either `handler` (a coroutine per connection, on asyncio streams) or `protocol` (an
    asyncio Protocol factory, e.g. aiosmtpd's SMTP). With `tls_mode="implicit"`, the accepted
    socket is wrapped in TLS before the handler runs; the handshake has `handshake_timeout`
    seconds, and a failed or abandoned handshake is logged (`on_handshake_error`) and dropped
    without touching other connections."""

    def __init__(
        self,
        name: str,
        host: str,
        port: int,
        context: ssl.SSLContext | None,
        tls_mode: TlsMode,
        *,
        handler: ConnectionHandler | None = None,
        protocol: ProtocolFactory | None = None,
        handshake_timeout: float = HANDSHAKE_TIMEOUT,
        limit: int = 64 * 1024,
    ):
        if (handler is None) == (protocol is None):
            raise ValueError("a mail listener needs a handler or a protocol factory, not both")
        if tls_mode != "none" and context is None:
            raise ValueError(f"mail listener {name}: tls_mode {tls_mode} needs a TLS context")
        self.name = name
        self.host, self._port = host, port
        self.context = context
        self.tls_mode = tls_mode
        self.handler, self.protocol = handler, protocol
        self.handshake_timeout = handshake_timeout
        self.limit = limit
        self._server: asyncio.base_events.Server | None = None
        self._sock: socket.socket | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def port(self) -> int:
        if self._sock is not None:
            return int(self._sock.getsockname()[1])
        return self._port

    def start(self) -> None:
        sock = socket.create_server((self.host, self._port), reuse_port=False, backlog=256)
        # accepted sockets take the listening socket's proto; asyncio turns Nagle off (TCP_NODELAY)
        # only where it is IPPROTO_TCP, not 0: with Nagle, a reply written in several sends (the
        # TLS handshake, a multi-line EHLO) waited for the client's delayed ACK, 40 ms each
        sock = socket.socket(sock.family, sock.type, socket.IPPROTO_TCP, fileno=sock.detach())
        sock.setblocking(False)
        self._sock = sock
        try:
            call_in_loop(self._start(sock))
        except BaseException:
            sock.close()
            self._sock = None
            raise
        log.debug("%s listening on %s:%s (%s)", self.name, self.host, self.port, self.tls_mode)

    async def _start(self, sock: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        implicit = self.context if self.tls_mode == "implicit" else None
        timeout = self.handshake_timeout if implicit else None
        if self.protocol is not None:
            self._server = await loop.create_server(
                self.protocol, sock=sock, ssl=implicit, ssl_handshake_timeout=timeout
            )
        else:
            self._server = await asyncio.start_server(
                self._connected, sock=sock, ssl=implicit, ssl_handshake_timeout=timeout, limit=self.limit
            )

    async def _connected(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        assert self.handler is not None
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            await self.handler(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError, TimeoutError):
            pass  # the client went away or broke TLS: nothing to answer
        except asyncio.CancelledError:
            pass
        except Exception:  # noqa: BLE001 - one connection's bug must not stop the listener
            log.exception("%s: connection handler failed", self.name.upper())
        finally:
            with contextlib.suppress(Exception):
                writer.close()
            if task is not None:
                self._tasks.discard(task)

    def stop(self) -> None:
        if self._server is None:
            return
        with contextlib.suppress(Exception):
            call_in_loop(self._stop(), timeout=10)
        self._server = None
        self._sock = None

    async def _stop(self) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._server.wait_closed(), 2)
