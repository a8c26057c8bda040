"""INSi figures (printed, not asserted): RECSANSVITALE per second over keep-alive mutual TLS with an
INSI-AUTO certificate, latency percentiles, next to a bare endpoint on the same server stack
(mocks.http + the same TLS context: the ceiling of this stack), at 1, 4 and 16 clients.

    .venv/bin/python benchmarks/bench_insi.py [--seconds 5] [--clients 1,4,16]

Goals (issue 11): INSi >= 0.5 of the bare endpoint at 1 and 4 clients, p95 < 20 ms at 16 clients
(issue 5: >= 300 req/s, p95 < 20 ms). `--processes 2` adds INSi served by two processes on one
port (SO_REUSEPORT; each its own Sandbox on the same store): the multi-process lever, measured in
the same run. The load comes from benchmarks/loadgen.py (one process per
client, raw keep-alive TLS, a few tens of microseconds a request), so that the client is not the
limit.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing as mp
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import loadgen

from mocks.http import HttpServer
from mocks.pki import Structure
from mocks.runner import Runner
from mocks.service import TlsPolicy
from mocks.testing import make_config

CT = "application/soap+xml; charset=utf-8"


def request(nom: str, prenom: str, sexe: str, date: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope" '
        'xmlns:ctxbam="urn:siram:bam:ctxbam" xmlns:ctxlps="urn:siram:lps:ctxlps" '
        'xmlns:wsa="http://www.w3.org/2005/08/addressing"><soap:Header>'
        f'<ctxbam:ContexteBAM Version="01_02"><ctxbam:Id>{uuid.uuid4()}</ctxbam:Id>'
        "<ctxbam:Temps>2026-01-01T10:00:00.000Z</ctxbam:Temps><ctxbam:Emetteur>10B0152872</ctxbam:Emetteur>"
        '<ctxbam:COUVERTURE/></ctxbam:ContexteBAM><ctxlps:ContexteLPS Nature="CTXLPS" Version="01_00">'
        f"<ctxlps:Id>{uuid.uuid4()}</ctxlps:Id><ctxlps:Temps>2026-01-01T10:00:00.000Z</ctxlps:Temps>"
        '<ctxlps:Emetteur>10B0152872</ctxlps:Emetteur><ctxlps:LPS><ctxlps:IDAM R="4">TESTSGIE0000</ctxlps:IDAM>'
        f"<ctxlps:Version>1.0.0</ctxlps:Version><ctxlps:Instance>{uuid.uuid4()}</ctxlps:Instance>"
        "<ctxlps:Nom>urn:lps:BENCH:1.0.0</ctxlps:Nom></ctxlps:LPS></ctxlps:ContexteLPS>"
        "<wsa:Action>urn:ServiceIdentiteCertifiee:1.0.0:rechercherInsAvecTraitsIdentite</wsa:Action>"
        f"<wsa:MessageID>uuid:{uuid.uuid4()}</wsa:MessageID></soap:Header><soap:Body>"
        '<r:RECSANSVITALE xmlns:r="http://www.cnamts.fr/INSiRecSans">'
        f"<r:NomNaissance>{nom}</r:NomNaissance><r:Prenom>{prenom}</r:Prenom><r:Sexe>{sexe}</r:Sexe>"
        f"<r:DateNaissance>{date}</r:DateNaissance></r:RECSANSVITALE></soap:Body></soap:Envelope>"
    ).encode()


def bare_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """The bare endpoint: reads the body, answers a constant (what the server stack costs)."""
    environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    body = b"<ok/>"
    start_response("200 OK", [("Content-Type", CT), ("Content-Length", str(len(body)))])
    return [body]


def _insi_server(sandbox: Any, port: int, reuse_port: bool) -> HttpServer:
    """INSi's mTLS listener behind the harness, as the runner serves it, on a port of our own."""
    [listener] = [lst for lst in sandbox.instances["insi"].listeners() if lst.name == "insi"]
    return HttpServer(
        "insi",
        "127.0.0.1",
        port,
        sandbox.harness.wrap("insi", listener),
        sandbox.pki.server_context(listener.tls, sandbox.config.hostnames),
        threads=int(sandbox.config["http_threads"]),
        max_body=listener.max_body,
        reuse_port=reuse_port,
    )


def _worker(data_dir: str, port: int, threads: str | None, ready: Any, stop: Any) -> None:
    """Another serving process: its own Sandbox on the same store, the same port (SO_REUSEPORT)."""
    from mocks.kernel import Sandbox

    logging.disable(logging.WARNING)
    extra = {"http_threads": threads} if threads else {}
    sandbox = Sandbox(make_config(Path(data_dir), services="insi", journal_bodies="true", **extra))
    server = _insi_server(sandbox, port, reuse_port=True)
    server.start()
    ready.set()
    stop.wait()
    server.stop()


