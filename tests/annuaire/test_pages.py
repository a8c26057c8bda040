"""The Annuaire Santé's console page (annuaire/pages) in headless Chromium (playwright on
Debian's chromium) and over HTTP: every search is checked against what the FHIR API answers an
LGC over real TLS with its ESANTE-API-KEY (the `api` fixture's httpx client), the resource page
shows the very JSON the LGC reads, the persona panels list the directory's resources and
mailboxes with their type, an unknown id is a French 404, the API key is created, copied and
revoked from the page; axe-core finds no serious or critical WCAG 2.1 A/AA violation and the
screenshots are kept in .artefacts/console/. Also the control API's FHIR preview the page reads
(/_sandbox/annuaire/fhir/v2/...): the API's own bytes, never journaled, never faulted."""

from __future__ import annotations

import json
import re
import ssl
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest

from annuaire.directory import normalise
from mocks.runner import Runner
from tests.annuaire.conftest import CENTRE, DOCTOR, DOCTOR_MAILBOX, Api, ids_of, next_link

pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
from playwright.sync_api import Browser, Page, sync_playwright  # noqa: E402

from tests.console.conftest import CHROMIUM, axe_violations, shot  # noqa: E402

RPPS = "https://rpps.esante.gouv.fr"
FINESS = "https://finess.esante.gouv.fr"


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    if CHROMIUM is None:
        pytest.skip("no chromium executable (Debian: apt-get install chromium)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"], headless=True)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(chromium: Browser, running_sandbox: Runner, api: Api) -> Iterator[Page]:
    """A browser on the console, looking at the tenant of the `api` fixture's key."""
    base = running_sandbox.url("console")
    ctx = chromium.new_context(base_url=base, locale="fr-FR", viewport={"width": 1366, "height": 900})
    ctx.add_cookies([{"name": "segur_tenant", "value": api.tenant, "url": base}])
    ctx.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
    ctx.set_default_timeout(15_000)
    try:
        yield ctx.new_page()
    finally:
        ctx.close()


@pytest.fixture
def web(running_sandbox: Runner, api: Api) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=running_sandbox.url("console"), timeout=60,
                      cookies={"segur_tenant": api.tenant}) as client:  # fmt: skip
        yield client


def search(page: Page, **fields: str) -> None:
    page.goto("/annuaire")
    for name, value in fields.items():
        if name in ("quoi", "comparaison", "systeme"):
            page.select_option(f"#{name}", value)
        else:
            page.fill(f"#{name}", value)
    with page.expect_navigation():
        page.click("#annuaire-search")


def shown_refs(page: Page, kind: str) -> list[str]:
    return [r.get_attribute("data-ref") or "" for r in page.locator(f"#table-{kind} tbody tr").all()]


def refs(bundle: dict[str, Any], kind: str) -> list[str]:
    return [f"{kind}/{i}" for i in ids_of(bundle, kind)]


def accessible(page: Page, name: str) -> None:
    assert page.locator("html").get_attribute("lang") == "fr"
    violations = axe_violations(page)
    shot(page, name)
    assert violations == [], violations


# -- searches in the browser --------------------------------------------------------------------
def test_search_by_rpps_finds_the_lgc_resource_its_json_and_persona(page: Page, api: Api) -> None:
    search(page, quoi="professionnels", identifiant="10100000016", systeme="RPPS")
    lgc = api.bundle("/fhir/v2/Practitioner", params={"identifier": f"{RPPS}|10100000016", "_count": 20})
    assert len(lgc["entry"]) == 1
    assert shown_refs(page, "Practitioner") == refs(lgc, "Practitioner")
    section = page.locator("#resultats-Practitioner").inner_text()
    assert "1 résultat(s)" in section
    assert f"{api.base}/Practitioner?identifier={RPPS}|10100000016&_count=20" in section
    assert f"ESANTE-API-KEY: {api.key}" in section  # the curl command carries the tenant's key
    row = page.locator("#table-Practitioner tbody tr").first
    assert "CAMILLE LEMAIRE" in row.inner_text() and DOCTOR_MAILBOX in row.inner_text()
    assert row.locator(".mailbox .badge").inner_text() == "PER"
    accessible(page, "annuaire-recherche")

    with page.expect_navigation():
        row.locator("td a").first.click()
    rid = ids_of(lgc)[0]
    assert page.url.endswith(f"/annuaire/Practitioner/{rid}")
    assert (
        json.loads(page.locator("#resource-json").inner_text())
        == api.get(f"/fhir/v2/Practitioner/{rid}").json()
    )
    assert "PER" in page.locator("#mailboxes").inner_text()
    roles = api.bundle("/fhir/v2/PractitionerRole", params={"practitioner": f"Practitioner/{rid}"})
    assert sorted(shown_refs(page, "roles")) == sorted(refs(roles, "PractitionerRole"))
    table = page.locator("#table-roles").inner_text()  # each with its structure (_include)
    assert "CENTRE DE SANTE DES LILAS" in table and "CABINET DU DR CAMILLE LEMAIRE" in table
    accessible(page, "annuaire-ressource")

    with page.expect_navigation():
        page.click("#persona-link")
    assert page.url.endswith(f"/personas/professionals/{DOCTOR}")


