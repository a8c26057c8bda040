"""INSi figures (printed, not asserted): RECSANSVITALE per second over keep-alive mutual TLS with an
INSI-AUTO certificate, latency percentiles, next to a minimal HTTPS endpoint on the same server
stack (cheroot + the same TLS context: the ceiling of this stack).

    .venv/bin/python benchmarks/bench_insi.py [--seconds 10] [--clients 4]

Goal (issue 5): >= 300 RECSANSVITALE/s on a 2-core machine, p95 < 20 ms.
The load runs in separate processes (one keep-alive connection each), so that it does not share
the server's interpreter lock.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing as mp
import ssl
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

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


def worker(url: str, ca: str, cert: str, key: str, body: bytes, seconds: float, out: Any) -> None:
    ctx = ssl.create_default_context(cafile=ca)
    ctx.load_cert_chain(cert, key)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    with httpx.Client(verify=ctx, timeout=30) as client:
        client.post(url, content=body, headers={"Content-Type": CT})  # handshake + warm-up
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            t0 = time.perf_counter()
            r = client.post(url, content=body, headers={"Content-Type": CT})
            latencies.append(time.perf_counter() - t0)
            statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
    out.put((latencies, statuses))


def load(
    url: str, files: dict[str, str], body: bytes, seconds: float, clients: int
) -> tuple[float, list[float], dict[int, int]]:
    queue: Any = mp.get_context("spawn").Queue()
    procs = [
        mp.get_context("spawn").Process(
            target=worker, args=(url, files["ca"], files["cert"], files["key"], body, seconds, queue)
        )
        for _ in range(clients)
    ]
    for p in procs:
        p.start()
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    for _ in procs:
        lat, st = queue.get()
        latencies.extend(lat)
        for k, v in st.items():
            statuses[k] = statuses.get(k, 0) + v
    for p in procs:
        p.join()
    return len(latencies) / seconds, latencies, statuses


def describe(name: str, rate: float, latencies: list[float], statuses: dict[int, int]) -> str:
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    return (
        f"{name}: {rate:,.0f} req/s   p50 {q[49] * 1000:.1f} ms   p95 {q[94] * 1000:.1f} ms   "
        f"p99 {q[98] * 1000:.1f} ms   statuses {statuses}"
    )


def minimal_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    body = b"<ok/>"
    start_response("200 OK", [("Content-Type", CT), ("Content-Length", str(len(body)))])
    return [body]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        runner = Runner(make_config(Path(tmp) / "data", services="insi", journal_bodies="true"))
        runner.start()
        sandbox = runner.sandbox
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
            files = {
                "ca": str(Path(tmp) / "ca.pem"),
                "cert": str(Path(tmp) / "c.pem"),
                "key": str(Path(tmp) / "k.pem"),
            }
            Path(files["ca"]).write_bytes(sandbox.pki.ca_bundle())
            Path(files["cert"]).write_bytes(creds.cert_pem)
            Path(files["key"]).write_bytes(creds.key_pem)
            context = sandbox.pki.server_context(TlsPolicy(client_auth="required"), sandbox.config.hostnames)
            minimal = HttpServer("minimal", "127.0.0.1", 0, minimal_app, context)
            minimal.start()
            try:
                base = load(f"https://localhost:{minimal.port}/lps", files, body, args.seconds, args.clients)
            finally:
                minimal.stop()
            insi = load(runner.url("insi", "/lps"), files, body, args.seconds, args.clients)
        finally:
            runner.stop()
    outcome = "CR=00 for " + f"{who.nom} {who.prenoms[0]}" if who else "CR=01 (no population in this build)"
    print(f"{args.clients} keep-alive mTLS clients (separate processes), {args.seconds:.0f} s each")
    print(describe("minimal HTTPS endpoint (same cheroot + TLS context)", *base))
    print(describe(f"INSi RECSANSVITALE ({outcome}, journaled)", *insi))
    print("goal: >= 300 req/s, p95 < 20 ms on a 2-core machine")


if __name__ == "__main__":
    main()
