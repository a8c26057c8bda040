"""Run the examples of the documentation against a running sandbox, as a reader would paste them.

A fenced block whose language is `sh`, `bash` or `python` is an example; put `<!-- not run -->`
on the line just before a block that must not run (a command that starts a server, say). The
examples are written for the default ports (`localhost:4600`, `:4601`...); `localise` rewrites
them to the ports the test's runner bound. Blocks of one file run in order, in one folder, so a
block may use a file an earlier block downloaded.

    for block in blocks(Path("docs/services/insi.md")):
        result = run(block, runner, tmp_path)
        assert result.returncode == 0, result.stderr
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from mocks.runner import Runner

ROOT = Path(__file__).resolve().parents[1]
FENCE = re.compile(r"^```(\w+)[^\n]*\n(.*?)^```", re.S | re.M)
LANGUAGES = {"sh": "sh", "bash": "sh", "shell": "sh", "python": "python"}
SKIP_MARK = "<!-- not run -->"


@dataclass(frozen=True)
class Block:
    path: Path
    line: int
    language: str  # "sh" or "python"
    code: str

    @property
    def id(self) -> str:
        return f"{self.path.name}:{self.line}"


def blocks(path: Path) -> list[Block]:
    text = path.read_text(encoding="utf-8")
    found = []
    for match in FENCE.finditer(text):
        language = LANGUAGES.get(match.group(1).lower())
        if language is None:
            continue
        before = text[: match.start()].rstrip().splitlines()
        if before and before[-1].strip() == SKIP_MARK:
            continue
        found.append(Block(path, text.count("\n", 0, match.start()) + 1, language, match.group(2)))
    return found


def default_ports(runner: Runner) -> dict[int, int]:
    """Default port of every listener -> the port the runner bound."""
    sandbox = runner.sandbox
    ports = {int(sandbox.config.settings["console_port"].default): sandbox.port("console")}
    for name, spec in sandbox.listener_specs.items():
        if name in sandbox.bound_ports:
            ports[int(sandbox.config.settings[spec.port_setting].default)] = sandbox.bound_ports[name]
    return ports


def localise(code: str, runner: Runner) -> str:
    ports = default_ports(runner)

    def swap(match: re.Match[str]) -> str:
        port = int(match.group(2))
        return f"{match.group(1)}:{ports.get(port, port)}"

    return re.sub(r"\b(localhost|127\.0\.0\.1):(\d{4,5})\b", swap, code)


def run(block: Block, runner: Runner, cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    code = localise(block.code, runner)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    if block.language == "sh":
        argv = ["bash", "-euo", "pipefail", "-c", code]
    else:
        argv = [sys.executable, "-c", code]
        env["PYTHONPATH"] = str(ROOT)
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
