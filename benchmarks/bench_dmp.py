"""DMP figures (printed, not asserted): TD0.2 (test d'existence) per second over keep-alive mutual
TLS 1.2 with a CPS authentication certificate and a VIHF signed with the CPS signature certificate
(verified by signxml on every call), latency percentiles, next to the INSi figure's minimal HTTPS
endpoint on the same server stack (cheroot + the DMP's TLS context: the ceiling of this stack).

    .venv/bin/python benchmarks/bench_dmp.py [--seconds 10] [--clients 4]

Goal (issue 13): >= 300 TD0.2/s on a 2-core machine, p95 < 25 ms. Load runs in separate
processes, one keep-alive connection each (bench_insi's workers).
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

from bench_insi import describe, load, minimal_app  # noqa: E402

from dmp.service import Dmp  # noqa: E402
from mocks.http import HttpServer  # noqa: E402
from mocks.runner import Runner  # noqa: E402
from mocks.testing import make_config  # noqa: E402
from tests.dmp.support import GP, rekey, vihf  # noqa: E402


def main() -> None:
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


if __name__ == "__main__":
    main()
