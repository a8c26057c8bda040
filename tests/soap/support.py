"""Helpers of the SOAP kit tests: a VIHF-shaped SAML assertion signed like an LGC signs it
(signxml, exc-c14n, rsa-sha256, enveloped, Signature right after Issuer: research dmp.md §2.1),
and SOAP requests that carry it."""

from __future__ import annotations

import uuid
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from lxml import etree
from signxml import XMLSigner
from signxml.algorithms import CanonicalizationMethod

from mocks.pki import Credentials, Pki

SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
DS = "http://www.w3.org/2000/09/xmldsig#"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSA = "http://www.w3.org/2005/08/addressing"
S12 = "http://www.w3.org/2003/05/soap-envelope"


def vihf(
    pki: Pki,
    creds: Credentials | None,
    issued: datetime,
    *,
    mode: str = "DIRECTE",
    name_id: str = "899900063480",
) -> etree._Element:
    """A VIHF 3.0 assertion issued at `issued`, signed with `creds` (None: unsigned)."""
    ident = "_" + str(uuid.uuid4())
    issuer = "CN=unsigned"
    if creds is not None:
        der = x509.load_pem_x509_certificate(creds.cert_pem).public_bytes(serialization.Encoding.DER)
        issuer = pki.identify(der).saml_name
    stamp = issued.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    root = etree.fromstring(
        f'<saml2:Assertion xmlns:saml2="{SAML}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ID="{ident}" IssueInstant="{stamp}" Version="2.0">'
        f'<saml2:Issuer Format="urn:oasis:names:tc:SAML:1.1:nameid-format:X509SubjectName">{issuer}</saml2:Issuer>'
        f"<saml2:Subject><saml2:NameID>{name_id}</saml2:NameID></saml2:Subject>"
        f'<saml2:Conditions NotBefore="{stamp}"/>'
        f'<saml2:AuthnStatement AuthnInstant="{stamp}"><saml2:AuthnContext><saml2:AuthnContextClassRef>'
        "urn:oasis:names:tc:SAML:2.0:ac:classes:SmartcardPKI</saml2:AuthnContextClassRef></saml2:AuthnContext></saml2:AuthnStatement>"
        "<saml2:AttributeStatement>"
        f'<saml2:Attribute Name="Authentification_mode"><saml2:AttributeValue>{mode}</saml2:AttributeValue></saml2:Attribute>'
        '<saml2:Attribute Name="urn:oasis:names:tc:xacml:2.0:subject:role">'
        '<saml2:AttributeValue><Role xmlns="urn:hl7-org:v3" code="10" codeSystem="1.2.250.1.71.1.2.7" xsi:type="CE"/></saml2:AttributeValue>'
        '<saml2:AttributeValue><Role xmlns="urn:hl7-org:v3" code="SM26" codeSystem="1.2.250.1.71.4.2.5" xsi:type="CE"/></saml2:AttributeValue>'
        "</saml2:Attribute>"
        '<saml2:Attribute Name="VIHF_Version"><saml2:AttributeValue>3.0</saml2:AttributeValue></saml2:Attribute>'
        "</saml2:AttributeStatement></saml2:Assertion>"
    )
    if creds is None:
        return root
    signer = XMLSigner(c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0)
    signed = signer.sign(root, key=creds.key_pem, cert=creds.cert_pem.decode(), reference_uri=ident)
    signature = signed.find(f"{{{DS}}}Signature")
    signed.remove(signature)
    signed.insert(1, signature)
    return signed


def request(assertion: etree._Element | None, body: str, action: str, message_id: str | None = None) -> bytes:
    """A SOAP 1.2 request with WS-Addressing and the assertion in wsse:Security."""
    security = (
        f'<wsse:Security xmlns:wsse="{WSSE}">{etree.tostring(assertion).decode()}</wsse:Security>'
        if assertion is not None
        else ""
    )
    mid = message_id or f"urn:uuid:{uuid.uuid4()}"
    return (
        f'<soap:Envelope xmlns:soap="{S12}"><soap:Header>'
        f'<MessageID xmlns="{WSA}">{mid}</MessageID><To xmlns="{WSA}"/>'
        f'<ReplyTo soap:mustUnderstand="true" xmlns="{WSA}"><Address>{WSA}/anonymous</Address></ReplyTo>'
        f'<Action soap:mustUnderstand="true" xmlns="{WSA}">{action}</Action>{security}'
        f"</soap:Header><soap:Body>{body}</soap:Body></soap:Envelope>"
    ).encode()
