"""One vocabulary: every error PSC raises is an entry of its catalogue, every finding a rule of
RULES, every journaled operation in OPERATIONS (read from the source, then checked live in the
journal); the harness's refusals, body cap and crashes in PSC's shapes; the kernel's token trust
(`Psc.verify_token`) on expired, revoked and forged tokens."""

from __future__ import annotations

import ast
import base64
import json
from pathlib import Path

import httpx
import pytest
from joserfc import jws
from joserfc.jwk import RSAKey

from mocks.errors import HttpError, OAuthError
from psc.checks import RULES
from psc.errors import ERRORS
from psc.service import OPERATIONS
from tests.psc.conftest import DOCTOR, REDIRECT, Psc, query

PACKAGE = Path(__file__).resolve().parents[2] / "psc"


def _calls() -> list[tuple[str, str, ast.Call]]:
    """(file, dotted callee, call) of every call in the psc package."""
    found = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                found.append((path.name, ast.unparse(node.func), node))
    return found


def _first_literal(call: ast.Call) -> str | None:
    if call.args and isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, str):
        return call.args[0].value
    return None


def test_every_error_psc_raises_is_a_catalogue_entry() -> None:
    raised = {
        (_first_literal(call), f"{name}:{call.lineno}")
        for name, callee, call in _calls()
        if callee in ("ERRORS.fail", "ERRORS.error")
    }
    assert len(raised) > 40  # the scan sees the endpoints' raises
    assert all(n is not None for n, _ in raised), "a raise names its error with a literal"
    unknown = sorted(where for n, where in raised if n not in ERRORS)
    assert unknown == [], f"names not in psc.errors.ERRORS: {unknown}"
    # no second vocabulary: no OAuth error built outside the catalogue, no stop-gap
    literal = [
        f"{n}:{c.lineno}" for n, callee, c in _calls() if callee.endswith("OAuthError") and n != "errors.py"
    ]
    assert literal == []
    assert "rule_error" not in (PACKAGE / "errors.py").read_text()
    for entry in ERRORS.values():
        assert isinstance(entry, OAuthError | HttpError)
    for name in ("unsupported_grant_type", "invalid_client", "unauthorized_client", "invalid_grant"):
        assert isinstance(ERRORS[name], OAuthError)


def test_every_finding_is_in_rules_and_every_rule_is_used() -> None:
    used = {
        _first_literal(call)
        for _, callee, call in _calls()
        if callee.endswith("findings.add") or callee == "f.add"
    }
    assert used == set(RULES), f"emitted {sorted(used)} vs RULES {sorted(RULES)}"
    for rule in RULES.values():
        assert rule.title and rule.reference


def _operations_in_source() -> set[str]:
    names = set()
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Assign)
                and isinstance(node.value, ast.Constant)
                and ast.unparse(node.targets[0]).endswith(".operation")
            ):
                names.add(node.value.value)
            if isinstance(node, ast.Call) and ast.unparse(node.func) in ("_metadata", "client_request"):
                arg = node.args[-1] if ast.unparse(node.func) == "client_request" else node.args[0]
                if isinstance(arg, ast.Constant):
                    names.add(arg.value)
    return names


