"""CDA engine figures (printed, not asserted), with the ANS data of ../shared/specs/cda.

    .venv/bin/python benchmarks/bench_cda.py [N]      (N documents per figure, default 40)

Goals (issue 12, 2 cores): StrucMin cold compile <= 25 s, warm (stage cache) <= 15 s; a
100-450 KiB N1 p50 <= 150 ms and >= 8 documents/s per worker; a cached result <= 5 ms; peak RSS
<= 1.5 GB with StrucMin and 3 volets. The bare limit of the same run: the worker's own verdict
time (XSD + schematrons on a parsed document), against which the end-to-end figures are ratios.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from mocks.cda import Context
from mocks.runner import Runner
from mocks.testing import make_config

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "specs" / "cda" / "TestContenuCDA-3-0"
N1S = ["IMG_CR_IMG_2024.01_CDA-R2-Niveau-1.xml", "TLM-CR_2022.01.xml", "DOC_NON_STRUCTURE_CDA-R2-N1.xml"]
VOLETS = ["VSM_1.4_2022.01.xml", "LDL-SES_2022.01.xml", "IPS-FR_2024.01.xml"]


def unique(doc: bytes) -> bytes:
    return doc.replace(b"<ClinicalDocument", f"<!-- {uuid.uuid4()} --><ClinicalDocument".encode(), 1)


def runner(data_dir: Path) -> Runner:
    config = make_config(
        data_dir, services="none", cda_data=str(DATA), cda_precompile="auto", cda_timeout=300
    )
    r = Runner(config)
    r.start()
    return r


def until_compiled(r: Runner, profile: str, timeout: float = 300) -> dict[str, float]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        health = r.sandbox.cda.health()
        if profile in (health.get("compiled") or []):
            return dict(health["timings"][profile])
        time.sleep(0.05)
    raise TimeoutError(f"{profile} not compiled in {timeout} s")


def rss_peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


def main(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        r = runner(folder)
        cold = until_compiled(r, "StrucMin")
        cold_wall = time.perf_counter() - started
        r.stop()
        print(
            f"StrucMin cold: {cold_wall:.1f} s to compiled (ISO stages {cold['stages_s']} s, Saxon compile {cold['compile_s']} s)"
        )

        started = time.perf_counter()
        r = runner(folder)
        warm = until_compiled(r, "StrucMin")
        print(
            f"StrucMin warm: {time.perf_counter() - started:.1f} s (stage cache: stages {warm['stages_s']} s, compile {warm['compile_s']} s)"
        )
        engine = r.sandbox.cda
        docs = {name: (DATA / "ExemplesCDA" / name).read_bytes() for name in N1S + VOLETS}
        try:
            for name in N1S:  # warm the path once per document kind
                engine.validate(unique(docs[name]), timeout=300)
            latencies, verdicts = [], []
            for i in range(n):
                name = N1S[i % len(N1S)]
                t = time.perf_counter()
                report = engine.validate(unique(docs[name]), Context(name=name), timeout=300)
                latencies.append((time.perf_counter() - t) * 1000)
                verdicts.append(report.duration_ms)
                assert report.state == "done" and report.profiles, report
            sizes = ", ".join(f"{len(docs[x]) // 1024} KiB" for x in N1S)
            print(f"N1 ({sizes}) end to end, sequential: p50 {pct(latencies, 0.5):.0f} ms, p95 {pct(latencies, 0.95):.0f} ms; "
                  f"bare worker verdict p50 {pct(verdicts, 0.5):.0f} ms (ratio {pct(latencies, 0.5) / pct(verdicts, 0.5):.2f})")  # fmt: skip

            batch = [unique(docs[N1S[i % len(N1S)]]) for i in range(n)]
            t = time.perf_counter()
            ids = [engine.submit(doc).id for doc in batch]
            for report_id in ids:
                engine.wait(report_id or 0, 300)
            elapsed = time.perf_counter() - t
            print(f"N1 throughput, {n} submitted at once, one worker: {n / elapsed:.1f} documents/s "
                  f"(bare: {1000 / statistics.mean(verdicts):.1f}/s from the verdict times)")  # fmt: skip

            cached_doc = docs[N1S[0]]
            engine.validate(cached_doc, timeout=300)
            cached = []
            for _ in range(max(n, 50)):
                t = time.perf_counter()
                report = engine.validate(cached_doc, timeout=300)
                cached.append((time.perf_counter() - t) * 1000)
                assert report.cached
            print(f"cached result ({len(cached_doc) // 1024} KiB N1, our rules included): p50 {pct(cached, 0.5):.1f} ms, "
                  f"p95 {pct(cached, 0.95):.1f} ms")  # fmt: skip

            for name in VOLETS:
                engine.validate(unique(docs[name]), timeout=300)
            health = engine.health()
            print(
                f"worker peak RSS with {', '.join(health['compiled'])}: {rss_peak_mb(health['worker_pid']):.0f} MB"
            )
        finally:
            r.stop()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 40)
