"""The runtime: parallel submissions, report mode completing the journal entry later, strict mode,
the result cache, the LRU of profiles, the stage cache, a broken release, a crash on one document."""

from __future__ import annotations

import shutil
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from mocks.cda import Context
from mocks.cda.data import DataSet
from mocks.cda.engine import CdaEngine
from mocks.cda.report import CdaFinding
from mocks.runner import Runner
from mocks.testing import make_config
from tests.cda import mutations as m
from tests.cda.conftest import DATA, unique

N1 = "DOC_NON_STRUCTURE_CDA-R2-N1.xml"
VSM = "VSM_1.4_2022.01.xml"


@pytest.mark.slow
def test_eight_parallel_submissions_all_answered(
    cda_console: httpx.Client, example: Callable[[str], bytes]
) -> None:
    docs = [unique(example(N1 if i % 2 else VSM)) for i in range(8)]

    def post(doc: bytes) -> httpx.Response:
        return cda_console.post(
            "/_sandbox/cda/validate", content=doc, headers={"Content-Type": "application/xml"}
        )

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(post, docs))
    assert [a.status_code for a in answers] == [200] * 8
    assert all(a.json()["state"] == "done" and "StrucMin" in a.json()["profiles"] for a in answers)
    assert len({a.json()["id"] for a in answers}) == 8


@pytest.mark.slow
def test_report_mode_completes_the_journal_entry(cda_runner: Runner, example: Callable[[str], bytes]) -> None:
    sandbox = cda_runner.sandbox
    doc = unique(m.edit(example(N1), m.no_realm))
    trace = uuid.uuid4().hex
    with sandbox.exchange("insi", "cda-report-mode", "default", trace=trace) as ex:
        report = sandbox.cda.submit(doc, exchange=ex)
        assert report.state == "pending"  # the answer does not wait
    entry = sandbox.journal.find({"trace_id": trace})[0]
    rules = {f["rule"] for f in entry["findings"]}
    assert "CDA-INS-NOT-QUALIFIED" in rules and "CDA-STRUCMIN" not in rules  # ours at once, official later
    found = sandbox.journal.wait({"trace_id": trace, "rule": "CDA-STRUCMIN"}, timeout=120)
    assert found, "the verdict was never attached"
    assert found[0]["id"] == entry["id"] and found[0]["details"]["cda_report"] == report.id
    assert any("realmCode" in f["message"] for f in found[0]["findings"] if f["rule"] == "CDA-STRUCMIN")


@pytest.mark.slow
def test_strict_mode_waits_and_refuses(cda_runner: Runner, example: Callable[[str], bytes]) -> None:
    sandbox = cda_runner.sandbox
    with sandbox.exchange("insi", "cda-strict", "default") as ex:
        ex.findings.mode = "strict"
        report = sandbox.cda.validate(
            unique(m.edit(example(N1), m.signature_not_s)), exchange=ex, timeout=120
        )
        assert report.state == "done"
        assert "CDA-STRUCMIN" in {f.rule for f in ex.findings} and ex.findings.refuse


def test_strict_timeout_is_said(cda_runner: Runner, example: Callable[[str], bytes]) -> None:
    sandbox = cda_runner.sandbox
    trace = uuid.uuid4().hex
    with sandbox.exchange("insi", "cda-timeout", "default", trace=trace) as ex:
        report = sandbox.cda.validate(unique(example(VSM)), exchange=ex, timeout=0.001)
        assert report.state == "timeout"
        assert any(f.rule == "CDA-ENGINE" and "non rendu" in f.message for f in ex.findings)
    # the verdict still reaches the journal entry when it arrives
    assert sandbox.journal.wait({"trace_id": trace, "rule": "CDA-ENGINE"}, timeout=5)
    deadline = time.monotonic() + 120
    while "cda_report" not in sandbox.journal.find({"trace_id": trace})[0]["details"]:
        assert time.monotonic() < deadline
        time.sleep(0.05)


@pytest.mark.slow
def test_result_cache(engine: CdaEngine, example: Callable[[str], bytes]) -> None:
    doc = unique(example(VSM))
    first = engine.validate(doc, timeout=120)
    second = engine.validate(doc, timeout=120)
    assert not first.cached and second.cached
    assert second.findings == first.findings and second.profiles == first.profiles


@pytest.mark.slow
def test_lru_bounds_the_compiled_profiles(
    engine: CdaEngine, qualified_tenant: str, example: Callable[[str], bytes]
) -> None:
    for name in (
        "LDL-SES_2022.01.xml",
        "LDL-EES_2022.01.xml",
        "IPS-FR_2024.01.xml",
        VSM,
        "TLM-CR_2022.01.xml",
    ):
        engine.validate(unique(example(name)), Context(tenant=qualified_tenant), timeout=120)
    deadline = time.monotonic() + 5
    while (compiled := engine.health().get("compiled") or [])[-1:] != ["TLM-CR_2022.01"]:
        assert time.monotonic() < deadline, compiled
        time.sleep(0.1)
    assert len(compiled) == 4 and "StrucMin" in compiled  # max_profiles 4, StrucMin never evicted
    assert "LDL-SES_2022.01" not in compiled  # the least recently used went


def _copy(tmp: Path) -> Path:
    dest = tmp / "TestContenuCDA-3-0"
    for part in ("schematrons", "jeuxDeValeurs", "infrastructure"):
        shutil.copytree(DATA / part, dest / part)
    for path in dest.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    return dest


