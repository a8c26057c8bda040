"""DMP figures (printed, not asserted): TD0.2 (test d'existence) per second over keep-alive mutual
TLS 1.2 with a CPS authentication certificate and a VIHF signed with the CPS signature certificate
(verified by signxml on every call), latency percentiles, next to the INSi figure's minimal HTTPS
endpoint on the same server stack (cheroot + the DMP's TLS context: the ceiling of this stack).

    .venv/bin/python benchmarks/bench_dmp.py [--seconds 10] [--clients 4]
    .venv/bin/python benchmarks/bench_dmp.py --iti18 [--seconds 6] [--clients 2]

Goal (issue 13): >= 300 TD0.2/s on a 2-core machine, p95 < 25 ms. Load runs in separate
processes, one keep-alive connection each (bench_insi's workers).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

from dmp.service import Dmp  # noqa: E402
from mocks.http import HttpServer  # noqa: E402
from mocks.runner import Runner  # noqa: E402
from mocks.testing import make_config  # noqa: E402
from tests.dmp.support import GP, rekey, vihf  # noqa: E402


def main() -> None:
    # bench_insi no longer has these since its rework (0652ae0): main() is broken until ported
    from bench_insi import describe, load, minimal_app  # type: ignore[attr-defined]

    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        runner = Runner(make_config(Path(tmp) / "data", services="dmp", journal_bodies="true"))
        runner.start()
        sandbox = runner.sandbox
        try:
            pki = sandbox.pki
            auth, sign = pki.credentials(GP, "cps_auth"), pki.credentials(GP, "cps_sign")
            token = vihf(datetime.now(UTC), signer=sign, pki=pki)
            body = rekey("TD0.2_-_Test_d_existence_requete.xml", token)
            files = {k: str(Path(tmp) / f"{k}.pem") for k in ("ca", "cert", "key")}
            Path(files["ca"]).write_bytes(pki.ca_bundle())
            Path(files["cert"]).write_bytes(auth.fullchain_pem)
            Path(files["key"]).write_bytes(auth.key_pem)
            policy = Dmp(sandbox).listeners()[0].tls
            assert policy is not None
            context = pki.server_context(policy, sandbox.config.hostnames)
            minimal = HttpServer("minimal", "127.0.0.1", 0, minimal_app, context)
            minimal.start()
            try:
                base = load(f"https://localhost:{minimal.port}/x", files, body, args.seconds, args.clients)
            finally:
                minimal.stop()
            url = runner.url("dmp", "/si-dmp-server/v2/services/patients")
            dmp = load(url, files, body, args.seconds, args.clients)
        finally:
            runner.stop()
    print(f"{args.clients} keep-alive mTLS 1.2 clients (separate processes), {args.seconds:.0f} s each")
    print(describe("minimal HTTPS endpoint (same cheroot + DMP TLS context)", *base))
    print(describe("DMP TD0.2 (signed VIHF verified, journaled)", *dmp))
    print(f"ratio DMP / minimal: {dmp[0] / base[0]:.2f}" if base[0] else "")
    print("goal: >= 300 req/s, p95 < 25 ms on a 2-core machine (INSi figure: benchmarks/bench_insi.py)")


def registry_answer(counts: tuple[int, ...] = (50, 500), seconds: float = 3.0) -> None:
    """TD3.1 (issue 14): the FindDocuments LeafClass answer of a patient with 50 / 500 documents,
    written by dmp.registry_wire from the official TD3.1 entries, answers per second in one
    process, next to the bare limit of joining the same bytes (the serialiser's ceiling); over the
    wire: `--iti18` (registry_over_the_wire)."""
    import time

    from lxml import etree

    from dmp import registry_wire
    from tests.dmp.support import EXAMPLES
    from tests.dmp.test_dmp_query import _view

    root = etree.parse(str(EXAMPLES / "TD3.1_-_Recherche_de_document_reponse.xml")).getroot()
    rim = registry_wire.RIM
    views = [_view(e) for e in root.iter(f"{{{rim}}}ExtrinsicObject")]
    for count in counts:
        chosen = [views[i % len(views)] for i in range(count)]
        written = [registry_wire.extrinsic_object(v) for v in chosen]
        rates = []
        for mode in ("answer", "bare"):
            done, start = 0, time.perf_counter()
            while time.perf_counter() - start < seconds:
                if mode == "answer":
                    registry_wire.query_response([registry_wire.extrinsic_object(v) for v in chosen])
                else:
                    "".join(written)
                done += 1
            rates.append(done / (time.perf_counter() - start))
        size = len(registry_wire.query_response(written).encode())
        print(
            f"FindDocuments LeafClass answer, {count} documents ({size / 1e6:.2f} MB): "
            f"{rates[0]:.0f}/s; bare join {rates[1]:.0f}/s; ratio {rates[0] / rates[1]:.3f}"
        )
    print("goal (issue 14, over the wire): >= 100/s with 50 documents, >= 10/s with 500")


def registry_over_the_wire(counts: tuple[int, ...] = (50, 500)) -> None:
    """TD3.1 (issue 14) over the wire: FindDocuments LeafClass (the official TD3.1 request, signed
    VIHF verified on every call, journaled) on a patient with 50 / 500 Approved documents of the
    official TD2.1 metadata, keep-alive mutual TLS 1.2, benchmarks/loadgen.py clients (one process
    each); next to the bare endpoint (same server stack and DMP TLS context, a constant answer),
    alternating in short rounds so that a shared machine's load falls on both."""
    import time

    import loadgen
    from bench_insi import bare_app

    from dmp.documents import Documents
    from tests.dmp import registry_support

    parser = argparse.ArgumentParser()
    parser.add_argument("--iti18", action="store_true")
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        runner = Runner(
            make_config(
                Path(tmp) / "data",
                services="dmp",
                journal_bodies=os.environ.get("BENCH_JOURNAL_BODIES", "true"),
            )
        )
        runner.start()
        sandbox = runner.sandbox
        try:
            pki = sandbox.pki
            auth, sign = pki.credentials(GP, "cps_auth"), pki.credentials(GP, "cps_sign")
            ca, cert, key = (str(Path(tmp) / n) for n in ("ca.pem", "c.pem", "k.pem"))
            Path(ca).write_bytes(pki.ca_bundle())
            Path(cert).write_bytes(auth.fullchain_pem)
            Path(key).write_bytes(auth.key_pem)
            policy = Dmp(sandbox).listeners()[0].tls
            assert policy is not None
            bare = HttpServer(
                "bare", "127.0.0.1", 0, bare_app, pki.server_context(policy, sandbox.config.hostnames)
            )
            bare.start()
            docs = Documents(sandbox.store)
            path = "/si-dmp-server/v2/services/registry"
            print(
                f"{args.clients} keep-alive mTLS 1.2 clients (benchmarks/loadgen.py), {args.seconds:.0f} s each"
            )
            try:
                for count in counts:
                    tenant = f"bench{count}"
                    sandbox.tenants.create(tenant)
                    for i in range(count):
                        docs.insert_submission(
                            tenant,
                            registry_support.submission(submission_time=f"2024{i % 12 + 1:02}01100000"),
                        )
                    token = vihf(datetime.now(UTC), signer=sign, pki=pki)
                    body = rekey("TD3.1_-_Recherche_de_document_requete.xml", token)
                    headers = f"X-Sandbox-Tenant: {tenant}\r\n"
                    req = [loadgen.post(path, body, "application/soap+xml; charset=UTF-8", headers=headers)]
                    targets = {
                        "bare": loadgen.Target("127.0.0.1", bare.port, ca, cert, key),
                        "dmp": loadgen.Target("127.0.0.1", sandbox.port("dmp"), ca, cert, key),
                    }
                    rows: dict[str, loadgen.Result] = {}
                    cpu = {"bare": 0.0, "dmp": 0.0}  # this process's CPU (the servers'): load-independent
                    for _ in range(args.rounds):
                        for name, target in targets.items():
                            before = time.process_time()
                            part = loadgen.run(target, [req], args.seconds / args.rounds, args.clients)
                            cpu[name] += time.process_time() - before
                            rows[name] = rows[name].merge(part) if name in rows else part
                    probe = loadgen.Connection(targets["dmp"])
                    status, answer = probe.call(req[0])
                    probe.close()
                    assert status == 200 and f'totalResultCount="{count}"'.encode() in answer, answer[:2000]
                    size = len(answer)
                    print(
                        f"  {count} documents  "
                        + rows["bare"].line("bare endpoint (same server + TLS context)")
                    )
                    print(
                        f"  {count} documents  "
                        + rows["dmp"].line(f"TD3.1 FindDocuments LeafClass ({size / 1e6:.2f} MB)")
                    )
                    print(
                        f"  {count} documents  ratio TD3.1 / bare: {rows['dmp'].rate / rows['bare'].rate:.3f}"
                    )
                    per = {k: cpu[k] / max(1, len(rows[k].latencies)) * 1000 for k in cpu}
                    print(
                        f"  {count} documents  server CPU per request: TD3.1 {per['dmp']:.1f} ms,"
                        f" bare {per['bare']:.2f} ms (one idle core, the GIL: at most {1000 / per['dmp']:.0f} TD3.1/s)"
                    )
            finally:
                bare.stop()
        finally:
            runner.stop()
    print("goal (issue 14): >= 100/s with 50 documents, >= 10/s with 500")


if __name__ == "__main__":
    if "--registry" in sys.argv:
        registry_answer()
    elif "--iti18" in sys.argv:
        registry_over_the_wire()
    else:
        main()
