"""CPS card login (simulated PIN, and the card's certificate over TLS) and `tls_client_auth`
with an IGC-Santé ORG AUTH_CLI certificate mapped by its subject."""

from __future__ import annotations

import re

import httpx
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.psc.conftest import DOCTOR, REDIRECT, STRUCTURE, Psc, query


def _authorize_url(psc: Psc, client_id: str) -> str:
    params = {
        "client_id": client_id,
        "redirect_uri": REDIRECT,
        "response_type": "code",
        "scope": "openid scope_all",
        "state": "st",
        "nonce": "n-1",
        "acr_values": "eidas1",
    }
    return psc.runner.url("psc-wallet", "/auth") + "?" + str(httpx.QueryParams(params))


def test_card_pin_then_tls_client_auth_token(psc: Psc) -> None:
    org = psc.runner.sandbox.pki.credentials(STRUCTURE, "org_auth_cli")
    psc.register(auth_method="tls_client_auth", tls_subject=org.subject, secret="")
    wallet = psc.runner.url("psc-wallet")
    with psc.browser() as browser:
        rid = psc.login_form(_authorize_url(psc, psc.client_id), browser)
        r = browser.post(
            wallet + "/auth/login", data={"request": rid, "national_id": DOCTOR, "method": "card"}
        )
        assert r.status_code == 200 and "Code porteur" in r.text
        action = re.search(r'action="([^"]+)"', r.text)
        assert action
        wrong = browser.post(wallet + action.group(1), data={"pin": "0000"})
        assert wrong.status_code == 400 and "incorrect" in wrong.text
        ok = browser.post(wallet + action.group(1), data={"pin": "1234"})
        assert ok.status_code == 302, ok.text
        code = query(ok.headers["location"])["code"]
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "client_id": psc.client_id,
    }
    # without the certificate: refused
    refused = psc.https.post(psc.oidc("/token"), data=form)
    assert refused.status_code == 401 and refused.json()["error"] == "unauthorized_client"
    # another structure's certificate: refused
    other = psc.runner.sandbox.pki.client_context("1370000028", "org_auth_cli")
    with httpx.Client(verify=other, timeout=30) as c:
        assert c.post(psc.oidc("/token"), data=form).status_code == 401
    ctx = psc.runner.sandbox.pki.client_context(STRUCTURE, "org_auth_cli")
    with httpx.Client(verify=ctx, timeout=30) as c:
        r = c.post(psc.oidc("/token"), data=form)
    assert r.status_code == 200, r.text
    jwks = KeySet.import_key_set(psc.https.get(psc.oidc("/certs")).json())
    claims = jwt.decode(r.json()["id_token"], jwks, algorithms=["RS256"]).claims
    assert (claims["authMode"], claims["acr"]) == ("CARD", "eidas3")


def test_card_by_cps_certificate_over_tls(psc: Psc) -> None:
    psc.register()
    with psc.browser(persona=DOCTOR, kind="cps_auth") as browser:
        rid = psc.login_form(_authorize_url(psc, psc.client_id), browser)
        r = browser.post(
            psc.runner.url("psc-wallet", "/auth/login"),
            data={"request": rid, "national_id": DOCTOR, "method": "card"},
        )
    assert r.status_code == 302, r.text
    assert query(r.headers["location"])["state"] == "st"


def test_revoked_card_and_no_ecps_paths(psc: Psc) -> None:
    psc.register()
    wallet = psc.runner.url("psc-wallet")
    with psc.browser() as browser:
        rid = psc.login_form(_authorize_url(psc, psc.client_id), browser)
        r = browser.post(
            wallet + "/auth/login", data={"request": rid, "national_id": "810100000057", "method": "card"}
        )
        assert r.status_code == 403 and "révoquée" in r.text
        r = browser.post(
            wallet + "/auth/login", data={"request": rid, "national_id": "810100000073", "method": "ecps"}
        )
        assert r.status_code == 200 and "pas activé d" in r.text
        r = browser.post(
            wallet + "/auth/login", data={"request": rid, "national_id": "899999999999", "method": "ecps"}
        )
        assert r.status_code == 400 and "Identifiant inconnu" in r.text


def test_card_pin_is_not_auto_approved(psc: Psc) -> None:
    """Auto-approval (CI) stands for the phone; a card login still waits for its PIN."""
    psc.register()
    psc.auto_approve(0)
    wallet = psc.runner.url("psc-wallet")
    with psc.browser() as browser:
        rid = psc.login_form(_authorize_url(psc, psc.client_id), browser)
        r = browser.post(
            wallet + "/auth/login", data={"request": rid, "national_id": DOCTOR, "method": "card"}
        )
        assert r.status_code == 200 and "Code porteur" in r.text
        ok = browser.post(wallet + f"/auth/pin/{rid}", data={"pin": "1234"})
    assert ok.status_code == 302 and "code=" in ok.headers["location"]


def test_ecps_refused_on_the_phone_then_timeout_and_retry(psc: Psc) -> None:
    psc.register()
    wallet = psc.runner.url("psc-wallet")
    with psc.browser() as browser:
        rid = psc.login_form(_authorize_url(psc, psc.client_id), browser)
        r = browser.post(
            wallet + "/auth/login", data={"request": rid, "national_id": DOCTOR, "method": "ecps"}
        )
        assert r.status_code == 303
        waiting = browser.get(wallet + r.headers["location"])
        assert waiting.status_code == 200 and "Validez sur votre téléphone" in waiting.text
        binding = re.search(r'id="binding">(\d\d)<', waiting.text)
        assert binding
        phone = browser.get(wallet + f"/auth/telephone/{rid}")
        assert binding.group(1) in phone.text
        browser.post(wallet + f"/auth/telephone/{rid}", data={"decision": "refuse"})
        back = browser.get(wallet + f"/auth/attente/{rid}")
        assert back.status_code == 302
        assert query(back.headers["location"]) == {
            "error": "access_denied",
            "error_description": "Authentification refusée par l'utilisateur",
            "state": "st",
        }
        # a second attempt, never validated: timeout on the sandbox clock, then a retry
        rid = psc.login_form(_authorize_url(psc, psc.client_id), browser)
        browser.post(wallet + "/auth/login", data={"request": rid, "national_id": DOCTOR, "method": "ecps"})
        psc.advance(121)
        late = browser.get(wallet + f"/auth/attente/{rid}")
        assert late.status_code == 200 and "Délai dépassé" in late.text
        retry = browser.post(
            wallet + "/auth/login", data={"request": rid, "national_id": DOCTOR, "method": "ecps"}
        )
        assert retry.status_code == 303
        assert psc.control("POST", f"/pending/{rid}/approve").status_code == 200
        done = browser.get(wallet + f"/auth/attente/{rid}")
    assert done.status_code == 302 and "code=" in done.headers["location"]
