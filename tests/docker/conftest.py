"""The compose stack for the docker-marked end-to-end suite.

One stack per test session, under its own compose project (`segur-sandbox-e2e`) and its own ports
(4700 + the default offsets, so a developer's stack on 4600... keeps running), built from the
working tree:

- no Docker engine (or no Compose): every test here is skipped, with the reason;
- the base image: `SEGUR_BASE_IMAGE` if set, else `docker/build-base-image.sh` makes (or finds)
  segur-sandbox-base:bookworm and the wheelhouse — no container registry needed;
- Compose v2 (`docker compose`, with `up --wait`) or v1.29 (`docker-compose`, health polled here).

Timings (build, cold start, warm restart) are printed at the end of the session.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.docker.stack import (
    PORT_BASE,
    PORT_OFFSETS,
    TIMINGS,
    Stack,
    base_image,
    compose_command,
    engine_problem,
)


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    problem = engine_problem()
    if problem:
        pytest.skip(f"docker end-to-end suite skipped: {problem}")
    env = dict(os.environ)
    env.setdefault("PYTHON", sys.executable)  # the bootstrap builds the wheelhouse with this CPython 3.11
    for name, offset in PORT_OFFSETS.items():
        env[f"SEGUR_{name.upper()}_PORT"] = str(PORT_BASE + offset)
    env["SEGUR_BASE_IMAGE"] = base_image(env)
    env.setdefault("SEGUR_IMAGE_TAG", "e2e")  # never replaces the user's segur-sandbox:local
    command = compose_command()
    assert command is not None
    stack = Stack(command, env)
    stack.down()  # leftovers of an interrupted run
    started = time.monotonic()
    stack.compose("build", timeout=1800)
    TIMINGS["image build"] = time.monotonic() - started
    try:
        TIMINGS["cold start (empty volume) to all healthy"] = stack.up()
        yield stack
    finally:
        stack.down()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if TIMINGS:
        terminalreporter.section("docker compose stack timings")
        for what, value in TIMINGS.items():
            unit = "MB" if what.startswith("image size") else "s"
            terminalreporter.write_line(f"{what}: {value:.1f} {unit}")
