"""The PSC defects real clients met (issue 11), each driven as the client met it: a tenant's
discovery through `/_t/<tenant>/` with authlib, duplicated authorization parameters, `max_age`,
`private_key_jwt` / `client_secret_jwt` with authlib's client assertions, the token-exchange
JWKS without a client certificate, the real discovery document's members, and the login pages
(French persona descriptions, styled French error and logout pages, the test PIN, the console
and approval API named on the e-CPS waiting page)."""

from __future__ import annotations

import re
import time
import uuid
from urllib.parse import urljoin

import httpx
import pytest
from authlib.common.security import generate_token
from authlib.integrations.base_client import OAuthError
from authlib.integrations.httpx_client import OAuth2Client
from authlib.oauth2.rfc7523 import ClientSecretJWT, PrivateKeyJWT
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from tests.psc.conftest import DOCTOR, ISSUER_PATH, REDIRECT, Psc, query

CIBA = "urn:openid:params:grant-type:ciba"
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

# the members of the BAS discovery document, in its order (research psc.md 2.1:
# ansforge/psc-edc-proxy-esante src/test/resources/mock_discovery_response.json)
REAL_DISCOVERY = [
    "issuer",
    "authorization_endpoint",
    "token_endpoint",
    "introspection_endpoint",
    "userinfo_endpoint",
    "end_session_endpoint",
    "frontchannel_logout_session_supported",
    "frontchannel_logout_supported",
    "jwks_uri",
    "check_session_iframe",
    "grant_types_supported",
    "acr_values_supported",
    "response_types_supported",
    "subject_types_supported",
    "id_token_signing_alg_values_supported",
    "id_token_encryption_alg_values_supported",
    "id_token_encryption_enc_values_supported",
    "userinfo_signing_alg_values_supported",
    "userinfo_encryption_alg_values_supported",
    "userinfo_encryption_enc_values_supported",
    "request_object_signing_alg_values_supported",
    "request_object_encryption_alg_values_supported",
    "request_object_encryption_enc_values_supported",
    "response_modes_supported",
    "registration_endpoint",
    "token_endpoint_auth_methods_supported",
    "token_endpoint_auth_signing_alg_values_supported",
    "introspection_endpoint_auth_methods_supported",
    "introspection_endpoint_auth_signing_alg_values_supported",
    "authorization_signing_alg_values_supported",
    "authorization_encryption_alg_values_supported",
    "authorization_encryption_enc_values_supported",
    "claims_supported",
    "claim_types_supported",
    "claims_parameter_supported",
    "scopes_supported",
    "request_parameter_supported",
    "request_uri_parameter_supported",
    "require_request_uri_registration",
    "code_challenge_methods_supported",
    "tls_client_certificate_bound_access_tokens",
    "revocation_endpoint",
    "revocation_endpoint_auth_methods_supported",
    "revocation_endpoint_auth_signing_alg_values_supported",
    "backchannel_logout_supported",
    "backchannel_logout_session_supported",
    "device_authorization_endpoint",
    "backchannel_token_delivery_modes_supported",
    "backchannel_authentication_endpoint",
    "backchannel_authentication_request_signing_alg_values_supported",
    "require_pushed_authorization_requests",
    "pushed_authorization_request_endpoint",
    "mtls_endpoint_aliases",
    "authorization_response_iss_parameter_supported",
]


def _auth_url(psc: Psc, **overrides: str) -> str:
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


def _browser_login(psc: Psc, browser: httpx.Client, url: str) -> str:
    """Follow the wallet as a browser does (form action, waiting page): the final Location."""
    page = browser.get(url)
    assert page.status_code == 200, page.text
    action = re.search(r'<form method="post" action="([^"]+)" id="login">', page.text)
    rid = re.search(r'name="request" value="([^"]+)"', page.text)
    assert action and rid, page.text
    r = browser.post(urljoin(url, action.group(1)), data={"request": rid.group(1), "national_id": DOCTOR})
    assert r.status_code == 303, r.text
    r = browser.get(urljoin(url, r.headers["location"]))
    assert r.status_code == 302, r.text
    return str(r.headers["location"])


