"""Our profiles field by field against the decoded public TEST certificates (tests/pki/data/real,
research note B1-B2): same names byte for byte where the subject is the same, same extensions in
the same order with the same criticality and values — URLs compared once the real hosts are
replaced by the sandbox's publication point (the path shapes must match exactly)."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID, NameOID

from mocks.pki import Pki, Professional, Structure
from mocks.pki.names import Urls
from mocks.pki.profiles import OID_CARD_SERIAL, OID_CATEGORIE, OID_PRIVATE_KEY_USAGE_PERIOD, OID_PROFESSION

REAL = Path(__file__).parent / "data" / "real"
SKIP_VALUE = {ExtensionOID.SUBJECT_KEY_IDENTIFIER, ExtensionOID.AUTHORITY_KEY_IDENTIFIER}


def real(name: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate((REAL / f"{name}.pem").read_bytes())


def to_sandbox(text: str, urls: Urls) -> str:
    return (
        text.replace("http://igc-sante.esante.gouv.fr", urls.http_base)
        .replace("http://ocsp.esante.gouv.fr", urls.ocsp)
        .replace("ldap://annuaire-igc.esante.gouv.fr", f"ldap://{urls.ldap_host}")
    )


def assert_same_extensions(
    ours: x509.Certificate, theirs: x509.Certificate, urls: Urls, free: set[x509.ObjectIdentifier]
) -> None:
    """Same OIDs in the same order, same criticality, same values (except `free` ones)."""
    assert [e.oid for e in ours.extensions] == [e.oid for e in theirs.extensions]
    for mine, ref in zip(ours.extensions, theirs.extensions, strict=True):
        assert mine.critical == ref.critical, mine.oid
        if mine.oid in SKIP_VALUE | free:
            continue
        if isinstance(ref.value, x509.UnrecognizedExtension):
            assert mine.value.public_bytes() == ref.value.public_bytes(), mine.oid
        else:
            assert repr(mine.value) == to_sandbox(repr(ref.value), urls), mine.oid


def assert_same_key_and_signature(ours: x509.Certificate, theirs: x509.Certificate) -> None:
    assert isinstance(ours.public_key(), rsa.RSAPublicKey)
    assert ours.public_key().key_size == theirs.public_key().key_size  # type: ignore[union-attr]
    assert ours.signature_algorithm_oid == theirs.signature_algorithm_oid
    assert ours.version == theirs.version


def assert_key_ids_chain(ours: x509.Certificate, issuer: x509.Certificate) -> None:
    aki = ours.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    ski = issuer.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert aki.key_identifier == ski.digest
    assert aki.authority_cert_issuer is None  # keyid only, like the real ones


@pytest.mark.parametrize("short", ["ACR-EL-TEST", "ACI-EL-ORG-TEST"])
def test_ca_certificates_match_the_real_test_cas(pki: Pki, short: str) -> None:
    ours, theirs = pki.ca(short).cert, real(short)
    assert ours.subject.public_bytes() == theirs.subject.public_bytes()  # byte for byte
    assert ours.issuer.public_bytes() == theirs.issuer.public_bytes()
    assert ours.not_valid_before_utc == theirs.not_valid_before_utc
    assert ours.not_valid_after_utc == theirs.not_valid_after_utc
    assert_same_key_and_signature(ours, theirs)
    assert_same_extensions(ours, theirs, pki.urls, free=set())
    # 18-byte serials starting 11 20
    for cert in (ours, theirs):
        raw = cert.serial_number.to_bytes(18, "big")
        assert raw[:2] == b"\x11\x20"


def test_every_ca_of_the_three_gammes_follows_the_pattern(pki: Pki) -> None:
    for short, ca in pki.cas.items():
        cn = ca.cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
        assert str(cn).startswith("TEST AC ")
        bc = ca.cert.extensions.get_extension_for_class(x509.BasicConstraints)
        assert bc.critical and bc.value.ca
        if short.startswith("ACR-"):
            assert bc.value.path_length is None
            assert ca.cert.issuer == ca.cert.subject
        else:
            assert bc.value.path_length == 0
            parent = pki.ca(short.replace("ACI-", "ACR-").rsplit("-", 2)[0] + "-TEST")
            assert ca.cert.issuer == parent.cert.subject
            ca.cert.verify_directly_issued_by(parent.cert)
    assert sorted(pki.cas) == sorted(
        [f"ACR-{g}-TEST" for g in ("EL", "ST", "FO")]
        + [f"ACI-{g}-{f}-TEST" for g in ("EL", "ST", "FO") for f in ("PP", "ORG")]
    )


def test_cps_signature_certificate_matches_the_real_card(pki: Pki) -> None:
    theirs = real("CPS-SIGN-TEST")
    # the very professional of the decoded card (idNat_PS 0 + ADELI): the subject must be identical
    pro = Professional("00B6087510", "Olivier", "Infirmcs Adeli8751", profession_code="60")
    creds = pki.issue(pro, "cps_sign")
    ours = x509.load_pem_x509_certificate(creds.cert_pem)
    assert ours.subject.public_bytes() == theirs.subject.public_bytes()
    assert ours.issuer.public_bytes() == theirs.issuer.public_bytes()
    assert_same_key_and_signature(ours, theirs)
    assert_same_extensions(ours, theirs, pki.urls, free={OID_PRIVATE_KEY_USAGE_PERIOD, OID_CARD_SERIAL})
    assert_key_ids_chain(ours, pki.ca("ACI-FO-PP-TEST").cert)
    # privateKeyUsagePeriod = validity, with the real encoding
    pkup = ours.extensions.get_extension_for_oid(OID_PRIVATE_KEY_USAGE_PERIOD).value
    fmt = "%Y%m%d%H%M%SZ"
    assert pkup.public_bytes() == (
        b"\x30\x22\x80\x0f"
        + ours.not_valid_before_utc.strftime(fmt).encode()
        + b"\x81\x0f"
        + ours.not_valid_after_utc.strftime(fmt).encode()
    )
    # 1.2.250.1.71.1.2.3: a PrintableString shaped like "8025000001/2800636234"
    card = ours.extensions.get_extension_for_oid(OID_CARD_SERIAL).value
    ref = theirs.extensions.get_extension_for_oid(OID_CARD_SERIAL).value
    assert isinstance(card, x509.UnrecognizedExtension) and isinstance(ref, x509.UnrecognizedExtension)
    assert card.value[:2] == ref.value[:2] == b"\x13\x15"
    assert card.value[2:13] == ref.value[2:13] == b"8025000001/"
    # 3 years, serial of 16 bytes
    assert (ours.not_valid_after_utc - ours.not_valid_before_utc).days in (1095, 1096)
    assert len(ours.serial_number.to_bytes(16, "big")) == 16


def test_cps_signature_certificate_names_the_profession(pki: Pki, professional: Professional) -> None:
    doctor = Professional(professional.id_nat, "Jeanne", "Medecin", profession_code="10")
    ours = x509.load_pem_x509_certificate(pki.issue(doctor, "cps_sign").cert_pem)
    assert ours.subject.get_attributes_for_oid(NameOID.TITLE)[0].value == "Médecin"
    value = ours.extensions.get_extension_for_oid(OID_PROFESSION).value
    assert isinstance(value, x509.UnrecognizedExtension)
    assert value.value == b"\x02\x01\x0a"  # INTEGER 10


def test_server_certificate_matches_the_real_serv_ssl_profile(pki: Pki) -> None:
    theirs = real("SERV-SSL_SERV-TEST")
    ours = x509.load_pem_x509_certificate(pki.server_credentials(["insi.sandbox.test", "localhost"]).cert_pem)
    assert [a.oid for a in ours.subject] == [a.oid for a in theirs.subject]  # C, ST, O, OU, CN
    assert [a._type for a in ours.subject] == [a._type for a in theirs.subject]  # PrintableString C, UTF8
    assert ours.issuer.public_bytes() == theirs.issuer.public_bytes()
    assert_same_key_and_signature(ours, theirs)
    assert_same_extensions(ours, theirs, pki.urls, free={ExtensionOID.SUBJECT_ALTERNATIVE_NAME})
    san = ours.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["insi.sandbox.test", "localhost"]
    assert ours.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "insi.sandbox.test"
    assert_key_ids_chain(ours, pki.ca("ACI-EL-ORG-TEST").cert)


# Structures' profiles: no decoded ORG certificate is in the repository; the note's table (B2) says
# ORG AUTH_CLI = digitalSignature / clientAuth, ORG SIGN = digitalSignature + nonRepudiation /
# emailProtection + privateKeyUsagePeriod, both category 0x83, DN C, ST, O, OU = idNat_Struct, CN.
ORG = {
    "org_auth_cli": ({"digital_signature"}, [ExtendedKeyUsageOID.CLIENT_AUTH], False),
    "insi_auto": ({"digital_signature"}, [ExtendedKeyUsageOID.CLIENT_AUTH], False),
    "insi_manu": ({"digital_signature"}, [ExtendedKeyUsageOID.CLIENT_AUTH], False),
    "org_sign": ({"digital_signature", "content_commitment"}, [ExtendedKeyUsageOID.EMAIL_PROTECTION], True),
}


@pytest.mark.parametrize("kind", sorted(ORG))
def test_structure_profiles_follow_the_note(pki: Pki, structure: Structure, kind: str) -> None:
    usages, eku, pkup = ORG[kind]
    ours = x509.load_pem_x509_certificate(pki.credentials(structure, kind).cert_pem)
    serv = real("SERV-SSL_SERV-TEST")
    assert [a.oid for a in ours.subject] == [a.oid for a in serv.subject]
    assert [a._type for a in ours.subject] == [a._type for a in serv.subject]
    assert ours.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)[0].value == structure.id_nat
    assert ours.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == structure.name
    assert ours.subject.get_attributes_for_oid(NameOID.STATE_OR_PROVINCE_NAME)[0].value == "Rhône (69)"
    cn = ours.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    assert cn == {"insi_auto": "INSI-AUTO", "insi_manu": "INSI-MANU"}.get(kind, structure.application)
    assert ours.issuer.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == (
        "TEST AC IGC-SANTE ELEMENTAIRE ORGANISATIONS"
    )
    ku = ours.extensions.get_extension_for_class(x509.KeyUsage)
    assert ku.critical
    flags = {
        f for f in ("digital_signature", "content_commitment", "key_encipherment") if getattr(ku.value, f)
    }
    assert flags == usages
    assert list(ours.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == eku
    has_pkup = any(e.oid == OID_PRIVATE_KEY_USAGE_PERIOD for e in ours.extensions)
    assert has_pkup == pkup
    category = ours.extensions.get_extension_for_oid(OID_CATEGORIE).value
    assert isinstance(category, x509.UnrecognizedExtension) and category.value == b"\x04\x01\x83"
    # the same publication pointers (AIA, CRL DP, Freshest CRL, policy) as the real SERV certificate
    for ext_class in (
        x509.AuthorityInformationAccess,
        x509.CRLDistributionPoints,
        x509.FreshestCRL,
        x509.CertificatePolicies,
    ):
        mine = ours.extensions.get_extension_for_class(ext_class).value  # type: ignore[type-var]
        ref = serv.extensions.get_extension_for_class(ext_class).value  # type: ignore[type-var]
        assert repr(mine) == to_sandbox(repr(ref), pki.urls)
