"""The scoreboard over HTTP (`GET /_sandbox/scoreboard`) on synthetic evidence written as the DMP
and MSSanté will write it: statuses, "green only on a PASS newer than its last FAIL", the
evidence links (each one answers), marks kept after the journal is cleared, the CDA verdict
attached after the fact, bad input."""

from __future__ import annotations

import httpx

from tests.scoreboard.conftest import INS_KO, Facts


def test_empty_tenant_is_not_observed_or_manual(board, console: httpx.Client, tenant: str) -> None:
    data = board()
    assert data["tenant"] == tenant and data["summary"]["total"] == 127
    assert data["summary"]["PASS"] == data["summary"]["FAIL"] == 0
    assert data["summary"]["MANUAL_PENDING"] + data["summary"]["NOT_OBSERVED"] == 127
    assert "ne remplace" in data["disclaimer"]
    for req in data["requirements"]:
        assert req["status"] in ("NOT_OBSERVED", "MANUAL_PENDING") and req["reason"]
        if req["status"] == "NOT_OBSERVED" and not req["awaiting"]:
            assert req["evidence"], req["id"]  # the query that would show it
            for link in req["evidence"]:
                assert console.get(link["href"]).status_code == 200, link


def test_doc02_green_red_green_with_its_evidence(board, facts: Facts, console: httpx.Client) -> None:
    first = facts.document(type_code="11490-0", cda_errors=0)
    req = board.req("DOC.02")
    assert req["status"] == "PASS" and req["green"] and "observé le" in req["reason"]
    evidence = {link["label"].split(" n°")[0]: link["href"] for link in req["evidence"]}
    found = console.get(evidence["Preuve dmp.document.accepted"]).json()
    assert [f["id"] for f in found] == [first]

    facts.advance(1)
    facts.document(type_code="11490-0", cda_errors=3)
    req = board.req("DOC.02")
    assert req["status"] == "FAIL" and not req["green"]
    assert req["why_failed"] == ["cda_errors = 3 (attendu : 0)"]
    assert "cda_errors = 3" in req["reason"]
    facts.advance(1)
    facts.document(type_code="57833-6", cda_errors=0)  # another type: not an attempt of DOC.02
    assert board.req("DOC.02")["status"] == "FAIL"
    facts.advance(1)
    facts.document(type_code="11490-0", cda_errors=0)
    assert board.req("DOC.02")["status"] == "PASS"
    assert board.req("DOC.04")["status"] == "PASS"


def test_rule28_fails_on_a_document_with_an_unqualified_ins(board, facts: Facts) -> None:
    facts.document(ins=INS_KO, ins_qualified=False)
    req = board.req("INS.37")
    assert req["status"] == "FAIL" and "ins_qualified = false" in req["reason"]
    assert [p["status"] for p in req["parts"]] == ["FAIL", "NOT_OBSERVED"]


def test_composite_needs_every_part(board, facts: Facts) -> None:
    facts.document(replaces="1.2.250.1.999.1")
    req = board.req("DMP.02")
    assert req["status"] == "NOT_OBSERVED" and [p["status"] for p in req["parts"]] == ["PASS", "NOT_OBSERVED"]
    facts.evidence("dmp.document.updated", "1.2.250.1.999.1", action="delete", caller="CN=CABINET")
    assert board.req("DMP.02")["status"] == "PASS"
    facts.evidence("dmp.document.updated", "1.2.250.1.999.2", action="mask", caller="CN=CABINET")
    facts.document(confidentiality=["N", "INVISIBLE_PATIENT"])
    assert board.req("DMP.03")["status"] == "PASS"
    assert board.req("DMP.04")["status"] == "NOT_OBSERVED"


def test_mss_rules_from_the_message_facts(board, facts: Facts) -> None:
    facts.message()
    assert board.req("MSS.01")["status"] == "PASS"
    facts.message(recipients=[{"address": "160012802077713@patient.mssante.fr", "kind": "patient"}],
                  documents=[{"uniqueId": "1.9", "type_code": "11490-0", "ins": INS_KO, "ins_qualified": False}])  # fmt: skip
    assert board.req("MSS.14")["status"] == "FAIL" and board.req("MSS.21")["status"] == "FAIL"
    assert board.req("MSS.03")["status"] == "NOT_OBSERVED"  # facts say nothing of a session's TLS


