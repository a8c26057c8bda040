"""Our certificate profiles field by field against the decoded facts of the research note
`../shared/research/apcv-sesam-vitale-igc-sante.md`, part B (B1 hierarchy and naming, B2 end-entity
profiles). The expected values are written below as constants, each citing the section it comes
from; no third-party certificate file is kept in this repository. URLs are the real ones of the
note, compared once the real hosts are replaced by the sandbox's publication point (the path and
query shapes must match exactly).

When the steering repository holds the public TEST certificates the note was decoded from
(`../shared/specs/pki/real/*.pem`: ACR-EL-TEST and ACI-EL-ORG-TEST from padoa/tlsi-ins's history,
CPS-SIGN-TEST from padoa/tlsi-ins's AssertionPS fixture, SERV-SSL_SERV-TEST from
ansforge/dops-platines-application), `test_profiles_match_the_real_test_certificates` also compares
with them byte for byte, extension order included; without that folder it is skipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.name import _ASN1Type
from cryptography.x509.oid import (
    AuthorityInformationAccessOID,
    CertificatePoliciesOID,
    ExtendedKeyUsageOID,
    ExtensionOID,
    NameOID,
    ObjectIdentifier,
    SignatureAlgorithmOID,
)

from mocks.pki import Pki, Professional, Structure
from mocks.pki.names import Urls

# -- B1.1: hosts of the real publication points (rewritten to the sandbox's own) -----------------
REAL_HTTP = "http://igc-sante.esante.gouv.fr"  # B1.1 CRLs, CA certificates, /PC
REAL_OCSP = "http://ocsp.esante.gouv.fr"  # B1.1 "OCSP responder ... (same for test)"
REAL_LDAP = "ldap://annuaire-igc.esante.gouv.fr"  # B1.1 CRL DP of ACI-EL-ORG

# -- B1.1: the TEST hierarchy ----------------------------------------------------------------------
# "CA DN pattern": C=FR, O=ASIP-SANTE, OU=0002 187512751, OU=IGC-SANTE, CN=<name>;
# "Test CAs: OU=IGC-SANTE TEST and CN prefixed TEST"
CA_O = "ASIP-SANTE"
CA_OU_ID = "0002 187512751"
CA_OU_TEST = "IGC-SANTE TEST"
# "Three gammes, each a root with two intermediates (PERSONNES, ORGANISATIONS)", spelling FORT;
# file short names ACR-EL, ACI-EL-ORG, ACR-FO, ACI-FO-PP (+ -TEST), the others "follow the pattern"
TEST_CAS = {
    "ACR-EL-TEST": "TEST AC RACINE IGC-SANTE ELEMENTAIRE",
    "ACI-EL-PP-TEST": "TEST AC IGC-SANTE ELEMENTAIRE PERSONNES",
    "ACI-EL-ORG-TEST": "TEST AC IGC-SANTE ELEMENTAIRE ORGANISATIONS",
    "ACR-ST-TEST": "TEST AC RACINE IGC-SANTE STANDARD",
    "ACI-ST-PP-TEST": "TEST AC IGC-SANTE STANDARD PERSONNES",
    "ACI-ST-ORG-TEST": "TEST AC IGC-SANTE STANDARD ORGANISATIONS",
    "ACR-FO-TEST": "TEST AC RACINE IGC-SANTE FORT",
    "ACI-FO-PP-TEST": "TEST AC IGC-SANTE FORT PERSONNES",
    "ACI-FO-ORG-TEST": "TEST AC IGC-SANTE FORT ORGANISATIONS",
}
# Root ACR-EL and intermediate ACI-EL-ORG: RSA 4096, sha256WithRSA, 2013-06-25 -> 2033-06-25
# (root) / 2033-06-24 (intermediate); basicConstraints critical CA:TRUE, no pathlen (root) /
# pathlen:0; keyUsage critical keyCertSign+cRLSign; anyPolicy with CPS URI .../PC%20TEST
CA_KEY_SIZE = 4096
CA_NOT_BEFORE = date(2013, 6, 25)
CA_NOT_AFTER = {"ACR-EL-TEST": date(2033, 6, 25), "ACI-EL-ORG-TEST": date(2033, 6, 24)}
CA_KEY_USAGE = {"key_cert_sign", "crl_sign"}
CPS_URI = f"{REAL_HTTP}/PC%20TEST"  # B1.1 (root: "test: .../PC%20TEST"), B2 common
# The root lists BC, KU, certificatePolicies, SKI=AKI; the intermediate BC, KU, policy, CRL DPs
ROOT_EXTENSIONS = {
    ExtensionOID.BASIC_CONSTRAINTS,
    ExtensionOID.KEY_USAGE,
    ExtensionOID.CERTIFICATE_POLICIES,
    ExtensionOID.SUBJECT_KEY_IDENTIFIER,
    ExtensionOID.AUTHORITY_KEY_IDENTIFIER,
}
INTERMEDIATE_EXTENSIONS = {
    ExtensionOID.BASIC_CONSTRAINTS,
    ExtensionOID.KEY_USAGE,
    ExtensionOID.CERTIFICATE_POLICIES,
    ExtensionOID.CRL_DISTRIBUTION_POINTS,
}
# CRL DPs of ACI-EL-ORG: http://igc-sante.esante.gouv.fr/CRL/ACR-EL.crl and
# ldap://annuaire-igc.esante.gouv.fr/CN=AC%20RACINE%20IGC-SANTE%20ELEMENTAIRE,OU=IGC-SANTE,
# OU=0002%20187512751,O=ASIP-SANTE,C=FR?certificaterevocationlist;binary?base?objectclass=pkiCa
# (production names; the TEST ones per "Test CAs" and "File short names ... (+ -TEST)")
ROOT_CRL_HTTP = REAL_HTTP + "/CRL/{root}.crl"
ROOT_CRL_LDAP = (
    REAL_LDAP + "/CN={cn},OU={ou},OU=0002%20187512751,O=ASIP-SANTE,C=FR"
    "?certificaterevocationlist;binary?base?objectclass=pkiCa"
)
# "CA serials are 18 bytes starting 11 20 ...; end-entity serials are 16 random bytes"
CA_SERIAL_BYTES, CA_SERIAL_PREFIX = 18, b"\x11\x20"
EE_SERIAL_BYTES = 16

# -- B2: common to all decoded TEST end-entity certificates ----------------------------------------
EE_KEY_SIZE = 2048  # "RSA 2048"
SIGNATURE_ALGORITHM = SignatureAlgorithmOID.RSA_WITH_SHA256  # B1.1 and B2 "sha256WithRSAEncryption"
EE_VALIDITY_DAYS = (1095, 1096)  # "validity 3 years"
EE_POLICY = ObjectIdentifier("1.2.250.1.213.1.7.2.1.1.1.1")  # "with CPS qualifier .../PC%20TEST"
CRL_HTTP = REAL_HTTP + "/CRL/{ca}.crl"  # B1.1 ".../CRL/ACI-EL-ORG-TEST.crl, .../CRL/ACI-FO-PP-TEST.crl"
CA_ISSUERS = (
    REAL_HTTP + "/AC%20TEST/{ca}.cer"
)  # "caIssuers http://igc-sante.esante.gouv.fr/AC%20TEST/<CA>.cer"
DELTA_CRL_QUERY = "?deltarevocationlist;binary?base?objectClass=pkiCA"  # "Freshest CRL (ldap ...)"
OID_CATEGORIE = ObjectIdentifier("1.2.250.1.71.1.2.5")  # "catégorie, one-byte OCTET STRING"
OID_TYPE_PRODUIT = ObjectIdentifier("1.2.250.1.71.1.2.2")  # CPS row: INTEGER 0 (TRE_G02 00 CPS)
OID_CARD_SERIAL = ObjectIdentifier("1.2.250.1.71.1.2.3")  # CPS row: PrintableString
OID_PROFESSION = ObjectIdentifier("1.2.250.1.71.1.2.7")  # CPS row: INTEGER 60 (TRE_G15)
OID_PRIVATE_KEY_USAGE_PERIOD = ObjectIdentifier("2.5.29.16")  # "privateKeyUsagePeriod = validity"
COMMON_EXTENSIONS = {
    ExtensionOID.BASIC_CONSTRAINTS,  # "basicConstraints CA:FALSE (not critical)"
    ExtensionOID.SUBJECT_KEY_IDENTIFIER,  # "SKI + AKI"
    ExtensionOID.AUTHORITY_KEY_IDENTIFIER,
    ExtensionOID.KEY_USAGE,  # table column "keyUsage (critical)"
    ExtensionOID.CERTIFICATE_POLICIES,
    ExtensionOID.CRL_DISTRIBUTION_POINTS,  # "CRL DP (http + ldap)"
    ExtensionOID.FRESHEST_CRL,
    ExtensionOID.AUTHORITY_INFORMATION_ACCESS,  # "{OCSP ..., caIssuers ...}"
    OID_CATEGORIE,
}
# TRE_G01 (B2, "Meaning of the GIP-CPS OIDs"): 0x80 on the card certificate, 0x83 on software ones
CATEGORY_CARD, CATEGORY_SOFTWARE = b"\x04\x01\x80", b"\x04\x01\x83"

# -- B2 table: the decoded profiles ----------------------------------------------------------------
ELEMENTAIRE_ORGANISATIONS = TEST_CAS["ACI-EL-ORG-TEST"]  # ORG rows' issuer; B3 (INSi)
FORT_PERSONNES = TEST_CAS["ACI-FO-PP-TEST"]  # CPS row's issuer


@dataclass(frozen=True)
class Profile:
    key_usage: frozenset[str]  # cryptography's names: nonRepudiation = content_commitment
    eku: tuple[ObjectIdentifier, ...]
    category: bytes  # DER value of 1.2.250.1.71.1.2.5
    extra: frozenset[ObjectIdentifier]  # the "Other" column, beyond COMMON_EXTENSIONS and EKU
    issuer_cn: str | None  # None: the note does not say which CA issued it


ORG_AUTH_CLI = Profile(
    frozenset({"digital_signature"}),
    (ExtendedKeyUsageOID.CLIENT_AUTH,),
    CATEGORY_SOFTWARE,
    frozenset(),
    ELEMENTAIRE_ORGANISATIONS,
)
PROFILES = {
    "org_auth_cli": ORG_AUTH_CLI,
    # B3 / B2.1: INSi takes an ORG AUTH_CLI certificate whose CN is INSI-AUTO or INSI-MANU
    "insi_auto": ORG_AUTH_CLI,
    "insi_manu": ORG_AUTH_CLI,
    "org_sign": Profile(
        frozenset({"digital_signature", "content_commitment"}),
        (ExtendedKeyUsageOID.EMAIL_PROTECTION,),
        CATEGORY_SOFTWARE,
        frozenset({OID_PRIVATE_KEY_USAGE_PERIOD}),
        ELEMENTAIRE_ORGANISATIONS,
    ),
    "server": Profile(
        frozenset({"digital_signature", "key_encipherment"}),
        (ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH),
        CATEGORY_SOFTWARE,
        frozenset({ExtensionOID.SUBJECT_ALTERNATIVE_NAME}),  # "SAN dNSName x2"
        None,
    ),
    "cps_sign": Profile(
        frozenset({"content_commitment"}),
        (ExtendedKeyUsageOID.EMAIL_PROTECTION,),
        CATEGORY_CARD,
        frozenset({OID_PRIVATE_KEY_USAGE_PERIOD, OID_TYPE_PRODUIT, OID_CARD_SERIAL, OID_PROFESSION}),
        FORT_PERSONNES,
    ),
}
# cps_auth: no decoded CPS authentication certificate (note §7); only the common part is checked
ALL_KINDS = sorted([*PROFILES, "cps_auth"])

# B2 "Encoding details": C is PrintableString, other attributes UTF8String;
# ORG/SERV attribute order C, ST, O, OU, CN; CPS subject = C, title, then one RDN {GN, CN, SN}
PRINTABLE, UTF8 = _ASN1Type.PrintableString, _ASN1Type.UTF8String
ORG_LAYOUT = [
    NameOID.COUNTRY_NAME,
    NameOID.STATE_OR_PROVINCE_NAME,
    NameOID.ORGANIZATION_NAME,
    NameOID.ORGANIZATIONAL_UNIT_NAME,
    NameOID.COMMON_NAME,
]
# B2.1: ST = "Ville/Département (NN)"; OU = idNat_Struct = TRE_G07 prefix 0-4 (+ retired 5, 6)
ST_SHAPE = re.compile(r"^.+ \((\d{2}|2A|2B|\d{3})\)$")
ID_NAT_STRUCT_PREFIXES = "0123456"
INSI_CNS = {"insi_auto": "INSI-AUTO", "insi_manu": "INSI-MANU"}  # B2.1, B3

# B2 CPS row: SN=INFIRMCS ADELI8751+CN=00B6087510+GN=OLIVIER,title=Infirmier,C=FR
CARD = {"id_nat": "00B6087510", "given": "OLIVIER", "surname": "INFIRMCS ADELI8751", "title": "Infirmier"}
CARD_PROFESSION = b"\x02\x01\x3c"  # 1.2.250.1.71.1.2.7 = INTEGER 60
CARD_TYPE = b"\x02\x01\x00"  # 1.2.250.1.71.1.2.2 = INTEGER 0
# 1.2.250.1.71.1.2.3 = PrintableString "8025000001/2800636234": tag 0x13, 21 characters
CARD_SERIAL_HEADER, CARD_SERIAL_PREFIX = b"\x13\x15", b"8025000001/"
# B2 "Meaning of the GIP-CPS OIDs": TRE_G15 10 = Médecin, the title= of a doctor's card
DOCTOR_TITLE, DOCTOR_PROFESSION = "Médecin", b"\x02\x01\x0a"


# -- helpers --------------------------------------------------------------------------------------
def to_sandbox(text: str, urls: Urls) -> str:
    """The note's real URL with the sandbox's publication point in place of the real hosts."""
    return (
        text.replace(REAL_HTTP, urls.http_base)
        .replace(REAL_OCSP, urls.ocsp)
        .replace(REAL_LDAP, f"ldap://{urls.ldap_host}")
    )


def spaces(text: str) -> str:
    return text.replace(" ", "%20")


def name(*rdns: list[tuple[ObjectIdentifier, str]]) -> x509.Name:
    """A DN encoded per B2 "Encoding details" (C PrintableString, the rest UTF8String)."""
    return x509.Name(
        [
            x509.RelativeDistinguishedName(
                [
                    x509.NameAttribute(oid, v, PRINTABLE if oid == NameOID.COUNTRY_NAME else UTF8)
                    for oid, v in rdn
                ]
            )
            for rdn in rdns
        ]
    )


def ca_dn(cn: str) -> x509.Name:
    return name(
        [(NameOID.COUNTRY_NAME, "FR")],
        [(NameOID.ORGANIZATION_NAME, CA_O)],
        [(NameOID.ORGANIZATIONAL_UNIT_NAME, CA_OU_ID)],
        [(NameOID.ORGANIZATIONAL_UNIT_NAME, CA_OU_TEST)],
        [(NameOID.COMMON_NAME, cn)],
    )


def short_of(issuer: x509.Name) -> str:
    cn = issuer.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    return next(short for short, ca_cn in TEST_CAS.items() if ca_cn == cn)


def key_usage_flags(ku: x509.KeyUsage) -> set[str]:
    names = [
        "digital_signature",
        "content_commitment",
        "key_encipherment",
        "data_encipherment",
        "key_agreement",
        "key_cert_sign",
        "crl_sign",
    ]
    flags = {n for n in names if getattr(ku, n)}
    if ku.key_agreement:
        flags |= {n for n in ("encipher_only", "decipher_only") if getattr(ku, n)}
    return flags


def uris(points: x509.CRLDistributionPoints | x509.FreshestCRL) -> list[str]:
    out = []
    for point in points:
        assert point.full_name is not None
        out += [str(n.value) for n in point.full_name]
    return out


def ext(cert: x509.Certificate, oid: ObjectIdentifier) -> x509.Extension[x509.ExtensionType]:
    return cert.extensions.get_extension_for_oid(oid)


def raw(cert: x509.Certificate, oid: ObjectIdentifier) -> bytes:
    """The DER of an extension's value (cryptography may or may not parse it)."""
    return ext(cert, oid).value.public_bytes()


