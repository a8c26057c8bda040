"""Annuaire figures (printed, not asserted) on a world of 20,000 professionals and 4,000 shared
structures: practitioner search by name (`_count=50`) and `mailbox-mss:exact` per second over
keep-alive HTTPS with an API key, latency percentiles, next to a minimal HTTPS endpoint on the
same server stack (cheroot + the same TLS context: the ceiling); the directory's indexing time;
the extraction file's build time, then the cached download.

    .venv/bin/python benchmarks/bench_annuaire.py [--seconds 10] [--clients 4] [--professionals 20000]

Goals (issue 17): search by name >= 200 req/s with p95 < 50 ms; mailbox-mss:exact >= 500 req/s;
the extraction built in < 5 s, then cached until the population changes.
The load runs in separate processes (one keep-alive connection each), so that it does not share
the server's interpreter lock; the rate limit is off (0) for the measurement.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing as mp
import random
import ssl
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

import httpx

from mocks.http import HttpServer
from mocks.runner import Runner
from mocks.service import TlsPolicy
from mocks.testing import make_config

KEY = "bench-annuaire-key"


def worker(base: str, ca: str, paths: list[str], seconds: float, out: Any) -> None:
    ctx = ssl.create_default_context(cafile=ca)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    rng = random.Random(len(paths))
    with httpx.Client(base_url=base, verify=ctx, timeout=30, headers={"ESANTE-API-KEY": KEY}) as client:
        client.get(paths[0])  # handshake + warm-up
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            path = paths[rng.randrange(len(paths))]
            t0 = time.perf_counter()
            r = client.get(path)
            latencies.append(time.perf_counter() - t0)
            statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
    out.put((latencies, statuses))


def load(
    base: str, ca: str, paths: list[str], seconds: float, clients: int
) -> tuple[float, list[float], dict[int, int]]:
    context = mp.get_context("spawn")
    queue: Any = context.Queue()
    procs = [context.Process(target=worker, args=(base, ca, paths, seconds, queue)) for _ in range(clients)]
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
    body = b'{"resourceType":"Bundle"}'
    start_response("200 OK", [("Content-Type", "application/fhir+json"), ("Content-Length", str(len(body)))])
    return [body]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--professionals", type=int, default=20000)
    parser.add_argument("--structures", type=int, default=4000)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        config = make_config(
            Path(tmp) / "data", services="annuaire", population_professionals=args.professionals,
            population_structures=args.structures, population_households=10,
            annuaire_api_keys=KEY, annuaire_rate_limit=0,
        )  # fmt: skip
        started = time.perf_counter()
        runner = Runner(config)
        runner.start()
        world = time.perf_counter() - started
        sandbox = runner.sandbox
        try:
            from annuaire.directory import directory_for
            from annuaire.extraction import archive

            t0 = time.perf_counter()
            directory = directory_for(sandbox)  # built by the start-up thread; waits for it
            indexed = time.perf_counter() - t0
            ca = str(Path(tmp) / "ca.pem")
            Path(ca).write_bytes(sandbox.pki.ca_bundle())
            pros = sandbox.population.professionals()
            rng = random.Random(1)
            names = sorted({p.nom for p in pros})
            by_name = [
                f"/fhir/v2/Practitioner?name={n}&_count=50" for n in rng.sample(names, min(200, len(names)))
            ]
            boxes = [p.mss_address for p in pros if p.mss_address]
            by_box = [
                f"/fhir/v2/Practitioner?mailbox-mss:exact={b}&_count=50" for b in rng.sample(boxes, 500)
            ]
            context = sandbox.pki.server_context(TlsPolicy(client_auth="none"), sandbox.config.hostnames)
            minimal = HttpServer("minimal", "127.0.0.1", 0, minimal_app, context)
            minimal.start()
            try:
                bare = load(
                    f"https://localhost:{minimal.port}",
                    ca,
                    ["/fhir/v2/Practitioner"],
                    args.seconds,
                    args.clients,
                )
            finally:
                minimal.stop()
            base = runner.url("annuaire")
            name = load(base, ca, by_name, args.seconds, args.clients)
            box = load(base, ca, by_box, args.seconds, args.clients)
            reference = date.fromisoformat(str(sandbox.config["reference_date"]))
            t0 = time.perf_counter()
            data = archive(sandbox.population, reference)
            built = time.perf_counter() - t0
            with httpx.Client(verify=ssl.create_default_context(cafile=ca)) as client:
                url = (
                    base
                    + "/annuaire-sante-webservices/V300/services/extraction/Extraction_Correspondance_MSSante"
                )
                t0 = time.perf_counter()
                first = client.get(url)
                first_s = time.perf_counter() - t0
                t0 = time.perf_counter()
                cached = client.get(url)
                cached_s = time.perf_counter() - t0
            assert first.content == cached.content
        finally:
            runner.stop()
    sizes = ", ".join(f"{k} {v:,}" for k, v in directory.size.items())
    print(f"world: {args.professionals:,} professionals, {args.structures:,} structures ({sizes})")
    print(
        f"start-up (generate + store the world, PKI, listeners): {world:.1f} s; directory indexed {indexed:.1f} s later"
    )
    print(f"{args.clients} keep-alive HTTPS clients (separate processes), {args.seconds:.0f} s each")
    print(describe("minimal HTTPS endpoint (same cheroot + TLS context)", *bare))
    print(describe("search Practitioner?name=<family>&_count=50 (journaled)", *name))
    print(describe("search Practitioner?mailbox-mss:exact=<address> (journaled)", *box))
    print(
        f"extraction ZIP ({len(data):,} bytes): built in {built:.2f} s; first download {first_s:.2f} s, cached {cached_s * 1000:.0f} ms"
    )
    print(
        "goals: name search >= 200 req/s with p95 < 50 ms; mailbox-mss:exact >= 500 req/s; extraction < 5 s, then cached"
    )


if __name__ == "__main__":
    main()
