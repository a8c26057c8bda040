"""The examples of docs/scoreboard.md, run against the shared sandbox (tests/doc_examples.py), and
the screenshots it shows."""

from __future__ import annotations

from pathlib import Path

import pytest

from mocks.runner import Runner
from tests.doc_examples import ROOT, Block, blocks, run

BLOCKS = blocks(ROOT / "docs" / "scoreboard.md")


def test_the_doc_has_examples_of_each_kind() -> None:
    assert {b.language for b in BLOCKS} == {"sh", "python"} and len(BLOCKS) >= 4


@pytest.mark.parametrize("block", BLOCKS, ids=[b.id for b in BLOCKS])
def test_scoreboard_doc_example(block: Block, running_sandbox: Runner, tmp_path: Path) -> None:
    result = run(block, running_sandbox, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_doc_has_its_screenshots() -> None:
    text = (ROOT / "docs" / "scoreboard.md").read_text(encoding="utf-8")
    images = [line.split("(")[1].rstrip(")") for line in text.splitlines() if line.startswith("![")]
    assert len(images) == 2
    for image in images:
        assert (ROOT / "docs" / image).read_bytes().startswith(b"\x89PNG")
