"""What exists today, over real sockets, turns its requirements green: an LGC calls INSi over
mutual TLS with a structure's INSI-AUTO certificate and over CPx with a signed assertion PS
(httpx), and a professional logs in with Pro Santé Connect (authlib's OAuth2 client, the wallet's
login pages, UserInfo, logout). A scenario run started first is woken by the exchange.

The scripted LGC flow that reaches the three balance thresholds (INSi → DMP feeds → MSSanté
sends) needs DMP part 2 and MSSanté part 2; its scaffolding runs on synthetic facts in
test_balance.py until then."""

from __future__ import annotations

import ssl
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import OAuth2Client
from lxml import etree

from mocks.runner import Runner
from tests.insi.clients import PROFESSIONAL, STRUCTURE, sign_assertion
from tests.insi.support import request_xml
from tests.psc.conftest import LOGOUT_TARGET, REDIRECT, Psc

SOAP = "application/soap+xml; charset=utf-8"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"


def test_insi_mtls_and_cpx_turn_ins50_and_ins53_green(running_sandbox: Runner, console: httpx.Client, tenant: str,
                                                      tmp_path: Path) -> None:  # fmt: skip
    pki = running_sandbox.sandbox.pki
    ca = tmp_path / "ca.pem"
    ca.write_bytes(pki.ca_bundle())
    auto = pki.credentials(STRUCTURE, "insi_auto")
    (tmp_path / "auto.crt").write_bytes(auto.cert_pem)
    (tmp_path / "auto.key").write_bytes(auto.key_pem)
    mtls = ssl.create_default_context(cafile=str(ca))
    mtls.load_cert_chain(str(tmp_path / "auto.crt"), str(tmp_path / "auto.key"))
    headers = {"Content-Type": SOAP, "X-Sandbox-Tenant": tenant}

    run = console.post(
        "/_sandbox/scenarios/INS.53/runs", params={"tenant": tenant}, json={"persona": STRUCTURE.id_nat}
    )
    assert run.status_code == 201, run.text
    result: dict = {}
    waiter = threading.Thread(target=lambda: result.update(
        console.get(run.json()["href"], params={"tenant": tenant, "wait": 30}).json()))  # fmt: skip
    waiter.start()
    with httpx.Client(verify=mtls, timeout=30) as client:
        answer = client.post(running_sandbox.url("insi", "/lps"), content=request_xml(), headers=headers)
    assert answer.status_code == 200 and b"<CodeCR>00</CodeCR>" in answer.content.replace(b"ns2:", b"")
    waiter.join()
    assert result["state"] == "passed" and result["observations"][0]["fields"]["caller"].startswith(
        "CN=INSI-AUTO"
    )

    board = {
        r["id"]: r
        for r in console.get("/_sandbox/scoreboard", params={"tenant": tenant}).json()["requirements"]
    }
    assert board["INS.53"]["status"] == "PASS", board["INS.53"]
    assert board["INS.50"]["status"] == "NOT_OBSERVED"
    entry = next(
        link["href"] for link in board["INS.53"]["evidence"] if link["href"].startswith("/_sandbox/journal/")
    )
    assert console.get(entry).json()["details"]["mode"] == "mtls"

    assertion = sign_assertion(pki.credentials(PROFESSIONAL, "cps_sign"))
    security = f'<wsse:Security xmlns:wsse="{WSSE}">{etree.tostring(assertion).decode()}</wsse:Security>'
    body = request_xml(emetteur=PROFESSIONAL.id_nat, security=security)
    with httpx.Client(verify=ssl.create_default_context(cafile=str(ca)), timeout=30) as client:
        answer = client.post(running_sandbox.url("insi-cpx", "/lps"), content=body, headers=headers)
    assert answer.status_code == 200, answer.text
    req = console.get("/_sandbox/scoreboard/requirements/INS.50", params={"tenant": tenant}).json()
    assert req["status"] == "PASS" and req["green"], req
    # the evidence INSi wrote on the CR 00 is in the balance's world too (links to the persona)
    facts = console.get("/_sandbox/evidence", params={"tenant": tenant, "kind": "ins.qualified"}).json()
    assert {f["data"]["auth_mode"] for f in facts} == {"mtls", "cpx"}


