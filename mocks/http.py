"""HTTP(S) listeners: the server edge every WSGI app of the sandbox is served through.

    loop thread (one per listener)          accept, TLS handshake, read, write: never blocks
      └─ connection (asyncio Protocol, h11)  reads a whole request (head within `header_timeout`,
           │                                 body within the listener's cap, `body_timeout` of
           │                                 silence at most), refuses what it cannot take
           └─ work pool (`threads` workers)  runs the WSGI app on a complete request; the answer
                                             goes back to the loop, which writes it
                                             (a slow reader holds a buffer, never a worker)

Why not cheroot (the previous stack): it made the TLS handshake in its single accept thread (one
idle TCP connection froze every TLS listener for 30 s) and gave a worker thread to each
connection while it read the request (20 slow clients starved its 16 workers). Figures and the
candidates measured: benchmarks/README.md.

The edge rules (`EDGE`, an `EdgeLimits`, in mocks/edge.py):
- TLS handshakes run in the event loop (`tls_handshake`), bounded by `handshake_timeout`; a
  refusal is logged as one line naming what was refused (`describe_tls_refusal`);
- a request's head must arrive within `header_timeout`, a body may pause `body_timeout` at most,
  a keep-alive connection with nothing to do is closed after `idle_timeout`, an answer the client
  does not read for `write_timeout` is dropped;
- caps: URL (`max_url`, 8 KiB: 414), head (`max_head`: 431), body (the listener's `max_body`:
  413), answered through `refuse(environ, status, message)` (the runner passes the harness's
  `refuse`: the service's own shape, journaled) and then the rest of the request is drained (up
  to `drain_bytes` / `drain_seconds`) so that the client reads the answer instead of a reset.
One connection's reading and writing is mocks/http_connection.py.

Mail listeners (asyncio too, mocks/mail.py) get the same guarantees by calling the same pieces
(re-exported here): `await tls_handshake(transport, protocol, context, name,
EDGE.handshake_timeout)` for implicit TLS or STARTTLS (None: refused, already logged and closed),
`describe_tls_refusal(exc)` for a failure they catch themselves, and `IdleTimer(loop,
EDGE.idle_timeout, on_expire)` (`touch()` on activity, `cancel()` on close) for silent clients.

Every request gets, in its WSGI environ: `segur.peercert` (the client certificate, DER, or None),
`segur.tls` (protocol and cipher), `segur.trace_id` (echoed in `X-Sandbox-Trace-Id`),
`segur.tenant_hint` (from `X-Sandbox-Tenant` or a `/_t/<tenant>/` path prefix, which is stripped)
`segur.drop` (closes the connection at once: a fault rule's `drop_connection`) and
`segur.connection` (also `segur.socket`): the client's connection as an identity, the same object
for every request on it, weak-referenceable (DMP journals TD0.1 once per TLS connection). An
answer without Content-Length is streamed as the app yields it (chunked), so server-sent events
work; one with a length is sent whole. An app that
sets `environ["segur.close"]` has the connection closed after its answer (the edge has read the
whole body already: nothing is left unread).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import re
import socket
import ssl
import threading
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from mocks.edge import EDGE, EdgeLimits, IdleTimer, describe_tls_refusal, peer_name, tls_handshake
from mocks.errors import DropConnection
from mocks.http_connection import Connection

__all__ = [
    "EDGE",
    "EdgeLimits",
    "HttpServer",
    "IdleTimer",
    "WorkPool",
    "close_socket",
    "describe_tls_refusal",
    "drop",
    "edge",
    "tls_handshake",
]

log = logging.getLogger("segur.http")

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
# refuse(environ, status, message) -> (status line, headers, body): an edge refusal, in the shape
# of the listener's service (the harness) or a plain page
Refuse = Callable[[dict[str, Any], int, str], tuple[str, list[tuple[str, str]], bytes]]
TENANT_PREFIX = re.compile(r"^/_t/([^/]+)(/.*)?$")
TRACE_HEADER = "X-Sandbox-Trace-Id"
DEFAULT_THREADS = 32
STREAMED = "streamed"  # call_app's answer when the body went out chunk by chunk
DEFAULT_MAX_BODY = 16 * 1024 * 1024


# -- what every listener does before the app sees a request -----------------------------------
def annotate(environ: dict[str, Any]) -> str:
    """Set the trace id and the tenant hint (stripping a `/_t/<tenant>` prefix); the trace id."""
    trace = str(environ.get("HTTP_X_SANDBOX_TRACE_ID") or uuid.uuid4().hex)
    environ["segur.trace_id"] = trace
    hint = environ.get("HTTP_X_SANDBOX_TENANT") or None
    match = TENANT_PREFIX.match(environ.get("PATH_INFO") or "")
    if match:
        hint = hint or match.group(1)
        environ["SCRIPT_NAME"] = (environ.get("SCRIPT_NAME") or "") + f"/_t/{match.group(1)}"
        environ["PATH_INFO"] = match.group(2) or "/"
    environ["segur.tenant_hint"] = hint
    return trace


def edge(app: WSGIApp) -> WSGIApp:
    """Trace id and tenant hint, then the app; a dropped connection answers nothing."""

    def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        trace = annotate(environ)

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            if not any(k.lower() == TRACE_HEADER.lower() for k, _ in headers):
                headers = [*headers, (TRACE_HEADER, trace)]
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        try:
            return app(environ, start)
        except DropConnection:
            return []

    return wrapped


def close_socket(environ: dict[str, Any]) -> None:
    """Close the client's connection at once, with no answer (a fault effect)."""
    dropper = environ.get("segur.drop")
    if dropper is not None:
        dropper()


