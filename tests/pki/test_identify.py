"""identify(): classification of certificates the sandbox has no record of, and bad input."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from mocks.pki import Pki, Professional, Structure
from mocks.pki.profiles import cps_subject, org_subject


def _sign(
    pki: Pki, issuer: str, subject: x509.Name, eku: list[x509.ObjectIdentifier], non_repudiation: bool
) -> bytes:
    ca = pki.ca(issuer)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.KeyUsage(
                digital_signature=not non_repudiation,
                content_commitment=non_repudiation,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage(eku), critical=False)
        .sign(ca.key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.DER)


CLIENT = [x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH]
EMAIL = [x509.oid.ExtendedKeyUsageOID.EMAIL_PROTECTION]
SERVER = [x509.oid.ExtendedKeyUsageOID.SERVER_AUTH, x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH]


@pytest.mark.parametrize(
    ("cn", "eku", "non_repudiation", "kind"),
    [
        ("INSI-MANU", CLIENT, False, "insi_manu"),
        ("INSI-AUTO", CLIENT, False, "insi_auto"),
        ("Mon LGC", CLIENT, False, "org_auth_cli"),
        ("Mon LGC", EMAIL, True, "org_sign"),
        ("lgc.example.test", SERVER, False, "server"),
    ],
)
def test_structure_certificates_without_a_record_are_classified_by_profile(
    pki: Pki,
    structure: Structure,
    cn: str,
    eku: list[x509.ObjectIdentifier],
    non_repudiation: bool,
    kind: str,
) -> None:
    der = _sign(pki, "ACI-EL-ORG-TEST", org_subject(structure, cn), eku, non_repudiation)
    caller = pki.identify(der)
    assert (caller.kind, caller.status, caller.persona, caller.issued_here) == (
        kind,
        "valid",
        structure.id_nat,
        False,
    )
    assert caller.issuer == "TEST AC IGC-SANTE ELEMENTAIRE ORGANISATIONS"


@pytest.mark.parametrize(
    ("eku", "non_repudiation", "kind"), [(CLIENT, False, "cps_auth"), (EMAIL, True, "cps_sign")]
)
def test_card_certificates_without_a_record_are_classified_by_profile(
    pki: Pki, professional: Professional, eku: list[x509.ObjectIdentifier], non_repudiation: bool, kind: str
) -> None:
    der = _sign(pki, "ACI-FO-PP-TEST", cps_subject(professional), eku, non_repudiation)
    caller = pki.identify(der)
    assert (caller.kind, caller.persona, caller.issuer_short) == (kind, professional.id_nat, "ACI-FO-PP-TEST")


def test_bad_input(pki: Pki) -> None:
    assert pki.identify(None).status == "absent"
    assert pki.identify(b"").status == "absent"
    garbage = pki.identify(b"\x30\x03\x02\x01\x00")
    assert (garbage.kind, garbage.status) == ("unknown", "unknown_issuer")
    root = pki.identify(pki.ca("ACR-EL-TEST").der)
    assert root.status == "valid" and root.kind == "unknown"  # a CA is nobody's credential


def test_another_process_revoking_is_seen_at_the_next_call(pki: Pki, structure: Structure) -> None:
    """identify caches the CA list and certificate rows behind the generation counter: a
    revocation written by another process (here a connection of its own) is seen at once."""
    creds = pki.credentials(structure, "insi_auto")
    der = x509.load_pem_x509_certificate(creds.cert_pem).public_bytes(serialization.Encoding.DER)
    assert pki.identify(der, "default").status == "valid"
    assert pki.identify(der, "default").status == "valid"  # cached now
    other = sqlite3.connect(pki.store.path, isolation_level=None)
    try:
        other.execute(
            "UPDATE pki_certs SET revoked_at = '2026-01-01T00:00:00Z', revocation_reason = 'keyCompromise' "
            "WHERE serial = ?",
            (creds.serial,),
        )
        assert pki.identify(der, "default").status == "revoked"
        other.execute("UPDATE pki_certs SET revoked_at = NULL WHERE serial = ?", (creds.serial,))
    finally:
        other.close()
    assert pki.identify(der, "default").status == "valid"
