"""Every console page in headless Chromium: it opens (no 5xx), its heading is French, axe-core
finds no serious or critical WCAG 2.1 A/AA violation, and a full-page screenshot is kept
(.artefacts/console/). Also: the English toggle on labels, the large-type option, the tenant
selector, keyboard navigation, and the French 404 pages."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page

from tests.console.conftest import DOCTOR, STRUCTURE, Insi, axe_violations, shot

PATIENT = "insi-adrtrois-toussaint"

PAGES = [
    ("/", "Accueil", "accueil"),
    ("/personas", "Personas", "personas"),
    ("/personas?q=TOUSSAINT", "Recherche de personas", "personas-recherche"),
    (f"/personas/patients/{PATIENT}", "TOUSSAINT ADRTROIS", "persona-patient"),
    (f"/personas/professionals/{DOCTOR}", "", "persona-professionnel"),
    (f"/personas/structures/{STRUCTURE}", "", "persona-structure"),
    ("/journal", "Journal", "journal"),
    ("/defauts", "Défauts", "defauts"),
    ("/horloge", "Horloge", "horloge"),
    ("/tenants", "Tenants", "tenants"),
    ("/pki", "PKI", "pki"),
    ("/insi", "INSi", "insi"),
    ("/psc", "Pro Santé Connect", "psc"),
    ("/dmp", "DMP", "dmp"),
]


@pytest.mark.parametrize(("path", "heading", "name"), PAGES, ids=[p[2] for p in PAGES])
def test_page_opens_in_french_accessible(page: Page, insi: Insi, console_tenant: str, path: str, heading: str,
                                         name: str) -> None:  # fmt: skip
    assert insi.traits(console_tenant).status_code == 200  # something in the journal and the INSi log
    response = page.goto(path)
    assert response is not None and response.status == 200, path
    assert page.locator("html").get_attribute("lang") == "fr"
    h1 = page.locator("h1").first.inner_text()
    assert heading in h1
    nav = page.locator("nav.main").inner_text()
    assert "Accueil" in nav and "Journal" in nav and "Défauts" in nav and "Pro Santé Connect" in nav
    assert page.locator("#tenant-select").input_value() == console_tenant
    violations = axe_violations(page)
    shot(page, name)
    assert violations == [], violations


def test_dmp_viewer_patient_and_document(page: Page, console_tenant: str) -> None:
    """The DMP viewer: a seeded patient's documents (status, visibility, versions, author, XAdES),
    then the replaced letter's v2 with its PDF, its versions and associations."""
    page.goto("/dmp")
    page.locator("#patients-table tbody tr a").first.click()
    assert "Documents DMP de" in page.locator("h1").inner_text()
    rows = page.locator("#documents-table tbody tr")
    assert rows.count() >= 1 and "valide" in rows.first.inner_text()
    assert axe_violations(page) == []
    shot(page, "dmp-patient")
    page.goto("/dmp")
    with_v2 = page.locator(
        "#patients-table tbody tr", has=page.locator("td.num", has_text=re.compile(r"^3$"))
    )
    with_v2.first.locator("a").first.click()
    page.locator("#documents-table a", has_text="v1").first.click()  # the v2's "remplace v1" link
    assert "Deprecated" in page.locator("#doc-status").inner_text()
    page.locator("dd a", has_text="2.25.").last.click()  # "Remplacé par": the v2
    assert "Approved" in page.locator("#doc-status").inner_text()
    assert page.locator("#doc-xades").inner_text().strip() == "valide"
    assert "RPLC" in page.locator("#associations-table").inner_text()
    assert page.locator("#doc-frame").get_attribute("src", timeout=5000)
    assert axe_violations(page) == []
    shot(page, "dmp-document")
    page.goto("/dmp")
    page.locator("#patients-table tbody tr td:last-child a").first.click()  # the persona's page
    assert "voir les documents" in page.locator("#dmp-documents").inner_text()


