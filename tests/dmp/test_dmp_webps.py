"""TD0.9, the Web PS DMP page opened in context (dmp/webps.py): over mutual TLS with the CPS
certificate, the context (INS, VIHF) in the query or a form; the DMP state and the documents this
professional may see; the refusals of the rights matrix as French pages; journaled; and in
headless Chromium with the card's certificate (screenshot kept, axe-core clean)."""

from __future__ import annotations

import base64
import dataclasses
import zlib
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from lxml import etree

from dmp.documents import Documents
from tests.dmp import registry_support as R
from tests.dmp.conftest import tls_context
from tests.dmp.support import GP_STRUCTURE, PATIENT, vihf
from tests.dmp.test_dmp_retrieve import journal, set_mt, store

PATH = "/webps/dossier"


def context(token: etree._Element, ins: str = PATIENT, deflate: bool = False) -> dict[str, str]:
    """The page's query: the INS and the VIHF in base64 (raw-DEFLATEd first with `deflate`)."""
    data = etree.tostring(token)
    if deflate:
        packer = zlib.compressobj(9, zlib.DEFLATED, -15)
        data = packer.compress(data) + packer.flush()
    return {"ins": ins, "vihf": base64.b64encode(data).decode()}


@pytest.fixture
def web(pem_dir: Any, gp_auth: Any, org_auth: Any, dmp_runner: Any) -> Iterator[Any]:
    base = dmp_runner.url("dmp", PATH)
    clients = {
        "cps": httpx.Client(verify=tls_context(pem_dir / "ca.pem", gp_auth), timeout=30),
        "org": httpx.Client(verify=tls_context(pem_dir / "ca.pem", org_auth), timeout=30),
    }

    def get(tenant: str, params: dict[str, str], cert: str = "cps", post: bool = False) -> httpx.Response:
        headers = {"X-Sandbox-Tenant": tenant}
        if post:
            return clients[cert].post(base, data=params, headers=headers)
        return clients[cert].get(base, params=params, headers=headers)

    yield get
    for client in clients.values():
        client.close()


def test_the_patients_dmp_and_documents(
    web: Any, now: Any, tenant: str, dmp_runner: Any, console: Any
) -> None:
    store(dmp_runner, tenant, b"a", unique_id="1.2.3.1")
    store(dmp_runner, tenant, b"b", unique_id="1.2.3.2", masked=True)  # another author's
    store(dmp_runner, tenant, b"c", unique_id="1.2.3.3", status="Deleted")
    page = web(tenant, context(vihf(now)))
    assert page.status_code == 200 and page.headers["content-type"] == "text/html; charset=utf-8"
    html = etree.HTML(page.text)
    assert html.get("lang") == "fr"
    assert html.findtext(".//h1") == "DMP de SOPHIE MOREAU"  # her usage name
    assert html.xpath("string(//*[@id='etat'])").strip() == "ouvert"
    assert "vous êtes le médecin traitant DMP" in html.xpath("string(//*[@id='autorisation'])")
    ids = html.xpath("//section[@id='documents']//td[@class='mono']/text()")
    assert sorted(ids) == ["1.2.3.1", "1.2.3.2"]  # the MT sees the masked one; deleted is not listed
    entry = journal(console, tenant)
    assert (entry["operation"], entry["status"]) == ("TD0.9", 200)
    set_mt(dmp_runner, tenant, "810100000099")  # now a médecin who is neither MT nor author
    html = etree.HTML(web(tenant, context(vihf(now)), post=True).text)
    assert html.xpath("//section[@id='documents']//td[@class='mono']/text()") == ["1.2.3.1"]


def test_a_masked_document_she_authenticated_is_listed_as_in_td31(
    web: Any, now: Any, tenant: str, dmp_runner: Any
) -> None:
    """The Web PS judged a masked document's authors without its legalAuthenticator, TD3.1 with."""
    sub = R.submission(ps="810100000040", structure="1750000010", visibility=("MASQUE_PS",))
    doc = dataclasses.replace(sub.documents[0], legal_authenticator=R.author().person)
    Documents(dmp_runner.sandbox.store).insert_submission(tenant, dataclasses.replace(sub, documents=(doc,)))
    set_mt(dmp_runner, tenant, "810100000099")
    html = etree.HTML(web(tenant, context(vihf(now))).text)
    assert html.xpath("//section[@id='documents']//td[@class='mono']/text()") == [doc.unique_id]


