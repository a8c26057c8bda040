"""XML signatures made with the sandbox's credentials, as an LGC makes them (the INSi AssertionPS
shape of the public padoa fixture: exc-c14n, rsa-sha256, sha256, enveloped), verified by
`Pki.verify_xml_signature`."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from lxml import etree
from signxml import XMLSigner
from signxml.algorithms import CanonicalizationMethod

from mocks.pki import Credentials, Pki, Professional, Structure
from mocks.pki.xmlsig import SignatureInvalid

SAML = "urn:oasis:names:tc:SAML:2.0:assertion"


def assertion_ps(pki: Pki, creds: Credentials) -> bytes:
    """A signed AssertionPS: Issuer = the card's DN as Java prints it, NameID = idNat_PS."""
    ident = "_" + str(uuid.uuid4())
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    cert = x509.load_pem_x509_certificate(creds.cert_pem)
    der = cert.public_bytes(serialization.Encoding.DER)
    issuer_text = pki.identify(der).saml_name
    root = etree.fromstring(
        f'<Assertion xmlns="{SAML}" ID="{ident}" IssueInstant="2026-01-01T10:00:00.000Z" Version="2.0">'
        f'<Issuer Format="urn:oasis:names:tc:SAML:1.1:nameid-format:X509SubjectName">{issuer_text}</Issuer>'
        f'<Subject><NameID NameQualifier="CPS">{creds.persona}</NameID></Subject>'
        '<AttributeStatement><Attribute Name="identifiantFacturation"><AttributeValue>123456789</AttributeValue>'
        "</Attribute></AttributeStatement></Assertion>"
    )
    signer = XMLSigner(c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0)
    signed = signer.sign(root, key=creds.key_pem, cert=creds.cert_pem.decode(), reference_uri=ident)
    # like the padoa fixture: Signature right after Issuer
    signature = signed.find("{http://www.w3.org/2000/09/xmldsig#}Signature")
    signed.remove(signature)
    signed.insert(1, signature)
    return bytes(etree.tostring(signed))


def test_a_cps_signed_assertion_is_verified_and_identified(pki: Pki, professional: Professional) -> None:
    creds = pki.credentials(professional, "cps_sign")
    result = pki.verify_xml_signature(assertion_ps(pki, creds))
    assert result.caller.kind == "cps_sign"
    assert result.caller.status == "valid"
    assert result.caller.persona == professional.id_nat
    # one multi-valued RDN {GN, CN, SN} (DER order), then title and country, as Java prints them
    rdn, title, country = result.caller.saml_name.split(",")
    assert sorted(rdn.split("+")) == sorted(["2.5.4.42=OLIVIER", f"CN={professional.id_nat}", "SN=INFIRMCS"])
    assert (title, country) == ("T=Infirmier", "C=FR")
    assert result.signature_method == "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
    assert result.c14n_method == "http://www.w3.org/2001/10/xml-exc-c14n#"
    assert result.signed.tag == f"{{{SAML}}}Assertion"


def test_a_structure_signature_is_identified_as_org_sign(pki: Pki, structure: Structure) -> None:
    creds = pki.credentials(structure, "org_sign")
    result = pki.verify_xml_signature(assertion_ps(pki, creds).decode())
    assert (result.caller.kind, result.caller.persona) == ("org_sign", structure.id_nat)


def test_tampered_assertion_is_rejected(pki: Pki, professional: Professional) -> None:
    creds = pki.credentials(professional, "cps_sign")
    xml = assertion_ps(pki, creds).replace(b"123456789", b"987654321")
    with pytest.raises(SignatureInvalid) as err:
        pki.verify_xml_signature(xml)
    assert err.value.reason == "invalid"


def test_unsigned_and_malformed_documents(pki: Pki) -> None:
    with pytest.raises(SignatureInvalid) as err:
        pki.verify_xml_signature(f'<Assertion xmlns="{SAML}" ID="_1"/>'.encode())
    assert err.value.reason == "missing"
    with pytest.raises(SignatureInvalid) as err:
        pki.verify_xml_signature(b"<Assertion")
    assert err.value.reason == "malformed"


def test_signer_status_follows_the_tenant_clock_and_revocation(pki: Pki, professional: Professional) -> None:
    creds = pki.issue(professional, "cps_sign")
    xml = assertion_ps(pki, creds)
    tenant = "xml-" + professional.id_nat
    pki.sandbox.tenants.create(tenant)
    pki.sandbox.clock.set_time(tenant, creds.not_after + timedelta(seconds=1), frozen=True)
    assert pki.verify_xml_signature(xml, tenant).caller.status == "expired"
    pki.revoke(creds.serial)
    assert pki.verify_xml_signature(xml).caller.status == "revoked"


def test_signature_with_a_foreign_key_is_unknown_issuer(pki: Pki, professional: Professional) -> None:
    """Self-signed certificate with a CPS-like subject: the signature verifies, the signer is
    flagged, and the service decides."""
    from datetime import UTC, datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, professional.id_nat)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    root = etree.fromstring(f'<Assertion xmlns="{SAML}" ID="_x" Version="2.0"><Issuer>x</Issuer></Assertion>')
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    signed = XMLSigner().sign(
        root, key=key_pem, cert=cert.public_bytes(serialization.Encoding.PEM).decode(), reference_uri="_x"
    )
    result = pki.verify_xml_signature(etree.tostring(signed))
    assert result.caller.status == "unknown_issuer"
    assert result.caller.kind == "unknown"