def drop(environ: dict[str, Any]) -> None:
    close_socket(environ)
    raise DropConnection("connection dropped by a fault rule")


def plain_refusal(
    environ: dict[str, Any], status: int, message: str
) -> tuple[str, list[tuple[str, str]], bytes]:
    """The refusal page of a listener without a service protocol (the console, the PKI)."""
    from mocks.harness import REASONS

    body = f"{status} {REASONS.get(status, '')}: {message}\n".encode()
    return f"{status} {REASONS.get(status, 'Error')}", [("Content-Type", "text/plain; charset=utf-8")], body


# -- the work pool ---------------------------------------------------------------------------
class WorkPool:
    """Threads that run a function and hand its result to a callback in the loop: lighter than
    `run_in_executor` (no futures chained), started on demand up to `size`."""

    def __init__(self, loop: asyncio.AbstractEventLoop, size: int, name: str):
        self.loop, self.size, self.name = loop, size, name
        self._jobs: queue.SimpleQueue[
            tuple[Callable[..., Any], tuple[Any, ...], Callable[[Any], None]] | None
        ] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._threads = 0
        self._idle = 0

    def submit(self, fn: Callable[..., Any], args: tuple[Any, ...], done: Callable[[Any], None]) -> None:
        """From the loop: run fn(*args) in a worker, then done(result) in the loop."""
        with self._lock:
            start = self._idle <= 0 and self._threads < self.size
            if start:
                self._threads += 1
            else:
                self._idle -= 1  # a waiting worker takes it (or it queues behind the busy ones)
        self._jobs.put((fn, args, done))
        if start:
            threading.Thread(target=self._work, name=f"{self.name}-{self._threads}", daemon=True).start()

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            fn, args, done = job
            try:
                result = fn(*args)
            except BaseException as exc:  # noqa: BLE001 - call_app and call_refuse catch their own
                log.exception("%s: a worker failed", self.name)
                result = exc
            if not self.loop.is_closed():
                with contextlib.suppress(RuntimeError):  # the loop stopped meanwhile
                    self.loop.call_soon_threadsafe(done, result)
            with self._lock:
                self._idle += 1

    @property
    def threads(self) -> int:
        return self._threads

    def shutdown(self) -> None:
        for _ in range(self._threads):
            self._jobs.put(None)


# -- the listener -----------------------------------------------------------------------------
def _has_length(headers: list[tuple[str, str]]) -> bool:
    return any(k.lower() == "content-length" for k, _ in headers)


