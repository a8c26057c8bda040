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

The edge rules (`EDGE`, an `EdgeLimits`):
- TLS handshakes run in the event loop (`tls_handshake`), bounded by `handshake_timeout`; a
  refusal is logged as one line naming what was refused (`describe_tls_refusal`);
- a request's head must arrive within `header_timeout`, a body may pause `body_timeout` at most,
  a keep-alive connection with nothing to do is closed after `idle_timeout`, an answer the client
  does not read for `write_timeout` is dropped;
- caps: URL (`max_url`, 8 KiB: 414), head (`max_head`: 431), body (the listener's `max_body`:
  413), answered through `refuse(environ, status, message)` (the runner passes the harness's
  `refuse`: the service's own shape, journaled) and then the rest of the request is drained (up
  to `drain_bytes` / `drain_seconds`) so that the client reads the answer instead of a reset.

Mail listeners (asyncio too, mocks/mail.py) get the same guarantees by calling the same pieces:
`await tls_handshake(transport, protocol, context, name, EDGE.handshake_timeout)` for implicit
TLS or STARTTLS (None: refused, already logged and closed), `describe_tls_refusal(exc)` for a
failure they catch themselves, and `IdleTimer(loop, EDGE.idle_timeout, on_expire)` (`touch()` on
activity, `cancel()` on close) for silent clients.

Every request gets, in its WSGI environ: `segur.peercert` (the client certificate, DER, or None),
`segur.tls` (protocol and cipher), `segur.trace_id` (echoed in `X-Sandbox-Trace-Id`),
`segur.tenant_hint` (from `X-Sandbox-Tenant` or a `/_t/<tenant>/` path prefix, which is stripped)
and `segur.drop` (closes the connection at once: a fault rule's `drop_connection`). An app that
sets `environ["segur.close"]` has the connection closed after its answer (the rest of the body
drained first).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import re
import socket
import ssl
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from email.utils import formatdate
from typing import Any
from urllib.parse import unquote_to_bytes

import h11

from mocks.errors import DropConnection

log = logging.getLogger("segur.http")

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
# refuse(environ, status, message) -> (status line, headers, body): an edge refusal, in the shape
# of the listener's service (the harness) or a plain page
Refuse = Callable[[dict[str, Any], int, str], tuple[str, list[tuple[str, str]], bytes]]
TENANT_PREFIX = re.compile(r"^/_t/([^/]+)(/.*)?$")
TRACE_HEADER = "X-Sandbox-Trace-Id"
DEFAULT_THREADS = 32
DEFAULT_MAX_BODY = 16 * 1024 * 1024
DRAIN_SILENCE = 1.0  # a refused client that stops sending for this long is closed


@dataclass(frozen=True)
class EdgeLimits:
    """What a client may take from a listener (seconds, bytes)."""

    handshake_timeout: float = 10.0
    header_timeout: float = 15.0
    body_timeout: float = 30.0
    idle_timeout: float = 60.0
    write_timeout: float = 60.0
    max_url: int = 8 * 1024
    max_head: int = 64 * 1024
    max_connections: int = 4096
    drain_bytes: int = 256 * 1024 * 1024
    drain_seconds: float = 10.0


EDGE = EdgeLimits()


# -- pieces shared with the mail listeners ----------------------------------------------------
def describe_tls_refusal(exc: BaseException, timeout: float = EDGE.handshake_timeout) -> str:
    """What a failed server-side handshake refused, in words an LGC developer can act on."""
    if isinstance(exc, TimeoutError | asyncio.TimeoutError) or "taking longer" in str(exc):
        return f"no TLS handshake within {timeout:g} s (an idle or stalled client)"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"client certificate refused: {exc.verify_message}"
    reason = getattr(exc, "reason", None) or ""
    known = {
        "PEER_DID_NOT_RETURN_A_CERTIFICATE": "no client certificate presented (this listener requires one)",
        "CERTIFICATE_VERIFY_FAILED": "client certificate refused (not issued by a CA this listener trusts)",
        "UNSUPPORTED_PROTOCOL": "TLS version refused (older than this listener's minimum)",
        "TLSV1_ALERT_PROTOCOL_VERSION": "TLS version refused (older than this listener's minimum)",
        "WRONG_VERSION_NUMBER": "not a TLS client hello (plain text on a TLS port?)",
        "HTTP_REQUEST": "plain HTTP sent to a TLS listener (use https://)",
        "NO_SHARED_CIPHER": "no cipher suite in common with this listener's policy",
        "NO_SUITABLE_SIGNATURE_ALGORITHM": "no signature algorithm in common with this listener",
        "TLSV1_ALERT_UNKNOWN_CA": "the client refused the server certificate (unknown CA: give the client the sandbox CA bundle)",
        "SSLV3_ALERT_BAD_CERTIFICATE": "the client refused the server certificate (bad certificate alert)",
        "SSLV3_ALERT_CERTIFICATE_UNKNOWN": "the client refused the server certificate (check its trust store and the host name)",
    }
    if reason in known:
        return known[reason]
    if isinstance(exc, ConnectionError | EOFError) or reason in {"UNEXPECTED_EOF_WHILE_READING", "EOF"}:
        return "the client closed the connection during the handshake"
    return f"{type(exc).__name__}: {reason or exc}"


async def tls_handshake(
    transport: asyncio.BaseTransport,
    protocol: asyncio.BaseProtocol,
    context: ssl.SSLContext,
    name: str,
    timeout: float = EDGE.handshake_timeout,
) -> asyncio.Transport | None:
    """Upgrade an accepted connection to TLS without holding the loop, within `timeout`; the new
    transport (its protocol's `connection_made` is the caller's to call), or None when refused:
    then the refusal is logged in one line and the connection closed."""
    loop = asyncio.get_running_loop()
    peer = _peer(transport)
    try:
        return await loop.start_tls(
            transport,  # type: ignore[arg-type]
            protocol,
            context,
            server_side=True,
            ssl_handshake_timeout=timeout,
        )
    except (OSError, EOFError, TimeoutError, ssl.SSLError) as exc:
        what = describe_tls_refusal(exc, timeout)
        # a stalled client is worth a line, a TCP probe (connect, close) is not
        closed = "closed the connection" in what
        level = logging.DEBUG if closed else logging.INFO if "within" in what else logging.WARNING
        log.log(level, "%s: TLS refused for %s: %s", name.upper(), peer, what)
        transport.abort()  # type: ignore[attr-defined]
        return None


class IdleTimer:
    """Calls `on_expire()` once `seconds` pass without `touch()`; cheap to touch often."""

    def __init__(self, loop: asyncio.AbstractEventLoop, seconds: float, on_expire: Callable[[], None]):
        self.loop, self.seconds, self.on_expire = loop, seconds, on_expire
        self._deadline = loop.time() + seconds
        self._handle: asyncio.TimerHandle | None = loop.call_at(self._deadline, self._check)

    def touch(self, seconds: float | None = None) -> None:
        if seconds is not None:
            self.seconds = seconds
        self._deadline = self.loop.time() + self.seconds
        if self._handle is None:
            self._handle = self.loop.call_at(self._deadline, self._check)

    def _check(self) -> None:
        self._handle = None
        if self.loop.time() >= self._deadline - 0.001:
            self.on_expire()
        else:
            self._handle = self.loop.call_at(self._deadline, self._check)

    def cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None


def _peer(transport: asyncio.BaseTransport) -> str:
    peer = transport.get_extra_info("peername")
    return f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer)


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


