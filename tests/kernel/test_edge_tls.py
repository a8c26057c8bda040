"""The server edge on a TLS listener (INSi's mTLS one, in the shared sandbox): handshakes never
block accepting, TLS refusals are logged as one line naming what was refused, INSi's caps are
answered as SOAP 1.2 faults and journaled. Small counts; benchmarks/bench_edge.py has the full
ones (200 idle connections, 50 stalled handshakes)."""

from __future__ import annotations

import logging
import socket
import ssl
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
from lxml import etree

from mocks.pki import Structure
from mocks.runner import Runner

SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
CT = "application/soap+xml; charset=utf-8"


@pytest.fixture(scope="module")
def tls_client(running_sandbox: Runner, tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """An LGC's client of INSi's mTLS listener: INSI-AUTO certificate, the sandbox CA bundle."""
    pki = running_sandbox.sandbox.pki
    folder = tmp_path_factory.mktemp("edge-tls")
    creds = pki.credentials(Structure("10B0152872", "CENTRE DE SANTE EDGE", "Paris (75)"), "insi_auto")
    (folder / "ca.pem").write_bytes(pki.ca_bundle())
    (folder / "c.pem").write_bytes(creds.cert_pem)
    (folder / "k.pem").write_bytes(creds.key_pem)
    ctx = ssl.create_default_context(cafile=str(folder / "ca.pem"))
    ctx.load_cert_chain(folder / "c.pem", folder / "k.pem")
    with httpx.Client(verify=ctx, timeout=5, base_url=running_sandbox.url("insi")) as client:
        yield client


def _client_hello() -> bytes:
    """The first flight of a TLS client, as bytes (to stop a handshake half way)."""
    ctx = ssl.create_default_context()
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(incoming, outgoing, server_hostname="localhost")
    with pytest.raises(ssl.SSLWantReadError):
        obj.do_handshake()
    return outgoing.read()


def _fault(resp: httpx.Response) -> etree._Element:
    assert resp.headers["Content-Type"].startswith("application/soap+xml")
    root = etree.fromstring(resp.content)
    assert root.tag == f"{{{SOAP12}}}Envelope"
    fault = root.find(f"{{{SOAP12}}}Body/{{{SOAP12}}}Fault")
    assert fault is not None, resp.text
    return fault


def test_idle_and_stalled_handshakes_do_not_block_a_normal_call(
    running_sandbox: Runner, tls_client: httpx.Client
) -> None:
    port = running_sandbox.sandbox.port("insi")
    hello = _client_hello()
    stuck = [socket.create_connection(("127.0.0.1", port)) for _ in range(10)]  # never start TLS
    for _ in range(5):  # stop half way through the client hello
        sock = socket.create_connection(("127.0.0.1", port))
        sock.sendall(hello[: len(hello) // 2])
        stuck.append(sock)
    try:
        time.sleep(0.2)
        for _ in range(3):  # each on a new connection: a new handshake behind the stuck ones
            started = time.perf_counter()
            resp = tls_client.post(
                "/lps", content=b"<not-soap/>", headers={"Content-Type": CT, "Connection": "close"}
            )
            assert resp.status_code == 500 and _fault(resp) is not None  # INSi answered
            assert time.perf_counter() - started < 4
    finally:
        for sock in stuck:
            sock.close()


def test_a_refused_client_certificate_is_one_clear_log_line(
    running_sandbox: Runner, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="segur.http")
    port = running_sandbox.sandbox.port("insi")
    ctx = ssl.create_default_context(cadata=running_sandbox.sandbox.pki.ca_bundle().decode())
    answer, mine = b"", "?"
    try:  # no client certificate on a mTLS listener: TLS 1.3 lets the client finish, then alerts
        with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
            mine = f"127.0.0.1:{raw.getsockname()[1]}:"
            with ctx.wrap_socket(raw, server_hostname="localhost") as tls:
                tls.sendall(b"GET /lps HTTP/1.1\r\nHost: localhost\r\n\r\n")
                answer = tls.recv(100)
    except (ssl.SSLError, ConnectionError):
        pass
    assert answer == b""
    deadline = time.monotonic() + 3
    lines: list[str] = []
    while time.monotonic() < deadline and not lines:
        lines = [r.getMessage() for r in caplog.records if mine in r.getMessage()]
        time.sleep(0.05)
    assert len(lines) == 1, caplog.text
    assert lines[0].startswith(f"INSI: TLS refused for {mine}")
    assert lines[0].endswith("no client certificate presented (this listener requires one)")
    assert not any(r.exc_info for r in caplog.records)


def test_insi_refuses_a_body_over_its_cap_with_a_soap_fault_journaled(
    running_sandbox: Runner, tls_client: httpx.Client
) -> None:
    trace = uuid.uuid4().hex
    big = b"<x>" + b"a" * (4 * 1024 * 1024) + b"</x>"  # INSi's cap: 4 MiB
    resp = tls_client.post("/lps", content=big, headers={"Content-Type": CT, "X-Sandbox-Trace-Id": trace})
    assert resp.status_code == 413
    assert "larger than 4194304 bytes" in "".join(_fault(resp).itertext())
    entry = running_sandbox.sandbox.journal.find({"trace_id": trace})[0]
    assert entry["status"] == 413 and entry["service"] == "insi" and entry["outcome"].startswith("refused")
    # a chunked body over the cap, the same
    resp = tls_client.post("/lps", content=iter([b"b" * 65536] * 80), headers={"Content-Type": CT})
    assert resp.status_code == 413 and _fault(resp) is not None


def test_insi_refuses_an_over_long_url_with_a_soap_fault_journaled(
    running_sandbox: Runner, tls_client: httpx.Client
) -> None:
    trace = uuid.uuid4().hex
    resp = tls_client.post(
        "/lps?" + "q" * 9000, content=b"", headers={"Content-Type": CT, "X-Sandbox-Trace-Id": trace}
    )
    assert resp.status_code == 414 and _fault(resp) is not None
    entry = running_sandbox.sandbox.journal.find({"trace_id": trace})[0]
    assert entry["status"] == 414 and entry["details"]["edge_refusal"] == 414
    assert entry["operation"] == "POST /lps"
