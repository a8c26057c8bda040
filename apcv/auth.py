"""Who calls ApCV: the professional of the CPS assertion in `wsse:Security` (research A1.3: the
Pyxvital templates put `AssertionCPS3` there; the assertion is INSi's CPx "assertion PS",
research insi.md 1.4 and insi/auth.py), read and verified with the SOAP kit
(`mocks.soap.read_security`, `check_assertion`: signature with signxml, signer identified by the
sandbox PKI on the tenant's clock).

    no assertion                      -> None: the flow answers 61441 (CPS absent)
    unsigned, bad signature, expired,
    signer not a valid CPS            -> ASSERTION_INVALIDE
    NameID not the signer's idNat_PS  -> PS_NON_AUTORISE
    odd but acceptable (CPS authentication certificate, NameQualifier, missing attributes,
    Issuer format)                    -> findings
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from apcv.errors import ERRORS
from mocks import soap

if TYPE_CHECKING:
    from mocks.findings import Findings
    from mocks.kernel import Sandbox

R_AUTH = "research insi.md 1.4 (assertion PS des téléservices AMO)"
LOC = "/soap:Header/wsse:Security/saml:Assertion"
X509_SUBJECT = "urn:oasis:names:tc:SAML:1.1:nameid-format:X509SubjectName"


@dataclass
class Caller:
    ps: str  # idNat_PS (the assertion's NameID)
    identity: str  # for the journal: the signer's subject
    facturation: str | None  # the assertion's identifiantFacturation
    details: dict[str, Any] = field(default_factory=dict)


def caller(
    sandbox: Sandbox,
    request: soap.SoapRequest,
    tenant: str,
    now: datetime,
    findings: Findings,
    lifetime_s: int,
) -> Caller | None:
    security = soap.read_security(request.envelope, pki=sandbox.pki, tenant=tenant)
    assertion = security.assertion if security is not None else None
    if assertion is None:
        return None
    problems = soap.check_assertion(
        assertion, now, require_signature=True, lifetime=timedelta(seconds=lifetime_s)
    )
    if problems:
        text = "; ".join(p.message for p in problems)
        findings.add("APCV-ASSERTION", "error", f"assertion CPS refusée : {text}", R_AUTH, LOC)
        ERRORS.fail("ASSERTION_INVALIDE", f"L'authentification du professionnel de santé a échoué : {text}")
    verdict = assertion.signature
    signer = verdict.signer if verdict is not None else None
    if signer is None or signer.kind not in ("cps_sign", "cps_auth"):
        kind = signer.kind if signer is not None else "inconnu"
        findings.add(
            "APCV-ASSERTION",
            "error",
            f"assertion signée avec un certificat {kind} : une CPS est attendue",
            R_AUTH,
            LOC,
        )
        ERRORS.fail(
            "ASSERTION_INVALIDE",
            f"L'assertion doit être signée par la CPS du professionnel (certificat {kind})",
        )
    if signer.kind == "cps_auth":
        findings.add(
            "APCV-ASSERTION-CERTIFICAT",
            "warning",
            "assertion signée avec le certificat d'authentification de la CPS : le certificat de signature est attendu",
            R_AUTH,
            LOC + "/ds:Signature/ds:KeyInfo",
        )
    ps = (assertion.name_id or "").strip()
    if not ps:
        findings.add(
            "APCV-ASSERTION", "error", "Subject/NameID absent (identifiant national du PS)", R_AUTH, LOC
        )
        ERRORS.fail(
            "ASSERTION_INVALIDE", "L'assertion ne désigne aucun professionnel (Subject/NameID absent)"
        )
    if signer.persona and ps != signer.persona:
        findings.add(
            "APCV-ASSERTION",
            "error",
            f"NameID « {ps} » différent de l'identifiant du certificat signataire ({signer.persona})",
            R_AUTH,
            LOC + "/saml:Subject/saml:NameID",
        )
        ERRORS.fail(
            "PS_NON_AUTORISE", f"L'assertion désigne {ps} mais est signée par la CPS de {signer.persona}"
        )
    if assertion.name_qualifier != "CPS":
        findings.add(
            "APCV-ASSERTION-FORME",
            "warning",
            "NameID/@NameQualifier « CPS » attendu",
            R_AUTH,
            LOC + "/saml:Subject/saml:NameID",
        )
    if assertion.issuer_format != X509_SUBJECT:
        findings.add(
            "APCV-ASSERTION-FORME",
            "warning",
            "Issuer au format X509SubjectName (DN du certificat CPS) attendu",
            R_AUTH,
            LOC + "/saml:Issuer",
        )
    for wanted in ("identifiantFacturation", "secteurActivite"):
        if assertion.value(wanted) is None:
            findings.add(
                "APCV-ASSERTION-FORME",
                "warning",
                f"attribut « {wanted} » absent de l'assertion",
                R_AUTH,
                LOC + "/saml:AttributeStatement",
            )
    return Caller(
        ps=ps,
        identity=signer.subject,
        facturation=assertion.value("identifiantFacturation"),
        details={
            "ps": ps,
            "signer": {"subject": signer.subject, "kind": signer.kind, "serial": signer.serial},
        },
    )