@pytest.fixture
def psc(running_sandbox: Runner, console: httpx.Client) -> Iterator[Psc]:
    """As tests/psc/conftest.py's: a fresh tenant bound to a fresh client id."""
    tenant, client_id = "psc-" + uuid.uuid4().hex[:10], "lgc-" + uuid.uuid4().hex[:10]
    console.post("/_sandbox/tenants", json={"id": tenant, "bindings": [client_id]}).raise_for_status()
    with httpx.Client(verify=running_sandbox.sandbox.pki.client_context(), timeout=30) as https:
        yield Psc(running_sandbox, console, tenant, client_id, "s3cret-" + client_id, https)
    console.delete(f"/_sandbox/tenants/{tenant}")


def test_psc_login_userinfo_logout_turns_psc01_green(psc: Psc) -> None:
    psc.register()
    psc.auto_approve(0)
    board = "/_sandbox/scoreboard/requirements/PSC.01"
    assert psc.console.get(board, params={"tenant": psc.tenant}).json()["status"] == "NOT_OBSERVED"
    discovery = psc.https.get(psc.issuer + "/.well-known/wallet-openid-configuration").json()
    client = OAuth2Client(psc.client_id, psc.secret, scope="openid scope_all", redirect_uri=REDIRECT,
                          code_challenge_method="S256", verify=psc.runner.sandbox.pki.client_context(), timeout=30)  # fmt: skip
    verifier = generate_token(64)
    url, _ = client.create_authorization_url(discovery["authorization_endpoint"], code_verifier=verifier,
                                             nonce=generate_token(16))  # fmt: skip
    location = psc.login(url).headers["location"]
    token = client.fetch_token(
        discovery["token_endpoint"], authorization_response=location, code_verifier=verifier
    )
    assert client.get(discovery["userinfo_endpoint"]).status_code == 200
    partial = psc.console.get(board, params={"tenant": psc.tenant}).json()
    assert partial["status"] == "NOT_OBSERVED" and [p["status"] for p in partial["parts"]] == [
        "PASS",
        "PASS",
        "NOT_OBSERVED",
    ]
    out = psc.https.get(discovery["end_session_endpoint"],
                        params={"id_token_hint": token["id_token"], "post_logout_redirect_uri": LOGOUT_TARGET})  # fmt: skip
    assert out.status_code == 302
    req = psc.console.get(board, params={"tenant": psc.tenant}).json()
    assert req["status"] == "PASS" and req["automation"] == "partial", req
    assert all(p["evidence"] for p in req["parts"])


def test_a_client_aborting_on_the_expired_certificate_turns_mss07_green(running_sandbox: Runner, console: httpx.Client,
                                                                        tmp_path: Path) -> None:  # fmt: skip
    """MSSanté's TLS test endpoint with an expired IGC-Santé certificate: smtplib verifying the chain
    (as an LGC must, ECO.1.1.x) aborts the STARTTLS handshake. The endpoint journals it in the
    default tenant (a handshake names no tenant)."""
    import smtplib

    ca = tmp_path / "ca.pem"
    ca.write_bytes(running_sandbox.sandbox.pki.ca_bundle())
    port = running_sandbox.sandbox.port("mss-test-smtp-expired")
    with smtplib.SMTP("localhost", port, timeout=30) as smtp:
        smtp.ehlo()
        with pytest.raises(ssl.SSLError):
            smtp.starttls(context=ssl.create_default_context(cafile=str(ca)))
    deadline = 50
    req: dict = {}
    for _ in range(deadline):  # the endpoint journals from its event loop, just after the handshake
        req = console.get("/_sandbox/scoreboard/requirements/MSS.07", params={"tenant": "default"}).json()
        if req["status"] == "PASS":
            break
        console.get("/_sandbox/journal/wait", params={"tenant": "default", "service": "mss", "timeout": 0.2})
    assert req["status"] == "PASS", req
    assert console.get(req["evidence"][0]["href"]).json()["outcome"] == "handshake aborted by client"
