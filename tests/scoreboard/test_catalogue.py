"""The catalogue and its loader: the shipped file is whole and in our own words; every kind of
mistake fails with the file and line; a corrupt catalogue stops `segur-sandbox up` (a Runner) with
that message; the scoreboard's copy of the evidence contract matches mocks/evidence.py."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import mocks.evidence
from mocks.runner import Runner, StartError
from mocks.scoreboard import catalogue as catalogue_mod
from mocks.scoreboard.catalogue import DEFAULT_PATH, CatalogueError
from mocks.scoreboard.contract import EVIDENCE_FIELDS, EVIDENCE_SERVICE, PERSONA_FIELDS
from mocks.testing import make_config

SHIPPED = DEFAULT_PATH.read_text(encoding="utf-8")


def broken(tmp_path: Path, old: str, new: str, count: int = 1) -> Path:
    assert old in SHIPPED, old
    path = tmp_path / "requirements.yaml"
    path.write_text(SHIPPED.replace(old, new, count), encoding="utf-8")
    return path


def line_of(path: Path, text: str) -> int:
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if text in line:
            return n
    raise AssertionError(text)


def test_shipped_catalogue_loads_with_every_automatable_rule() -> None:
    cat = catalogue_mod.load()
    assert len(cat.requirements) == 127
    auto = {r.id for r in cat.automatable()}
    # the C.2 table's automatable rows that today's evidence contract and services can decide
    assert {"DOC.02", "DOC.04", "DOC.07", "DMP.02", "DMP.03", "DMP.04", "MSS.01", "MSS.14", "MSS.21",
            "MSS.03", "MSS.06", "INS.37", "INS.50", "INS.53", "PSC.01"} <= auto  # fmt: skip
    for req in cat.requirements:
        assert req.text[0].isupper() and req.text.endswith("."), req.id
        assert (req.rule is None) == (req.automation == "manual"), req.id


def test_texts_are_ours_not_the_ans_wording() -> None:
    # the DSR's statements read "Le logiciel DOIT ..."; ours are paraphrases without it
    assert "DOIT" not in SHIPPED and "ANS_DSR_VILLE" not in SHIPPED


def test_unknown_rule_type_fails_with_its_line(tmp_path: Path) -> None:
    path = broken(tmp_path, "type: findings\n", "type: findigns\n")
    with pytest.raises(CatalogueError) as err:
        catalogue_mod.load(path)
    line = line_of(path, "type: findigns")
    assert str(err.value).startswith(
        f"{path}:{line}: requirement INS.50: unknown rule type 'findigns'; valid: evidence"
    )


@pytest.mark.parametrize(
    ("old", "new", "marker", "message"),
    [
        (
            "pass: {ins_qualified: true}",
            "pass: {ins_qualifed: true}",
            "ins_qualifed",
            "unknown field 'ins_qualifed'",
        ),
        (
            "kind: dmp.document.updated",
            "kind: dmp.document.update",
            "dmp.document.update\n",
            "unknown evidence kind 'dmp.document.update'",
        ),
        (
            'rules: ["INSI-ASSERTION-*"]',
            'rules: ["INSI-ASSERTON-*"]',
            "INSI-ASSERTON",
            "no finding rule of insi matches 'INSI-ASSERTON-*'",
        ),
        ("    family: PORT\n", "    family: PROT\n", "family: PROT", "unknown family 'PROT'"),
        (
            '    automation: manual\n    proof: "Agrément',
            '    automation: always\n    proof: "Agrément',
            "automation: always",
            "automation",
        ),
        (
            '["MSS-FROM-DISPLAY"]\n      severity:',
            '["MSS-FROM-DISPLAY"]\n      gravity:',
            "gravity: warning",
            "unknown key 'gravity'",
        ),
        (
            "where: {confidentiality: {contains: MASQUE_PS}}",
            "where: {confidentiality: {has: MASQUE_PS}}",
            "{has: MASQUE_PS}",
            "unknown operator 'has'",
        ),
        ("  - id: ePresc.02", "  - id: ePresc.01", "id: ePresc.01\n", "declared twice"),
        (
            'operation: {startswith: "SMTP submit"}',
            'operation: {begins: "SMTP submit"}',
            'operation: {begins: "SMTP submit"}',
            "unknown operator 'begins'",
        ),
    ],
    ids=[
        "field",
        "kind",
        "finding-rule",
        "family",
        "automation",
        "key",
        "operator",
        "duplicate",
        "balance-operator",
    ],
)
def test_mistakes_fail_with_file_line_and_reason(
    tmp_path: Path, old: str, new: str, marker: str, message: str
) -> None:
    path = broken(tmp_path, old, new)
    with pytest.raises(CatalogueError) as err:
        catalogue_mod.load(path)
    text = str(err.value)
    assert message in text, text
    lines = [
        n for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if marker.strip() in line
    ]
    found = int(re.match(rf"{re.escape(str(path))}:(\d+):", text).group(1))  # type: ignore[union-attr]
    assert any(abs(found - n) <= 2 for n in lines), (found, lines, text)


def test_a_service_absent_from_the_build_waits_and_a_typo_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    built = {k: v for k, v in catalogue_mod.available().items() if k != "annuaire"}
    monkeypatch.setattr(catalogue_mod, "available", lambda: built)  # a build without the Annuaire
    assert catalogue_mod.load().by_id["ANN.01"].rule is not None  # loads: evaluated NOT_OBSERVED
    monkeypatch.undo()
    path = broken(tmp_path, "      service: annuaire\n", "      service: anuaire\n")
    with pytest.raises(CatalogueError, match="unknown service 'anuaire'; known: annuaire, apcv"):
        catalogue_mod.load(path)


def test_yaml_syntax_error_and_missing_file(tmp_path: Path) -> None:
    path = broken(tmp_path, "requirements:\n", "requirements: [\n")
    with pytest.raises(CatalogueError, match=rf"^{re.escape(str(path))}:\d+: not valid YAML"):
        catalogue_mod.load(path)
    with pytest.raises(CatalogueError, match="cannot read the requirement catalogue"):
        catalogue_mod.load(tmp_path / "absent.yaml")


def test_a_corrupt_catalogue_stops_the_start(tmp_path: Path) -> None:
    path = broken(tmp_path, "type: findings\n", "type: findigns\n")
    runner = Runner(make_config(tmp_path / "data", services="none", scoreboard_catalogue=str(path)))
    with pytest.raises(StartError, match=r"requirements.yaml:\d+: requirement INS.50: unknown rule type"):
        runner.start()
    runner.stop()


def test_segur_sandbox_up_prints_the_catalogue_error(tmp_path: Path) -> None:
    path = broken(tmp_path, "type: findings\n", "type: findigns\n")
    env = {"SEGUR_DATA_DIR": str(tmp_path / "data"), "SEGUR_SERVICES": "none", "SEGUR_CONSOLE_PORT": "0",
           "SEGUR_SCOREBOARD_CATALOGUE": str(path), "PATH": "/usr/bin:/bin"}  # fmt: skip
    done = subprocess.run([sys.executable, "-m", "mocks.cli", "up"], env=env, capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr
    assert "unknown rule type 'findigns'" in done.stderr and "Traceback" not in done.stderr


def test_not_applicable_setting_names_known_requirements(tmp_path: Path) -> None:
    from mocks.kernel import Sandbox
    from mocks.scoreboard.board import Scoreboard

    with pytest.raises(CatalogueError, match="unknown requirement.*DMP.99"):
        Scoreboard(Sandbox(make_config(tmp_path, scoreboard_not_applicable="DMP.06, DMP.99")))
    board = Scoreboard(Sandbox(make_config(tmp_path / "b", scoreboard_not_applicable="DMP.06,APCV.01")))
    got = {r["id"]: r for r in board.compute("default")["requirements"]}
    assert got["DMP.06"]["status"] == got["APCV.01"]["status"] == "N/A"
    assert got["DMP.07"]["status"] == "MANUAL_PENDING"


def test_contract_is_the_evidence_ledgers() -> None:
    doc = mocks.evidence.__doc__ or ""
    for kind, fields in EVIDENCE_FIELDS.items():
        block = doc[doc.index(kind) :]
        nxt = [block.find(k, 1) for k in EVIDENCE_FIELDS if k != kind and block.find(k, 1) > 0]
        block = block[: min(nxt)] if nxt else block
        for name in fields:
            assert re.search(rf"\b{name}\b", block), (kind, name)
    assert set(EVIDENCE_SERVICE) == set(EVIDENCE_FIELDS) == set(PERSONA_FIELDS)