def test_cda_verdict_attached_later_decides_a_pending_document(board, facts: Facts) -> None:
    entry = facts.exchange("insi", "stand-in for a DMP ITI-41")  # any journal entry the fact links to
    evidence = facts.document(cda_errors=None)
    facts.sandbox.evidence.link([evidence], entry)
    req = board.req("DOC.02")
    assert req["status"] == "NOT_OBSERVED" and "en attente du verdict CDA" in req["reason"]
    finding = {"rule": "CDA-STRUCMIN", "severity": "error", "message": "assert échoué"}
    assert facts.sandbox.journal.attach_findings(entry, [finding], {"cda_report": 41})
    req = board.req("DOC.02")
    assert req["status"] == "FAIL" and "cda_errors = 1" in req["reason"]
    assert any(link["href"] == "/_sandbox/cda/reports/41?format=html" for link in req["evidence"])


def test_a_pass_stays_green_after_the_journal_is_cleared(board, facts: Facts, console: httpx.Client,
                                                         tenant: str) -> None:  # fmt: skip
    entry = facts.exchange("insi", "rechercherInsAvecTraitsIdentite", caller="CN=INSI-AUTO,OU=10B0152872,C=FR",
                           mode="mtls", listener="insi")  # fmt: skip
    req = board.req("INS.53")
    assert req["status"] == "PASS" and any(
        link["href"] == f"/_sandbox/journal/{entry}" for link in req["evidence"]
    )
    assert console.delete("/_sandbox/journal", params={"tenant": tenant}).status_code == 200
    again = board.req("INS.53")
    assert again["status"] == "PASS" and again["since"] == req["since"]
    assert again["evidence"] == req["evidence"]  # remembered with the mark
    # and a FAIL newer than the remembered PASS still turns it red
    facts.advance(1)
    facts.exchange(
        "insi", "rechercherInsAvecTraitsIdentite", status=500, caller="CN=LGC,OU=X,C=FR", mode="mtls"
    )
    assert board.req("INS.53")["status"] == "FAIL"
    # reset forgets the marks with the rest of the tenant's state
    assert console.post(f"/_sandbox/tenants/{tenant}/reset").status_code == 200
    assert board.req("INS.53")["status"] == "NOT_OBSERVED"


def test_filters_and_bad_input(console: httpx.Client, tenant: str, facts: Facts) -> None:
    facts.document()
    got = console.get(
        "/_sandbox/scoreboard", params={"tenant": tenant, "family": "DOC", "status": "PASS"}
    ).json()
    assert {r["id"] for r in got["requirements"]} == {"DOC.01", "DOC.02", "DOC.03"}
    bad = console.get("/_sandbox/scoreboard", params={"family": "XYZ"})
    assert bad.status_code == 400 and "valid: INS, DOC" in bad.json()["error"]
    assert console.get("/_sandbox/scoreboard", params={"status": "GREEN"}).status_code == 400
    assert console.get("/_sandbox/scoreboard", params={"tenant": "nope-x"}).status_code == 404
    missing = console.get("/_sandbox/scoreboard/requirements/DOC.99")
    assert missing.status_code == 404 and "DOC.02" in missing.json()["valid"]
    for params in ({"period": "week"}, {"period": "month", "at": "2026-13"}, {"period": "custom", "from": "x"},
                   {"period": "custom", "from": "2026-02-01", "to": "2026-01-01"}):  # fmt: skip
        r = console.get("/_sandbox/scoreboard/balance", params=params)
        assert r.status_code == 400 and r.json()["error"], params


def test_openapi_documents_the_routes(console: httpx.Client) -> None:
    paths = console.get("/_sandbox/openapi.json").json()["paths"]
    for path in ("/_sandbox/scoreboard", "/_sandbox/scoreboard/report.html", "/_sandbox/scoreboard/junit.xml",
                 "/_sandbox/scoreboard/balance", "/_sandbox/scenarios/{scenario}/runs/{run}"):  # fmt: skip
        assert path in paths, path
    assert "post" in paths["/_sandbox/scenarios/{scenario}/runs"]