def test_structures_by_finess_name_and_postal_code(page: Page, api: Api) -> None:
    search(page, quoi="structures", identifiant="750000010", systeme="FINEG")
    lgc = api.bundle("/fhir/v2/Organization", params={"identifier": f"{FINESS}|750000010"})
    assert shown_refs(page, "Organization") == refs(lgc, "Organization") and len(lgc["entry"]) == 1
    row = page.locator("#table-Organization tbody tr").first
    assert [b.inner_text() for b in row.locator(".mailbox .badge").all()] == ["ORG", "APP"]
    with page.expect_navigation():
        row.locator("a.persona").click()
    assert page.url.endswith(f"/personas/structures/{CENTRE}")

    search(page, quoi="structures", cp="75020")
    lgc = api.bundle("/fhir/v2/Organization", params={"address-postalcode": "75020", "_count": 20})
    assert shown_refs(page, "Organization") == refs(lgc, "Organization") and len(lgc["entry"]) >= 2
    # the FINESS legal entity has no persona page: no link
    entity = next(e["resource"] for e in lgc["entry"] if not e["resource"].get("telecom"))
    assert page.locator(f"#res-Organization-{entity['id']} a.persona").count() == 0

    search(page, quoi="structures", nom="lilas", comparaison="contient")
    lgc = api.bundle("/fhir/v2/Organization", params={"name:contains": "lilas", "_count": 20})
    assert shown_refs(page, "Organization") == refs(lgc, "Organization")
    assert "name:contains=lilas" in page.locator("#resultats-Organization").inner_text()


def test_mailbox_search_over_the_three_types(page: Page, api: Api) -> None:
    search(page, quoi="bal", bal=DOCTOR_MAILBOX)
    for kind in ("Practitioner", "PractitionerRole", "Organization"):
        lgc = api.bundle(f"/fhir/v2/{kind}", params={"mailbox-mss:exact": DOCTOR_MAILBOX})
        shown = shown_refs(page, kind) if kind != "Organization" else []
        assert shown == refs(lgc, kind), kind
        assert f"mailbox-mss:exact={DOCTOR_MAILBOX}" in page.locator(f"#resultats-{kind}").inner_text()
    assert page.locator("#resultats-Organization .no-result").count() == 1
    # a situation d'exercice leads to its professional's persona
    role = page.locator("#table-PractitionerRole tbody tr").first
    assert "CAMILLE LEMAIRE" in role.inner_text()
    assert role.locator("a.persona").get_attribute("href") == f"/personas/professionals/{DOCTOR}"
    accessible(page, "annuaire-recherche-bal")

    search(page, quoi="bal", bal="@cds-lilas")  # a part of an address: :contains
    lgc = api.bundle("/fhir/v2/Organization", params={"mailbox-mss:contains": "@cds-lilas"})
    assert shown_refs(page, "Organization") == refs(lgc, "Organization") == ["Organization/" + ids_of(lgc)[0]]


