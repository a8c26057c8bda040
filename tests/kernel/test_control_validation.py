"""Bad input to the control plane: 400 with a message naming the problem, and nothing stored.

Over real HTTP against the echo runner (tests/kernel/conftest.py); the INSi and PKI operation
lists in tests/kernel/test_registry.py (the full sandbox). Each case checks the answer and that the
store did not change (the tenant's export, the tenant list)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from mocks.runner import Runner


@pytest.fixture
def tid(ctl: httpx.Client) -> Iterator[str]:
    name = "v-" + uuid.uuid4().hex[:10]
    assert ctl.post("/tenants", json={"id": name}).status_code == 201
    yield name
    ctl.delete(f"/tenants/{name}")


def snapshot(ctl: httpx.Client) -> dict[str, Any]:
    """Everything the control plane can see: every tenant's tables, the tenants."""
    data = ctl.get("/state/export").json()
    data.pop("schema")
    return dict(data)


def refused(resp: httpx.Response, *words: str) -> None:
    assert resp.status_code == 400, (resp.status_code, resp.text)
    message = resp.json()["error"]
    for word in words:
        assert word in message, (word, message)


# -- clock -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "body",
    [
        b'{"mode": "offset", "offset_seconds": 1e308}',
        b'{"mode": "offset", "offset_seconds": -1e308}',
        b'{"mode": "offset", "offset_seconds": Infinity}',
        b'{"mode": "offset", "offset_seconds": NaN}',
        b'{"mode": "offset", "offset_seconds": 1e10}',  # 317 years ahead: past 2199
        b'{"mode": "frozen", "at": "9999-12-31T23:59:59Z"}',
        b'{"mode": "frozen", "at": "0001-01-01T00:00:00Z"}',
        b'{"mode": "offset", "at": "9999-01-01T00:00:00Z"}',
        b'{"mode": "frozen", "at": "1969-12-31T23:59:59Z"}',
    ],
)
def test_clock_out_of_range_is_refused_and_not_saved(
    ctl: httpx.Client, echo: httpx.Client, tid: str, body: bytes
) -> None:
    before = snapshot(ctl)
    resp = ctl.put(f"/clock?tenant={tid}", content=body, headers={"Content-Type": "application/json"})
    assert resp.status_code == 400, resp.text
    assert ctl.get(f"/clock?tenant={tid}").json()["mode"] == "real"
    assert snapshot(ctl) == before
    # the tenant's services still answer (a saved 1e308 offset made every call a 500)
    assert echo.get("/echo/JEAN", headers={"X-Sandbox-Tenant": tid}).status_code == 200


def test_clock_range_is_documented_and_its_edges_accepted(ctl: httpx.Client, tid: str) -> None:
    at = ctl.put(f"/clock?tenant={tid}", json={"mode": "frozen", "at": "2199-12-31T23:59:59Z"})
    assert at.json()["now"] == "2199-12-31T23:59:59Z"
    refused(ctl.post(f"/clock/advance?tenant={tid}", json={"seconds": 1}), "2199-12-31T23:59:59Z")
    assert ctl.get(f"/clock?tenant={tid}").json()["now"] == "2199-12-31T23:59:59Z"
    at = ctl.put(f"/clock?tenant={tid}", json={"mode": "frozen", "at": "1970-01-01T00:00:00Z"})
    assert at.json()["now"] == "1970-01-01T00:00:00Z"
    schemas = ctl.get("/openapi.json").json()["components"]["schemas"]
    assert "2199-12-31T23:59:59Z" in schemas["ClockFrozen"]["properties"]["at"]["description"]
    assert schemas["ClockOffset"]["properties"]["offset_seconds"]["maximum"] == 7258118399.0


def test_clock_advance_of_an_offset_clock_past_the_range(ctl: httpx.Client, tid: str) -> None:
    ctl.put(f"/clock?tenant={tid}", json={"mode": "offset", "at": "2199-12-01T00:00:00Z"}).raise_for_status()
    before = ctl.get(f"/clock?tenant={tid}").json()["offset_seconds"]
    refused(ctl.post(f"/clock/advance?tenant={tid}", json={"seconds": 86400 * 60}), "out of range")
    assert ctl.get(f"/clock?tenant={tid}").json()["offset_seconds"] == before


