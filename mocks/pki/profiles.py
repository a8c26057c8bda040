"""Certificate profiles of the TEST IGC-Santé, one per kind, from the decoded public TEST
certificates (research note B1, B2): subject layout, key usages, policies, CRL/OCSP pointers and
the GIP-CPS private extensions 1.2.250.1.71.1.2.x.

Where the note gives no decoded certificate (the CPS *authentication* certificate, the EKU of the
INSi certificates beyond AUTH_CLI), the choice is marked [inferred].
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.x509.name import _ASN1Type
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

from mocks.pki.model import Professional, Structure
from mocks.pki.names import CAS, Urls

# Certificate policy of every decoded TEST end-entity certificate (card and software alike)
TEST_POLICY = ObjectIdentifier("1.2.250.1.213.1.7.2.1.1.1.1")
ANY_POLICY = x509.oid.CertificatePoliciesOID.ANY_POLICY

# GIP-CPS private extensions (ANS NOS terminologies)
OID_TYPE_PRODUIT = ObjectIdentifier("1.2.250.1.71.1.2.2")  # TRE_G02: 0 CPS, 1 CPF, 2 CPE, 3 CPA
OID_CARD_SERIAL = ObjectIdentifier("1.2.250.1.71.1.2.3")  # "<issuer id>/<card serial>" [inferred]
OID_CATEGORIE = ObjectIdentifier("1.2.250.1.71.1.2.5")  # TRE_G01: 0x80 CPx TEST, 0x83 logiciel TEST
OID_PROFESSION = ObjectIdentifier("1.2.250.1.71.1.2.7")  # TRE_G15 ProfessionSante
OID_PRIVATE_KEY_USAGE_PERIOD = ObjectIdentifier("2.5.29.16")

CATEGORY_CARD_TEST = 0x80
CATEGORY_SOFTWARE_TEST = 0x83

# TRE_G15 ProfessionSante -> the title= of CPS certificates (the decoded card shows "Infirmier")
PROFESSION_TITLES = {
    "10": "Médecin",
    "21": "Pharmacien",
    "26": "Audioprothésiste",
    "28": "Opticien-Lunetier",
    "40": "Chirurgien-Dentiste",
    "50": "Sage-Femme",
    "60": "Infirmier",
    "69": "Infirmier psychiatrique",
    "70": "Masseur-Kinésithérapeute",
    "80": "Pédicure-Podologue",
    "81": "Orthoprothésiste",
    "82": "Podo-Orthésiste",
    "83": "Orthopédiste-Orthésiste",
    "84": "Oculariste",
    "85": "Epithésiste",
    "86": "Technicien de laboratoire médical",
    "91": "Orthophoniste",
    "92": "Orthoptiste",
    "94": "Ergothérapeute",
    "95": "Diététicien",
    "96": "Psychomotricien",
    "98": "Manipulateur ERM",
}

# The issuing CA of each kind: cards from FORT PERSONNES, software certificates from
# ELEMENTAIRE ORGANISATIONS (SERV from the same CA is [inferred]).
ISSUER_OF = {
    "cps_auth": "ACI-FO-PP-TEST",
    "cps_sign": "ACI-FO-PP-TEST",
    "org_auth_cli": "ACI-EL-ORG-TEST",
    "org_sign": "ACI-EL-ORG-TEST",
    "insi_auto": "ACI-EL-ORG-TEST",
    "insi_manu": "ACI-EL-ORG-TEST",
    "server": "ACI-EL-ORG-TEST",
}

# The sandbox's own structure, owner of its server certificates (a test SIRET, prefix 3)
SANDBOX_STRUCTURE = Structure(id_nat="399999999900000", name="SEGUR SANDBOX", locality="Paris (75)")


@dataclass(frozen=True)
class Usage:
    key_usage: frozenset[str]
    eku: tuple[ObjectIdentifier, ...]
    category: int
    key_usage_period: bool  # privateKeyUsagePeriod = validity (signature certificates)


USAGES: dict[str, Usage] = {
    "org_auth_cli": Usage(frozenset({"digital_signature"}), (ExtendedKeyUsageOID.CLIENT_AUTH,), 0x83, False),
    "insi_auto": Usage(frozenset({"digital_signature"}), (ExtendedKeyUsageOID.CLIENT_AUTH,), 0x83, False),
    "insi_manu": Usage(frozenset({"digital_signature"}), (ExtendedKeyUsageOID.CLIENT_AUTH,), 0x83, False),
    "org_sign": Usage(
        frozenset({"digital_signature", "content_commitment"}),
        (ExtendedKeyUsageOID.EMAIL_PROTECTION,),
        0x83,
        True,
    ),
    "server": Usage(
        frozenset({"digital_signature", "key_encipherment"}),
        (ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH),
        0x83,
        False,
    ),
    # [inferred] no decoded CPS authentication certificate is public; the card's auth key also
    # deciphers (B2.3), hence keyEncipherment.
    "cps_auth": Usage(
        frozenset({"digital_signature", "key_encipherment"}), (ExtendedKeyUsageOID.CLIENT_AUTH,), 0x80, False
    ),
    "cps_sign": Usage(frozenset({"content_commitment"}), (ExtendedKeyUsageOID.EMAIL_PROTECTION,), 0x80, True),
}


# -- subjects -----------------------------------------------------------------------------------
def _utf8(oid: ObjectIdentifier, value: str) -> x509.NameAttribute:
    return x509.NameAttribute(oid, value, _ASN1Type.UTF8String)


def _country() -> x509.RelativeDistinguishedName:
    return x509.RelativeDistinguishedName(
        [x509.NameAttribute(NameOID.COUNTRY_NAME, "FR", _ASN1Type.PrintableString)]
    )


def org_subject(structure: Structure, cn: str) -> x509.Name:
    """`C=FR, ST=<locality>, O=<name>, OU=<idNat_Struct>, CN=<cn>` (the order of the real certs)."""
    return x509.Name(
        [
            _country(),
            x509.RelativeDistinguishedName([_utf8(NameOID.STATE_OR_PROVINCE_NAME, structure.locality)]),
            x509.RelativeDistinguishedName([_utf8(NameOID.ORGANIZATION_NAME, structure.name)]),
            x509.RelativeDistinguishedName([_utf8(NameOID.ORGANIZATIONAL_UNIT_NAME, structure.id_nat)]),
            x509.RelativeDistinguishedName([_utf8(NameOID.COMMON_NAME, cn)]),
        ]
    )


def cps_subject(pro: Professional) -> x509.Name:
    """`C=FR, title=<profession>, {GN, CN=<idNat_PS>, SN}`: one multi-valued RDN, as on the card."""
    title = PROFESSION_TITLES.get(pro.profession_code, "Professionnel de santé")
    return x509.Name(
        [
            _country(),
            x509.RelativeDistinguishedName([_utf8(NameOID.TITLE, title)]),
            x509.RelativeDistinguishedName(
                [
                    _utf8(NameOID.GIVEN_NAME, pro.first_name.upper()),
                    _utf8(NameOID.COMMON_NAME, pro.id_nat),
                    _utf8(NameOID.SURNAME, pro.last_name.upper()),
                ]
            ),
        ]
    )


def subject_cn(kind: str, structure: Structure | None, hostnames: list[str] | None = None) -> str:
    if kind == "insi_auto":
        return "INSI-AUTO"
    if kind == "insi_manu":
        return "INSI-MANU"
    if kind == "server":
        return (hostnames or ["localhost"])[0]
    assert structure is not None
    return structure.application


# -- DER helpers for the private extensions -----------------------------------------------------
def _der(tag: int, content: bytes) -> bytes:
    n = len(content)
    if n < 0x80:
        length = bytes([n])
    else:
        raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(raw)]) + raw
    return bytes([tag]) + length + content


def der_integer(value: int) -> bytes:
    raw = value.to_bytes(max(1, (value.bit_length() + 8) // 8), "big", signed=True)
    return _der(0x02, raw)


def der_octets(value: bytes) -> bytes:
    return _der(0x04, value)


def der_printable(value: str) -> bytes:
    return _der(0x13, value.encode("ascii"))


def der_key_usage_period(not_before: datetime, not_after: datetime) -> bytes:
    """PrivateKeyUsagePeriod ::= SEQUENCE { notBefore [0] GeneralizedTime, notAfter [1] ... }."""
    fmt = "%Y%m%d%H%M%SZ"
    return _der(
        0x30,
        _der(0x80, not_before.strftime(fmt).encode()) + _der(0x81, not_after.strftime(fmt).encode()),
    )


def _unrecognized(oid: ObjectIdentifier, value: bytes) -> x509.UnrecognizedExtension:
    return x509.UnrecognizedExtension(oid, value)


# -- extensions ---------------------------------------------------------------------------------
def _key_usage(flags: frozenset[str], ca: bool = False) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature="digital_signature" in flags,
        content_commitment="content_commitment" in flags,
        key_encipherment="key_encipherment" in flags,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def _policies(oid: ObjectIdentifier, urls: Urls) -> x509.CertificatePolicies:
    return x509.CertificatePolicies([x509.PolicyInformation(oid, [urls.policy])])


def _general_name(host: str) -> x509.GeneralName:
    """dNSName like the real SERV certificates; an IP literal (e.g. 127.0.0.1) as iPAddress."""
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)


def _uri_points(*uris: str) -> list[x509.DistributionPoint]:
    return [x509.DistributionPoint([x509.UniformResourceIdentifier(u)], None, None, None) for u in uris]


def ca_extensions(
    short: str, public_key: RSAPublicKey, issuer_key: RSAPublicKey, urls: Urls
) -> list[tuple[x509.ExtensionType, bool]]:
    """In the order of the decoded ACR-EL-TEST / ACI-EL-ORG-TEST: BC, KU, CP, [CRL DP], SKI, AKI."""
    spec = CAS[short]
    exts: list[tuple[x509.ExtensionType, bool]] = [
        (x509.BasicConstraints(ca=True, path_length=None if spec.is_root else 0), True),
        (_key_usage(frozenset(), ca=True), True),
        (_policies(ANY_POLICY, urls), False),
    ]
    if spec.parent is not None:
        points = _uri_points(urls.crl(spec.parent), urls.ldap_root_crl(spec.parent))
        exts.append((x509.CRLDistributionPoints(points), False))
    exts += [
        (x509.SubjectKeyIdentifier.from_public_key(public_key), False),
        (x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key), False),
    ]
    return exts


def end_entity_extensions(
    kind: str,
    issuer_short: str,
    public_key: RSAPublicKey,
    issuer_key: RSAPublicKey,
    urls: Urls,
    not_before: datetime,
    not_after: datetime,
    professional: Professional | None = None,
    hostnames: list[str] | None = None,
    card_serial: str = "",
) -> list[tuple[x509.ExtensionType, bool]]:
    """In the order of the decoded TEST card and SERV certificates: BC, SKI, AKI, KU, CP, EKU,
    [privateKeyUsagePeriod], [SAN], CRL DP, Freshest CRL, AIA, then 1.2.250.1.71.1.2.5/.2/.3/.7."""
    usage = USAGES[kind]
    exts: list[tuple[x509.ExtensionType, bool]] = [
        (x509.BasicConstraints(ca=False, path_length=None), False),
        (x509.SubjectKeyIdentifier.from_public_key(public_key), False),
        (x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key), False),
        (_key_usage(usage.key_usage), True),
        (_policies(TEST_POLICY, urls), False),
        (x509.ExtendedKeyUsage(list(usage.eku)), False),
    ]
    if usage.key_usage_period:
        exts.append(
            (_unrecognized(OID_PRIVATE_KEY_USAGE_PERIOD, der_key_usage_period(not_before, not_after)), False)
        )
    if kind == "server":
        exts.append(
            (x509.SubjectAlternativeName([_general_name(h) for h in hostnames or ["localhost"]]), False)
        )
    exts += [
        (x509.CRLDistributionPoints(_uri_points(urls.crl(issuer_short), urls.ldap_crl(issuer_short))), False),
        (x509.FreshestCRL(_uri_points(urls.ldap_delta_crl(issuer_short))), False),
        (
            x509.AuthorityInformationAccess(
                [
                    x509.AccessDescription(
                        x509.oid.AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(urls.ocsp)
                    ),
                    x509.AccessDescription(
                        x509.oid.AuthorityInformationAccessOID.CA_ISSUERS,
                        x509.UniformResourceIdentifier(urls.ca_cert(issuer_short)),
                    ),
                ]
            ),
            False,
        ),
        (_unrecognized(OID_CATEGORIE, der_octets(bytes([usage.category]))), False),
    ]
    if professional is not None:
        exts.append((_unrecognized(OID_TYPE_PRODUIT, der_integer(professional.card_type)), False))
        exts.append((_unrecognized(OID_CARD_SERIAL, der_printable(card_serial)), False))
        exts.append((_unrecognized(OID_PROFESSION, der_integer(int(professional.profession_code))), False))
    return exts
