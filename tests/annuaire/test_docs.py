"""The examples of docs/services/annuaire.md, run as a reader would paste them (tests/doc_examples.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mocks.runner import Runner
from tests.doc_examples import ROOT, blocks, run

PAGE = ROOT / "docs" / "services" / "annuaire.md"


def test_the_page_has_sh_and_python_examples() -> None:
    languages = {b.language for b in blocks(PAGE)}
    assert languages == {"sh", "python"}


def test_examples_run(running_sandbox: Runner, tmp_path_factory: pytest.TempPathFactory) -> None:
    folder: Path = tmp_path_factory.mktemp("annuaire-docs")
    for block in blocks(PAGE):
        result = run(block, running_sandbox, folder)
        assert result.returncode == 0, f"{block.id}\n{result.stdout}\n{result.stderr}"
