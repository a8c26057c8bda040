"""The server edge (mocks.http) over real sockets: slow clients cannot starve the work pool, caps
are answered in the listener's shape after the client has been read, every edge refusal is
journaled, a dropped connection logs one line. Small counts here; full counts in
benchmarks/bench_edge.py."""

from __future__ import annotations

import logging
import socket
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import httpx
import pytest

from mocks.http import HttpServer
from mocks.runner import Runner


def _app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    body = environ["wsgi.input"].read()
    path = environ["PATH_INFO"]
    if path == "/big":
        out = b"x" * (8 * 1024 * 1024)
    else:
        out = f"{environ['REQUEST_METHOD']} {path} {len(body)}".encode()
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [out]


@pytest.fixture
def small_pool() -> Iterator[HttpServer]:
    """A plain listener with 4 workers only."""
    server = HttpServer("edge-test", "127.0.0.1", 0, _app, None, threads=4, max_body=64 * 1024)
    server.start()
    yield server
    server.stop()


def _raw(port: int, data: bytes = b"") -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    if data:
        sock.sendall(data)
    return sock


def _answer(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes (or 10 s)."""
    chunks = []
    sock.settimeout(10)
    while True:
        try:
            data = sock.recv(65536)
        except (TimeoutError, ConnectionResetError):
            break
        if not data:
            break
        chunks.append(data)
    return b"".join(chunks)


def test_slow_clients_do_not_hold_workers(small_pool: HttpServer) -> None:
    """12 slow clients on a 4-worker listener (a head sent by halves, a body that stops, an
    answer never read): a normal call still answers at once."""
    port = small_pool.port
    slow = []
    for _ in range(4):
        slow.append(_raw(port, b"GET /slow HTTP/1.1\r\nHost: x\r\n"))  # head never finished
        slow.append(_raw(port, b"POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nabc"))
        reader = _raw(port, b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
        reader.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        slow.append(reader)  # an 8 MB answer nobody reads
    try:
        time.sleep(0.2)
        with httpx.Client(timeout=3) as client:
            for _ in range(5):
                resp = client.post(f"http://127.0.0.1:{port}/normal", content=b"hello")
                assert resp.status_code == 200 and resp.text == "POST /normal 5"
    finally:
        for sock in slow:
            sock.close()


def test_pool_size_is_the_http_threads_setting(echo_runner: Runner) -> None:
    assert echo_runner.config["http_threads"] == 32
    assert echo_runner.servers["echo"].pool.size == 32


def test_pipelined_requests_are_answered_in_order(small_pool: HttpServer) -> None:
    sock = _raw(
        small_pool.port,
        b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
        b"GET /b HTTP/1.1\r\nHost: x\r\n\r\n"
        b"GET /c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    data = _answer(sock)
    sock.close()
    assert data.count(b"HTTP/1.1 200 OK") == 3
    assert data.index(b"POST /a 3") < data.index(b"GET /b 0") < data.index(b"GET /c 0")


def test_expect_100_continue(small_pool: HttpServer) -> None:
    """curl sends `Expect: 100-continue` for large bodies: under the cap it gets 100 then the
    answer; over the cap the refusal at once, without sending the body."""
    sock = _raw(
        small_pool.port, b"POST /e HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n"
    )
    assert sock.recv(100).startswith(b"HTTP/1.1 100 Continue\r\n")
    sock.sendall(b"abcd")
    assert b"POST /e 4" in sock.recv(1000)
    sock.close()
    sock = _raw(
        small_pool.port,
        b"POST /e HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\nExpect: 100-continue\r\n\r\n",
    )
    sock.shutdown(socket.SHUT_WR)
    data = _answer(sock)
    sock.close()
    assert data.startswith(b"HTTP/1.1 413 ") and b"100 Continue" not in data


def test_a_large_body_is_refused_and_the_client_reads_the_refusal(small_pool: HttpServer) -> None:
    """httpx sends the whole body before reading: the edge drains it (bounded) and the client
    sees 413, not a reset, on a known length and on a chunked body alike."""
    with httpx.Client(timeout=10) as client:
        resp = client.post(f"http://127.0.0.1:{small_pool.port}/up", content=b"x" * (8 * 1024 * 1024))
        assert resp.status_code == 413 and "larger than 65536 bytes" in resp.text
        resp = client.post(f"http://127.0.0.1:{small_pool.port}/up", content=iter([b"y" * 65536] * 40))
        assert resp.status_code == 413
        # and a body under the cap, chunked, reaches the app whole
        resp = client.post(f"http://127.0.0.1:{small_pool.port}/up", content=iter([b"z" * 1000] * 3))
        assert resp.status_code == 200 and resp.text == "POST /up 3000"


# -- through the harness: the service's shape, journaled --------------------------------------
def _journal(ctl: httpx.Client, trace: str) -> dict[str, Any]:
    entries = ctl.get("/journal", params={"trace_id": trace, "bodies": "true"}).json()
    assert len(entries) == 1, f"expected one journal entry for trace {trace}: {entries}"
    return dict(entries[0])


def test_an_over_long_url_is_a_414_in_the_services_shape_and_journaled(
    ctl: httpx.Client, echo_runner: Runner
) -> None:
    trace = uuid.uuid4().hex
    resp = httpx.get(
        echo_runner.url("echo", "/echo/" + "A" * 9000), headers={"X-Sandbox-Trace-Id": trace}, timeout=10
    )
    assert resp.status_code == 414
    assert resp.json() == {"error": "request URL longer than 8192 bytes"}  # the echo protocol's JSON
    assert resp.headers["X-Sandbox-Trace-Id"] == trace
    entry = _journal(ctl, trace)
    assert entry["status"] == 414 and entry["outcome"].startswith("refused")
    assert entry["details"]["edge_refusal"] == 414 and entry["service"] == "echo"


def test_a_body_over_the_listener_cap_is_a_413_in_the_services_shape_and_journaled(
    ctl: httpx.Client, echo_runner: Runner
) -> None:
    trace = uuid.uuid4().hex
    big = b"x" * (16 * 1024 * 1024 + 1)  # the default cap, 16 MiB
    resp = httpx.post(
        echo_runner.url("echo", "/echo/BIG"), content=big, headers={"X-Sandbox-Trace-Id": trace}, timeout=30
    )
    assert resp.status_code == 413 and "larger than" in resp.json()["error"]
    entry = _journal(ctl, trace)
    assert entry["status"] == 413 and entry["operation"] == "POST /echo/BIG"


def test_an_unreadable_request_is_a_400_in_the_services_shape_and_journaled(
    ctl: httpx.Client, echo_runner: Runner
) -> None:
    before = ctl.get("/journal", params={"limit": 1}).json()
    after_id = before[0]["id"] if before else 0
    sock = _raw(
        echo_runner.sandbox.port("echo"), b"GET /echo/x HTTP/1.1\r\nHost x\r\nBad header line\r\n\r\n"
    )
    data = _answer(sock)
    sock.close()
    assert data.startswith(b"HTTP/1.1 400 ") and b'{"error": "unreadable request' in data
    entries = ctl.get("/journal", params={"after_id": after_id, "status": 400}).json()
    assert any(e["details"].get("edge_refusal") == 400 for e in entries)
    # an over-long head: 431
    sock = _raw(
        echo_runner.sandbox.port("echo"),
        b"GET /echo/x HTTP/1.1\r\nHost: x\r\n" + b"X-Big: y\r\n" * 8000 + b"\r\n",
    )
    assert _answer(sock).startswith(b"HTTP/1.1 431 ")
    sock.close()


def test_the_console_refuses_an_over_long_url_with_a_plain_page(echo_runner: Runner) -> None:
    resp = httpx.get(echo_runner.url("console", "/_sandbox/" + "a" * 9000), timeout=10)
    assert resp.status_code == 414 and resp.text.startswith("414 URI Too Long")


def test_a_dropped_connection_logs_one_line_and_no_traceback(
    ctl: httpx.Client, echo: httpx.Client, tid: str, caplog: pytest.LogCaptureFixture
) -> None:
    ctl.post(f"/faults?tenant={tid}", json={"service": "echo", "persona": "DROPME", "drop_connection": True})
    caplog.set_level(logging.DEBUG)
    with pytest.raises(httpx.HTTPError):
        echo.get("/echo/DROPME", headers={"X-Sandbox-Tenant": tid})
    time.sleep(0.2)  # the edge logs from its own thread
    records = [r for r in caplog.records if r.levelno >= logging.INFO and "dropped" in r.getMessage()]
    assert len(records) == 1, [r.getMessage() for r in caplog.records]
    assert records[0].getMessage().startswith("ECHO echo => 0 dropped")
    assert not any(r.exc_info for r in caplog.records) and "Traceback" not in caplog.text


@pytest.fixture
def tid(ctl: httpx.Client) -> Iterator[str]:
    name = "e-" + uuid.uuid4().hex[:10]
    assert ctl.post("/tenants", json={"id": name}).status_code == 201
    yield name
    ctl.delete(f"/tenants/{name}")


def test_a_generated_answer_without_length_is_streamed_and_stopped_when_the_client_leaves() -> None:
    """Server-sent events (the console's live journal): each chunk reaches the client as it is
    made; when the client goes, the app's generator is closed and its worker freed."""
    import threading

    closed = threading.Event()

    def events(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Type", "text/event-stream")])
        try:
            for i in range(1000):
                yield f"data: {i}\n\n".encode()
                time.sleep(0.05)
        finally:
            closed.set()

    server = HttpServer("edge-sse", "127.0.0.1", 0, events, None, threads=1)
    server.start()
    try:
        with (
            httpx.Client(timeout=5) as client,
            client.stream("GET", f"http://127.0.0.1:{server.port}/e") as resp,
        ):
            assert resp.headers.get("transfer-encoding") == "chunked"
            assert next(resp.iter_lines()) == "data: 0"
        assert closed.wait(5), "the generator was not closed after the client left"
        # the single worker is free again
        with (
            httpx.Client(timeout=5) as client,
            client.stream("GET", f"http://127.0.0.1:{server.port}/") as resp,
        ):
            assert next(resp.iter_lines()) == "data: 0"
    finally:
        server.stop()


def test_the_connection_is_one_identity_across_its_requests() -> None:
    seen: list[object] = []

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        seen.append(environ["segur.connection"])
        assert environ["segur.socket"] is environ["segur.connection"]
        start_response("200 OK", [("Content-Length", "2")])
        return [b"ok"]

    server = HttpServer("edge-id", "127.0.0.1", 0, app, None)
    server.start()
    try:
        with httpx.Client(timeout=5) as client:
            client.get(f"http://127.0.0.1:{server.port}/a")
            client.get(f"http://127.0.0.1:{server.port}/b")
        httpx.get(f"http://127.0.0.1:{server.port}/c", timeout=5)
    finally:
        server.stop()
    import weakref

    assert seen[0] is seen[1] and seen[2] is not seen[0]
    weakref.ref(seen[0])  # DMP keeps TLS sessions in a WeakSet
