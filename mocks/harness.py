"""The request harness: the one path every emulated HTTP endpoint goes through.

    edge (mocks.http: trace id, tenant hint, peer certificate)
      -> harness: tenant (hint, else what the caller presents) -> body within the listener's cap
         -> Exchange opened (journal entry, fault rules, findings)
         -> the service's WSGI app (raw or Flask), which names the operation and answers
      <- errors: a `ServiceError` (a catalogue entry, raised by the service or by a fault rule),
         an edge refusal (unknown tenant, body too large, unknown path...), or an unexpected
         exception: each rendered by the listener's `Protocol` in the service's own shape
         (SOAP fault, OAuth JSON, HTML page), journaled with its trace id, never a traceback.

A service gives each listener a `protocol` (mocks.service.Listener); the runner wraps the
listener's app with `Harness.wrap`. Inside the app, `current_exchange(environ)` is the request's
`Exchange`: set `ex.operation`, `ex.caller`, `ex.persona`, add findings, call `ex.fault(persona)`
where the real service would decide. A Flask app is built with `flask_app()` so that errors reach
the harness instead of Flask's own 500 page.

Mail listeners (SMTP, IMAP) use `sandbox.exchange(...)` per transaction and their protocol's
replies (mocks.errors.SmtpReply / ImapReply); the fault effects are the same.
"""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flask import Flask
from werkzeug.exceptions import HTTPException

from mocks.errors import DropConnection, ServiceError
from mocks.http import DEFAULT_MAX_BODY
from mocks.tenants import DEFAULT, UnknownTenant

if TYPE_CHECKING:
    from mocks.kernel import Exchange, Sandbox
    from mocks.service import Listener

log = logging.getLogger("segur.harness")

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
EXCHANGE_KEY = "segur.exchange"
# journal outcomes of the refusals the server edge makes before the app runs (413 as the harness's)
EDGE_OUTCOMES = {
    400: "refused: unreadable request",
    413: "refused: body too large",
    414: "refused: URL too long",
    431: "refused: head too large",
}
BODY_KEY = "segur.body"