def assert_key_and_signature(cert: x509.Certificate, key_size: int) -> None:
    key = cert.public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    assert key.key_size == key_size
    assert cert.signature_algorithm_oid == SIGNATURE_ALGORITHM
    assert cert.version == x509.Version.v3  # extensions need v3 (RFC 5280 4.1.2.1)


def assert_issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> None:
    """The signature and the key identifiers chain (RFC 5280 4.2.1.1)."""
    cert.verify_directly_issued_by(issuer)
    aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    ski = issuer.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert aki.key_identifier == ski.digest


def certificate(pki: Pki, kind: str, structure: Structure, professional: Professional) -> x509.Certificate:
    if kind == "server":
        pem = pki.server_credentials(["insi.sandbox.test", "localhost"]).cert_pem
    elif kind.startswith("cps_"):
        pem = pki.issue(professional, kind).cert_pem
    else:
        pem = pki.credentials(structure, kind).cert_pem
    return x509.load_pem_x509_certificate(pem)


# -- B1: the CAs ----------------------------------------------------------------------------------
@pytest.mark.parametrize("short", ["ACR-EL-TEST", "ACI-EL-ORG-TEST"])
def test_decoded_cas_match_the_note(pki: Pki, short: str) -> None:
    ours = pki.ca(short).cert
    root = short.startswith("ACR-")
    parent = "ACR-EL-TEST"
    assert ours.subject.public_bytes() == ca_dn(TEST_CAS[short]).public_bytes()  # byte for byte
    assert ours.issuer.public_bytes() == ca_dn(TEST_CAS[parent]).public_bytes()
    assert ours.not_valid_before_utc.date() == CA_NOT_BEFORE
    assert ours.not_valid_after_utc.date() == CA_NOT_AFTER[short]
    assert_key_and_signature(ours, CA_KEY_SIZE)
    serial = ours.serial_number.to_bytes(CA_SERIAL_BYTES, "big")
    assert serial[:2] == CA_SERIAL_PREFIX

    oids = {e.oid for e in ours.extensions}
    if root:
        assert oids == ROOT_EXTENSIONS
    else:
        assert oids >= INTERMEDIATE_EXTENSIONS
    bc = ext(ours, ExtensionOID.BASIC_CONSTRAINTS)
    assert bc.critical
    assert bc.value == x509.BasicConstraints(ca=True, path_length=None if root else 0)
    ku = ext(ours, ExtensionOID.KEY_USAGE)
    assert ku.critical
    assert isinstance(ku.value, x509.KeyUsage) and key_usage_flags(ku.value) == CA_KEY_USAGE
    policies = ext(ours, ExtensionOID.CERTIFICATE_POLICIES).value
    assert policies == x509.CertificatePolicies(
        [x509.PolicyInformation(CertificatePoliciesOID.ANY_POLICY, [to_sandbox(CPS_URI, pki.urls)])]
    )
    if root:  # SKI = AKI
        ski = ours.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        aki = ours.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
        assert aki.key_identifier == ski.digest
        ours.verify_directly_issued_by(ours)
    else:
        points = ext(ours, ExtensionOID.CRL_DISTRIBUTION_POINTS).value
        assert isinstance(points, x509.CRLDistributionPoints)
        ldap = ROOT_CRL_LDAP.format(cn=spaces(TEST_CAS[parent]), ou=spaces(CA_OU_TEST))
        assert uris(points) == [
            to_sandbox(ROOT_CRL_HTTP.format(root=parent), pki.urls),
            to_sandbox(ldap, pki.urls),
        ]
        assert_issued_by(ours, pki.ca(parent).cert)