def test_next_page_follows_the_answers_next_link(page: Page, api: Api) -> None:
    search(page, quoi="professionnels", bal="mssante.fr")
    first = api.bundle("/fhir/v2/Practitioner", params={"mailbox-mss:contains": "mssante.fr", "_count": 20})
    assert shown_refs(page, "Practitioner") == refs(first, "Practitioner")
    url = next_link(first)
    assert url is not None
    second = api.bundle(url.removeprefix(api.url()))
    with page.expect_navigation():
        page.click("#next-Practitioner")
    shown = shown_refs(page, "Practitioner")
    assert shown == refs(second, "Practitioner") and len(shown) == 20
    assert not set(shown) & set(refs(first, "Practitioner"))


def test_persona_panels_list_resources_and_mailboxes(page: Page, api: Api) -> None:
    doctor = api.bundle("/fhir/v2/Practitioner", params={"identifier": f"{RPPS}|10100000016"})
    pid = ids_of(doctor)[0]
    roles = api.bundle("/fhir/v2/PractitionerRole", params={"practitioner": f"Practitioner/{pid}"})
    page.goto(f"/personas/professionals/{DOCTOR}")
    panel = page.locator("#annuaire-ressources")
    assert panel.locator("h2").inner_text() == "Annuaire Santé"
    shown = [r.get_attribute("data-ref") for r in panel.locator("tbody tr").all()]
    assert shown[0] == f"Practitioner/{pid}"
    assert sorted(shown[1:]) == sorted(refs(roles, "PractitionerRole"))
    first = panel.locator("tbody tr").first
    assert DOCTOR_MAILBOX in first.inner_text() and first.locator(".badge", has_text="PER").count() == 1
    assert "003-" in first.locator("td.mono").inner_text()  # the v1 id
    accessible(page, "annuaire-persona-professionnel")
    with page.expect_navigation():
        first.locator("a").first.click()
    assert page.url.endswith(f"/annuaire/Practitioner/{pid}")

    centre = api.bundle("/fhir/v2/Organization", params={"identifier": f"{FINESS}|750000010"})
    oid = ids_of(centre)[0]
    page.goto(f"/personas/structures/{CENTRE}")
    panel = page.locator("#annuaire-ressources")
    rows = panel.locator("tbody tr")
    assert rows.first.get_attribute("data-ref") == f"Organization/{oid}"
    boxes = {
        m.locator("code").inner_text(): m.locator(".badge").inner_text()
        for m in rows.first.locator(".mailbox").all()
    }
    assert boxes == {"secretariat@cds-lilas.mssante.fr": "ORG", "lgc@cds-lilas.mssante.fr": "APP"}
    parent = centre["entry"][0]["resource"]["partOf"]["reference"]
    assert rows.nth(1).get_attribute("data-ref") == parent and "entité juridique" in rows.nth(1).inner_text()
    assert "identifier=https://finess.esante.gouv.fr|750000010" in panel.inner_text()
    staff = api.bundle(
        "/fhir/v2/PractitionerRole", params={"organization": f"Organization/{oid}", "_count": 0}
    )
    assert panel.locator("#annuaire-situations strong").inner_text() == str(staff["total"]) != "0"
    accessible(page, "annuaire-persona-structure")


def test_unknown_resource_is_a_french_404(page: Page) -> None:
    for path in ("/annuaire/Practitioner/003-0000000-0000000", "/annuaire/Praticien/003-1"):
        response = page.goto(path)
        assert response is not None and response.status == 404, path
        assert page.locator("h1").inner_text() == "Page introuvable"
        ref = path.removeprefix("/annuaire/")
        assert f"Ressource inconnue dans l'Annuaire : {ref}" in page.locator("main").inner_text()
        assert page.locator("main a[href='/annuaire']").count() == 1
    accessible(page, "annuaire-404")


