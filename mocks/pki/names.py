"""Names of the fake IGC-Santé: the TEST CAs, their distinguished names, and the URLs and file
names of what the real PKI publishes (research note apcv-sesam-vitale-igc-sante.md, B1).

The real TEST hierarchy has three "gammes" (ELEMENTAIRE, STANDARD, FORT), each a root with two
intermediates (PERSONNES, ORGANISATIONS). Short names follow the real files: `ACR-EL-TEST`,
`ACI-EL-ORG-TEST`, `ACI-FO-PP-TEST`, ... URLs keep the real path shapes (`/CRL/<short>.crl`,
`/AC%20TEST/<short>.cer`, OCSP at `/`) on the sandbox's own PKI listener.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote

from cryptography.x509 import Name, NameAttribute
from cryptography.x509.name import _ASN1Type
from cryptography.x509.oid import NameOID

# Common to every IGC-Santé CA DN: O=ASIP-SANTE, OU=0002 187512751 (ICD 0002 + SIREN of ASIP Santé)
CA_ORGANISATION = "ASIP-SANTE"
CA_ORG_ID = "0002 187512751"
CA_OU_TEST = "IGC-SANTE TEST"

# Validity of the real IGC-Santé CAs (ACR-EL: 2013-06-25 -> 2033-06-25; ACI: -> 2033-06-24)
CA_NOT_BEFORE = datetime(2013, 6, 25, tzinfo=UTC)
ROOT_NOT_AFTER = datetime(2033, 6, 25, tzinfo=UTC)
INTERMEDIATE_NOT_AFTER = datetime(2033, 6, 24, tzinfo=UTC)

GAMMES = {"EL": "ELEMENTAIRE", "ST": "STANDARD", "FO": "FORT"}
FAMILIES = {"PP": "PERSONNES", "ORG": "ORGANISATIONS"}


@dataclass(frozen=True)
class CaSpec:
    """One CA of the TEST hierarchy."""

    short: str  # file short name, e.g. "ACI-EL-ORG-TEST"
    cn: str  # e.g. "TEST AC IGC-SANTE ELEMENTAIRE ORGANISATIONS"
    parent: str | None  # short name of the issuing root; None for a root

    @property
    def is_root(self) -> bool:
        return self.parent is None

    @property
    def name(self) -> Name:
        return ca_name(self.cn)


def _specs() -> dict[str, CaSpec]:
    specs: dict[str, CaSpec] = {}
    for gamme, label in GAMMES.items():
        root = f"ACR-{gamme}-TEST"
        specs[root] = CaSpec(root, f"TEST AC RACINE IGC-SANTE {label}", None)
        for family, family_label in FAMILIES.items():
            short = f"ACI-{gamme}-{family}-TEST"
            specs[short] = CaSpec(short, f"TEST AC IGC-SANTE {label} {family_label}", root)
    return specs


CAS: dict[str, CaSpec] = _specs()
ROOTS = [s for s in CAS.values() if s.is_root]
INTERMEDIATES = [s for s in CAS.values() if not s.is_root]


def ca_name(cn: str) -> Name:
    """`C=FR, O=ASIP-SANTE, OU=0002 187512751, OU=IGC-SANTE TEST, CN=<cn>` (C PrintableString)."""
    return Name(
        [
            NameAttribute(NameOID.COUNTRY_NAME, "FR", _ASN1Type.PrintableString),
            NameAttribute(NameOID.ORGANIZATION_NAME, CA_ORGANISATION),
            NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, CA_ORG_ID),
            NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, CA_OU_TEST),
            NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


def ldap_root_dn(root_cn: str) -> str:
    """A root's DN as the intermediates' LDAP CRL pointer spells it (upper-case, CN first)."""
    return quote(f"CN={root_cn},OU={CA_OU_TEST},OU={CA_ORG_ID},O={CA_ORGANISATION},C=FR", safe="=,")


def ldap_issuer_dn(ca_cn: str, root_cn: str) -> str:
    """An intermediate's DN as the end-entity certificates' LDAP pointers spell it: lower-case
    attribute names and the root's name as an extra `ou` (seen on the decoded TEST certificates)."""
    return quote(
        f"cn={ca_cn},ou={root_cn},ou={CA_OU_TEST},ou={CA_ORG_ID},o={CA_ORGANISATION},c=FR", safe="=,"
    )


