"""The real CLI in real processes: start-up banner, health, SIGTERM, two processes sharing one
store, and durability of committed data when the process is killed with SIGKILL."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from mocks.config import all_settings
from mocks.kernel import Sandbox
from mocks.registry import service_settings
from mocks.testing import make_config


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def env_for(data_dir: Path, console_port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEGUR_")}
    env.update(
        {"SEGUR_DATA_DIR": str(data_dir), "SEGUR_CONSOLE_PORT": str(console_port), "SEGUR_SERVICES": "none"}
    )
    # every service port ephemeral, so that parallel test runs never collide
    env.update(
        {
            s.env: "0"
            for s in all_settings(service_settings()).values()
            if s.kind == "port" and s.name != "console_port"
        }
    )
    return env


class Proc:
    def __init__(self, data_dir: Path):
        self.port = free_port()
        self.env = env_for(data_dir, self.port)
        self.popen = subprocess.Popen(
            [sys.executable, "-m", "mocks.cli", "up"],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        assert self.popen.stdout is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = self.popen.stdout.readline()
            if not line:
                break
            self.lines.append(line.rstrip("\n"))
            if line.strip() == "Ready.":
                return
        raise AssertionError("no Ready. line:\n" + "\n".join(self.lines))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/_sandbox"

    def health(self) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "mocks.cli", "health"],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=30,
        )

    def stop(self) -> int:
        self.popen.send_signal(signal.SIGTERM)
        return self.popen.wait(timeout=30)


@pytest.fixture
def procs(tmp_path: Path) -> Iterator[list[Proc]]:
    started: list[Proc] = []
    yield started
    for p in started:
        if p.popen.poll() is None:
            p.popen.kill()
            p.popen.wait()


def test_up_prints_urls_then_ready_and_stops_on_sigterm(tmp_path: Path, procs: list[Proc]) -> None:
    proc = Proc(tmp_path)
    procs.append(proc)
    assert any(f"http://localhost:{proc.port}/_sandbox/" in line for line in proc.lines)
    assert proc.health().returncode == 0
    assert proc.stop() == 0
    assert proc.health().returncode == 1


def test_two_processes_share_one_store(tmp_path: Path, procs: list[Proc]) -> None:
    first, second = Proc(tmp_path), Proc(tmp_path)
    procs += [first, second]
    httpx.post(f"{first.url}/tenants", json={"id": "shared"}).raise_for_status()
    httpx.put(
        f"{first.url}/clock?tenant=shared", json={"mode": "frozen", "at": "2031-05-05T05:05:05Z"}
    ).raise_for_status()
    assert httpx.get(f"{second.url}/clock?tenant=shared").json()["now"] == "2031-05-05T05:05:05Z"
    httpx.delete(f"{second.url}/tenants/shared").raise_for_status()
    assert httpx.get(f"{first.url}/tenants/shared").status_code == 404


WRITER = textwrap.dedent(
    """
    import sys
    from mocks.store import Store
    from mocks.kernel import KERNEL_MIGRATIONS
    from mocks.journal import Journal
    store = Store(sys.argv[1])
    store.migrate("kernel", KERNEL_MIGRATIONS)
    journal = Journal(store, max_entries=10**9, max_bytes=10**12, keep_bodies=True)
    n = 0
    while True:
        n += 1
        entry_id = journal.append({"at": "2026-01-01T00:00:00Z", "tenant": "default", "service": "echo",
                                   "operation": "op", "status": 200, "request_body": "x" * 2000, "persona": str(n)})
        print(entry_id, flush=True)   # printed only once committed
    """
)


def test_sigkill_never_loses_or_corrupts_committed_entries(tmp_path: Path) -> None:
    db = tmp_path / "sandbox.db"
    for attempt in range(3):
        writer = subprocess.Popen([sys.executable, "-c", WRITER, str(db)], stdout=subprocess.PIPE, text=True)
        assert writer.stdout is not None
        committed: list[int] = []
        deadline = time.monotonic() + 0.5 + attempt * 0.37
        while time.monotonic() < deadline:
            committed.append(int(writer.stdout.readline()))
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait()
        conn = sqlite3.connect(db)
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        present = {row[0] for row in conn.execute("SELECT id FROM journal")}
        conn.close()
        assert committed, "the writer committed nothing"
        assert set(committed) <= present


def test_a_control_only_process_reports_the_services_of_the_others(tmp_path: Path, procs: list[Proc]) -> None:
    console = Proc(tmp_path)  # --services none, like the compose console container
    procs.append(console)
    other = Sandbox(make_config(tmp_path))  # stands for another container sharing the store
    services = sorted(other.services)
    assert services, "this build has no service"
    first, rest = services[0], services[1:]
    assert httpx.get(f"{console.url}/health").json()["services"][first]["state"] == "disabled"
    other.set_status(first, "starting")
    assert httpx.get(f"{console.url}/readyz").status_code == 503
    other.set_status(first, "ready", urls={first: "https://example.test"})
    health = httpx.get(f"{console.url}/health").json()["services"]
    assert health[first]["state"] == "ready" and health[first]["urls"] == {first: "https://example.test"}
    assert all(health[name]["state"] == "disabled" for name in rest)
    assert httpx.get(f"{console.url}/readyz").status_code == 200
    other.set_status(first, "stopped")
    assert httpx.get(f"{console.url}/health").json()["status"] == "ok"