def _cpu(used: list[float], result: loadgen.Result) -> str:
    """The serving process's CPU a request (TLS, edge, app; the clients' handshakes included)."""
    return f"   server CPU {used[0] / max(1, len(result.latencies)) * 1e6:,.0f} us a request"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--clients", default="1,4,16")
    parser.add_argument("--only", choices=["bare", "insi"], default=None)
    parser.add_argument("--rounds", type=int, default=3, help="alternations of bare and INSi per count")
    parser.add_argument("--threads", type=int, default=None, help="http_threads (default: the setting's)")
    parser.add_argument(
        "--processes",
        type=int,
        default=1,
        help="also measure INSi served by this many processes on one port (SO_REUSEPORT)",
    )
    args = parser.parse_args()
    counts = [int(c) for c in args.clients.split(",")]
    logging.disable(logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        extra = {"http_threads": str(args.threads)} if args.threads else {}
        runner = Runner(make_config(Path(tmp) / "data", services="insi", journal_bodies="true", **extra))
        runner.start()
        sandbox = runner.sandbox
        # the CAs no listener needs are made in the background after start (RSA-4096, seconds of
        # CPU): made now, so that they do not fall on the first rounds
        sandbox.pki.ensure()
        try:
            from insi.directory import directory_for

            directory = directory_for(sandbox, "default")
            golden = directory.by_traits("ADRTROIS", "M", "1960-01-01")
            everyone = directory.identities
            who = golden[0] if golden else (everyone[0] if everyone else None)
            body = (
                request(who.nom, who.prenoms[0], who.sexe, who.date_naissance)
                if who
                else request("ADRTROIS", "TOUSSAINT", "M", "1960-01-01")
            )
            creds = sandbox.pki.credentials(
                Structure("10B0152872", "CENTRE DE SANTE BENCH", "Paris (75)"), "insi_auto"
            )
            ca, cert, key = (str(Path(tmp) / n) for n in ("ca.pem", "c.pem", "k.pem"))
            Path(ca).write_bytes(sandbox.pki.ca_bundle())
            Path(cert).write_bytes(creds.cert_pem)
            Path(key).write_bytes(creds.key_pem)
            context = sandbox.pki.server_context(TlsPolicy(client_auth="required"), sandbox.config.hostnames)
            try:
                threads = int(sandbox.config["http_threads"])
                bare = HttpServer("bare", "127.0.0.1", 0, bare_app, context, threads=threads)
            except (TypeError, KeyError):  # the previous stack (cheroot), for before/after figures
                bare = HttpServer("bare", "127.0.0.1", 0, bare_app, context)
            bare.start()
            workers: list[Any] = []
            many: HttpServer | None = None
            if args.processes > 1:
                many = _insi_server(sandbox, 0, reuse_port=True)
                many.start()
                spawn = mp.get_context("spawn")
                stop = spawn.Event()
                for _ in range(args.processes - 1):
                    ready = spawn.Event()
                    worker = spawn.Process(
                        target=_worker,
                        args=(str(Path(tmp) / "data"), many.port, extra.get("http_threads"), ready, stop),
                    )
                    worker.start()
                    if not ready.wait(120):
                        raise SystemExit("a serving process did not start")
                    workers.append(worker)
            req = [loadgen.post("/lps", body, CT)]
            print(
                f"keep-alive mTLS clients (one process each, benchmarks/loadgen.py), {args.seconds:.0f} s each"
            )
            outcome = f"CR=00 for {who.nom} {who.prenoms[0]}" if who else "CR=01 (no population)"
            try:
                for n in counts:
                    # bare and INSi alternate in short rounds: a shared machine's load falls on both
                    rows: dict[str, loadgen.Result] = {}
                    cpu: dict[str, list[float]] = {}  # this process's CPU seconds, wall seconds
                    targets = {
                        "bare": loadgen.Target("127.0.0.1", bare.port, ca, cert, key),
                        "insi": loadgen.Target("127.0.0.1", sandbox.port("insi"), ca, cert, key),
                    }
                    if many is not None:
                        targets["many"] = loadgen.Target("127.0.0.1", many.port, ca, cert, key)
                    for _ in range(args.rounds):
                        for name, target in targets.items():
                            if args.only in (None, name) or (name == "many" and args.only == "insi"):
                                c0, w0 = time.process_time(), time.perf_counter()
                                part = loadgen.run(target, [req], args.seconds / args.rounds, n)
                                used = cpu.setdefault(name, [0.0, 0.0])
                                used[0] += time.process_time() - c0
                                used[1] += time.perf_counter() - w0
                                rows[name] = rows[name].merge(part) if name in rows else part
                    if "bare" in rows:
                        print(
                            f"  {n:2} clients  "
                            + rows["bare"].line("bare endpoint (same server + TLS context)")
                            + _cpu(cpu["bare"], rows["bare"])
                        )
                    if "insi" in rows:
                        print(
                            f"  {n:2} clients  "
                            + rows["insi"].line(f"INSi RECSANSVITALE ({outcome}, journaled)")
                            + _cpu(cpu["insi"], rows["insi"])
                        )
                    if "many" in rows:
                        print(
                            f"  {n:2} clients  "
                            + rows["many"].line(f"INSi, {args.processes} processes on one port")
                        )
                    if "bare" in rows and "insi" in rows:
                        print(
                            f"  {n:2} clients  ratio INSi / bare: {rows['insi'].rate / rows['bare'].rate:.2f}"
                            + (
                                f"; {args.processes} processes / bare: "
                                f"{rows['many'].rate / rows['bare'].rate:.2f}"
                                if "many" in rows
                                else ""
                            )
                        )
            finally:
                if workers:
                    stop.set()
                    for worker in workers:
                        worker.join(10)
                if many is not None:
                    many.stop()
                bare.stop()
        finally:
            runner.stop()
    print("goal: INSi >= 0.5 of bare at 1 and 4 clients; p95 < 20 ms at 16 clients")


if __name__ == "__main__":
    main()
