"""The request harness, the typed catalogues, the evidence ledger and token trust, over real
sockets against the echo test service."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

from mocks.errors import Catalogue, HttpError, OAuthError
from mocks.findings import Findings, Rule, Rules, UnknownRule
from mocks.runner import Runner


@pytest.fixture
def tid(ctl: httpx.Client) -> Iterator[str]:
    name = "h-" + uuid.uuid4().hex[:10]
    assert ctl.post("/tenants", json={"id": name}).status_code == 201
    yield name
    ctl.delete(f"/tenants/{name}")


def _last(ctl: httpx.Client, **flt: str) -> dict:
    entries = ctl.get("/journal", params={**flt, "limit": 1, "bodies": "true"}).json()
    assert entries, f"no journal entry for {flt}"
    return entries[0]


def test_refusals_are_journaled_and_answered_in_the_protocol_shape(
    ctl: httpx.Client, echo: httpx.Client, tid: str
) -> None:
    trace = uuid.uuid4().hex
    resp = echo.get("/nowhere", headers={"X-Sandbox-Tenant": tid, "X-Sandbox-Trace-Id": trace})
    assert resp.status_code == 404 and resp.json() == {"error": "no such path"}
    entry = _last(ctl, trace_id=trace)
    assert entry["status"] == 404 and entry["tenant"] == tid and entry["operation"] == "GET /nowhere"
    # an unknown tenant: journaled in the default tenant, with what was asked
    trace = uuid.uuid4().hex
    resp = echo.get("/echo/X", headers={"X-Sandbox-Tenant": "no-such-tenant", "X-Sandbox-Trace-Id": trace})
    assert resp.status_code == 404 and "unknown tenant" in resp.json()["error"]
    entry = _last(ctl, trace_id=trace)
    assert entry["tenant"] == "default" and entry["details"]["unknown_tenant"] == "no-such-tenant"


def test_an_unexpected_exception_is_the_protocols_server_error_with_a_trace(
    ctl: httpx.Client, echo: httpx.Client, tid: str
) -> None:
    resp = echo.get("/echo/crash", headers={"X-Sandbox-Tenant": tid})
    assert resp.status_code == 500
    trace = resp.headers["X-Sandbox-Trace-Id"]
    assert trace in resp.text and "Traceback" not in resp.text
    entry = _last(ctl, trace_id=trace)
    assert entry["status"] == 500 and entry["outcome"] == "internal error: RuntimeError"
    assert "a bug" in entry["details"]["error"]


def test_a_body_over_the_cap_is_refused_without_being_read(
    ctl: httpx.Client, echo_runner: Runner, tid: str
) -> None:
    listener = echo_runner.sandbox.listener_specs["echo"]
    saved = listener.max_body
    listener.max_body = 1024
    try:
        # the app was wrapped at start: a new harness wrap sees the new cap
        app = echo_runner.sandbox.harness.wrap("echo", listener)
        environ = {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": "/echo/BIG",
            "CONTENT_LENGTH": str(10**10),
            "wsgi.input": _Exploding(),
            "segur.tenant_hint": tid,
        }
        status: list[str] = []
        body = b"".join(app(environ, lambda s, h, e=None: status.append(s)))
    finally:
        listener.max_body = saved
    assert status == ["413 Payload Too Large"] and b"larger than 1024" in body
    assert _last(ctl, tenant=tid)["outcome"] == "refused: body too large"


class _Exploding:
    def read(self, *_: object) -> bytes:
        raise AssertionError("the harness must not read a body over the cap")


def test_a_fault_rule_raises_the_catalogue_error(ctl: httpx.Client, echo: httpx.Client, tid: str) -> None:
    ctl.post(f"/faults?tenant={tid}", json={"service": "echo", "error": "busy", "times": 1})
    resp = echo.get("/echo/JEAN", headers={"X-Sandbox-Tenant": tid})
    assert resp.status_code == 503 and resp.json() == {"error": "E_BUSY"}
    assert _last(ctl, tenant=tid)["outcome"] == "E_BUSY"
    assert echo.get("/echo/JEAN", headers={"X-Sandbox-Tenant": tid}).status_code == 200


def test_catalogues_are_typed_and_refuse_unknown_names() -> None:
    errors = Catalogue(
        [
            OAuthError(
                name="invalid_grant",
                description="bad code",
                error="invalid_grant",
                error_description="Code not valid",
            ),
            HttpError(name="gateway", description="502 page", http_status=502, body="<h1>502</h1>"),
        ],
        aliases={"bad_code": "invalid_grant"},
    )
    assert errors["bad_code"] is errors["invalid_grant"]
    assert errors.describe()["gateway"] == {
        "kind": "HttpError",
        "description": "502 page",
        "http_status": 502,
    }
    with pytest.raises(KeyError):
        errors.fail("no_such_error")
    with pytest.raises(ValueError, match="twice"):
        Catalogue([errors["gateway"], errors["gateway"]])
    findings = Findings("report", Rules([Rule("X-ONE", "error", "titre", "ref")]))
    findings.add("X-ONE", "error", "message")
    assert findings[0].reference == "ref"
    with pytest.raises(UnknownRule):
        findings.add("X-TWO", "error", "message")


def test_rules_and_errors_catalogues_are_served(ctl: httpx.Client) -> None:
    assert ctl.get("/rules").json()["echo"] == [
        {"id": "ECHO-CASE", "severity": "warning", "title": "Nom en majuscules", "reference": "test"}
    ]
    assert ctl.get("/errors").json()["echo"]["busy"]["kind"] == "HttpError"


def test_evidence_append_find_wait_and_isolation(ctl: httpx.Client, echo_runner: Runner, tid: str) -> None:
    evidence = echo_runner.sandbox.evidence
    first = evidence.append(tid, "ins.qualified", "1234567890123", {"oid": "1.2.250.1.213.1.4.10"})
    assert ctl.get(f"/evidence?tenant={tid}&kind=ins.qualified").json()[0]["id"] == first
    assert ctl.get("/evidence/count?kind=ins.qualified&subject=1234567890123").json() == {"count": 0}
    threading.Timer(0.2, lambda: evidence.append(tid, "dmp.document.accepted", "1.2.3")).start()
    started = time.perf_counter()
    found = ctl.get(f"/evidence/wait?tenant={tid}&kind=dmp.document.accepted&timeout=5").json()
    assert found[0]["subject"] == "1.2.3" and time.perf_counter() - started < 2
    assert ctl.get(f"/evidence/wait?tenant={tid}&kind=mss.message.accepted&timeout=0.2").status_code == 408
    assert ctl.get(f"/evidence?tenant={tid}&colour=blue").status_code == 400
    with pytest.raises(ValueError):
        evidence.append(tid, "NotAKind", "x")


def test_evidence_outlives_the_journal(ctl: httpx.Client, echo_runner: Runner, tid: str) -> None:
    sandbox = echo_runner.sandbox
    sandbox.evidence.append(tid, "mss.message.accepted", "<m1@x>")
    assert ctl.delete(f"/journal?tenant={tid}").status_code == 200
    assert sandbox.journal.prune() >= 0
    assert ctl.get(f"/evidence/count?tenant={tid}").json() == {"count": 1}
    # but a tenant reset forgets it, like any per-tenant state
    ctl.post(f"/tenants/{tid}/reset")
    assert ctl.get(f"/evidence/count?tenant={tid}").json() == {"count": 0}


def test_token_introspection_without_an_issuer(ctl: httpx.Client) -> None:
    assert ctl.post("/tokens/introspect", data={"token": "abc"}).json() == {"active": False}
    assert ctl.post("/tokens/introspect", data={}).status_code == 400
