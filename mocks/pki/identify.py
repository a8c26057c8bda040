"""Who is calling: classify a certificate (TLS client certificate, signing certificate) into a
kind, a status on the tenant's sandbox clock, and the persona it belongs to."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from mocks.pki.model import CallerCertificate, CallerKind, Status

if TYPE_CHECKING:
    from mocks.pki.authority import Ca, Pki


def presented_keys(der: bytes | None) -> list[str]:
    """What a TLS client certificate offers for tenant binding: subject (RFC 4514) and serial."""
    if not der:
        return []
    return list(_presented(der))


@lru_cache(maxsize=256)
def _presented(der: bytes) -> tuple[str, ...]:
    try:
        cert = x509.load_der_x509_certificate(der)
    except ValueError:
        return ()
    return (cert.subject.rfc4514_string(), format(cert.serial_number, "x"))


def _attr(name: x509.Name, oid: x509.ObjectIdentifier) -> str:
    values = name.get_attributes_for_oid(oid)
    return str(values[0].value) if values else ""


def saml_name(name: x509.Name) -> str:
    """RFC 2253 as Java prints it (SN, T; givenName as its OID), which is what LGCs write in the
    AssertionPS Issuer."""
    return name.rfc4514_string({NameOID.SURNAME: "SN", NameOID.TITLE: "T"})


# certificate DER -> (issuing CA certificate DER, short name): a signature, once checked, stays
# valid; what changes over time (revocation, validity on the sandbox clock) is judged per call.
_VERIFIED: dict[bytes, tuple[bytes, str]] = {}
_VERIFIED_MAX = 4096


def issuing_ca(pki: Pki, cert: x509.Certificate, der: bytes | None = None) -> Ca | None:
    """The TEST CA of this sandbox that signed `cert` (same name *and* a valid signature)."""
    cas = pki.existing_cas()
    if der is None:
        der = cert.public_bytes(serialization.Encoding.DER)
    known = _VERIFIED.get(der)
    if known is not None:
        ca = cas.get(known[1])
        if ca is not None and ca.der == known[0]:
            return ca
    for ca in cas.values():
        if ca.cert.subject != cert.issuer:
            continue
        try:
            cert.verify_directly_issued_by(ca.cert)
        except (InvalidSignature, ValueError, TypeError):
            continue
        if len(_VERIFIED) >= _VERIFIED_MAX:
            _VERIFIED.clear()
        _VERIFIED[der] = (ca.der, ca.short)
        return ca
    return None


def classify(cert: x509.Certificate, issuer_short: str) -> CallerKind:
    """The profile a certificate follows, from its issuer, CN and usages (for certificates this
    sandbox has no record of)."""
    cn = _attr(cert.subject, NameOID.COMMON_NAME)
    try:
        eku = set(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)
    except x509.ExtensionNotFound:
        eku = set()
    try:
        ku = cert.extensions.get_extension_for_class(x509.KeyUsage).value
        non_repudiation = ku.content_commitment
    except x509.ExtensionNotFound:
        non_repudiation = False
    if "-PP-" in issuer_short:
        return "cps_sign" if non_repudiation and ExtendedKeyUsageOID.CLIENT_AUTH not in eku else "cps_auth"
    if "-ORG-" in issuer_short:
        if cn == "INSI-AUTO":
            return "insi_auto"
        if cn == "INSI-MANU":
            return "insi_manu"
        if ExtendedKeyUsageOID.SERVER_AUTH in eku:
            return "server"
        if non_repudiation or ExtendedKeyUsageOID.EMAIL_PROTECTION in eku:
            return "org_sign"
        return "org_auth_cli"
    return "unknown"


def identify(pki: Pki, der: bytes | None, tenant: str) -> CallerCertificate:
    if not der:
        return CallerCertificate(kind="unknown", status="absent")
    parsed = _parsed(der)
    if parsed is None:
        return CallerCertificate(kind="unknown", status="unknown_issuer", der=der)
    cert, fixed = parsed
    base = dict(fixed)
    cn = str(base["cn"])
    return _judged(pki, cert, der, base, cn, tenant)


@lru_cache(maxsize=1024)
def _parsed(der: bytes) -> tuple[x509.Certificate, dict[str, object]] | None:
    """What never changes for a certificate (parsed once: a TLS client presents it on every call)."""
    try:
        cert = x509.load_der_x509_certificate(der)
    except ValueError:
        return None
    cn = _attr(cert.subject, NameOID.COMMON_NAME)
    return cert, {
        "subject": cert.subject.rfc4514_string(),
        "saml_name": saml_name(cert.subject),
        "cn": cn,
        "ou": _attr(cert.subject, NameOID.ORGANIZATIONAL_UNIT_NAME),
        "serial": format(cert.serial_number, "x"),
        "issuer": _attr(cert.issuer, NameOID.COMMON_NAME),
        "not_before": cert.not_valid_before_utc,
        "not_after": cert.not_valid_after_utc,
        "sha256": hashlib.sha256(der).hexdigest(),
        "der": der,
    }


def _judged(
    pki: Pki, cert: x509.Certificate, der: bytes, base: dict[str, object], cn: str, tenant: str
) -> CallerCertificate:
    """What changes over time: the issuing CA, the certificate's row (revocation), the clock."""
    ca = issuing_ca(pki, cert, der)
    if ca is None:
        return CallerCertificate(kind="unknown", status="unknown_issuer", **base)  # type: ignore[arg-type]
    row = pki.cert_row(str(base["serial"]))
    if row is not None and bytes(row["cert_der"]) != der:
        row = None
    kind: CallerKind = row["kind"] if row else classify(cert, ca.short)
    if row:
        persona = row["persona"]
    elif kind in ("cps_auth", "cps_sign"):
        persona = cn
    else:
        persona = str(base["ou"])
    now = pki.sandbox.now(tenant)
    status: Status
    if row and row["revoked_at"]:
        status = "revoked"
    elif now < cert.not_valid_before_utc:
        status = "not_yet_valid"
    elif now > cert.not_valid_after_utc:
        status = "expired"
    else:
        status = "valid"
    return CallerCertificate(
        kind=kind,
        status=status,
        issuer_short=ca.short,
        persona=persona,
        issued_here=row is not None,
        **base,  # type: ignore[arg-type]
    )