def test_discovery_through_a_tenant_prefix_names_prefixed_endpoints(psc: Psc) -> None:
    # a client registered in the tenant only, bound to nothing: the prefix alone routes it
    client_id = "unbound-" + uuid.uuid4().hex[:8]
    psc.register(client_id)
    psc.auto_approve(0)
    prefix = f"/_t/{psc.tenant}"
    doc = psc.https.get(
        psc.runner.url("psc", prefix + ISSUER_PATH + "/.well-known/wallet-openid-configuration")
    ).json()
    issuer = psc.runner.url("psc", prefix + ISSUER_PATH)
    assert doc["issuer"] == issuer
    assert doc["authorization_endpoint"] == psc.runner.url("psc-wallet", prefix + "/auth")
    for name in (
        "token_endpoint",
        "userinfo_endpoint",
        "jwks_uri",
        "end_session_endpoint",
        "introspection_endpoint",
    ):
        assert doc[name].startswith(issuer + "/protocol/openid-connect/"), name
    assert all(v.startswith(issuer) for v in doc["mtls_endpoint_aliases"].values())
    realm = psc.https.get(issuer).json()
    assert realm["token-service"] == issuer + "/protocol/openid-connect"

    client = OAuth2Client(
        client_id,
        psc.secret,
        scope="openid scope_all",
        redirect_uri=REDIRECT,
        code_challenge_method="S256",
        verify=psc.runner.sandbox.pki.client_context(),
        timeout=30,
    )
    verifier, nonce = generate_token(64), generate_token(32)
    url, state = client.create_authorization_url(
        doc["authorization_endpoint"], code_verifier=verifier, nonce=nonce
    )
    with psc.browser() as browser:
        location = _browser_login(psc, browser, url)
    params = query(location)
    assert params["state"] == state and params["iss"] == issuer  # RFC 9207: the discovered issuer
    token = client.fetch_token(doc["token_endpoint"], authorization_response=location, code_verifier=verifier)
    jwks = KeySet.import_key_set(psc.https.get(doc["jwks_uri"]).json())
    claims = jwt.decode(token["id_token"], jwks, algorithms=["RS256"]).claims
    assert claims["iss"] == issuer and claims["aud"] == client_id and claims["nonce"] == nonce
    info = client.get(doc["userinfo_endpoint"])
    assert info.status_code == 200 and info.json()["SubjectNameID"] == DOCTOR
    entries = psc.console.get("/_sandbox/journal", params={"tenant": psc.tenant, "operation": "token"}).json()
    assert any(e["caller"] == client_id and e["status"] == 200 for e in entries)


def test_authorization_endpoint_refuses_duplicated_parameters(psc: Psc) -> None:
    psc.register()
    url = _auth_url(psc) + "&scope=openid"
    r = psc.https.get(url)
    assert r.status_code == 302, r.text
    assert query(r.headers["location"]) == {
        "error": "invalid_request",
        "error_description": "duplicated parameter",
        "state": "st-1",
    }
    # before the redirect URI is trusted, an error page (the duplicated client_id is the first one)
    r = psc.https.get(_auth_url(psc, redirect_uri="https://evil.example/cb") + "&nonce=again")
    assert r.status_code == 400 and "location" not in r.headers


def test_max_age_forces_a_new_login(psc: Psc) -> None:
    psc.register()
    psc.auto_approve(0)
    first = query(psc.login(_auth_url(psc)).headers["location"])
    cookie = {"Cookie": f"PSC_WALLET_SESSION={first['session_state']}"}
    sso = psc.https.get(_auth_url(psc), headers=cookie)
    assert (
        sso.status_code == 302 and query(sso.headers["location"])["session_state"] == first["session_state"]
    )
    psc.advance(5)
    again = psc.https.get(_auth_url(psc, max_age="1"), headers=cookie)
    assert again.status_code == 200 and "Identifiez-vous" in again.text  # auth_time + 1 < now
    assert psc.https.get(_auth_url(psc, max_age="3600"), headers=cookie).status_code == 302
    none = psc.https.get(_auth_url(psc, max_age="1", prompt="none"), headers=cookie)
    assert query(none.headers["location"])["error"] == "login_required"
    bad = psc.https.get(_auth_url(psc, max_age="soon"), headers=cookie)
    assert bad.status_code == 400 and "Requête invalide" in bad.text


def _code_flow(psc: Psc, client: OAuth2Client) -> dict[str, str]:
    psc.auto_approve(0)
    location = psc.login(_auth_url(psc)).headers["location"]
    return dict(
        client.fetch_token(psc.oidc("/token"), authorization_response=location, redirect_uri=REDIRECT)
    )


def _assertion(client_id: str, key: RSAKey, aud: str, **claims: object) -> str:
    now = int(time.time())
    body = {
        "iss": client_id,
        "sub": client_id,
        "aud": aud,
        "jti": uuid.uuid4().hex,
        "iat": now,
        "exp": now + 60,
        **claims,
    }
    return jwt.encode({"alg": "RS256", "kid": key.kid}, body, key)


