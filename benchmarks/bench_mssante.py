"""MSSanté figures (printed, not asserted), with a bare aiosmtpd measured in the same run.

    .venv/bin/python benchmarks/bench_mssante.py [--seconds 8] [--clients 2] [--imap-only]

Goals (issue 15, 2 cores): 20 KB messages >= 300/s, 1 MB messages >= 40/s, XOAUTH2 logins
>= 100/s, IMAP FETCH of 1,000 envelopes < 300 ms, cold start of the SMTP and IMAP listeners < 1 s.
Issue 16 (`--xdm`, alone with `--xdm-only`): the content checks on a 1 MB IHE_XDM message
(without the CDA engine) <= 20 ms p50, against the bare work of reading that archive (inflate,
SHA-1, lxml parse of METADATA.XML and the CDA); submit -> MDN in the sender's INBOX <= 1 s p95,
against the SMTP submission alone.

Clients run in separate processes (one SMTP session each: STARTTLS, XOAUTH2, then messages in a
loop) so that they do not share the server's interpreter lock. The bare limit is aiosmtpd's own
Controller with the same TLS context and a handler that only accepts: what the machine and
aiosmtpd give before the sandbox's pipeline (auth, routing, SQLite, DSN, journal, evidence).
A login is a whole session: connect, EHLO, STARTTLS, EHLO, AUTH XOAUTH2 (PSC token verified), QUIT;
its bare limit the same session without AUTH against the bare aiosmtpd (mostly the TLS handshake).
Clients set TCP_NODELAY (see `nodelay`).
"""

from __future__ import annotations

import argparse
import imaplib
import logging
import multiprocessing as mp
import smtplib
import socket
import ssl
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from mocks.runner import Runner, settle_heap
from mocks.testing import make_config

SENDER = "camille.lemaire@medecin.mssante.fr"
RCPT = "moussa.diallo@cds-lilas.mssante.fr"


