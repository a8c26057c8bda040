"""Scenario runs over HTTP: start, long-poll until green, persona and window, independent
overlapping runs, failed and expired verdicts, the snapshot kept after the journal is cleared,
and bad input (unknown scenario, window in the past)."""

from __future__ import annotations

import threading
import time

import httpx

from tests.scoreboard.conftest import INS_KO, INS_OK, Facts


def start(console: httpx.Client, tenant: str, scenario: str, **body: object) -> dict:
    r = console.post(f"/_sandbox/scenarios/{scenario}/runs", params={"tenant": tenant}, json=body)
    assert r.status_code == 201, r.text
    assert r.headers["location"] == r.json()["href"]
    return dict(r.json())


def poll(console: httpx.Client, tenant: str, run: dict, wait: float = 0) -> dict:
    r = console.get(run["href"], params={"tenant": tenant, "wait": wait})
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_a_run_turns_green_while_long_polling(console: httpx.Client, tenant: str, facts: Facts) -> None:
    run = start(console, tenant, "DOC.02", persona=INS_OK + "13")
    assert run["state"] == "running" and run["status"] == "NOT_OBSERVED"
    facts.document(ins=INS_KO)  # another patient: not this run's

    def later() -> None:
        time.sleep(0.5)
        facts.document(ins=INS_OK, cda_errors=0)

    thread = threading.Thread(target=later)
    began = time.monotonic()
    thread.start()
    done = poll(console, tenant, run, wait=20)
    waited = time.monotonic() - began
    thread.join()
    assert done["state"] == "passed" and done["status"] == "PASS" and done["green"]
    assert 0.4 < waited < 3, waited  # woken by the append, not at the time-out
    assert done["observations"] and done["observations"][0]["fields"]["ins"] == INS_OK
    assert done["verdict"]["evidence"][0]["href"].startswith("/_sandbox/evidence?")
    listed = console.get("/_sandbox/scenarios/DOC.02/runs", params={"tenant": tenant}).json()
    assert listed[0]["id"] == run["id"]


def test_overlapping_runs_are_independent(console: httpx.Client, tenant: str, facts: Facts) -> None:
    early = start(console, tenant, "DOC.02", persona=INS_OK)
    facts.document(ins=INS_OK, cda_errors=2)
    facts.advance(5)
    late = start(console, tenant, "DOC.02", persona=INS_OK)
    facts.advance(5)
    facts.document(ins=INS_OK, cda_errors=0)
    assert (
        poll(console, tenant, early)["state"] == "passed" and poll(console, tenant, late)["state"] == "passed"
    )
    # the early run saw the failed attempt too (its window holds it), the late one did not
    assert len(poll(console, tenant, early)["observations"]) == 2
    assert len(poll(console, tenant, late)["observations"]) == 1


def test_failed_and_expired_at_the_end_of_the_window(
    console: httpx.Client, tenant: str, facts: Facts
) -> None:
    failed = start(console, tenant, "DOC.02", minutes=1)
    empty = start(console, tenant, "DOC.07", minutes=1)
    facts.document(cda_errors=4)
    assert poll(console, tenant, failed)["state"] == "running"
    assert poll(console, tenant, failed)["status"] == "FAIL"
    facts.advance(61)
    got = poll(console, tenant, failed)
    assert got["state"] == "failed" and got["status"] == "FAIL" and "cda_errors = 4" in got["reason"]
    assert poll(console, tenant, empty)["state"] == "expired"
    facts.document(cda_errors=0)  # too late: the verdict is kept
    assert poll(console, tenant, failed)["state"] == "failed"


def test_a_finished_run_survives_the_journal(console: httpx.Client, tenant: str, facts: Facts) -> None:
    run = start(console, tenant, "INS.53")
    facts.exchange(
        "insi", "rechercherInsAvecTraitsIdentite", caller="CN=INSI-AUTO,OU=10B0152872,C=FR", mode="mtls"
    )
    done = poll(console, tenant, run, wait=5)
    assert done["state"] == "passed"
    assert console.delete("/_sandbox/journal", params={"tenant": tenant}).status_code == 200
    again = poll(console, tenant, run)
    assert again == done and again["observations"][0]["fields"]["caller"].startswith("CN=INSI-AUTO")


def test_bad_input(console: httpx.Client, tenant: str) -> None:
    r = console.post("/_sandbox/scenarios/NOPE.01/runs", params={"tenant": tenant}, json={})
    assert r.status_code == 404 and "DOC.02" in r.json()["valid"] and "valid: " in r.json()["error"]
    assert console.get("/_sandbox/scenarios/DMP.05").status_code == 404  # manual: no scenario
    past = console.post("/_sandbox/scenarios/DOC.02/runs", params={"tenant": tenant},
                        json={"from": "2020-01-01T00:00:00Z", "to": "2020-01-01T00:15:00Z"})  # fmt: skip
    assert past.status_code == 400 and "in the past" in past.json()["error"]
    for body in ({"minutes": 0}, {"minutes": -3}, {"from": "hier"}, {"to": "2030-01-01T00:00:00"},
                 {"minutes": 5, "to": "2030-01-01T00:00:00Z"}, {"colour": "red"}, {"from": "9999-12-31T23:59:00Z"}):  # fmt: skip
        r = console.post("/_sandbox/scenarios/DOC.02/runs", params={"tenant": tenant}, json=body)
        assert r.status_code == 400, (body, r.text)
    assert (
        console.post("/_sandbox/scenarios/DOC.02/runs", params={"tenant": tenant}, content=b"{").status_code
        == 400
    )
    assert console.get("/_sandbox/scenarios/DOC.02/runs/999999", params={"tenant": tenant}).status_code == 404
    assert console.get("/_sandbox/scenarios/DOC.02/runs/x", params={"tenant": tenant}).status_code == 400
    assert (
        console.get("/_sandbox/scenarios/DOC.02/runs/1", params={"tenant": tenant, "wait": 900}).status_code
        == 400
    )
    listed = console.get("/_sandbox/scenarios").json()
    assert {"DOC.02", "PSC.01", "INS.53"} <= {s["id"] for s in listed}
