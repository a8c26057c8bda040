"""Test material for ApCV: requests built like the Pyxvital templates (research A1.3: prefixes
`add:` / `oas:` / `urn1:`, ContexteLPS Version 01_00 without Nature), a CPS assertion signed like
INSi's CPx assertion PS (tests/insi/clients.py), and readers of the answers."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from lxml import etree
from signxml import XMLSigner

SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
DS = "http://www.w3.org/2000/09/xmldsig#"
S12 = "http://www.w3.org/2003/05/soap-envelope"
S11 = "http://schemas.xmlsoap.org/soap/envelope/"
WSA = "http://www.w3.org/2005/08/addressing"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
AUTH = "http://www.sesam-vitale.fr/apcv/auth/1/0"
AUTH2 = "http://www.sesam-vitale.fr/apcv/auth/2/0"
SIGN = "http://www.sesam-vitale.fr/apcv/sign/1/0"
SIRAM = "urn:siram"
CT = "application/soap+xml; charset=utf-8"
DOCTOR = "810100000016"  # Dr Camille LEMAIRE (docs/personas.md)
OTHER_DOCTOR = "810100000040"  # Dr Moussa DIALLO
FACTURATION = "101000016"


def assertion(
    creds: Any,
    name_id: str = DOCTOR,
    issue_instant: datetime | None = None,
    *,
    signed: bool = True,
    facturation: str = FACTURATION,
) -> etree._Element:
    """An assertion PS signed with the CPS signature certificate (exc-c14n, rsa-sha256)."""
    ident = f"_{uuid.uuid4()}"
    instant = (issue_instant or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    element = etree.fromstring(
        f'<saml2:Assertion xmlns:saml2="{SAML}" ID="{ident}" IssueInstant="{instant}" Version="2.0">'
        '<saml2:Issuer Format="urn:oasis:names:tc:SAML:1.1:nameid-format:X509SubjectName">'
        f"CN={name_id},C=FR</saml2:Issuer>"
        f'<saml2:Subject><saml2:NameID NameQualifier="CPS">{name_id}</saml2:NameID></saml2:Subject>'
        '<saml2:AttributeStatement><saml2:Attribute Name="identifiantFacturation"><saml2:AttributeValue>'
        f'{facturation}</saml2:AttributeValue></saml2:Attribute><saml2:Attribute Name="secteurActivite">'
        "<saml2:AttributeValue>SA07</saml2:AttributeValue></saml2:Attribute></saml2:AttributeStatement>"
        "</saml2:Assertion>"
    )
    if not signed:
        return element
    signer = XMLSigner(
        signature_algorithm="rsa-sha256",
        digest_algorithm="sha256",
        c14n_algorithm="http://www.w3.org/2001/10/xml-exc-c14n#",
    )
    out = signer.sign(element, key=creds.key_pem, cert=creds.cert_pem.decode(), reference_uri=ident)
    sig = out.find(f"{{{DS}}}Signature")
    out.remove(sig)
    out.insert(1, sig)
    return out


def lps(emetteur: str = DOCTOR, *, idam: str = "TESTSGIE0000") -> str:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return (
        '<urn1:ContexteLPS Version="01_00"><urn1:Id>' + str(uuid.uuid4()) + "</urn1:Id>"
        f"<urn1:Temps>{now}</urn1:Temps><urn1:Emetteur>{emetteur}</urn1:Emetteur><urn1:LPS>"
        f'<urn1:IDAM R="4">{idam}</urn1:IDAM><urn1:Version>1.0.0</urn1:Version>'
        f"<urn1:Instance>1.2.250.1.999.{emetteur}</urn1:Instance><urn1:Nom>urn:lps:SEGURTEST:1.0.0</urn1:Nom>"
        "</urn1:LPS></urn1:ContexteLPS>"
    )


def envelope(
    body: str,
    action: str,
    security: etree._Element | None,
    *,
    with_lps: bool = True,
    message_id: str | None = None,
    soap_ns: str = S12,
) -> bytes:
    """A request shaped like the Pyxvital ApCV templates."""
    sec = f"<oas:Security>{etree.tostring(security).decode()}</oas:Security>" if security is not None else ""
    mid = message_id or f"uuid:{uuid.uuid4()}"
    return (
        f'<soap:Envelope xmlns:soap="{soap_ns}" xmlns:add="{WSA}" xmlns:urn1="urn:siram:lps:ctxlps" xmlns:oas="{WSSE}">'
        f"<soap:Header><add:MessageID>{mid}</add:MessageID><add:Action>{action}</add:Action>{sec}"
        f"{lps() if with_lps else ''}</soap:Header><soap:Body>{body}</soap:Body></soap:Envelope>"
    ).encode()


def authentifier_body(donnees: str | None, *, ns: str = AUTH, version: str = "1.0") -> str:
    don = "" if donnees is None else f"<Donnees>{donnees}</Donnees>"
    return (
        f'<AuthentifierUtilisateurProximiteReq version="{version}" xmlns="{ns}"><ProfessionnelSante>'
        f"<IdentifiantFacturation>{FACTURATION}</IdentifiantFacturation><CodeSpecialiteAMO>01</CodeSpecialiteAMO>"
        f"</ProfessionnelSante>{don}</AuthentifierUtilisateurProximiteReq>"
    )


def restituer_body(ns: str = AUTH) -> str:
    return f'<RestituerContexteApCVReq version="1.0" xmlns="{ns}"></RestituerContexteApCVReq>'


def detruire_body(identifiant: str) -> str:
    return (
        f'<DetruireContexteApCVReq version="1.0" xmlns="{AUTH}"><ContexteApCV><Identifiant>{identifiant}'
        "</Identifiant></ContexteApCV></DetruireContexteApCVReq>"
    )


def signer_body(
    identifiant: str, nir_assure: str, cle: str, nom: str, prenom: str, nir_certifie: str = ""
) -> str:
    cert = f'<NIRCertifie cle="">{nir_certifie}</NIRCertifie>' if nir_certifie else ""
    return (
        f'<SignerVitaleReq version="1.0" xmlns="{SIGN}"><ContexteApCV><Identifiant>{identifiant}</Identifiant>'
        f'</ContexteApCV><Facture type="FSE"><NIRAssure cle="{cle}">{nir_assure}</NIRAssure>'
        "<DonneeFSE>3q2+7wAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=</DonneeFSE></Facture><ResumeFacture>"
        f"<ProfessionnelSante><IdentifiantFacturation>{FACTURATION}</IdentifiantFacturation><IdNatPS>{DOCTOR}"
        f"</IdNatPS><Nom>LEMAIRE CAMILLE</Nom></ProfessionnelSante><Beneficiaire><NomUsage>{nom}</NomUsage>"
        f"<NomFamille>{nom}</NomFamille><Prenom>{prenom}</Prenom>{cert}</Beneficiaire></ResumeFacture></SignerVitaleReq>"
    )


def auth_action(op: str, version: str = "1.0") -> str:
    return f"urn:ApCV_AUTH:{version}.0:{op}"


SIGN_ACTION = "urn:ApCV_SIGN:1.0.0:signerVitale"


def payload(answer: bytes) -> etree._Element:
    root = etree.fromstring(answer)
    assert root.tag == f"{{{S12}}}Envelope", root.tag
    body = root.find(f"{{{S12}}}Body")
    assert body is not None and len(body) == 1
    return body[0]


def fault_code(answer: bytes) -> str:
    """The siram:Erreur code of a SOAP 1.2 fault answer."""
    fault = payload(answer)
    assert fault.tag == f"{{{S12}}}Fault", etree.tostring(fault)
    erreur = fault.find(f"{{{S12}}}Detail/{{{SIRAM}}}Erreur")
    assert erreur is not None
    return str(erreur.get("code"))
