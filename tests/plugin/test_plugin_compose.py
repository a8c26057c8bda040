"""The plugin's compose mode, end to end: an LGC suite under pytest-xdist (`-n 2`) with
`--segur-sandbox-compose` gets one stack for both workers (one console container), ready for
every service, on the ports of `SEGUR_*_PORT` (here 4900 + the default offsets), and nothing of
the project is left afterwards."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.docker.stack import PORT_OFFSETS, ROOT, base_image, compose_command, engine_problem

pytest_plugins = ["pytester"]
pytestmark = [pytest.mark.docker, pytest.mark.slow]
PROJECT = "segur-plugin-e2e"
BASE = 4900

LGC_SUITE = f"""
import subprocess
import pytest

def containers(service=None):
    label = ["--filter", "label=com.docker.compose.project={PROJECT}"]
    if service:
        label += ["--filter", f"label=com.docker.compose.service={{service}}"]
    return subprocess.run(["docker", "ps", "-q", *label], capture_output=True, text=True).stdout.split()

def test_one_stack_for_every_worker(segur_sandbox):
    assert len(containers("console")) == 1
    assert segur_sandbox.base_url.endswith(":{BASE}")
    services = segur_sandbox.call("GET", "/health")["services"]
    assert {{n: s["state"] for n, s in services.items()}} == dict.fromkeys(services, "ready")

@pytest.mark.parametrize("n", range(4))
def test_tenants_on_the_shared_stack(segur_tenant, segur_urls, n):
    assert segur_tenant.clock.freeze(f"203{{n}}-01-01T00:00:00Z") == f"203{{n}}-01-01T00:00:00Z"
    assert segur_urls["insi"].endswith(":{BASE + PORT_OFFSETS["insi"]}")
"""


def leftovers() -> list[str]:
    label = f"label=com.docker.compose.project={PROJECT}"
    found = []
    for kind in (["ps", "-a", "-q"], ["volume", "ls", "-q"], ["network", "ls", "-q"]):
        found += subprocess.run(
            ["docker", *kind, "--filter", label], capture_output=True, text=True
        ).stdout.split()
    return found


def test_compose_mode_one_stack_under_xdist(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    problem = engine_problem()
    if problem:
        pytest.skip(problem)
    monkeypatch.setenv("PYTHON", sys.executable)
    monkeypatch.setenv("SEGUR_BASE_IMAGE", base_image(dict(os.environ)))
    monkeypatch.setenv("SEGUR_IMAGE_TAG", "e2e")
    monkeypatch.setenv("SEGUR_NETWORK", PROJECT)
    for name, offset in PORT_OFFSETS.items():
        monkeypatch.setenv(f"SEGUR_{name.upper()}_PORT", str(BASE + offset))
        monkeypatch.setenv(f"SEGUR_{name.upper()}_PORTS", f"{BASE + offset}-{BASE + offset + 4}")  # ranges
    pytester.makepyfile(LGC_SUITE)
    try:
        result = pytester.runpytest_subprocess(
            "-q",
            "-p",
            "no:cacheprovider",
            "-n",
            "2",
            f"--segur-sandbox-compose={ROOT / 'compose.yaml'}",
            f"--segur-sandbox-project={PROJECT}",
            timeout=1500,
        )
        result.assert_outcomes(passed=5)
        assert leftovers() == [], "the stack was not taken down"
    finally:
        subprocess.run(
            [
                *(compose_command() or []),
                "-f",
                str(ROOT / "compose.yaml"),
                "-p",
                PROJECT,
                "down",
                "-v",
                "--remove-orphans",
            ],
            capture_output=True,
            timeout=300,
        )
