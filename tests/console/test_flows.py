"""What a trainer and a developer do with the console, in headless Chromium, each checked with an
independent client: a PKCS#12 downloaded from a persona page opens with `cryptography`; the
clock frozen on the Horloge page is the one INSi judges certificates by; a fault rule made with
the Défauts pickers fires on the next INSi call of an httpx client; an e-CPS push approved on the
Pro Santé Connect page completes the login (code exchanged at the token endpoint); a journal
entry made by curl appears on the live journal page in under 500 ms."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from playwright.sync_api import BrowserContext, Page

from mocks.runner import Runner
from tests.console.conftest import DOCTOR, SOAP, STRUCTURE, Insi, shot
from tests.insi.support import request_xml
from tests.psc.conftest import Psc, psc  # noqa: F401 - the PSC tenant and client fixture


def test_pkcs12_downloaded_from_a_persona_page_opens(page: Page) -> None:
    page.goto(f"/personas/structures/{STRUCTURE}")
    with page.expect_download() as info:
        page.click("#dl-insi_auto-p12")
    data = Path(info.value.path()).read_bytes()
    assert info.value.suggested_filename.endswith("-AUTO.p12")
    key, cert, chain = pkcs12.load_key_and_certificates(data, b"segur")
    assert key is not None and cert is not None
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "INSI-AUTO"
    assert len(chain) >= 1
    # another password, chosen on the page
    page.fill("#mdp", "autre-secret")
    page.click("#credentials form button")
    assert "autre-secret" in page.locator("#credentials").inner_text()
    with page.expect_download() as info:
        page.click("#dl-org_sign-p12")
    _, sign, _ = pkcs12.load_key_and_certificates(Path(info.value.path()).read_bytes(), b"autre-secret")
    assert sign is not None and sign.serial_number != cert.serial_number
    with pytest.raises(ValueError):
        pkcs12.load_key_and_certificates(Path(info.value.path()).read_bytes(), b"segur")
    # the PEM and the TEST chain are there too
    with page.expect_download() as info:
        page.click("#dl-chain")
    assert Path(info.value.path()).read_bytes().count(b"BEGIN CERTIFICATE") == 9


def test_frozen_clock_is_the_one_insi_answers_with(page: Page, insi: Insi, console_tenant: str) -> None:
    page.goto("/horloge")
    page.fill("#at", "2040-01-01T00:00:00")
    page.click("#freeze")
    assert "2040-01-01T00:00:00" in page.locator("#clock-now").inner_text()
    assert "figée" in page.locator("#clock").inner_text()
    shot(page, "horloge-figee")
    # in 2040 the structure's INSI-AUTO certificate (3 years) has expired: INSi refuses it
    answer = insi.traits(console_tenant)
    assert answer.status_code == 500 and "Fault" in answer.text, answer.text
    entry = httpx.get(page.url.split("/horloge")[0] + "/_sandbox/journal",
                      params={"tenant": console_tenant, "limit": 1}).json()[0]  # fmt: skip
    assert entry["at"].startswith("2040-01-01T00:00:00")
    assert entry["details"]["caller"]["certificate"]["status"] == "expired"
    page.click("#real")
    assert "heure réelle" in page.locator("#clock-mode").inner_text()
    assert "<CodeCR>00</CodeCR>" in insi.traits(console_tenant).text


def test_fault_rule_from_the_picker_fires_on_the_next_insi_call(
    page: Page, insi: Insi, console_tenant: str
) -> None:
    assert insi.traits(console_tenant).status_code == 200  # the journal has seen the operation
    page.goto("/defauts")
    page.select_option("#pick-service", "insi")  # submits itself: the pickers now list INSi's
    page.wait_for_selector("#fault-form input[name=service][value=insi]", state="attached")
    page.select_option("#operation", "rechercherInsAvecTraitsIdentite")
    page.select_option("#error", "insi/insi_102")
    page.fill("#times", "1")
    page.fill("#description", "panne du référentiel")
    page.click("#add-fault")
    assert "ajoutée" in page.locator(".flash.ok").inner_text()
    assert "insi_102" in page.locator("#rules").inner_text()
    shot(page, "defauts-regle")

    answer = insi.traits(console_tenant)
    assert answer.status_code == 500
    assert "siram_40" in answer.text and 'code="insi_102"' in answer.text, answer.text
    assert "<CodeCR>00</CodeCR>" in insi.traits(console_tenant).text  # `times: 1`: used up
    page.reload()
    row = page.locator("#rules tbody tr").first.inner_text()
    assert "insi_102" in row and "\t1\t0" in row  # hit once, none left


class Callback:
    """The LGC's redirect URI: a loopback HTTP listener recording the callbacks."""

    def __init__(self) -> None:
        seen: list[str] = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                seen.append(self.path)
                body = b"<!doctype html><title>LGC</title><p>callback</p>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.seen = seen
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.uri = f"http://127.0.0.1:{self.server.server_address[1]}/callback"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def callback() -> Iterator[Callback]:
    server = Callback()
    yield server
    server.close()


