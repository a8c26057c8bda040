"""Who is calling INSi, and may they: the mTLS organisation certificate (`INSI-AUTO` / `INSI-MANU`)
or, on the CPx listener, the signed SAML "assertion PS" in `wsse:Security` (research insi.md 1.4).

The verdict names a catalogue error when the platform would refuse (`certificat_inconnu`,
`DESIR_560`); what is merely odd becomes a finding.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from lxml import etree

from insi.checks import Sink
from insi.wire import SAML

if TYPE_CHECKING:
    from mocks.kernel import Sandbox

R_AUTH = "research insi.md 1.4"
DS = "http://www.w3.org/2000/09/xmldsig#"
X509_SUBJECT_FORMAT = "urn:oasis:names:tc:SAML:1.1:nameid-format:X509SubjectName"


@dataclass
class Caller:
    mode: str  # "mtls" or "cpx"
    identity: str = ""  # certificate subject, or the assertion's NameID
    emitter: str | None = None  # what the Emetteur should be: certificate OU, or NameID
    error: str | None = None  # catalogue error to answer with, when refused
    error_text: str | None = None  # text overriding the catalogue's, when needed
    details: dict[str, Any] = field(default_factory=dict)


def check_mtls(sandbox: Sandbox, der: bytes | None, tenant: str) -> Caller:
    caller = sandbox.pki.identify(der, tenant)
    out = Caller("mtls", identity=caller.subject, emitter=caller.ou or None)
    out.details = {
        "certificate": {
            "subject": caller.subject,
            "serial": caller.serial,
            "kind": caller.kind,
            "status": caller.status,
        }
    }
    if caller.status != "valid":
        out.error = "certificat_inconnu"
        out.error_text = "Client SOAP certificat inconnu" + (f" ({caller.subject})" if caller.subject else "")
        return out
    if caller.cn not in ("INSI-AUTO", "INSI-MANU"):
        out.error = "DESIR_560"
    return out


def check_assertion(
    sandbox: Sandbox, assertion: etree._Element | None, tenant: str, sink: Sink, lifetime_s: int
) -> Caller:
    """Verify the CPx assertion PS: signature (CPS signature certificate of our PKI), validity on
    the sandbox clock, NameID and attributes."""
    from mocks.pki.xmlsig import SignatureInvalid

    out = Caller("cpx")
    loc = "/soap:Header/wsse:Security/saml:Assertion"
    if assertion is None:
        sink.add(
            "INSI-ASSERTION-ABSENTE",
            "error",
            "aucune saml:Assertion dans wsse:Security (mode CPx)",
            R_AUTH,
            loc,
        )
        out.error = "DESIR_560"
        return out
    name_id = assertion.findtext(f"{{{SAML}}}Subject/{{{SAML}}}NameID")
    out.identity = (name_id or "").strip()
    out.emitter = out.identity or None
    try:
        sig = sandbox.pki.verify_xml_signature(etree.tostring(assertion), tenant)
    except SignatureInvalid as exc:
        sink.add(
            "INSI-ASSERTION-SIGNATURE",
            "error",
            f"signature de l'assertion invalide : {exc}",
            R_AUTH,
            loc + "/ds:Signature",
        )
        out.error = "DESIR_560"
        out.details["signature"] = exc.reason
        return out
    cert = sig.caller
    out.details["certificate"] = {
        "subject": cert.subject,
        "serial": cert.serial,
        "kind": cert.kind,
        "status": cert.status,
    }
    if cert.status != "valid":
        out.error = "certificat_inconnu"
        out.error_text = f"Client SOAP certificat inconnu ({cert.subject})"
        return out
    if cert.kind != "cps_sign":
        sink.add(
            "INSI-ASSERTION-CERTIFICAT",
            "warning" if cert.kind == "cps_auth" else "error",
            f"l'assertion est signée avec un certificat {cert.kind} : le certificat de signature de la CPS est attendu",
            R_AUTH,
            loc + "/ds:Signature/ds:KeyInfo",
        )
        if cert.kind not in ("cps_auth",):
            out.error = "DESIR_560"
            return out
    if sig.c14n_method != "http://www.w3.org/2001/10/xml-exc-c14n#":
        sink.add(
            "INSI-ASSERTION-C14N",
            "warning",
            f"canonicalisation {sig.c14n_method} : exc-c14n attendue",
            R_AUTH,
            loc,
        )
    if not sig.signature_method.endswith("rsa-sha256"):
        sink.add(
            "INSI-ASSERTION-ALGO",
            "warning",
            f"algorithme de signature {sig.signature_method} : rsa-sha256 attendu",
            R_AUTH,
            loc,
        )
    # validity window on the sandbox clock
    issued = _instant(assertion.get("IssueInstant"))
    now = sandbox.now(tenant)
    if issued is None:
        sink.add(
            "INSI-ASSERTION-DATE", "error", "IssueInstant absent ou illisible", R_AUTH, loc + "/@IssueInstant"
        )
        out.error = "DESIR_560"
        return out
    if issued > now + timedelta(minutes=5) or now - issued > timedelta(seconds=lifetime_s):
        sink.add(
            "INSI-ASSERTION-EXPIREE",
            "error",
            f"assertion émise le {issued.isoformat()} : hors de sa durée de validité ({lifetime_s} s) à {now.isoformat()}",
            R_AUTH,
            loc + "/@IssueInstant",
        )
        out.error = "DESIR_560"
        return out
    if assertion.get("Version") != "2.0":
        sink.add(
            "INSI-ASSERTION", "error", "Assertion/@Version doit valoir 2.0", "SAML 2.0", loc + "/@Version"
        )
    issuer = assertion.find(f"{{{SAML}}}Issuer")
    expected_issuer = getattr(cert, "saml_name", "")
    if issuer is not None and expected_issuer and (issuer.text or "").strip() != expected_issuer:
        sink.add(
            "INSI-ASSERTION-ISSUER",
            "info",
            f"Issuer « {(issuer.text or '').strip()} » : le DN du certificat signataire s'écrit « {expected_issuer} »",
            R_AUTH,
            loc + "/saml:Issuer",
        )
    if issuer is None or issuer.get("Format") != X509_SUBJECT_FORMAT:
        sink.add(
            "INSI-ASSERTION-ISSUER",
            "warning",
            "Issuer au format X509SubjectName (DN du certificat CPS) attendu",
            R_AUTH,
            loc + "/saml:Issuer",
        )
    name_el = assertion.find(f"{{{SAML}}}Subject/{{{SAML}}}NameID")
    if name_el is None or not (name_el.text or "").strip():
        sink.add(
            "INSI-ASSERTION-NAMEID",
            "error",
            "Subject/NameID absent (identifiant national du PS)",
            R_AUTH,
            loc + "/saml:Subject",
        )
    else:
        if name_el.get("NameQualifier") != "CPS":
            sink.add(
                "INSI-ASSERTION-NAMEID",
                "warning",
                "NameID/@NameQualifier « CPS » attendu",
                R_AUTH,
                loc + "/saml:Subject/saml:NameID",
            )
        if cert.persona and name_el.text.strip() != cert.persona:
            sink.add(
                "INSI-ASSERTION-NAMEID",
                "error",
                f"NameID « {name_el.text.strip()} » différent de l'identifiant du certificat signataire ({cert.persona})",
                R_AUTH,
                loc + "/saml:Subject/saml:NameID",
            )
    names = {a.get("Name") for a in assertion.iter(f"{{{SAML}}}Attribute")}
    for wanted in ("identifiantFacturation", "secteurActivite"):
        if wanted not in names:
            sink.add(
                "INSI-ASSERTION-ATTRIBUT",
                "warning",
                f"attribut « {wanted} » absent de l'assertion",
                R_AUTH,
                loc + "/saml:AttributeStatement",
            )
    return out


def _instant(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if value.tzinfo is None:
        return None
    return value