def test_every_ca_of_the_three_gammes_follows_the_pattern(pki: Pki) -> None:
    assert sorted(pki.cas) == sorted(TEST_CAS)
    for short, ca in pki.cas.items():
        assert ca.cert.subject.public_bytes() == ca_dn(TEST_CAS[short]).public_bytes()
        assert str(TEST_CAS[short]).startswith("TEST AC ")
        bc = ca.cert.extensions.get_extension_for_class(x509.BasicConstraints)
        assert bc.critical and bc.value.ca
        ku = ca.cert.extensions.get_extension_for_class(x509.KeyUsage)
        assert ku.critical and key_usage_flags(ku.value) == CA_KEY_USAGE
        assert ca.cert.serial_number.to_bytes(CA_SERIAL_BYTES, "big")[:2] == CA_SERIAL_PREFIX
        if short.startswith("ACR-"):
            assert bc.value.path_length is None
            assert ca.cert.issuer == ca.cert.subject
        else:
            assert bc.value.path_length == 0
            parent = pki.ca(short.replace("ACI-", "ACR-").rsplit("-", 2)[0] + "-TEST")
            assert ca.cert.issuer == parent.cert.subject
            ca.cert.verify_directly_issued_by(parent.cert)


# -- B2: end-entity certificates ------------------------------------------------------------------
@pytest.mark.parametrize("kind", ALL_KINDS)
def test_end_entity_common_part_follows_the_note(
    pki: Pki, structure: Structure, professional: Professional, kind: str
) -> None:
    ours = certificate(pki, kind, structure, professional)
    issuer = short_of(ours.issuer)
    assert ours.issuer.public_bytes() == ca_dn(TEST_CAS[issuer]).public_bytes()
    assert_issued_by(ours, pki.ca(issuer).cert)
    assert_key_and_signature(ours, EE_KEY_SIZE)
    assert (ours.not_valid_after_utc - ours.not_valid_before_utc).days in EE_VALIDITY_DAYS
    assert 0 < ours.serial_number < 1 << (8 * EE_SERIAL_BYTES)
    assert {e.oid for e in ours.extensions} >= COMMON_EXTENSIONS

    bc = ext(ours, ExtensionOID.BASIC_CONSTRAINTS)
    assert not bc.critical and bc.value == x509.BasicConstraints(ca=False, path_length=None)
    assert ext(ours, ExtensionOID.KEY_USAGE).critical
    policies = ext(ours, ExtensionOID.CERTIFICATE_POLICIES).value
    assert policies == x509.CertificatePolicies(
        [x509.PolicyInformation(EE_POLICY, [to_sandbox(CPS_URI, pki.urls)])]
    )
    points = ext(ours, ExtensionOID.CRL_DISTRIBUTION_POINTS).value
    assert isinstance(points, x509.CRLDistributionPoints)
    http, ldap = uris(points)  # http + ldap
    assert http == to_sandbox(CRL_HTTP.format(ca=issuer), pki.urls)
    assert ldap.startswith(to_sandbox(REAL_LDAP + "/", pki.urls))
    freshest = ext(ours, ExtensionOID.FRESHEST_CRL).value
    assert isinstance(freshest, x509.FreshestCRL)
    (delta,) = uris(freshest)
    assert delta.startswith(to_sandbox(REAL_LDAP + "/", pki.urls)) and delta.endswith(DELTA_CRL_QUERY)
    aia = ext(ours, ExtensionOID.AUTHORITY_INFORMATION_ACCESS).value
    assert isinstance(aia, x509.AuthorityInformationAccess)
    assert [(d.access_method, d.access_location.value) for d in aia] == [
        (AuthorityInformationAccessOID.OCSP, to_sandbox(REAL_OCSP, pki.urls)),
        (AuthorityInformationAccessOID.CA_ISSUERS, to_sandbox(CA_ISSUERS.format(ca=issuer), pki.urls)),
    ]
    category = raw(ours, OID_CATEGORIE)
    assert category == (CATEGORY_CARD if kind.startswith("cps_") else CATEGORY_SOFTWARE)


