"""The examples of docs/services/psc.md, run in order in one folder as a reader pastes them
(curl + jq, Python with httpx / authlib / joserfc), against the test runner's ports. They use
the default tenant; what they change there (clients, auto-approval, a tenant) is undone after."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from mocks.runner import Runner
from tests.doc_examples import ROOT, blocks, run

PAGE = ROOT / "docs" / "services" / "psc.md"
CLIENTS = ("mon-lgc-bas", "mon-lgc-api", "mon-lgc-jwt", "mon-lgc-hs")


@pytest.fixture
def cleanup(console: httpx.Client) -> Iterator[None]:
    yield
    console.put("/_sandbox/psc/auto-approve", json={"after_seconds": None})
    for client in CLIENTS:
        console.delete(f"/_sandbox/psc/clients/{client}")
    console.delete("/_sandbox/tenants/ci-run-42")


@pytest.mark.skipif(not (shutil.which("curl") and shutil.which("jq")), reason="the examples need curl and jq")
def test_every_example_of_the_psc_page_runs(running_sandbox: Runner, tmp_path: Path, cleanup: None) -> None:
    found = blocks(PAGE)
    assert sum(b.language == "sh" for b in found) >= 8 and sum(b.language == "python" for b in found) >= 4
    for block in found:
        result = run(block, running_sandbox, tmp_path)
        assert result.returncode == 0, f"{block.id} failed:\n{result.stdout}\n{result.stderr}"