def test_operations_list_names_every_journaled_operation(psc: Psc) -> None:
    assert _operations_in_source() == set(OPERATIONS)
    assert len(OPERATIONS) == len(set(OPERATIONS))
    # live: a code flow, userinfo, introspection, revocation, logout, CIBA and metadata
    psc.register()
    psc.auto_approve(0)
    auth = (psc.client_id, psc.secret)
    url = (
        psc.runner.url("psc-wallet", "/auth")
        + "?"
        + str(
            httpx.QueryParams(
                {
                    "client_id": psc.client_id,
                    "redirect_uri": REDIRECT,
                    "response_type": "code",
                    "scope": "openid scope_all",
                    "state": "s",
                }
            )
        )
    )
    code = query(psc.login(url).headers["location"])["code"]
    tokens = psc.https.post(
        psc.oidc("/token"),
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT},
        auth=auth,
    ).json()
    psc.https.get(psc.oidc("/userinfo"), headers={"Authorization": "Bearer " + tokens["access_token"]})
    psc.https.post(psc.oidc("/token/introspect"), data={"token": tokens["access_token"]}, auth=auth)
    psc.https.post(
        psc.oidc("/ext/ciba/auth"), data={"scope": "openid scope_all", "login_hint": DOCTOR}, auth=auth
    )
    psc.https.post(psc.oidc("/revoke"), data={"token": tokens["refresh_token"]}, auth=auth)
    psc.https.get(psc.oidc("/logout"), params={"client_id": psc.client_id})
    psc.https.get(psc.issuer + "/.well-known/openid-configuration", headers={"X-Sandbox-Tenant": psc.tenant})
    journal = psc.console.get(
        "/_sandbox/journal", params={"tenant": psc.tenant, "service": "psc", "limit": 200}
    )
    seen = {e["operation"] for e in journal.json()}
    expected = {
        "authorize",
        "login",
        "ecps-approved",
        "token",
        "userinfo",
        "introspect",
        "ciba",
        "revoke",
        "logout",
        "discovery",
    }
    assert expected <= seen <= set(OPERATIONS), seen
    assert "ecps-wait" not in seen  # the waiting page's refreshes are not journaled


def test_refusals_body_cap_and_crash_in_keycloak_shape(psc: Psc, monkeypatch: pytest.MonkeyPatch) -> None:
    tenant = {"X-Sandbox-Tenant": psc.tenant}
    r = psc.https.get(psc.oidc("/token"), headers=tenant)
    assert r.status_code == 405 and r.json() == {"error": "HTTP 405 Method Not Allowed"}
    assert r.headers["cache-control"] == "no-store"
    r = psc.https.get(psc.oidc("/nowhere"), headers=tenant)
    assert r.status_code == 404 and r.json() == {"error": "Unable to find matching target resource method"}
    # a form over 64 KiB: refused before anything is read past the cap, in Keycloak's JSON
    big = {"grant_type": "refresh_token", "refresh_token": "x" * (70 * 1024)}
    r = psc.https.post(psc.oidc("/token"), data=big, headers=tenant, auth=(psc.client_id, psc.secret))
    assert r.status_code == 413 and r.json() == {"error": "HTTP 413 Request Entity Too Large"}
    r = psc.https.post(
        psc.runner.url("psc-wallet", "/auth/login"), data={"request": "x" * (70 * 1024)}, headers=tenant
    )
    assert r.status_code == 413 and "Requête trop volumineuse." in r.text and 'lang="fr"' in r.text
    journal = psc.console.get("/_sandbox/journal", params={"tenant": psc.tenant, "service": "psc"}).json()
    assert sum(1 for e in journal if e["status"] == 413) == 2
    # a bug of ours: Keycloak's unknown_error with the trace id, never a traceback
    service = psc.runner.sandbox.instances["psc"]

    def boom(name: str) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(service.realm.keys, "jwks", boom)  # type: ignore[attr-defined]
    r = psc.https.get(psc.oidc("/certs"), headers=tenant)
    trace = r.headers["x-sandbox-trace-id"]
    assert r.status_code == 500 and r.json()["error"] == "unknown_error" and trace in r.text
    assert "Traceback" not in r.text


def _forge(token: str, claims_change: dict[str, object], key: RSAKey | None = None) -> str:
    header_b64, payload_b64, _ = token.split(".")
    header = json.loads(base64.urlsafe_b64decode(header_b64 + "=="))
    claims = json.loads(base64.urlsafe_b64decode(payload_b64 + "=="))
    claims.update(claims_change)
    signer = key or RSAKey.generate_key(2048)
    return jws.serialize_compact(header, json.dumps(claims).encode(), signer, algorithms=["RS256"])