@pytest.mark.parametrize("kind", sorted(PROFILES))
def test_end_entity_profiles_follow_the_note_table(
    pki: Pki, structure: Structure, professional: Professional, kind: str
) -> None:
    profile = PROFILES[kind]
    ours = certificate(pki, kind, structure, professional)
    if profile.issuer_cn is not None:
        assert ours.issuer.public_bytes() == ca_dn(profile.issuer_cn).public_bytes()
    assert {e.oid for e in ours.extensions} == COMMON_EXTENSIONS | {
        ExtensionOID.EXTENDED_KEY_USAGE
    } | profile.extra
    ku = ext(ours, ExtensionOID.KEY_USAGE)
    assert ku.critical
    assert isinstance(ku.value, x509.KeyUsage) and key_usage_flags(ku.value) == profile.key_usage
    eku = ext(ours, ExtensionOID.EXTENDED_KEY_USAGE).value
    assert isinstance(eku, x509.ExtendedKeyUsage) and tuple(eku) == profile.eku
    assert raw(ours, OID_CATEGORIE) == profile.category
    if OID_PRIVATE_KEY_USAGE_PERIOD in profile.extra:
        # privateKeyUsagePeriod = validity: SEQUENCE { [0] GeneralizedTime, [1] GeneralizedTime }
        # (RFC 3280 4.2.1.4, DER)
        fmt = "%Y%m%d%H%M%SZ"
        assert raw(ours, OID_PRIVATE_KEY_USAGE_PERIOD) == (
            b"\x30\x22\x80\x0f"
            + ours.not_valid_before_utc.strftime(fmt).encode()
            + b"\x81\x0f"
            + ours.not_valid_after_utc.strftime(fmt).encode()
        )


