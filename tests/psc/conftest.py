"""PSC integration fixtures: the shared in-process sandbox, a fresh tenant per test bound to a
fresh client id (so that every request of that client lands in the tenant), HTTPS clients
trusting the sandbox's TEST roots, and a login driver for the wallet pages (httpx: no browser)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import pytest

from mocks.runner import Runner

ISSUER_PATH = "/auth/realms/esante-wallet"
REDIRECT = "https://lgc.example/callback"
LOGOUT_TARGET = "https://lgc.example/bye"
DOCTOR = "810100000016"  # demo persona: GP with e-CPS and CPS card
NO_ECPS = "810100000073"  # magic persona: no e-CPS
STRUCTURE = "1750000010"  # demo centre de santé (ORG AUTH_CLI certificates)


@dataclass
class Psc:
    runner: Runner
    console: httpx.Client
    tenant: str
    client_id: str
    secret: str
    https: httpx.Client  # trusts the TEST roots, no client certificate

    @property
    def issuer(self) -> str:
        return self.runner.url("psc", ISSUER_PATH)

    def oidc(self, path: str) -> str:
        return self.issuer + "/protocol/openid-connect" + path

    def control(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.console.request(method, "/_sandbox/psc" + path, params={"tenant": self.tenant}, **kwargs)

    def register(self, client_id: str | None = None, **fields: Any) -> dict[str, Any]:
        data = {
            "secret": self.secret,
            "redirect_uris": [REDIRECT],
            "post_logout_redirect_uris": [LOGOUT_TARGET],
            "grant_types": ["authorization_code", "refresh_token", "urn:openid:params:grant-type:ciba"],
            **fields,
        }
        r = self.control("PUT", f"/clients/{client_id or self.client_id}", json=data)
        assert r.status_code == 200, r.text
        return dict(r.json())

    def advance(self, seconds: float) -> None:
        r = self.console.post(
            "/_sandbox/clock/advance", params={"tenant": self.tenant}, json={"seconds": seconds}
        )
        assert r.status_code == 200, r.text

    def auto_approve(self, seconds: int | None) -> None:
        r = self.control("PUT", "/auto-approve", json={"after_seconds": seconds})
        assert r.status_code == 200, r.text

    def login_form(self, authorize_url: str, browser: httpx.Client) -> str:
        """Open the wallet's login page; returns the request id of its form."""
        page = browser.get(authorize_url)
        assert page.status_code == 200, page.text
        assert "Identifiez-vous" in page.text
        found = re.search(r'name="request" value="([^"]+)"', page.text)
        assert found, page.text
        return found.group(1)

    def login(
        self, authorize_url: str, national_id: str = DOCTOR, browser: httpx.Client | None = None
    ) -> httpx.Response:
        """Log in with e-CPS (auto-approval on for the tenant): the final redirect to the client."""
        own = browser is None
        browser = browser or self.browser()
        try:
            rid = self.login_form(authorize_url, browser)
            wallet = self.runner.url("psc-wallet")
            r = browser.post(
                wallet + "/auth/login", data={"request": rid, "national_id": national_id, "method": "ecps"}
            )
            assert r.status_code == 303, r.text
            r = browser.get(urljoin(wallet, r.headers["location"]))
            assert r.status_code == 302, r.text
            return r
        finally:
            if own:
                browser.close()

    def browser(self, **kwargs: Any) -> httpx.Client:
        ctx = (
            self.runner.sandbox.pki.client_context(**kwargs)
            if kwargs
            else self.runner.sandbox.pki.client_context()
        )
        return httpx.Client(verify=ctx, timeout=30, follow_redirects=False)


def query(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


@pytest.fixture
def psc(running_sandbox: Runner, console: httpx.Client) -> Iterator[Psc]:
    tenant = "psc-" + uuid.uuid4().hex[:10]
    client_id = "lgc-" + uuid.uuid4().hex[:10]
    r = console.post("/_sandbox/tenants", json={"id": tenant, "bindings": [client_id]})
    assert r.status_code in (200, 201), r.text
    with httpx.Client(verify=running_sandbox.sandbox.pki.client_context(), timeout=30) as https:
        yield Psc(running_sandbox, console, tenant, client_id, "s3cret-" + client_id, https)
    console.delete(f"/_sandbox/tenants/{tenant}")
