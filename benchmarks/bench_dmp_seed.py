"""The DMP's seeded documents (dmp/seed.py), printed not asserted: the first documents read of a
fresh tenant (which makes its eight lots: PDF/A, CDA, XAdES, CDA engine submission, one
transaction), then warm reads of the control routes a viewer calls.

    .venv/bin/python benchmarks/bench_dmp_seed.py [tenants]

Goals (issue 14 "Data": lazy, start-up untouched): a tenant's first read under 5 s on 2 cores;
the patient list and a patient's documents under 50 ms warm.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time

import httpx

from mocks.runner import Runner
from mocks.testing import make_config


def main(tenants: int) -> None:
    runner = Runner(make_config(tempfile.mkdtemp()))
    runner.start()
    try:
        with httpx.Client(base_url=runner.url("console"), timeout=120) as client:
            firsts = []
            for i in range(tenants):
                name = f"bench-seed-{i}"
                client.post("/_sandbox/tenants", json={"id": name}).raise_for_status()
                started = time.perf_counter()
                client.get("/_sandbox/dmp/documents", params={"tenant": name}).raise_for_status()
                firsts.append(time.perf_counter() - started)
            print(f"first read of a tenant (seeding): {', '.join(f'{s:.2f} s' for s in firsts)}")
            patients = client.get("/_sandbox/dmp/documents", params={"tenant": "bench-seed-0"}).json()[
                "patients"
            ]
            for label, params in (
                ("patient list", {"tenant": "bench-seed-0"}),
                ("a patient's documents", {"tenant": "bench-seed-0", "ins": patients[-1]["ins"]}),
            ):
                times = []
                for _ in range(50):
                    started = time.perf_counter()
                    client.get("/_sandbox/dmp/documents", params=params).raise_for_status()
                    times.append(time.perf_counter() - started)
                times.sort()
                print(
                    f"{label}: median {statistics.median(times) * 1000:.1f} ms, p95 {times[47] * 1000:.1f} ms"
                )
    finally:
        runner.stop()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
