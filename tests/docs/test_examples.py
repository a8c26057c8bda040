"""Every shell and Python example of the README and docs/ runs, as a reader pastes it, against a
sandbox of its own on ephemeral ports (tests/doc_examples.py rewrites the default ports).

One test per Markdown file: its blocks run in order in one folder, like one terminal. A block the
docs mark `<!-- not run: why -->` is skipped with its reason; `test_every_example_is_run_somewhere`
makes sure no runnable example of docs/ is left to no test (a service page is run by its own
service's tests, or here)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from mocks.runner import Runner
from mocks.testing import make_config
from tests.doc_examples import ROOT, blocks, run

# the pages this module runs; a service page may be run by its service's own tests instead
PAGES = [
    "README.md",
    "docs/architecture.md",
    "docs/configuration.md",
    "docs/control-plane.md",
    "docs/ci.md",
    "docs/docker.md",
    "docs/pki.md",
    "docs/personas.md",
    "docs/services/insi.md",
]


@pytest.fixture(scope="module")
def doc_runner(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runner]:
    runner = Runner(
        make_config(
            tmp_path_factory.mktemp("docs-sandbox"),
            population_households=60,
            population_professionals=20,
            population_structures=8,
        )
    )
    runner.start()
    yield runner
    runner.stop()


@pytest.mark.parametrize("page", PAGES)
def test_page_examples_run(page: str, doc_runner: Runner, tmp_path: Path, specs: Path) -> None:
    path = ROOT / page
    if page == "docs/services/insi.md":
        # the reader has the CNAM kit: the official WSDL and its xsd/ folder in the current folder
        contract = specs / "insi" / "contract"
        shutil.copy(contract / "DESIR_ICIR_EXP_1.5.0.wsdl", tmp_path)
        shutil.copytree(contract / "xsd", tmp_path / "xsd")
    for block in blocks(path):
        result = run(block, doc_runner, tmp_path, timeout=120)
        assert result.returncode == 0, (
            f"{block.id} ({block.language}) failed ({result.returncode}):\n{block.code}\n"
            f"--- stdout\n{result.stdout[-3000:]}\n--- stderr\n{result.stderr[-3000:]}"
        )


def test_every_example_is_run_somewhere() -> None:
    # the test modules that run documentation examples (tests/doc_examples.py), and what they name
    runners = [
        p.read_text(encoding="utf-8")
        for p in (ROOT / "tests").rglob("test_*.py")
        if "doc_examples" in p.read_text(encoding="utf-8") and p.resolve() != Path(__file__).resolve()
    ]
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]:
        page = str(path.relative_to(ROOT))
        run_elsewhere = any(path.name in text for text in runners)
        for block in blocks(path, skipped=True):
            assert block.skipped or page in PAGES or run_elsewhere, (
                f"{block.id}: no test runs the examples of {page} (add it to PAGES in {__file__})"
            )


def test_skipped_examples_say_why() -> None:
    for page in PAGES:
        for block in blocks(ROOT / page, skipped=True):
            assert not block.skipped or len(block.skipped) > 10, block.id
    text = (ROOT / "docs" / "pki.md").read_text(encoding="utf-8")
    # personas of the sandbox's world, not numbers that answer 404
    assert "11B0073160" not in text and "810002813839" not in text
