"""MSSanté integration fixtures: the shared in-process sandbox, a fresh tenant per test bound to
a fresh PSC client id (the mail session's tenant is the one bound to the token's `azp`), real PSC
access tokens obtained through the PSC login pages, TLS contexts trusting the TEST roots, and
the demo personas' mailboxes."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import OAuth2Client

from mocks.runner import Runner
from tests.psc.conftest import REDIRECT, Psc

DOCTOR = "810100000016"  # LEMAIRE Camille, GP, e-CPS, works at the CDS des Lilas
DOCTOR_BAL = "camille.lemaire@medecin.mssante.fr"
DOCTOR_CDS_BAL = "camille.lemaire@cds-lilas.mssante.fr"
COLLEAGUE = "810100000040"  # DIALLO Moussa, CDS des Lilas
COLLEAGUE_BAL = "moussa.diallo@cds-lilas.mssante.fr"
PHARMACIST_BAL = "linh.nguyen@pharmacien.mssante.fr"
CDS = "1750000010"  # CENTRE DE SANTE DES LILAS
CDS_ORG = "secretariat@cds-lilas.mssante.fr"
CDS_APP = "lgc@cds-lilas.mssante.fr"
CITIZEN_TEST = "citoyen.test@patient.mssante.fr"


@dataclass
class Mss:
    runner: Runner
    psc: Psc

    @property
    def tenant(self) -> str:
        return self.psc.tenant

    @property
    def host(self) -> str:
        return "localhost"

    def port(self, listener: str) -> int:
        return self.runner.sandbox.port(listener)

    def context(self, **kwargs: Any) -> Any:
        """A client TLS context trusting the TEST roots (optionally with a persona's certificate)."""
        return self.runner.sandbox.pki.client_context(**kwargs)

    def token(self, national_id: str = DOCTOR) -> str:
        """A real PSC access token for `national_id` (authorization code flow, e-CPS auto-approved)."""
        discovery = self.psc.https.get(self.psc.issuer + "/.well-known/wallet-openid-configuration").json()
        client = OAuth2Client(
            self.psc.client_id,
            self.psc.secret,
            scope="openid scope_all",
            redirect_uri=REDIRECT,
            code_challenge_method="S256",
            verify=self.context(),
            timeout=30,
        )
        verifier = generate_token(48)
        url, _ = client.create_authorization_url(
            discovery["authorization_endpoint"], code_verifier=verifier, nonce=generate_token(16)
        )
        back = self.psc.login(url, national_id)
        token = client.fetch_token(
            discovery["token_endpoint"],
            authorization_response=back.headers["location"],
            code_verifier=verifier,
        )
        return str(token["access_token"])

    def control(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        params = {"tenant": self.tenant, **kwargs.pop("params", {})}
        return self.psc.console.request(method, "/_sandbox/mss" + path, params=params, **kwargs)

    def messages(self, address: str, folder: str | None = None) -> list[dict[str, Any]]:
        params = {"folder": folder} if folder else {}
        r = self.control("GET", f"/mailboxes/{address}/messages", params=params)
        assert r.status_code == 200, r.text
        return list(r.json()["messages"])

    def journal(self, **params: Any) -> list[dict[str, Any]]:
        r = self.psc.console.get(
            "/_sandbox/journal", params={"tenant": self.tenant, "service": "mss", **params}
        )
        assert r.status_code == 200, r.text
        data = r.json()
        return list(data["entries"] if isinstance(data, dict) else data)

    def fault(self, **rule: Any) -> None:
        r = self.psc.console.post(
            "/_sandbox/faults", params={"tenant": self.tenant}, json={"service": "mss", **rule}
        )
        assert r.status_code in (200, 201), r.text


@pytest.fixture
def mss(running_sandbox: Runner, console: httpx.Client) -> Iterator[Mss]:
    tenant = "mss-" + uuid.uuid4().hex[:10]
    client_id = "lgc-" + uuid.uuid4().hex[:10]
    r = console.post("/_sandbox/tenants", json={"id": tenant, "bindings": [client_id]})
    assert r.status_code in (200, 201), r.text
    with httpx.Client(verify=running_sandbox.sandbox.pki.client_context(), timeout=30) as https:
        psc = Psc(running_sandbox, console, tenant, client_id, "s3cret-" + client_id, https)
        psc.register()
        psc.auto_approve(0)
        yield Mss(running_sandbox, psc)
    console.delete(f"/_sandbox/tenants/{tenant}")


def xoauth2(user: str, token: str) -> str:
    return f"user={user}\x01auth=Bearer {token}\x01\x01"


# -- part 2: the APP mailbox of the CDS des Lilas (its ORG AUTH_CLI certificate), in a tenant of
# its own (the session's tenant is the one bound to the certificate's serial)
PATIENT = "demo-girard-sophie"  # GIRARD Sophie, qualified INS 284057505641289
PATIENT_INS = "284057505641289"
HOSPITAL_BAL = "hugo.fontaine@ch-tours-sandbox.mssante.fr"
LAB_ORG = "biologie@ch-tours-sandbox.mssante.fr"


@dataclass
class App:
    runner: Runner
    console: httpx.Client
    tenant: str

    @property
    def sandbox(self) -> Any:
        return self.runner.sandbox

    def smtp(self) -> Any:
        import smtplib

        s = smtplib.SMTP("localhost", self.runner.sandbox.port("mss-smtp"), timeout=30)
        s.starttls(context=self.sandbox.pki.client_context(CDS, "org_auth_cli"))
        s.ehlo("lgc.example")
        return s

    def send(self, raw: bytes, to: list[str], mail_from: str = CDS_APP, **options: Any) -> Any:
        with self.smtp() as s:
            return s.sendmail(mail_from, to, raw, **options)

    def control(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        params = {"tenant": self.tenant, **kwargs.pop("params", {})}
        return self.console.request(method, "/_sandbox/mss" + path, params=params, **kwargs)

    def messages(self, address: str, folder: str | None = "INBOX") -> list[dict[str, Any]]:
        params = {"folder": folder} if folder else {}
        r = self.control("GET", f"/mailboxes/{address}/messages", params=params)
        assert r.status_code == 200, r.text
        return list(r.json()["messages"])

    def stored(self, address: str, message_id: str) -> dict[str, Any]:
        found = [m for m in self.messages(address) if m["message_id"] == message_id]
        assert len(found) == 1, f"{message_id} in {address}: {len(found)}"
        return found[0]

    def findings(self, address: str, message_id: str) -> list[dict[str, Any]]:
        return list(self.stored(address, message_id)["envelope"]["checks"])

    def wait_for(self, address: str, predicate: Any, timeout: float = 10.0) -> dict[str, Any]:
        import time

        deadline = time.monotonic() + timeout
        while True:
            for m in self.messages(address):
                if predicate(m):
                    return m
            assert time.monotonic() < deadline, f"nothing matched in {address}"
            time.sleep(0.05)

    def eml(self, message: int) -> bytes:
        r = self.control("GET", f"/messages/{message}/eml")
        assert r.status_code == 200, r.text
        return r.content

    def qualify(self, ins: str = PATIENT_INS) -> None:
        """The fact INSi records on a CR 00 (the 13-character matricule)."""
        self.sandbox.evidence.append(self.tenant, "ins.qualified", ins[:13], {"ins": ins[:13], "via": "insi"})

    def document(
        self, kind: str = "ldl", patient: str = PATIENT, to: list[str] | None = None, **kwargs: Any
    ) -> Any:
        from datetime import datetime

        from mssante.samples import Actor, Recipient, generate

        pop = self.sandbox.population
        author = Actor.of(pop.professional(COLLEAGUE), pop.structure(CDS))
        recipients = [Recipient(a) for a in (to or [HOSPITAL_BAL])]
        now = datetime.now().astimezone().replace(microsecond=0)
        return generate(
            kind, patient=pop.patient(patient), author=author, recipients=recipients, now=now, **kwargs
        )


@pytest.fixture(scope="module")
def app(running_sandbox: Runner, console: httpx.Client) -> Iterator[App]:
    serial = running_sandbox.sandbox.pki.credentials(CDS, "org_auth_cli").serial
    tenant = "mssx-" + uuid.uuid4().hex[:10]
    r = console.post("/_sandbox/tenants", json={"id": tenant, "bindings": [serial]})
    assert r.status_code in (200, 201), r.text
    found = App(running_sandbox, console, tenant)
    found.qualify()
    yield found
    console.delete(f"/_sandbox/tenants/{tenant}")
