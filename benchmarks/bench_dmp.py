"""DMP figures (printed, not asserted): TD0.2 (test d'existence) per second over keep-alive mutual
TLS 1.2 with a CPS authentication certificate and a VIHF signed with the CPS signature certificate
(verified by signxml on every call), latency percentiles, next to the INSi figure's minimal HTTPS
endpoint on the same server stack (cheroot + the DMP's TLS context: the ceiling of this stack).

    .venv/bin/python benchmarks/bench_dmp.py [--seconds 10] [--clients 4]
    .venv/bin/python benchmarks/bench_dmp.py --provide [--seconds 6] [--clients 2]

ITI-41 (`--provide`, issue 14): the official TD2.1 request re-keyed (tests/dmp/provide_support)
with a CDA N1 carrying a 1 MiB PDF and the lot's XAdES, MTOM over keep-alive mutual TLS, report
mode (the CDA engine's official verdict queued off the request path). Every feed needs fresh
uniqueIds, so each request goes to a tenant of its own (created beforehand) with the same bytes.
Goal: >= 30/s, p95 < 150 ms on 2 cores.

Goal (issue 13): >= 300 TD0.2/s on a 2-core machine, p95 < 25 ms. Load runs in separate
processes, one keep-alive connection each (bench_insi's workers).
"""

from __future__ import annotations

import argparse
import base64
import logging
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

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
    process, next to the bare limit of joining the same bytes (the serialiser's ceiling). The
    query over the wire (TLS, VIHF, store) is not measured yet: the registry is not served."""
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


def _pdf(size: int) -> bytes:
    """A well-formed PDF of about `size` bytes: one page and an embedded stream of random bytes
    (what a scanned letter weighs)."""
    import io
    import os

    import pikepdf

    pdf = pikepdf.new()
    pdf.add_blank_page()
    pdf.Root.Filler = pdf.make_stream(os.urandom(size - 600))
    out = io.BytesIO()
    pdf.save(out, compress_streams=False)
    return out.getvalue()


def _feed_worker(target: Any, path: str, body: bytes, ctype: str, tenants: list[str], seconds: float,
                 out: Any, ready: Any, go: Any) -> None:  # fmt: skip
    import time

    import loadgen

    conn = loadgen.Connection(target)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    failures = 0
    try:
        conn.call(loadgen.post(path, body, ctype, headers=f"X-Sandbox-Tenant: {tenants[0]}\r\n"))  # warm-up
        ready.put(1)
        go.wait()
        deadline = time.perf_counter() + seconds
        for tenant in tenants[1:]:
            if time.perf_counter() >= deadline:
                break
            request = loadgen.post(path, body, ctype, headers=f"X-Sandbox-Tenant: {tenant}\r\n")
            t0 = time.perf_counter()
            status, answer = conn.call(request)
            latencies.append(time.perf_counter() - t0)
            statuses[status] = statuses.get(status, 0) + 1
            failures += b"ResponseStatusType:Success" not in answer
    finally:
        conn.close()
    out.put((latencies, statuses, failures))


def provide(seconds: float = 6.0, clients: int = 2) -> None:
    import multiprocessing as mp
    import time

    import loadgen

    from tests.dmp import provide_support as P

    logging.disable(logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        runner = Runner(make_config(Path(tmp) / "data", services="dmp"))
        runner.start()
        sandbox = runner.sandbox
        try:
            pki = sandbox.pki
            auth, sign = pki.credentials(GP, "cps_auth"), pki.credentials(GP, "cps_sign")
            pdf = _pdf(1024 * 1024)

            def n1(cda: bytes) -> bytes:
                start, end = (
                    cda.index(b'<text mediaType="text/plain"'),
                    cda.index(b"</text>") + len(b"</text>"),
                )
                text = (
                    b'<text mediaType="application/pdf" representation="B64">'
                    + base64.b64encode(pdf)
                    + b"</text>"
                )
                return cda[:start] + text + cda[end:]

            def pdf_format(root: bytes) -> bytes:
                return root.replace(b"urn:ihe:iti:xds-sd:text:2008", b"urn:ihe:iti:xds-sd:pdf:2008")

            token = vihf(datetime.now(UTC), signer=sign, pki=pki)
            body, ctype, _ = P.official_td21(token, sign, cda=n1, envelope=pdf_format)
            files = {k: str(Path(tmp) / f"{k}.pem") for k in ("ca", "cert", "key")}
            Path(files["ca"]).write_bytes(pki.ca_bundle())
            Path(files["cert"]).write_bytes(auth.fullchain_pem)
            Path(files["key"]).write_bytes(auth.key_pem)
            per_client = int(seconds * 80) + 1  # more tenants than a client can feed
            names = [[f"bench-{c}-{i}" for i in range(per_client)] for c in range(clients)]
            for tenant in (t for group in names for t in group):
                sandbox.tenants.create(tenant)
            target = loadgen.Target(
                "127.0.0.1", sandbox.port("dmp"), files["ca"], files["cert"], files["key"]
            )
            path = "/si-dmp-server/v2/services/repository"
            spawn = mp.get_context("spawn")
            out, ready, go = spawn.Queue(), spawn.Queue(), spawn.Event()
            procs = [spawn.Process(target=_feed_worker, args=(target, path, body, ctype, names[c], seconds, out, ready, go))
                     for c in range(clients)]  # fmt: skip
            for p in procs:
                p.start()
            for _ in procs:
                ready.get(timeout=120)
            cpu = time.process_time()  # the sandbox runs in this process: its CPU, load-independent
            go.set()
            total = loadgen.Result(seconds)
            failures = 0
            for _ in procs:
                lat, st, failed = out.get(timeout=seconds + 120)
                total.latencies.extend(lat)
                failures += failed
                for k, v in st.items():
                    total.statuses[k] = total.statuses.get(k, 0) + v
            cpu = time.process_time() - cpu
            for p in procs:
                p.join()
        finally:
            runner.stop()
    per = 1000 * cpu / max(1, len(total.latencies))
    print(
        f"{clients} keep-alive mTLS 1.2 clients (separate processes), {seconds:.0f} s, request {len(body) / 1e6:.2f} MB"
    )
    print(total.line("DMP TD2.1 ITI-41, CDA N1 with a 1 MiB PDF + XAdES (report mode)"))
    print(
        f"non-Success answers: {failures}; sandbox CPU {per:.1f} ms a feed (one core's worth: {1000 / per:.0f}/s)"
    )
    print("goal (issue 14): >= 30/s, p95 < 150 ms on a 2-core machine")


if __name__ == "__main__":
    if "--registry" in sys.argv:
        registry_answer()
    elif "--provide" in sys.argv:
        rest = sys.argv[1:]
        opts = {
            rest[i].lstrip("-"): float(rest[i + 1])
            for i in range(len(rest) - 1)
            if rest[i] in ("--seconds", "--clients")
        }
        provide(opts.get("seconds", 6.0), int(opts.get("clients", 2)))
    else:
        main()
