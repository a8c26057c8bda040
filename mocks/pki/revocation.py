"""CRLs and OCSP, on the asking tenant's sandbox clock.

A CA's CRL is kept in `pki_cas` and regenerated when a revocation changes (the row's `crl_der` is
cleared) or when the clock has left its [thisUpdate, nextUpdate - 1 day] window; its CRL number
grows by one each time. OCSP answers are signed by the issuing CA itself (no delegated responder).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp

from mocks.clock import iso

if TYPE_CHECKING:
    from mocks.pki.authority import Ca, Pki

CRL_LIFETIME = timedelta(days=7)  # [inferred] the real nextUpdate interval is not in the note
OCSP_LIFETIME = timedelta(hours=24)


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _now(pki: Pki, tenant: str) -> datetime:
    return pki.sandbox.now(tenant).astimezone(UTC).replace(microsecond=0)


def crl(pki: Pki, short: str, tenant: str = "default") -> bytes:
    ca = pki.ca(short)
    now = _now(pki, tenant)
    row = pki.store.one(
        "SELECT crl_number, crl_this_update, crl_next_update, crl_der FROM pki_cas WHERE name = ?", (short,)
    )
    assert row is not None
    if row["crl_der"] and _parse(row["crl_this_update"]) <= now < _parse(row["crl_next_update"]) - timedelta(
        days=1
    ):
        return bytes(row["crl_der"])
    number = int(row["crl_number"]) + 1
    der = build_crl(pki, ca, now, number)
    with pki.store.tx() as conn:
        conn.execute(
            "UPDATE pki_cas SET crl_number = ?, crl_this_update = ?, crl_next_update = ?, crl_der = ? "
            "WHERE name = ?",
            (number, iso(now), iso(now + CRL_LIFETIME), der, short),
        )
    return der


def revoked_rows(pki: Pki, short: str) -> list[dict[str, Any]]:
    return pki.store.query(
        "SELECT serial, revoked_at, revocation_reason FROM pki_certs WHERE ca = ? AND revoked_at IS NOT NULL "
        "ORDER BY revoked_at, serial",
        (short,),
    )


def build_crl(pki: Pki, ca: Ca, now: datetime, number: int) -> bytes:
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca.cert.subject)
        .last_update(now)
        .next_update(now + CRL_LIFETIME)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), False)
        .add_extension(x509.CRLNumber(number), False)
    )
    for r in revoked_rows(pki, ca.short):
        entry = (
            x509.RevokedCertificateBuilder()
            .serial_number(int(r["serial"], 16))
            .revocation_date(_parse(r["revoked_at"]))
        )
        reason = x509.ReasonFlags[r["revocation_reason"] or "unspecified"]
        if reason != x509.ReasonFlags.unspecified:  # RFC 5280 5.3.1: omit rather than "unspecified"
            entry = entry.add_extension(x509.CRLReason(reason), False)
        builder = builder.add_revoked_certificate(entry.build())
    return builder.sign(ca.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def _issuer_of(pki: Pki, req: ocsp.OCSPRequest) -> Ca | None:
    for ca in pki.existing_cas().values():
        name_hash = hashes.Hash(req.hash_algorithm)
        name_hash.update(ca.cert.subject.public_bytes())
        key_hash = hashes.Hash(req.hash_algorithm)
        key_hash.update(_public_key_bits(ca))
        if name_hash.finalize() == req.issuer_name_hash and key_hash.finalize() == req.issuer_key_hash:
            return ca
    return None


def _public_key_bits(ca: Ca) -> bytes:
    """The BIT STRING content of subjectPublicKey (what issuerKeyHash hashes): for RSA, the
    PKCS#1 RSAPublicKey DER."""
    return ca.key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)


def ocsp_response(pki: Pki, request_der: bytes, tenant: str = "default") -> bytes:
    try:
        req = ocsp.load_der_ocsp_request(request_der)
        _ = req.serial_number, req.hash_algorithm
    except (ValueError, NotImplementedError, x509.UnsupportedGeneralNameType):
        return unsuccessful(ocsp.OCSPResponseStatus.MALFORMED_REQUEST)
    ca = _issuer_of(pki, req)
    if ca is None:
        return unsuccessful(ocsp.OCSPResponseStatus.UNAUTHORIZED)
    now = _now(pki, tenant)
    row = pki.store.one(
        "SELECT revoked_at, revocation_reason FROM pki_certs WHERE serial = ? AND ca = ?",
        (format(req.serial_number, "x"), ca.short),
    )
    revocation_time = None
    reason = None
    issued_cas = {
        c.cert.serial_number
        for c in pki.existing_cas().values()
        if c.cert.issuer == ca.cert.subject and c is not ca
    }
    if row is None and req.serial_number in issued_cas:
        status = ocsp.OCSPCertStatus.GOOD  # an intermediate, asked of its root: never revoked here
    elif row is None:
        status = ocsp.OCSPCertStatus.UNKNOWN
    elif row["revoked_at"]:
        status = ocsp.OCSPCertStatus.REVOKED
        revocation_time = _parse(row["revoked_at"])
        flag = x509.ReasonFlags[row["revocation_reason"] or "unspecified"]
        reason = None if flag == x509.ReasonFlags.unspecified else flag
    else:
        status = ocsp.OCSPCertStatus.GOOD
    builder = (
        ocsp.OCSPResponseBuilder()
        .add_response_by_hash(
            issuer_name_hash=req.issuer_name_hash,
            issuer_key_hash=req.issuer_key_hash,
            serial_number=req.serial_number,
            algorithm=req.hash_algorithm,
            cert_status=status,
            this_update=now,
            next_update=now + OCSP_LIFETIME,
            revocation_time=revocation_time,
            revocation_reason=reason,
        )
        .responder_id(ocsp.OCSPResponderEncoding.HASH, ca.cert)
        .certificates([ca.cert])
    )
    try:
        nonce = req.extensions.get_extension_for_class(x509.OCSPNonce).value
        builder = builder.add_extension(nonce, False)
    except x509.ExtensionNotFound:
        pass
    response = builder.sign(ca.key, hashes.SHA256())
    return response.public_bytes(serialization.Encoding.DER)


def unsuccessful(status: ocsp.OCSPResponseStatus) -> bytes:
    return ocsp.OCSPResponseBuilder.build_unsuccessful(status).public_bytes(serialization.Encoding.DER)
