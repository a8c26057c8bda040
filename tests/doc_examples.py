"""Run the examples of the documentation against a running sandbox, as a reader would paste them.

A fenced block whose language is `sh`, `bash` or `python` is an example; put
`<!-- not run: why -->` on the line just before a block that must not run (a command that starts a
server, an API summary), with the reason. The examples are written for the default ports
(`localhost:4600`, `:4601`...); `localise` rewrites them to the ports the test's runner bound.
Blocks of one file run in order, in one folder, as in one terminal: a block may use a file an
earlier block downloaded, or a shell function an earlier block defined.

What makes a pasted example fail makes the test fail: `bash -euo pipefail`, and `curl` fails on an
HTTP error (a 404 that `curl -OJ` would save as a file, say) unless it writes out the status itself
(`-w`). The CLI (`segur-sandbox ...`) reads
the runner's data folder and settings, so it sees the same sandbox.

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
SKIP = re.compile(r"^<!-- not run: (.+) -->$")
FUNCTIONS = ".doc-shell-functions"  # the shell functions defined so far (one terminal per file)
# every curl of an example fails on an HTTP error status (`--fail-with-body`), unless it says itself
# what to do with the status: `-f` / `--fail...` already, or `-w` (the reader looks at the status,
# e.g. a SOAP fault's HTTP 500)
CURL = (
    'curl() { local a; for a in "$@"; do case "$a" in -w|--write-out|--fail|--fail-with-body) '
    'command curl "$@"; return;; --*) ;; -*f*|-*w) command curl "$@"; return;; esac; done; '
    'command curl --fail-with-body "$@"; }\n'
)


@dataclass(frozen=True)
class Block:
    path: Path
    line: int
    language: str  # "sh" or "python"
    code: str
    skipped: str = ""  # why it is not run

    @property
    def id(self) -> str:
        return f"{self.path.name}:{self.line}"


def blocks(path: Path, skipped: bool = False) -> list[Block]:
    """The example blocks of a Markdown file (with `skipped`, also those marked not run)."""
    text = path.read_text(encoding="utf-8")
    found = []
    for match in FENCE.finditer(text):
        language = LANGUAGES.get(match.group(1).lower())
        if language is None:
            continue
        before = text[: match.start()].rstrip().splitlines()
        mark = SKIP.match(before[-1].strip()) if before else None
        if mark and not skipped:
            continue
        line = text.count("\n", 0, match.start()) + 1
        found.append(Block(path, line, language, match.group(2), mark.group(1) if mark else ""))
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


def settings_env(runner: Runner) -> dict[str, str]:
    """The runner's settings as SEGUR_* variables (bound ports for port 0), for the CLI."""
    config = runner.sandbox.config
    env = {"SEGUR_DATA_DIR": str(config.data_dir)}
    ports = {spec.port_setting: name for name, spec in runner.sandbox.listener_specs.items()}
    ports["console_port"] = "console"
    for name, setting in config.settings.items():
        if name in ports and ports[name] in runner.sandbox.bound_ports:
            env[setting.env] = str(runner.sandbox.bound_ports[ports[name]])
        elif config.sources[name] != "default" and name != "data_dir":
            env[setting.env] = str(config[name])
    return env


def run(block: Block, runner: Runner, cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    code = localise(block.code, runner)
    settings = runner.sandbox.config.settings
    # the runner's settings replace the caller's; other variables (SEGUR_SPECS...) pass through
    env = {k: v for k, v in os.environ.items() if not (k.startswith("SEGUR_") and k[6:].lower() in settings)}
    env.update(settings_env(runner))
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    if block.language == "sh":
        # the functions of earlier blocks first, then this block, then keep its functions
        prelude = f"[ -f {FUNCTIONS} ] && . ./{FUNCTIONS}\n" + CURL
        epilogue = f"\nunset -f curl; declare -f > {FUNCTIONS}\n"
        argv = ["bash", "-euo", "pipefail", "-c", prelude + code + epilogue]
    else:
        argv = [sys.executable, "-c", code]
        env["PYTHONPATH"] = str(ROOT)
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