_date_cache: tuple[int, bytes] = (0, b"")


def _http_date() -> bytes:
    global _date_cache
    now = int(time.time())
    if _date_cache[0] != now:
        _date_cache = (now, formatdate(now, usegmt=True).encode())
    return _date_cache[1]


# -- one connection ---------------------------------------------------------------------------
class _Connection(asyncio.Protocol):
    def __init__(self, server: HttpServer):
        self.server = server
        self.limits = server.limits
        self.loop = server.loop
        self.transport: asyncio.Transport | None = None
        self.h11 = h11.Connection(h11.SERVER, max_incomplete_event_size=self.limits.max_head)
        self.request: h11.Request | None = None
        self.body = bytearray()
        self.busy = False  # a request is with the work pool
        self.draining = 0  # bytes of a refused request still accepted (then closed)
        self.drained = False  # the refused request has been read whole
        self.raw_drain = False  # refused before its head was read: count bytes, no parsing
        self.head_started = False
        self.peer_eof = False
        self.early = b""  # TLS: bytes that arrived with the handshake's end, before connection_made
        self.write_paused = False
        self.closed = False
        self.timer: IdleTimer | None = None
        self.env_base: dict[str, Any] = {}

    # connection life
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        obj = transport.get_extra_info("ssl_object")
        peer = transport.get_extra_info("peername") or ("", 0)
        local = transport.get_extra_info("sockname") or ("", 0)
        cipher = obj.cipher() if obj is not None else None
        self.env_base = {
            "SERVER_NAME": str(local[0]),
            "SERVER_PORT": str(local[1]),
            "REMOTE_ADDR": str(peer[0]),
            "REMOTE_PORT": str(peer[1]),
            "wsgi.url_scheme": "https" if obj is not None else "http",
            "wsgi.version": (1, 0),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            "segur.peercert": obj.getpeercert(binary_form=True) if obj is not None else None,
            "segur.tls": {
                "protocol": obj.version() if obj else None,
                "cipher": cipher[0] if cipher else None,
            },
        }
        if obj is not None:
            self.env_base["HTTPS"] = "on"
        self.server.connections.add(self)
        self.timer = IdleTimer(self.loop, self.limits.header_timeout, self._expired)
        if self.early:
            data, self.early = self.early, b""
            self.data_received(data)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.server.connections.discard(self)
        if self.timer is not None:
            self.timer.cancel()

    def pause_writing(self) -> None:
        self.write_paused = True
        if self.timer is not None:
            self.timer.touch(self.limits.write_timeout)

    def resume_writing(self) -> None:
        self.write_paused = False
        if not self.busy and not self.closed:
            self._next_cycle()

    def eof_received(self) -> bool | None:
        self.peer_eof = True
        if self.busy and "HTTPS" not in self.env_base:
            return True  # a half-closed plain TCP client still gets the answer being made
        self._close()
        return None

    def _expired(self) -> None:
        if self.closed:
            return
        if self.busy and not self.write_paused and not self.draining:
            if self.timer is not None:  # the app is working: not the client's doing
                self.timer.touch()
            return
        if self.write_paused:
            self._abort()  # the client reads nothing: what is buffered cannot be flushed
        else:
            self._close()

    def _close(self) -> None:
        if not self.closed and self.transport is not None:
            self.closed = True
            self.transport.close()

    def _abort(self) -> None:
        if not self.closed and self.transport is not None:
            self.closed = True
            self.transport.abort()

    # reading
    def data_received(self, data: bytes) -> None:
        if self.transport is None:
            self.early += data
            return
        if self.draining:
            self._drain(data)
            return
        self.h11.receive_data(data)
        if self.timer is not None:
            if self.request is not None:
                self.timer.touch(self.limits.body_timeout)
            elif not self.head_started:  # the head's deadline runs from its first byte
                self.head_started = True
                self.timer.touch(self.limits.header_timeout)
        self._process()

    def _process(self) -> None:
        while not self.busy and not self.closed:
            try:
                event = self.h11.next_event()
            except h11.RemoteProtocolError as exc:
                self._unreadable(exc)
                return
            if event is h11.NEED_DATA:
                if self.request is None and self._line_too_long():
                    self._refuse(
                        414, f"request URL longer than {self.limits.max_url} bytes", parse_rest=False
                    )
                return
            if event is h11.PAUSED:
                return
            if isinstance(event, h11.Request):
                self._started(event)
            elif isinstance(event, h11.Data):
                self.body += event.data
                if len(self.body) > self.server.max_body:
                    self._refuse(413, f"request body larger than {self.server.max_body} bytes")
            elif isinstance(event, h11.EndOfMessage):
                self._dispatch()
            elif isinstance(event, h11.ConnectionClosed):
                self._close()
                return

    def _line_too_long(self) -> bool:
        buffered, _ = self.h11.trailing_data
        end = buffered.find(b"\r\n")
        return (end if end >= 0 else len(buffered)) > self.limits.max_url + 32

    def _started(self, request: h11.Request) -> None:
        self.request = request
        self.body = bytearray()
        if self.timer is not None:
            self.timer.touch(self.limits.body_timeout)
        if len(request.target) > self.limits.max_url:
            self._refuse(414, f"request URL longer than {self.limits.max_url} bytes")
            return
        if sum(len(n) + len(v) + 4 for n, v in request.headers) > self.limits.max_head:
            self._refuse(431, f"request head larger than {self.limits.max_head} bytes")
            return
        length = _content_length(request)
        if length is not None and length > self.server.max_body:
            self._refuse(413, f"request body larger than {self.server.max_body} bytes")
            return
        if self.h11.they_are_waiting_for_100_continue and self.transport is not None:
            self.transport.write(
                self.h11.send(h11.InformationalResponse(status_code=100, headers=[], reason=b"Continue"))
            )

    def _unreadable(self, exc: h11.RemoteProtocolError) -> None:
        if self.request is None and self._line_too_long():
            self._refuse(414, f"request URL longer than {self.limits.max_url} bytes", parse_rest=False)
        else:
            status = exc.error_status_hint if exc.error_status_hint in (400, 431) else 400
            self._refuse(status, f"unreadable request: {exc}", parse_rest=False)

    # answering
    def _environ(self) -> dict[str, Any]:
        import io

        request = self.request
        assert request is not None
        environ = dict(self.env_base)
        target = request.target
        if not target.startswith(b"/") and b"://" in target:  # absolute form
            target = b"/" + target.split(b"://", 1)[1].partition(b"/")[2]
        path, _, query = target.partition(b"?")
        environ["REQUEST_METHOD"] = request.method.decode("ascii", "replace")
        environ["SCRIPT_NAME"] = ""
        environ["PATH_INFO"] = unquote_to_bytes(path).decode("latin-1")
        environ["QUERY_STRING"] = query.decode("latin-1")
        environ["SERVER_PROTOCOL"] = "HTTP/" + request.http_version.decode("ascii")
        environ["RAW_URI"] = environ["REQUEST_URI"] = target.decode("latin-1")
        for name, value in request.headers:
            key = name.decode("latin-1").upper().replace("-", "_")
            if key == "CONTENT_TYPE" or key == "CONTENT_LENGTH":
                environ[key] = value.decode("latin-1")
                continue
            key = "HTTP_" + key
            text = value.decode("latin-1")
            environ[key] = f"{environ[key]},{text}" if key in environ else text
        body = bytes(self.body)
        environ["CONTENT_LENGTH"] = str(len(body)) if body or "CONTENT_LENGTH" in environ else ""
        environ["wsgi.input"] = io.BytesIO(body)
        environ["segur.drop"] = self._drop_from_worker
        return environ

    def _drop_from_worker(self) -> None:
        self.loop.call_soon_threadsafe(self._abort)

    def _dispatch(self) -> None:
        environ = self._environ()
        self.busy = True
        if self.transport is not None:
            self.transport.pause_reading()
        self.server.pool.submit(
            self.server.call_app, (environ,), lambda answer: self._respond(answer, environ)
        )

    def _respond(
        self, answer: tuple[str, list[tuple[str, str]], bytes] | None, environ: dict[str, Any]
    ) -> None:
        self.busy = False
        if answer is None:  # a fault rule dropped the connection (or the app answered nothing)
            log.debug(
                "%s: %s %s: connection dropped by a fault rule (trace %s)",
                self.server.name.upper(),
                environ.get("REQUEST_METHOD"),
                environ.get("PATH_INFO"),
                environ.get("segur.trace_id"),
            )
            self._abort()
            return
        if self.closed or self.transport is None:
            return
        status, headers, body = answer
        code = int(status[:3])
        close = bool(environ.get("segur.close"))
        names = {k.lower() for k, _ in headers}
        if "content-length" not in names and code >= 200 and code not in (204, 304):
            headers.append(("Content-Length", str(len(body))))
        if "date" not in names:
            headers.append(("Date", _http_date().decode()))
        if close and "connection" not in names:
            headers.append(("Connection", "close"))
        try:
            out = self.h11.send(h11.Response(status_code=code, headers=headers, reason=status[4:].encode()))
            bodyless = code < 200 or code in (204, 304) or (self.request and self.request.method == b"HEAD")
            if body and not bodyless:
                out += self.h11.send(h11.Data(data=body))
            out += self.h11.send(h11.EndOfMessage())
        except h11.LocalProtocolError as exc:
            log.warning("%s: cannot send the answer: %s", self.server.name.upper(), exc)
            self._abort()
            return
        self.transport.write(out)
        if close or self.peer_eof or self.h11.our_state is h11.MUST_CLOSE:
            self._close()
            return
        if not self.write_paused:
            self._next_cycle()

    def _next_cycle(self) -> None:
        if self.h11.our_state is not h11.DONE or self.h11.their_state is not h11.DONE:
            if self.h11.our_state is h11.MUST_CLOSE or self.h11.their_state is h11.MUST_CLOSE:
                self._close()
            return
        self.h11.start_next_cycle()
        self.request = None
        self.head_started = False
        self.body = bytearray()
        if self.timer is not None:
            self.timer.touch(self.limits.idle_timeout)
        if self.transport is not None:
            self.transport.resume_reading()
        self._process()  # a pipelined request may be waiting in h11's buffer

    # refusals made at the edge, before the app runs
    def _refuse(self, status: int, message: str, parse_rest: bool = True) -> None:
        request = self.request
        environ = dict(self.env_base)
        environ["REQUEST_METHOD"] = request.method.decode("ascii", "replace") if request else "?"
        path = request.target.partition(b"?")[0] if request else self._first_line_target()
        environ["PATH_INFO"] = unquote_to_bytes(path[:512]).decode("latin-1")
        environ["QUERY_STRING"] = ""
        if request is not None:
            for name, value in request.headers:
                if name in (b"x-sandbox-tenant", b"x-sandbox-trace-id"):
                    environ["HTTP_" + name.decode().upper().replace("-", "_")] = value.decode("latin-1")
        environ["segur.edge_refusal"] = status
        self.busy = True
        # keep reading (and discarding) what the client still sends, so that it reads the answer
        self.draining = 1
        self.raw_drain = request is None or not parse_rest
        self.body = bytearray()
        self.server.pool.submit(
            self.server.call_refuse,
            (environ, status, message),
            lambda answer: self._refused(answer, status, message),
        )

    def _first_line_target(self) -> bytes:
        buffered, _ = self.h11.trailing_data
        parts = buffered.split(b"\r\n", 1)[0].split(b" ")
        return parts[1] if len(parts) > 1 else b"/"

    def _refused(self, answer: tuple[str, list[tuple[str, str]], bytes], status: int, message: str) -> None:
        self.busy = False
        log.info("%s: refused (%s): %s", self.server.name.upper(), status, message)
        if self.closed or self.transport is None:
            return
        line, headers, body = answer
        head = [f"HTTP/1.1 {line}"]
        names = {k.lower() for k, _ in headers}
        head += [f"{k}: {v}" for k, v in headers if k.lower() not in ("connection", "content-length")]
        head.append(f"Content-Length: {len(body)}")
        if "date" not in names:
            head.append("Date: " + _http_date().decode())
        head.append("Connection: close")
        self.transport.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
        # the client may still be sending its request: read it (bounded) before closing
        self.draining = self.limits.drain_bytes
        if self.peer_eof:
            self._close()
            return
        if self.raw_drain and self.transport.can_write_eof():
            self.transport.write_eof()  # plain TCP: tell the client the answer is whole
        if self.timer is not None:  # from now on: closed after a second of silence
            self.timer.touch(DRAIN_SILENCE)
        self.loop.call_later(self.limits.drain_seconds, self._close)
        self._drain(b"")

    def _drain(self, data: bytes) -> None:
        self.draining -= len(data)
        self._discard(data)
        if not self.busy:
            if self.draining <= 0 or self.drained:
                self._close()
            elif data and self.timer is not None:
                self.timer.touch(DRAIN_SILENCE)

    def _discard(self, data: bytes) -> None:
        """Feed h11 and drop the body, noting when the refused request has been read whole."""
        if self.raw_drain or self.drained:
            return
        if data:
            self.h11.receive_data(data)
        try:
            while True:
                event = self.h11.next_event()
                if event is h11.NEED_DATA or event is h11.PAUSED:
                    return
                if isinstance(event, h11.EndOfMessage | h11.ConnectionClosed):
                    self.drained = True
                    return
        except h11.RemoteProtocolError:
            self.raw_drain = True


