"""The scoreboard's outputs besides its JSON: the printable "rapport de préparation Ségur" (HTML,
French, with the disclaimer) and a JUnit XML report for CI, one testcase per automatable
requirement (PASS passes, FAIL is a failure, anything else is skipped with its reason).
"""

from __future__ import annotations

from collections import defaultdict
from functools import cache
from typing import Any
from xml.etree import ElementTree as ET

from jinja2 import Environment, PackageLoader, select_autoescape

from mocks.scoreboard.board import MANUAL_PENDING, NOT_APPLICABLE, STATUSES
from mocks.scoreboard.rules import FAIL, NOT_OBSERVED, PASS

LABELS = {
    PASS: "Conforme",
    FAIL: "Non conforme",
    NOT_OBSERVED: "Non observé",
    MANUAL_PENDING: "Preuve manuelle à produire",
    NOT_APPLICABLE: "Non applicable",
}


@cache
def _env() -> Environment:
    return Environment(loader=PackageLoader("mocks.scoreboard", "templates"), autoescape=select_autoescape())


def report_html(board: dict[str, Any], balance: dict[str, Any], base: str = "") -> str:
    """The printable report. `base` prefixes the evidence links (the console's URL), so the file
    still points at the sandbox once saved or printed."""
    by_family: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for req in board["requirements"]:
        by_family[req["family"]].append(req)
    return (
        _env()
        .get_template("scoreboard/report.html")
        .render(
            board=board, balance=balance, by_family=by_family, statuses=STATUSES, labels=LABELS, base=base
        )
    )


def junit_xml(board: dict[str, Any], base: str = "") -> bytes:
    """JUnit XML (the Ant/Jenkins schema every CI reads): a testsuite per family, a testcase per
    automatable requirement."""
    suites = ET.Element("testsuites", name="Ségur readiness")
    totals = {"tests": 0, "failures": 0, "skipped": 0}
    by_family: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for req in board["requirements"]:
        if req["automation"] != "manual":
            by_family[req["family"]].append(req)
    for fam in board["families"]:
        cases = by_family.get(fam["id"])
        if not cases:
            continue
        failures = sum(1 for c in cases if c["status"] == FAIL)
        skipped = sum(1 for c in cases if c["status"] not in (PASS, FAIL))
        suite = ET.SubElement(suites, "testsuite", name=f"{fam['id']} — {fam['title']}", tests=str(len(cases)),
                              failures=str(failures), errors="0", skipped=str(skipped), time="0",
                              timestamp=board["computed_at"][:19], hostname="segur-sandbox")  # fmt: skip
        props = ET.SubElement(suite, "properties")
        ET.SubElement(props, "property", name="tenant", value=board["tenant"])
        ET.SubElement(props, "property", name="catalogue", value=board["catalogue"]["title"])
        for req in cases:
            case = ET.SubElement(suite, "testcase", classname=f"segur.{req['family']}",
                                 name=f"{req['id']} {req['text']}", time="0")  # fmt: skip
            if req["status"] == FAIL:
                failure = ET.SubElement(case, "failure", message=req["reason"], type="FAIL")
                failure.text = _evidence_text(req, base)
            elif req["status"] != PASS:
                ET.SubElement(case, "skipped", message=f"{req['status']}: {req['reason']}")
            out = ET.SubElement(case, "system-out")
            out.text = f"{req['status']} — {req['reason']}\n{_evidence_text(req, base)}"
        totals["tests"] += len(cases)
        totals["failures"] += failures
        totals["skipped"] += skipped
    suites.set("tests", str(totals["tests"]))
    suites.set("failures", str(totals["failures"]))
    suites.set("errors", "0")
    suites.set("skipped", str(totals["skipped"]))
    suites.set("time", "0")
    ET.indent(suites)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="utf-8")


def _evidence_text(req: dict[str, Any], base: str) -> str:
    return "\n".join(f"{link['label']}: {base}{link['href']}" for link in req.get("evidence") or [])