def test_api_key_created_copied_and_revoked_from_the_page(page: Page, api: Api) -> None:
    page.goto("/annuaire")
    assert page.locator("#keys tbody tr").count() == 1  # the fixture's key
    page.fill("#libelle", "lgc-formation")
    with page.expect_navigation():
        page.click("#create-key")
    flash = page.locator(".flash.ok").inner_text()
    key = re.search(r"Clé d'API créée : (\S+)", flash)
    assert key is not None
    made = key.group(1)
    row = page.locator("#keys tbody tr").first  # newest first
    assert "lgc-formation" in row.inner_text()
    row.locator("button[data-copy]").click()
    assert page.evaluate("navigator.clipboard.readText()") == made
    assert "Copié" in row.locator("button[data-copy]").inner_text()
    accessible(page, "annuaire-cles")
    tls = ssl.create_default_context(cafile=str(api.ca))
    lgc = httpx.get(api.url("/fhir/v2/Practitioner?identifier=10100000016"), verify=tls,
                    headers={"ESANTE-API-KEY": made})  # fmt: skip
    assert lgc.status_code == 200 and DOCTOR_MAILBOX in lgc.text
    with page.expect_navigation():
        page.click(f"button[aria-label='Révoquer la clé {made}']")
    assert made in page.locator(".flash.ok").inner_text()
    lgc = httpx.get(api.url("/fhir/v2/Practitioner"), verify=tls, headers={"ESANTE-API-KEY": made})
    assert lgc.status_code == 401


# -- over HTTP ----------------------------------------------------------------------------------
def test_console_searches_are_neither_journaled_nor_faulted(web: httpx.Client, api: Api) -> None:
    rule = {"service": "annuaire", "operation": "search Practitioner", "error": "gateway_timeout", "times": 1}
    api.console.post("/_sandbox/faults", params={"tenant": api.tenant}, json=rule).raise_for_status()
    answer = web.get("/annuaire", params={"quoi": "professionnels", "identifiant": "10100000016"})
    assert answer.status_code == 200 and DOCTOR_MAILBOX in answer.text
    count = api.console.get("/_sandbox/journal/count", params={"tenant": api.tenant, "service": "annuaire"})
    assert count.json()["count"] == 0
    assert api.get("/fhir/v2/Practitioner?identifier=10100000016").status_code == 504  # the rule is the LGC's
    assert api.get("/fhir/v2/Practitioner?identifier=10100000016").status_code == 200


def preview(api: Api, path: str, **params: str) -> httpx.Response:
    """The control API's FHIR preview of `path` (its query string kept) for the api's tenant."""
    path, _, query = path.partition("?")
    pairs = [*parse_qsl(query), *params.items(), ("tenant", api.tenant)]
    return api.console.get("/_sandbox/annuaire" + path, params=pairs)


def test_preview_route_answers_the_apis_bytes(api: Api) -> None:
    doctor = api.bundle("/fhir/v2/Practitioner", params={"identifier": "10100000016"})
    rid = ids_of(doctor)[0]
    answer = preview(api, f"/fhir/v2/Practitioner/{rid}")
    lgc = api.get(f"/fhir/v2/Practitioner/{rid}")
    assert (answer.status_code, answer.content) == (200, lgc.content)
    assert (
        answer.headers["content-type"] == lgc.headers["content-type"] == "application/fhir+json;charset=UTF-8"
    )
    query = {"mailbox-mss:contains": "medecin", "_include": "PractitionerRole:organization", "_count": "2"}
    answer = preview(api, "/fhir/v2/PractitionerRole", **query)
    lgc = api.get("/fhir/v2/PractitionerRole", params=query)
    same = re.compile(rb'"id": "[0-9a-f-]{36}"|_page\?id=[^"]+')  # the bundle id and the page id differ
    assert answer.status_code == lgc.status_code == 200 and b"Organization/" in answer.content
    assert same.sub(b"", answer.content) == same.sub(b"", lgc.content)
    for path in ("/fhir/v2/Practitioner?mailbox-mss-type=PER", "/fhir/v2/Practitioner/nope", "/fhir/v2/Foo",
                 "/fhir/v2/Practitioner?_count=x", "/fhir/v1/Practitioner/nope"):  # fmt: skip
        answer = preview(api, path)
        lgc = api.get(path)
        assert (answer.status_code, answer.content) == (lgc.status_code, lgc.content), path
        assert answer.status_code in (400, 404) and b"OperationOutcome" in answer.content
    # next pages through the preview
    first = preview(api, "/fhir/v2/Practitioner", _count="5").json()
    url = next_link(first)
    assert url is not None and url.startswith(api.base + "/_page?id=")
    page_id = url.partition("id=")[2]
    second = preview(api, "/fhir/v2/_page", id=page_id).json()
    assert len(second["entry"]) == 5 and not set(ids_of(first)) & set(ids_of(second))
    assert preview(api, "/fhir/v3/Practitioner").status_code == 404
    unknown = api.console.get("/_sandbox/annuaire/fhir/v2/Practitioner", params={"tenant": "no-such-tenant"})
    assert unknown.status_code == 404 and unknown.json()["error"] == "unknown tenant: no-such-tenant"
    paths = api.console.get("/_sandbox/openapi.json").json()["paths"]
    assert (
        "/_sandbox/annuaire/fhir/{version}/{kind}" in paths
        and "/_sandbox/annuaire/fhir/{version}/{kind}/{rid}" in paths
    )