def test_without_authorisation_no_documents(web: Any, now: Any, tenant: str, dmp_runner: Any) -> None:
    store(dmp_runner, tenant, b"a", unique_id="1.2.3.1")
    from dmp.state import States

    States(dmp_runner.sandbox).update(tenant, PATIENT, now, {"medecin_traitant": "810100000099"})
    html = etree.HTML(web(tenant, context(vihf(now))).text)
    assert html.xpath("string(//*[@id='autorisation'])").startswith("aucune")
    assert html.find(".//*[@id='non-autorise']") is not None
    assert html.xpath("//td[@class='mono']") == []


@pytest.mark.parametrize(
    ("case", "status", "text"),
    [
        ("indirect", 403, "Transaction TD0.9 non autorisée en authentification indirecte"),
        ("no vihf", 400, "contexte incomplet : vihf absent"),
        ("not base64", 400, "base64 illisible"),
        ("other patient", 400, "ne correspond pas à celui du message"),
    ],
)
def test_refusals_are_french_pages(
    case: str, status: int, text: str, web: Any, now: Any, tenant: str, pki: Any, creds: Any
) -> None:
    cert = "cps"
    if case == "indirect":
        token = vihf(now, mode="INDIRECTE", signer=creds(GP_STRUCTURE, "org_sign"), pki=pki)
        params = context(token, deflate=True)  # signed: too long for a URL unless deflated
        cert = "org"
    elif case == "no vihf":
        params = {"ins": PATIENT}
    elif case == "not base64":
        params = {"ins": PATIENT, "vihf": "%%%"}
    else:
        params = context(vihf(now), ins="242083726103567")
    page = web(tenant, params, cert=cert)
    assert page.status_code == status
    error = etree.HTML(page.text).xpath("string(//*[@id='error'])")
    assert text in error, error


def test_in_chromium_with_the_cps_certificate(
    now: Any, tenant: str, dmp_runner: Any, gp_auth: Any, pem_dir: Any
) -> None:
    from playwright.sync_api import sync_playwright

    from tests.console.conftest import CHROMIUM, axe_violations, shot

    if CHROMIUM is None:
        pytest.skip("no chromium executable")
    store(dmp_runner, tenant, b"a", unique_id="1.2.3.1")
    store(dmp_runner, tenant, b"b", unique_id="1.2.3.2", masked=True)
    url = str(httpx.URL(dmp_runner.url("dmp", PATH), params=context(vihf(now))))
    origin = dmp_runner.url("dmp", "")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"], headless=True)
        try:
            ctx = browser.new_context(
                ignore_https_errors=True,
                locale="fr-FR",
                viewport={"width": 1366, "height": 900},
                client_certificates=[{"origin": origin, "certPath": gp_auth[0], "keyPath": gp_auth[1]}],
                extra_http_headers={"X-Sandbox-Tenant": tenant},
            )
            page = ctx.new_page()
            response = page.goto(url)
            assert response is not None and response.status == 200, page.content()[:2000]
            assert page.locator("h1").inner_text() == "DMP de SOPHIE MOREAU"
            assert page.locator("#documents tbody tr").count() == 2
            violations = axe_violations(page)
            shot(page, "dmp-webps-td09")
            assert violations == [], violations
        finally:
            browser.close()


def test_reinforced_indirect_mode_is_allowed(web: Any, now: Any, tenant: str, pki: Any, creds: Any) -> None:
    """PDT-INF-606 (AIR) allows TD0.9 where PDT-INF-526's indirect column refuses it."""
    token = vihf(now, mode="INDIRECTE_RENFORCEE", signer=creds(GP_STRUCTURE, "org_sign"), pki=pki)
    page = web(tenant, context(token, deflate=True), cert="org")
    assert page.status_code == 200, etree.HTML(page.text).xpath("string(//*[@id='error'])")
    assert "INDIRECTE_RENFORCEE" in etree.HTML(page.text).xpath("string(//*[@id='mode'])")
