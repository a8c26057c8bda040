"""The wallet's login pages driven in a real headless Chromium (Debian's `chromium` package, through
playwright's sync API), as a professional and a trainer would use them: an LGC-like authorization
request (code flow, PKCE S256, state, nonce), the persona chosen or the national id typed on the
"Identifiez-vous" page, the e-CPS push validated on the simulated phone (a second tab) or refused
from the console (`/_sandbox/psc/pending/<id>/refuse`), and the browser's arrival at the client's
redirect_uri (a loopback HTTP listener standing for the LGC) read from its final URL. The code is
then exchanged at the token endpoint with httpx; the refusal ends with
`error=access_denied&state=...`, as PSC/Keycloak answers.

Skipped when the `playwright` package or a `chromium` executable is missing (never
`playwright install`: the browser is the distribution's)."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urljoin

import pytest

from tests.psc.conftest import DOCTOR, Psc, query

pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright  # noqa: E402

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
if CHROMIUM is None:
    pytest.skip("no chromium executable (Debian: apt-get install chromium)", allow_module_level=True)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    assert CHROMIUM is not None
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"], headless=True)
        try:
            yield browser
        finally:
            browser.close()


class Lgc:
    """The client's redirect host: a plain HTTP listener on the loopback (as an LGC's
    `http://localhost:8080/callback`) that records the path and query of each callback.

    Not a playwright route: a route sees only the first request of a navigation, never the one
    a redirect (the wallet's 302 to the redirect URI) leads to, so the browser really goes there
    and the test reads the final URL."""

    def __init__(self) -> None:
        callbacks: list[str] = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if not self.path.startswith("/callback"):  # the browser's /favicon.ico
                    self.send_error(404)
                    return
                callbacks.append(self.path)
                body = b"<!doctype html><title>LGC</title><p>callback</p>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.callbacks = callbacks
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.redirect_uri = f"http://127.0.0.1:{self.server.server_address[1]}/callback"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def lgc() -> Iterator[Lgc]:
    server = Lgc()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def context(chromium: Browser) -> Iterator[BrowserContext]:
    # The sandbox serves HTTPS with certificates of its own TEST PKI: the context ignores HTTPS
    # errors (ignore_https_errors=True) rather than importing the trust bundle into an NSS database.
    ctx = chromium.new_context(ignore_https_errors=True, locale="fr-FR")
    ctx.set_default_timeout(20_000)
    try:
        yield ctx
    finally:
        ctx.close()


def _authorization(psc: Psc, redirect_uri: str) -> tuple[str, str, str, str]:
    """An LGC's authorization request, read from the discovery: (url, state, nonce, verifier)."""
    discovery = psc.https.get(psc.issuer + "/.well-known/wallet-openid-configuration").json()
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    params = {
        "response_type": "code",
        "client_id": psc.client_id,
        "redirect_uri": redirect_uri,
        "scope": "openid scope_all",
        "acr_values": "eidas1",
        "state": state,
        "nonce": nonce,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    return discovery["authorization_endpoint"] + "?" + urlencode(params), state, nonce, verifier


def _claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


def _wait_for_callback(page: Page, lgc: Lgc) -> dict[str, str]:
    """The waiting page refreshes itself every 2 s; the last refresh lands on the redirect URI."""
    page.wait_for_url(lgc.redirect_uri + "?*")
    assert page.url.startswith(lgc.redirect_uri + "?") and page.title() == "LGC"
    assert len(lgc.callbacks) == 1 and page.url.endswith(lgc.callbacks[0])
    return query(page.url)


def test_ecps_login_in_chromium_approved_on_the_phone(
    psc: Psc, context: BrowserContext, lgc: Lgc, tmp_path: Path
) -> None:
    psc.register(redirect_uris=[lgc.redirect_uri])
    psc.auto_approve(-1)  # the professional validates by hand
    url, state, nonce, verifier = _authorization(psc, lgc.redirect_uri)
    page = context.new_page()

    page.goto(url)
    assert page.title().startswith("Identifiez-vous")
    assert psc.client_id in page.locator("main").inner_text()
    shot = tmp_path / "login.png"
    page.screenshot(path=str(shot), full_page=True)
    data = shot.read_bytes()
    assert len(data) > 1000 and data.startswith(PNG_MAGIC)

    page.select_option("#persona", DOCTOR)
    page.click("#ecps")
    page.wait_for_url("**/auth/attente/*")
    assert "Validez sur votre téléphone" in page.locator("h1").inner_text()
    binding = page.locator("#binding").inner_text().strip()
    assert len(binding) == 2 and binding.isdigit()

    # the simulated phone, in another tab: same two-digit code, then "Valider"
    phone = context.new_page()
    href = page.locator("#phone").get_attribute("href")
    assert href and "/auth/telephone/" in href
    phone.goto(urljoin(page.url, href))
    assert binding in phone.locator("main").inner_text() and DOCTOR in phone.locator("main").inner_text()
    phone.click("#approve")
    assert phone.locator("#status").inner_text() == "Demande validée."

    back = _wait_for_callback(page, lgc)
    assert back["state"] == state and back["iss"] == psc.issuer
    assert back["code"] and back["session_state"]
    assert any(c["name"] == "PSC_WALLET_SESSION" for c in context.cookies(psc.runner.url("psc-wallet")))

    # the code works: exchanged by the LGC's back end (httpx, trusting the TEST roots)
    token = psc.https.post(
        psc.oidc("/token"),
        data={
            "grant_type": "authorization_code",
            "code": back["code"],
            "redirect_uri": lgc.redirect_uri,
            "code_verifier": verifier,
        },
        auth=(psc.client_id, psc.secret),
    )
    assert token.status_code == 200, token.text
    body = token.json()
    assert body["token_type"] == "Bearer" and body["session_state"] == back["session_state"]
    claims = _claims(body["id_token"])
    assert claims["nonce"] == nonce and claims["aud"] == psc.client_id
    assert (claims["SubjectNameID"], claims["acr"], claims["authMode"]) == (DOCTOR, "eidas1", "MOBILE")
    info = psc.https.get(psc.oidc("/userinfo"), headers={"Authorization": f"Bearer {body['access_token']}"})
    assert info.status_code == 200 and info.json()["SubjectNameID"] == DOCTOR


def test_ecps_login_in_chromium_refused_gives_access_denied(
    psc: Psc, context: BrowserContext, lgc: Lgc
) -> None:
    psc.register(redirect_uris=[lgc.redirect_uri])
    psc.auto_approve(-1)
    url, state, _, _ = _authorization(psc, lgc.redirect_uri)
    page = context.new_page()

    page.goto(url)
    page.fill("#national_id", DOCTOR)  # typed, not chosen from the list
    page.click("#ecps")
    page.wait_for_url("**/auth/attente/*")
    binding = page.locator("#binding").inner_text().strip()

    # the trainer refuses from the console: the pending push carries the code the page shows
    pending = psc.control("GET", "/pending")
    assert pending.status_code == 200, pending.text
    [push] = [r for r in pending.json() if r["client_id"] == psc.client_id]
    assert (push["kind"], push["national_id"], push["binding_message"]) == ("e-cps", DOCTOR, binding)
    refused = psc.control("POST", f"/pending/{push['id']}/refuse")
    assert refused.status_code == 200 and refused.json()["status"] == "refused", refused.text

    assert _wait_for_callback(page, lgc) == {
        "error": "access_denied",
        "error_description": "Authentification refusée par l'utilisateur",
        "state": state,
    }
    assert not any(c["name"] == "PSC_WALLET_SESSION" for c in context.cookies(psc.runner.url("psc-wallet")))


def test_card_login_in_chromium_with_the_pin_the_page_shows(
    psc: Psc, context: BrowserContext, lgc: Lgc
) -> None:
    """A trainer with no documentation at hand: the PIN page itself says the simulated PIN."""
    psc.register(redirect_uris=[lgc.redirect_uri])
    url, state, _, verifier = _authorization(psc, lgc.redirect_uri)
    page = context.new_page()
    page.goto(url)
    page.select_option("#persona", DOCTOR)
    page.click("#card")
    assert page.locator("h1").inner_text() == "Code porteur"
    shown = page.locator("#test-pin").inner_text().strip()
    assert shown == str(psc.runner.sandbox.config["psc_card_pin"])
    page.fill("#pin", "0000")
    page.click("#validate")
    assert "Code porteur incorrect (2 essai(s) restant(s))." in page.locator("#error").inner_text()
    page.fill("#pin", shown)
    page.click("#validate")
    back = _wait_for_callback(page, lgc)
    assert back["state"] == state and back["code"]
    token = psc.https.post(
        psc.oidc("/token"),
        data={
            "grant_type": "authorization_code",
            "code": back["code"],
            "redirect_uri": lgc.redirect_uri,
            "code_verifier": verifier,
        },
        auth=(psc.client_id, psc.secret),
    )
    assert token.status_code == 200 and _claims(token.json()["id_token"])["authMode"] == "CARD"


def test_error_page_in_chromium_is_styled_and_french(psc: Psc, context: BrowserContext) -> None:
    psc.register()
    page = context.new_page()
    page.goto(
        psc.runner.url("psc-wallet", "/auth")
        + "?"
        + urlencode({"client_id": "nobody", "response_type": "code"})
    )
    assert page.title().startswith("Nous sommes désolés...")
    assert page.locator("#kc-error-message").inner_text() == "Client inconnu."
    assert page.evaluate("document.documentElement.lang") == "fr"
    header = page.locator("header")
    assert header.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(0, 0, 145)"  # #000091
