"""The compose stack for the docker-marked end-to-end suite.

One stack per test session, under its own compose project (`segur-sandbox-e2e`), network name
and ports (4700 + the default offsets, so a developer's stack on 4600... keeps running), built
from the working tree; its lifecycle is pytest-docker's `get_docker_services` (`up`, then
`down -v` however the session ends), its health wait pytest-docker's `wait_until_responsive`:

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
    NETWORK,
    PORT_BASE,
    PORT_OFFSETS,
    PROJECT,
    ROOT,
    TIMINGS,
    Stack,
    base_image,
    compose_command,
    engine_problem,
)


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    problem = engine_problem()
    if problem:
        pytest.skip(f"docker end-to-end suite skipped: {problem}")
    from pytest_docker.plugin import get_docker_services

    env = dict(os.environ)
    env.setdefault("PYTHON", sys.executable)  # the bootstrap builds the wheelhouse with this CPython 3.11
    settings = {
        f"SEGUR_{name.upper()}_PORT": str(PORT_BASE + offset) for name, offset in PORT_OFFSETS.items()
    }
    for name in ("mss_test_smtp", "mss_test_imap"):  # ranges of 5 ports (compose.yaml)
        if name in PORT_OFFSETS:
            first = PORT_BASE + PORT_OFFSETS[name]
            settings[f"SEGUR_{name.upper()}_PORTS"] = f"{first}-{first + 4}"
    settings["SEGUR_BASE_IMAGE"] = base_image(env)
    settings["SEGUR_IMAGE_TAG"] = env.get("SEGUR_IMAGE_TAG", "e2e")  # never replaces the user's :local
    settings["SEGUR_NETWORK"] = NETWORK
    env.update(settings)
    env_file = tmp_path_factory.mktemp("compose") / "e2e.env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in settings.items()), encoding="utf-8")
    command = compose_command()
    assert command is not None
    stack = Stack(command, env, env_file)
    stack.down()  # leftovers of an interrupted run
    started = time.monotonic()
    stack.compose("build", timeout=1800)
    TIMINGS["image build"] = time.monotonic() - started
    started = time.monotonic()
    with get_docker_services(
        stack.shell_command,
        str(ROOT / "compose.yaml"),
        PROJECT,
        [stack.up_command()],
        ["down -v --remove-orphans"],
    ):
        stack.wait_healthy(started)
        TIMINGS["cold start (empty volume) to all healthy"] = time.monotonic() - started
        yield stack


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if TIMINGS:
        terminalreporter.section("docker compose stack timings")
        for what, value in TIMINGS.items():
            unit = "MB" if what.startswith("image size") else "s"
            terminalreporter.write_line(f"{what}: {value:.1f} {unit}")