def _content_length(request: h11.Request) -> int | None:
    for name, value in request.headers:
        if name == b"content-length":
            return int(value)
    return None


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
    ):
        self.name = name
        self.host, self._port = host, port
        self.app = edge(app)
        self.context = context
        self.max_body = max_body
        self.refuse = refuse or plain_refusal
        self.limits = limits
        self.loop = asyncio.new_event_loop()
        self.pool = WorkPool(self.loop, max(1, threads), f"http-{name}")
        self.connections: set[_Connection] = set()
        self.thread: threading.Thread | None = None
        self._server: asyncio.AbstractServer | None = None
        self._sock: socket.socket | None = None

    # in the work pool
    def call_app(self, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes] | None:
        captured: list[Any] = []
        chunks: list[bytes] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            if exc_info is not None and captured:
                raise exc_info[1].with_traceback(exc_info[2])
            captured[:] = [status, list(headers)]
            return chunks.append

        try:
            result = self.app(environ, start_response)
            try:
                for chunk in result:
                    if chunk:
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
            body = b"Internal Server Error\n"
            return "500 Internal Server Error", [("Content-Type", "text/plain; charset=utf-8")], body
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
            return _Connection(self)
        return _Handshake(self)

    async def _open(self, sock: socket.socket) -> None:
        self._server = await self.loop.create_server(self._accept, sock=sock, backlog=1024)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    # lifecycle
    def start(self) -> None:
        sock = socket.create_server((self.host, self._port), backlog=1024)  # binds now: conflicts at start
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
        conn = _Connection(self.server)
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
            _peer(transport),
        )
        transport.abort()  # type: ignore[attr-defined]
