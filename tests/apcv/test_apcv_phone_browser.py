"""The patient's phone page in a real headless Chromium (Debian's `chromium`, playwright's sync
API): the QR code it shows is captured from the screen, read with zxing-cpp and accepted by
authentifierUtilisateurProximite; the page fetches a new code before the current one expires;
the "NFC" button leaves a pending reading that the chosen PS's next call takes; a patient whose
application is not activated sees it said. Skipped without playwright or chromium."""

from __future__ import annotations

import io
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from mocks.runner import Runner
from tests.apcv.support import AUTH, DOCTOR, assertion, auth_action, authentifier_body, envelope, payload

pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
zxingcpp = pytest.importorskip("zxingcpp")
from playwright.sync_api import Browser, Page, sync_playwright  # noqa: E402

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
if CHROMIUM is None:
    pytest.skip("no chromium executable (Debian: apt-get install chromium)", allow_module_level=True)
A = f"{{{AUTH}}}"


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    assert CHROMIUM is not None
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"], headless=True)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(chromium: Browser) -> Iterator[Page]:
    context = chromium.new_context(viewport={"width": 1280, "height": 900})  # a projector
    try:
        yield context.new_page()
    finally:
        context.close()


def shown_qr(page: Page) -> str:
    png = page.locator("#qr").screenshot()
    # zxing may report the same symbol twice (two detections of one QR): one text, not one hit
    [text] = {str(code.text) for code in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))}
    return text


def test_the_qr_on_screen_authenticates(
    page: Page, running_sandbox: Runner, tenant: str, post: Callable[..., httpx.Response], cps: Any
) -> None:
    page.goto(running_sandbox.url("console", f"/apcv/phone?patient=demo-girard-sophie&tenant={tenant}"))
    page.wait_for_selector("#qr svg")
    assert page.locator(".who").inner_text() == "SOPHIE MOREAU"
    assert "LEA MOREAU (enfant, rang 2)" in page.locator("ul").inner_text()
    assert page.locator("#validite").inner_text().startswith("QR code valable encore")
    text = shown_qr(page)
    assert text == page.locator("#qr").get_attribute("data-payload")
    r = post(
        envelope(authentifier_body(text), auth_action("authentifierUtilisateurProximite"), assertion(cps))
    )
    assert r.status_code == 200, r.text
    assert payload(r.content).findtext(f"{A}Assure/{A}NIRAssure") == "2840575056412"


def test_the_page_renews_its_qr_before_expiry(page: Page, running_sandbox: Runner, tenant: str) -> None:
    # a 4-second QR code: the page asks for a new one after 3 s
    saved = running_sandbox.sandbox.config["apcv_qr_lifetime"]
    running_sandbox.sandbox.config.values["apcv_qr_lifetime"] = 4  # type: ignore[attr-defined]
    try:
        page.goto(running_sandbox.url("console", f"/apcv/phone?patient=demo-girard-sophie&tenant={tenant}"))
        page.wait_for_selector("#qr svg")
        first = page.locator("#qr").get_attribute("data-payload")
        page.wait_for_function(f"document.getElementById('qr').dataset.payload !== {first!r}", timeout=8000)
    finally:
        running_sandbox.sandbox.config.values["apcv_qr_lifetime"] = saved  # type: ignore[attr-defined]


def test_nfc_button(
    page: Page,
    running_sandbox: Runner,
    tenant: str,
    console: httpx.Client,
    post: Callable[..., httpx.Response],
    cps: Any,
) -> None:
    page.goto(running_sandbox.url("console", f"/apcv/phone?patient=demo-girard-sophie&tenant={tenant}"))
    page.fill("#ps", DOCTOR)
    page.click("#nfc")
    page.wait_for_function("document.getElementById('message').textContent.includes('en attente')")
    assert DOCTOR in page.locator("#message").inner_text()
    [slot] = console.get("/_sandbox/apcv/nfc", params={"tenant": tenant}).json()
    assert slot["ps"] == DOCTOR and slot["patient"] == "demo-girard-sophie"
    r = post(
        envelope(authentifier_body(None), auth_action("authentifierUtilisateurProximite"), assertion(cps))
    )
    assert r.status_code == 200, r.text


def test_app_not_activated(page: Page, running_sandbox: Runner, tenant: str) -> None:
    page.goto(running_sandbox.url("console", f"/apcv/phone?patient=demo-benali-karim&tenant={tenant}"))
    assert page.locator("#etat").inner_text() == "Application carte Vitale non activée"
    assert page.locator("#qr svg").count() == 0


def test_console_page_and_persona_panel(page: Page, running_sandbox: Runner, tenant: str) -> None:
    """Reachable from the navigation (/apcv) and from the patient's persona page."""
    page.goto(running_sandbox.url("console", f"/apcv?tenant={tenant}"))
    assert "Téléphones des patients" in page.locator("#apcv-cas").inner_text()
    assert "demo-apcv-siecle" in page.locator("#apcv-cas").inner_text()
    page.goto(running_sandbox.url("console", f"/personas/patients/demo-girard-sophie?tenant={tenant}"))
    link = page.locator("#apcv-phone-link")
    assert link.get_attribute("href") == f"/apcv/phone?patient=demo-girard-sophie&tenant={tenant}"
    page.goto(running_sandbox.url("console", link.get_attribute("href") or ""))
    page.wait_for_selector("#qr svg")
    assert shown_qr(page).startswith("APCV1.")
