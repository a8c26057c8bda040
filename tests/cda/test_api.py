"""The control API /_sandbox/cda over a real socket (httpx): validate (XML, ZIP, HTML, pending),
reports, SVRL, rendering, bad input, OpenAPI, health."""

from __future__ import annotations

import io
import time
import zipfile
from collections.abc import Callable

import httpx
import pytest
from lxml import etree

from tests.cda.conftest import unique

N1 = "DOC_NON_STRUCTURE_CDA-R2-N1.xml"
VSM = "VSM_1.4_2022.01.xml"
XML = {"Content-Type": "application/xml"}


@pytest.mark.slow
def test_validate_report_svrl_document(cda_console: httpx.Client, qualified_tenant: str,
                                       example: Callable[[str], bytes]) -> None:  # fmt: skip
    doc = example(VSM)
    resp = cda_console.post(
        f"/_sandbox/cda/validate?tenant={qualified_tenant}&name=vsm.xml", content=doc, headers=XML
    )
    assert resp.status_code == 200, resp.text
    report = resp.json()
    assert report["valid"] is True and report["state"] == "done"
    assert report["volet"] == "VSM_1.4_2022.01" and report["profiles"] == ["StrucMin", "VSM_1.4_2022.01"]
    assert report["version"].startswith("TestContenuCDA-3-0")
    got = cda_console.get(f"/_sandbox/cda/reports/{report['id']}").json()
    assert got["findings"] == report["findings"] and got["name"] == "vsm.xml"
    svrl = cda_console.get(
        f"/_sandbox/cda/reports/{report['id']}/svrl", params={"profile": "VSM_1.4_2022.01"}
    )
    assert svrl.status_code == 200 and svrl.headers["content-type"].startswith("application/xml")
    assert etree.fromstring(svrl.content).tag == "{http://purl.oclc.org/dsdl/svrl}schematron-output"
    assert cda_console.get(f"/_sandbox/cda/reports/{report['id']}/document").content == doc
    html = cda_console.get(f"/_sandbox/cda/reports/{report['id']}", params={"format": "html"})
    assert html.headers["content-type"].startswith("text/html") and "Conforme" in html.text
    assert (
        "script-src" not in html.headers["content-security-policy"]
        and "default-src 'none'" in html.headers["content-security-policy"]
    )


def test_unreadable_documents_are_one_parse_finding_and_400(cda_console: httpx.Client) -> None:
    bomb = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
            b'<ClinicalDocument xmlns="urn:hl7-org:v3">&lol2;</ClinicalDocument>')  # fmt: skip
    cases = {
        "not XML": b"hello, this is not XML",
        "wrong root": b'<Patient xmlns="http://hl7.org/fhir"/>',
        "too big": b"<ClinicalDocument xmlns='urn:hl7-org:v3'>"
        + b" " * (50 * 1024 * 1024)
        + b"</ClinicalDocument>",
        "DOCTYPE bomb": bomb,
    }
    for what, body in cases.items():
        resp = cda_console.post("/_sandbox/cda/validate", content=body, headers=XML)
        assert resp.status_code in (400, 413), (what, resp.status_code)
        if resp.status_code == 413:  # over 4x the cap: refused before reading it as a CDA
            continue
        findings = resp.json()["findings"]
        assert [f["rule"] for f in findings] == ["CDA-PARSE"], (what, findings)
        assert findings[0]["severity"] == "error"


@pytest.mark.slow
def test_zip_of_documents(cda_console: httpx.Client, example: Callable[[str], bytes]) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("IHE_XDM/SUBSET01/DOC0001.XML", example(N1))
        z.writestr("IHE_XDM/SUBSET01/METADATA.XML", b"<SubmitObjectsRequest/>")
        z.writestr("IHE_XDM/SUBSET01/DOC0002.XML", b"<oops")
        z.writestr("README.TXT", b"readme")
    resp = cda_console.post(
        "/_sandbox/cda/validate", content=buf.getvalue(), headers={"Content-Type": "application/zip"}
    )
    assert resp.status_code == 200, resp.text
    reports = {r["name"]: r for r in resp.json()["reports"]}
    assert set(reports) == {"IHE_XDM/SUBSET01/DOC0001.XML", "IHE_XDM/SUBSET01/DOC0002.XML"}
    assert reports["IHE_XDM/SUBSET01/DOC0001.XML"]["profiles"] == ["StrucMin"]
    assert [f["rule"] for f in reports["IHE_XDM/SUBSET01/DOC0002.XML"]["findings"]] == ["CDA-PARSE"]


@pytest.mark.slow
def test_wait_zero_answers_pending_then_done(
    cda_console: httpx.Client, example: Callable[[str], bytes]
) -> None:
    resp = cda_console.post("/_sandbox/cda/validate?wait=0", content=unique(example(VSM)), headers=XML)
    assert resp.status_code == 202 and resp.json()["state"] == "pending"
    report_id = resp.json()["id"]
    deadline = time.monotonic() + 120
    while (got := cda_console.get(f"/_sandbox/cda/reports/{report_id}").json())["state"] == "pending":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert got["profiles"] == ["StrucMin", "VSM_1.4_2022.01"]


def test_render_n1_pdf_and_n3_html(cda_console: httpx.Client, example: Callable[[str], bytes]) -> None:
    pdf = cda_console.post("/_sandbox/cda/render", content=example(N1), headers=XML)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
    html = cda_console.post("/_sandbox/cda/render", content=example(VSM), headers=XML)
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in html.headers["content-security-policy"]
    assert "Traitement" in html.text  # a section title of the VSM narrative
    bad = cda_console.post("/_sandbox/cda/render", content=b"<x/>", headers=XML)
    assert bad.status_code == 400 and "racine" in bad.json()["error"]


def test_bad_parameters(cda_console: httpx.Client, example: Callable[[str], bytes]) -> None:
    assert cda_console.post("/_sandbox/cda/validate?volet=NOPE", content=example(VSM)).status_code == 400
    assert cda_console.post("/_sandbox/cda/validate?ins_family=x", content=example(VSM)).status_code == 400
    assert cda_console.post("/_sandbox/cda/validate?tenant=nobody", content=example(VSM)).status_code == 404
    assert cda_console.get("/_sandbox/cda/reports/999999").status_code == 404
    assert cda_console.get("/_sandbox/cda/reports/abc").status_code == 404


def test_openapi_health_and_profiles(cda_console: httpx.Client) -> None:
    paths = cda_console.get("/_sandbox/openapi.json").json()["paths"]
    assert {"/_sandbox/cda/validate", "/_sandbox/cda/reports/{report_id}", "/_sandbox/cda/health"} <= set(
        paths
    )
    health = cda_console.get("/_sandbox/health").json()
    assert health["cda"]["state"] in ("ready", "compiling", "starting", "no worker")
    detail = cda_console.get("/_sandbox/cda/health").json()
    assert detail["data"].endswith("TestContenuCDA-3-0") and detail["version"]
    profiles = {p["name"]: p for p in cda_console.get("/_sandbox/cda/profiles").json()}
    assert (
        profiles["VSM_1.4_2022.01"]["present"]
        and "1.2.250.1.213.1.1.1.13@201310" in profiles["VSM_1.4_2022.01"]["templates"]
    )
    rules = cda_console.get("/_sandbox/rules").json()["cda"]
    assert {"CDA-STRUCMIN", "CDA-PARSE", "CDA-N1-TWIN-PDF"} <= {r["id"] for r in rules}