@pytest.mark.parametrize("kind", ["org_auth_cli", "org_sign", "insi_auto", "insi_manu"])
def test_structure_subjects_follow_the_note(pki: Pki, structure: Structure, kind: str) -> None:
    ours = x509.load_pem_x509_certificate(pki.credentials(structure, kind).cert_pem)
    expected = name(
        [(NameOID.COUNTRY_NAME, "FR")],
        [(NameOID.STATE_OR_PROVINCE_NAME, structure.locality)],
        [(NameOID.ORGANIZATION_NAME, structure.name)],
        [(NameOID.ORGANIZATIONAL_UNIT_NAME, structure.id_nat)],  # idNat_Struct
        [(NameOID.COMMON_NAME, INSI_CNS.get(kind, structure.application))],
    )
    assert ours.subject.public_bytes() == expected.public_bytes()
    assert [a.oid for a in ours.subject] == ORG_LAYOUT
    assert ours.subject.get_attributes_for_oid(NameOID.STATE_OR_PROVINCE_NAME)[0].value == "Rhône (69)"
    assert ST_SHAPE.match(structure.locality)


def test_server_certificate_follows_the_serv_ssl_row(pki: Pki) -> None:
    ours = x509.load_pem_x509_certificate(pki.server_credentials(["insi.sandbox.test", "localhost"]).cert_pem)
    assert [a.oid for a in ours.subject] == ORG_LAYOUT  # C, ST, O, OU, CN
    assert all(len(rdn) == 1 for rdn in ours.subject.rdns)
    assert [a._type for a in ours.subject] == [PRINTABLE, UTF8, UTF8, UTF8, UTF8]
    assert ours.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "insi.sandbox.test"
    assert ST_SHAPE.match(str(ours.subject.get_attributes_for_oid(NameOID.STATE_OR_PROVINCE_NAME)[0].value))
    ou = str(ours.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)[0].value)
    assert ou[0] in ID_NAT_STRUCT_PREFIXES
    san = ours.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["insi.sandbox.test", "localhost"]


