"""Findings on what an LGC sent the DMP (reported by default, never a refusal by themselves;
strict mode refuses error findings). References: research dmp.md §2.1 (VIHF), §6 (what LGC
editors get wrong), CI-SIS volet transport synchrone (Issuer DN), homologation PRE_TPS (UTC).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from dmp import vihf as vihf_mod
from mocks.findings import Findings, Rule, Rules

if TYPE_CHECKING:
    from mocks.kernel import Sandbox
    from mocks.soap import SoapRequest

RULES = Rules(
    [
        Rule(
            "DMP-VIHF-SPELLING",
            "warning",
            "Orthographe d'un attribut du VIHF",
            "SEL-MP-037 §VIHF ; research dmp.md §2.1",
        ),
        Rule("DMP-VIHF-SHA1", "warning", "VIHF signé en SHA-1", "RGS / CI-SIS : rsa-sha256 attendu"),
        Rule("DMP-VIHF-LPS-ID", "warning", "LPS_ID absent du VIHF", "SEL-MP-037 §VIHF"),
        Rule(
            "DMP-VIHF-ISSUER-DN",
            "error",
            "Issuer du VIHF hors RFC 2253 (S=, G=)",
            "CI-SIS volet transport synchrone §4.3.1.5.1.1",
        ),
        Rule("DMP-VIHF-AUTHN", "info", "AuthnContextClassRef inhabituel", "research dmp.md §1.3"),
        Rule(
            "DMP-INS-OID-PRODUCTION",
            "error",
            "OID INS de production dans un environnement de test",
            "research dmp.md §6",
        ),
        Rule(
            "DMP-INS-OID-INCOHERENT",
            "error",
            "OID INS incohérent entre le VIHF et le message",
            "research dmp.md §6",
        ),
        Rule(
            "DMP-INS-NON-QUALIFIE",
            "warning",
            "INS sans qualification INSi préalable",
            "Référentiel INS ; EX_GEN-1250",
        ),
        Rule("DMP-TIME-UTC", "error", "Horodatage non UTC", "homologation PRE_TPS ; EX_3.1-1070"),
        Rule(
            "DMP-WSA-MESSAGEID",
            "warning",
            "wsa:MessageID hors format urn:uuid",
            "WS-Addressing 1.0 ; exemples officiels",
        ),
        Rule(
            "DMP-WSA-ACTION",
            "warning",
            "wsa:Action absent ou différent de l'action du WSDL",
            "WSDL DMP v2.01.04",
        ),
        # ITI-41 metadata (research dmp.md §2.4, §2.5; dmp.xds_checks)
        Rule(
            "DMP-XDS-UUID",
            "warning",
            "Classification ou identifiant externe d'UUID inconnu de XDS.b",
            "IHE ITI TF-3 §4.2.5 ; research dmp.md §2.5",
        ),
        Rule(
            "DMP-XDS-CODE",
            "error",
            "Code hors du jeu de valeurs DMP (JDV_J57 à J66) ou codingScheme faux",
            "CI-SIS Partage de documents de santé ; JDV_J57–J66-*-DMP",
        ),
        Rule(
            "DMP-XDS-XCN",
            "error",
            "authorPerson / legalAuthenticator au format XCN",
            "CI-SIS ; research dmp.md §2.5",
        ),
        Rule("DMP-XDS-XON", "error", "authorInstitution au format XON", "CI-SIS ; research dmp.md §2.5"),
        Rule(
            "DMP-XDS-INLINE",
            "info",
            "Document en base64 dans l'enveloppe plutôt qu'en pièce MTOM",
            "IHE ITI TF-2b §3.41 (MTOM/XOP) ; research dmp.md §2.4",
        ),
        Rule(
            "DMP-XDS-DOCUMENT-ID",
            "warning",
            "xds:Document@id d'une autre casse que l'id de son ExtrinsicObject",
            "IHE ITI TF-2b §3.41.4.1.2 ; exemple officiel TD2.1",
        ),
        Rule(
            "DMP-XDS-CHARSET",
            "info",
            "Pièce MTOM déclarée dans un charset non UTF-8 (Cp1252)",
            "exemple officiel TD2.1 ; research dmp.md §2.4",
        ),
        Rule(
            "DMP-XDS-NOT-CDA",
            "error",
            "Document text/xml qui n'est pas un CDA R2",
            "CI-SIS Partage de documents de santé (mimeType text/xml = CDA R2)",
        ),
        Rule(
            "DMP-XDS-RPLC",
            "warning",
            "relatedDocument RPLC du CDA sans association RPLC dans le lot",
            "IHE ITI TF-3 §4.2.2 (RPLC) ; research dmp.md §2.8",
        ),
        Rule(
            "DMP-SOAP11",
            "warning",
            "Enveloppe SOAP 1.1 (le DMP est en SOAP 1.2)",
            "WSDL DMP : liaisons *_Soap12",
        ),
        Rule(
            "DMP-ITI43-ENTRYUUID",
            "error",
            "TD3.2 : entryUUID donné à la place du uniqueId du document",
            "research dmp.md §3.1 (XDSDocumentUniqueIdError)",
        ),
    ]
)

UUID_URN = re.compile(
    r"^urn:uuid:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)
KNOWN_AUTHN = (
    "urn:oasis:names:tc:SAML:2.0:ac:classes:SmartcardPKI",
    "urn:oasis:names:tc:SAML:2.0:ac:classes:Password",
    "urn:oasis:names:tc:SAML:2.0:ac:classes:TLSClient",
    "urn:oasis:names:tc:SAML:2.0:ac:classes:unspecified",
    "urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorUnregistered",
)
TEST_OIDS = ("1.2.250.1.213.1.4.10", "1.2.250.1.213.1.4.11")
PRODUCTION_OIDS = ("1.2.250.1.213.1.4.8", "1.2.250.1.213.1.4.9")


def check_transport(findings: Findings, req: SoapRequest) -> None:
    mid = req.addressing.message_id
    if mid is not None and not UUID_URN.match(mid):
        findings.add(
            "DMP-WSA-MESSAGEID",
            "warning",
            f"MessageID « {mid} » : urn:uuid:<UUID> attendu",
            location="wsa:MessageID",
        )
    if req.version == "1.1":
        findings.add(
            "DMP-SOAP11",
            "warning",
            "enveloppe SOAP 1.1 : le DMP publie des liaisons SOAP 1.2",
            location="/Envelope",
        )


def check_vihf(findings: Findings, v: vihf_mod.Vihf) -> None:
    a = v.assertion
    if v.mode_attribute != vihf_mod.MODE:
        findings.add(
            "DMP-VIHF-SPELLING",
            "warning",
            f"attribut « {v.mode_attribute} » : les exemples officiels écrivent « {vihf_mod.MODE} » (accepté)",
            location="Attribute/@Name",
        )
    for name in vihf_mod.OBSOLETE:
        if a.attribute(name) is not None:
            findings.add(
                "DMP-VIHF-SPELLING",
                "warning",
                f"attribut obsolète « {name} » (VIHF 1.0)",
                location="Attribute/@Name",
            )
    if (
        v.purpose_code is not None
        and v.purpose_code.code_system_name
        and "2.0" not in v.purpose_code.code_system_name
    ):
        findings.add(
            "DMP-VIHF-SPELLING",
            "info",
            f"PurposeOfUse codeSystemName « {v.purpose_code.code_system_name} » : « mode acces VIHF 2.0 » dans les exemples officiels",
            location="PurposeOfUse/@codeSystemName",
        )
    if v.sha1:
        findings.add(
            "DMP-VIHF-SHA1",
            "warning",
            "signature du VIHF en rsa-sha1 / sha1 : rsa-sha256 attendu",
            location="ds:SignatureMethod",
        )
    if not v.lps_id:
        findings.add(
            "DMP-VIHF-LPS-ID",
            "warning",
            "attribut LPS_ID absent (identifiant de l'installation du logiciel)",
            location="Attribute[@Name='LPS_ID']",
        )
    spellings = vihf_mod.non_rfc2253(a.issuer or "")
    if spellings:
        findings.add(
            "DMP-VIHF-ISSUER-DN",
            "error",
            f"Issuer « {a.issuer} » : {', '.join(spellings)} au lieu de ST= / GN= (RFC 2253)",
            location="saml2:Issuer",
        )
    authn = a.authn.class_ref if a.authn is not None else None
    if authn and authn not in KNOWN_AUTHN:
        findings.add(
            "DMP-VIHF-AUTHN",
            "info",
            f"AuthnContextClassRef « {authn} » inhabituel pour le DMP",
            location="AuthnContextClassRef",
        )
    for label, text in (
        ("IssueInstant", a.issue_instant_text),
        ("AuthnInstant", a.authn.instant_text if a.authn else None),
    ):
        if text and not text.rstrip().endswith(("Z", "z")):
            findings.add(
                "DMP-TIME-UTC", "error", f"{label} « {text} » : UTC (suffixe Z) attendu", location=f"@{label}"
            )


def check_patient(
    findings: Findings, sandbox: Sandbox, tenant: str, family: str, vihf_oid: str, body_oid: str, ins: str
) -> None:
    """The INS OID family against the configuration, and the INS's INSi qualification evidence."""
    for where, oid in (("VIHF resource-id", vihf_oid), ("message", body_oid)):
        if oid and family == "test" and oid in PRODUCTION_OIDS:
            findings.add(
                "DMP-INS-OID-PRODUCTION",
                "error",
                f"{where} : OID {oid} (production) dans un environnement de test DMP, qui attend 1.2.250.1.213.1.4.10",
                location=where,
            )
        if oid and family == "production" and oid in TEST_OIDS:
            findings.add(
                "DMP-INS-OID-PRODUCTION",
                "error",
                f"{where} : OID de test {oid} en production",
                location=where,
            )
    if (
        ins
        and not sandbox.evidence.exists(tenant, "ins.qualified", ins[:13])
        and not sandbox.evidence.exists(tenant, "ins.qualified", ins)
    ):
        findings.add(
            "DMP-INS-NON-QUALIFIE",
            "warning",
            f"INS {ins} utilisé sans qualification préalable par le téléservice INSi dans ce tenant",
            location="resource-id",
        )
