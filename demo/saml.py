"""The SAML 2.0 assertions the professional's software signs with the CPS signature key (signxml,
exclusive C14N, RSA-SHA256, `ds:Signature` right after `Issuer` as SAML's schema wants):

- the "assertion PS" of INSi's CPx mode and of ApCV (docs/services/insi.md "CPx",
  docs/services/apcv.md; research insi.md §2.2): `NameID NameQualifier="CPS"` = idNat_PS,
  attributes `identifiantFacturation`, `secteurActivite`;
- the DMP's VIHF 3.0 (docs/services/dmp.md; research dmp.md §2.1): structure, secteur, the two
  roles (profession + specialty), the patient's INS as resource-id, purpose of use, LPS ids.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from cryptography import x509
from lxml import etree
from signxml import XMLSigner

from demo.cast import Cast
from demo.pki import Credential

SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
DS = "http://www.w3.org/2000/09/xmldsig#"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def sign(assertion: etree._Element, signer: Credential) -> etree._Element:
    """Enveloped XML-DSig of the assertion (Reference URI = #ID), then Signature moved after Issuer."""
    signed = XMLSigner(
        signature_algorithm="rsa-sha256", digest_algorithm="sha256", c14n_algorithm=EXC_C14N
    ).sign(
        assertion, key=signer.key_pem(), cert=signer.cert_pem().decode(), reference_uri=assertion.get("ID")
    )
    signature = signed.find(f"{{{DS}}}Signature")
    signed.remove(signature)
    signed.insert(1, signature)
    return signed


def security(assertion: etree._Element) -> etree._Element:
    header = etree.Element(f"{{{WSSE}}}Security", nsmap={"wsse": WSSE})
    header.append(assertion)
    return header


def _attr(parent: etree._Element, name: str, value: str) -> None:
    attribute = etree.SubElement(parent, f"{{{SAML}}}Attribute", Name=name)
    etree.SubElement(attribute, f"{{{SAML}}}AttributeValue").text = value


def assertion_ps(cast: Cast, signer: Credential) -> etree._Element:
    """The CPx "assertion PS": who the professional is, signed with her CPS signature key."""
    ident = f"_{uuid.uuid4()}"
    a = etree.Element(
        f"{{{SAML}}}Assertion", nsmap={"saml2": SAML}, ID=ident, IssueInstant=now(), Version="2.0"
    )
    issuer = etree.SubElement(
        a, f"{{{SAML}}}Issuer", Format="urn:oasis:names:tc:SAML:1.1:nameid-format:X509SubjectName"
    )
    issuer.text = f"CN={cast.professional}"
    subject = etree.SubElement(a, f"{{{SAML}}}Subject")
    etree.SubElement(subject, f"{{{SAML}}}NameID", NameQualifier="CPS").text = cast.professional
    statement = etree.SubElement(a, f"{{{SAML}}}AttributeStatement")
    _attr(statement, "identifiantFacturation", cast.billing_id)
    _attr(statement, "secteurActivite", cast.secteur)
    return sign(a, signer)


def _role(parent: etree._Element, tag: str, code: str, system: str, display: str = "") -> None:
    value = etree.SubElement(parent, f"{{{SAML}}}AttributeValue")
    el = etree.SubElement(
        value, f"{{urn:hl7-org:v3}}{tag}", nsmap={None: "urn:hl7-org:v3"}, code=code, codeSystem=system
    )
    if display:
        el.set("displayName", display)
    el.set(f"{{{XSI}}}type", "CE")


def rfc2253(cert: x509.Certificate) -> str:
    """The signer's DN as the CI-SIS wants it in Issuer: RFC 2253, `ST=`, `GN=`, `SN=`, `T=`."""
    return cert.subject.rfc4514_string({x509.NameOID.SURNAME: "SN", x509.NameOID.TITLE: "T"})


def vihf(cast: Cast, ins: str, oid: str, signer: Credential | None) -> etree._Element:
    """The VIHF 3.0 of a direct-mode (CPS) call about patient `ins` (INS with its key, 15 chars)."""
    ident = f"_{uuid.uuid4()}"
    instant = now()
    a = etree.Element(
        f"{{{SAML}}}Assertion",
        nsmap={"saml2": SAML, "xsi": XSI},
        ID=ident,
        IssueInstant=instant,
        Version="2.0",
    )
    issuer = etree.SubElement(
        a, f"{{{SAML}}}Issuer", Format="urn:oasis:names:tc:SAML:1.1:nameid-format:X509SubjectName"
    )
    issuer.text = rfc2253(signer.certificate()) if signer else f"CN={cast.professional}"
    subject = etree.SubElement(a, f"{{{SAML}}}Subject")
    etree.SubElement(subject, f"{{{SAML}}}NameID").text = cast.professional
    authn = etree.SubElement(a, f"{{{SAML}}}AuthnStatement", AuthnInstant=instant)
    ref = etree.SubElement(
        etree.SubElement(authn, f"{{{SAML}}}AuthnContext"), f"{{{SAML}}}AuthnContextClassRef"
    )
    ref.text = "urn:oasis:names:tc:SAML:2.0:ac:classes:SmartcardPKI"
    st = etree.SubElement(a, f"{{{SAML}}}AttributeStatement")
    _attr(st, "Identifiant_Structure", cast.structure)
    _attr(st, "Secteur_Activite", f"{cast.secteur}^1.2.250.1.71.4.2.4")
    roles = etree.SubElement(st, f"{{{SAML}}}Attribute", Name="urn:oasis:names:tc:xacml:2.0:subject:role")
    _role(roles, "Role", cast.profession, "1.2.250.1.71.1.2.7", "Médecin")
    _role(roles, "Role", cast.specialty, "1.2.250.1.71.4.2.5")
    _attr(st, "VIHF_Version", "3.0")
    _attr(st, "Authentification_mode", "DIRECTE")
    _attr(st, "urn:oasis:names:tc:xacml:2.0:resource:resource-id", f"{ins}^^^&{oid}&ISO^NH")
    _attr(st, "Ressource_URN", "urn:dmp")
    purpose = etree.SubElement(
        st, f"{{{SAML}}}Attribute", Name="urn:oasis:names:tc:xspa:1.0:subject:purposeofuse"
    )
    _role(purpose, "PurposeOfUse", "normal", "1.2.250.1.213.1.1.4.248", "Accès normal")
    _attr(st, "LPS_ID", "1")
    _attr(st, "LPS_Nom", cast.lps_name)
    _attr(st, "LPS_Version", cast.lps_version)
    _attr(st, "LPS_ID_HOMOLOGATION_DMP", cast.homologation)
    return sign(a, signer) if signer else a