def test_cps_signature_certificate_matches_the_decoded_card(pki: Pki) -> None:
    # the very professional of the decoded card (idNat_PS 0 + ADELI): the subject must be identical
    pro = Professional(CARD["id_nat"], "Olivier", "Infirmcs Adeli8751", profession_code="60")
    ours = x509.load_pem_x509_certificate(pki.issue(pro, "cps_sign").cert_pem)
    expected = name(
        [(NameOID.COUNTRY_NAME, "FR")],
        [(NameOID.TITLE, CARD["title"])],
        [
            (NameOID.GIVEN_NAME, CARD["given"]),
            (NameOID.COMMON_NAME, CARD["id_nat"]),
            (NameOID.SURNAME, CARD["surname"]),
        ],
    )
    assert ours.subject.public_bytes() == expected.public_bytes()
    assert [len(rdn) for rdn in ours.subject.rdns] == [1, 1, 3]
    assert {a.oid for a in ours.subject.rdns[2]} == {NameOID.GIVEN_NAME, NameOID.COMMON_NAME, NameOID.SURNAME}
    assert ours.issuer.public_bytes() == ca_dn(FORT_PERSONNES).public_bytes()
    assert raw(ours, OID_TYPE_PRODUIT) == CARD_TYPE
    assert raw(ours, OID_PROFESSION) == CARD_PROFESSION
    card = raw(ours, OID_CARD_SERIAL)
    assert card[:2] == CARD_SERIAL_HEADER
    assert card[2:13] == CARD_SERIAL_PREFIX