@dataclass(frozen=True)
class Urls:
    """Where this sandbox publishes what igc-sante.esante.gouv.fr / ocsp.esante.gouv.fr publish."""

    http_base: str  # e.g. "http://localhost:4603"
    ldap_host: str  # e.g. "localhost" (no LDAP server is run: the URL only keeps the real shape)

    def crl(self, short: str) -> str:
        return f"{self.http_base}/CRL/{short}.crl"

    def ca_cert(self, short: str) -> str:
        return f"{self.http_base}/AC%20TEST/{short}.cer"

    @property
    def ocsp(self) -> str:
        return self.http_base  # the real one: "http://ocsp.esante.gouv.fr", no path

    @property
    def policy(self) -> str:
        return f"{self.http_base}/PC%20TEST"

    @property
    def chain_p7b(self) -> str:
        return f"{self.http_base}/AC%20TEST/Chaine_de_certification-IGC-Sante-TEST.p7b"

    def ldap_root_crl(self, root: str) -> str:
        """CRL of a root, as written in its intermediates."""
        dn = ldap_root_dn(CAS[root].cn)
        return f"ldap://{self.ldap_host}/{dn}?certificaterevocationlist;binary?base?objectclass=pkiCa"

    def ldap_crl(self, issuer: str) -> str:
        """CRL of an intermediate, as written in its end-entity certificates."""
        dn = ldap_issuer_dn(CAS[issuer].cn, CAS[str(CAS[issuer].parent)].cn)
        return f"ldap://{self.ldap_host}/{dn}?certificaterevocationlist;binary?base?objectClass=pkiCA"

    def ldap_delta_crl(self, issuer: str) -> str:
        dn = ldap_issuer_dn(CAS[issuer].cn, CAS[str(CAS[issuer].parent)].cn)
        return f"ldap://{self.ldap_host}/{dn}?deltarevocationlist;binary?base?objectClass=pkiCA"


# Kinds of end-entity certificates (CallerCertificate.kind adds "unknown")
KINDS = ("cps_auth", "cps_sign", "org_auth_cli", "org_sign", "insi_auto", "insi_manu", "server")
PROFESSIONAL_KINDS = ("cps_auth", "cps_sign")
STRUCTURE_KINDS = ("org_auth_cli", "org_sign", "insi_auto", "insi_manu")

# Real ANS test file names: asip-p12-EL-TEST-ORG-AUTH_CLI-<yyyymmdd-hhmmss>[-AUTO|-MANU].p12
_FILE_USAGE = {
    "org_auth_cli": "EL-TEST-ORG-AUTH_CLI",
    "org_sign": "EL-TEST-ORG-SIGN",
    "insi_auto": "EL-TEST-ORG-AUTH_CLI",
    "insi_manu": "EL-TEST-ORG-AUTH_CLI",
    "server": "EL-TEST-SERV-SSL_SERV",
    "cps_auth": "FO-TEST-PS-AUTH",
    "cps_sign": "FO-TEST-PS-SIGN",
}
_FILE_SUFFIX = {"insi_auto": "-AUTO", "insi_manu": "-MANU"}


def file_stem(kind: str, issued: datetime) -> str:
    """`asip-p12-EL-TEST-ORG-AUTH_CLI-20250403-101500-AUTO`: the real stem for ORG and SERV files;
    CPS certificates live on cards in reality, their stem follows the same pattern [inferred]."""
    stamp = issued.astimezone(UTC).strftime("%Y%m%d-%H%M%S")
    return f"asip-p12-{_FILE_USAGE[kind]}-{stamp}{_FILE_SUFFIX.get(kind, '')}"
