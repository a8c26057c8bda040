"""XAdES signatures of XDS submission sets (the DMP's TD2.1 "lot de soumission signé"): verify
them with signxml, and make them the way an LGC does (for tests, fixtures and docs).

Over 400 lines on purpose: the verifier and the signer of one format stay side by side, so that
each shape the signer writes is one the verifier reads (and the official example's quirks are
documented in one place).

The shape (research dmp.md §2.4, official `TD2.1-SignatureXades.xml`, DRIMbox XadesSign.java):

    ds:Signature @Id
      SignedInfo: C14N 1.0 with comments, rsa-sha1 (or rsa-sha256), two references:
        #IHEManifest (Type ds#Manifest) and #S0-SignedProperties (Type XAdES SignedProperties)
      KeyInfo/X509Data/X509Certificate: the signer (a CPS *signature* certificate, or ORG SIGN)
      Object/Manifest @Id=IHEManifest: one Reference URI="urn:oid:<uniqueId>" per signed object;
        the submission set's has the dummy digest `AA==`; a document's is its SHA-1 (or SHA-256),
        after a C14N-with-comments transform for XML documents
      Object/SignatureProperties/SignatureProperty @Id=purposeOfSignature = 1.2.840.10065.1.12.1.14
      Object/QualifyingProperties (XAdES 1.1.1) @Target / SignedProperties @Id=S0-SignedProperties
        / SignedSignatureProperties / SigningTime, SigningCertificate/Cert* (CertDigest,
        IssuerSerial), SignaturePolicyIdentifier/SignaturePolicyImplied; SignedDataObjectProperties

    verify_xades(pki, signature, documents, tenant) -> XadesVerdict
        signature: the XAdES bytes (the Signature01 attachment); documents: {uniqueId: bytes}.
        A verdict per Manifest reference (`ok`, `dummy`, `digest-mismatch`, `unknown`) and typed
        failures: not-signed, malformed, signature-invalid, digest-mismatch, unknown-reference,
        signing-certificate-mismatch, wrong-certificate-kind, expired, not-yet-valid, revoked,
        unknown-issuer. The signer is identified on the tenant's sandbox clock.
    sign_xades(credentials, documents, submission_set) -> bytes      the LGC side

The official example verifies only with signxml's `excise_empty_xmlns_declarations` (lxml adds an
empty `xmlns=""` when canonicalising a sub-element, signxml issue #193), and its Id starts with a
digit, which the XML-DSig schema refuses: the verifier skips signxml's schema check, as the DMP
evidently does. Its CertDigest DigestMethod/DigestValue are in the XAdES namespace instead of
ds:, its SignatureProperties in no namespace: both read. Its Manifest digest of the document
does not match the CDA shipped beside it (the example's parts come from different submissions).
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from lxml import etree
from lxml.builder import ElementMaker
from signxml import SignatureConfiguration, XMLVerifier
from signxml.algorithms import DigestAlgorithm, SignatureMethod
from signxml.exceptions import InvalidDigest, InvalidInput, InvalidSignature

from mocks.pki.identify import identify
from mocks.pki.model import CallerCertificate, CallerKind, Credentials

if TYPE_CHECKING:
    from mocks.pki.authority import Pki

DS = "http://www.w3.org/2000/09/xmldsig#"
XADES111 = "http://uri.etsi.org/01903/v1.1.1#"
XADES132 = "http://uri.etsi.org/01903/v1.3.2#"
XADES_NAMESPACES = (XADES111, XADES132)
MANIFEST_TYPE = DS + "Manifest"
DUMMY_DIGEST = "AA=="
PURPOSE_SOURCE = "1.2.840.10065.1.12.1.14"  # "Source" (ISO 17090 / ASTM E1762 purpose)
C14N = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
C14N_COMMENTS = C14N + "#WithComments"
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
EXC_C14N_COMMENTS = EXC_C14N + "WithComments"
C14N11 = "http://www.w3.org/2006/12/xml-c14n11"
C14N11_COMMENTS = C14N11 + "#WithComments"
# transform -> (exclusive, with comments); C14N 1.1 and 1.0 agree on whole documents
C14N_TRANSFORMS = {
    C14N: (False, False),
    C14N_COMMENTS: (False, True),
    EXC_C14N: (True, False),
    EXC_C14N_COMMENTS: (True, True),
    C14N11: (False, False),
    C14N11_COMMENTS: (False, True),
}
DIGESTS = {
    DS + "sha1": "sha1",
    "http://www.w3.org/2001/04/xmldsig-more#sha224": "sha224",
    "http://www.w3.org/2001/04/xmlenc#sha256": "sha256",
    "http://www.w3.org/2001/04/xmldsig-more#sha384": "sha384",
    "http://www.w3.org/2001/04/xmlenc#sha512": "sha512",
}
DIGEST_URI = {name: uri for uri, name in DIGESTS.items()}
RSA_SHA1 = DS + "rsa-sha1"
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
SIGNING_KINDS: tuple[CallerKind, ...] = ("cps_sign", "org_sign")

Reason = Literal[
    "not-signed",  # no ds:Signature, or a submitted document no Manifest reference covers
    "malformed",  # not XML, no KeyInfo certificate, no Manifest / SignedProperties reference
    "signature-invalid",  # SignatureValue does not verify with the KeyInfo certificate
    "digest-mismatch",  # a Manifest, SignedProperties or document digest differs
    "unknown-reference",  # a Manifest reference to a uniqueId that is not in the submission
    "signing-certificate-mismatch",  # SigningCertificate absent or not the KeyInfo certificate
    "wrong-certificate-kind",  # e.g. a CPS authentication certificate
    "expired",
    "not-yet-valid",
    "revoked",
    "unknown-issuer",  # not a certificate of this sandbox's PKI
]
RefStatus = Literal["ok", "dummy", "digest-mismatch", "unknown"]
_STATUS_REASON: dict[str, Reason] = {
    "expired": "expired",
    "not_yet_valid": "not-yet-valid",
    "revoked": "revoked",
    "unknown_issuer": "unknown-issuer",
}


@dataclass(frozen=True)
class Failure:
    reason: Reason
    message: str


@dataclass(frozen=True)
class ReferenceVerdict:
    """One Manifest reference: `uri` as written, `unique_id` the OID after `urn:oid:`."""

    uri: str
    unique_id: str | None
    digest_method: str
    expected: str  # DigestValue (base64), as written
    actual: str | None  # what the document's bytes give (None: no such document, or the dummy)
    status: RefStatus
    transforms: tuple[str, ...] = ()


@dataclass(frozen=True)
class XadesVerdict:
    failures: tuple[Failure, ...]
    references: tuple[ReferenceVerdict, ...] = ()
    signer: CallerCertificate | None = None
    signature_id: str | None = None
    signature_method: str = ""
    c14n_method: str = ""
    signing_time: datetime | None = None
    signing_time_text: str | None = None
    purpose: str | None = None  # SignatureProperty purposeOfSignature
    xades_namespace: str | None = None
    signing_certificate_ok: bool = False

    @property
    def valid(self) -> bool:
        return not self.failures

    @property
    def reasons(self) -> tuple[Reason, ...]:
        return tuple(f.reason for f in self.failures)

    @property
    def dummy_submission_set(self) -> bool:
        """The submission set is referenced with the dummy `AA==` digest (as the DMP expects)."""
        return any(r.status == "dummy" for r in self.references)


# SHA-1 allowed: the official examples and the kit sign with rsa-sha1 / sha1
_CONFIG = SignatureConfiguration(
    expect_references=True,
    signature_methods=frozenset(m for m in SignatureMethod if not m.name.startswith("HMAC")),
    digest_algorithms=frozenset(DigestAlgorithm),
)
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
# documents (a CDA N1 carries its PDF as one base64 text node, over libxml2's 10 MB limit for a
# big PDF): no entities, no network; their size is the request cap's business
_DOCUMENT_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True)


def _parse(data: bytes, parser: etree.XMLParser = _PARSER) -> Any:
    root = etree.fromstring(data, parser)
    if root.getroottree().docinfo.doctype:
        raise ValueError("a DOCTYPE is not allowed")
    return root


def _digest(name: str, data: bytes) -> str:
    return base64.b64encode(hashlib.new(name, data).digest()).decode()


def document_digest(data: bytes, digest_method: str, transforms: Sequence[str] = ()) -> str:
    """The base64 digest a Manifest reference to `data` carries (transforms: C14N variants)."""
    for transform in transforms:
        if transform not in C14N_TRANSFORMS:
            raise ValueError(f"unsupported transform {transform}")
    if transforms:
        exclusive, comments = C14N_TRANSFORMS[transforms[-1]]
        tree = _parse(data, _DOCUMENT_PARSER).getroottree()
        data = etree.tostring(tree, method="c14n", exclusive=exclusive, with_comments=comments)
    return _digest(DIGESTS[digest_method], data)


def _subtree_c14n(element: Any, *, comments: bool) -> bytes:
    """Inclusive C14N 1.0 of an element in its context. lxml's own sub-tree C14N writes a wrong
    `xmlns=""` on descendants that have attributes (signxml issue #193): canonicalise a
    standalone copy instead (it carries the in-scope namespace declarations)."""
    copy = etree.fromstring(etree.tostring(element), _PARSER)
    return etree.tostring(copy, method="c14n", exclusive=False, with_comments=comments)


def _find(el: Any, local: str) -> Any:
    """The first child named `local` in ds:, XAdES or no namespace (the official example mixes them)."""
    for child in el:
        if isinstance(child.tag, str) and etree.QName(child).localname == local:
            return child
    return None


def _signer_certificate(signature: Any) -> bytes | None:
    text = signature.findtext(f"{{{DS}}}KeyInfo/{{{DS}}}X509Data/{{{DS}}}X509Certificate")
    if not text or not text.strip():
        return None
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except ValueError:
        return None


def _references(
    manifest: Any, documents: Mapping[str, bytes], submission_set: str | None
) -> list[ReferenceVerdict]:
    out = []
    for ref in manifest.findall(f"{{{DS}}}Reference"):
        uri = ref.get("URI") or ""
        oid = uri[len("urn:oid:") :] if uri.startswith("urn:oid:") else None
        method_el = ref.find(f"{{{DS}}}DigestMethod")
        method = method_el.get("Algorithm", "") if method_el is not None else ""
        expected = "".join((ref.findtext(f"{{{DS}}}DigestValue") or "").split())
        transforms = tuple(
            t.get("Algorithm", "") for t in ref.findall(f"{{{DS}}}Transforms/{{{DS}}}Transform")
        )
        data = documents.get(oid) if oid is not None else None
        if data is None:
            dummy = expected == DUMMY_DIGEST and (submission_set is None or oid == submission_set)
            status: RefStatus = "dummy" if dummy else "unknown"
            out.append(ReferenceVerdict(uri, oid, method, expected, None, status, transforms))
            continue
        try:
            actual: str | None = document_digest(data, method, transforms)
        except (KeyError, ValueError, etree.XMLSyntaxError):
            actual = None
        status = "ok" if actual == expected else "digest-mismatch"
        out.append(ReferenceVerdict(uri, oid, method, expected, actual, status, transforms))
    return out


def _signing_certificate(props: Any, der: bytes) -> str | None:
    """None when SigningCertificate(V2)'s first Cert is the KeyInfo certificate, else why not."""
    ssp = _find(props, "SignedSignatureProperties")
    holder = None
    if ssp is not None:
        holder = _find(ssp, "SigningCertificate")
        if holder is None:
            holder = _find(ssp, "SigningCertificateV2")
    cert_el = _find(holder, "Cert") if holder is not None else None
    if cert_el is None:
        return "SignedProperties sans SigningCertificate/Cert"
    digest_el = _find(cert_el, "CertDigest")
    method_el = _find(digest_el, "DigestMethod") if digest_el is not None else None
    value_el = _find(digest_el, "DigestValue") if digest_el is not None else None
    name = DIGESTS.get(method_el.get("Algorithm", "")) if method_el is not None else None
    if name is None or value_el is None:
        return "SigningCertificate/Cert/CertDigest illisible"
    if _digest(name, der) != "".join((value_el.text or "").split()):
        return "l'empreinte SigningCertificate/Cert/CertDigest n'est pas celle du certificat de KeyInfo"
    serial_el = issuer_el = None
    issuer_serial = _find(cert_el, "IssuerSerial")
    if issuer_serial is not None:
        serial_el, issuer_el = (
            _find(issuer_serial, "X509SerialNumber"),
            _find(issuer_serial, "X509IssuerName"),
        )
    cert = x509.load_der_x509_certificate(der)
    if serial_el is not None and (serial_el.text or "").strip() != str(cert.serial_number):
        return "SigningCertificate/Cert/IssuerSerial : numéro de série différent du certificat de KeyInfo"
    if issuer_el is not None and _dn(issuer_el.text or "") != _dn(cert.issuer.rfc4514_string()):
        return "SigningCertificate/Cert/IssuerSerial : émetteur différent de celui du certificat de KeyInfo"
    return None


def _dn(text: str) -> str:
    return ",".join(part.strip() for part in text.replace(", ", ",").split(",")).upper()


def verify_xades(
    pki: Pki,
    signature: bytes | etree._Element,
    documents: Mapping[str, bytes],
    tenant: str = "default",
    *,
    submission_set: str | None = None,
    signing_kinds: Sequence[CallerKind] = SIGNING_KINDS,
) -> XadesVerdict:
    """Verify a detached XAdES of an XDS submission set (see the module docstring).

    `documents`: uniqueId -> bytes of each document the submission carries (the signature's own
    document excluded); `submission_set`: the submission set's uniqueId, when known (its
    reference may carry the dummy digest `AA==`)."""
    try:
        root = _parse(signature) if isinstance(signature, bytes) else signature
    except (etree.XMLSyntaxError, ValueError) as exc:
        return XadesVerdict((Failure("malformed", f"la signature n'est pas du XML bien formé : {exc}"),))
    sig = root if root.tag == f"{{{DS}}}Signature" else root.find(f".//{{{DS}}}Signature")
    if sig is None:
        return XadesVerdict((Failure("not-signed", "aucun élément ds:Signature"),))
    der = _signer_certificate(sig)
    try:
        cert = x509.load_der_x509_certificate(der) if der else None
    except ValueError:
        cert = None
    if der is None or cert is None:
        return XadesVerdict(
            (Failure("malformed", "ds:KeyInfo/X509Data/X509Certificate absent ou illisible"),)
        )
    signer = identify(pki, der, tenant)
    info = sig.find(f"{{{DS}}}SignedInfo")
    method = info.find(f"{{{DS}}}SignatureMethod") if info is not None else None
    c14n = info.find(f"{{{DS}}}CanonicalizationMethod") if info is not None else None
    base: dict[str, Any] = {
        "signer": signer,
        "signature_id": sig.get("Id"),
        "signature_method": method.get("Algorithm", "") if method is not None else "",
        "c14n_method": c14n.get("Algorithm", "") if c14n is not None else "",
    }
    failures: list[Failure] = []
    # validity: judged by `identify` on the tenant clock, not by signxml on the real one
    config = replace(_CONFIG, verification_time=cert.not_valid_before_utc)
    verifier = XMLVerifier()
    verifier.excise_empty_xmlns_declarations = True
    try:
        results = verifier.verify(sig, x509_cert=cert, expect_config=config, validate_schema=False)
    except InvalidDigest as exc:
        return XadesVerdict((Failure("digest-mismatch", f"SignedInfo : {exc}"),), **base)
    except InvalidSignature as exc:
        return XadesVerdict((Failure("signature-invalid", f"SignatureValue ne vérifie pas : {exc}"),), **base)
    except (InvalidInput, ValueError) as exc:
        return XadesVerdict((Failure("malformed", f"signature illisible : {exc}"),), **base)
    signed = [r.signed_xml for r in (results if isinstance(results, list) else [results])]
    manifest = next((x for x in signed if x is not None and x.tag == f"{{{DS}}}Manifest"), None)
    props = next(
        (x for x in signed if x is not None and etree.QName(x).localname == "SignedProperties"),
        None,
    )
    if manifest is None:
        failures.append(Failure("malformed", "SignedInfo ne référence pas de ds:Manifest (IHEManifest)"))
    if props is None:
        failures.append(Failure("malformed", "SignedInfo ne référence pas de xades:SignedProperties"))
    references = _references(manifest, documents, submission_set) if manifest is not None else []
    for ref in references:
        if ref.status == "digest-mismatch":
            got = (
                f"le document donne {ref.actual}"
                if ref.actual
                else "le document ne se canonicalise pas (XML invalide ?)"
            )
            failures.append(Failure("digest-mismatch", f"{ref.uri} : empreinte {ref.expected}, {got}"))
        elif ref.status == "unknown":
            failures.append(
                Failure("unknown-reference", f"{ref.uri} : aucun document de la soumission n'a cet uniqueId")
            )
    covered = {r.unique_id for r in references}
    for unique_id in documents:
        if unique_id not in covered:
            failures.append(
                Failure("not-signed", f"le document {unique_id} n'est pas couvert par le Manifest")
            )
    cert_problem = _signing_certificate(props, der) if props is not None else None
    if cert_problem:
        failures.append(Failure("signing-certificate-mismatch", cert_problem))
    if signer.kind not in signing_kinds and signer.status != "unknown_issuer":
        failures.append(
            Failure(
                "wrong-certificate-kind",
                f"signé avec un certificat {signer.kind} : un certificat de signature est attendu",
            )
        )
    if signer.status in _STATUS_REASON:
        failures.append(
            Failure(
                _STATUS_REASON[signer.status], f"certificat signataire {signer.status} ({signer.subject})"
            )
        )
    signing_time_text = None
    if props is not None:
        ssp = _find(props, "SignedSignatureProperties")
        st = _find(ssp, "SigningTime") if ssp is not None else None
        signing_time_text = (st.text or "").strip() if st is not None else None
    return XadesVerdict(
        tuple(failures),
        tuple(references),
        signing_time=_time(signing_time_text),
        signing_time_text=signing_time_text,
        purpose=_purpose(sig),
        xades_namespace=etree.QName(props).namespace if props is not None else None,
        signing_certificate_ok=props is not None and cert_problem is None,
        **base,
    )


def _time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def _purpose(sig: Any) -> str | None:
    for el in sig.iterfind("{*}Object/{*}SignatureProperties/{*}SignatureProperty"):
        if el.get("Id") == "purposeOfSignature":
            return (el.text or "").strip()
    return None


# -- the LGC side -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Signed:
    """What `sign_xades` made, for tests: the bytes and the ids it chose."""

    xml: bytes = field(repr=False)
    signature_id: str
    references: tuple[str, ...]


def sign_xades(
    credentials: Credentials,
    documents: Mapping[str, bytes],
    submission_set: str,
    *,
    digest: str = "sha1",
    signature_method: str = RSA_SHA1,
    transform_xml: bool = True,
    signing_time: datetime | None = None,
    chain: bool = True,
    claimed: Credentials | None = None,
) -> Signed:
    """A DMP-shaped XAdES of a submission set, signed with `credentials` (a CPS signature
    certificate, or ORG SIGN): the submission set referenced with `AA==`, each document by
    `urn:oid:<uniqueId>` with its digest (after C14N with comments when `transform_xml` and the
    document is XML). `claimed`: name another certificate in SigningCertificate (a broken
    signature, for testing verifiers)."""
    cert = x509.load_pem_x509_certificate(credentials.cert_pem)
    key = serialization.load_pem_private_key(credentials.key_pem, None)
    assert isinstance(key, rsa.RSAPrivateKey)
    sig_id = str(uuid.uuid4())
    digest_uri = DIGEST_URI[digest]
    E = ElementMaker(namespace=DS, nsmap={None: DS})
    manifest = E.Manifest(Id="IHEManifest")
    manifest.append(
        E.Reference(
            E.DigestMethod(Algorithm=digest_uri), E.DigestValue(DUMMY_DIGEST), URI=f"urn:oid:{submission_set}"
        )
    )
    for unique_id, data in documents.items():
        transforms: tuple[str, ...] = ()
        if transform_xml:
            try:
                _parse(data, _DOCUMENT_PARSER)
                transforms = (C14N_COMMENTS,)
            except (etree.XMLSyntaxError, ValueError):
                transforms = ()
        ref = E.Reference(URI=f"urn:oid:{unique_id}")
        if transforms:
            ref.append(E.Transforms(*[E.Transform(Algorithm=t) for t in transforms]))
        ref.append(E.DigestMethod(Algorithm=digest_uri))
        ref.append(E.DigestValue(document_digest(data, digest_uri, transforms)))
        manifest.append(ref)
    X = ElementMaker(namespace=XADES111, nsmap={None: XADES111})
    certs = [x509.load_pem_x509_certificate(claimed.cert_pem) if claimed is not None else cert]
    if chain:
        certs += x509.load_pem_x509_certificates(credentials.chain_pem)
    cert_els = []
    for c in certs:
        cert_der = c.public_bytes(serialization.Encoding.DER)
        cert_els.append(
            X.Cert(
                X.CertDigest(
                    E.DigestMethod(Algorithm=DIGEST_URI["sha1"]), E.DigestValue(_digest("sha1", cert_der))
                ),
                X.IssuerSerial(
                    E.X509IssuerName(c.issuer.rfc4514_string()), E.X509SerialNumber(str(c.serial_number))
                ),
            )
        )
    when = (signing_time or datetime.now().astimezone()).isoformat(timespec="milliseconds")
    props = X.SignedProperties(
        X.SignedSignatureProperties(
            X.SigningTime(when),
            X.SigningCertificate(*cert_els),
            X.SignaturePolicyIdentifier(X.SignaturePolicyImplied()),
        ),
        X.SignedDataObjectProperties(),
        Id="S0-SignedProperties",
    )
    signed_info = E.SignedInfo(
        E.CanonicalizationMethod(Algorithm=C14N_COMMENTS),
        E.SignatureMethod(Algorithm=signature_method),
        E.Reference(
            E.DigestMethod(Algorithm=digest_uri), E.DigestValue(), Type=MANIFEST_TYPE, URI="#IHEManifest"
        ),
        E.Reference(
            E.DigestMethod(Algorithm=digest_uri),
            E.DigestValue(),
            Type=XADES111 + "SignedProperties",
            URI="#S0-SignedProperties",
        ),
    )
    signature = E.Signature(
        signed_info,
        E.SignatureValue(),
        E.KeyInfo(
            E.X509Data(
                E.X509Certificate(base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode())
            )
        ),
        E.Object(manifest),
        E.Object(
            E.SignatureProperties(
                E.SignatureProperty(PURPOSE_SOURCE, Id="purposeOfSignature", Target=f"#{sig_id}")
            )
        ),
        E.Object(X.QualifyingProperties(props, Target=f"#{sig_id}")),
        Id=sig_id,
    )
    signature = etree.fromstring(etree.tostring(signature))
    signed_info = signature.find(f"{{{DS}}}SignedInfo")
    targets = (
        signature.find(f"{{{DS}}}Object/{{{DS}}}Manifest"),
        signature.find(f".//{{{XADES111}}}SignedProperties"),
    )
    # same-document references without Transforms: inclusive C14N 1.0 of the element in context
    for ref, target in zip(signed_info.findall(f"{{{DS}}}Reference"), targets, strict=True):
        ref.find(f"{{{DS}}}DigestValue").text = _digest(digest, _subtree_c14n(target, comments=False))
    info_c14n = _subtree_c14n(signed_info, comments=True)
    algorithm: hashes.HashAlgorithm = hashes.SHA256() if signature_method == RSA_SHA256 else hashes.SHA1()
    value = key.sign(info_c14n, padding.PKCS1v15(), algorithm)
    signature.find(f"{{{DS}}}SignatureValue").text = base64.b64encode(value).decode()
    return Signed(etree.tostring(signature), sig_id, (submission_set, *documents))
