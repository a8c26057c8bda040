"""The XAdES signature of an XDS submission set (the DMP's "lot de soumission signé"), shaped like
the official `TD2.1-SignatureXades.xml` and DRIMbox's XadesSign (research dmp.md §2.4):

    ds:Signature @Id
      SignedInfo: C14N 1.0 with comments, RSA-SHA256; references #IHEManifest (Type ds#Manifest)
        and #S0-SignedProperties (Type XAdES 1.1.1 SignedProperties)
      SignatureValue, KeyInfo/X509Data/X509Certificate (the CPS *signature* certificate)
      Object/Manifest @Id=IHEManifest: urn:oid:<submission set uniqueId> with the dummy digest
        `AA==`, urn:oid:<document uniqueId> with the SHA-256 of the CDA after C14N with comments
      Object/SignatureProperties/SignatureProperty @Id=purposeOfSignature = 1.2.840.10065.1.12.1.14
      Object/QualifyingProperties @Target / SignedProperties @Id=S0-SignedProperties:
        SigningTime, SigningCertificate/Cert (CertDigest, IssuerSerial) for the signer and its
        chain, SignaturePolicyImplied; SignedDataObjectProperties

No library writes this Manifest-based detached shape, so it is built with lxml; digests and the
signature are computed with hashlib and cryptography and the result is checked with signxml's
verifier before it leaves (`verify`). Same-document references without Transforms are digested
over the inclusive C14N 1.0 (without comments) of the element, as XML-DSig §4.3.3.3 says.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from datetime import UTC, datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from lxml import etree
from signxml import SignatureConfiguration, XMLVerifier

from demo.pki import Credential

DS = "http://www.w3.org/2000/09/xmldsig#"
XADES = "http://uri.etsi.org/01903/v1.1.1#"
C14N_COMMENTS = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
SHA1 = "http://www.w3.org/2000/09/xmldsig#sha1"
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
PURPOSE_SOURCE = "1.2.840.10065.1.12.1.14"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _c14n(element: etree._Element, comments: bool) -> bytes:
    # a standalone copy carries its in-scope namespaces (lxml's sub-tree C14N can add xmlns="")
    copy = etree.fromstring(etree.tostring(element), _PARSER)
    return etree.tostring(copy, method="c14n", exclusive=False, with_comments=comments)


def document_digest(cda: bytes) -> str:
    tree = etree.fromstring(cda, _PARSER).getroottree()
    return _b64(hashlib.sha256(etree.tostring(tree, method="c14n", with_comments=True)).digest())


def _e(
    tag: str, *children: etree._Element, text: str | None = None, ns: str = DS, **attrs: str
) -> etree._Element:
    el = etree.Element(f"{{{ns}}}{tag}", **attrs)
    el.text = text
    el.extend(children)
    return el


def sign_lot(signer: Credential, submission_set: str, documents: dict[str, bytes]) -> bytes:
    """The XAdES of a lot: `documents` = {uniqueId: CDA bytes}."""
    cert = signer.certificate()
    key = serialization.load_pem_private_key(signer.key_pem(), None)
    assert isinstance(key, rsa.RSAPrivateKey)
    sig_id = f"_{uuid.uuid4()}"
    refs = [
        _e(
            "Reference",
            _e("DigestMethod", Algorithm=SHA256),
            _e("DigestValue", text="AA=="),
            URI=f"urn:oid:{submission_set}",
        )
    ]
    for unique_id, data in documents.items():
        refs.append(
            _e(
                "Reference",
                _e("Transforms", _e("Transform", Algorithm=C14N_COMMENTS)),
                _e("DigestMethod", Algorithm=SHA256),
                _e("DigestValue", text=document_digest(data)),
                URI=f"urn:oid:{unique_id}",
            )
        )
    manifest = _e("Manifest", *refs, Id="IHEManifest")
    chain = [cert, *x509.load_pem_x509_certificates(signer.cert.read_bytes())[1:]]
    certs = [
        _e(
            "Cert",
            _e(
                "CertDigest",
                _e("DigestMethod", Algorithm=SHA1),
                _e(
                    "DigestValue",
                    text=_b64(hashlib.sha1(c.public_bytes(serialization.Encoding.DER)).digest()),
                ),
                ns=XADES,
            ),  # noqa: S324 - the official profile's CertDigest
            _e(
                "IssuerSerial",
                _e("X509IssuerName", text=c.issuer.rfc4514_string()),
                _e("X509SerialNumber", text=str(c.serial_number)),
                ns=XADES,
            ),
            ns=XADES,
        )
        for c in chain
    ]
    signed_props = _e(
        "SignedProperties",
        _e(
            "SignedSignatureProperties",
            _e("SigningTime", text=datetime.now(UTC).isoformat(timespec="milliseconds")),
            _e("SigningCertificate", *certs, ns=XADES),
            _e("SignaturePolicyIdentifier", _e("SignaturePolicyImplied", ns=XADES), ns=XADES),
            ns=XADES,
        ),
        _e("SignedDataObjectProperties", ns=XADES),
        ns=XADES,
        Id="S0-SignedProperties",
    )
    signed_info = _e(
        "SignedInfo",
        _e("CanonicalizationMethod", Algorithm=C14N_COMMENTS),
        _e("SignatureMethod", Algorithm=RSA_SHA256),
        _e(
            "Reference",
            _e("DigestMethod", Algorithm=SHA256),
            _e("DigestValue"),
            Type=DS + "Manifest",
            URI="#IHEManifest",
        ),
        _e(
            "Reference",
            _e("DigestMethod", Algorithm=SHA256),
            _e("DigestValue"),
            Type=XADES + "SignedProperties",
            URI="#S0-SignedProperties",
        ),
    )
    signature = etree.Element(f"{{{DS}}}Signature", nsmap={None: DS}, Id=sig_id)
    signature.extend(
        [
            signed_info,
            _e("SignatureValue"),
            _e(
                "KeyInfo",
                _e(
                    "X509Data",
                    _e("X509Certificate", text=_b64(cert.public_bytes(serialization.Encoding.DER))),
                ),
            ),
            _e("Object", manifest),
            _e(
                "Object",
                _e(
                    "SignatureProperties",
                    _e(
                        "SignatureProperty", text=PURPOSE_SOURCE, Id="purposeOfSignature", Target=f"#{sig_id}"
                    ),
                ),
            ),
            _e("Object", _e("QualifyingProperties", signed_props, ns=XADES, Target=f"#{sig_id}")),
        ]
    )
    signature = etree.fromstring(etree.tostring(signature), _PARSER)  # settle the namespace maps
    info = signature.find(f"{{{DS}}}SignedInfo")
    targets = (signature.find(f".//{{{DS}}}Manifest"), signature.find(f".//{{{XADES}}}SignedProperties"))
    for ref, target in zip(info.findall(f"{{{DS}}}Reference"), targets, strict=True):
        ref.find(f"{{{DS}}}DigestValue").text = _b64(hashlib.sha256(_c14n(target, comments=False)).digest())
    value = key.sign(_c14n(info, comments=True), padding.PKCS1v15(), hashes.SHA256())
    signature.find(f"{{{DS}}}SignatureValue").text = _b64(value)
    return etree.tostring(signature)


def verify(xml: bytes, signer: Credential) -> None:
    """signxml's verdict on SignedInfo (the Manifest and SignedProperties digests, the value)."""
    config = SignatureConfiguration(expect_references=2)
    cert = signer.certificate()
    verifier = XMLVerifier()
    verifier.excise_empty_xmlns_declarations = True
    verifier.verify(
        etree.fromstring(xml, _PARSER),
        x509_cert=cert.public_bytes(serialization.Encoding.PEM).decode(),
        expect_config=config,
        validate_schema=False,
    )
