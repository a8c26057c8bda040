"""MSSanté's console pages in headless Chromium (playwright, Debian's chromium): the mailboxes,
a message with its MIME tree, IHE_XDM content, findings and receipts, the citizen inbox with
"marquer comme lu" (the manual MDN), the injection form, the persona panels; each page French,
without serious or critical axe-core violation, a screenshot kept (.artefacts/console/mss-*.png)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mocks.runner import Runner
from tests.console.conftest import axe_violations, chromium, shot  # noqa: F401 - the browser fixture
from tests.mssante.conftest import CDS_APP, HOSPITAL_BAL, PATIENT_INS, App
from tests.mssante.xdm_messages import XdmMessage

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import Browser, Page  # noqa: E402

PATIENT_BAL = f"{PATIENT_INS}@patient.mssante.fr"


@pytest.fixture
def page(chromium: Browser, running_sandbox: Runner, app: App) -> Iterator[Page]:  # noqa: F811
    base = running_sandbox.url("console")
    ctx = chromium.new_context(base_url=base, locale="fr-FR", viewport={"width": 1366, "height": 900})
    ctx.add_cookies([{"name": "segur_tenant", "value": app.tenant, "url": base}])
    ctx.set_default_timeout(15_000)
    try:
        yield ctx.new_page()
    finally:
        ctx.close()


def check(page: Page, name: str) -> None:
    assert page.locator("html").get_attribute("lang") == "fr"
    violations = axe_violations(page)
    shot(page, name)
    assert violations == [], violations


def test_mailboxes_and_a_message_with_its_xdm_and_findings(page: Page, app: App) -> None:
    broken = XdmMessage(app.document("ldl"), CDS_APP, [HOSPITAL_BAL], dnt=CDS_APP, hash="0" * 40)
    assert app.send(broken.bytes(), broken.to) == {}
    stored = app.stored(HOSPITAL_BAL, broken.message_id)
    app.wait_for(CDS_APP, lambda m: m["origin"] == "mdn")
    page.goto("/mss")
    assert "MSSanté" in page.locator("h1").inner_text()
    assert HOSPITAL_BAL in page.locator("#active-table").inner_text()
    check(page, "mss-accueil")
    page.click(f"#active-table a[href='/mss/bal/{HOSPITAL_BAL}']")
    assert HOSPITAL_BAL in page.locator("h1").inner_text()
    assert page.locator(f"#msg-{stored['id']}").count() == 1
    check(page, "mss-bal")
    page.click(f"#msg-{stored['id']} a")
    assert page.locator("h1").inner_text().startswith("XDM/1.0/DDM+")
    assert "MSS-XDM-HASH" in page.locator("#findings-table").inner_text()
    assert "IHE_XDM/SUBSET01/METADATA.XML" in page.locator("#xdm-files").inner_text()
    assert broken.doc.header.unique_id in page.locator("#xdm").inner_text()
    tree = page.locator("#mime-tree").inner_text()
    assert "multipart/mixed" in tree and "application/zip" in tree and "application/pdf" in tree
    assert "MDN" in page.locator("#receipts").inner_text()
    check(page, "mss-message")
    with page.expect_download() as got:
        page.click("#mime-tree a >> nth=1")
    assert got.value.suggested_filename
    # the receipt itself: a multipart/report
    page.click("#receipts a")
    assert "message/disposition-notification" in page.locator("#mime-tree").inner_text()


def test_citizen_inbox_mark_read_sends_the_mdn(page: Page, app: App) -> None:
    msg = XdmMessage(app.document("ldl", to=[PATIENT_BAL]), CDS_APP, [PATIENT_BAL], dnt=CDS_APP, mes="FIN")
    assert app.send(msg.bytes(), msg.to) == {}
    stored = app.stored(PATIENT_BAL, msg.message_id)
    page.goto("/mss/citoyen")
    assert "Mon espace santé" in page.locator("h1").inner_text()
    assert PATIENT_BAL in page.locator("#citizen-table").inner_text()
    check(page, "mss-citoyen")
    page.click(f"#citizen-table a[href='/mss/bal/{PATIENT_BAL}']")
    assert "Mon espace santé" in page.locator("h1").inner_text()
    page.click(f"#msg-{stored['id']} a")
    with page.expect_navigation():
        page.click("#mark-read")
    assert "MDN envoyé" in page.locator(".flash.ok").inner_text()
    mdns = [
        m
        for m in app.messages(CDS_APP)
        if m["origin"] == "mdn" and msg.message_id.encode() in app.eml(m["id"])
    ]
    assert mdns and b"manual-action/MDN-sent-manually; displayed" in app.eml(mdns[-1]["id"])
    check(page, "mss-citoyen-message")


def test_inject_form(page: Page, app: App) -> None:
    page.goto("/mss/injecter")
    check(page, "mss-injecter")
    page.select_option("#from_persona", "labo")
    page.fill("#to", CDS_APP)
    page.check("#mdn")
    with page.expect_navigation():
        page.click("#inject-submit")
    assert "Message injecté" in page.locator(".flash.ok").inner_text()
    assert "CR d'examens biologiques" in page.locator("h1").inner_text()
    assert "DOC0001.XML" in page.locator("#xdm-files").inner_text()
    shot(page, "mss-injecte")
    page.goto("/mss/injecter")
    page.fill("#to", "nobody@medecin.mssante.fr")
    with page.expect_navigation():
        page.click("#inject-submit")
    assert "pas une BAL" in page.locator(".flash.ko").inner_text()


def test_persona_panels_and_profile_form(page: Page, app: App) -> None:
    page.goto("/personas/patients/demo-girard-sophie")
    assert PATIENT_BAL in page.locator("#mss-citoyen").inner_text()
    page.goto("/personas/professionals/810100000032")
    assert HOSPITAL_BAL in page.locator("#mss-bal").inner_text()
    page.goto(f"/mss/bal/{HOSPITAL_BAL}")
    page.select_option("#receipts", "never")
    with page.expect_navigation():
        page.click("#profile-form button")
    assert "Accusés" in page.locator(".flash").inner_text(), page.content()[:3000]
    assert app.control("GET", f"/mailboxes/{HOSPITAL_BAL}/profile").json()["receipts"] == "never"
    app.control("PUT", f"/mailboxes/{HOSPITAL_BAL}/profile", json={"receipts": "auto"})
    assert page.goto("/mss/bal/nobody@medecin.mssante.fr").status == 404  # type: ignore[union-attr]
    assert page.goto("/mss/messages/999999").status == 404  # type: ignore[union-attr]
