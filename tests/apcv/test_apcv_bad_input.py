"""Bad input gets a SOAP 1.2 fault with the catalogue code (never a traceback), and loses nothing
already stored: the context created first is still there at the end. Every catalogue entry can be
triggered by a fault rule; a bug of ours answers ERREUR_INTERNE_SERVEUR with the trace id."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from lxml import etree

from apcv.errors import ERRORS
from mocks.runner import Runner
from tests.apcv.support import (
    AUTH,
    CT,
    S11,
    S12,
    assertion,
    auth_action,
    authentifier_body,
    detruire_body,
    envelope,
    fault_code,
    payload,
    restituer_body,
)

OP = auth_action("authentifierUtilisateurProximite")
A = f"{{{AUTH}}}"


@pytest.fixture
def context(post: Callable[..., httpx.Response], qr_of: Callable[..., str], cps: Any) -> str:
    r = post(envelope(authentifier_body(qr_of("demo-girard-sophie")), OP, assertion(cps)))
    assert r.status_code == 200, r.text
    return str(payload(r.content).findtext(f"{A}ContexteApCV/{A}Identifiant"))


def _fault(r: httpx.Response) -> etree._Element:
    assert r.status_code == 500, r.text
    assert r.headers["content-type"].startswith("application/soap+xml")
    fault = payload(r.content)
    assert fault.tag == f"{{{S12}}}Fault"
    return fault


def test_bad_inputs_get_catalogue_faults_and_lose_nothing(
    post: Callable[..., httpx.Response],
    qr_of: Callable[..., str],
    console: httpx.Client,
    tenant: str,
    cps: Any,
    context: str,
) -> None:
    def code(data: bytes, content_type: str = CT) -> str:
        r = post(data, content_type)
        _fault(r)
        return fault_code(r.content)

    # Donnees: empty, garbage, altered, of another tenant
    assert code(envelope(authentifier_body(""), OP, assertion(cps))) == "QR_INVALIDE"
    assert code(envelope(authentifier_body("n'importe quoi"), OP, assertion(cps))) == "QR_INVALIDE"
    good = qr_of("demo-girard-sophie")
    altered = good[:-3] + ("AAA" if not good.endswith("AAA") else "BBB")
    assert code(envelope(authentifier_body(altered), OP, assertion(cps))) == "QR_INVALIDE"
    elsewhere = qr_of("demo-girard-sophie", tenant_id="default")
    r = post(envelope(authentifier_body(elsewhere), OP, assertion(cps)))
    assert fault_code(r.content) == "QR_INVALIDE" and "autre environnement" in r.text
    # a QR replayed after its context was destroyed
    code_used = qr_of("demo-girard-sophie")
    made = post(envelope(authentifier_body(code_used), OP, assertion(cps)))
    ident = payload(made.content).findtext(f"{A}ContexteApCV/{A}Identifiant")
    assert (
        post(
            envelope(detruire_body(str(ident)), auth_action("detruireContexteApCV"), assertion(cps))
        ).status_code
        == 200
    )
    assert code(envelope(authentifier_body(code_used), OP, assertion(cps))) == "QR_DEJA_UTILISE"
    # an expired QR (the tenant's clock moves on)
    stale = qr_of("demo-girard-sophie")
    assert (
        console.post("/_sandbox/clock/advance", params={"tenant": tenant}, json={"seconds": 121}).status_code
        == 200
    )
    later = datetime.now(UTC) + timedelta(seconds=121)
    assert code(envelope(authentifier_body(stale), OP, assertion(cps, issue_instant=later))) == "QR_EXPIRE"
    # the envelope: no ContexteLPS, unsigned or expired assertion, SOAP 1.1, garbage, unknown body
    assert (
        code(
            envelope(
                authentifier_body(qr_of("demo-girard-sophie")),
                OP,
                assertion(cps, issue_instant=later),
                with_lps=False,
            )
        )
        == "REQUETE_INVALIDE"
    )
    assert (
        code(envelope(restituer_body(), auth_action("restituerContexteApCV"), assertion(cps, signed=False)))
        == "ASSERTION_INVALIDE"
    )
    old = later - timedelta(hours=2)
    assert (
        code(
            envelope(
                restituer_body(), auth_action("restituerContexteApCV"), assertion(cps, issue_instant=old)
            )
        )
        == "ASSERTION_INVALIDE"
    )
    soap11 = envelope(restituer_body(), auth_action("restituerContexteApCV"), assertion(cps), soap_ns=S11)
    r = post(soap11, "text/xml; charset=utf-8")
    fault = _fault(r)
    assert fault.findtext(f"{{{S12}}}Code/{{{S12}}}Value") == "soap:VersionMismatch"
    assert fault_code(r.content) == "VERSION_SOAP"
    upgrade = etree.fromstring(r.content).find(f"{{{S12}}}Header/{{{S12}}}Upgrade/{{{S12}}}SupportedEnvelope")
    assert upgrade is not None and upgrade.get("qname") == "ns1:Envelope"
    assert code(b"not xml at all") == "REQUETE_INVALIDE"
    assert (
        code(
            b'<!DOCTYPE x [<!ENTITY e "e">]><soap:Envelope xmlns:soap="'
            + S12.encode()
            + b'"><soap:Body/></soap:Envelope>'
        )
        == "REQUETE_INVALIDE"
    )
    assert (
        code(envelope("<Autre xmlns='urn:x'/>", OP, assertion(cps, issue_instant=later)))
        == "REQUETE_INVALIDE"
    )
    assert (
        code(
            envelope(
                f'<DetruireContexteApCVReq version="1.0" xmlns="{AUTH}"/>',
                OP,
                assertion(cps, issue_instant=later),
            )
        )
        == "REQUETE_INVALIDE"
    )
    # nothing lost: the first context restores (the clock moved 121 s, within its 1800 s)
    back = post(
        envelope(restituer_body(), auth_action("restituerContexteApCV"), assertion(cps, issue_instant=later))
    )
    assert back.status_code == 200, back.text
    ids = [c["id"] for c in console.get("/_sandbox/apcv/contexts", params={"tenant": tenant}).json()]
    assert context in ids


def test_harness_refusals_in_the_service_shape(
    http: httpx.Client, apcv_url: str, running_sandbox: Runner
) -> None:
    r = http.get(apcv_url)
    assert r.status_code == 405 and fault_code(r.content) == "REQUETE_INVALIDE"
    big = http.post(
        apcv_url, content=b"<x>" + b"a" * (1024 * 1024 + 10) + b"</x>", headers={"Content-Type": CT}
    )
    assert big.status_code == 413 and fault_code(big.content) == "REQUETE_INVALIDE"
    assert (
        http.post(
            running_sandbox.url("apcv", "/ailleurs"), content=b"", headers={"Content-Type": CT}
        ).status_code
        == 404
    )
    wsdl = http.get(apcv_url + "?wsdl")
    assert wsdl.status_code == 200 and b"ApCV_AUTH" in wsdl.content


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_every_catalogue_entry_by_fault_rule(
    name: str,
    post: Callable[..., httpx.Response],
    qr_of: Callable[..., str],
    console: httpx.Client,
    tenant: str,
    cps: Any,
) -> None:
    rule = {"service": "apcv", "operation": "authentifierUtilisateurProximite", "error": name, "times": 1}
    assert console.post("/_sandbox/faults", params={"tenant": tenant}, json=rule).status_code == 201
    r = post(envelope(authentifier_body(qr_of("demo-girard-sophie")), OP, assertion(cps)))
    if name == "61441":  # the administrative data, without context
        assert r.status_code == 200 and payload(r.content).findtext(f"{A}CodeRetour") == "61441"
        return
    fault = _fault(r)
    assert fault_code(r.content) == name
    entry = ERRORS[name]
    assert fault.findtext(f"{{{S12}}}Code/{{{S12}}}Value") == f"soap:{entry.code}"
    assert fault.findtext(f"{{{S12}}}Code/{{{S12}}}Subcode/{{{S12}}}Value") == f"soap:{entry.subcode}"


def test_a_bug_of_ours_is_erreur_interne_serveur(
    post: Callable[..., httpx.Response],
    qr_of: Callable[..., str],
    running_sandbox: Runner,
    cps: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    flow: Any = running_sandbox.sandbox.instances["apcv"].flow  # type: ignore[attr-defined]

    def broken(*args: Any) -> Any:
        raise RuntimeError("a bug of ours")

    monkeypatch.setattr(flow, "_data", broken)
    r = post(envelope(authentifier_body(qr_of("demo-girard-sophie")), OP, assertion(cps)))
    fault = _fault(r)
    assert fault_code(r.content) == "ERREUR_INTERNE_SERVEUR"
    assert "sandbox trace" in (fault.findtext(f"{{{S12}}}Reason/{{{S12}}}Text") or "")
    assert "Traceback" not in r.text
