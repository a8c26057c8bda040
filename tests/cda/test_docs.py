"""docs/cda.md: its examples run against the session's sandbox, as a reader would paste them."""

from __future__ import annotations

from pathlib import Path

import pytest

from mocks.runner import Runner
from tests.cda.conftest import DATA
from tests.doc_examples import ROOT, blocks, run

DOC = ROOT / "docs" / "cda.md"


@pytest.mark.slow
def test_docs_examples_run(cda_runner: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEGUR_CDA_DATA", str(DATA))
    found = blocks(DOC)
    assert len(found) >= 3
    outputs = []
    for block in found:
        result = run(block, cda_runner, tmp_path, timeout=240)
        assert result.returncode == 0, f"{block.id}: {result.stderr}\n{result.stdout}"
        outputs.append(result.stdout)
    assert "VSM_1.4_2022.01 ['StrucMin', 'VSM_1.4_2022.01']" in outputs[0]
    assert "%PDF-" in outputs[1]
    assert (tmp_path / "report.html").read_text(encoding="utf-8").count("CDA-INS-NOT-QUALIFIED") >= 1
    assert "schematron-output" in (tmp_path / "strucmin.svrl").read_text(encoding="utf-8")
    assert "LDL-SES_2022.01" in outputs[2] and outputs[2].rstrip().splitlines()[-1].startswith(
        ("202 LDL-EES", "200 LDL-EES")
    )