def test_private_key_jwt_with_an_authlib_client_assertion(psc: Psc) -> None:
    key = RSAKey.generate_key(2048, parameters={"kid": "lgc-key-1"})
    psc.register(auth_method="private_key_jwt", secret="", jwks={"keys": [key.as_dict(private=False)]})
    token_url = psc.oidc("/token")
    client = OAuth2Client(
        psc.client_id,
        key.as_pem(private=True).decode(),
        token_endpoint_auth_method="private_key_jwt",
        verify=psc.runner.sandbox.pki.client_context(),
        timeout=30,
    )
    client.register_client_auth_method(PrivateKeyJWT(token_url))
    tokens = _code_flow(psc, client)
    assert tokens["token_type"] == "Bearer" and tokens["id_token"]
    entries = psc.console.get("/_sandbox/journal", params={"tenant": psc.tenant, "operation": "token"}).json()
    assert entries[0]["details"]["client_auth"] == "private_key_jwt"
    introspected = client.introspect_token(psc.oidc("/token/introspect"), tokens["access_token"])
    assert introspected.json()["active"] is True

    # Keycloak's refusals: a jti serves once, another key, another audience, a secret instead
    introspect = psc.oidc("/token/introspect")
    form = {"token": tokens["access_token"], "client_assertion_type": JWT_BEARER}
    assertion = _assertion(psc.client_id, key, token_url)
    assert psc.https.post(introspect, data={**form, "client_assertion": assertion}).status_code == 200
    replay = psc.https.post(introspect, data={**form, "client_assertion": assertion})
    assert replay.status_code == 400 and replay.json() == {
        "error": "unauthorized_client",
        "error_description": "Client authentication with signed JWT failed: Token reuse detected",
    }
    other = RSAKey.generate_key(2048, parameters={"kid": "lgc-key-1"})
    forged = psc.https.post(
        introspect, data={**form, "client_assertion": _assertion(psc.client_id, other, token_url)}
    )
    assert forged.status_code == 400
    assert forged.json()["error_description"].endswith("Signature on JWT token failed validation")
    elsewhere = psc.https.post(
        introspect, data={**form, "client_assertion": _assertion(psc.client_id, key, "https://x")}
    )
    assert elsewhere.status_code == 400 and "Token audience doesn't match domain" in elsewhere.text
    late = _assertion(psc.client_id, key, token_url, exp=int(time.time()) - 3600)
    assert (
        psc.https.post(introspect, data={**form, "client_assertion": late})
        .json()["error_description"]
        .endswith("Token is not active")
    )
    wrong_type = psc.https.post(
        introspect, data={**form, "client_assertion_type": "x", "client_assertion": assertion}
    )
    assert wrong_type.status_code == 400 and wrong_type.json()["error"] == "invalid_client"
    secret = psc.https.post(introspect, data={"token": "x", "client_id": psc.client_id, "client_secret": "s"})
    assert secret.status_code == 401 and secret.json()["error"] == "unauthorized_client"


def test_client_secret_jwt_with_an_authlib_client_assertion(psc: Psc) -> None:
    secret = "a-client-secret-of-at-least-32-bytes-" + uuid.uuid4().hex
    psc.register(auth_method="client_secret_jwt", secret=secret)
    client = OAuth2Client(
        psc.client_id,
        secret,
        token_endpoint_auth_method="client_secret_jwt",
        verify=psc.runner.sandbox.pki.client_context(),
        timeout=30,
    )
    client.register_client_auth_method(ClientSecretJWT(psc.oidc("/token")))
    tokens = _code_flow(psc, client)
    assert tokens["access_token"] and tokens["refresh_token"]
    refreshed = client.refresh_token(psc.oidc("/token"), refresh_token=tokens["refresh_token"])
    assert refreshed["access_token"] != tokens["access_token"]
    # signed with another secret: refused
    bad = OAuth2Client(
        psc.client_id,
        "another-secret-of-at-least-32-bytes-xxxxxxxx",
        token_endpoint_auth_method="client_secret_jwt",
        verify=psc.runner.sandbox.pki.client_context(),
    )
    bad.register_client_auth_method(ClientSecretJWT(psc.oidc("/token")))
    with pytest.raises(OAuthError) as refused:
        bad.refresh_token(psc.oidc("/token"), refresh_token=refreshed["refresh_token"])
    assert refused.value.error == "unauthorized_client"
    assert refused.value.description.endswith("Signature on JWT token failed validation")