def test_ecps_push_approved_from_the_console_completes_the_login(
    psc: Psc,  # noqa: F811
    context: BrowserContext,
    callback: Callback,
    running_sandbox: Runner,
) -> None:
    psc.register(redirect_uris=[callback.uri])
    psc.auto_approve(-1)  # the trainer decides
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    discovery = psc.https.get(psc.issuer + "/.well-known/wallet-openid-configuration").json()
    params = {"response_type": "code", "client_id": psc.client_id, "redirect_uri": callback.uri,
              "scope": "openid scope_all", "acr_values": "eidas1", "state": "s-console", "nonce": "n-console",
              "code_challenge": challenge, "code_challenge_method": "S256"}  # fmt: skip
    context.add_cookies(
        [{"name": "segur_tenant", "value": psc.tenant, "url": running_sandbox.url("console")}]
    )

    professional = context.new_page()
    professional.goto(discovery["authorization_endpoint"] + "?" + urlencode(params))
    professional.select_option("#persona", DOCTOR)
    professional.click("#ecps")
    professional.wait_for_url("**/auth/attente/*")
    binding = professional.locator("#binding").inner_text().strip()

    trainer = context.new_page()
    trainer.goto("/psc")
    row = trainer.locator("#pending-table tbody tr")
    assert row.count() == 1
    assert DOCTOR in row.inner_text() and binding in row.inner_text() and psc.client_id in row.inner_text()
    shot(trainer, "psc-demande")
    row.locator("button.approve").click()
    assert "approuvée" in trainer.locator(".flash.ok").inner_text()
    assert trainer.locator("#no-pending").count() == 1

    professional.wait_for_url(callback.uri + "?*")  # the waiting page refreshes itself
    back = {k: v[0] for k, v in parse_qs(urlsplit(professional.url).query).items()}
    assert back["state"] == "s-console" and back["code"]
    token = psc.https.post(
        psc.oidc("/token"),
        data={
            "grant_type": "authorization_code",
            "code": back["code"],
            "redirect_uri": callback.uri,
            "code_verifier": verifier,
        },  # fmt: skip
        auth=(psc.client_id, psc.secret),
    )
    assert token.status_code == 200, token.text
    payload = token.json()["id_token"].split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["SubjectNameID"] == DOCTOR and claims["nonce"] == "n-console"
    trainer.goto("/psc")
    assert "ecps-approved" in trainer.locator("#logins").inner_text()


def test_journal_entry_made_by_curl_appears_live(
    page: Page, insi_files: dict[str, Path], running_sandbox: Runner, console_tenant: str, tmp_path: Path
) -> None:
    page.goto("/journal")
    page.wait_for_selector("#live-status.on")  # the event stream is open
    body = tmp_path / "request.xml"
    body.write_bytes(request_xml())
    done = subprocess.run(
        ["curl", "-sS", "--cacert", str(insi_files["ca"]), "--cert", str(insi_files["cert"]), "--key",
         str(insi_files["key"]), "-H", f"Content-Type: {SOAP}", "-H", f"X-Sandbox-Tenant: {console_tenant}",
         "--data-binary", f"@{body}", running_sandbox.url("insi", "/lps")],
        capture_output=True, timeout=30, check=True,
    )  # fmt: skip
    answered = time.perf_counter()
    assert b"<CodeCR>00</CodeCR>" in done.stdout
    page.wait_for_function("document.querySelectorAll('#journal-rows tr.new').length === 1", polling="raf")
    seen = time.perf_counter() - answered
    assert seen < 0.5, f"the entry took {seen * 1000:.0f} ms to appear"
    row = page.locator("#journal-rows tr.new")
    assert "rechercherInsAvecTraitsIdentite" in row.inner_text() and "CR=00" in row.inner_text()
    assert page.locator("#journal-count").inner_text() == "1"
