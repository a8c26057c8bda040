"""The `segur-sandbox` command as a user types it (a subprocess on a small world)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mocks.cli import build_parser

SMALL_WORLD = [
    "--population-households",
    "30",
    "--population-professionals",
    "10",
    "--population-structures",
    "5",
]


def cli(*args: str, data: Path, shell_tail: str = "") -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("segur-sandbox")
    command = " ".join([str(exe), *args, "--data-dir", str(data), "--log-level", "warning", *SMALL_WORLD])
    return subprocess.run(
        ["bash", "-o", "pipefail", "-c", command + shell_tail],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cli-data")


def test_personas_alone_lists(data: Path) -> None:
    alone = cli("personas", data=data)
    assert alone.returncode == 0, alone.stderr
    listed = cli("personas", "list", data=data)
    assert alone.stdout == listed.stdout
    assert "patients (" in alone.stdout and "160012B020777" in alone.stdout  # a public INSi identity


def test_no_broken_pipe_traceback_when_piped_into_head(data: Path) -> None:
    result = cli("personas", "list", data=data, shell_tail=" | head -n 1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("\n") == 1
    assert "Traceback" not in result.stderr and "BrokenPipe" not in result.stderr, result.stderr


@pytest.mark.parametrize(
    ("command", "own"),
    [("personas", "--format"), ("pki", "--password"), ("health", "--timeout"), ("config", "--json")],
)
def test_sub_command_help_shows_its_own_options_first(command: str, own: str) -> None:
    parser, settings = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    text = sub.choices[command].format_help()  # type: ignore[attr-defined]
    usage = text.split("\n\n", 1)[0]
    assert own in usage and "--seed" not in usage, usage  # no 45 flags on the usage line
    assert text.index(own) < text.index("\nsettings:") < text.index("--seed")
    # each service's settings in a group of their own, after the kernel's
    assert text.index("--seed") < text.index("settings of insi") < text.index("--insi-port")
    assert all(s.flag in text for s in settings.values())