class HttpServer:
    """One listening socket serving a WSGI app: its event loop in a thread, its work pool."""

    def __init__(
        self,
        name: str,
        host: str,
        port: int,
        app: WSGIApp,
        context: ssl.SSLContext | None,
        *,
        threads: int = DEFAULT_THREADS,
        max_body: int = DEFAULT_MAX_BODY,
        refuse: Refuse | None = None,
        limits: EdgeLimits = EDGE,
        reuse_port: bool = False,
    ):
        self.name = name
        self.reuse_port = reuse_port  # SO_REUSEPORT: several processes serve one port (benchmarks)
        self.host, self._port = host, port
        self.app = edge(app)
        self.context = context
        self.max_body = max_body
        self.refuse = refuse or plain_refusal
        self.limits = limits
        self.loop = asyncio.new_event_loop()
        self.pool = WorkPool(self.loop, max(1, threads), f"http-{name}")
        self.connections: set[Connection] = set()
        self.thread: threading.Thread | None = None
        self._server: asyncio.AbstractServer | None = None
        self._sock: socket.socket | None = None

    # in the work pool
    def call_app(self, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes] | str | None:
        """Run the app on a complete request: (status, headers, body), or STREAMED when the answer
        had no Content-Length (server-sent events, a generated export: its chunks went to the
        connection as the app produced them), or None for a dropped connection."""
        captured: list[Any] = []
        chunks: list[bytes] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            if exc_info is not None and captured:
                raise exc_info[1].with_traceback(exc_info[2])
            captured[:] = [status, list(headers)]
            return chunks.append

        conn: Any = environ.get("segur.connection")
        streaming = False
        try:
            result = self.app(environ, start_response)
            # a generated answer without a length is streamed; a list is one body (its length set)
            may_stream = conn is not None and not isinstance(result, list | tuple)
            try:
                for chunk in result:
                    if not streaming and may_stream and captured and not _has_length(captured[1]):
                        streaming = True  # from here on, each chunk goes out as it comes
                        self.loop.call_soon_threadsafe(
                            conn.stream_head, captured[0], captured[1], b"".join(chunks)
                        )
                        chunks.clear()
                    if streaming:
                        if conn.closed:
                            break  # the client went away: stop the app (close() below)
                        if chunk:
                            self.loop.call_soon_threadsafe(conn.stream_chunk, chunk)
                    elif chunk:
                        chunks.append(chunk)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
        except DropConnection:
            return None
        except Exception:  # noqa: BLE001 - an app without the harness: a plain 500, logged
            log.exception(
                "%s: %s %s failed", self.name.upper(), environ["REQUEST_METHOD"], environ["PATH_INFO"]
            )
            if streaming:
                self.loop.call_soon_threadsafe(conn.stream_abort)
                return STREAMED
            body = b"Internal Server Error\n"
            return "500 Internal Server Error", [("Content-Type", "text/plain; charset=utf-8")], body
        if streaming:
            self.loop.call_soon_threadsafe(conn.stream_end)
            return STREAMED
        if not captured:
            return None
        return captured[0], captured[1], b"".join(chunks)

    def call_refuse(
        self, environ: dict[str, Any], status: int, message: str
    ) -> tuple[str, list[tuple[str, str]], bytes]:
        trace = annotate(environ)
        try:
            line, headers, body = self.refuse(environ, status, message)
            if not any(k.lower() == TRACE_HEADER.lower() for k, _ in headers):
                headers = [*headers, (TRACE_HEADER, trace)]
            return line, headers, body
        except Exception:  # noqa: BLE001 - the refusal still goes out, plain
            log.exception("%s: rendering a %s refusal failed", self.name.upper(), status)
            return plain_refusal(environ, status, message)

    # in the loop
    def _accept(self) -> asyncio.Protocol:
        if len(self.connections) >= self.limits.max_connections:
            return _Overflow(self)
        if self.context is None:
            return Connection(self)
        return _Handshake(self)

    async def _open(self, sock: socket.socket) -> None:
        self._server = await self.loop.create_server(self._accept, sock=sock, backlog=1024)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    # lifecycle
    def start(self) -> None:
        # binds now: conflicts at start
        sock = socket.create_server((self.host, self._port), backlog=1024, reuse_port=self.reuse_port)
        sock.setblocking(False)
        self._sock = sock
        self.thread = threading.Thread(target=self._run, name=f"http-{self.name}", daemon=True)
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._open(sock), self.loop).result(10)

    @property
    def port(self) -> int:
        assert self._sock is not None, "not started"
        return int(self._sock.getsockname()[1])

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        for conn in list(self.connections):
            conn._abort()
        for task in asyncio.all_tasks(self.loop):
            if task is not asyncio.current_task():
                task.cancel()

    def stop(self) -> None:
        if self.thread is None:
            return
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(self._shutdown(), self.loop).result(5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)
        self.thread = None
        self.pool.shutdown()
        if not self.loop.is_running():
            self.loop.close()


class _Handshake(asyncio.Protocol):
    """A TCP connection until its TLS handshake completes (in the loop, bounded)."""

    def __init__(self, server: HttpServer):
        self.server = server
        self.task: asyncio.Task[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        transport.pause_reading()  # start_tls takes the stream over
        self.task = self.server.loop.create_task(self._upgrade(transport))

    async def _upgrade(self, transport: asyncio.BaseTransport) -> None:
        assert self.server.context is not None
        conn = Connection(self.server)
        tls = await tls_handshake(
            transport, conn, self.server.context, self.server.name, self.server.limits.handshake_timeout
        )
        if tls is not None:
            conn.connection_made(tls)

    def connection_lost(self, exc: Exception | None) -> None:
        pass


class _Overflow(asyncio.Protocol):
    """Beyond `max_connections`: closed at once, logged."""

    def __init__(self, server: HttpServer):
        self.server = server

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        log.warning(
            "%s: %d connections open: connection from %s closed",
            self.server.name.upper(),
            len(self.server.connections),
            peer_name(transport),
        )
        transport.abort()  # type: ignore[attr-defined]
