"""The compose project under test (tests/docker): compose commands, health, published ports.

The session's lifecycle (`up`, then `down -v`) is pytest-docker's (`get_docker_services`, see
conftest.py); this module runs the other compose commands the tests need (a restart, `exec`,
`logs`, `ps`) with the same settings, which travel in an env file (`--env-file`, Compose v1.25+
and v2), so that both agree.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
# under pytest-xdist each worker that gets one of these tests brings up its own stack
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
_INDEX = int(WORKER[2:]) if WORKER.startswith("gw") and WORKER[2:].isdigit() else 0
PROJECT = os.environ.get("SEGUR_E2E_PROJECT", "segur-sandbox-e2e") + (f"-{WORKER}" if WORKER else "")
# 100 apart per worker: the offsets run from -13 (MSSanté SMTP 4587) to 50 (ApCV 4650)
PORT_BASE = int(os.environ.get("SEGUR_E2E_PORT_BASE", "4700")) + 100 * _INDEX
NETWORK = PROJECT  # the compose network's fixed name (SEGUR_NETWORK), apart from a developer's stack


def _port_offsets() -> dict[str, int]:
    """Port setting (without `_port`) -> offset from 4600, for the console and every registered
    service: the stack's ports are PORT_BASE + these."""
    from mocks.config import KERNEL_SETTINGS
    from mocks.registry import available

    settings = [s for s in KERNEL_SETTINGS if s.name == "console_port"]
    settings += [s for entry in available().values() for s in entry.settings if s.kind == "port"]
    return {s.name.removesuffix("_port"): int(s.default) - 4600 for s in settings}


PORT_OFFSETS = _port_offsets()
START_TIMEOUT = 240.0
TIMINGS: dict[str, float] = {}


def _run(cmd: list[str], timeout: float = 60, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kwargs)


def engine_problem() -> str | None:
    """Why the docker suite cannot run here, or None."""
    if shutil.which("docker") is None:
        return "no docker command on this machine"
    try:
        info = _run(["docker", "info", "--format", "{{.ServerVersion}}"], timeout=30)
    except subprocess.TimeoutExpired:
        return "the Docker engine does not answer (docker info timed out)"
    if info.returncode != 0:
        said = (info.stderr.strip() or info.stdout.strip()).splitlines()
        return "no Docker engine reachable: " + (
            said[-1] if said else f"docker info exited {info.returncode}"
        )
    if compose_command() is None:
        return "neither `docker compose` (v2) nor `docker-compose` (v1) is installed"
    return None


def compose_command() -> list[str] | None:
    if shutil.which("docker") and _run(["docker", "compose", "version"]).returncode == 0:
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


def compose_services() -> list[str]:
    """The containers of compose.yaml (console and one per registered service)."""
    import yaml

    return list(yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))["services"])


SERVICES = compose_services()