def body(size: int) -> bytes:
    head = f"From: {SENDER}\r\nTo: {RCPT}\r\nSubject: bench\r\nDate: Thu, 01 Jan 2026 10:00:00 +0100\r\n"
    head += "Message-ID: <bench@lgc.example>\r\nMIME-Version: 1.0\r\n\r\n"
    line = b"x" * 76 + b"\r\n"
    return head.encode() + line * (size // len(line))


def nodelay(s: smtplib.SMTP) -> None:
    """TCP_NODELAY, as on the server side: without it the client's Nagle algorithm holds the
    last TLS record of a message until the server's delayed ACK (40 ms), whatever the server."""
    assert s.sock is not None
    s.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def smtp_worker(
    port: int, ca: str, token: str | None, size: int, seconds: float, mode: str, out: Any, go: Any
) -> None:
    ctx = ssl.create_default_context(cafile=ca)
    data = body(size)
    done = 0
    go.wait()
    deadline = time.perf_counter() + seconds
    if mode == "login":
        while time.perf_counter() < deadline:
            with smtplib.SMTP("localhost", port, timeout=30) as s:
                nodelay(s)
                s.starttls(context=ctx)
                s.ehlo("bench")
                if token:
                    s.auth(
                        "XOAUTH2",
                        lambda _=None: f"user={SENDER}\x01auth=Bearer {token}\x01\x01",
                        initial_response_ok=True,
                    )
            done += 1
        out.put(done)
        return
    with smtplib.SMTP("localhost", port, timeout=60) as s:
        nodelay(s)
        s.starttls(context=ctx)
        s.ehlo("bench")
        if token:
            s.auth(
                "XOAUTH2",
                lambda _=None: f"user={SENDER}\x01auth=Bearer {token}\x01\x01",
                initial_response_ok=True,
            )
        while time.perf_counter() < deadline:
            s.sendmail(SENDER, [RCPT], data)
            done += 1
    out.put(done)


class Rate:
    """Operations per second over the clients' run, and the server process's CPU per operation
    (every thread of this process: the mail loop, the work pool; the clients are other
    processes): the CPU figure holds on a loaded machine where the rate does not."""

    def __init__(self, count: int, elapsed: float, cpu: float, background: float | None = None) -> None:
        self.per_second = count / elapsed
        self.cpu_ms = cpu / max(count, 1) * 1000
        # the background IMAP summaries of these messages (mss-summaries thread), told apart
        self.background_ms = None if background is None else background / max(count, 1) * 1000

    def __str__(self) -> str:
        if self.background_ms is None:
            return f"{self.per_second:.0f}/s ({self.cpu_ms:.1f} ms server CPU each)"
        return (
            f"{self.per_second:.0f}/s ({self.cpu_ms:.1f} ms server CPU each on the SMTP path, "
            f"+{self.background_ms:.1f} ms for its IMAP summaries in the background)"
        )


def run_clients(
    port: int,
    ca: str,
    token: str | None,
    size: int,
    seconds: float,
    clients: int,
    mode: str = "send",
    summaries: Any = None,
) -> Rate:
    out: Any = mp.Queue()
    go = mp.Event()
    procs = [
        mp.Process(target=smtp_worker, args=(port, ca, token, size, seconds, mode, out, go))
        for _ in range(clients)
    ]
    for p in procs:
        p.start()
    time.sleep(0.5)
    worker = summaries.cpu if summaries is not None else 0.0
    started, cpu = time.perf_counter(), time.process_time()
    go.set()
    total = sum(out.get(timeout=seconds + 120) for _ in procs)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    for p in procs:
        p.join()
    if summaries is None:
        return Rate(total, elapsed, cpu)
    during = summaries.cpu - worker  # the worker's share of the process CPU while the clients ran
    summaries.wait(300)  # then the summaries it had not made yet
    return Rate(total, elapsed, cpu - during, summaries.cpu - worker)


def bare_aiosmtpd(context: ssl.SSLContext) -> tuple[Any, int]:
    """aiosmtpd's SMTP with STARTTLS and a handler that only accepts, on the same mail loop."""
    import asyncio

    from aiosmtpd.smtp import SMTP

    from mocks.mail import MailListener

    class Accept:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            return "250 OK"

    def protocol() -> SMTP:
        return SMTP(Accept(), tls_context=context, data_size_limit=None, loop=asyncio.get_running_loop())

    listener = MailListener("bare", "127.0.0.1", 0, context, "starttls", protocol=protocol)
    listener.start()
    return listener, listener.port


def psc_token(runner: Runner, ca: str, national_id: str = "810100000016") -> str:
    """A PSC access token by CIBA (auto-approved): no login page in a benchmark."""
    console = runner.url("console")
    httpx.put(console + "/_sandbox/psc/auto-approve", json={"after_seconds": 0}).raise_for_status()
    oidc = runner.url("psc", "/auth/realms/esante-wallet/protocol/openid-connect")
    with httpx.Client(
        verify=ssl.create_default_context(cafile=ca), auth=("lgc-sandbox", "lgc-sandbox-secret")
    ) as c:
        req = c.post(
            oidc + "/ext/ciba/auth",
            data={"scope": "openid scope_all", "login_hint": national_id, "binding_message": "42"},
        ).json()
        for _ in range(100):
            r = c.post(
                oidc + "/token",
                data={"grant_type": "urn:openid:params:grant-type:ciba", "auth_req_id": req["auth_req_id"]},
            )
            if r.status_code == 200:
                return str(r.json()["access_token"])
            time.sleep(0.1)
    raise RuntimeError(r.text)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--xdm", action="store_true", help="also the issue 16 figures")
    parser.add_argument("--xdm-only", action="store_true", help="only the issue 16 figures")
    parser.add_argument("--imap-only", action="store_true", help="only the IMAP FETCH figures")
    parser.add_argument("--no-settle-heap", action="store_true", help="without `up`'s gc.freeze() once ready")
    args = parser.parse_args()
    logging.disable(logging.INFO)
    folder = Path(tempfile.mkdtemp(prefix="bench-mss-"))
    # PSC tokens live long enough for the whole run; journal bodies off as in a load test
    runner = Runner(make_config(folder, psc_access_token_lifetime=3600, journal_bodies=False))
    runner.start()
    sb = runner.sandbox
    ca = str(folder / "ca.pem")
    Path(ca).write_bytes(sb.pki.trust_bundle())
    sb.pki.ca_bundle()  # the CAs made after `Ready.` in the background: not during the figures
    if not args.no_settle_heap:
        settle_heap()  # as `segur-sandbox up` does once ready
    if args.xdm or args.xdm_only:
        xdm_figures(runner, ca)
    if args.xdm_only:
        runner.stop()
        return
    token = psc_token(runner, ca)
    if not args.imap_only:
        smtp_figures(runner, ca, token, args)
    imap_figures(runner, ca)
    runner.stop()


def smtp_figures(runner: Runner, ca: str, token: str, args: argparse.Namespace) -> None:
    sb = runner.sandbox
    mss: Any = sb.instances["mss"]
    # cold start: the four listeners built and bound, as the runner does
    from mssante.service import TLS

    t0 = time.perf_counter()
    servers = []
    for listener in [
        lst for lst in mss.listeners() if lst.name in ("mss-smtp", "mss-smtps", "mss-imap", "mss-imaps")
    ]:
        ctx = sb.pki.server_context(TLS, sb.config.hostnames)
        server = listener.server(sb, ctx, "127.0.0.1", 0)
        server.start()
        servers.append(server)
    cold = time.perf_counter() - t0
    for server in servers:
        server.stop()
    print(f"cold start of 4 SMTP/IMAP listeners: {cold * 1000:.0f} ms (goal < 1 s)")

    controller, bare_port = bare_aiosmtpd(sb.pki.server_context(TLS, sb.config.hostnames))
    port = sb.port("mss-smtp")
    for size, goal in ((20 * 1024, 300), (1024 * 1024, 40)):
        bare = run_clients(bare_port, ca, None, size, args.seconds, args.clients)
        ours = run_clients(port, ca, token, size, args.seconds, args.clients, summaries=_summaries(mss))
        print(
            f"{size // 1024} KB messages: {ours} (goal >= {goal}/s); bare aiosmtpd {bare}; "
            f"ratio {ours.per_second / bare.per_second:.2f}"
        )
    bare = run_clients(bare_port, ca, None, 0, args.seconds, args.clients, "login")
    logins = run_clients(port, ca, token, 0, args.seconds, args.clients, "login")
    print(
        f"XOAUTH2 logins (whole sessions): {logins} (goal >= 100/s); bare aiosmtpd sessions "
        f"(connect, EHLO, STARTTLS, EHLO, QUIT) {bare}; ratio {logins.per_second / bare.per_second:.2f}"
    )
    controller.stop()


def imap_figures(runner: Runner, ca: str) -> None:
    """FETCH 1:1000 (UID FLAGS ENVELOPE): the first ever (the envelopes made in the background
    after delivery, or by this FETCH on a tree without the worker), then through a new listener (as after a restart: the envelopes read back from the store),
    then again (in memory)."""
    from mssante.service import TLS

    sb = runner.sandbox
    mss: Any = sb.instances["mss"]
    mails = mss.mails
    box = "linh.nguyen@pharmacien.mssante.fr"
    mails.folders("default", box)
    raw = body(2048)
    worker = _summaries(mss)
    cpu = worker.cpu if worker is not None else 0.0
    t0 = time.perf_counter()
    for _ in range(1000):
        mid = mails.add_message("default", raw, message_id="<b@x>", received_at="2026-01-01T00:00:00")
        mails.deliver("default", box, mid)
    if worker is not None:
        assert worker.wait(300)
        print(
            f"1,000 deliveries and their IMAP summaries in the background: {time.perf_counter() - t0:.2f} s, "
            f"{(worker.cpu - cpu) * 1000:.0f} ms of the worker's CPU"
        )
    pharmacist = psc_token(runner, ca, "810100000024")
    fresh = next(lst for lst in mss.listeners() if lst.name == "mss-imap").server(
        sb, sb.pki.server_context(TLS, sb.config.hostnames), "127.0.0.1", 0
    )
    fresh.start()
    client = ssl.create_default_context(cafile=ca)
    for label, port in (("first FETCH", sb.port("mss-imap")), ("new listener", fresh.port)):
        imap = imaplib.IMAP4("localhost", port)
        imap.starttls(ssl_context=client)
        imap.authenticate("XOAUTH2", lambda _: f"user={box}\x01auth=Bearer {pharmacist}\x01\x01".encode())
        imap.select("INBOX", readonly=True)
        for run in (label, "again"):
            t0, cpu, mine = time.perf_counter(), time.process_time(), time.thread_time()
            typ, data = imap.fetch("1:1000", "(UID FLAGS ENVELOPE)")
            took = time.perf_counter() - t0
            server = (time.process_time() - cpu) - (time.thread_time() - mine)  # minus imaplib's
            assert typ == "OK" and len([d for d in data if d]) >= 1000, typ
            print(
                f"IMAP FETCH 1:1000 (UID FLAGS ENVELOPE), {run}: {took * 1000:.0f} ms, "
                f"{server * 1000:.0f} ms server CPU (goal < 300 ms)"
            )
        imap.logout()
    fresh.stop()


def _summaries(mss: Any) -> Any:
    """The background IMAP summaries worker (None before it existed: the bench runs on older trees)."""
    return getattr(mss, "summaries", None)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def xdm_figures(runner: Runner, ca: str) -> None:
    import hashlib
    import io
    import random
    import uuid
    import zipfile
    from datetime import datetime

    from lxml import etree

    import mssante.samples as samples
    from mocks.findings import Findings
    from mssante import checks, wire, xdm_build
    from mssante.samples import Actor, Recipient, generate
    from mssante.samples import pdf as pdfs
    from mssante.submission import Context, Submission

    sb = runner.sandbox
    mss: Any = sb.instances["mss"]
    cds, app, to = "1750000010", "lgc@cds-lilas.mssante.fr", "hugo.fontaine@ch-tours-sandbox.mssante.fr"
    tenant = "bench-xdm"
    sb.tenants.create(tenant, "bench", [sb.pki.credentials(cds, "org_auth_cli").serial])
    sb.evidence.append(tenant, "ins.qualified", "2840575056412", {"via": "insi"})
    pop = sb.population
    author = Actor.of(pop.professional("810100000040"), pop.structure(cds))
    now = datetime.now().astimezone().replace(microsecond=0)
    rng = random.Random(16)
    original = pdfs.pdf
    lines = [uuid.UUID(int=rng.getrandbits(128)).hex * 2 for _ in range(21_000)]  # little to compress
    # a 1 MB document: the generator's PDF with 21,000 lines of random hex (little to compress)
    samples.make_pdf = lambda title, _lines, created: original(title, lines, created=created)  # type: ignore[assignment]
    big = generate(
        "ldl", patient=pop.patient("demo-girard-sophie"), author=author, recipients=[Recipient(to)], now=now
    )
    samples.make_pdf = original
    sender = xdm_build.Sender("Centre de santé des Lilas", app)
    zipped = xdm_build.archive([(big.cda, big.header)], sender=sender, recipients=[to], now=now)
    raw, _ = xdm_build.message(sender=sender, to=[to], subject=xdm_build.subject([big.header]), body="Bonjour\n",
                               now=now, host="localhost", zip_bytes=zipped, pdf=big.pdf, codes=[big.header.code.code],
                               ins_qualified=True, reply_to="secretariat@cds-lilas.mssante.fr")  # fmt: skip
    message = wire.parse(raw)
    ctx = Context(sb, tenant, mss.directory(), mss.mails, None, mss.directory().get(app), validate_cda=False)
    ours, bare = [], []
    for _ in range(60):
        t0 = time.perf_counter()
        with zipfile.ZipFile(io.BytesIO(zipped)) as z:
            for name in z.namelist():
                data = z.read(name)
                hashlib.sha1(data).hexdigest()
                if name.endswith(".XML"):
                    etree.fromstring(data)
        bare.append(time.perf_counter() - t0)
        sub = Submission(raw, message, app, [to], app, {"recipients": []}, context=ctx)
        findings = Findings("report", checks.RULES)
        t0 = time.perf_counter()
        checks.run(sub, findings)
        ours.append(time.perf_counter() - t0)
    assert sub.kind == "xdm" and not [f for f in findings if f.severity == "error"], list(findings)
    print(f"content checks, {len(zipped) / 2**20:.2f} MiB IHE_XDM ({len(raw) / 2**20:.2f} MiB message), no CDA engine: "
          f"p50 {_percentile(ours, .5) * 1000:.1f} ms, p95 {_percentile(ours, .95) * 1000:.1f} ms (goal p50 <= 20 ms); "
          f"bare archive read {_percentile(bare, .5) * 1000:.1f} ms p50")  # fmt: skip

    small = generate(
        "ldl", patient=pop.patient("demo-girard-sophie"), author=author, recipients=[Recipient(to)], now=now
    )
    context = sb.pki.client_context(cds, "org_auth_cli")
    rounds, submits = [], []
    with smtplib.SMTP("localhost", sb.port("mss-smtp"), timeout=30) as s:
        s.starttls(context=context)
        s.ehlo("bench")
        for _ in range(30):
            zipped = xdm_build.archive([(small.cda, small.header)], sender=sender, recipients=[to], now=now)
            raw, message_id = xdm_build.message(
                sender=sender, to=[to], subject=xdm_build.subject([small.header]), body="Bonjour\n", now=now,
                host="lgc.example", zip_bytes=zipped, pdf=small.pdf, codes=[small.header.code.code], ins_qualified=True,
                disposition_to=app, reply_to="secretariat@cds-lilas.mssante.fr")  # fmt: skip
            t0 = time.perf_counter()
            s.sendmail(app, [to], raw)
            submits.append(time.perf_counter() - t0)
            while True:
                row = sb.store.one(
                    "SELECT m.id FROM mss_messages m JOIN mss_items i ON i.message = m.id JOIN mss_folders f ON f.id = i.folder "
                    "WHERE m.tenant = ? AND m.origin = 'mdn' AND f.mailbox = ? AND instr(m.raw, ?) > 0",
                    (tenant, app, f"Original-Message-ID: {message_id}".encode()),
                )
                if row is not None or time.perf_counter() - t0 > 10:
                    break
                time.sleep(0.002)
            rounds.append(time.perf_counter() - t0)
    print(f"submit -> MDN in the sender's INBOX: p50 {_percentile(rounds, .5) * 1000:.0f} ms, p95 "
          f"{_percentile(rounds, .95) * 1000:.0f} ms (goal p95 <= 1 s); SMTP submission alone p50 "
          f"{_percentile(submits, .5) * 1000:.0f} ms, p95 {_percentile(submits, .95) * 1000:.0f} ms")  # fmt: skip


if __name__ == "__main__":
    main()
