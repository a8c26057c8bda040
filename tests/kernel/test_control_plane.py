"""The control plane over real HTTP, against a runner serving the echo test service."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
from openapi_spec_validator import validate

from mocks.runner import Runner


@pytest.fixture
def tid(ctl: httpx.Client) -> Iterator[str]:
    name = "k-" + uuid.uuid4().hex[:10]
    assert ctl.post("/tenants", json={"id": name}).status_code == 201
    yield name
    ctl.delete(f"/tenants/{name}")


def call(echo: httpx.Client, tenant: str, persona: str = "JEAN") -> httpx.Response:
    return echo.get(f"/echo/{persona}", headers={"X-Sandbox-Tenant": tenant})


def test_health_info_and_readiness(ctl: httpx.Client, echo_runner: Runner) -> None:
    health = ctl.get("/health").json()
    assert health["status"] == "ok"
    assert health["services"]["echo"]["state"] == "ready"
    assert health["services"]["echo"]["urls"]["echo"] == echo_runner.url("echo")
    assert ctl.get("/readyz?local=1").json() == {"ready": True, "waiting": []}
    info = ctl.get("/info").json()
    assert info["services"]["echo"]["enabled"] is True
    assert info["seed"] == 1


def test_openapi_is_valid_and_describes_every_route(ctl: httpx.Client) -> None:
    doc = ctl.get("/openapi.json").json()
    validate(doc)
    for path in ("/_sandbox/faults", "/_sandbox/journal/wait", "/_sandbox/state/import", "/_sandbox/clock"):
        assert path in doc["paths"], path
    page = ctl.get("/docs")
    assert page.status_code == 200 and "swagger-ui-bundle.js" in page.text
    assert ctl.get("/docs/swagger-ui-bundle.js").status_code == 200


def test_tenants_are_isolated_and_reset_touches_only_one(
    ctl: httpx.Client, echo: httpx.Client, tid: str
) -> None:
    other = "k-" + uuid.uuid4().hex[:10]
    ctl.post("/tenants", json={"id": other}).raise_for_status()
    try:
        assert call(echo, tid, "A").status_code == 200
        assert call(echo, other, "B").status_code == 200
        assert ctl.get(f"/journal/count?tenant={tid}").json() == {"count": 1}
        assert ctl.get(f"/journal?tenant={other}").json()[0]["persona"] == "B"
        reset = ctl.post(f"/tenants/{tid}/reset").json()
        assert reset["rows_deleted"] >= 2  # the echo item and the journal entry
        assert ctl.get(f"/journal/count?tenant={tid}").json() == {"count": 0}
        assert ctl.get(f"/journal/count?tenant={other}").json() == {"count": 1}
        exported = ctl.get(f"/state/export?tenant={other}").json()
        assert [r["value"] for r in exported["tables"]["echo_items"]] == ["B"]
    finally:
        ctl.delete(f"/tenants/{other}")
    assert ctl.get(f"/tenants/{other}").status_code == 404


def test_unknown_tenant_is_404_everywhere(ctl: httpx.Client, echo: httpx.Client) -> None:
    for resp in (
        ctl.get("/journal?tenant=nobody"),
        ctl.get("/clock", headers={"X-Sandbox-Tenant": "nobody"}),
        ctl.post("/tenants/nobody/reset"),
        ctl.get("/faults?tenant=nobody"),
    ):
        assert resp.status_code == 404, resp.text
        assert "nobody" in resp.json()["error"]
    assert call(echo, "nobody").status_code == 404


def test_tenant_from_path_prefix(ctl: httpx.Client, echo: httpx.Client, tid: str) -> None:
    assert echo.get(f"/_t/{tid}/echo/PREFIX").json()["tenant"] == tid
    assert ctl.get(f"/journal?tenant={tid}").json()[0]["persona"] == "PREFIX"


def test_bad_input_is_400_and_applies_nothing(ctl: httpx.Client, tid: str) -> None:
    assert ctl.post("/tenants", content=b"{not json").status_code == 400
    assert ctl.post("/tenants", json={"id": "Bad Id!"}).status_code == 400
    assert ctl.post("/tenants", json={"id": "ok-id", "colour": "red"}).status_code == 400
    assert ctl.get("/tenants/ok-id").status_code == 404
    assert ctl.post("/tenants", json={"id": tid}).status_code == 409
    assert ctl.put(f"/clock?tenant={tid}", json={"mode": "sideways"}).status_code == 400
    assert ctl.put(f"/clock?tenant={tid}", json={"mode": "offset"}).status_code == 400
    assert ctl.get(f"/clock?tenant={tid}").json()["mode"] == "real"
    assert ctl.get("/journal?limit=abc").status_code == 400
    assert ctl.get("/journal?colour=red").status_code == 400
    assert ctl.post("/reset", json={"service": "dmpx"}).status_code == 400
    # a list of rules with one bad rule is refused whole
    ctl.post(f"/faults?tenant={tid}", json={"service": "echo", "error": "busy"}).raise_for_status()
    bad = ctl.put(
        f"/faults?tenant={tid}",
        json={"rules": [{"service": "echo", "error": "busy"}, {"service": "x", "error": "y"}]},
    )
    assert bad.status_code == 400
    assert len(ctl.get(f"/faults?tenant={tid}").json()) == 1


def test_clock_frozen_offset_advance(ctl: httpx.Client, echo: httpx.Client, tid: str) -> None:
    frozen = ctl.put(f"/clock?tenant={tid}", json={"mode": "frozen", "at": "2027-03-01T08:00:00Z"}).json()
    assert frozen["now"] == "2027-03-01T08:00:00Z"
    assert call(echo, tid).json()["at"].startswith("2027-03-01T08:00:00")
    advanced = ctl.post(f"/clock/advance?tenant={tid}", json={"seconds": 86400}).json()
    assert advanced["now"] == "2027-03-02T08:00:00Z"
    assert ctl.get(f"/journal?tenant={tid}&order=asc").json()[0]["at"] == "2027-03-01T08:00:00Z"
    ctl.put(
        f"/clock?tenant={tid}", json={"mode": "offset", "offset_seconds": 3600 * 24 * 365}
    ).raise_for_status()
    year = int(ctl.get(f"/clock?tenant={tid}").json()["now"][:4])
    assert year == time.gmtime().tm_year + 1 or (year == time.gmtime().tm_year + 2)
    # another tenant still follows real time
    assert ctl.get("/clock").json()["mode"] == "real"


def test_fault_rules_validation_lists_valid_names(ctl: httpx.Client, tid: str) -> None:
    unknown_service = ctl.post(f"/faults?tenant={tid}", json={"service": "dmpx", "error": "busy"})
    assert unknown_service.status_code == 400 and "echo" in unknown_service.json()["error"]
    unknown_error = ctl.post(f"/faults?tenant={tid}", json={"service": "echo", "error": "nope"})
    assert unknown_error.status_code == 400
    assert "busy" in unknown_error.json()["error"] and "refused" in unknown_error.json()["error"]
    no_effect = ctl.post(f"/faults?tenant={tid}", json={"service": "echo"})
    assert no_effect.status_code == 400
    assert (
        ctl.post(
            f"/faults?tenant={tid}", json={"service": "echo", "error": "busy", "probability": 2}
        ).status_code
        == 400
    )
    assert ctl.get(f"/faults?tenant={tid}").json() == []
    assert "busy" in ctl.get("/faults/catalogue").json()["echo"]


def test_fault_rules_trigger_errors_by_persona_and_count(
    ctl: httpx.Client, echo: httpx.Client, tid: str
) -> None:
    rule = ctl.post(
        f"/faults?tenant={tid}", json={"service": "echo", "persona": "BAD", "error": "refused"}
    ).json()
    ctl.post(
        f"/faults?tenant={tid}", json={"service": "echo", "operation": "echo", "error": "busy", "times": 1}
    )
    assert call(echo, tid, "BAD").status_code == 403
    first, second = call(echo, tid, "GOOD"), call(echo, tid, "GOOD")
    assert (first.status_code, second.status_code) == (503, 200)
    assert ctl.get(f"/faults/{rule['id']}?tenant={tid}").json()["hits"] == 1
    assert ctl.get(f"/journal?tenant={tid}&status=503").json()[0]["details"]["fault_rule"] > 0
    assert ctl.put(f"/faults?tenant={tid}", json={"rules": []}).json() == []
    assert call(echo, tid, "BAD").status_code == 200


def test_fault_delay_and_dropped_connection(ctl: httpx.Client, echo: httpx.Client, tid: str) -> None:
    ctl.post(f"/faults?tenant={tid}", json={"service": "echo", "persona": "SLOW", "delay_ms": 400})
    ctl.post(f"/faults?tenant={tid}", json={"service": "echo", "persona": "DROP", "drop_connection": True})
    started = time.perf_counter()
    assert call(echo, tid, "SLOW").status_code == 200
    assert time.perf_counter() - started >= 0.4
    with pytest.raises(httpx.TransportError):
        call(echo, tid, "DROP")
    dropped = ctl.get(f"/journal?tenant={tid}&persona=DROP").json()[0]
    assert dropped["outcome"] == "dropped"


def test_journal_entry_filters_findings_and_bodies(ctl: httpx.Client, echo: httpx.Client, tid: str) -> None:
    trace = uuid.uuid4().hex
    resp = echo.get("/echo/lowercase", headers={"X-Sandbox-Tenant": tid, "X-Sandbox-Trace-Id": trace})
    assert resp.headers["X-Sandbox-Trace-Id"] == trace
    entry = ctl.get(f"/journal?trace_id={trace}").json()[0]
    assert entry["tenant"] == tid and entry["operation"] == "echo" and entry["status"] == 200
    assert "request_body" not in entry
    full = ctl.get(f"/journal/{entry['id']}").json()
    assert full["request_body"] == "lowercase" and "lowercase" in full["response_body"]
    assert ctl.get(f"/journal?tenant={tid}&has_findings=true").json()[0]["id"] == entry["id"]
    assert ctl.get(f"/journal/count?tenant={tid}&rule=ECHO-CASE").json() == {"count": 1}
    findings = ctl.get(f"/findings?tenant={tid}").json()
    assert findings[0]["rule"] == "ECHO-CASE" and findings[0]["severity"] == "warning"
    assert ctl.get(f"/findings?tenant={tid}&severity=error").json() == []
    assert ctl.get(f"/findings?tenant={tid}&severity=fatal").status_code == 400
    assert ctl.get("/journal/999999999").status_code == 404


def test_journal_wait_is_released_by_a_concurrent_exchange(
    ctl: httpx.Client, echo: httpx.Client, tid: str
) -> None:
    result: dict[str, httpx.Response] = {}

    def waiter() -> None:
        result["r"] = ctl.get(f"/journal/wait?tenant={tid}&persona=LATE&timeout=20")

    thread = threading.Thread(target=waiter)
    started = time.perf_counter()
    thread.start()
    time.sleep(0.5)
    assert "r" not in result
    call(echo, tid, "LATE")
    thread.join(10)
    assert result["r"].status_code == 200
    assert result["r"].json()[0]["persona"] == "LATE"
    assert time.perf_counter() - started < 5
    timed_out = ctl.get(f"/journal/wait?tenant={tid}&persona=NEVER&timeout=0.3")
    assert timed_out.status_code == 408 and timed_out.json()["matched"] == 0


def test_state_export_import_round_trip(ctl: httpx.Client, echo: httpx.Client, tid: str) -> None:
    call(echo, tid, "KEEP")
    ctl.post(f"/faults?tenant={tid}", json={"service": "echo", "persona": "X", "error": "busy"})
    ctl.put(f"/clock?tenant={tid}", json={"mode": "frozen", "at": "2030-01-01T00:00:00Z"})
    exported = ctl.get(f"/state/export?tenant={tid}").json()
    ctl.delete(f"/tenants/{tid}")
    assert ctl.get(f"/tenants/{tid}").status_code == 404
    bad = {**exported, "tables": {**exported["tables"], "nope_table": []}}
    assert ctl.post("/state/import", json=bad).status_code == 400
    assert ctl.get(f"/tenants/{tid}").status_code == 404  # nothing half-applied
    assert ctl.post("/state/import", json=exported).json() == {"imported": [tid]}
    again = ctl.get(f"/state/export?tenant={tid}").json()
    for table in ("echo_items", "clocks"):
        assert again["tables"][table] == exported["tables"][table]
    assert [f["persona"] for f in ctl.get(f"/faults?tenant={tid}").json()] == ["X"]
    assert ctl.get(f"/clock?tenant={tid}").json()["now"] == "2030-01-01T00:00:00Z"


def test_reset_one_service(ctl: httpx.Client, echo: httpx.Client, tid: str) -> None:
    call(echo, tid, "ONE")
    out = ctl.post("/reset", json={"service": "echo", "tenant": tid}).json()
    assert out["rows_deleted"] == 2
    assert ctl.get(f"/state/export?tenant={tid}").json()["tables"]["echo_items"] == []
    assert ctl.get(f"/tenants/{tid}").status_code == 200


def test_tenant_bindings_select_the_tenant(ctl: httpx.Client, echo_runner: Runner) -> None:
    name = "k-" + uuid.uuid4().hex[:10]
    ctl.post(
        "/tenants", json={"id": name, "bindings": ["CN=INSI-AUTO,OU=123", "client-42"]}
    ).raise_for_status()
    try:
        tenants = echo_runner.sandbox.tenants
        assert tenants.resolve(None, [None, "client-42"]) == name
        assert tenants.resolve(None, ["someone-else"]) == "default"
        assert tenants.resolve("default", ["client-42"]) == "default"  # an explicit tenant wins
    finally:
        ctl.delete(f"/tenants/{name}")
