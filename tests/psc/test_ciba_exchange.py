"""CIBA in poll mode (Keycloak wording of every polling answer) and the RFC 8693 token exchange
at the national APIs' authorization server, bound to the ORG certificate (`cnf.x5t#S256`)."""

from __future__ import annotations

import base64
import hashlib

import httpx
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.psc.conftest import DOCTOR, NO_ECPS, STRUCTURE, Psc

PENDING = "The authorization request is still pending as the end-user hasn't yet been authenticated."
CIBA = "urn:openid:params:grant-type:ciba"
EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"


def _ciba(psc: Psc, login_hint: str = DOCTOR, channel: str = "MOBILE") -> httpx.Response:
    return psc.https.post(
        psc.oidc("/ext/ciba/auth"),
        data={
            "scope": "openid scope_all",
            "acr_values": "eidas1",
            "login_hint": login_hint,
            "binding_message": "42",
            "channel": channel,
        },
        auth=(psc.client_id, psc.secret),
    )


def _poll(psc: Psc, auth_req_id: str) -> httpx.Response:
    return psc.https.post(
        psc.oidc("/token"),
        data={"grant_type": CIBA, "auth_req_id": auth_req_id},
        auth=(psc.client_id, psc.secret),
    )


def test_ciba_pending_slow_down_then_approved_on_the_phone(psc: Psc) -> None:
    psc.register()
    started = _ciba(psc)
    assert started.status_code == 200, started.text
    body = started.json()
    assert set(body) == {"auth_req_id", "expires_in", "interval"} and body["expires_in"] == 120
    rid = body["auth_req_id"]
    first = _poll(psc, rid)
    assert first.status_code == 400 and first.json() == {
        "error": "authorization_pending",
        "error_description": PENDING,
    }
    fast = _poll(psc, rid)
    assert fast.status_code == 400 and fast.json()["error"] == "slow_down"
    pending = psc.control("GET", "/pending").json()
    assert [(p["id"], p["kind"], p["binding_message"]) for p in pending] == [(rid, "ciba", "42")]
    phone = psc.https.post(
        psc.runner.url("psc-wallet", f"/auth/telephone/{rid}"), data={"decision": "approve"}
    )
    assert phone.status_code == 200 and "validée" in phone.text
    psc.advance(6)
    done = _poll(psc, rid)
    assert done.status_code == 200, done.text
    tokens = done.json()
    jwks = KeySet.import_key_set(psc.https.get(psc.oidc("/certs")).json())
    claims = jwt.decode(tokens["id_token"], jwks, algorithms=["RS256"]).claims
    assert claims["SubjectNameID"] == DOCTOR and claims["authMode"] == "MOBILE"
    assert tokens["session_state"] and tokens["refresh_token"]
    assert _poll(psc, rid).json()["error"] == "invalid_grant"  # an auth_req_id serves once


def test_ciba_refused_expired_and_no_ecps(psc: Psc) -> None:
    psc.register()
    refused = _ciba(psc).json()["auth_req_id"]
    assert psc.control("POST", f"/pending/{refused}/refuse").status_code == 200
    r = _poll(psc, refused)
    assert r.status_code == 400 and r.json() == {
        "error": "access_denied",
        "error_description": "not authorized",
    }
    no_ecps = _ciba(psc, NO_ECPS).json()["auth_req_id"]
    assert _poll(psc, no_ecps).json()["error"] == "access_denied"
    late = _ciba(psc).json()["auth_req_id"]
    psc.advance(121)
    r = _poll(psc, late)
    assert r.status_code == 400 and r.json() == {
        "error": "expired_token",
        "error_description": "authentication timed out",
    }
    unknown = _ciba(psc, "899999999999")
    assert unknown.status_code == 400 and unknown.json()["error"] == "unknown_user_id"


def test_ciba_refused_for_a_client_without_the_grant(psc: Psc) -> None:
    psc.register(grant_types=["authorization_code"])
    r = _ciba(psc)
    assert r.status_code == 400
    assert r.json() == {
        "error": "unauthorized_client",
        "error_description": "Client not allowed OIDC CIBA Grant",
    }


def _psc_access_token(psc: Psc) -> str:
    psc.auto_approve(0)
    rid = _ciba(psc).json()["auth_req_id"]
    r = _poll(psc, rid)
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


def test_token_exchange_binds_the_certificate(psc: Psc) -> None:
    pki = psc.runner.sandbox.pki
    org = pki.credentials(STRUCTURE, "org_auth_cli")
    psc.register()
    psc.register(
        psc.client_id + "-api",
        auth_method="tls_client_auth",
        tls_subject=org.subject,
        secret="",
        grant_types=[EXCHANGE],
        redirect_uris=[],
    )
    subject_token = _psc_access_token(psc)
    url = psc.runner.url("psc-exchange", "/realms/signsessiondata/protocol/openid-connect/token")
    form = {
        "grant_type": EXCHANGE,
        "subject_token": subject_token,
        "subject_token_type": "urn:ietf:params:oauth:token-type:access_token",
        "scope": "openid",
        "subject_issuer": "psc",
    }
    # the certificate is not bound to the test's tenant: the tenant header chooses it
    tenant = {"X-Sandbox-Tenant": psc.tenant}
    with httpx.Client(verify=pki.client_context(STRUCTURE, "org_auth_cli"), timeout=30, headers=tenant) as c:
        r = c.post(url, data=form)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["issued_token_type"] == "urn:ietf:params:oauth:token-type:access_token"
        assert body["token_type"] == "Bearer"
        assert body["refresh_expires_in"] == 1800  # as the EDC AS sample (research psc.md 2.9)
        jwks = KeySet.import_key_set(c.get(url.replace("/token", "/certs")).json())
        bad = c.post(url, data={**form, "subject_token": subject_token[:-4] + "AAAA"})
        assert bad.status_code == 400 and bad.json()["error"] == "invalid_token"
    claims = jwt.decode(body["access_token"], jwks, algorithms=["RS256"]).claims
    der = x509.load_pem_x509_certificate(org.cert_pem).public_bytes(Encoding.DER)
    expected = base64.urlsafe_b64encode(hashlib.sha256(der).digest()).rstrip(b"=").decode()
    assert claims["cnf"] == {"x5t#S256": expected}
    assert claims["SubjectNameID"] == DOCTOR and claims["azp"] == psc.client_id + "-api"
    # an unregistered structure's certificate is not mapped to a client
    with httpx.Client(
        verify=pki.client_context("1370000028", "org_auth_cli"), timeout=30, headers=tenant
    ) as c:
        r = c.post(url, data=form)
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"
    # no client certificate: the handshake succeeds (the AS's JWKS is public, as a Keycloak
    # realm's), the token endpoint refuses, and the token's signature checks without one
    with httpx.Client(verify=pki.client_context(), timeout=30, headers=tenant) as c:
        r = c.post(url, data=form)
        assert r.status_code == 401 and r.json() == {
            "error": "unauthorized_client",
            "error_description": "Client certificate missing, or its subject DN not valid (absent)",
        }
        public = KeySet.import_key_set(c.get(url.replace("/token", "/certs")).json())
    assert jwt.decode(body["access_token"], public, algorithms=["RS256"]).claims["cnf"] == claims["cnf"]
    # the PSC access token expires after 120 s on the tenant's clock
    psc.advance(121)
    with httpx.Client(verify=pki.client_context(STRUCTURE, "org_auth_cli"), timeout=30, headers=tenant) as c:
        assert c.post(url, data=form).json()["error"] == "invalid_token"
