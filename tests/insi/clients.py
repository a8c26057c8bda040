"""Clients of the INSi service as an LGC builds them: zeep from the official WSDL (offline), the
SOAP headers, an assertion PS signed with a CPS signature certificate."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
from lxml import etree
from signxml import XMLSigner
from zeep import Client, Settings
from zeep.transports import Transport

from mocks.pki import Professional, Structure
from tests.insi.support import WSDL, validate_answer

STRUCTURE = Structure("10B0152872", "CENTRE DE SANTE RPPS15287", "Rhône (69)")


PROFESSIONAL = Professional("00B6087510", "OLIVIER", "INFIRMCS ADELI8751", "60")


SAML = "urn:oasis:names:tc:SAML:2.0:assertion"


CT = "application/soap+xml; charset=utf-8"


WSA_XSD = b"""<?xml version="1.0"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:tns="http://www.w3.org/2005/08/addressing"
  targetNamespace="http://www.w3.org/2005/08/addressing" elementFormDefault="qualified">
 <xs:complexType name="AttributedURIType"><xs:simpleContent><xs:extension base="xs:anyURI">
  <xs:anyAttribute namespace="##other" processContents="lax"/></xs:extension></xs:simpleContent></xs:complexType>
 <xs:element name="MessageID" type="tns:AttributedURIType"/>
 <xs:element name="Action" type="tns:AttributedURIType"/>
</xs:schema>"""


class OfflineTransport(Transport):
    def load(self, url: str) -> bytes:
        if url.startswith("http://www.w3.org/2006/03/addressing/ws-addr.xsd"):
            return WSA_XSD
        return bytes(super().load(url))


def write_creds(folder: Path, name: str, creds: Any) -> tuple[str, str]:
    cert, key = folder / f"{name}.crt.pem", folder / f"{name}.key.pem"
    cert.write_bytes(creds.cert_pem)
    key.write_bytes(creds.key_pem)
    return str(cert), str(key)


VALIDATED: list[int] = []  # answers checked against the official XSDs (so a test can see it happened)


def _validated(response: requests.Response, *args: Any, **kwargs: Any) -> None:
    """Every answer a zeep client receives from the sandbox validates against the official XSDs."""
    if response.request.method == "POST":
        validate_answer(response.content)
        VALIDATED.append(response.status_code)


def zeep_client(url: str, ca: str, cert: tuple[str, str] | None, tenant: str | None = None) -> Client:
    session = requests.Session()
    session.trust_env = False  # REQUESTS_CA_BUNDLE would override session.verify
    session.verify = ca
    if cert:
        session.cert = cert
    if tenant:
        session.headers["X-Sandbox-Tenant"] = tenant
    session.hooks["response"].append(_validated)
    client = Client(str(WSDL), transport=OfflineTransport(session=session), settings=Settings(strict=True))
    return client.create_service("{http://www.cnamts.fr/webservice}ICIRServiceBinding", url)


def soap_headers(
    operation: str = "rechercherInsAvecTraitsIdentite",
    idam: str = "TESTSGIE0000",
    emetteur: str = "10B0152872",
    message_id: str | None = None,
    assertion: etree._Element | None = None,
) -> list[etree._Element]:
    """The SOAP headers an LGC sends (ContexteBAM, ContexteLPS, wsa:Action, wsa:MessageID, wsse:Security)."""
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    bam = etree.fromstring(
        f'<ctxbam:ContexteBAM xmlns:ctxbam="urn:siram:bam:ctxbam" Version="01_02"><ctxbam:Id>{uuid.uuid4()}'
        f"</ctxbam:Id><ctxbam:Temps>{now}</ctxbam:Temps><ctxbam:Emetteur>{emetteur}</ctxbam:Emetteur>"
        "<ctxbam:COUVERTURE/></ctxbam:ContexteBAM>"
    )
    lps = etree.fromstring(
        f'<ctxlps:ContexteLPS xmlns:ctxlps="urn:siram:lps:ctxlps" Nature="CTXLPS" Version="01_00"><ctxlps:Id>'
        f"{uuid.uuid4()}</ctxlps:Id><ctxlps:Temps>{now}</ctxlps:Temps><ctxlps:Emetteur>{emetteur}</ctxlps:Emetteur>"
        f'<ctxlps:LPS><ctxlps:IDAM R="4">{idam}</ctxlps:IDAM><ctxlps:Version>1.0.0</ctxlps:Version>'
        "<ctxlps:Instance>0c3a5b8e-1d7f-4a51-9a55-2f3f4f1d9e10</ctxlps:Instance>"
        "<ctxlps:Nom>urn:lps:SEGURTEST:1.0.0</ctxlps:Nom></ctxlps:LPS></ctxlps:ContexteLPS>"
    )
    wsa = "http://www.w3.org/2005/08/addressing"
    action = etree.Element(f"{{{wsa}}}Action", nsmap={"wsa": wsa})
    action.text = f"urn:ServiceIdentiteCertifiee:1.0.0:{operation}"
    mid = etree.Element(f"{{{wsa}}}MessageID", nsmap={"wsa": wsa})
    mid.text = message_id or f"uuid:{uuid.uuid4()}"
    headers = [bam, lps, action, mid]
    if assertion is not None:
        wsse = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
        security = etree.Element(f"{{{wsse}}}Security", nsmap={"wsse": wsse})
        security.append(assertion)
        headers.append(security)
    return headers


def sign_assertion(
    creds: Any, name_id: str = PROFESSIONAL.id_nat, issue_instant: datetime | None = None
) -> etree._Element:
    """An assertion PS as padoa / ABAK build it, signed with the CPS signature certificate."""
    ident = f"_{uuid.uuid4()}"
    instant = (issue_instant or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    assertion = etree.fromstring(
        f'<saml2:Assertion xmlns:saml2="{SAML}" ID="{ident}" IssueInstant="{instant}" Version="2.0">'
        '<saml2:Issuer Format="urn:oasis:names:tc:SAML:1.1:nameid-format:X509SubjectName">'
        f"CN={PROFESSIONAL.id_nat},T=Infirmier,C=FR</saml2:Issuer>"
        f'<saml2:Subject><saml2:NameID NameQualifier="CPS">{name_id}</saml2:NameID></saml2:Subject>'
        '<saml2:AttributeStatement><saml2:Attribute Name="identifiantFacturation"><saml2:AttributeValue>'
        '123456789</saml2:AttributeValue></saml2:Attribute><saml2:Attribute Name="secteurActivite">'
        "<saml2:AttributeValue>SA07</saml2:AttributeValue></saml2:Attribute></saml2:AttributeStatement>"
        "</saml2:Assertion>"
    )
    signer = XMLSigner(
        signature_algorithm="rsa-sha256",
        digest_algorithm="sha256",
        c14n_algorithm="http://www.w3.org/2001/10/xml-exc-c14n#",
    )
    signed = signer.sign(assertion, key=creds.key_pem, cert=creds.cert_pem.decode(), reference_uri=ident)
    # the SAML schema wants ds:Signature right after Issuer (the enveloped transform ignores its place)
    sig = signed.find("{http://www.w3.org/2000/09/xmldsig#}Signature")
    signed.remove(sig)
    signed.insert(1, sig)
    return signed