def test_cps_signature_certificate_names_the_profession(pki: Pki, professional: Professional) -> None:
    doctor = Professional(professional.id_nat, "Jeanne", "Medecin", profession_code="10")
    ours = x509.load_pem_x509_certificate(pki.issue(doctor, "cps_sign").cert_pem)
    assert ours.subject.get_attributes_for_oid(NameOID.TITLE)[0].value == DOCTOR_TITLE
    assert raw(ours, OID_PROFESSION) == DOCTOR_PROFESSION  # INTEGER 10


# -- optional: the public TEST certificates themselves (steering repository only) -----------------
REAL_DIR = Path(__file__).resolve().parents[3] / "shared" / "specs" / "pki" / "real"
SKIP_VALUE = {ExtensionOID.SUBJECT_KEY_IDENTIFIER, ExtensionOID.AUTHORITY_KEY_IDENTIFIER}


def real(short: str) -> x509.Certificate:
    if not REAL_DIR.is_dir():
        pytest.skip(
            f"{REAL_DIR} is absent: the public TEST certificates are third-party files, kept only in the "
            "steering repository's shared/ folder; the note-based tests above cover the same profiles"
        )
    path = REAL_DIR / f"{short}.pem"
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    return x509.load_pem_x509_certificate(path.read_bytes())