def test_journal_entry_page(page: Page, insi: Insi, console_tenant: str) -> None:
    assert insi.traits(console_tenant).status_code == 200
    page.goto("/journal")
    page.locator("#journal-rows tr a").first.click()
    assert "rechercherInsAvecTraitsIdentite" in page.locator("h1").inner_text()
    # the SOAP request folds element by element, the answer shows CR 00
    assert page.locator("#request .xml details").count() > 3
    assert "CodeCR" in page.locator("#response").inner_text()
    page.locator("#request [data-fold=close]").click()
    assert page.locator("#request .xml details[open]").count() == 0
    assert "curl" in page.locator("#curl-command").inner_text()
    assert axe_violations(page) == []
    shot(page, "journal-echange")


def test_english_toggle_and_large_type(page: Page) -> None:
    page.goto("/journal")
    with page.expect_navigation():
        page.click("#lang-toggle")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").first.inner_text().startswith("Journal")
    nav = page.locator("nav.main").inner_text()
    assert "Home" in nav and "Faults" in nav and "Clock" in nav
    with page.expect_navigation():
        page.click("#lang-toggle")
    assert "Accueil" in page.locator("nav.main").inner_text()
    small = page.evaluate("parseFloat(getComputedStyle(document.documentElement).fontSize)")
    with page.expect_navigation():
        page.click("#large-toggle")
    large = page.evaluate("parseFloat(getComputedStyle(document.documentElement).fontSize)")
    assert large >= small * 1.3
    shot(page, "journal-grands-caracteres")


def test_tenant_selector_switches_the_pages(page: Page, console_tenant: str) -> None:
    page.goto("/")
    assert page.locator("#home-tenant").inner_text() == console_tenant
    page.select_option("#tenant-select", "default")  # submits itself (progressive JavaScript)
    page.wait_for_function("document.querySelector('#home-tenant').textContent === 'default'")
    assert page.locator("#tenant-select").input_value() == "default"


def test_keyboard_reaches_the_navigation_and_skips_it(page: Page) -> None:
    page.goto("/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    reached = []
    for _ in range(14):
        page.keyboard.press("Tab")
        reached.append(page.evaluate("document.activeElement.textContent.trim()"))
    assert "Journal" in reached and "Défauts" in reached, reached
    page.goto("/")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # the skip link: focus in the content, past the navigation
    assert page.evaluate("document.activeElement.id") == "contenu"


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("/personas/patients/nobody", "Persona inconnu : nobody"),
        ("/personas/professionals/000", "Persona inconnu : 000"),
        ("/journal/987654321", "Entrée de journal inconnue : 987654321"),
        ("/journal/abc", "Entrée de journal inconnue : abc"),
        ("/?tenant=no-such-tenant", "Tenant inconnu : no-such-tenant"),
        ("/rien/du/tout", "Rien à l'adresse /rien/du/tout"),
        ("/dmp/documents/1.2.3.4", "Document inconnu du DMP de ce tenant : 1.2.3.4"),
        ("/dmp/patients/12", "INS invalide (13 ou 15 caractères) : 12"),
    ],
)
def test_french_404_with_a_way_back(page: Page, path: str, text: str) -> None:
    response = page.goto(path)
    assert response is not None and response.status == 404
    assert text in page.locator("#error-detail").inner_text()
    back = page.locator("#back")
    assert back.count() == 1
    if path.startswith("/rien"):
        shot(page, "erreur-404")
    back.click()
    assert page.locator("h1").count() == 1


def test_psc_login_page_shares_the_console_style(page: Page) -> None:
    """The demo login link of the PSC page opens the wallet's login page, in the same style."""
    page.goto("/psc")
    console_header = page.evaluate("getComputedStyle(document.querySelector('header.top')).backgroundColor")
    link = page.locator("#demo a[target=_blank]").first.get_attribute("href")
    assert link and "client_id=lgc-sandbox" in link
    page.goto(link)
    assert page.title().startswith("Identifiez-vous")
    assert (
        page.evaluate("getComputedStyle(document.querySelector('header')).backgroundColor") == console_header
    )
    assert page.locator("#persona option").count() > 5
    shot(page, "psc-page-de-connexion")
