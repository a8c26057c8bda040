"""What the PKI hands to the rest of the sandbox: subjects in, credentials and identities out."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

Kind = Literal["cps_auth", "cps_sign", "org_auth_cli", "org_sign", "insi_auto", "insi_manu", "server"]
CallerKind = Literal[
    "cps_auth", "cps_sign", "org_auth_cli", "org_sign", "insi_auto", "insi_manu", "server", "unknown"
]
Status = Literal["valid", "expired", "not_yet_valid", "revoked", "unknown_issuer", "absent"]
Validity = Literal["current", "expired", "not_yet_valid"]


class PkiError(Exception):
    """Base of the PKI's errors; `status` is the HTTP status the control API answers with."""

    status = 400


class UnknownPersona(PkiError, LookupError):
    status = 404

    def __init__(self, persona: str, detail: str = ""):
        super().__init__(f"unknown persona: {persona}" + (f" ({detail})" if detail else ""))
        self.persona = persona


class UnknownCertificate(PkiError, LookupError):
    status = 404

    def __init__(self, serial: str):
        super().__init__(f"unknown certificate serial: {serial}")
        self.serial = serial


class BadRequest(PkiError, ValueError):
    status = 400


@dataclass(frozen=True)
class Professional:
    """A health professional as the CPS card certificates name them."""

    id_nat: str  # idNat_PS: 8 + RPPS (e.g. "810002813839") or 0 + ADELI (e.g. "00B6087510")
    first_name: str
    last_name: str
    profession_code: str = "10"  # TRE_G15 ProfessionSante: 10 Médecin, 60 Infirmier, ...
    card_type: int = 0  # TRE_G02 TypeProduit: 0 CPS, 1 CPF, 2 CPE, 3 CPA
    card_serial: str = ""  # the CPS card's number, in 1.2.250.1.71.1.2.3 "8025000001/<serial>"
    certificate_state: str = "valid"  # first certificates: valid, expired, not_yet_valid or revoked


@dataclass(frozen=True)
class Structure:
    """A structure (cabinet, centre de santé, établissement) as the ORG certificates name it."""

    id_nat: str  # idNat_Struct: TRE_G07 prefix + identifier (e.g. "11B0073160" = 1 + FINESS)
    name: str  # O=
    locality: str = "Paris (75)"  # ST= "Ville/Département (NN)"
    application: str = "LGC SEGUR SANDBOX"  # CN= of AUTH_CLI / SIGN (free text naming the software)
    certificate_state: str = "valid"  # first certificates: valid, expired, not_yet_valid or revoked


@dataclass(frozen=True)
class Credentials:
    """One issued certificate with its key, as the persona downloads them."""

    serial: str  # lowercase hex, no separators
    kind: Kind
    persona: str
    subject: str  # RFC 4514
    issuer: str  # short CA name, e.g. "ACI-EL-ORG-TEST"
    not_before: datetime
    not_after: datetime
    cert_pem: bytes
    key_pem: bytes  # PKCS#8, unencrypted
    chain_pem: bytes  # intermediate then root
    file_stem: str  # e.g. "asip-p12-EL-TEST-ORG-AUTH_CLI-20260101-120000-AUTO"
    revoked_at: datetime | None = None

    @property
    def fullchain_pem(self) -> bytes:
        return self.cert_pem + self.chain_pem


@dataclass(frozen=True)
class CallerCertificate:
    """A certificate a caller presented (TLS client certificate, XML signature), judged on the
    sandbox clock of the caller's tenant."""

    kind: CallerKind
    status: Status
    subject: str = ""  # RFC 4514, e.g. "CN=INSI-AUTO,OU=11B0073160,O=...,ST=Paris (75),C=FR"
    saml_name: str = ""  # the DN as Java's X500Principal prints it, e.g. AssertionPS <Issuer>:
    # "2.5.4.42=OLIVIER+CN=00B6087510+SN=INFIRMCS ADELI8751,T=Infirmier,C=FR"
    cn: str = ""
    ou: str = ""
    serial: str = ""  # lowercase hex
    issuer: str = ""  # issuer CN, e.g. "TEST AC IGC-SANTE ELEMENTAIRE ORGANISATIONS"
    issuer_short: str = ""  # e.g. "ACI-EL-ORG-TEST" (empty when not one of ours)
    persona: str = ""  # idNat_PS (CPS) or idNat_Struct (ORG / INSI); "" when unknown
    not_before: datetime | None = None
    not_after: datetime | None = None
    sha256: str = ""  # hex fingerprint of the DER (x5t#S256 is its base64url)
    der: bytes = field(default=b"", repr=False)
    issued_here: bool = False  # True when this sandbox issued it (persona and kind are then exact)

    @property
    def ok(self) -> bool:
        return self.status == "valid"

    @property
    def x5t_s256(self) -> str:
        """base64url SHA-256 thumbprint of the DER (RFC 8705 `cnf.x5t#S256`), "" when absent."""
        if not self.sha256:
            return ""
        return base64.urlsafe_b64encode(bytes.fromhex(self.sha256)).rstrip(b"=").decode()
