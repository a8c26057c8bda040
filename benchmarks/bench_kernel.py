"""Kernel figures (printed, not asserted): start-up to `Ready.`, journal appends per second,
reset of a tenant holding 1,000 objects.

    .venv/bin/python benchmarks/bench_kernel.py

Goals (issue 2): Ready. under 3 s on a 2-core machine; >= 5,000 journal appends/s;
tenant reset with 1,000 objects under 100 ms.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mocks.config import all_settings
from mocks.kernel import Sandbox
from mocks.registry import service_settings
from mocks.testing import make_config


def port_env() -> dict[str, str]:
    """Every listener on an ephemeral port (never the default 46xx ports a running sandbox uses)."""
    settings = all_settings(service_settings())
    return {s.env: "0" for s in settings.values() if s.kind == "port"}


def startup(data_dir: Path, timeout: float = 120) -> float:
    """Seconds from launch to `Ready.`; raises StartFailed with the output when it never comes."""
    env = {**os.environ, **port_env(), "SEGUR_DATA_DIR": str(data_dir)}
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "mocks.cli", "up"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    lines: list[str] = []
    ready = False
    deadline = started + timeout
    try:
        for line in proc.stdout:
            lines.append(line)
            if line.strip() == "Ready.":
                ready = True
                break
            if time.perf_counter() > deadline:
                break
        elapsed = time.perf_counter() - started
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
    if not ready:
        tail = "".join(lines[-30:])
        raise StartFailed(f"segur-sandbox up never printed Ready. (exit {proc.returncode}):\n{tail}")
    return elapsed


class StartFailed(RuntimeError):
    pass


ENTRY = {
    "at": "2026-01-01T00:00:00Z",
    "tenant": "default",
    "service": "bench",
    "operation": "op",
    "status": 200,
    "request_body": "<x/>" * 100,
    "response_body": "<y/>" * 100,
}


def journal_rate(sandbox: Sandbox, n: int = 20000, threads: int = 1) -> tuple[float, float, float]:
    """Appends per second from `threads` threads (concurrent appends share commits), and the
    p99 and max of one append (pruning runs all along: the journal keeps 20,000 entries)."""
    import threading

    per = n // threads
    latencies: list[float] = []

    def run() -> None:
        mine = []
        for _ in range(per):
            t0 = time.perf_counter()
            sandbox.journal.append(ENTRY)
            mine.append(time.perf_counter() - t0)
        latencies.extend(mine)

    started = time.perf_counter()
    workers = [threading.Thread(target=run) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - started
    latencies.sort()
    return per * threads / elapsed, latencies[int(len(latencies) * 0.99)], latencies[-1]


def reset_time(sandbox: Sandbox, objects: int = 1000) -> float:
    sandbox.tenants.create("bench")
    with sandbox.store.tx() as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS bench_items (tenant TEXT NOT NULL, value TEXT)")
        conn.executemany(
            "INSERT INTO bench_items VALUES ('bench', ?)", [(f"item {i}",) for i in range(objects)]
        )
    started = time.perf_counter()
    deleted = sandbox.tenants.reset("bench")
    elapsed = time.perf_counter() - started
    assert deleted == objects
    return elapsed


def main() -> None:
    import logging

    logging.disable(logging.INFO)
    with tempfile.TemporaryDirectory() as tmp:
        cold = startup(Path(tmp) / "a")
        warm = startup(Path(tmp) / "a")
        sandbox = Sandbox(make_config(Path(tmp) / "b"))
        one = journal_rate(sandbox)
        four = journal_rate(sandbox, threads=4)
        reset = reset_time(sandbox)
    print(f"segur-sandbox up -> Ready.: first start {cold:.2f} s, next start {warm:.2f} s   (goal < 3 s)")
    for name, (rate, p99, top) in (("1 thread", one), ("4 threads", four)):
        print(
            f"journal appends, {name}: {rate:,.0f} entries/s, one append p99 {p99 * 1000:.2f} ms, "
            f"max {top * 1000:.1f} ms   (goal >= 5,000/s; pruning off the request path)"
        )
    print(f"reset of a tenant holding 1,000 objects: {reset * 1000:.1f} ms   (goal < 100 ms)")


if __name__ == "__main__":
    main()
