"""WS-Security: the `wsse:Security` header and its SAML 2.0 assertions, read into typed objects,
with the checks every service makes the same way.

    read_security(envelope, pki=..., tenant=...) -> Security | None   (None: no wsse:Security)
    read_assertion(element, pki=..., tenant=...) -> Assertion
    check_assertion(assertion, now, ...) -> list[Problem]             lifetime, signature, signer

An `Assertion` holds what SAML 2.0 core says an assertion carries: Issuer (and its Format),
Subject/NameID (format, NameQualifier), IssueInstant, Conditions (NotBefore, NotOnOrAfter,
audiences), SubjectConfirmation, the AuthnStatement, the attributes (name -> values, and the
AttributeValue elements for structured values such as the VIHF's HL7 `Role` CE), and the
signature verdict: verified with signxml through `mocks.pki.xmlsig` (SHA-1 allowed: the
official DMP VIHF examples use rsa-sha1), the signer identified on the tenant's sandbox clock by
`sandbox.pki.identify` (kind `cps_sign`, `org_sign`...; status `valid`, `expired`, `revoked`,
`unknown_issuer`...). The cryptographic part of a verdict is cached by the assertion's bytes (an
LGC may send the same VIHF for its lifetime); the signer is identified anew on every read.

What a service requires stays in the service: INSi's AssertionPS attributes, the DMP's VIHF
(`Authentification_mode`, two-valued Role, `Identifiant_Structure`, which signer kind is
allowed in which mode). Examples read by tests/soap: the official `Exemples_Jeton_VIHF`
(DIRECTE unsigned and signed, INDIRECTE, INDIRECTE_RENFORCEE; research dmp.md §2.1).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal

from lxml import etree

from mocks.soap.envelope import Envelope
from mocks.soap.ns import DS, SAML2, WSSE, WSU

if TYPE_CHECKING:
    from mocks.pki.authority import Pki
    from mocks.pki.model import CallerCertificate

S = f"{{{SAML2}}}"


@dataclass(frozen=True)
class Attribute:
    name: str
    values: tuple[str, ...]  # each AttributeValue's text ("" for a structured value)
    elements: tuple[etree._Element, ...] = field(default=(), repr=False)  # the AttributeValue elements
    name_format: str | None = None
    friendly_name: str | None = None

    @property
    def value(self) -> str | None:
        return self.values[0] if self.values else None

    def children(self) -> list[etree._Element]:
        """The first element child of each AttributeValue (an HL7 `Role`, `PurposeOfUse`...)."""
        out = []
        for value in self.elements:
            child = next((c for c in value if isinstance(c.tag, str)), None)
            if child is not None:
                out.append(child)
        return out


@dataclass(frozen=True)
class SubjectConfirmation:
    method: str | None
    not_before: datetime | None = None
    not_on_or_after: datetime | None = None
    recipient: str | None = None
    in_response_to: str | None = None
    address: str | None = None


@dataclass(frozen=True)
class AuthnStatement:
    instant: datetime | None
    instant_text: str | None
    class_ref: str | None  # AuthnContext/AuthnContextClassRef
    decl_ref: str | None  # AuthnContext/AuthnContextDeclRef
    decl: str | None  # AuthnContext/AuthnContextDecl, its text
    session_index: str | None = None


@dataclass(frozen=True)
class SignatureVerdict:
    """What the assertion's ds:Signature is worth. `valid`: the signature verifies with its
    KeyInfo certificate and signs this very assertion (Reference URI = #ID); whether the signer
    may sign is the service's question (`signer.kind`, `signer.status`)."""

    valid: bool
    reason: str | None = (
        None  # when not valid: "missing", "malformed", "no_certificate", "invalid", "reference"
    )
    message: str = ""
    signer: CallerCertificate | None = None
    signature_method: str = ""
    digest_method: str = ""
    c14n_method: str = ""


@dataclass(frozen=True)
class Assertion:
    element: etree._Element = field(repr=False)
    id: str | None
    version: str | None
    issue_instant: datetime | None
    issue_instant_text: str | None
    issuer: str | None
    issuer_format: str | None
    name_id: str | None
    name_id_format: str | None = None
    name_qualifier: str | None = None
    sp_name_qualifier: str | None = None
    confirmations: tuple[SubjectConfirmation, ...] = ()
    not_before: datetime | None = None  # Conditions
    not_on_or_after: datetime | None = None
    audiences: tuple[str, ...] = ()
    authn: AuthnStatement | None = None
    attributes: tuple[Attribute, ...] = ()
    signed: bool = False  # a ds:Signature child is present
    signature: SignatureVerdict | None = None  # None: unsigned, or not verified (no PKI given)

    def attribute(self, name: str, *, ignore_case: bool = False) -> Attribute | None:
        """The first attribute named `name` (`ignore_case`: `Authentification_mode` and
        `Authentification_Mode` both occur, research dmp.md §2.1)."""
        wanted = name.lower() if ignore_case else name
        for attr in self.attributes:
            if (attr.name.lower() if ignore_case else attr.name) == wanted:
                return attr
        return None

    def values(self, name: str, *, ignore_case: bool = False) -> tuple[str, ...]:
        attr = self.attribute(name, ignore_case=ignore_case)
        return attr.values if attr is not None else ()

    def value(self, name: str, *, ignore_case: bool = False) -> str | None:
        values = self.values(name, ignore_case=ignore_case)
        return values[0] if values else None

    @property
    def attribute_map(self) -> dict[str, tuple[str, ...]]:
        """name -> values (repeated attributes merged in order)."""
        out: dict[str, tuple[str, ...]] = {}
        for attr in self.attributes:
            out[attr.name] = out.get(attr.name, ()) + attr.values
        return out


@dataclass(frozen=True)
class Security:
    element: etree._Element = field(repr=False)
    assertions: tuple[Assertion, ...]
    must_understand: bool | None = None  # the header's mustUnderstand, None when absent
    created: datetime | None = None  # wsu:Timestamp
    expires: datetime | None = None
    others: tuple[str, ...] = ()  # Clark names of the other children (BinarySecurityToken...)

    @property
    def assertion(self) -> Assertion | None:
        return self.assertions[0] if self.assertions else None


def instant(text: str | None) -> datetime | None:
    """An xs:dateTime with a time zone (SAML requires UTC), None when absent or unreadable."""
    if not text:
        return None
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _text(element: etree._Element | None) -> str | None:
    return None if element is None else (element.text or "").strip()


def _attributes(root: etree._Element) -> tuple[Attribute, ...]:
    out = []
    for attr in root.findall(f"{S}AttributeStatement/{S}Attribute"):
        elements = tuple(attr.findall(f"{S}AttributeValue"))
        values = tuple((v.text or "").strip() for v in elements)
        out.append(
            Attribute(
                attr.get("Name") or "", values, elements, attr.get("NameFormat"), attr.get("FriendlyName")
            )
        )
    return tuple(out)


def _authn(root: etree._Element) -> AuthnStatement | None:
    st = root.find(f"{S}AuthnStatement")
    if st is None:
        return None
    ctx = st.find(f"{S}AuthnContext")
    decl = ctx.find(f"{S}AuthnContextDecl") if ctx is not None else None
    return AuthnStatement(
        instant=instant(st.get("AuthnInstant")),
        instant_text=st.get("AuthnInstant"),
        class_ref=_text(ctx.find(f"{S}AuthnContextClassRef")) if ctx is not None else None,
        decl_ref=_text(ctx.find(f"{S}AuthnContextDeclRef")) if ctx is not None else None,
        decl="".join(decl.itertext()).strip() if decl is not None else None,
        session_index=st.get("SessionIndex"),
    )


# The cryptographic part of a verdict depends only on the assertion's bytes (signxml serialises
# the element and verifies that, with the KeyInfo certificate, validity period left to `signer`):
# an LGC may reuse its VIHF / AssertionPS for its lifetime: the same bytes are verified once. The
# signer is identified again on every call (tenant clock, revocation).
_VERIFIED: OrderedDict[bytes, tuple[SignatureVerdict, bytes]] = OrderedDict()
_VERIFIED_MAX = 512
_VERIFIED_LOCK = threading.Lock()


def _verdict(pki: Pki, element: etree._Element, tenant: str, assertion_id: str | None) -> SignatureVerdict:
    key = hashlib.sha256(etree.tostring(element)).digest()
    with _VERIFIED_LOCK:
        hit = _VERIFIED.get(key)
        if hit is not None:
            _VERIFIED.move_to_end(key)
    if hit is not None:
        verdict, der = hit
        if not der:
            return verdict
        from mocks.pki.identify import identify

        return replace(verdict, signer=identify(pki, der, tenant))
    verdict = _verify(pki, element, tenant, assertion_id)
    der = verdict.signer.der if verdict.signer is not None else b""
    with _VERIFIED_LOCK:
        _VERIFIED[key] = (verdict, der)
        while len(_VERIFIED) > _VERIFIED_MAX:
            _VERIFIED.popitem(last=False)
    return verdict


def _verify(pki: Pki, element: etree._Element, tenant: str, assertion_id: str | None) -> SignatureVerdict:
    from mocks.pki.xmlsig import SignatureInvalid, verify

    try:
        sig = verify(pki, element, tenant, allow_sha1=True, judge_validity=False)
    except SignatureInvalid as exc:
        return SignatureVerdict(False, exc.reason, str(exc))
    methods = {
        "signature_method": sig.signature_method,
        "digest_method": sig.digest_method,
        "c14n_method": sig.c14n_method,
    }
    signed_id = sig.signed.get("ID") if sig.signed is not None else None
    if assertion_id is None or signed_id != assertion_id:
        message = f"the signature signs {signed_id or 'another element'}, not the assertion {assertion_id}"
        return SignatureVerdict(False, "reference", message, sig.caller, **methods)
    return SignatureVerdict(True, None, "", sig.caller, **methods)


def read_assertion(element: etree._Element, *, pki: Pki | None = None, tenant: str = "default") -> Assertion:
    """A saml2:Assertion as a typed object; its signature is verified when `pki` is given."""
    subject = element.find(f"{S}Subject")
    name_id = subject.find(f"{S}NameID") if subject is not None else None
    issuer = element.find(f"{S}Issuer")
    conditions = element.find(f"{S}Conditions")
    confirmations = []
    for sc in subject.findall(f"{S}SubjectConfirmation") if subject is not None else []:
        data = sc.find(f"{S}SubjectConfirmationData")
        get = data.get if data is not None else (lambda _name: None)
        confirmations.append(
            SubjectConfirmation(
                sc.get("Method"),
                instant(get("NotBefore")),
                instant(get("NotOnOrAfter")),
                get("Recipient"),
                get("InResponseTo"),
                get("Address"),
            )
        )
    signed = element.find(f"{{{DS}}}Signature") is not None
    assertion_id = element.get("ID")
    return Assertion(
        element=element,
        id=assertion_id,
        version=element.get("Version"),
        issue_instant=instant(element.get("IssueInstant")),
        issue_instant_text=element.get("IssueInstant"),
        issuer=_text(issuer),
        issuer_format=issuer.get("Format") if issuer is not None else None,
        name_id=_text(name_id),
        name_id_format=name_id.get("Format") if name_id is not None else None,
        name_qualifier=name_id.get("NameQualifier") if name_id is not None else None,
        sp_name_qualifier=name_id.get("SPNameQualifier") if name_id is not None else None,
        confirmations=tuple(confirmations),
        not_before=instant(conditions.get("NotBefore")) if conditions is not None else None,
        not_on_or_after=instant(conditions.get("NotOnOrAfter")) if conditions is not None else None,
        audiences=tuple(
            _text(a) or "" for a in element.findall(f"{S}Conditions/{S}AudienceRestriction/{S}Audience")
        ),
        authn=_authn(element),
        attributes=_attributes(element),
        signed=signed,
        signature=_verdict(pki, element, tenant, assertion_id) if signed and pki is not None else None,
    )


def read_security(envelope: Envelope, *, pki: Pki | None = None, tenant: str = "default") -> Security | None:
    """The first wsse:Security header of `envelope` and its assertions (None: no such header)."""
    header = envelope.header_element(WSSE, "Security")
    if header is None:
        return None
    mu = header.get(f"{{{envelope.namespace}}}mustUnderstand")
    timestamp = header.find(f"{{{WSU}}}Timestamp")
    others = tuple(
        c.tag
        for c in header
        if isinstance(c.tag, str) and c.tag not in (f"{S}Assertion", f"{{{WSU}}}Timestamp")
    )
    return Security(
        element=header,
        assertions=tuple(read_assertion(a, pki=pki, tenant=tenant) for a in header.findall(f"{S}Assertion")),
        must_understand=None if mu is None else mu.strip() in ("1", "true"),
        created=instant(_text(timestamp.find(f"{{{WSU}}}Created"))) if timestamp is not None else None,
        expires=instant(_text(timestamp.find(f"{{{WSU}}}Expires"))) if timestamp is not None else None,
        others=others,
    )


ProblemCode = Literal[
    "not-signed",  # no ds:Signature where one is required
    "signature-invalid",  # does not verify, or signs another element
    "signer-expired",
    "signer-not-yet-valid",
    "signer-revoked",
    "signer-unknown",  # not a certificate of this sandbox's PKI
    "no-issue-instant",
    "issued-in-future",
    "too-old",  # IssueInstant older than the service's lifetime
    "not-yet-valid",  # Conditions/NotBefore after now
    "expired",  # Conditions/NotOnOrAfter reached
    "version",  # Version is not 2.0
]


@dataclass(frozen=True)
class Problem:
    code: ProblemCode
    message: str  # French: services put it in findings and fault texts


_SIGNER = {
    "expired": ("signer-expired", "le certificat signataire est expiré"),
    "not_yet_valid": ("signer-not-yet-valid", "le certificat signataire n'est pas encore valide"),
    "revoked": ("signer-revoked", "le certificat signataire est révoqué"),
    "unknown_issuer": ("signer-unknown", "le certificat signataire n'est pas émis par l'IGC-Santé de test"),
}


def check_assertion(
    assertion: Assertion,
    now: datetime,
    *,
    require_signature: bool = False,
    lifetime: timedelta | None = None,
    skew: timedelta = timedelta(minutes=5),
) -> list[Problem]:
    """The generic checks on the tenant's clock (`now`): Version, IssueInstant (not in the future
    beyond `skew`, not older than `lifetime` when given), Conditions, and the signature and its
    signer when signed (or `require_signature`)."""
    problems: list[Problem] = []
    if assertion.version != "2.0":
        problems.append(Problem("version", f"Assertion/@Version vaut « {assertion.version} » : 2.0 attendu"))
    issued = assertion.issue_instant
    if issued is None:
        problems.append(
            Problem("no-issue-instant", "IssueInstant absent ou illisible (xs:dateTime UTC attendu)")
        )
    else:
        if issued > now + skew:
            problems.append(
                Problem("issued-in-future", f"IssueInstant {assertion.issue_instant_text} est dans le futur")
            )
        if lifetime is not None and now - issued > lifetime:
            problems.append(
                Problem(
                    "too-old",
                    f"assertion émise le {assertion.issue_instant_text}, plus de {int(lifetime.total_seconds())} s avant {now.isoformat()}",
                )
            )
    if assertion.not_before is not None and now + skew < assertion.not_before:
        problems.append(
            Problem(
                "not-yet-valid",
                f"Conditions/@NotBefore {assertion.not_before.isoformat()} pas encore atteint",
            )
        )
    if assertion.not_on_or_after is not None and now >= assertion.not_on_or_after:
        problems.append(
            Problem("expired", f"Conditions/@NotOnOrAfter {assertion.not_on_or_after.isoformat()} dépassé")
        )
    if not assertion.signed:
        if require_signature:
            problems.append(Problem("not-signed", "l'assertion n'est pas signée (ds:Signature attendu)"))
        return problems
    verdict = assertion.signature
    if verdict is None:
        return problems  # signed, but read without a PKI: nothing to say about the signature
    if not verdict.valid:
        problems.append(
            Problem("signature-invalid", f"signature de l'assertion invalide : {verdict.message}")
        )
        return problems
    signer = verdict.signer
    if signer is not None and signer.status in _SIGNER:
        code, text = _SIGNER[signer.status]
        problems.append(Problem(code, f"{text} ({signer.subject})"))  # type: ignore[arg-type]
    return problems
