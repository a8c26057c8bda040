"""DMP figures (printed, not asserted), over keep-alive mutual TLS 1.2 with the GP's CPS
authentication certificate and a VIHF signed with her CPS signature certificate (verified by
signxml on every call), journaled, next to a bare endpoint on the same server stack (mocks.http +
the DMP's TLS context) answering the same number of bytes: the ceiling of this stack.

    .venv/bin/python benchmarks/bench_dmp.py [--seconds 6] [--clients 1,4] [--only td02|iti43]
    .venv/bin/python benchmarks/bench_dmp.py --registry      # TD3.1 answer writing alone
    .venv/bin/python benchmarks/bench_dmp.py --iti18 [--seconds 6] [--clients 2]  # TD3.1 over the wire
    .venv/bin/python benchmarks/bench_dmp.py --provide [--seconds 6] [--clients 2]  # TD2.1 ITI-41

- TD0.2 (test d'existence). Goal (issue 13): >= 300/s on a 2-core machine, p95 < 25 ms.
- TD2.1 (ITI-41) of a CDA N1 carrying a 1 MiB PDF and the lot's XAdES, MTOM, report mode (the CDA
  engine's verdict queued off the request path); every feed needs fresh uniqueIds, so each request
  goes to a tenant of its own (created beforehand) with the same bytes. Goal (issue 14): >= 30/s,
  p95 < 150 ms.
- TD3.2 (ITI-43 RetrieveDocumentSet) of a 1 MiB document, answered in CXF MTOM. Goal (issue 14):
  >= 100/s.

The load comes from benchmarks/loadgen.py (one process per client, raw keep-alive TLS), so that the
client is not the limit; bare and DMP alternate in short rounds (a shared machine's load falls on
both).
"""

from __future__ import annotations

import argparse
import base64
import logging
import os
import sys
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

import loadgen  # noqa: E402

from dmp.service import Dmp  # noqa: E402
from mocks.http import HttpServer  # noqa: E402
from mocks.runner import Runner  # noqa: E402
from mocks.testing import make_config  # noqa: E402
from tests.dmp.support import GP, rekey, vihf  # noqa: E402

CT = "application/soap+xml; charset=UTF-8"
BASE = "/si-dmp-server/v2/services/"
DOCUMENT_SIZE = 1024 * 1024
UNIQUE_ID = "1.2.250.1.999.1.1.7898.1.1048576"


def bare_app(size: int) -> Callable[..., list[bytes]]:
    """A bare endpoint: reads the body, answers `size` constant bytes (what the stack costs)."""
    body = b"x" * size

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        start_response("200 OK", [("Content-Type", CT), ("Content-Length", str(len(body)))])
        return [body]

    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--clients", default="1,4")
    parser.add_argument("--only", choices=["td02", "iti43"], default=None)
    parser.add_argument("--rounds", type=int, default=3, help="alternations of bare and DMP per count")
    args = parser.parse_args()
    counts = [int(c) for c in args.clients.split(",")]
    logging.disable(logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        runner = Runner(make_config(Path(tmp) / "data", services="dmp", journal_bodies="true"))
        runner.start()
        sandbox = runner.sandbox
        servers: list[HttpServer] = []
        try:
            from tests.dmp.test_dmp_retrieve import request as iti43_request
            from tests.dmp.test_dmp_retrieve import store

            pki = sandbox.pki
            auth, sign = pki.credentials(GP, "cps_auth"), pki.credentials(GP, "cps_sign")
            token = vihf(datetime.now(UTC), signer=sign, pki=pki)
            files = {k: str(Path(tmp) / f"{k}.pem") for k in ("ca", "cert", "key")}
            Path(files["ca"]).write_bytes(pki.ca_bundle())
            Path(files["cert"]).write_bytes(auth.fullchain_pem)
            Path(files["key"]).write_bytes(auth.key_pem)
            policy = Dmp(sandbox).listeners()[0].tls
            assert policy is not None
            context = pki.server_context(policy, sandbox.config.hostnames)
            store(runner, "default", os.urandom(DOCUMENT_SIZE), unique_id=UNIQUE_ID)
            cases = {
                "td02": ("TD0.2 (signed VIHF verified, journaled)", "patients", rekey("TD0.2_-_Test_d_existence_requete.xml", token)),
                "iti43": ("TD3.2 ITI-43, 1 MiB document in CXF MTOM (signed VIHF, journaled)", "repository", iti43_request(token, UNIQUE_ID)),
            }  # fmt: skip
            target = loadgen.Target(
                "127.0.0.1", sandbox.port("dmp"), files["ca"], files["cert"], files["key"]
            )
            print(
                f"keep-alive mTLS 1.2 clients (one process each, benchmarks/loadgen.py), {args.seconds:.0f} s each"
            )
            for name, (label, service, body) in cases.items():
                if args.only not in (None, name):
                    continue
                req = [loadgen.post(BASE + service, body, CT)]
                status, answer = loadgen.Connection(target).call(req[0])
                assert status == 200, answer[:2000]
                bare = HttpServer(f"bare-{name}", "127.0.0.1", 0, bare_app(len(answer)), context)
                bare.start()
                servers.append(bare)
                targets = {
                    "bare": loadgen.Target("127.0.0.1", bare.port, files["ca"], files["cert"], files["key"]),
                    "dmp": target,
                }
                for n in counts:
                    rows: dict[str, loadgen.Result] = {}
                    for _ in range(args.rounds):
                        for which, where in targets.items():
                            part = loadgen.run(where, [req], args.seconds / args.rounds, n)
                            rows[which] = rows[which].merge(part) if which in rows else part
                    print(
                        f"  {n:2} clients  "
                        + rows["bare"].line(f"bare endpoint, {len(answer):,} bytes answered")
                    )
                    print(f"  {n:2} clients  " + rows["dmp"].line(f"DMP {label}"))
                    print(f"  {n:2} clients  ratio DMP / bare: {rows['dmp'].rate / rows['bare'].rate:.2f}")
        finally:
            for server in servers:
                server.stop()
            runner.stop()
    print("goals: TD0.2 >= 300 req/s, p95 < 25 ms (issue 13); ITI-43 of 1 MiB >= 100/s (issue 14)")


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

    from bench_insi import bare_app as constant_app

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
                "bare", "127.0.0.1", 0, constant_app, pki.server_context(policy, sandbox.config.hostnames)
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
    elif "--iti18" in sys.argv:
        registry_over_the_wire()
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
