"""A light HTTP/1.1 load generator for the benchmarks: keep-alive connections over (mutual) TLS,
one per process, each sending a pre-built request and reading the answer with a minimal parser.

The issue's point: a load generator must be faster than the server it measures (httpx costs
about 1 ms of client CPU a request and capped the "bare" figure at 772 req/s). This one costs a
few tens of microseconds a request, so the server is the limit. Used by bench_insi, bench_psc
and bench_edge.

    result = run(Target("127.0.0.1", port, ca, cert, key), [request_bytes], seconds=5, clients=4)
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import socket
import ssl
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Target:
    host: str
    port: int
    ca: str | None = None  # None: plain HTTP
    cert: str | None = None
    key: str | None = None
    server_name: str = "localhost"


@dataclass
class Result:
    seconds: float
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    errors: int = 0

    def merge(self, other: Result) -> Result:
        statuses = dict(self.statuses)
        for k, v in other.statuses.items():
            statuses[k] = statuses.get(k, 0) + v
        return Result(
            self.seconds + other.seconds,
            self.latencies + other.latencies,
            statuses,
            self.errors + other.errors,
        )

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def quantile(self, q: int) -> float:
        if len(self.latencies) < 2:
            return self.latencies[0] if self.latencies else 0.0
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[q - 1]

    def line(self, name: str) -> str:
        return (
            f"{name}: {self.rate:,.0f} req/s   p50 {self.quantile(50) * 1000:.1f} ms   "
            f"p95 {self.quantile(95) * 1000:.1f} ms   p99 {self.quantile(99) * 1000:.1f} ms   "
            f"statuses {dict(sorted(self.statuses.items()))}"
            + (f"   errors {self.errors}" if self.errors else "")
        )


def connect(target: Target, timeout: float = 30) -> socket.socket:
    raw = socket.create_connection((target.host, target.port), timeout=timeout)
    raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if target.ca is None:
        return raw
    ctx = ssl.create_default_context(cafile=target.ca)
    if target.cert:
        ctx.load_cert_chain(target.cert, target.key)
    return ctx.wrap_socket(raw, server_hostname=target.server_name)


class Connection:
    """One keep-alive connection; `call(request)` -> (status, body)."""

    def __init__(self, target: Target, timeout: float = 30):
        self.target = target
        self.sock = connect(target, timeout)
        self.buffer = b""

    def call(self, request: bytes) -> tuple[int, bytes]:
        self.sock.sendall(request)
        while b"\r\n\r\n" not in self.buffer:
            self._more()
        head, _, rest = self.buffer.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        length = 0
        close = False
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            low = name.strip().lower()
            if low == b"content-length":
                length = int(value)
            elif low == b"connection" and value.strip().lower() == b"close":
                close = True
            elif low == b"transfer-encoding":
                raise RuntimeError("chunked answers are not supported by this load generator")
        while len(rest) < length:
            rest += self._recv()
        body, self.buffer = rest[:length], rest[length:]
        if close:
            self.reconnect()
        return status, body

    def _recv(self) -> bytes:
        data = self.sock.recv(262144)
        if not data:
            raise ConnectionError("connection closed by the server")
        return data

    def _more(self) -> None:
        self.buffer += self._recv()

    def reconnect(self) -> None:
        self.close()
        self.sock = connect(self.target)
        self.buffer = b""

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


def _worker(
    target: Target, requests: Sequence[bytes], seconds: float, limit: int, out: Any, ready: Any, go: Any
) -> None:
    conn = Connection(target)
    result = Result(seconds)
    try:
        conn.call(requests[0])  # handshake and warm-up, not counted
        ready.put(1)
        go.wait()
        deadline = time.perf_counter() + seconds
        i = 1 if limit else 0  # one use each: the warm-up used the first
        while time.perf_counter() < deadline and (not limit or i < limit):
            t0 = time.perf_counter()
            try:
                status, _ = conn.call(requests[i % len(requests)])
            except (OSError, RuntimeError, ValueError, IndexError):
                result.errors += 1
                conn.reconnect()
                continue
            result.latencies.append(time.perf_counter() - t0)
            result.statuses[status] = result.statuses.get(status, 0) + 1
            i += 1
    finally:
        conn.close()
    out.put((result.latencies, result.statuses, result.errors))


def run(
    target: Target,
    batches: Sequence[Sequence[bytes]],
    seconds: float,
    clients: int,
    *,
    one_each: bool = False,
) -> Result:
    """`clients` processes, each with one keep-alive connection, for `seconds`. Client i sends
    `batches[i % len(batches)]` in turn (repeating); with `one_each`, each request once at most."""
    spawn = mp.get_context("spawn")
    out: Any = spawn.Queue()
    ready: Any = spawn.Queue()
    go: Any = spawn.Event()
    procs = []
    for i in range(clients):
        batch = batches[i % len(batches)]
        limit = len(batch) if one_each else 0
        procs.append(spawn.Process(target=_worker, args=(target, batch, seconds, limit, out, ready, go)))
    for p in procs:
        p.start()
    for _ in procs:
        ready.get(timeout=120)
    started = time.perf_counter()
    go.set()
    total = Result(seconds)
    for _ in procs:
        lat, st, err = out.get(timeout=seconds + 120)
        total.latencies.extend(lat)
        total.errors += err
        for k, v in st.items():
            total.statuses[k] = total.statuses.get(k, 0) + v
    total.seconds = min(seconds, time.perf_counter() - started) if one_each else seconds
    for p in procs:
        p.join()
    return total


def post(path: str, body: bytes, content_type: str, host: str = "localhost", headers: str = "") -> bytes:
    """A keep-alive POST request, ready to send."""
    return (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\n{headers}\r\n"
    ).encode() + body
