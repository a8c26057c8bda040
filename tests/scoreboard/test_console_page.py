"""The console's « Préparation Ségur » page in headless Chromium (playwright on Debian's chromium):
a trainer starts the INS.53 scenario from the form, the LGC calls INSi over mutual TLS with its
INSI-AUTO certificate, and the run page turns green by itself (its script long-polls the
control API). axe-core finds no serious or critical violation; screenshots are kept in
.artefacts/scoreboard/."""

from __future__ import annotations

import os
import ssl
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from mocks.runner import Runner
from tests.insi.clients import STRUCTURE
from tests.insi.support import request_xml
from tests.scoreboard.conftest import Facts

pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
from playwright.sync_api import Browser, Page, expect, sync_playwright  # noqa: E402

from tests.console.conftest import CHROMIUM, axe_violations  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
ARTEFACTS = Path(os.environ.get("SEGUR_TEST_ARTEFACTS") or ROOT / ".artefacts") / "scoreboard"


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    if CHROMIUM is None:
        pytest.skip("no chromium executable (Debian: apt-get install chromium)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"], headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium: Browser, running_sandbox: Runner, tenant: str) -> Iterator[Page]:
    base = running_sandbox.url("console")
    ctx = chromium.new_context(base_url=base, locale="fr-FR", viewport={"width": 1366, "height": 900})
    ctx.add_cookies([{"name": "segur_tenant", "value": tenant, "url": base}])
    ctx.set_default_timeout(15_000)
    yield ctx.new_page()
    ctx.close()


def shot(page: Page, name: str) -> Path:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTEFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    return path


def insi_call(runner: Runner, tenant: str, tmp_path: Path) -> httpx.Response:
    pki = runner.sandbox.pki
    creds = pki.credentials(STRUCTURE, "insi_auto")
    for name, data in (("ca.pem", pki.ca_bundle()), ("c.pem", creds.cert_pem), ("k.pem", creds.key_pem)):
        (tmp_path / name).write_bytes(data)
    tls = ssl.create_default_context(cafile=str(tmp_path / "ca.pem"))
    tls.load_cert_chain(str(tmp_path / "c.pem"), str(tmp_path / "k.pem"))
    with httpx.Client(verify=tls, timeout=30) as client:
        return client.post(runner.url("insi", "/lps"), content=request_xml(),
                           headers={"Content-Type": "application/soap+xml; charset=utf-8", "X-Sandbox-Tenant": tenant})  # fmt: skip


def test_trainer_starts_a_scenario_and_watches_it_turn_green(page: Page, running_sandbox: Runner, tenant: str,
                                                             facts: Facts, tmp_path: Path) -> None:  # fmt: skip
    facts.document(cda_errors=0)  # something green and something red on the board
    facts.advance(1)
    facts.document(type_code="57833-6", ins="", cda_errors=0)
    response = page.goto("/preparation-segur")
    assert response is not None and response.status == 200
    expect(page.locator("h1")).to_have_text("Préparation Ségur")
    expect(page.locator("#req-DOC\\.02 .badge")).to_have_text("Conforme")
    expect(page.locator("#req-DOC\\.04 .badge")).to_have_text("Non conforme")
    assert "Préparation Ségur" in page.locator("nav.main").inner_text()
    assert axe_violations(page) == []
    shot(page, "preparation-segur")

    page.select_option("#scenario", "INS.53")
    page.fill("#persona", STRUCTURE.id_nat)
    page.click("#lancer")
    page.wait_for_url("**/preparation-segur/scenarios/INS.53/runs/*")
    expect(page.locator("#run-status")).to_have_text("Non observé")
    expect(page.locator("#run-state")).to_have_text("en cours")
    assert axe_violations(page) == []
    shot(page, "scenario-en-cours")
    time.sleep(0.5)  # the page's long-poll is waiting now
    assert insi_call(running_sandbox, tenant, tmp_path).status_code == 200
    expect(page.locator("#run-status")).to_have_text("Conforme", timeout=10_000)
    expect(page.locator("#run-state")).to_have_text("réussi")
    assert page.locator("#run-evidence a").count() >= 1
    shot(page, "scenario-reussi")
    page.locator("#run-evidence a").first.click()
    expect(page.locator("h1")).to_contain_text("insi")


def test_unknown_run_and_refused_start_are_french_pages(page: Page) -> None:
    response = page.goto(f"/preparation-segur/scenarios/DOC.02/runs/{uuid.uuid4().int % 10**8}")
    assert response is not None and response.status == 404
    assert "Exécution inconnue" in page.content()
    page.goto("/preparation-segur")
    page.fill("#minutes", "abc")
    page.click("#lancer")
    expect(page.locator(".flash.ko")).to_contain_text("Durée illisible")