def test_inconsistency_fault_shows_in_the_panel(web: httpx.Client, api: Api) -> None:
    hidden = api.directory().inconsistent  # the addresses the fault hides (chosen from the seed)
    victim = next(p for p in api.runner.sandbox.population.professionals()
                  if p.mss_address and normalise(p.mss_address) in hidden)  # fmt: skip
    address, national_id = victim.mss_address, victim.id_nat
    api.options(inconsistency=True)
    text = web.get(f"/personas/professionals/{national_id}").text
    assert f"{address} : absente de l&#39;API FHIR" in text and "défaut d&#39;incohérence du tenant" in text
    lgc = api.bundle("/fhir/v2/Practitioner", params={"mailbox-mss:exact": address})
    assert lgc.get("total") == 0
    page = web.get("/annuaire", params={"quoi": "bal", "bal": address}).text
    assert 'id="table-Practitioner"' not in page and "actif : environ 2 %" in page
    api.options(inconsistency=False)
    assert "absente de l&#39;API FHIR" not in web.get(f"/personas/professionals/{national_id}").text


def test_gateway_preset_is_said_and_the_page_still_searches(web: httpx.Client, api: Api) -> None:
    api.options(gateway="down")
    text = web.get("/annuaire", params={"quoi": "professionnels", "identifiant": "10100000016"}).text
    assert 'id="annuaire-preset"' in text and "No context-path matches the request URI." in text
    assert DOCTOR_MAILBOX in text
    assert api.get("/fhir/v2/Practitioner?identifier=10100000016").status_code == 404  # the LGC's answer
    api.options(gateway="none")


def test_accueil_urls_and_english_labels(web: httpx.Client, api: Api) -> None:
    home = web.get("/").text
    row = home[home.index('id="service-annuaire"') :]
    row = row[: row.index("</tr>")]
    info = api.control("GET", "/").json()
    for label, url in (("API FHIR v2 (en-tête ESANTE-API-KEY)", info["fhir"]),
                       ("Fichier d&#39;extraction MSSanté (ZIP)", info["extraction"]),
                       ("Liste blanche MSSanté", info["listeblanche"])):  # fmt: skip
        assert label in row and url in row
    assert info["fhir"] == api.base
    web.cookies.set("segur_lang", "en")
    text = web.get("/annuaire").text
    assert "Create a key" in text and "The LGC&#39;s API key" in text and "Créer une clé" not in text
    assert "Professionals (Practitioner)" in text


BAD = [
    "/annuaire?page=not-a-page-id",
    "/annuaire?page=x&type=Foo",
    "/annuaire?quoi=xyz&comparaison=zzz&systeme=nope&nom=a",
    "/annuaire?quoi=professionnels&nom=%25%26%3D%7C%2C",
    "/annuaire?quoi=professionnels&identifiant=%7C&systeme=RPPS",
    "/annuaire?quoi=structures&cp=" + "9" * 3000,
    "/annuaire?quoi=bal&bal=%40",
    "/annuaire?quoi=professionnels&cp=75020",
    "/annuaire/Practitioner/%3Cscript%3E",
    "/annuaire/_page/x",
    "/annuaire/metadata/x",
]


@pytest.mark.parametrize("path", BAD)
def test_bad_input_gets_a_french_page_never_a_5xx(web: httpx.Client, path: str) -> None:
    answer = web.get(path)
    assert answer.status_code in (200, 404), (path, answer.status_code)
    assert 'lang="fr"' in answer.text and "Traceback" not in answer.text and "<script>" not in answer.text
    if "page=" in path:
        assert "HTTP 410" in answer.text  # the API's answer to a forged page id, as the LGC gets it
    if "cp=75020" in path:
        assert "n&#39;est pas un critère de recherche des professionnels" in answer.text