def test_verify_token_on_expired_revoked_and_forged_tokens(psc: Psc) -> None:
    psc.register()
    psc.auto_approve(0)
    auth = (psc.client_id, psc.secret)
    trust = psc.runner.sandbox.tokens

    def fresh() -> dict[str, str]:
        rid = psc.https.post(
            psc.oidc("/ext/ciba/auth"),
            data={"scope": "openid scope_all", "login_hint": DOCTOR, "binding_message": "12"},
            auth=auth,
        ).json()["auth_req_id"]
        r = psc.https.post(
            psc.oidc("/token"),
            data={"grant_type": "urn:openid:params:grant-type:ciba", "auth_req_id": rid},
            auth=auth,
        )
        assert r.status_code == 200, r.text
        return dict(r.json())

    tokens = fresh()
    claims = trust.verify(tokens["access_token"], psc.tenant)
    assert claims is not None and claims["SubjectNameID"] == DOCTOR and claims["issued_by"] == "psc"
    assert trust.verify(tokens["access_token"], "default") is None  # another tenant's token
    assert trust.verify(tokens["id_token"], psc.tenant) is None  # an ID token is no bearer token
    assert trust.verify(tokens["refresh_token"], psc.tenant) is None
    # forged: a payload changed under the realm's kid, signed by another key; a bare re-signing
    assert trust.verify(_forge(tokens["access_token"], {"SubjectNameID": "810100000040"}), psc.tenant) is None
    assert trust.verify(_forge(tokens["access_token"], {}), psc.tenant) is None
    head, body, sig = tokens["access_token"].split(".")
    assert trust.verify(f"{head}.{body}.{sig[:-6]}AAAAAA", psc.tenant) is None
    assert trust.verify("not.a.token", psc.tenant) is None and trust.verify("", psc.tenant) is None
    # revoked: revoking the refresh token ends the client's tokens of that session
    assert (
        psc.https.post(psc.oidc("/revoke"), data={"token": tokens["refresh_token"]}, auth=auth).status_code
        == 200
    )
    assert trust.verify(tokens["access_token"], psc.tenant) is None
    # expired on the tenant's clock (120 s)
    later = fresh()
    assert trust.verify(later["access_token"], psc.tenant) is not None
    psc.advance(121)
    assert trust.verify(later["access_token"], psc.tenant) is None
    # the same verdicts through the service object and the control plane's RFC 7662 route
    assert psc.runner.sandbox.instances["psc"].verify_token(later["access_token"], psc.tenant) is None
    r = psc.console.post(
        "/_sandbox/tokens/introspect", params={"tenant": psc.tenant}, data={"token": later["access_token"]}
    )
    assert r.json() == {"active": False}


def test_secrets_stay_out_of_the_journal(psc: Psc) -> None:
    psc.register()
    wallet = psc.runner.url("psc-wallet")
    url = (
        psc.runner.url("psc-wallet", "/auth")
        + "?"
        + str(
            httpx.QueryParams(
                {"client_id": psc.client_id, "redirect_uri": REDIRECT, "response_type": "code", "state": "s"}
            )
        )
    )
    with psc.browser() as browser:
        rid = psc.login_form(url, browser)
        browser.post(wallet + "/auth/login", data={"request": rid, "national_id": DOCTOR, "method": "card"})
        ok = browser.post(wallet + f"/auth/pin/{rid}", data={"pin": "1234"})
    code = query(ok.headers["location"])["code"]
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    psc.https.post(psc.oidc("/token"), data={**form, "client_id": psc.client_id, "client_secret": psc.secret})
    entries = psc.console.get(
        "/_sandbox/journal", params={"tenant": psc.tenant, "service": "psc", "bodies": "true", "limit": 50}
    ).json()
    bodies = {e["operation"]: e["request_body"] or "" for e in entries}
    assert bodies["card-pin"] == "pin=%2A%2A%2A"
    assert "client_secret=%2A%2A%2A" in bodies["token"] and psc.secret not in bodies["token"]
