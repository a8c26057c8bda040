"""Server edge figures (printed, not asserted): what a normal INSi call costs while clients
misbehave, with the full counts of issue 11 (tests/kernel/test_edge*.py use small ones).

    .venv/bin/python benchmarks/bench_edge.py [--calls 100] [--only handshakes,slow,journal,body]

- handshakes: 200 idle TCP connections that never start TLS and 50 clients stopped mid-handshake
  on the INSi listener; a normal call (new connection, mTLS handshake, RECSANSVITALE) before and
  during. Goal: p95 < 50 ms during.
- slow: 20 slow clients (a head sent by halves, a body that stops) and 4 that never read their
  answers, on INSi's listener; a normal call before and during (issue: 0.07 s -> 29 s, cheroot).
- journal: 3,000 keep-alive calls with a journal capped at 1,000 entries (pruning all along):
  p50, p99, max per call (issue: every 200th call took 40-149 ms, spikes to 0.9 s).
- body: a 100 MB POST to INSi: the status the client reads and the server's memory (issue: RSS
  to 387 MB and staying at 192 MB).

Each call has a 30 s time-out (a stalled edge shows as time-outs, not as a hang).
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing as mp
import resource
import socket
import ssl
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import loadgen

from mocks.pki import Structure
from mocks.runner import Runner
from mocks.testing import make_config

sys.path.insert(0, str(Path(__file__).parent))
import contextlib

from bench_insi import CT, request  # noqa: E402

TIMEOUT = 30.0


def rss_mb() -> tuple[float, float]:
    """(current, peak) resident memory of this process (the server), MB."""
    fields = dict(
        line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line
    )
    return int(fields["VmRSS"].split()[0]) / 1024, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


CLIENT: Any = None  # a process of its own for the normal calls (not the server's interpreter)


def calls(target: loadgen.Target, req: bytes, n: int, fresh: bool) -> list[float]:
    """n calls from the client process, each on a new connection (`fresh`) or one keep-alive
    connection; seconds each (TIMEOUT for a call that failed or timed out)."""
    if CLIENT is not None:
        return list(CLIENT.apply(_calls, (target, req, n, fresh, TIMEOUT)))
    return _calls(target, req, n, fresh, TIMEOUT)


def _calls(target: loadgen.Target, req: bytes, n: int, fresh: bool, timeout: float) -> list[float]:
    global TIMEOUT
    TIMEOUT = timeout
    out: list[float] = []
    conn = None if fresh else loadgen.Connection(target, TIMEOUT)
    for _ in range(n):
        t0 = time.perf_counter()
        try:
            c = loadgen.Connection(target, TIMEOUT) if fresh else conn
            assert c is not None
            status, _ = c.call(req)
            if fresh:
                c.close()
            out.append(time.perf_counter() - t0 if status == 200 else TIMEOUT)
        except (OSError, ConnectionError, ValueError):
            out.append(TIMEOUT)
    if conn is not None:
        conn.close()
    return out


def describe(name: str, lat: list[float]) -> str:
    lat = sorted(lat)
    q = statistics.quantiles(lat, n=100, method="inclusive") if len(lat) > 1 else lat * 99
    failed = sum(1 for x in lat if x >= TIMEOUT)
    return (
        f"  {name:44} p50 {q[49] * 1000:8.1f} ms  p95 {q[94] * 1000:8.1f} ms  max {lat[-1] * 1000:8.1f} ms"
        + (f"  failed/timed out {failed}/{len(lat)}" if failed else "")
    )


def handshakes(target: loadgen.Target, req: bytes, n: int) -> None:
    print("handshakes: 200 idle TCP connections + 50 clients stopped mid-handshake (INSi mTLS)")
    print(describe("normal call, new connection, nobody else", calls(target, req, n, fresh=True)))
    ctx = ssl.create_default_context()
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(incoming, outgoing, server_hostname="localhost")
    with contextlib.suppress(ssl.SSLWantReadError):
        obj.do_handshake()
    hello = outgoing.read()
    stuck, refused = [], 0
    for i in range(250):
        if refused >= 3:  # the listen backlog is full: the server is not accepting; stop trying
            refused = 250 - len(stuck)
            break
        try:
            sock = socket.create_connection((target.host, target.port), timeout=2)
        except OSError:
            refused += 1
            continue
        if i >= 200:
            sock.sendall(hello[: len(hello) // 2])
        stuck.append(sock)
    if refused:
        print(f"  {refused} of the 250 idle / stalled connections could not even be opened (backlog full)")
    time.sleep(0.5)
    try:
        print(describe("normal call, new connection, during", calls(target, req, n, fresh=True)))
    finally:
        for sock in stuck:
            sock.close()
    print("  goal: p95 < 50 ms during")


def slow(target: loadgen.Target, req: bytes, n: int, creds: Callable[[], ssl.SSLContext]) -> None:
    print("slow clients: 20 (10 heads by halves, 10 stalled bodies) + 4 never reading, on INSi mTLS")
    print(describe("normal call, keep-alive, nobody else", calls(target, req, n, fresh=False)))
    slow_socks = []
    for i in range(24):
        raw = socket.create_connection((target.host, target.port), timeout=TIMEOUT)
        if i >= 20:
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        tls = creds().wrap_socket(raw, server_hostname="localhost")
        if i >= 20:  # and 4 whose answers are never read: 30 pipelined calls each
            tls.sendall(req * 30)
        elif i % 2 == 0:
            tls.sendall(b"POST /lps HTTP/1.1\r\nHost: localhost\r\n")  # the rest never comes
        else:
            tls.sendall(loadgen.post("/lps", b"x" * 100000, CT)[:2000])  # the body stops
        slow_socks.append(tls)
    time.sleep(2)  # the pipelined calls are answered (into buffers nobody reads)
    try:
        print(describe("normal call, keep-alive, during", calls(target, req, n, fresh=False)))
        print(
            describe("normal call, new connection, during", calls(target, req, max(10, n // 5), fresh=True))
        )
    finally:
        for sock in slow_socks:
            sock.close()


def journal(target: loadgen.Target, req: bytes, n: int) -> None:
    print(f"journal: {n} keep-alive calls, journal capped at 1,000 entries (pruning all along)")
    lat = calls(target, req, n, fresh=False)
    spikes = sum(1 for x in lat if x > 0.03)
    print(describe("per call", lat) + f"  calls over 30 ms: {spikes}")


def body(target: loadgen.Target, size: int) -> None:
    print(f"body: one {size // 1_000_000} MB POST to INSi (cap 4 MiB)")
    before = rss_mb()
    conn = loadgen.Connection(target, TIMEOUT)
    head = f"POST /lps HTTP/1.1\r\nHost: localhost\r\nContent-Type: {CT}\r\nContent-Length: {size}\r\n\r\n"
    t0 = time.perf_counter()
    status: int | str
    try:
        conn.sock.sendall(head.encode())
        chunk = b"x" * (1024 * 1024)
        sent = 0
        while sent < size:
            conn.sock.sendall(chunk)
            sent += len(chunk)
        data = conn.sock.recv(65536)
        status = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/") else f"no answer ({data[:40]!r})"
    except OSError as exc:
        status = f"{type(exc).__name__}: {exc}"
    elapsed = time.perf_counter() - t0
    conn.close()
    time.sleep(0.5)
    after = rss_mb()
    print(
        f"  status read by the client: {status} after {elapsed:.2f} s; server RSS {before[0]:.0f} MB before, "
        f"{after[0]:.0f} MB after (peak {after[1]:.0f} MB)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--only", default="handshakes,slow,journal,body")
    parser.add_argument("--journal-calls", type=int, default=3000)
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds a call may take")
    args = parser.parse_args()
    global TIMEOUT
    TIMEOUT = args.timeout
    wanted = set(args.only.split(","))
    global CLIENT
    CLIENT = mp.get_context("spawn").Pool(1)
    logging.disable(logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        config = make_config(Path(tmp) / "data", services="insi", journal_max_entries="1000")
        runner = Runner(config)
        runner.start()
        try:
            sandbox = runner.sandbox
            creds = sandbox.pki.credentials(
                Structure("10B0152872", "CENTRE DE SANTE EDGE", "Paris (75)"), "insi_auto"
            )
            ca, cert, key = (str(Path(tmp) / n) for n in ("ca.pem", "c.pem", "k.pem"))
            Path(ca).write_bytes(sandbox.pki.ca_bundle())
            Path(cert).write_bytes(creds.cert_pem)
            Path(key).write_bytes(creds.key_pem)

            def context() -> ssl.SSLContext:
                ctx = ssl.create_default_context(cafile=ca)
                ctx.load_cert_chain(cert, key)
                return ctx

            target = loadgen.Target("127.0.0.1", sandbox.port("insi"), ca, cert, key)
            req = loadgen.post("/lps", request("ADRTROIS", "TOUSSAINT", "M", "1960-01-01"), CT)
            calls(target, req, 5, fresh=False)  # warm-up (référentiel loaded)
            if "handshakes" in wanted:
                handshakes(target, req, args.calls)
            if "slow" in wanted:
                slow(target, req, args.calls, context)
            if "journal" in wanted:
                journal(target, req, args.journal_calls)
            if "body" in wanted:
                body(target, 100_000_000)
        finally:
            runner.stop()
            CLIENT.terminate()


if __name__ == "__main__":
    main()
