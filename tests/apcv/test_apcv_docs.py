"""The examples of docs/services/apcv.md, run in order in one folder as a reader pastes them
(curl, Python with httpx / signxml / lxml), against the test runner's ports, in the default
tenant (the fault rule and NFC reading they leave are removed after)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from mocks.runner import Runner
from tests.doc_examples import ROOT, blocks, run

PAGE = ROOT / "docs" / "services" / "apcv.md"


@pytest.fixture
def cleanup(console: httpx.Client) -> Iterator[None]:
    yield
    console.delete("/_sandbox/faults")


@pytest.mark.skipif(not shutil.which("curl"), reason="the examples need curl")
def test_every_example_of_the_apcv_page_runs(running_sandbox: Runner, tmp_path: Path, cleanup: None) -> None:
    found = blocks(PAGE)
    assert sum(b.language == "sh" for b in found) >= 4 and sum(b.language == "python" for b in found) >= 1
    for block in found:
        result = run(block, running_sandbox, tmp_path)
        assert result.returncode == 0, f"{block.id} failed:\n{result.stdout}\n{result.stderr}"
    assert (tmp_path / "qr.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