def test_stage_cache_invalidated_when_a_sch_changes(tmp_path: Path) -> None:
    pytest.importorskip("saxonche")
    from mocks.cda.schematron import Saxon

    data = _copy(tmp_path)
    saxon = Saxon(tmp_path / "stages")
    entry = data / "schematrons/CI-SIS_TLM-CR_2022.01.sch"
    key, text, seconds = saxon.stages("TLM-CR_2022.01", entry)
    assert (tmp_path / "stages" / f"TLM-CR_2022.01-{key}.xsl").is_file() and "Entete_TLM-CR" in text
    assert saxon.stages("TLM-CR_2022.01", entry)[2] == 0.0  # warm: from the cache
    included = data / "schematrons/include/specificationsVolets/TLM-CR_2022.01/Entete_TLM-CR.sch"
    included.write_text(
        included.read_text(encoding="utf-8").replace(
            "</pattern>", "<rule context='x'><assert test='true()'>sandbox</assert></rule></pattern>", 1
        ),
        encoding="utf-8",
    )
    new_key, new_text, _ = saxon.stages("TLM-CR_2022.01", entry)
    assert new_key != key and "sandbox" in new_text
    assert [p.name for p in (tmp_path / "stages").glob("TLM-CR_2022.01-*.xsl")] == [
        f"TLM-CR_2022.01-{new_key}.xsl"
    ]


def test_missing_data_file_makes_health_failed_naming_it(tmp_path: Path) -> None:
    data = _copy(tmp_path)
    missing = (
        data / "schematrons/profils/structurationMinimale/include/voc-1.2.250.1.213.1.1.5.471-DYNAMIC.xml"
    )
    missing.unlink()
    runner = Runner(make_config(tmp_path / "sb", services="none", cda_data=str(data)))
    runner.start()
    try:
        with httpx.Client(base_url=runner.url("console"), timeout=30) as client:
            health = client.get("/_sandbox/health").json()
            assert health["status"] == "degraded" and health["cda"]["state"] == "failed"
            assert "voc-1.2.250.1.213.1.1.5.471-DYNAMIC.xml" in health["cda"]["detail"]
            assert health["cda"]["path"].endswith("ASIP-STRUCT-MIN-StrucMin.sch")
            report = client.post(
                "/_sandbox/cda/validate", content=(DATA / "ExemplesCDA" / VSM).read_bytes()
            ).json()
            engine_notes = [f for f in report["findings"] if f["rule"] == "CDA-ENGINE"]
            assert engine_notes and "voc-1.2.250.1.213.1.1.5.471" in engine_notes[0]["message"]
        assert runner.sandbox.cda._process is None  # no worker for a broken release
    finally:
        runner.stop()


def test_volet_with_missing_includes_is_unavailable(tmp_path: Path) -> None:
    """CR-BIO 2023.01 includes files absent from the release: named, never a crash."""
    found = DataSet(DATA).check([DATA / "schematrons/CI-SIS_BIO-CR-BIO_2023.01.sch"])[
        "CI-SIS_BIO-CR-BIO_2023.01"
    ]
    assert any("Entete_CR-BIO.sch" in miss for miss in found.missing)
    assert (
        DataSet(DATA)
        .check([DATA / "schematrons/CI-SIS_CSE-CS8_2024.01.sch"])["CI-SIS_CSE-CS8_2024.01"]
        .case_fixed
    )


@pytest.mark.slow
def test_unavailable_volet_is_an_info_finding(engine: CdaEngine, example: Callable[[str], bytes]) -> None:
    report = engine.validate(unique(example("BIO-CR-BIO_2023.01_Electrophorese.xml")), timeout=120)
    notes = [f for f in report.findings if f.rule == "CDA-ENGINE" and f.profile == "BIO-CR-BIO_2023.01"]
    assert notes and notes[0].severity == "info" and "indisponible" in notes[0].message
    assert report.profiles == ["StrucMin"]


def test_a_crash_on_one_document_is_an_engine_finding(
    tmp_path: Path, example: Callable[[str], bytes]
) -> None:
    """A schematron that fails on a document: an engine finding on it, the next job still runs."""
    from mocks.cda.queue import Queue, result_key
    from mocks.cda.schematron import EngineError
    from mocks.cda.worker import Worker
    from mocks.kernel import KERNEL_MIGRATIONS
    from mocks.store import Store

    store = Store(tmp_path / "db.sqlite")
    store.migrate("kernel", KERNEL_MIGRATIONS)  # the worker runs on a sandbox's store
    worker = Worker(store, DataSet(DATA), tmp_path / "stages", 2, "none")
    worker.xsd = None

    class Failing:
        version = "fake"

        def document(self, text: str) -> str:
            return text

        def run(self, compiled: object, node: object) -> str:
            raise EngineError("XPTY0004: boom")

    worker.saxon = Failing()  # type: ignore[assignment]
    worker.loaded["StrucMin"] = object()  # type: ignore[assignment]
    queue = Queue(store)
    doc = example(N1)  # StrucMin only
    for i in range(2):
        digest = f"{i:064x}"
        queue.put_document(digest, doc)
        queue.add_job({"tenant": "default", "state": "queued", "sha256": digest, "result_key": result_key(digest, "d", "p", None),
                       "submitted_at": "now", "meta": {}, "own": []})  # fmt: skip
    for _ in range(2):
        job = queue.claim(worker.id)
        assert job is not None
        worker.handle(job)
        findings: list[CdaFinding] = queue.result(queue.job(job["id"])["result_key"])["findings"]  # type: ignore[index]
        assert any(f.rule == "CDA-ENGINE" and "XPTY0004: boom" in f.message for f in findings)
    assert queue.depth() == 0
