"""WS-Security / SAML 2.0: the official VIHF examples read into typed assertions, and assertions
signed with the sandbox's own certificates verified with signxml, their signer identified on
the tenant's sandbox clock, with the generic lifetime checks."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from lxml import etree

from mocks import soap
from mocks.pki import Pki, Professional

from .support import request, vihf

ROLE = "urn:oasis:names:tc:xacml:2.0:subject:role"


@pytest.mark.parametrize(
    ("name", "mode", "signed"),
    [
        ("VIHF_DIRECTE_non_signe.xml", "DIRECTE", False),
        ("VIHF_DIRECTE_signe.xml", "DIRECTE", True),
        ("VIHF_INDIRECTE_signe.xml", "INDIRECTE", True),
        ("VIHF_INDIRECTE_RENFORCEE_signe.xml", "INDIRECTE_RENFORCEE", True),
    ],
)
def test_the_official_vihf_examples_are_read(
    examples: Path, pki: Pki, name: str, mode: str, signed: bool
) -> None:
    data = (examples / "Exemples_Jeton_VIHF" / name).read_bytes()
    # the DIRECTE files are ISO-8859-1 without an XML declaration; the others UTF-8
    root = soap.parse_xml(
        data, encoding="iso-8859-1" if "DIRECTE_" in name and "INDIRECTE" not in name else None
    )
    a = soap.read_assertion(root, pki=pki)
    assert a.version == "2.0" and a.id and a.id.startswith("_")
    assert a.issuer_format == "urn:oasis:names:tc:SAML:1.1:nameid-format:X509SubjectName"
    assert (
        a.name_id == "899900063480" and a.issue_instant is not None and a.issue_instant.year in (2019, 2020)
    )
    assert a.value("Authentification_mode") == mode and a.value("VIHF_Version") == "3.0"
    assert a.value("Ressource_URN") == "urn:dmp"
    roles = a.attribute(ROLE)
    assert roles is not None and [r.get("code") for r in roles.children()] == ["10", "SM26"]
    assert a.authn is not None and a.authn.class_ref == "urn:oasis:names:tc:SAML:2.0:ac:classes:SmartcardPKI"
    assert a.signed is signed
    problems = [p.code for p in soap.check_assertion(a, a.issue_instant, require_signature=True)]
    if not signed:
        assert a.signature is None and problems == ["not-signed"]
        return
    # what the official signed files are worth: their signatures do not verify any more (the
    # examples were edited after signing: the SignedInfo signature holds, the assertion digest
    # does not), and the DIRECTE one carries a GIP-CPS certificate that is not valid DER
    assert a.signature is not None and not a.signature.valid and problems == ["signature-invalid"]
    if "INDIRECTE" in name:
        assert a.signature.reason == "invalid" and "Digest mismatch for reference 0" in a.signature.message
    else:
        assert a.signature.reason == "no_certificate"


def test_a_sandbox_signed_vihf_is_verified_and_its_signer_identified(
    pki: Pki, professional: Professional
) -> None:
    now = pki.sandbox.now()
    creds = pki.credentials(professional, "cps_sign")
    a = soap.read_assertion(vihf(pki, creds, now), pki=pki)
    assert a.signature is not None and a.signature.valid, a.signature
    signer = a.signature.signer
    assert signer is not None and (signer.kind, signer.status, signer.persona) == (
        "cps_sign",
        "valid",
        professional.id_nat,
    )
    assert a.signature.signature_method.endswith("rsa-sha256")
    assert (
        a.not_before is not None
        and soap.check_assertion(a, now, require_signature=True, lifetime=timedelta(hours=1)) == []
    )
    # signed with the card's authentication certificate: a valid signature, the service decides
    auth = soap.read_assertion(vihf(pki, pki.credentials(professional, "cps_auth"), now), pki=pki)
    assert auth.signature is not None and auth.signature.valid and auth.signature.signer is not None
    assert auth.signature.signer.kind == "cps_auth"


def test_tampering_and_wrapping_are_invalid_signatures(pki: Pki, professional: Professional) -> None:
    now = pki.sandbox.now()
    signed = vihf(pki, pki.credentials(professional, "cps_sign"), now)
    name_id = signed.find(".//{urn:oasis:names:tc:SAML:2.0:assertion}NameID")
    name_id.text = "899900099999"  # another professional, after signing
    a = soap.read_assertion(signed, pki=pki)
    assert a.signature is not None and not a.signature.valid and a.signature.reason == "invalid"
    assert [p.code for p in soap.check_assertion(a, now)] == ["signature-invalid"]
    # a valid signature of another assertion, moved into this one: it does not sign this ID
    other = vihf(pki, pki.credentials(professional, "cps_sign"), now)
    victim = vihf(pki, None, now)
    victim.insert(1, other.find("{http://www.w3.org/2000/09/xmldsig#}Signature"))
    victim.append(other)  # the signed element travels along (signature wrapping)
    wrapped = soap.read_assertion(victim, pki=pki)
    assert wrapped.signature is not None and wrapped.signature.reason in ("reference", "invalid")
    assert not wrapped.signature.valid


def test_signer_and_lifetime_on_the_tenant_clock(
    pki: Pki, professional: Professional, tenant: str, ctl: httpx.Client
) -> None:
    now = pki.sandbox.now()
    creds = pki.credentials(professional, "cps_sign")
    assertion = vihf(pki, creds, now)
    env = soap.parse_envelope(request(assertion, "<x/>", "urn:a"))
    security = soap.read_security(env, pki=pki, tenant=tenant)
    assert security is not None and security.assertion is not None
    assert security.assertion.signature is not None and security.assertion.signature.signer is not None
    assert security.assertion.signature.signer.status == "valid"
    # four years later on this tenant's clock: the 3-year certificate has expired, the assertion is old
    later = now + timedelta(days=4 * 365)
    resp = ctl.put("/clock", params={"tenant": tenant}, json={"mode": "frozen", "at": later.isoformat()})
    assert resp.status_code == 200, resp.text
    security = soap.read_security(env, pki=pki, tenant=tenant)
    assert security is not None and security.assertion is not None
    problems = soap.check_assertion(security.assertion, pki.sandbox.now(tenant), lifetime=timedelta(hours=2))
    assert [p.code for p in problems] == ["too-old", "signer-expired"]
    # expired, revoked and foreign signers on the default clock
    expired = pki.issue(professional, "cps_sign", "expired")
    problems = soap.check_assertion(soap.read_assertion(vihf(pki, expired, now), pki=pki), now)
    assert [p.code for p in problems] == ["signer-expired"]
    revoked = pki.issue(professional, "cps_sign")
    pki.revoke(revoked.serial)
    problems = soap.check_assertion(soap.read_assertion(vihf(pki, revoked, now), pki=pki), now)
    assert [p.code for p in problems] == ["signer-revoked"]
    # the same bytes verified again (their cryptographic verdict is cached): the signer is judged anew
    later_revoked = pki.issue(professional, "cps_sign")
    reused = vihf(pki, later_revoked, now)
    assert soap.check_assertion(soap.read_assertion(reused, pki=pki), now) == []
    pki.revoke(later_revoked.serial)
    problems = soap.check_assertion(soap.read_assertion(reused, pki=pki), now)
    assert [p.code for p in problems] == ["signer-revoked"]
    future = soap.read_assertion(vihf(pki, None, now + timedelta(hours=1)))
    assert [p.code for p in soap.check_assertion(future, now)] == ["issued-in-future", "not-yet-valid"]


def test_security_header_parts() -> None:
    wsse = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
    wsu = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
    xml = (
        '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Header>'
        f'<wsse:Security xmlns:wsse="{wsse}" xmlns:wsu="{wsu}" s:mustUnderstand="true">'
        "<wsu:Timestamp><wsu:Created>2026-01-01T10:00:00Z</wsu:Created><wsu:Expires>2026-01-01T10:05:00Z</wsu:Expires></wsu:Timestamp>"
        "<wsse:BinarySecurityToken>AAAA</wsse:BinarySecurityToken></wsse:Security></s:Header><s:Body/></s:Envelope>"
    )
    security = soap.read_security(soap.parse_envelope(xml.encode()))
    assert security is not None and security.assertion is None and security.must_understand is True
    assert security.created is not None and security.expires is not None
    assert security.expires - security.created == timedelta(minutes=5)
    assert security.others == (f"{{{wsse}}}BinarySecurityToken",)
    assert (
        soap.read_security(
            soap.parse_envelope(
                b'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body/></s:Envelope>'
            )
        )
        is None
    )
    assert etree is not None
