"""XML-DSig verification (signxml) of what LGCs sign with their certificates: the INSi AssertionPS
(CPS signature certificate), the DMP VIHF (ORG SIGN or CPS signature certificate).

The signature is checked against the certificate carried in its KeyInfo; that certificate is then
judged like a TLS caller (`identify`): the service decides what an expired, revoked or foreign
signer means, as the real service would.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from cryptography import x509
from lxml import etree
from signxml import SignatureConfiguration, XMLVerifier
from signxml.algorithms import DigestAlgorithm, SignatureMethod
from signxml.exceptions import InvalidInput, InvalidSignature

from mocks.pki.identify import identify
from mocks.pki.model import CallerCertificate

if TYPE_CHECKING:
    from mocks.pki.authority import Pki

DS = "http://www.w3.org/2000/09/xmldsig#"


class SignatureInvalid(ValueError):
    """The XML signature is missing, malformed, or does not verify (`reason` says which)."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason  # "missing", "malformed", "no_certificate", "invalid"


@dataclass(frozen=True)
class XmlSignature:
    caller: CallerCertificate  # the signing certificate, identified on the tenant's clock
    signed: Any = field(repr=False)  # the signed element (lxml), as signxml returns it
    signature_method: str = ""
    digest_method: str = ""
    c14n_method: str = ""


def _element(xml: Any) -> Any:
    if isinstance(xml, bytes | str):
        try:
            parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=False)
            return etree.fromstring(xml.encode() if isinstance(xml, str) else xml, parser)
        except etree.XMLSyntaxError as exc:
            raise SignatureInvalid("malformed", f"not well-formed XML: {exc}") from None
    return xml


def verify(
    pki: Pki,
    xml: Any,
    tenant: str = "default",
    *,
    expect_references: int = 1,
    allow_sha1: bool = False,
    judge_validity: bool = True,
) -> XmlSignature:
    """Verify the first ds:Signature of `xml` with its KeyInfo certificate.

    `allow_sha1` accepts rsa-sha1 / sha1 (the official DMP examples of 2019-2020 use them; signxml
    refuses them by default). `judge_validity=False` leaves the certificate's validity period to
    `caller.status` (judged on the tenant's sandbox clock) instead of signxml's check against the
    real time, which would call an expired signer's valid signature "invalid"."""
    root = _element(xml)
    signature = root if root.tag == f"{{{DS}}}Signature" else root.find(f".//{{{DS}}}Signature")
    if signature is None:
        raise SignatureInvalid("missing", "no ds:Signature element")
    cert_text = signature.findtext(f"{{{DS}}}KeyInfo/{{{DS}}}X509Data/{{{DS}}}X509Certificate")
    if not cert_text or not cert_text.strip():
        raise SignatureInvalid("no_certificate", "ds:Signature has no KeyInfo/X509Data/X509Certificate")
    try:
        der = base64.b64decode("".join(cert_text.split()), validate=True)
        cert = x509.load_der_x509_certificate(der)
    except ValueError as exc:
        raise SignatureInvalid("no_certificate", f"X509Certificate is not a DER certificate: {exc}") from None
    caller = identify(pki, der, tenant)
    config = SignatureConfiguration(expect_references=expect_references)
    if allow_sha1:
        config = replace(
            config,
            signature_methods=frozenset(m for m in SignatureMethod if not m.name.startswith("HMAC")),
            digest_algorithms=frozenset(DigestAlgorithm),
        )
    if not judge_validity:
        config = replace(config, verification_time=cert.not_valid_before_utc)
    try:
        # the document is verified as given; the KeyInfo certificate is the key (trust: `caller`)
        result = XMLVerifier().verify(root, x509_cert=cert, expect_config=config)
    except InvalidSignature as exc:
        raise SignatureInvalid("invalid", f"signature does not verify: {exc}") from None
    except InvalidInput as exc:
        raise SignatureInvalid("malformed", f"signature cannot be processed: {exc}") from None
    first = result[0] if isinstance(result, list) else result
    info = signature.find(f"{{{DS}}}SignedInfo")
    method = info.find(f"{{{DS}}}SignatureMethod") if info is not None else None
    digest = info.find(f".//{{{DS}}}DigestMethod") if info is not None else None
    c14n = info.find(f"{{{DS}}}CanonicalizationMethod") if info is not None else None
    return XmlSignature(
        caller=caller,
        signed=first.signed_xml,
        signature_method=method.get("Algorithm", "") if method is not None else "",
        digest_method=digest.get("Algorithm", "") if digest is not None else "",
        c14n_method=c14n.get("Algorithm", "") if c14n is not None else "",
    )
