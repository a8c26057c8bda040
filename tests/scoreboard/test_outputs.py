"""The outputs an editor takes away: the JUnit XML read by junitparser (one testcase per
automatable requirement, a failure for a FAIL, skipped otherwise), the HTML report's structure
(lxml, not pixels), and `segur-sandbox scoreboard --fail-under` as a pipeline runs it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from junitparser import Failure, JUnitXml, Skipped
from lxml import html

from mocks.runner import Runner
from tests.scoreboard.conftest import Facts


def test_junit_one_testcase_per_automatable_requirement(console: httpx.Client, tenant: str, facts: Facts,
                                                        tmp_path: Path) -> None:  # fmt: skip
    facts.document(cda_errors=0)
    facts.advance(1)
    facts.document(type_code="57833-6", ins="", cda_errors=0)  # DOC.04 fails: no INS
    r = console.get("/_sandbox/scoreboard/junit.xml", params={"tenant": tenant})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/xml")
    path = tmp_path / "junit.xml"
    path.write_bytes(r.content)
    xml = JUnitXml.fromfile(str(path))
    cases = {case.name.split(" ")[0]: case for suite in xml for case in suite}
    board = console.get("/_sandbox/scoreboard", params={"tenant": tenant}).json()
    automatable = [q["id"] for q in board["requirements"] if q["automation"] != "manual"]
    assert sorted(cases) == sorted(automatable) and len(cases) == 33
    assert cases["DOC.02"].is_passed
    failure = cases["DOC.04"].result[0]
    assert isinstance(failure, Failure) and "ins = " in failure.message
    assert isinstance(cases["DMP.04"].result[0], Skipped) and cases["DMP.04"].result[0].message.startswith(
        "NOT_OBSERVED"
    )
    assert (
        xml.tests == 33
        and xml.failures == 1
        and xml.skipped == 33 - 1 - sum(1 for c in cases.values() if c.is_passed)
    )
    assert {s.name.split(" ")[0] for s in xml} == {"INS", "DOC", "DMP", "MSS", "ANN", "PSC"}


def test_report_html_structure(console: httpx.Client, tenant: str, facts: Facts) -> None:
    facts.document(cda_errors=0)
    r = console.get("/_sandbox/scoreboard/report.html", params={"tenant": tenant})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in r.headers["content-security-policy"]
    doc = html.fromstring(r.text)
    assert doc.get("lang") == "fr"
    assert doc.findtext(".//h1") == "Rapport de préparation Ségur"
    note = doc.get_element_by_id("avertissement").text_content()
    assert "ne remplace" in note and "référencement Ségur" in note
    assert doc.get_element_by_id("tenant").text == tenant
    families = doc.xpath("//section[@class='famille']/@id")
    assert families == [f"famille-{f}" for f in ("INS", "DOC", "DMP", "MSS", "ANN", "APCV", "BIO", "ERGO", "PORT",
                                                 "PSC", "TBB", "ePresc")]  # fmt: skip
    rows = doc.xpath("//tr[@class='exigence']")
    assert len(rows) == 127
    row = doc.get_element_by_id("req-DOC.02")
    assert row.get("data-status") == "PASS" and row.xpath(".//span[@class='status PASS']/text()") == [
        "Conforme"
    ]
    links = row.xpath(".//a/@href")
    assert links and all(link.startswith("http://") for link in links)
    target = urlsplit(links[0])
    assert console.get(f"{target.path}?{target.query}").status_code == 200
    proof = row.xpath("./td[4]/text()")[0]
    assert "Gazelle" in proof  # the official proof still to produce
    assert doc.get_element_by_id("req-APCV.01").get("data-status") == "MANUAL_PENDING"
    assert [tr.get("id") for tr in doc.xpath("//section[@id='solde']//tbody/tr")] == [
        "solde-dmp",
        "solde-mss",
        "solde-citizen",
    ]
    # DOC.01, DOC.02, DOC.03, DMP.01 and INS.37 (its DMP part) pass on that one document
    assert doc.get_element_by_id("total-PASS").text == "5"


def cli(*args: str, runner: Runner) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mocks.cli", "scoreboard", "--url", runner.url("console"), *args],
                          capture_output=True, text=True, timeout=120)  # fmt: skip


def test_fail_under_exits_non_zero_until_green(running_sandbox: Runner, tenant: str, facts: Facts,
                                               tmp_path: Path) -> None:  # fmt: skip
    done = cli("--tenant", tenant, "--fail-under", "DMP.01,MSS.01", runner=running_sandbox)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "NOT GREEN DMP.01 NOT_OBSERVED" in done.stderr and "NOT GREEN MSS.01" in done.stderr
    facts.document()
    facts.message()
    junit, report = tmp_path / "j.xml", tmp_path / "r.html"
    done = cli("--tenant", tenant, "--fail-under", "DMP.01,MSS.01", "--junit", str(junit), "--report", str(report),
               runner=running_sandbox)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "all green: DMP.01, MSS.01" in done.stdout and "PASS DMP.01" in done.stdout
    assert JUnitXml.fromfile(str(junit)).tests == 33 and "Rapport de préparation Ségur" in report.read_text()
    assert (
        cli("--tenant", tenant, "--fail-under", "DMP", runner=running_sandbox).returncode == 1
    )  # the family
    unknown = cli("--tenant", tenant, "--fail-under", "DMP.99", runner=running_sandbox)
    assert unknown.returncode == 2 and "DMP.01" in unknown.stderr
    gone = subprocess.run([sys.executable, "-m", "mocks.cli", "scoreboard", "--url", "http://127.0.0.1:9"],
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert gone.returncode == 3 and "did not answer" in gone.stderr
