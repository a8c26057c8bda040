"""The examples of docs/services/dmp.md, run as a reader would paste them (tests/doc_examples.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mocks.runner import Runner
from tests.doc_examples import ROOT, blocks, run

PAGE = ROOT / "docs" / "services" / "dmp.md"


def test_the_page_has_sh_and_python_examples() -> None:
    assert {b.language for b in blocks(PAGE)} == {"sh", "python"}


def test_examples_run(
    running_sandbox: Runner, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEGUR_SPECS", str(ROOT.parent / "shared" / "specs"))
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    folder: Path = tmp_path_factory.mktemp("dmp-docs")
    for block in blocks(PAGE):
        result = run(block, running_sandbox, folder)
        assert result.returncode == 0, f"{block.id}\n{result.stdout}\n{result.stderr}"
        assert result.stdout.strip(), block.id
