"""The authorization code flow end to end, driven by an independent OIDC client (authlib), the ID
token verified against the JWKS with another JOSE library (joserfc)."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import httpx
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import OAuth2Client
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.psc.conftest import DOCTOR, LOGOUT_TARGET, REDIRECT, Psc, query


def _no_nulls(value: Any, path: str = "$") -> None:
    assert value is not None, f"null at {path}"
    if isinstance(value, dict):
        for k, v in value.items():
            _no_nulls(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _no_nulls(v, f"{path}[{i}]")


def test_code_flow_pkce_userinfo_refresh_introspection_logout(psc: Psc) -> None:
    psc.register()
    psc.auto_approve(0)
    discovery = psc.https.get(psc.issuer + "/.well-known/wallet-openid-configuration").json()
    assert discovery["issuer"] == psc.issuer
    assert discovery["authorization_endpoint"] == psc.runner.url("psc-wallet", "/auth")
    ctx = psc.runner.sandbox.pki.client_context()
    client = OAuth2Client(
        psc.client_id,
        psc.secret,
        scope="openid scope_all",
        redirect_uri=REDIRECT,
        code_challenge_method="S256",
        verify=ctx,
        timeout=30,
    )
    verifier = generate_token(64)
    nonce = generate_token(32)
    url, state = client.create_authorization_url(
        discovery["authorization_endpoint"], code_verifier=verifier, nonce=nonce, acr_values="eidas1"
    )
    back = psc.login(url)
    location = back.headers["location"]
    assert location.startswith(REDIRECT + "?")
    params = query(location)
    assert params["state"] == state and params["iss"] == psc.issuer and params["session_state"]

    token = client.fetch_token(
        discovery["token_endpoint"], authorization_response=location, code_verifier=verifier
    )
    assert token["token_type"] == "Bearer" and token["expires_in"] == 120
    assert 0 < token["refresh_expires_in"] <= 1800
    assert token["session_state"] == params["session_state"]

    # ID token: signature against the published JWKS, claims as the real BAS ones (research 2.4)
    jwks = KeySet.import_key_set(psc.https.get(discovery["jwks_uri"]).json())
    id_token = jwt.decode(token["id_token"], jwks, algorithms=["RS256"])
    c = id_token.claims
    assert id_token.header["kid"] == jwks.keys[0].kid and id_token.header["typ"] == "JWT"
    assert c["iss"] == psc.issuer and c["aud"] == psc.client_id and c["azp"] == psc.client_id
    assert c["nonce"] == nonce and c["typ"] == "ID" and c["exp"] - c["iat"] == 120
    assert c["sub"] == f"f:550dc1c8-d97b-4b1e-ac8c-8eb4471cf9dd:{DOCTOR}"
    assert c["SubjectNameID"] == c["preferred_username"] == DOCTOR
    assert (c["acr"], c["authMode"]) == ("eidas1", "MOBILE")
    assert c["sid"] == c["session_state"] == params["session_state"]
    digest = hashlib.sha256(token["access_token"].encode()).digest()[:16]
    assert c["at_hash"] == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert (c["given_name"], c["family_name"]) == ("CAMILLE", "LEMAIRE")
    at = jwt.decode(token["access_token"], jwks, algorithms=["RS256"]).claims
    assert at["typ"] == "Bearer" and "aud" not in at and at["scope"] == "openid scope_all"
    assert at["otherIds"] == [{"identifiant": DOCTOR, "origine": "RPPS", "qualite": 1}]

    # UserInfo: plain JSON, SubjectRefPro.exercices[].activities[], no null anywhere
    info = client.get(discovery["userinfo_endpoint"])
    assert info.status_code == 200 and info.headers["content-type"].startswith("application/json")
    u = info.json()
    _no_nulls(u)
    assert u["SubjectNameID"] == DOCTOR and u["sub"] == c["sub"]
    exercice = u["SubjectRefPro"]["exercices"][0]
    assert exercice["codeProfession"] == "10" and exercice["codeSavoirFaire"] == "SM54"
    assert [a["codeSecteurDactivite"] for a in exercice["activities"]] == ["SA07", "SA05"]
    assert exercice["activities"][1]["numeroFinessSite"] == "750000010"
    assert (
        u["SubjectRole"] == ["10^1.2.250.1.213.1.1.5.5"]
        and u["Secteur_Activite"] == "SA07^1.2.250.1.71.4.2.4"
    )
    assert u["SubjectOrganization"] == "CABINET DU DR CAMILLE LEMAIRE" and u["authMode"] == "MOBILE"

    # refresh: new tokens, same session
    refreshed = client.refresh_token(discovery["token_endpoint"])
    assert refreshed["access_token"] != token["access_token"]
    assert jwt.decode(refreshed["id_token"], jwks).claims["sid"] == c["sid"]

    # introspection with HTTP Basic
    auth = (psc.client_id, psc.secret)
    intro = psc.https.post(
        discovery["introspection_endpoint"], data={"token": refreshed["access_token"]}, auth=auth
    ).json()
    assert intro["active"] is True and intro["client_id"] == psc.client_id and intro["username"] == DOCTOR
    # the kernel's token trust (what MSSanté's XOAUTH2 asks): the same verdict, per tenant
    kernel = "/_sandbox/tokens/introspect"
    trusted = psc.console.post(
        kernel, params={"tenant": psc.tenant}, data={"token": refreshed["access_token"]}
    )
    assert trusted.json()["active"] is True and trusted.json()["SubjectNameID"] == DOCTOR
    assert trusted.json()["issued_by"] == "psc"
    assert psc.console.post(kernel, data={"token": refreshed["access_token"]}).json() == {"active": False}

    # RP-initiated logout: back to the declared URI with the state; the session is over
    out = psc.https.get(
        discovery["end_session_endpoint"],
        params={
            "id_token_hint": refreshed["id_token"],
            "post_logout_redirect_uri": LOGOUT_TARGET,
            "state": "bye-1",
        },
    )
    assert out.status_code == 302 and out.headers["location"] == LOGOUT_TARGET + "?state=bye-1"
    intro = psc.https.post(
        discovery["introspection_endpoint"], data={"token": refreshed["access_token"]}, auth=auth
    )
    assert intro.json() == {"active": False}
    gone = psc.console.post(kernel, params={"tenant": psc.tenant}, data={"token": refreshed["access_token"]})
    assert gone.json() == {"active": False}
    again = psc.https.post(
        discovery["token_endpoint"],
        data={"grant_type": "refresh_token", "refresh_token": refreshed["refresh_token"]},
        auth=auth,
    )
    assert again.status_code == 400 and again.json() == {
        "error": "invalid_grant",
        "error_description": "Session not active",
    }


def test_discovery_on_both_paths_and_no_auth_endpoint_on_the_issuer(psc: Psc) -> None:
    wallet = psc.https.get(psc.issuer + "/.well-known/wallet-openid-configuration")
    standard = psc.https.get(psc.issuer + "/.well-known/openid-configuration")
    assert wallet.status_code == standard.status_code == 200
    assert wallet.json() == standard.json()
    doc = wallet.json()
    assert doc["code_challenge_methods_supported"] == ["plain", "S256"]
    assert doc["backchannel_authentication_endpoint"] == psc.oidc("/ext/ciba/auth")
    assert "tls_client_auth" in doc["token_endpoint_auth_methods_supported"]
    # a client deriving the authorization endpoint from the issuer breaks, as on the real PSC
    assert psc.https.get(psc.oidc("/auth"), params={"client_id": "x"}).status_code == 404


def test_pkce_plain_and_client_secret_post(psc: Psc) -> None:
    psc.register(auth_method="client_secret_post")
    psc.auto_approve(0)
    verifier = generate_token(50)
    url = (
        psc.runner.url("psc-wallet", "/auth")
        + "?"
        + httpx.QueryParams(
            {
                "client_id": psc.client_id,
                "redirect_uri": REDIRECT,
                "response_type": "code",
                "scope": "scope_all",
                "state": "s1",
                "code_challenge": verifier,
                "code_challenge_method": "plain",
            }
        ).__str__()
    )
    code = query(psc.login(url).headers["location"])["code"]
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "client_id": psc.client_id,
        "client_secret": psc.secret,
    }
    bad = psc.https.post(psc.oidc("/token"), data={**form, "code_verifier": "x" * 43})
    assert bad.status_code == 400
    assert bad.json() == {
        "error": "invalid_grant",
        "error_description": "PKCE verification failed: Code mismatch",
    }
    # the code was spent by the failed attempt, like Keycloak
    code = query(psc.login(url).headers["location"])["code"]
    good = psc.https.post(psc.oidc("/token"), data={**form, "code": code, "code_verifier": verifier})
    assert good.status_code == 200, good.text
    body = good.json()
    assert "id_token" not in body  # scope_all without openid: OAuth only
    assert list(body)[:5] == [
        "access_token",
        "expires_in",
        "refresh_expires_in",
        "refresh_token",
        "token_type",
    ]
    payload = json.loads(base64.urlsafe_b64decode(body["access_token"].split(".")[1] + "=="))
    assert payload["nonce"] == ""


def test_realm_document_public_key_matches_the_jwks(psc: Psc) -> None:
    from cryptography.hazmat.primitives.serialization import load_der_public_key

    doc = psc.https.get(psc.issuer).json()
    assert doc["realm"] == "esante-wallet" and doc["token-service"] == psc.oidc("")
    key = load_der_public_key(base64.b64decode(doc["public_key"]))
    jwk = psc.https.get(psc.oidc("/certs")).json()["keys"][0]
    n = int.from_bytes(base64.urlsafe_b64decode(jwk["n"] + "=" * (-len(jwk["n"]) % 4)), "big")
    assert key.public_numbers().n == n  # type: ignore[union-attr]
