"""Refusals worded as Keycloak words them, the error page on an unknown redirect URI, expiry on the
sandbox clock, per-persona acr quirks, fault rules, and the control API's input checks."""

from __future__ import annotations

import base64
import json
import re

import httpx

from tests.psc.conftest import DOCTOR, REDIRECT, Psc, query


def _url(psc: Psc, **overrides: str) -> str:
    params = {
        "client_id": psc.client_id,
        "redirect_uri": REDIRECT,
        "response_type": "code",
        "scope": "openid scope_all",
        "state": "st-1",
        "nonce": "n-1",
        "acr_values": "eidas1",
        **overrides,
    }
    return psc.runner.url("psc-wallet", "/auth") + "?" + str(httpx.QueryParams(params))


def _code(psc: Psc, **overrides: str) -> str:
    psc.auto_approve(0)
    return query(psc.login(_url(psc, **overrides)).headers["location"])["code"]


def _token(psc: Psc, code: str, **extra: str) -> httpx.Response:
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, **extra}
    return psc.https.post(psc.oidc("/token"), data=data, auth=(psc.client_id, psc.secret))


def _payload(token: str) -> str:
    return base64.urlsafe_b64decode(token.split(".")[1] + "==").decode()


def test_unknown_redirect_uri_is_an_error_page_not_a_redirect(psc: Psc) -> None:
    psc.register()
    r = psc.https.get(_url(psc, redirect_uri="https://evil.example/cb"))
    assert r.status_code == 400 and "location" not in r.headers
    # Keycloak's messages in its French locale (messages_fr.properties), one language per page
    assert "Paramètre invalide : redirect_uri" in r.text and 'lang="fr"' in r.text
    r = psc.https.get(_url(psc, client_id="nobody-" + psc.client_id))
    assert r.status_code == 400 and "Client inconnu." in r.text
    # after the redirect URI is known, errors go back to the client with the state
    r = psc.https.get(_url(psc, response_type="token"))
    assert r.status_code == 302
    assert query(r.headers["location"])["error"] == "unsupported_response_type"
    assert query(r.headers["location"])["state"] == "st-1"
    journal = psc.console.get("/_sandbox/journal", params={"tenant": psc.tenant, "service": "psc"}).json()
    rules = {f["rule"] for entry in journal for f in entry["findings"]}
    assert "PSC-REDIRECT-URI" in rules


def test_code_reuse_secret_and_pkce_refusals(psc: Psc) -> None:
    psc.register()
    code = _code(psc)
    wrong = psc.https.post(
        psc.oidc("/token"),
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT},
        auth=(psc.client_id, "not-the-secret"),
    )
    assert wrong.status_code == 401
    assert wrong.json() == {
        "error": "unauthorized_client",
        "error_description": "Invalid client or Invalid client credentials",
    }
    unknown = psc.https.post(
        psc.oidc("/token"), data={"grant_type": "authorization_code", "code": code}, auth=("nobody", "x")
    )
    assert unknown.status_code == 401 and unknown.json()["error"] == "invalid_client"
    assert _token(psc, code).status_code == 200
    again = _token(psc, code)
    assert again.status_code == 400 and again.json() == {
        "error": "invalid_grant",
        "error_description": "Code not valid",
    }
    code = _code(psc, code_challenge="a" * 43, code_challenge_method="S256")
    missing = _token(psc, code)
    assert missing.json() == {
        "error": "invalid_grant",
        "error_description": "PKCE code verifier not specified",
    }
    mismatch = _token(psc, _code(psc), redirect_uri=REDIRECT + "/other")
    assert mismatch.json() == {"error": "invalid_grant", "error_description": "Incorrect redirect_uri"}
    grant = psc.https.post(
        psc.oidc("/token"), data={"grant_type": "password"}, auth=(psc.client_id, psc.secret)
    )
    assert grant.json() == {"error": "unsupported_grant_type", "error_description": "Unsupported grant_type"}


def test_lifetimes_follow_the_tenant_clock(psc: Psc) -> None:
    psc.register()
    tokens = _token(psc, _code(psc)).json()
    bearer = {"Authorization": "Bearer " + tokens["access_token"]}
    assert psc.https.get(psc.oidc("/userinfo"), headers=bearer).status_code == 200
    psc.advance(121)
    r = psc.https.get(psc.oidc("/userinfo"), headers=bearer)
    assert r.status_code == 401 and 'error="invalid_token"' in r.headers["www-authenticate"]
    intro = psc.https.post(
        psc.oidc("/token/introspect"),
        data={"token": tokens["access_token"]},
        auth=(psc.client_id, psc.secret),
    )
    assert intro.json() == {"active": False}
    refreshed = psc.https.post(
        psc.oidc("/token"),
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        auth=(psc.client_id, psc.secret),
    )
    assert refreshed.status_code == 200, refreshed.text
    psc.advance(1801)  # idle SSO timeout (30 min) and refresh token lifetime
    late = psc.https.post(
        psc.oidc("/token"),
        data={"grant_type": "refresh_token", "refresh_token": refreshed.json()["refresh_token"]},
        auth=(psc.client_id, psc.secret),
    )
    assert late.status_code == 400 and late.json() == {
        "error": "invalid_grant",
        "error_description": "Token is not active",
    }


