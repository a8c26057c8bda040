"""PSC figures (printed, not asserted): code exchanges per second over keep-alive HTTPS next to
a bare endpoint on the same server stack and TLS context, at 1 and 4 clients; UserInfo calls.

    .venv/bin/python benchmarks/bench_psc.py [--seconds 10] [--clients 1,4]

Goals: issue 6, >= 200 requests/s for the token endpoint and for UserInfo on a 2-core machine;
issue 11, the token endpoint >= 0.4 of the bare endpoint. Codes are prepared beforehand through
the realm's rules (a login per code would measure the login pages, not the token endpoint), each
used once; the load comes from benchmarks/loadgen.py (one process per client, raw keep-alive TLS)
so that the client is not the limit.
"""

from __future__ import annotations

import argparse
import base64
import logging
import ssl
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import loadgen

from mocks.http import HttpServer
from mocks.runner import Runner
from mocks.service import TlsPolicy
from mocks.testing import make_config

REDIRECT = "https://lgc.example/callback"
CLIENT = {
    "client_id": "bench",
    "secret": "bench-secret",
    "redirect_uris": [REDIRECT],
    "grant_types": ["authorization_code", "refresh_token"],
}


def bare_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """The bare endpoint: reads the form, answers a constant JSON (what the server stack costs)."""
    environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    body = b'{"access_token": "x", "token_type": "Bearer", "expires_in": 120}'
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def token_request(path: str, code: str) -> bytes:
    form = urlencode({"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}).encode()
    auth = "Basic " + base64.b64encode(b"bench:bench-secret").decode()
    return loadgen.post(path, form, "application/x-www-form-urlencoded", headers=f"Authorization: {auth}\r\n")


def userinfo_request(path: str, token: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\n\r\n".encode()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", default="1,4")
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
        base = "/auth/realms/esante-wallet/protocol/openid-connect"
        target = loadgen.Target("127.0.0.1", runner.sandbox.port("psc"), str(ca))
        context = runner.sandbox.pki.server_context(
            TlsPolicy(client_auth="optional"), runner.sandbox.config.hostnames
        )
        bare = HttpServer("bare", "127.0.0.1", 0, bare_app, context)
        bare.start()
        bare_target = loadgen.Target("127.0.0.1", bare.port, str(ca))
        print(
            f"keep-alive HTTPS clients (one process each, benchmarks/loadgen.py), {args.seconds:.0f} s each"
        )
        try:
            for n in [int(c) for c in args.clients.split(",")]:
                codes = [realm.new_code("default", "bench", session, params) for _ in range(args.codes)]
                batches = [[token_request(base + "/token", c) for c in codes[i::n]] for i in range(n)]
                rows = {
                    "bare": loadgen.run(bare_target, batches, args.seconds, n),
                    "token": loadgen.run(target, batches, args.seconds, n, one_each=True),
                }
                print(f"  {n:2} clients  " + rows["bare"].line("bare endpoint (same server + TLS context)"))
                print(f"  {n:2} clients  " + rows["token"].line("token (code exchange, client_secret_basic)"))
                print(f"  {n:2} clients  ratio token / bare: {rows['token'].rate / rows['bare'].rate:.2f}")
            # UserInfo with access tokens minted through the token endpoint
            minted = []
            with httpx.Client(verify=ssl.create_default_context(cafile=str(ca)), timeout=30) as client:
                for code in [realm.new_code("default", "bench", session, params) for _ in range(50)]:
                    r = client.post(
                        runner.url("psc", base + "/token"),
                        data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT},
                        auth=("bench", "bench-secret"),
                    )
                    minted.append(r.json()["access_token"])
            info = [[userinfo_request(base + "/userinfo", t) for t in minted]]
            n = 4
            print(f"   {n} clients  " + loadgen.run(target, info, args.seconds, n).line("userinfo"))
        finally:
            bare.stop()
    finally:
        runner.stop()


if __name__ == "__main__":
    main()