# -- tenant ids --------------------------------------------------------------------------------
@pytest.mark.parametrize("bad", ["ok-id\n", "", "BAD ID/../x", "Upper", "-dash", "a" * 64, "é", "a\x00"])
def test_one_tenant_grammar_on_create(ctl: httpx.Client, bad: str) -> None:
    before = ctl.get("/tenants").json()
    refused(ctl.post("/tenants", json={"id": bad}), "a-z 0-9")
    assert ctl.get("/tenants").json() == before


def test_one_tenant_grammar_on_lookups(ctl: httpx.Client, echo: httpx.Client, tid: str) -> None:
    # a trailing newline was accepted: the id looked up was not the id stored
    refused(ctl.get("/clock", params={"tenant": tid + "\n"}), "invalid tenant id")
    refused(ctl.get("/journal", params={"tenant": "BAD ID/../x"}), "invalid tenant id")
    refused(ctl.get("/faults", headers={"X-Sandbox-Tenant": "UPPER"}), "invalid tenant id")
    refused(ctl.get("/evidence", params={"tenant": "x y"}), "invalid tenant id")  # a component's route
    refused(ctl.get(f"/tenants/{'B' * 3}"), "invalid tenant id")
    assert ctl.get("/tenants/nobody-here").status_code == 404  # well formed, absent: 404
    # the services: an id outside the grammar is an unknown tenant (their own refusal)
    assert echo.get("/_t/UPPER/echo/JEAN").status_code == 404
    assert echo.get("/echo/JEAN", headers={"X-Sandbox-Tenant": "a b"}).status_code == 404


def test_tenant_description_and_bindings_are_checked(ctl: httpx.Client) -> None:
    before = ctl.get("/tenants").json()
    refused(ctl.post("/tenants", json={"id": "v-long", "description": "x" * 5000}))
    refused(ctl.post("/tenants", json={"id": "v-bind", "bindings": [""]}), "binding")
    refused(ctl.post("/tenants", json={"id": "v-bind", "bindings": [["nested"]]}))
    assert ctl.get("/tenants").json() == before


# -- state import ------------------------------------------------------------------------------
def exported(ctl: httpx.Client, echo: httpx.Client, tid: str) -> dict[str, Any]:
    echo.get("/echo/KEEP", headers={"X-Sandbox-Tenant": tid}).raise_for_status()
    ctl.post(f"/faults?tenant={tid}", json={"service": "echo", "persona": "X", "error": "busy"})
    return dict(ctl.get(f"/state/export?tenant={tid}").json())


@pytest.mark.parametrize(
    "spoil",
    [
        lambda d: d["tenants"].append({"id": "BAD ID/../x"}),
        lambda d: d["tenants"].append({"id": ""}),
        lambda d: d["tenants"].append({"id": "ok-id\n"}),
        lambda d: d["tenants"].append({"id": 42}),
        lambda d: d["tenants"].append(dict(d["tenants"][0])),  # twice
        lambda d: d["tenants"][0].update(colour="red"),
        lambda d: d["tenants"][0].update(bindings="CN=x"),
        lambda d: d["tables"]["echo_items"].append({"tenant": d["tenants"][0]["id"], "value": ["nested"]}),
        lambda d: d["tables"]["echo_items"].append({"tenant": d["tenants"][0]["id"], "value": 10**30}),
        lambda d: d["tables"]["echo_items"].append({"tenant": d["tenants"][0]["id"]}),  # NOT NULL value
        lambda d: d["tables"]["echo_items"].append({"tenant": "elsewhere", "value": "x"}),
        lambda d: d["tables"]["clocks"].append(
            {"tenant": d["tenants"][0]["id"], "mode": "offset", "offset_seconds": 1e308, "frozen_at": None}
        ),
        lambda d: d["tables"]["clocks"].append(
            {
                "tenant": d["tenants"][0]["id"],
                "mode": "frozen",
                "offset_seconds": 0,
                "frozen_at": "9999-01-01",
            }
        ),
        lambda d: d["tables"]["faults"][0].update(service="nope"),
        lambda d: d["tables"]["faults"][0].update(error="nope"),
        lambda d: d["tables"]["faults"][0].update(operation="ech"),
        lambda d: d["tables"]["faults"][0].update(probability=7),
        lambda d: d.update(tables=[]),
    ],
)
def test_import_checks_everything_before_writing(
    ctl: httpx.Client, echo: httpx.Client, tid: str, spoil: Any
) -> None:
    doc = exported(ctl, echo, tid)
    doc["tenants"].insert(0, {"id": "v-new-" + uuid.uuid4().hex[:6]})  # a valid tenant first
    new_id = doc["tenants"][0]["id"]
    spoil(doc)
    before = snapshot(ctl)
    resp = ctl.post("/state/import", json=doc)
    assert resp.status_code == 400, resp.text
    assert snapshot(ctl) == before
    assert ctl.get(f"/tenants/{new_id}").status_code == 404