@dataclass
class Stack:
    """The compose project under test: run compose commands, reach its published ports."""

    command: list[str]
    env: dict[str, str]
    env_file: Path
    log: list[str] = field(default_factory=list)

    @property
    def shell_command(self) -> str:
        """The compose command as pytest-docker runs it (a shell line), settings included."""
        return " ".join([*self.command, "--env-file", str(self.env_file)])

    @property
    def v2(self) -> bool:
        return self.command == ["docker", "compose"]

    def port(self, name: str) -> int:
        return PORT_BASE + PORT_OFFSETS[name]

    def url(self, name: str, path: str = "") -> str:
        # HTTPS by the announced host name (the one the server certificates carry)
        if name in ("console", "pki"):
            return f"http://127.0.0.1:{self.port(name)}{path}"
        return f"https://localhost:{self.port(name)}{path}"

    @property
    def console(self) -> str:
        return self.url("console", "/_sandbox")

    def compose(
        self, *args: str, timeout: float = 600, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        cmd = [
            *self.command,
            "--env-file",
            str(self.env_file),
            "-f",
            str(ROOT / "compose.yaml"),
            "-p",
            PROJECT,
            *args,
        ]
        result = _run(cmd, timeout=timeout, cwd=ROOT, env=self.env)
        self.log.append(f"$ {' '.join(cmd)} -> {result.returncode}")
        if check and result.returncode != 0:
            raise AssertionError(
                f"{' '.join(cmd)} failed ({result.returncode}):\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
            )
        return result

    def container(self, service: str) -> str:
        out = self.compose("ps", "-q", service).stdout.split()
        assert out, f"no container for {service}"
        return out[0]

    def health(self) -> dict[str, str]:
        """service -> docker health status (starting, healthy, unhealthy) or the container state."""
        states: dict[str, str] = {}
        for service in SERVICES:
            ids = self.compose("ps", "-q", service, check=False).stdout.split()
            if not ids:
                states[service] = "missing"
                continue
            out = _run(["docker", "inspect", "--format", "{{json .State}}", ids[0]])
            state = json.loads(out.stdout or "{}")
            states[service] = (state.get("Health") or {}).get("Status") or state.get("Status", "?")
        return states

    def up_command(self) -> str:
        # (no --wait-timeout: older v2 releases lack it; the healthchecks' retries bound the wait)
        return "up -d --wait" if self.v2 else "up -d"  # v1 has no --wait; depends_on orders the start

    def up(self) -> float:
        """Start (or restart) the stack; return the seconds until every container is healthy."""
        started = time.monotonic()
        if self.v2:
            # (no --wait-timeout: older v2 releases lack it; the healthchecks' retries bound the wait)
            self.compose("up", "-d", "--wait", timeout=START_TIMEOUT + 180)
        else:
            # v1 has no --wait; depends_on conditions still order the start
            self.compose("up", "-d")
        self.wait_healthy(started)
        return time.monotonic() - started

    def healthy(self) -> bool:
        """Every container healthy (raises when one is gone for good: no point waiting)."""
        states = self.health()
        if any(s in ("exited", "dead", "restarting", "missing") for s in states.values()):
            logs = self.compose("logs", "--no-color", "--tail", "40", check=False).stdout
            raise AssertionError(f"the stack is not healthy: {states}\n{logs[-6000:]}")
        return all(s == "healthy" for s in states.values())

    def wait_healthy(self, started: float) -> None:
        from pytest_docker.plugin import Services

        try:
            Services(None).wait_until_responsive(self.healthy, timeout=START_TIMEOUT, pause=0.5)
        except Exception as exc:
            if isinstance(exc, AssertionError):
                raise
            logs = self.compose("logs", "--no-color", "--tail", "40", check=False).stdout
            raise AssertionError(f"the stack is not healthy: {self.health()}\n{logs[-6000:]}") from None

    def down(self, volumes: bool = True) -> None:
        args = ["down", "--remove-orphans"] + (["-v"] if volumes else [])
        self.compose(*args, timeout=180, check=False)

    def leftovers(self) -> dict[str, list[str]]:
        """Containers, volumes and networks of the project still on the engine."""
        label = f"label=com.docker.compose.project={PROJECT}"
        found = {}
        for kind, cmd in {
            "containers": ["docker", "ps", "-a", "-q", "--filter", label],
            "volumes": ["docker", "volume", "ls", "-q", "--filter", label],
            "networks": ["docker", "network", "ls", "-q", "--filter", label],
        }.items():
            found[kind] = _run(cmd).stdout.split()
        return found


def base_image(env: dict[str, str]) -> str:
    """The image to build FROM: SEGUR_BASE_IMAGE, else the one our bootstrap makes offline."""
    if env.get("SEGUR_BASE_IMAGE"):
        return env["SEGUR_BASE_IMAGE"]
    started = time.monotonic()
    result = _run(["bash", str(ROOT / "docker" / "build-base-image.sh")], timeout=1800, cwd=ROOT, env=env)
    if result.returncode != 0:
        raise AssertionError(f"docker/build-base-image.sh failed:\n{result.stdout}\n{result.stderr[-4000:]}")
    TIMINGS["bootstrap (base image + wheels)"] = time.monotonic() - started
    lines = [x for x in result.stdout.splitlines() if x.startswith("SEGUR_BASE_IMAGE=")]
    return lines[-1].split("=", 1)[1]
