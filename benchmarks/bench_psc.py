"""PSC figures (printed, not asserted): code exchanges and UserInfo calls per second over
keep-alive HTTPS, with latency percentiles.

    .venv/bin/python benchmarks/bench_psc.py [--seconds 10] [--clients 4]

Goal (issue 6): >= 200 requests/s for the token endpoint (code exchange) and for UserInfo on a
2-core machine. Codes are prepared beforehand through the realm's rules (a login per code would
measure the login pages, not the token endpoint); the load runs in separate processes (one
keep-alive connection each) so that it does not share the server's interpreter lock.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing as mp
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from mocks.runner import Runner
from mocks.testing import make_config

REDIRECT = "https://lgc.example/callback"
CLIENT = {
    "client_id": "bench",
    "secret": "bench-secret",
    "redirect_uris": [REDIRECT],
    "grant_types": ["authorization_code", "refresh_token"],
}


def worker(
    kind: str, url: str, ca: str, items: list[str], seconds: float, out: Any, ready: Any, go: Any
) -> None:
    import ssl

    ctx = ssl.create_default_context(cafile=ca)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    tokens: list[str] = []
    with httpx.Client(verify=ctx, timeout=30) as client:
        client.get(url.rsplit("/protocol/", 1)[0] + "/.well-known/openid-configuration")  # TLS handshake
        ready.put(1)
        go.wait()
        started = time.time()
        deadline = time.perf_counter() + seconds
        i = 0
        while time.perf_counter() < deadline and (kind != "token" or i < len(items)):
            t0 = time.perf_counter()
            if kind == "token":
                data = {"grant_type": "authorization_code", "code": items[i], "redirect_uri": REDIRECT}
                r = client.post(url, data=data, auth=("bench", "bench-secret"))
                if r.status_code == 200:
                    tokens.append(r.json()["access_token"])
            else:
                r = client.get(url, headers={"Authorization": "Bearer " + items[i % len(items)]})
            latencies.append(time.perf_counter() - t0)
            statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
            i += 1
    out.put((latencies, statuses, tokens, started, time.time()))


def run(kind: str, url: str, ca: str, batches: list[list[str]], seconds: float) -> tuple[list[str], str]:
    spawn = mp.get_context("spawn")
    queue: Any = spawn.Queue()
    ready: Any = spawn.Queue()
    go: Any = spawn.Event()
    procs = [
        spawn.Process(target=worker, args=(kind, url, ca, b, seconds, queue, ready, go)) for b in batches
    ]
    for p in procs:
        p.start()
    for _ in procs:
        ready.get()
    go.set()
    results = [queue.get() for _ in procs]
    for p in procs:
        p.join()
    elapsed = max(r[4] for r in results) - min(r[3] for r in results)
    lat = sorted(x for r in results for x in r[0])
    statuses: dict[int, int] = {}
    for r in results:
        for k, v in r[1].items():
            statuses[k] = statuses.get(k, 0) + v
    tokens = [t for r in results for t in r[2]]
    p95 = lat[int(len(lat) * 0.95) - 1] * 1000 if lat else 0.0
    line = (
        f"{kind:9} {len(lat) / elapsed:7.1f} req/s  over {elapsed:.1f} s  "
        f"median {statistics.median(lat) * 1000:.1f} ms  p95 {p95:.1f} ms  statuses {statuses}"
    )
    return tokens, line


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--codes", type=int, default=4000)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    folder = Path(tempfile.mkdtemp(prefix="bench-psc-"))
    import json

    runner = Runner(make_config(folder, services="psc", psc_clients=json.dumps([CLIENT])))
    runner.start()
    try:
        realm = runner.sandbox.instances["psc"].realm  # type: ignore[attr-defined]
        ca = folder / "ca.pem"
        ca.write_bytes(runner.sandbox.pki.trust_bundle())
        params = {
            "client_id": "bench",
            "redirect_uri": REDIRECT,
            "scope": "openid scope_all",
            "nonce": "n",
            "state": "s",
        }
        session = realm.new_session("default", "810100000016", "MOBILE")
        codes = [realm.new_code("default", "bench", session, params) for _ in range(args.codes)]
        batches = [codes[i :: args.clients] for i in range(args.clients)]
        token_url = runner.url("psc", "/auth/realms/esante-wallet/protocol/openid-connect/token")
        tokens, line = run("token", token_url, str(ca), batches, args.seconds)
        print(line)
        info_url = runner.url("psc", "/auth/realms/esante-wallet/protocol/openid-connect/userinfo")
        _, line = run(
            "userinfo",
            info_url,
            str(ca),
            [tokens[i :: args.clients] or tokens for i in range(args.clients)],
            args.seconds,
        )
        print(line)
    finally:
        runner.stop()


if __name__ == "__main__":
    main()