def test_import_of_an_export_still_round_trips(ctl: httpx.Client, echo: httpx.Client, tid: str) -> None:
    doc = exported(ctl, echo, tid)
    assert ctl.post("/state/import", json=doc).json() == {"imported": [tid]}
    again = ctl.get(f"/state/export?tenant={tid}").json()
    assert again["tables"]["echo_items"] == doc["tables"]["echo_items"]


# -- numbers and nesting -----------------------------------------------------------------------
HUGE = "9" * 30


@pytest.mark.parametrize(
    "path",
    [
        f"/journal?after_id={HUGE}",
        f"/journal?status={HUGE}",
        f"/journal?offset={HUGE}",
        f"/journal/count?after_id={HUGE}",
        f"/findings?offset={HUGE}",
        f"/journal/{HUGE}",
        f"/faults/{HUGE}",
        f"/evidence?after_id={HUGE}",
        f"/evidence?offset={HUGE}",
        "/journal/wait?timeout=1e999",
        "/journal/wait?timeout=nan",
        "/evidence/wait?timeout=nan",
    ],
)
def test_huge_numbers_in_parameters(ctl: httpx.Client, path: str) -> None:
    resp = ctl.get(path)
    assert resp.status_code == 400, resp.text


@pytest.mark.parametrize(
    "body",
    [
        json.dumps({"service": "echo", "error": "busy", "times": 10**30}),
        json.dumps({"service": "echo", "delay_ms": 10**30}),
        '{"service": "echo", "error": "busy", "probability": NaN}',
        '{"service": "echo", "error": "busy", "times": ' + "9" * 5000 + "}",  # beyond int parsing
        "[" * 100_000 + "]" * 100_000,
        '{"service": ' * 50_000 + "1" + "}" * 50_000,
    ],
)
def test_huge_numbers_and_deep_nesting_in_bodies(ctl: httpx.Client, tid: str, body: str) -> None:
    before = snapshot(ctl)
    for method, path in (
        ("POST", "/faults"),
        ("PUT", "/faults"),
        ("POST", "/tenants"),
        ("POST", "/state/import"),
    ):
        resp = ctl.request(
            method, f"{path}?tenant={tid}", content=body, headers={"Content-Type": "application/json"}
        )
        assert resp.status_code == 400, (method, path, resp.status_code, resp.text[:300])
    resp = ctl.post(
        f"/tokens/introspect?tenant={tid}", content=body, headers={"Content-Type": "application/json"}
    )
    assert resp.status_code == 400, resp.text[:300]
    assert snapshot(ctl) == before


# -- fault rules name real operations ----------------------------------------------------------
def test_fault_rule_operation_must_be_the_services(ctl: httpx.Client, tid: str) -> None:
    refused(
        ctl.post(f"/faults?tenant={tid}", json={"service": "echo", "operation": "ech", "error": "busy"}),
        "unknown operation 'ech'",
        "echo",
    )
    refused(
        ctl.put(
            f"/faults?tenant={tid}",
            json={
                "rules": [
                    {"service": "echo", "error": "busy"},
                    {"service": "echo", "operation": "x", "delay_ms": 1},
                ]
            },
        ),
        "rules[1]",
        "unknown operation",
    )
    assert ctl.get(f"/faults?tenant={tid}").json() == []
    assert ctl.get("/faults/operations").json() == {"echo": ["echo"]}
    ok = ctl.post(f"/faults?tenant={tid}", json={"service": "echo", "operation": "echo", "error": "busy"})
    assert ok.status_code == 201 and "warning" not in ok.json() and "Warning" not in ok.headers


def test_a_service_without_operation_list_is_accepted_with_a_warning(
    ctl: httpx.Client, echo_runner: Runner, tid: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(echo_runner.sandbox.faults.operations, "echo", None)
    resp = ctl.post(
        f"/faults?tenant={tid}", json={"service": "echo", "operation": "anything", "error": "busy"}
    )
    assert resp.status_code == 201
    assert "declares no operation list" in resp.json()["warning"]
    assert resp.headers["Warning"].startswith("299 ")
    put = ctl.put(
        f"/faults?tenant={tid}", json={"rules": [{"service": "echo", "operation": "x", "delay_ms": 1}]}
    )
    assert put.status_code == 200 and "declares no operation list" in put.headers["Warning"]