def test_acr_quirks_per_persona(psc: Psc) -> None:
    psc.register()
    assert psc.control("PUT", f"/quirks/{DOCTOR}", json={"acr": "duplicate"}).status_code == 200
    raw = _payload(_token(psc, _code(psc)).json()["id_token"])
    assert len(re.findall(r'"acr":', raw)) == 2 and '"acr":"1"' in raw
    psc.control("PUT", f"/quirks/{DOCTOR}", json={"acr": "missing"})
    assert "acr" not in json.loads(_payload(_token(psc, _code(psc)).json()["id_token"]))
    psc.control("PUT", f"/quirks/{DOCTOR}", json={"acr": "eidas2"})
    assert json.loads(_payload(_token(psc, _code(psc)).json()["access_token"]))["acr"] == "eidas2"
    bad = psc.control("PUT", f"/quirks/{DOCTOR}", json={"acr": "eidas9"})
    assert bad.status_code == 400 and "one of" in bad.json()["error"]


def test_fault_rule_answers_a_catalogue_error(psc: Psc) -> None:
    psc.register()
    code = _code(psc)
    rule = {
        "service": "psc",
        "operation": "token",
        "persona": DOCTOR,
        "error": "temporarily_unavailable",
        "times": 1,
    }
    r = psc.console.post("/_sandbox/faults", params={"tenant": psc.tenant}, json=rule)
    assert r.status_code in (200, 201), r.text
    first = _token(psc, code)
    assert first.status_code == 503 and first.json()["error"] == "temporarily_unavailable"
    assert _token(psc, code).status_code == 200  # the fault fired before the code was spent


def test_control_api_input_checks(psc: Psc) -> None:
    r = psc.control("PUT", f"/clients/{psc.client_id}", json={"redirect_uris": ["not a uri"], "secret": "x"})
    assert r.status_code == 400 and "redirect_uris" in r.json()["error"]
    r = psc.control("PUT", f"/clients/{psc.client_id}", json={"auth_method": "tls_client_auth"})
    assert r.status_code == 400 and "tls_subject" in r.json()["error"]
    r = psc.control("PUT", f"/clients/{psc.client_id}", json={"secret": "x", "grant_types": ["password"]})
    assert r.status_code == 400 and "password" in r.json()["error"]
    assert psc.control("POST", "/pending/nope/approve").status_code == 404
    psc.register()
    assert (
        psc.control("POST", "/clients", json={"client_id": psc.client_id, "secret": "y"}).status_code == 409
    )
    listed = {c["client_id"]: c["source"] for c in psc.control("GET", "/clients").json()}
    assert listed[psc.client_id] == "control" and listed["lgc-sandbox"] == "configuration"
    assert psc.control("DELETE", f"/clients/{psc.client_id}").status_code == 204
    assert psc.control("DELETE", f"/clients/{psc.client_id}").status_code == 404


def test_control_routes_are_in_the_openapi_document(psc: Psc) -> None:
    doc = psc.console.get("/_sandbox/openapi.json")
    assert doc.status_code == 200, doc.text
    paths = doc.json()["paths"]
    assert (
        "/_sandbox/psc/pending/{request_id}/approve" in paths and "/_sandbox/psc/clients/{client_id}" in paths
    )


def test_back_channel_takes_forms_only(psc: Psc) -> None:
    psc.register()
    as_json = psc.https.post(
        psc.oidc("/token"), json={"grant_type": "refresh_token"}, auth=(psc.client_id, psc.secret)
    )
    assert as_json.status_code == 415
    twice = psc.https.post(
        psc.oidc("/token"),
        content="grant_type=refresh_token&grant_type=refresh_token",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        auth=(psc.client_id, psc.secret),
    )
    assert twice.status_code == 400
    assert twice.json() == {"error": "invalid_request", "error_description": "duplicated parameter"}


def test_response_mode_form_post_and_fragment(psc: Psc) -> None:
    psc.register()
    psc.auto_approve(0)
    with psc.browser() as browser:
        rid = psc.login_form(_url(psc, response_mode="form_post"), browser)
        wallet = psc.runner.url("psc-wallet")
        r = browser.post(
            wallet + "/auth/login", data={"request": rid, "national_id": DOCTOR, "method": "ecps"}
        )
        page = browser.get(wallet + r.headers["location"])
    assert page.status_code == 200 and f'ACTION="{REDIRECT}"' in page.text
    fields = dict(re.findall(r'NAME="([^"]+)" VALUE="([^"]*)"', page.text))
    assert fields["state"] == "st-1" and fields["code"] and fields["iss"] == psc.issuer
    assert _token(psc, fields["code"]).status_code == 200
    r = psc.https.get(_url(psc, response_mode="fragment", response_type="token"))
    assert r.status_code == 302 and r.headers["location"].startswith(
        REDIRECT + "#error=unsupported_response_type"
    )


def test_strict_mode_refuses_an_authorization_request_without_state(psc: Psc) -> None:
    psc.register()
    values = psc.runner.sandbox.config.values
    saved = values.get("psc_validation")
    values["psc_validation"] = "strict"
    try:
        r = psc.https.get(_url(psc, state=""))
    finally:
        values["psc_validation"] = saved
    assert r.status_code == 302
    assert query(r.headers["location"])["error"] == "invalid_request"
    # report mode (default): the same request reaches the login page, with the finding journaled
    assert psc.https.get(_url(psc, state="")).status_code == 200
