"""Ségur scoreboard figures (printed, not asserted).

    .venv/bin/python benchmarks/bench_scoreboard.py [ROUNDS]      (default 7)

Goals (issue 20, 2 cores): recompute the whole scoreboard (127 requirements, the balance) over
10,000 evidence items and 5,000 journal entries < 500 ms; render the HTML report < 1 s. The bare
limit of the same run: reading those rows with their JSON decoded (what any computation must
do), against which the recompute is a ratio.
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from mocks.clock import iso
from mocks.kernel import Sandbox
from mocks.scoreboard import balance as balance_mod
from mocks.scoreboard.board import Scoreboard
from mocks.scoreboard.outputs import junit_xml, report_html
from mocks.testing import make_config

TENANT = "default"
N1 = "urn:ihe:iti:xds-sd:pdf:2008"


def fill(sandbox: Sandbox, evidence: int, journal: int) -> None:
    rnd = random.Random(20)
    now = iso(sandbox.now())
    rows = []
    for i in range(evidence):
        kind = rnd.choice(
            ["dmp.document.accepted"] * 5
            + ["mss.message.accepted"] * 3
            + ["ins.qualified", "dmp.document.updated"]
        )
        ins = f"{1600128020000 + rnd.randrange(500)}"
        if kind == "dmp.document.accepted":
            data = {"ins": ins, "ins_qualified": rnd.random() > 0.1, "type_code": rnd.choice(["11490-0", "57833-6", "SYNTH"]),
                    "format_code": N1, "author_rpps": f"1000000{rnd.randrange(40):04d}", "structure": "1750000010",
                    "confidentiality": rnd.choice([["N"], ["N", "MASQUE_PS"], ["N", "INVISIBLE_PATIENT"]]),
                    "replaces": "" if rnd.random() > 0.05 else "1.2.3", "cda_errors": rnd.choice([0, 0, 0, 1, None]),
                    "via_third_party": False}  # fmt: skip
        elif kind == "mss.message.accepted":
            data = {"sender": "dr@x.mssante.fr", "sender_rpps": f"1000000{rnd.randrange(40):04d}", "structure": "1750000010",
                    "recipients": [{"address": "y@x.mssante.fr", "kind": rnd.choice(["PER", "patient"])}],
                    "documents": [{"uniqueId": f"1.{i}", "type_code": "11490-0", "ins": ins, "ins_qualified": True}],
                    "xdm": True, "via_third_party": False}  # fmt: skip
        elif kind == "ins.qualified":
            data = {
                "ins": ins,
                "oid": "1.2.250.1.213.1.4.8",
                "auth_mode": "mtls",
                "caller": "CN=INSI-AUTO",
                "via": "insi",
            }
        else:
            data = {"action": rnd.choice(["mask", "delete"]), "caller": "CN=X"}
        rows.append((TENANT, kind, f"s{i}", now, "bench", json.dumps(data)))
    with sandbox.store.tx() as conn:
        conn.executemany(
            "INSERT INTO evidence(tenant, kind, subject, at, service, data) VALUES (?, ?, ?, ?, ?, ?)", rows
        )
        conn.executemany(
            "INSERT INTO journal(at, tenant, service, operation, caller, status, outcome, findings, finding_count, details) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(now, TENANT, s, op, "CN=INSI-AUTO,OU=10B0152872", 200, "CR=00", json.dumps(f), len(f), json.dumps(d))
             for s, op, f, d in (rnd.choice([
                 ("insi", "rechercherInsAvecTraitsIdentite", [], {"mode": "mtls", "listener": "insi"}),
                 ("insi", "rechercherInsAvecTraitsIdentite", [{"rule": "INSI-TRAITS-LEXIQUE", "severity": "error", "message": "x"}], {"mode": "cpx"}),
                 ("psc", "token", [], {"grant_type": "authorization_code"}),
                 ("psc", "userinfo", [], {}),
                 ("annuaire", "fhir", [], {}),
             ]) for _ in range(journal))],
        )  # fmt: skip


def timed(fn: Callable[[], object], rounds: int) -> tuple[float, float, float]:
    """Wall-clock p50 and max, and the process's CPU time p50 (ms): on a shared, loaded machine
    the CPU time is what the computation costs, the wall time what a caller waits."""
    samples, cpu = [], []
    for _ in range(rounds):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    return statistics.median(samples), max(samples), statistics.median(cpu)


def main(rounds: int = 7) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        sandbox = Sandbox(make_config(Path(tmp)))
        board = Scoreboard(sandbox)
        t0 = time.perf_counter()
        fill(sandbox, 10_000, 5_000)
        print(f"filled 10,000 facts and 5,000 exchanges in {time.perf_counter() - t0:.1f} s")
        span = balance_mod.period("all", None, None, None, sandbox.now())

        def bare() -> None:
            for row in sandbox.store.query("SELECT data FROM evidence WHERE tenant = ?", (TENANT,)):
                json.loads(row["data"])
            for row in sandbox.store.query(
                "SELECT findings, details FROM journal WHERE tenant = ?", (TENANT,)
            ):
                json.loads(row["findings"])
                json.loads(row["details"])

        def recompute() -> tuple[dict, dict]:
            snap = board.snapshot(TENANT)
            return board.compute(TENANT, snap), balance_mod.compute(board, snap, span)

        data, bal = recompute()
        base, _, base_cpu = timed(bare, rounds)
        read, _, read_cpu = timed(lambda: board.snapshot(TENANT), rounds)
        whole, worst, whole_cpu = timed(recompute, rounds)
        html_ms, html_worst, _ = timed(lambda: report_html(data, bal, "http://localhost:4600"), rounds)
        junit_ms, _, _ = timed(lambda: junit_xml(data), rounds)
        print(f"bare read + JSON decode of the rows   p50 {base:7.1f} ms   cpu {base_cpu:6.1f} ms")
        print(
            f"snapshot (rows -> observations)       p50 {read:7.1f} ms   cpu {read_cpu:6.1f} ms   ({read_cpu / base_cpu:.1f}x bare)"
        )
        print(
            f"recompute board + balance             p50 {whole:7.1f} ms   cpu {whole_cpu:6.1f} ms   max {worst:.1f} ms   "
            f"({whole_cpu / base_cpu:.1f}x bare; goal < 500 ms)"
        )
        print(
            f"report.html rendering                 p50 {html_ms:7.1f} ms   max {html_worst:.1f} ms   "
            f"({len(report_html(data, bal)) // 1024} KiB; goal < 1000 ms)"
        )
        print(f"junit.xml rendering                   p50 {junit_ms:7.1f} ms")
        print(f"statuses: {data['summary']}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 7)
