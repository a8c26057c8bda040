"""The edge rules every listener follows, HTTP (mocks.http) and mail (mocks.mail) alike.

- `EDGE` (an `EdgeLimits`): what a client may take from a listener, in seconds and bytes;
- `tls_handshake(transport, protocol, context, name, timeout)`: upgrade an accepted connection to
  TLS in the event loop (never in an accept thread), bounded by `timeout`; a refusal is logged in
  one line naming what was refused (`describe_tls_refusal`) and the connection closed (None);
- `IdleTimer(loop, seconds, on_expire)`: closes what stays silent (`touch()` on activity).

A mail listener on asyncio calls `tls_handshake` for implicit TLS (from its raw protocol's
`connection_made`, reading paused) and for STARTTLS, and an `IdleTimer(loop, EDGE.idle_timeout,
...)` per connection; mocks/http.py does the same for HTTP.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger("segur.http")


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
    peer = peer_name(transport)
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


def peer_name(transport: asyncio.BaseTransport) -> str:
    peer = transport.get_extra_info("peername")
    return f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer)
