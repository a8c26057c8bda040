"""HTTP(S) listeners: a production WSGI server (cheroot) per listener, in threads.

- TLS uses an `ssl.SSLContext` built by the PKI (server certificate, client-certificate policy).
- Every request gets, in its WSGI environ: `segur.peercert` (the client certificate, DER, or None),
  `segur.tls` (protocol and cipher), `segur.trace_id` (echoed in `X-Sandbox-Trace-Id`),
  `segur.tenant_hint` (from `X-Sandbox-Tenant` or a `/_t/<tenant>/` path prefix, which is stripped)
  and `segur.socket` (so that a fault rule can drop the connection).
"""

from __future__ import annotations

import contextlib
import logging
import re
import socket
import ssl
import threading
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from cheroot import wsgi
from cheroot.ssl.builtin import BuiltinSSLAdapter

from mocks.errors import DropConnection

log = logging.getLogger("segur.http")

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
TENANT_PREFIX = re.compile(r"^/_t/([^/]+)(/.*)?$")
TRACE_HEADER = "X-Sandbox-Trace-Id"


class ContextSSLAdapter(BuiltinSSLAdapter):
    """cheroot's TLS adapter, with an SSLContext we built ourselves."""

    def __init__(self, context: ssl.SSLContext):  # noqa: D107 - the parent loads files; we do not
        self.certificate = self.private_key = self.certificate_chain = self.ciphers = None
        self.private_key_password = None
        self.context = context
        self._server_env: dict[str, Any] = {}


class Gateway(wsgi.Gateway_10):
    """cheroot's WSGI gateway, exposing the socket so that a fault can drop the connection."""

    def get_environ(self) -> dict[str, Any]:  # type: ignore[override]
        env: dict[str, Any] = super().get_environ()  # type: ignore[func-returns-value]
        env["segur.socket"] = self.req.conn.socket
        return env


def edge(app: WSGIApp) -> WSGIApp:
    """What every listener does before the service sees a request."""

    def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        pem = environ.get("SSL_CLIENT_CERT")
        environ["segur.peercert"] = ssl.PEM_cert_to_DER_cert(pem) if pem else None
        environ["segur.tls"] = {"protocol": environ.get("SSL_PROTOCOL"), "cipher": environ.get("SSL_CIPHER")}
        trace = environ.get("HTTP_X_SANDBOX_TRACE_ID") or uuid.uuid4().hex
        environ["segur.trace_id"] = trace
        hint = environ.get("HTTP_X_SANDBOX_TENANT") or None
        match = TENANT_PREFIX.match(environ.get("PATH_INFO") or "")
        if match:
            hint = hint or match.group(1)
            environ["SCRIPT_NAME"] = (environ.get("SCRIPT_NAME") or "") + f"/_t/{match.group(1)}"
            environ["PATH_INFO"] = match.group(2) or "/"
        environ["segur.tenant_hint"] = hint

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
    sock = environ.get("segur.socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def drop(environ: dict[str, Any]) -> None:
    close_socket(environ)
    raise DropConnection("connection dropped by a fault rule")


class HttpServer:
    """One listening socket serving a WSGI app, in its own thread."""

    def __init__(self, name: str, host: str, port: int, app: WSGIApp, context: ssl.SSLContext | None):
        self.name = name
        self.server = wsgi.Server((host, port), edge(app), numthreads=16, server_name=name, timeout=30)
        self.server.gateway = Gateway
        self.server.error_log = self._error_log  # type: ignore[method-assign]
        self.server.shutdown_timeout = 1
        if context is not None:
            self.server.ssl_adapter = ContextSSLAdapter(context)
        self.thread: threading.Thread | None = None

    def _error_log(self, msg: str = "", level: int = logging.INFO, traceback: bool = False) -> None:
        # A refused TLS handshake is what an LGC developer needs to see ("certificate verify
        # failed"), so it goes to our log with the listener's name, not to bare stderr.
        log.log(max(level, logging.INFO), "%s: %s", self.name.upper(), msg, exc_info=traceback)

    def start(self) -> None:
        self.server.prepare()  # binds now, so a port conflict is reported at start
        self.thread = threading.Thread(target=self.server.serve, name=f"http-{self.name}", daemon=True)
        self.thread.start()

    @property
    def port(self) -> int:
        return int(self.server.bind_addr[1])

    def stop(self) -> None:
        self.server.stop()
        if self.thread:
            self.thread.join(timeout=5)
