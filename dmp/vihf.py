"""The VIHF (Vecteur d'Identification et d'Habilitation Formelle): the SAML 2.0 assertion of every
DMP request, read from the SOAP kit's typed assertion into a `Vihf`, with the rules the DMP
applies to the token itself (research dmp.md §1.3, §2.1, §3.1).

    security = soap.read_security(request.envelope, pki=sandbox.pki, tenant=ex.tenant)
    vihf = read(security, now=ex.now(), lifetime=timedelta(seconds=...))   # raises catalogue errors
    vihf.mode, vihf.purpose, vihf.name_id, vihf.structure, vihf.secteur, vihf.patient ...

What `read` refuses (each a catalogue error of dmp.errors): no assertion (`vihf_missing`); not
SAML 2.0, VIHF_Version not 3.0, unknown Authentification_mode, a mandatory attribute missing or
malformed (`vihf_invalid`); IssueInstant out of the lifetime on the tenant's sandbox clock
(`vihf_expired`); a médecin / pharmacien Role without its specialty (`vihf_specialty`, the real
text); the signature: DIRECTE unsigned or signed with the CPS *signature* certificate, INDIRECTE /
INDIRECTE_RENFORCEE signed with the structure's ORG SIGN (`vihf_not_signed`); a signature made
with an authentication key or by a foreign / expired / revoked signer (`DMPInvalidCertificate`);
a signature that does not verify (`vihf_signature`); an Issuer that is not the signer's DN
(`vihf_issuer`). What is lenient as the DMP evidently is (both `Authentification_mode` spellings,
purposeOfUse codeSystemName "1.0" or "2.0", SHA-1 signatures, every AuthnContextClassRef seen)
is left to findings (dmp.checks). Who the caller is against the TLS certificate: dmp.auth.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from cryptography import x509

from dmp import errors
from mocks import soap
from mocks.pki.model import CallerCertificate

Mode = Literal["DIRECTE", "INDIRECTE", "INDIRECTE_RENFORCEE"]
Purpose = Literal["normal", "bris_de_glace", "centre_15"]
MODES: tuple[Mode, ...] = ("DIRECTE", "INDIRECTE", "INDIRECTE_RENFORCEE")
PURPOSES: tuple[Purpose, ...] = ("normal", "bris_de_glace", "centre_15")

# attribute names (research §2.1)
VERSION = "VIHF_Version"
MODE = "Authentification_mode"  # also spelled Authentification_Mode (kit, DRIMbox)
STRUCTURE = "Identifiant_Structure"
SECTEUR = "Secteur_Activite"
SUBJECT_ID = "urn:oasis:names:tc:xspa:1.0:subject:subject-id"
ROLE = "urn:oasis:names:tc:xacml:2.0:subject:role"
RESOURCE_ID = "urn:oasis:names:tc:xacml:2.0:resource:resource-id"
RESOURCE_URN = "Ressource_URN"
PURPOSE = "urn:oasis:names:tc:xspa:1.0:subject:purposeofuse"
CONFIDENTIALITY = "urn:oasis:names:tc:xspa:1.0:resource:patient:hl7:confidentiality-code"
LPS_ID, LPS_NOM, LPS_VERSION = "LPS_ID", "LPS_Nom", "LPS_Version"
HOMOLOGATION = "LPS_ID_HOMOLOGATION_DMP"
OBSOLETE = ("Mode_Acces", "Profession", "Confidentiality_code", "LPS_Type")

PROFESSION_SYSTEM = "1.2.250.1.71.1.2.7"  # TRE_G15
SPECIALTY_SYSTEM = "1.2.250.1.71.4.2.5"  # TRE_R38 / R01
PURPOSE_SYSTEM = "1.2.250.1.213.1.1.4.248"  # TRE_R248 ModeAcces
SECTEUR_SYSTEM = "1.2.250.1.71.4.2.4"
NEEDS_SPECIALTY = ("10", "21")  # médecins, pharmaciens
DS_SHA1 = ("http://www.w3.org/2000/09/xmldsig#rsa-sha1", "http://www.w3.org/2000/09/xmldsig#sha1")

# the signer kinds each mode admits (mocks.pki kinds)
SIGNERS: dict[Mode, tuple[str, ...]] = {
    "DIRECTE": ("cps_sign",),
    "INDIRECTE": ("org_sign",),
    "INDIRECTE_RENFORCEE": ("org_sign",),
}


@dataclass(frozen=True)
class Code:
    """An HL7 CE carried in an AttributeValue (Role, PurposeOfUse, confidentiality code)."""

    code: str
    code_system: str = ""
    display: str = ""
    code_system_name: str = ""


@dataclass(frozen=True)
class PatientId:
    """resource-id: `INS^^^&OID&ISO^NH`."""

    ins: str
    oid: str
    raw: str


@dataclass(frozen=True)
class Vihf:
    assertion: soap.Assertion
    mode: Mode
    mode_attribute: str  # the spelling the LGC used
    name_id: str
    structure: str  # Identifiant_Structure
    secteur: str  # the SAxx code of Secteur_Activite
    roles: tuple[Code, ...]
    purpose: Purpose
    purpose_code: Code | None
    patient: PatientId | None  # None when absent (TD0.4, TD0.5)
    subject_id: str = ""
    resource_urn: str = ""
    confidentiality: Code | None = None
    lps_id: str = ""
    lps_nom: str = ""
    lps_version: str = ""
    homologation: str = ""

    @property
    def profession(self) -> Code | None:
        return next(
            (r for r in self.roles if r.code_system == PROFESSION_SYSTEM),
            self.roles[0] if self.roles else None,
        )

    @property
    def specialty(self) -> Code | None:
        return next((r for r in self.roles if r.code_system == SPECIALTY_SYSTEM), None)

    @property
    def signer(self) -> CallerCertificate | None:
        verdict = self.assertion.signature
        return verdict.signer if verdict is not None else None

    @property
    def signed(self) -> bool:
        return self.assertion.signed

    @property
    def sha1(self) -> bool:
        verdict = self.assertion.signature
        return verdict is not None and (
            verdict.signature_method in DS_SHA1 or verdict.digest_method in DS_SHA1
        )

    @property
    def indirect(self) -> bool:
        return self.mode != "DIRECTE"


def _code(attr: soap.Attribute | None) -> list[Code]:
    if attr is None:
        return []
    return [
        Code(
            c.get("code") or "",
            c.get("codeSystem") or "",
            c.get("displayName") or "",
            c.get("codeSystemName") or "",
        )
        for c in attr.children()
    ]


def parse_cx(value: str) -> PatientId | None:
    """`207058575627097^^^&1.2.250.1.213.1.4.10&ISO^NH` -> PatientId (None when not a CX with an OID)."""
    fields = value.split("^")
    if len(fields) < 4 or not fields[0]:
        return None
    authority = fields[3].split("&")
    oid = authority[1] if len(authority) > 1 else ""
    return PatientId(fields[0], oid, value) if oid else None


def _invalid(what: str) -> errors.NoReturn:
    errors.fail("vihf_invalid", what=what)


def read(
    security: soap.Security | None, *, now: datetime, lifetime: timedelta, require_patient: bool = True
) -> Vihf:
    """The VIHF of a request (see the module docstring for what is refused)."""
    assertion = security.assertion if security is not None else None
    if assertion is None:
        errors.fail("vihf_missing")
    if assertion.version != "2.0":
        _invalid(f"Assertion/@Version « {assertion.version} » : une assertion SAML 2.0 est attendue")
    version = assertion.value(VERSION)
    if version != "3.0":
        _invalid(f"VIHF_Version « {version or ''} » : 3.0 attendu")
    mode_attr = assertion.attribute(MODE, ignore_case=True)
    mode = (mode_attr.value or "").strip() if mode_attr is not None else ""
    if mode not in MODES:
        _invalid(f"Authentification_mode « {mode} » : DIRECTE, INDIRECTE ou INDIRECTE_RENFORCEE attendu")
    for name in (STRUCTURE, SECTEUR, ROLE, RESOURCE_URN, PURPOSE, LPS_NOM):
        if assertion.attribute(name) is None:
            _invalid(f"attribut obligatoire {name} absent")
    secteur_raw = assertion.value(SECTEUR) or ""
    secteur = secteur_raw.split("^")[0]
    if not secteur.startswith("SA"):
        _invalid(f"Secteur_Activite « {secteur_raw} » : SAxx^{SECTEUR_SYSTEM} attendu")
    roles = tuple(_code(assertion.attribute(ROLE)))
    if not roles or not roles[0].code:
        _invalid("Role : au moins une valeur (profession) attendue")
    purposes = _code(assertion.attribute(PURPOSE))
    purpose = purposes[0].code if purposes else (assertion.value(PURPOSE) or "")
    if purpose not in PURPOSES:
        _invalid(f"PurposeOfUse « {purpose} » : normal, bris_de_glace ou centre_15 attendu")
    resource = assertion.value(RESOURCE_ID)
    patient = parse_cx(resource) if resource else None
    if resource and patient is None:
        _invalid(f"resource-id « {resource} » : INS^^^&OID&ISO^NH attendu")
    if require_patient and patient is None:
        _invalid("attribut obligatoire urn:oasis:names:tc:xacml:2.0:resource:resource-id absent")
    confidentiality = _code(assertion.attribute(CONFIDENTIALITY))
    vihf = Vihf(
        assertion=assertion,
        mode=mode,  # type: ignore[arg-type]
        mode_attribute=mode_attr.name if mode_attr is not None else MODE,
        name_id=(assertion.name_id or "").strip(),
        structure=(assertion.value(STRUCTURE) or "").strip(),
        secteur=secteur,
        roles=roles,
        purpose=purpose,  # type: ignore[arg-type]
        purpose_code=purposes[0] if purposes else None,
        patient=patient,
        subject_id=assertion.value(SUBJECT_ID) or "",
        resource_urn=assertion.value(RESOURCE_URN) or "",
        confidentiality=confidentiality[0] if confidentiality else None,
        lps_id=assertion.value(LPS_ID) or "",
        lps_nom=assertion.value(LPS_NOM) or "",
        lps_version=assertion.value(LPS_VERSION) or "",
        homologation=assertion.value(HOMOLOGATION) or "",
    )
    if not vihf.name_id:
        _invalid("Subject/NameID vide")
    if not vihf.structure:
        _invalid("Identifiant_Structure vide")
    _check_time(assertion, now, lifetime)
    _check_signature(vihf)
    return vihf


def require_specialty(vihf: Vihf, card_type: int = 0) -> None:
    """Médecins and pharmaciens (not on a CPE) send their specialty as a second Role value."""
    profession = vihf.profession
    if (
        card_type != 2
        and profession is not None
        and profession.code in NEEDS_SPECIALTY
        and vihf.specialty is None
    ):
        errors.fail("vihf_specialty")


def _check_time(assertion: soap.Assertion, now: datetime, lifetime: timedelta) -> None:
    problems = soap.check_assertion(assertion, now, lifetime=lifetime)
    for problem in problems:
        if problem.code in ("no-issue-instant",):
            _invalid(problem.message)
        if problem.code in ("issued-in-future", "too-old", "not-yet-valid", "expired"):
            errors.fail("vihf_expired", what=problem.message)


def _check_signature(vihf: Vihf) -> None:
    assertion = vihf.assertion
    if not assertion.signed:
        if vihf.indirect:
            errors.fail("vihf_not_signed")
        return
    verdict = assertion.signature
    if verdict is None:
        return  # read without a PKI (unit tests of the parser)
    if not verdict.valid:
        errors.fail("vihf_signature", what=verdict.message)
    signer = verdict.signer
    if signer is None or signer.kind not in SIGNERS[vihf.mode] or signer.status != "valid":
        errors.fail("DMPInvalidCertificate")
    if not same_dn(assertion.issuer or "", signer.der):
        errors.fail("vihf_issuer", what=f"« {assertion.issuer} » au lieu de « {signer.saml_name} »")


# RFC 2253 short names and the aliases LGCs write (.NET: S=, G=)
_ALIASES = {
    "S": "ST",
    "G": "GN",
    "GIVENNAME": "GN",
    "2.5.4.42": "GN",
    "SURNAME": "SN",
    "2.5.4.4": "SN",
    "T": "T",
    "TITLE": "T",
    "2.5.4.12": "T",
    "2.5.4.3": "CN",
    "2.5.4.11": "OU",
    "2.5.4.10": "O",
    "2.5.4.8": "ST",
    "2.5.4.6": "C",
    "2.5.4.7": "L",
}


def dn_pairs(text: str) -> list[tuple[str, str]]:
    """The (type, value) pairs of a DN as LGCs write it (`,` and `+` separated, `\\` escapes)."""
    pairs, current, escaped = [], "", False
    parts: list[str] = []
    for ch in text:
        if escaped:
            current += ch
            escaped = False
        elif ch == "\\":
            current += ch
            escaped = True
        elif ch in ",+":
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    for part in parts:
        key, sep, value = part.partition("=")
        if not sep:
            continue
        key = key.strip().upper()
        pairs.append((_ALIASES.get(key, key), value.strip().replace("\\", "")))
    return pairs


def _cert_pairs(der: bytes) -> list[tuple[str, str]]:
    cert = x509.load_der_x509_certificate(der)
    out = []
    for attr in cert.subject:
        dotted = attr.oid.dotted_string
        out.append((_ALIASES.get(dotted, dotted), str(attr.value)))
    return out


@functools.lru_cache(maxsize=256)
def same_dn(issuer: str, der: bytes) -> bool:
    """The Issuer names the signer's subject (order and S=/G= spellings aside: findings).
    Cached: an LGC sends the same Issuer and certificate on every call (1 ms a call otherwise)."""
    if not der:
        return True
    return sorted(dn_pairs(issuer)) == sorted(_cert_pairs(der))


def non_rfc2253(issuer: str) -> list[str]:
    """The .NET spellings (S=, G=) of an Issuer, which the CI-SIS forbids (research §6)."""
    found = []
    for part in issuer.replace("+", ",").split(","):
        key = part.partition("=")[0].strip().upper()
        if key in ("S", "G"):
            found.append(key + "=")
    return found
