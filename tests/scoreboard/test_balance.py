"""The funding balance from synthetic facts: the three thresholds reached, per RPPS, per
structure, per period; each counted item links to its fact; what is not counted is listed with
its reason; thresholds from the configuration."""

from __future__ import annotations

from pathlib import Path

import httpx

from mocks.kernel import Sandbox
from mocks.scoreboard import balance as balance_mod
from mocks.scoreboard.board import Scoreboard
from mocks.testing import make_config
from tests.scoreboard.conftest import INS_KO, RPPS, RPPS2, Facts


def counters(console: httpx.Client, tenant: str, **params: str) -> dict[str, dict]:
    r = console.get("/_sandbox/scoreboard/balance", params={"tenant": tenant, **params})
    assert r.status_code == 200, r.text
    return {c["id"]: c for c in r.json()["counters"]}


def test_three_thresholds_reached_and_the_unqualified_ins_listed(facts: Facts, console: httpx.Client,
                                                                 tenant: str) -> None:  # fmt: skip
    for i in range(10):
        facts.document(author_rpps=RPPS if i < 7 else RPPS2)
        facts.message(documents=[{"uniqueId": f"2.{i}", "type_code": "11490-0", "ins": "1600128020777",
                                  "ins_qualified": True}])  # fmt: skip
    ko = facts.document(subject="1.2.250.1.999.77", ins=INS_KO, ins_qualified=False)
    facts.document(subject="1.2.250.1.999.78", ins="", ins_qualified=False)
    facts.document(via_third_party=True)
    facts.message(
        subject="<to-patient@lgc>", recipients=[{"address": "x@patient.mssante.fr", "kind": "patient"}]
    )
    facts.evidence("mss.delivered.citizen", "<citizen@lgc>", address="test@patient.mssante.fr",
                   sender="dr.x@medecin.mssante.fr", sender_rpps=RPPS, structure="1750000010")  # fmt: skip
    got = counters(console, tenant)
    assert got["dmp"]["threshold"] == 10 and got["dmp"]["direct"] == {"counted": 10, "reached": True}
    assert got["dmp"]["third_party"] == {"counted": 1, "reached": False} and got["dmp"]["reached"]
    assert {g["rpps"]: g["direct"] for g in got["dmp"]["by_rpps"]} == {RPPS: 7, RPPS2: 3}
    reasons = {i["document"]: i["reason"] for i in got["dmp"]["not_counted"]}
    assert reasons == {"1.2.250.1.999.77": "INS non qualifié (identité non qualifiée par l'INSi)",
                       "1.2.250.1.999.78": "document sans INS"}  # fmt: skip
    listed = next(i for i in got["dmp"]["not_counted"] if i["document"] == "1.2.250.1.999.77")
    assert [f["id"] for f in console.get(listed["links"][0]["href"]).json()] == [ko]
    for item in got["dmp"]["counted"] + got["mss"]["counted"] + got["citizen"]["counted"]:
        assert item["links"] and item["links"][0]["href"].startswith("/_sandbox/evidence?")
    assert got["mss"]["direct"]["counted"] == 10 and got["mss"]["reached"]
    assert [i["reason"] for i in got["mss"]["not_counted"]] == [
        "envoyé à un non-professionnel (destinataires : patient)"
    ]
    assert got["citizen"]["direct"] == {"counted": 1, "reached": True}
    assert [i["reason"] for i in got["citizen"]["not_counted"]] == [
        "adressé à une messagerie patient, pas à l'adresse citoyenne de test"
    ]


def test_dmp_refusals_from_the_journal(facts: Facts, console: httpx.Client, tenant: str) -> None:
    """An ITI-41 the DMP refused is listed as not counted: a SOAP fault (HTTP 500) and an XDS
    Failure RegistryResponse (HTTP 200), under TD2.1 or TD2.2 (a CPE); a Success is not."""
    facts.exchange("dmp", "TD2.1", outcome="Success", persona="2840575056412")
    facts.exchange("dmp", "TD2.1", outcome="Failure XDSDuplicateUniqueIdInRegistry", persona="2840575056412")
    facts.exchange("dmp", "TD2.2", status=500, outcome="DMPAccessDenied", persona="2840575056412")
    facts.exchange("dmp", "TD3.1", outcome="Failure XDSRegistryError")  # a query: no submission
    reasons = sorted(i["reason"] for i in counters(console, tenant)["dmp"]["not_counted"])
    assert reasons == [
        "refusé par le DMP (DMPAccessDenied)",
        "refusé par le DMP (Failure XDSDuplicateUniqueIdInRegistry)",
    ]


def test_periods_on_the_tenant_clock(facts: Facts, console: httpx.Client, tenant: str) -> None:
    console.put(
        "/_sandbox/clock", params={"tenant": tenant}, json={"mode": "frozen", "at": "2026-03-31T23:00:00Z"}
    )
    facts.document()
    facts.advance(7200)  # 2026-04-01 01:00
    facts.document()
    march = counters(console, tenant, period="month", at="2026-03")["dmp"]
    assert march["direct"]["counted"] == 1
    assert (
        counters(console, tenant, period="month")["dmp"]["direct"]["counted"] == 1
    )  # April, the tenant's month
    assert counters(console, tenant, period="year", at="2026")["dmp"]["direct"]["counted"] == 2
    custom = counters(console, tenant, period="custom", **{"from": "2026-04-01", "to": "2026-05-01"})
    assert custom["dmp"]["direct"]["counted"] == 1
    assert counters(console, tenant, period="year", at="2025")["dmp"]["direct"]["counted"] == 0


def test_thresholds_come_from_the_configuration(tmp_path: Path) -> None:
    sandbox = Sandbox(make_config(tmp_path, scoreboard_dmp_threshold=2, scoreboard_citizen_threshold=3))
    board = Scoreboard(sandbox)
    for _ in range(2):
        sandbox.evidence.append("default", "dmp.document.accepted", "1.2", {"ins": "1600128020777", "ins_qualified": True,
                                "author_rpps": RPPS, "structure": "S", "via_third_party": False})  # fmt: skip
    span = balance_mod.period("all", None, None, None, sandbox.now())
    got = {c["id"]: c for c in balance_mod.compute(board, board.snapshot("default"), span)["counters"]}
    assert got["dmp"]["threshold"] == 2 and got["dmp"]["reached"]
    assert got["citizen"]["threshold"] == 3 and not got["citizen"]["reached"]
    assert got["mss"]["threshold"] == 10
