"""mocks.mail's listeners: what every mail connection gets from the kernel, whatever the service."""

from __future__ import annotations

import asyncio
import socket
import threading

import pytest

from mocks.mail import MailListener


@pytest.mark.parametrize("kind", ["handler", "protocol"])
def test_accepted_connections_have_nagle_off(kind: str) -> None:
    """A reply written in several sends (a TLS handshake flight, a multi-line EHLO) must not wait
    for the client's delayed ACK: the accepted socket has TCP_NODELAY, as on the HTTP edge."""
    seen: list[int] = []
    done = threading.Event()

    def record(transport: asyncio.BaseTransport) -> None:
        seen.append(transport.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
        done.set()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        record(writer.transport)

    class Protocol(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            record(transport)

    if kind == "handler":
        listener = MailListener("t", "127.0.0.1", 0, None, "none", handler=handler)
    else:
        listener = MailListener("t", "127.0.0.1", 0, None, "none", protocol=Protocol)
    listener.start()
    try:
        with socket.create_connection(("127.0.0.1", listener.port), timeout=5):
            assert done.wait(5)
    finally:
        listener.stop()
    assert seen == [1]