def test_token_exchange_metadata_and_jwks_without_a_client_certificate(psc: Psc) -> None:
    base = psc.runner.url("psc-exchange", "/realms/signsessiondata")
    with httpx.Client(verify=psc.runner.sandbox.pki.client_context(), timeout=30) as anonymous:
        certs = anonymous.get(base + "/protocol/openid-connect/certs")
        meta = anonymous.get(base + "/.well-known/openid-configuration")
    assert certs.status_code == 200 and certs.json()["keys"][0]["alg"] == "RS256"
    assert meta.status_code == 200 and meta.json()["jwks_uri"] == base + "/protocol/openid-connect/certs"


def test_discovery_has_the_real_documents_members_in_its_order(psc: Psc) -> None:
    doc = psc.https.get(psc.issuer + "/.well-known/wallet-openid-configuration").json()
    assert list(doc) == REAL_DISCOVERY
    assert doc["userinfo_encryption_enc_values_supported"][0] == "A256GCM"
    assert doc["authorization_encryption_alg_values_supported"] == ["RSA-OAEP", "RSA-OAEP-256", "RSA1_5"]
    assert doc["id_token_signing_alg_values_supported"][:3] == ["PS384", "RS384", "EdDSA"]


def test_login_page_describes_personas_in_french(psc: Psc) -> None:
    psc.register()
    page = psc.https.get(_auth_url(psc)).text
    labels = dict(re.findall(r'<option value="([^"]+)">([^<]+)</option>', page))
    assert "Médecin, Médecine générale ; e-CPS et carte CPS" in labels[DOCTOR]
    assert "carte CPS révoquée" in labels["810100000057"] and "carte CPS expirée" in labels["810100000065"]
    assert "sans e-CPS" in labels["810100000073"] and labels["810100000024"].count("Pharmacien") == 1
    notes = [p.note for p in psc.runner.sandbox.population.personas()["professionals"] if p.note]
    assert notes and not any(note in page for note in notes)  # the English notes are gone
    assert not re.search(r"\b(GP|magic|employed|pharmacist|hospital)\b", page)


def _styled_french(html: str) -> None:
    assert 'lang="fr"' in html and "<style>" in html and "Pro Santé Connect — bac à sable" in html
    assert not re.search(r"\b(Invalid|not found|Missing|parameter)\b", html), html


def test_error_and_logout_pages_are_styled_and_french(psc: Psc) -> None:
    psc.register()
    unknown = psc.https.get(_auth_url(psc, client_id="nobody"))
    assert unknown.status_code == 400 and "Client inconnu." in unknown.text
    _styled_french(unknown.text)
    bad_hint = psc.https.get(
        psc.oidc("/logout"), params={"id_token_hint": "x"}, headers={"X-Sandbox-Tenant": psc.tenant}
    )
    assert bad_hint.status_code == 400 and "Paramètre invalide : id_token_hint" in bad_hint.text
    _styled_french(bad_hint.text)
    out = psc.https.get(psc.oidc("/logout"), params={"client_id": psc.client_id})
    assert out.status_code == 200 and "Vous êtes déconnecté" in out.text
    _styled_french(out.text)
    missing = psc.https.get(psc.runner.url("psc-wallet", "/nowhere"))
    assert missing.status_code == 404 and "Page non trouvée" in missing.text
    _styled_french(missing.text)


def test_pin_page_shows_the_test_pin_and_the_wait_page_the_console(psc: Psc) -> None:
    psc.register()
    wallet = psc.runner.url("psc-wallet")
    pin = str(psc.runner.sandbox.config["psc_card_pin"])
    with psc.browser() as browser:
        rid = psc.login_form(_auth_url(psc), browser)
        card = browser.post(
            wallet + "/auth/login", data={"request": rid, "national_id": DOCTOR, "method": "card"}
        )
        assert re.search(rf'id="test-pin">{pin}<', card.text), card.text
        rid = psc.login_form(_auth_url(psc), browser)
        r = browser.post(
            wallet + "/auth/login", data={"request": rid, "national_id": DOCTOR, "method": "ecps"}
        )
        waiting = browser.get(urljoin(wallet, r.headers["location"]))
        console = psc.runner.url("console", "/psc")
        assert f'href="{console}" id="console"' in waiting.text
        api = re.search(r'id="approve-api">POST ([^<]+)<', waiting.text)
        assert api and api.group(1) == psc.runner.url("console", f"/_sandbox/psc/pending/{rid}/approve")
        # the API the page names does what it says
        assert psc.console.post(api.group(1), params={"tenant": psc.tenant}).status_code == 200
        done = browser.get(urljoin(wallet, r.headers["location"]))
    assert done.status_code == 302 and "code=" in done.headers["location"]