REASONS = {
    200: "OK",
    201: "Created",
    202: "Accepted",
    204: "No Content",
    302: "Found",
    303: "See Other",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    408: "Request Timeout",
    410: "Gone",
    413: "Payload Too Large",
    414: "URI Too Long",
    415: "Unsupported Media Type",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


@dataclass
class Reply:
    """An HTTP answer a protocol renders."""

    status: int
    body: bytes = b""
    content_type: str | None = "text/plain; charset=utf-8"
    headers: list[tuple[str, str]] = field(default_factory=list)
    reason: str | None = None  # the status line's reason phrase (default: the standard one)

    def status_line(self) -> str:
        return f"{self.status} {self.reason or REASONS.get(self.status, 'Unknown')}"

    def header_list(self) -> list[tuple[str, str]]:
        headers = list(self.headers)
        names = {k.lower() for k, _ in headers}
        if self.content_type and "content-type" not in names:
            headers.insert(0, ("Content-Type", self.content_type))
        if "content-length" not in names:
            headers.append(("Content-Length", str(len(self.body))))
        return headers


class Protocol:
    """How a listener writes what the harness answers on the service's behalf. The base class
    answers in plain text; services use a kernel protocol (mocks.soap's SOAP protocols, `Json`)
    or subclass one to write their exact bytes."""

    def render(self, ex: Exchange, error: ServiceError) -> Reply:
        """A catalogue error (raised by the service or by a fault rule)."""
        return Reply(error.error.http_status or 500, (error.text or error.error.description).encode())

    def refusal(self, ex: Exchange, status: int, message: str) -> Reply:
        """What the harness refuses before the service runs: 404 unknown tenant or path, 405, 413,
        414, 400 for a request that cannot be read."""
        return Reply(status, message.encode())

    def crash(self, ex: Exchange) -> Reply:
        """An unexpected exception of ours: the protocol's own server error."""
        return Reply(500, f"Internal Server Error (trace {ex.trace_id})".encode())


class Json(Protocol):
    """`{"error": ..., "error_description": ...}` answers (OAuth style)."""

    def _json(self, status: int, error: str, description: str) -> Reply:
        import json

        body = json.dumps({"error": error, "error_description": description}, ensure_ascii=False)
        return Reply(status, body.encode(), "application/json")

    def render(self, ex: Exchange, error: ServiceError) -> Reply:
        data = error.error
        code = str(getattr(data, "error", "") or data.name)
        text = error.text or str(getattr(data, "error_description", "") or data.description)
        return self._json(data.http_status or 500, code, text)

    def refusal(self, ex: Exchange, status: int, message: str) -> Reply:
        return self._json(status, "invalid_request", message)

    def crash(self, ex: Exchange) -> Reply:
        return self._json(500, "server_error", f"internal error (trace {ex.trace_id})")


def current_exchange(environ: dict[str, Any]) -> Exchange:
    """The Exchange of the request being served (set by the harness)."""
    return environ[EXCHANGE_KEY]  # type: ignore[no-any-return]


def request_body(environ: dict[str, Any]) -> bytes:
    """The request body as the harness read it (within the listener's cap)."""
    return bytes(environ.get(BODY_KEY) or b"")


def flask_app(name: str) -> Flask:
    """A Flask app whose errors reach the harness: unhandled exceptions propagate (the harness
    renders them with the protocol), and Flask's HTTP errors (404, 405) become refusals."""
    app = Flask(name)
    app.config["PROPAGATE_EXCEPTIONS"] = True
    app.json.sort_keys = False  # type: ignore[attr-defined]

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Any:
        raise Refused(exc.code or 400, exc.description or exc.name)

    return app


class Refused(Exception):
    """Raise from a service app to have the harness answer an edge-style refusal (404, 405...)."""

    def __init__(self, status: int, message: str, headers: Sequence[tuple[str, str]] = ()):
        super().__init__(message)
        self.status, self.message, self.headers = status, message, list(headers)


def endpoint(handler: Callable[[Exchange, dict[str, Any]], Reply]) -> WSGIApp:
    """A WSGI app from `handler(exchange, environ) -> Reply`, for services without a framework
    (their wire layer writes exact bytes): `request_body(environ)` is the body."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        reply = handler(current_exchange(environ), environ)
        start_response(reply.status_line(), reply.header_list())
        return [reply.body]

    return app


def _cert_keys(environ: dict[str, Any]) -> Sequence[str | None]:
    from mocks.pki.identify import presented_keys

    return presented_keys(environ.get("segur.peercert"))


class Harness:
    def __init__(self, sandbox: Sandbox):
        self.sandbox = sandbox

    def wrap(self, service: str, listener: Listener) -> WSGIApp:
        """The listener's app behind the harness (the listener must have a protocol)."""
        assert listener.app is not None and listener.protocol is not None
        app, protocol = listener.app, listener.protocol
        presented = listener.presented or _cert_keys
        max_body = listener.max_body or DEFAULT_MAX_BODY
        sandbox = self.sandbox

        def harnessed(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            operation = f"{environ.get('REQUEST_METHOD', 'GET')} {environ.get('PATH_INFO') or '/'}"
            with sandbox.exchange(service, operation, DEFAULT, environ) as ex:
                environ[EXCHANGE_KEY] = ex
                ex.details["listener"] = listener.name
                ex.details["request"] = _request_line(environ)  # the console's copy-as-curl
                reply = self._serve(ex, environ, app, protocol, presented, max_body)
                if reply is None:
                    return []  # connection dropped by a fault rule
                ex.status = reply.status
                if ex.response_body is None and listener.journal_bodies:
                    ex.response_body = _text(reply.body)
            start_response(reply.status_line(), reply.header_list())
            return [reply.body]

        return harnessed

    def _serve(
        self,
        ex: Exchange,
        environ: dict[str, Any],
        app: WSGIApp,
        protocol: Protocol,
        presented: Callable[[dict[str, Any]], Sequence[str | None]],
        max_body: int,
    ) -> Reply | None:
        try:
            body = _read_body(environ, max_body)
            if body is None:
                environ["segur.close"] = True  # the rest of the body is not read: close after answering
                with contextlib.suppress(UnknownTenant):
                    ex.tenant = self.sandbox.resolve_tenant(environ)  # by hint only: the body is unread
                ex.outcome = "refused: body too large"
                reply = protocol.refusal(ex, 413, f"request body larger than {max_body} bytes")
                reply.headers.append(("Connection", "close"))
                return reply
            environ[BODY_KEY] = body
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
            try:
                ex.tenant = self.sandbox.resolve_tenant(environ, presented(environ))
            except UnknownTenant as exc:
                ex.details["unknown_tenant"] = exc.tenant
                ex.outcome = "refused: unknown tenant"
                return protocol.refusal(ex, 404, f"unknown tenant: {exc.tenant}")
            return self._call(ex, environ, app, body)
        except ServiceError as err:
            ex.outcome = err.outcome
            return protocol.render(ex, err)
        except Refused as ref:
            ex.outcome = ex.outcome or f"refused: {ref.message}"
            reply = protocol.refusal(ex, ref.status, ref.message)
            reply.headers.extend(ref.headers)
            return reply
        except DropConnection:
            return None
        except Exception as exc:  # noqa: BLE001 - a bug of ours answers in the protocol's shape
            log.exception("%s %s failed (trace %s)", ex.service.upper(), ex.operation, ex.trace_id)
            ex.outcome = f"internal error: {type(exc).__name__}"
            ex.details["error"] = f"{type(exc).__name__}: {exc}"
            return protocol.crash(ex)

    @staticmethod
    def _call(ex: Exchange, environ: dict[str, Any], app: WSGIApp, body: bytes) -> Reply:
        captured: dict[str, Any] = {}

        def start(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Callable[[bytes], None]:
            captured["status"], captured["headers"] = status, headers
            return lambda data: None

        iterable = app(environ, start)
        try:
            data = b"".join(iterable)
        finally:
            close = getattr(iterable, "close", None)
            if close is not None:
                close()
        if ex.request_body is None:
            ex.request_body = _text(body)
        code, _, reason = str(captured.get("status", "500")).partition(" ")
        headers = list(captured.get("headers", []))  # as the app wrote them (order included)
        return Reply(int(code), data, None, headers, reason or None)

    def refuse(
        self, service: str, listener: Listener, environ: dict[str, Any], status: int, message: str
    ) -> Reply:
        """An edge refusal made before the app could run (the server edge calls it for an
        over-long URL or an unreadable request): journaled, in the listener's protocol."""
        protocol = listener.protocol or Protocol()
        operation = f"{environ.get('REQUEST_METHOD', '?')} {(environ.get('PATH_INFO') or '/')[:200]}"
        with self.sandbox.exchange(service, operation, DEFAULT, environ) as ex:
            ex.details["listener"] = listener.name
            ex.details["edge_refusal"] = status
            try:  # the tenant as far as it can be told without the body
                presented = (listener.presented or _cert_keys)(environ)
                ex.tenant = self.sandbox.resolve_tenant(environ, presented)
            except UnknownTenant as exc:
                ex.details["unknown_tenant"] = exc.tenant
            except Exception:  # noqa: BLE001 - a `presented` that needs the body: the hint alone
                with contextlib.suppress(UnknownTenant):
                    ex.tenant = self.sandbox.resolve_tenant(environ)
            ex.outcome = EDGE_OUTCOMES.get(status, f"refused: {message}")
            ex.details["refusal"] = message
            reply = protocol.refusal(ex, status, message)
            ex.status = reply.status
            ex.response_body = _text(reply.body)
        return reply


def _read_body(environ: dict[str, Any], cap: int) -> bytes | None:
    """The request body, or None when it is larger than `cap` (never reading past cap + 1)."""
    stream = environ.get("wsgi.input")
    if stream is None:
        return b""
    try:
        length = int(environ.get("CONTENT_LENGTH") or -1)
    except ValueError:
        length = -1
    if length > cap:
        return None
    # a known length is read exactly; an unknown one (chunked) up to one byte past the cap
    data = bytes(stream.read(length if length >= 0 else cap + 1) if length else b"")
    return None if len(data) > cap else data


def _request_line(environ: dict[str, Any]) -> dict[str, str]:
    return {
        "method": str(environ.get("REQUEST_METHOD") or ""),
        "path": str(environ.get("PATH_INFO") or "/")[:500],
        "query": str(environ.get("QUERY_STRING") or "")[:2000],
        "content_type": str(environ.get("CONTENT_TYPE") or "")[:200],
    }


def _text(data: bytes | None) -> str | None:
    if data is None:
        return None
    return data.decode("utf-8", "replace")
