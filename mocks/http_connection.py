"""One HTTP/1.1 connection of a listener (mocks.http): an asyncio Protocol around h11.

It reads a whole request (head within `header_timeout`, body within the listener's cap and
`body_timeout` of silence), hands it to the listener's work pool, writes the answer back
(keep-alive, pipelining, `Expect: 100-continue`), and refuses at the edge what it cannot take
(414, 431, 413, 400) through the listener's `refuse`, then drains the rest of the request
(bounded) so that the client reads the refusal rather than a reset.

About 440 lines: one state machine (reading, answering, streaming, refusing, draining) whose
states share the same few fields; kept in one class so that its transitions read together.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import socket
import sys
import time
from email.utils import formatdate
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_to_bytes

import h11

from mocks.edge import IdleTimer

if TYPE_CHECKING:
    from mocks.http import HttpServer

log = logging.getLogger("segur.http")
DRAIN_SILENCE = 1.0  # a refused client that stops sending for this long is closed

_date_cache: tuple[int, bytes] = (0, b"")


def _http_date() -> bytes:
    global _date_cache
    now = int(time.time())
    if _date_cache[0] != now:
        _date_cache = (now, formatdate(now, usegmt=True).encode())
    return _date_cache[1]


class Connection(asyncio.Protocol):
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
        environ["segur.connection"] = environ["segur.socket"] = self
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

    # a streamed answer (called in the loop, in order, by the worker producing it)
    def stream_head(self, status: str, headers: list[tuple[str, str]], first: bytes) -> None:
        if self.closed or self.transport is None:
            return
        headers = [*headers, ("Date", _http_date().decode())]
        try:
            out = self.h11.send(
                h11.Response(status_code=int(status[:3]), headers=headers, reason=status[4:].encode())
            )
            if first:
                out += self.h11.send(h11.Data(data=first))
        except h11.LocalProtocolError as exc:
            log.warning("%s: cannot send the answer: %s", self.server.name.upper(), exc)
            self._abort()
            return
        self.transport.write(out)

    def stream_chunk(self, data: bytes) -> None:
        if not self.closed and self.transport is not None and self.h11.our_state is h11.SEND_BODY:
            self.transport.write(self.h11.send(h11.Data(data=data)))

    def stream_end(self) -> None:
        if not self.closed and self.transport is not None and self.h11.our_state is h11.SEND_BODY:
            self.transport.write(self.h11.send(h11.EndOfMessage()))

    def stream_abort(self) -> None:
        self._abort()  # an app that fails half way: the client sees a truncated answer, not a lie

    def _respond(
        self, answer: tuple[str, list[tuple[str, str]], bytes] | str | None, environ: dict[str, Any]
    ) -> None:
        self.busy = False
        if isinstance(answer, str):  # streamed: head, chunks and end went out already
            if self.closed or self.transport is None:
                return
            if environ.get("segur.close") or self.peer_eof or self.h11.our_state is h11.MUST_CLOSE:
                self._close()
            elif not self.write_paused:
                self._next_cycle()
            return
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
