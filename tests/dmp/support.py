"""Helpers of the DMP tests: personas, a VIHF built and signed as an LGC does (signxml, exc-c14n,
rsa-sha256, enveloped, Signature right after Issuer), the official example requests re-keyed to
our personas and VIHF, and a structural comparison of answers with the official responses."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from lxml import etree
from signxml import XMLSigner
from signxml.algorithms import CanonicalizationMethod

from mocks.pki import Credentials, Pki

SPECS = Path(__file__).resolve().parents[2].parent / "shared" / "specs" / "dmp"
EXAMPLES = SPECS / "examples"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
DS = "http://www.w3.org/2000/09/xmldsig#"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
S12 = "http://www.w3.org/2003/05/soap-envelope"
XSI = "http://www.w3.org/2001/XMLSchema-instance"

# personas (docs/personas.md): Dr Camille LEMAIRE (GP, SM54) at her cabinet, her patient Sophie GIRARD
GP = "810100000016"
GP_STRUCTURE = "410100000016001"
CENTRE = "1750000010"  # CENTRE DE SANTE DES LILAS (SA05), where Dr LEMAIRE also works
NURSE = "0756012340"
PATIENT = "284057505641289"  # SOPHIE GIRARD, open DMP, médecin traitant Dr LEMAIRE
CLOSED = "242083726103567"  # JEANNE PETIT, DMP closed
TEST_OID = "1.2.250.1.213.1.4.10"
CT = "application/soap+xml; charset=UTF-8"


def issuer_of(pki: Pki, creds: Credentials) -> str:
    der = x509.load_pem_x509_certificate(creds.cert_pem).public_bytes(serialization.Encoding.DER)
    return pki.identify(der).saml_name


def attr(name: str, value: str) -> str:
    return (
        f'<saml2:Attribute Name="{name}"><saml2:AttributeValue xmlns:xs="http://www.w3.org/2001/XMLSchema" '
        f'xsi:type="xs:string">{value}</saml2:AttributeValue></saml2:Attribute>'
    )


def vihf(
    issued: datetime,
    *,
    signer: Credentials | None = None,
    pki: Pki | None = None,
    mode: str = "DIRECTE",
    name_id: str = GP,
    structure: str = GP_STRUCTURE,
    secteur: str = "SA07",
    profession: str = "10",
    specialty: str | None = "SM54",
    ins: str | None = PATIENT,
    oid: str = TEST_OID,
    purpose: str = "normal",
    mode_name: str = "Authentification_mode",
    homologation: str | None = "SEGUR-SANDBOX-TEST",
    lps_id: bool = True,
    extra: str = "",
    issuer: str | None = None,
    signature_algorithm: str = "rsa-sha256",
) -> etree._Element:
    """A VIHF 3.0 like the official examples (attribute order included)."""
    ident = "_" + str(uuid.uuid4())
    stamp = issued.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    if issuer is None:
        issuer = (
            issuer_of(pki, signer) if signer is not None and pki is not None else f"CN={name_id},O=TEST,C=FR"
        )
    roles = f'<saml2:AttributeValue><Role xmlns="urn:hl7-org:v3" code="{profession}" codeSystem="1.2.250.1.71.1.2.7" displayName="Médecin" xsi:type="CE"/></saml2:AttributeValue>'
    if specialty:
        roles += f'<saml2:AttributeValue><Role xmlns="urn:hl7-org:v3" code="{specialty}" codeSystem="1.2.250.1.71.4.2.5" displayName="Spécialité" xsi:type="CE"/></saml2:AttributeValue>'
    parts = [
        attr("Identifiant_Structure", structure),
        attr("Secteur_Activite", f"{secteur}^1.2.250.1.71.4.2.4"),
        f'<saml2:Attribute Name="urn:oasis:names:tc:xacml:2.0:subject:role">{roles}</saml2:Attribute>',
        attr("VIHF_Version", "3.0"),
        attr(mode_name, mode),
    ]
    if mode != "DIRECTE":
        parts.append(attr("urn:oasis:names:tc:xspa:1.0:subject:subject-id", "CAMILLE LEMAIRE"))
    if ins:
        parts.append(
            attr("urn:oasis:names:tc:xacml:2.0:resource:resource-id", f"{ins}^^^&amp;{oid}&amp;ISO^NH")
        )
    parts.append(attr("Ressource_URN", "urn:dmp"))
    parts.append(
        '<saml2:Attribute Name="urn:oasis:names:tc:xspa:1.0:subject:purposeofuse"><saml2:AttributeValue>'
        f'<PurposeOfUse xmlns="urn:hl7-org:v3" code="{purpose}" codeSystem="1.2.250.1.213.1.1.4.248" '
        'codeSystemName="mode acces VIHF 2.0" displayName="Accès" xsi:type="CE"/></saml2:AttributeValue></saml2:Attribute>'
    )
    if lps_id:
        parts.append(attr("LPS_ID", "01.01.01.01"))
    parts += [attr("LPS_Nom", "LGC SEGUR TEST"), attr("LPS_Version", "1")]
    if homologation:
        parts.append(attr("LPS_ID_HOMOLOGATION_DMP", homologation))
    root = etree.fromstring(
        f'<saml2:Assertion xmlns:saml2="{SAML}" xmlns:xsi="{XSI}" ID="{ident}" IssueInstant="{stamp}" Version="2.0">'
        f'<saml2:Issuer Format="urn:oasis:names:tc:SAML:1.1:nameid-format:X509SubjectName">{issuer}</saml2:Issuer>'
        f"<saml2:Subject><saml2:NameID>{name_id}</saml2:NameID></saml2:Subject>"
        f'<saml2:AuthnStatement AuthnInstant="{stamp}"><saml2:AuthnContext><saml2:AuthnContextClassRef>'
        "urn:oasis:names:tc:SAML:2.0:ac:classes:SmartcardPKI</saml2:AuthnContextClassRef></saml2:AuthnContext></saml2:AuthnStatement>"
        f"<saml2:AttributeStatement>{''.join(parts)}{extra}</saml2:AttributeStatement></saml2:Assertion>"
    )
    if signer is None:
        return root
    digest = "sha1" if signature_algorithm == "rsa-sha1" else "sha256"
    xml_signer = XMLSigner(
        signature_algorithm=signature_algorithm,
        digest_algorithm=digest,
        c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0,
    )
    if signature_algorithm == "rsa-sha1":
        xml_signer.check_deprecated_methods = lambda: None  # type: ignore[method-assign]
    signed = xml_signer.sign(root, key=creds_key(signer), cert=signer.cert_pem.decode(), reference_uri=ident)
    signature = signed.find(f"{{{DS}}}Signature")
    signed.remove(signature)
    signed.insert(1, signature)
    return signed


def creds_key(creds: Credentials) -> bytes:
    return creds.key_pem


ASSERTION = re.compile(rb"<saml2:Assertion.*?</saml2:Assertion>", re.S)


def rekey(example: str, assertion: etree._Element, replacements: dict[str, str] | None = None) -> bytes:
    """An official request with our VIHF in place of its assertion, a fresh MessageID and the
    official patient replaced by ours."""
    data = (EXAMPLES / example).read_bytes()
    data = ASSERTION.sub(lambda _m: etree.tostring(assertion), data, count=1)
    data = re.sub(rb"urn:uuid:[0-9a-f-]{36}", f"urn:uuid:{uuid.uuid4()}".encode(), data, count=1)
    for old, new in {"207058575627097": PATIENT, **(replacements or {})}.items():
        data = data.replace(old.encode(), new.encode())
    return data


def structure(xml: bytes | etree._Element, *, skip_text: bool = True) -> list[tuple[str, tuple[str, ...]]]:
    """Element paths (Clark names), in document order, with their attribute names: what two
    messages of the same shape share whatever their values."""
    root = etree.fromstring(xml) if isinstance(xml, bytes) else xml
    out = []
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        path = "/".join(etree.QName(a).localname for a in reversed(list(el.iterancestors())))
        out.append(
            (f"{path}/{{{etree.QName(el).namespace}}}{etree.QName(el).localname}", tuple(sorted(el.attrib)))
        )
    return out


def declarations(xml: bytes) -> list[tuple[str, list[tuple[str | None, str]]]]:
    """(element, namespace declarations made on it) for the envelope, Body and payload root."""
    root = etree.fromstring(xml)
    out = []
    body = root.find(f"{{{S12}}}Body")
    for el in (root, body, body[0] if body is not None and len(body) else None):
        if el is None:
            continue
        parent = el.getparent()
        inherited = dict(parent.nsmap) if parent is not None else {}
        own = [(p, ns) for p, ns in el.nsmap.items() if inherited.get(p) != ns]
        out.append((etree.QName(el).localname, sorted(own, key=lambda x: x[0] or "")))
    return out


def fault_of(xml: bytes) -> dict[str, Any]:
    root = etree.fromstring(xml)
    ns = {"s": S12}
    return {
        "code": root.findtext(".//s:Fault/s:Code/s:Value", namespaces=ns),
        "subcode": root.findtext(".//s:Fault/s:Code/s:Subcode/s:Value", namespaces=ns),
        "reason": root.findtext(".//s:Fault/s:Reason/s:Text", namespaces=ns),
    }
