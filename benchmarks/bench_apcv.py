"""ApCV figures (printed, not asserted): authentifierUtilisateurProximite per second with a signed
CPS assertion (verified on every request: signxml + the PKI's signer identification), a fresh QR
code per request (each one creates a context and writes the `ins.qualified` evidence), latency
percentiles, next to a minimal HTTPS endpoint on the same server stack (the ceiling).

    .venv/bin/python benchmarks/bench_apcv.py [--seconds 10] [--clients 4]

Goal (issue 18): >= 200 authentifierUtilisateurProximite/s, p95 < 30 ms on a 2-core machine.
The load runs in separate processes (one keep-alive connection each).
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing as mp
import ssl
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from apcv import qr  # noqa: E402
from benchmarks.bench_insi import describe, minimal_app  # noqa: E402
from mocks.http import HttpServer  # noqa: E402
from mocks.runner import Runner  # noqa: E402
from mocks.service import TlsPolicy  # noqa: E402
from mocks.testing import make_config  # noqa: E402
from tests.apcv.support import CT, DOCTOR, assertion, auth_action, authentifier_body, envelope  # noqa: E402

PATIENT = "demo-girard-sophie"


def worker(url: str, ca: str, template: bytes, codes: list[str], seconds: float, out: Any) -> None:
    ctx = ssl.create_default_context(cafile=ca)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    with httpx.Client(verify=ctx, timeout=30) as client:
        client.post(url, content=template.replace(b"QRCODE", codes[0].encode()), headers={"Content-Type": CT})
        deadline = time.perf_counter() + seconds
        i = 1
        while time.perf_counter() < deadline and i < len(codes):
            body = template.replace(b"QRCODE", codes[i].encode())
            i += 1
            t0 = time.perf_counter()
            r = client.post(url, content=body, headers={"Content-Type": CT})
            latencies.append(time.perf_counter() - t0)
            statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
    out.put((latencies, statuses))


def load(
    url: str, ca: str, template: bytes, codes: list[list[str]], seconds: float
) -> tuple[float, list[float], dict[int, int]]:
    spawn = mp.get_context("spawn")
    queue: Any = spawn.Queue()
    procs = [spawn.Process(target=worker, args=(url, ca, template, c, seconds, queue)) for c in codes]
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        config = make_config(
            Path(tmp) / "data", services="apcv", journal_bodies="true", apcv_qr_lifetime=3600
        )
        runner = Runner(config)
        runner.start()
        sandbox = runner.sandbox
        try:
            ca = str(Path(tmp) / "ca.pem")
            Path(ca).write_bytes(sandbox.pki.ca_bundle())
            creds = sandbox.pki.credentials(DOCTOR, "cps_sign")
            signed = assertion(creds)
            template = envelope(
                authentifier_body("QRCODE"), auth_action("authentifierUtilisateurProximite"), signed
            )
            keys = sandbox.instances["apcv"].flow.keys  # type: ignore[attr-defined]
            card = sandbox.population.card(sandbox.population.patient(PATIENT).cards[0])  # type: ignore[union-attr]
            assert card is not None
            per_client = int(args.seconds * 400) + 10  # more than the service can take
            now = sandbox.now()
            codes = [
                [qr.make(keys, "default", card.nir_od, PATIENT, now, 3600) for _ in range(per_client)]
                for _ in range(args.clients)
            ]
            context = sandbox.pki.server_context(TlsPolicy(client_auth="none"), sandbox.config.hostnames)
            minimal = HttpServer("minimal", "127.0.0.1", 0, minimal_app, context)
            minimal.start()
            try:
                base = load(f"https://localhost:{minimal.port}/apcv", ca, template, codes, args.seconds)
            finally:
                minimal.stop()
            apcv = load(runner.url("apcv", "/apcv"), ca, template, codes, args.seconds)
            contexts = sandbox.store.one("SELECT COUNT(*) AS n FROM apcv_contexts")
        finally:
            runner.stop()
    print(f"{args.clients} keep-alive TLS clients (separate processes), {args.seconds:.0f} s each")
    print(describe("minimal HTTPS endpoint (same server stack + TLS context)", *base))
    print(describe("ApCV authentifierUtilisateurProximite (signed assertion, fresh QR, journaled)", *apcv))
    print(
        f"contexts created: {contexts['n'] if contexts else 0}; ratio to the bare endpoint: {apcv[0] / max(base[0], 1):.2f}"
    )
    print("goal: >= 200 req/s, p95 < 30 ms on a 2-core machine")


if __name__ == "__main__":
    main()