def assert_same_extensions(
    ours: x509.Certificate, theirs: x509.Certificate, urls: Urls, free: set[ObjectIdentifier]
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


@pytest.mark.parametrize("short", ["ACR-EL-TEST", "ACI-EL-ORG-TEST", "CPS-SIGN-TEST", "SERV-SSL_SERV-TEST"])
def test_profiles_match_the_real_test_certificates(pki: Pki, structure: Structure, short: str) -> None:
    theirs = real(short)
    if short in TEST_CAS:
        ours = pki.ca(short).cert
        assert ours.not_valid_before_utc == theirs.not_valid_before_utc
        assert ours.not_valid_after_utc == theirs.not_valid_after_utc
        free: set[ObjectIdentifier] = set()
    elif short == "CPS-SIGN-TEST":
        pro = Professional(CARD["id_nat"], "Olivier", "Infirmcs Adeli8751", profession_code="60")
        ours = x509.load_pem_x509_certificate(pki.issue(pro, "cps_sign").cert_pem)
        free = {OID_PRIVATE_KEY_USAGE_PERIOD, OID_CARD_SERIAL}
    else:
        ours = x509.load_pem_x509_certificate(
            pki.server_credentials(["insi.sandbox.test", "localhost"]).cert_pem
        )
        free = {ExtensionOID.SUBJECT_ALTERNATIVE_NAME}
        assert [(a.oid, a._type) for a in ours.subject] == [(a.oid, a._type) for a in theirs.subject]
        # ORG certificates carry the same publication pointers as the real SERV certificate
        org = x509.load_pem_x509_certificate(pki.credentials(structure, "org_auth_cli").cert_pem)
        assert [(a.oid, a._type) for a in org.subject] == [(a.oid, a._type) for a in theirs.subject]
        for oid in (
            ExtensionOID.AUTHORITY_INFORMATION_ACCESS,
            ExtensionOID.CRL_DISTRIBUTION_POINTS,
            ExtensionOID.FRESHEST_CRL,
            ExtensionOID.CERTIFICATE_POLICIES,
        ):
            assert repr(ext(org, oid).value) == to_sandbox(repr(ext(theirs, oid).value), pki.urls)
    if short != "SERV-SSL_SERV-TEST":
        assert ours.subject.public_bytes() == theirs.subject.public_bytes()  # byte for byte
    assert ours.issuer.public_bytes() == theirs.issuer.public_bytes()
    theirs_key = theirs.public_key()
    assert isinstance(theirs_key, rsa.RSAPublicKey)
    assert_key_and_signature(ours, theirs_key.key_size)
    assert ours.signature_algorithm_oid == theirs.signature_algorithm_oid
    assert_same_extensions(ours, theirs, pki.urls, free)
    if short in TEST_CAS:
        assert theirs.serial_number.to_bytes(CA_SERIAL_BYTES, "big")[:2] == CA_SERIAL_PREFIX
    else:
        aki = ours.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
        assert aki.authority_cert_issuer is None  # keyid only, like the real ones
    if short == "CPS-SIGN-TEST":
        ref = raw(theirs, OID_CARD_SERIAL)
        assert raw(ours, OID_CARD_SERIAL)[:13] == ref[:13]
