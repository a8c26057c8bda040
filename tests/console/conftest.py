"""Console fixtures: the shared in-process sandbox, a headless Chromium (Debian's `chromium`,
driven by playwright; never `playwright install`), a browser context per test on a fresh tenant
(the console's tenant cookie), screenshots kept as test artefacts, axe-core checks (the copy of
axe.min.js bundled by the axe-playwright-python package), and an INSi client with the
INSI-AUTO certificate of a demo structure (httpx over mutual TLS).

Artefacts: `$SEGUR_TEST_ARTEFACTS/console/*.png`, default `.artefacts/console/` in the checkout.
"""

from __future__ import annotations

import os
import shutil
import ssl
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from mocks.runner import Runner
from tests.insi.support import request_xml

pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright  # noqa: E402

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
ROOT = Path(__file__).resolve().parents[2]
ARTEFACTS = Path(os.environ.get("SEGUR_TEST_ARTEFACTS") or ROOT / ".artefacts") / "console"
STRUCTURE = "1750000010"  # demo centre de santé: its INSI-AUTO certificate calls INSi
DOCTOR = "810100000016"  # demo GP with e-CPS
SOAP = "application/soap+xml; charset=utf-8"


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
def console_tenant(console: httpx.Client) -> Iterator[str]:
    name = "c-" + uuid.uuid4().hex[:10]
    console.post("/_sandbox/tenants", json={"id": name}).raise_for_status()
    yield name
    console.delete(f"/_sandbox/tenants/{name}")


@pytest.fixture
def context(chromium: Browser, running_sandbox: Runner, console_tenant: str) -> Iterator[BrowserContext]:
    base = running_sandbox.url("console")
    ctx = chromium.new_context(base_url=base, locale="fr-FR", accept_downloads=True, ignore_https_errors=True,
                               viewport={"width": 1366, "height": 900})  # fmt: skip
    ctx.add_cookies([{"name": "segur_tenant", "value": console_tenant, "url": base}])
    ctx.set_default_timeout(15_000)
    try:
        yield ctx
    finally:
        ctx.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


def shot(page: Page, name: str) -> Path:
    """A full-page screenshot kept as a test artefact."""
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTEFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    return path


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page (WCAG 2.x A/AA rules)."""
    from axe_playwright_python.sync_playwright import Axe

    options = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
               "resultTypes": ["violations"]}  # fmt: skip
    results = Axe().run(page, options=options).response["violations"]
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["html"][:160] for n in v["nodes"][:3]],
        }
        for v in results
        if v["impact"] in ("serious", "critical")
    ]


@dataclass
class Insi:
    """An LGC's INSi client: mutual TLS with a structure's INSI-AUTO certificate, SOAP 1.2."""

    http: httpx.Client
    url: str

    def traits(self, tenant: str, nom: str = "ADRTROIS", prenoms: tuple[str, ...] = ("TOUSSAINT",),
               sexe: str = "M", date: str = "1960-01-01") -> httpx.Response:  # fmt: skip
        body = request_xml(nom, prenoms, sexe, date)
        return self.http.post(
            self.url, content=body, headers={"Content-Type": SOAP, "X-Sandbox-Tenant": tenant}
        )


@pytest.fixture(scope="session")
def insi_files(running_sandbox: Runner, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("console-insi")
    pki = running_sandbox.sandbox.pki
    creds = pki.credentials(STRUCTURE, "insi_auto")
    files = {"cert": folder / "insi-auto.pem", "key": folder / "insi-auto.key.pem", "ca": folder / "ca.pem"}
    files["cert"].write_bytes(creds.cert_pem)
    files["key"].write_bytes(creds.key_pem)
    files["ca"].write_bytes(pki.ca_bundle())
    return files


@pytest.fixture(scope="session")
def insi(running_sandbox: Runner, insi_files: dict[str, Path]) -> Iterator[Insi]:
    tls = ssl.create_default_context(cafile=str(insi_files["ca"]))
    tls.load_cert_chain(str(insi_files["cert"]), str(insi_files["key"]))
    with httpx.Client(verify=tls, timeout=30) as http:
        yield Insi(http, running_sandbox.url("insi", "/lps"))
