"""Kernel figures (printed, not asserted): start-up to `Ready.`, journal appends per second,
reset of a tenant holding 1,000 objects.

    .venv/bin/python benchmarks/bench_kernel.py

Goals (issue 2): Ready. under 3 s on a 2-core machine; >= 5,000 journal appends/s;
tenant reset with 1,000 objects under 100 ms.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mocks.kernel import Sandbox
from mocks.testing import make_config


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def startup(data_dir: Path) -> float:
    env = {**os.environ, "SEGUR_DATA_DIR": str(data_dir), "SEGUR_CONSOLE_PORT": str(free_port())}
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "mocks.cli", "up"], env=env, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.strip() == "Ready.":
            break
    elapsed = time.perf_counter() - started
    proc.terminate()
    proc.wait()
    return elapsed


def journal_rate(sandbox: Sandbox, n: int = 20000) -> float:
    entry = {
        "at": "2026-01-01T00:00:00Z",
        "tenant": "default",
        "service": "bench",
        "operation": "op",
        "status": 200,
        "request_body": "<x/>" * 100,
        "response_body": "<y/>" * 100,
    }
    started = time.perf_counter()
    for _ in range(n):
        sandbox.journal.append(entry)
    return n / (time.perf_counter() - started)


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
        rate = journal_rate(sandbox)
        reset = reset_time(sandbox)
    print(f"segur-sandbox up -> Ready.: first start {cold:.2f} s, next start {warm:.2f} s   (goal < 3 s)")
    print(f"journal appends: {rate:,.0f} entries/s   (goal >= 5,000)")
    print(f"reset of a tenant holding 1,000 objects: {reset * 1000:.1f} ms   (goal < 100 ms)")


if __name__ == "__main__":
    main()
