"""XAdES of XDS submission sets (mocks.pki.xades): signatures made with the sandbox's credentials
in the DMP's shape (official TD2.1-SignatureXades.xml), verified with signxml; the official
example itself; each typed failure."""

from __future__ import annotations

import base64
import os
import uuid
from datetime import timedelta
from pathlib import Path

from lxml import etree

from mocks.pki import Pki, Professional, Structure
from mocks.pki.xades import DS, RSA_SHA256, XADES111, sign_xades, verify_xades

SPECS = Path(__file__).resolve().parents[2].parent / "shared" / "specs" / "dmp" / "examples"
SS = "1.2.250.1.999.1.1.7898.1.1"
DOC = "1.2.250.1.999.1.1.7898.3.1"


def shape(root: etree._Element) -> list[str]:
    """Local names in document order (References and certificates aside)."""
    return [
        etree.QName(e).localname
        for e in root.iter()
        if isinstance(e.tag, str) and etree.QName(e).localname not in ("Reference", "X509Certificate")
    ]


def cda(title: str = "Compte rendu") -> bytes:
    pdf = base64.encodebytes(b"%PDF-1.4 " + os.urandom(300)).decode()
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\r\n<ClinicalDocument xmlns="urn:hl7-org:v3"><!-- N1 -->'
        f'<title>{title}</title><component><nonXMLBody><text mediaType="application/pdf" representation="B64">{pdf}'
        "</text></nonXMLBody></component></ClinicalDocument>\r\n"
    ).encode()


def test_signed_with_a_cps_signature_certificate_it_verifies(pki: Pki, professional: Professional) -> None:
    docs = {DOC: cda(), "1.2.250.1.999.1.1.7898.3.2": b"%PDF-1.4 not xml \x00\xff"}
    signed = sign_xades(pki.credentials(professional, "cps_sign"), docs, SS)
    verdict = verify_xades(pki, signed.xml, docs, submission_set=SS)
    assert verdict.valid, verdict.failures
    assert [r.status for r in verdict.references] == ["dummy", "ok", "ok"] and verdict.dummy_submission_set
    # the XML document is digested after C14N with comments, the other as bytes
    assert [r.transforms for r in verdict.references][1:] == [
        ("http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments",),
        (),
    ]
    assert verdict.signer is not None and (verdict.signer.kind, verdict.signer.status) == (
        "cps_sign",
        "valid",
    )
    assert verdict.signer.persona == professional.id_nat and verdict.signing_certificate_ok
    assert verdict.purpose == "1.2.840.10065.1.12.1.14" and verdict.xades_namespace == XADES111
    assert verdict.signature_method.endswith("rsa-sha1") and verdict.signing_time is not None
    # the same shape as the official example
    one = etree.fromstring(sign_xades(pki.credentials(professional, "cps_sign"), {DOC: cda()}, SS).xml)
    official = etree.fromstring((SPECS / "TD2.1-SignatureXades.xml").read_bytes())
    assert shape(one) == shape(official)
    root = etree.fromstring(signed.xml)
    assert root.find(f"{{{DS}}}Object/{{{DS}}}Manifest").get("Id") == "IHEManifest"
    # SHA-256 everywhere, and an ORG SIGN signer, pass too
    sha256 = sign_xades(
        pki.credentials(professional, "cps_sign"), docs, SS, digest="sha256", signature_method=RSA_SHA256
    )
    assert verify_xades(pki, sha256.xml, docs).valid
    assert verify_xades(pki, sha256.xml, docs).references[1].digest_method.endswith("xmlenc#sha256")


def test_an_org_sign_certificate_signs_for_a_structure(pki: Pki, structure: Structure) -> None:
    docs = {DOC: cda()}
    verdict = verify_xades(pki, sign_xades(pki.credentials(structure, "org_sign"), docs, SS).xml, docs)
    assert verdict.valid and verdict.signer is not None and verdict.signer.kind == "org_sign"


def test_signed_with_an_authentication_certificate_it_is_reported(
    pki: Pki, professional: Professional
) -> None:
    docs = {DOC: cda()}
    verdict = verify_xades(pki, sign_xades(pki.credentials(professional, "cps_auth"), docs, SS).xml, docs)
    assert verdict.reasons == ("wrong-certificate-kind",)
    assert "cps_auth" in verdict.failures[0].message


def test_one_byte_flipped_is_a_digest_mismatch(pki: Pki, professional: Professional) -> None:
    docs = {DOC: cda("Compte rendu"), "1.2.3.9": b"\x00\x01\x02binary"}
    signed = sign_xades(pki.credentials(professional, "cps_sign"), docs, SS)
    flipped = {DOC: docs[DOC].replace(b"Compte rendu", b"Compte rendv"), "1.2.3.9": b"\x00\x01\x02binarz"}
    verdict = verify_xades(pki, signed.xml, flipped)
    assert verdict.reasons == ("digest-mismatch", "digest-mismatch")
    assert [r.status for r in verdict.references] == ["dummy", "digest-mismatch", "digest-mismatch"]
    # a flipped byte inside the signature: the Manifest no longer matches SignedInfo
    digest = verdict.references[1].expected.encode()
    tampered = signed.xml.replace(digest, b"AAAA" + digest[4:])
    assert verify_xades(pki, tampered, docs).reasons == ("digest-mismatch",)
    value = etree.fromstring(signed.xml).findtext(f"{{{DS}}}SignatureValue")
    broken = signed.xml.replace(
        value.encode(), (value[:10] + ("A" if value[10] != "A" else "B") + value[11:]).encode()
    )
    assert verify_xades(pki, broken, docs).reasons == ("signature-invalid",)


def test_references_the_submission_does_not_match(pki: Pki, professional: Professional) -> None:
    creds = pki.credentials(professional, "cps_sign")
    document = cda()
    signed = sign_xades(creds, {DOC: document}, SS)
    assert verify_xades(pki, signed.xml, {"1.2.3.7": document}).reasons == ("unknown-reference", "not-signed")
    # the dummy digest on a uniqueId that is not the submission set's
    assert verify_xades(pki, signed.xml, {DOC: document}, submission_set="9.9").reasons == (
        "unknown-reference",
    )
    assert verify_xades(pki, b"<notxml", {}).reasons == ("malformed",)
    assert verify_xades(pki, b"<x/>", {}).reasons == ("not-signed",)


def test_signing_certificate_must_be_the_keyinfo_certificate(
    pki: Pki, professional: Professional, structure: Structure
) -> None:
    docs = {DOC: cda()}
    signed = sign_xades(
        pki.credentials(professional, "cps_sign"), docs, SS, claimed=pki.credentials(structure, "org_sign")
    )
    verdict = verify_xades(pki, signed.xml, docs)
    assert verdict.reasons == ("signing-certificate-mismatch",) and not verdict.signing_certificate_ok


def test_the_signer_is_judged_on_the_tenant_clock(pki: Pki, professional: Professional) -> None:
    docs = {DOC: cda()}
    signed = sign_xades(pki.credentials(professional, "cps_sign"), docs, SS)
    tenant = "x-" + uuid.uuid4().hex[:8]
    pki.sandbox.clock.set_time(tenant, pki.sandbox.now() + timedelta(days=4 * 365), frozen=True)
    try:
        assert verify_xades(pki, signed.xml, docs, tenant).reasons == ("expired",)
    finally:
        pki.sandbox.clock.set_real(tenant)
    expired = sign_xades(pki.issue(professional, "cps_sign", "expired"), docs, SS)
    assert verify_xades(pki, expired.xml, docs).reasons == ("expired",)
    revoked_creds = pki.issue(professional, "cps_sign")
    pki.revoke(revoked_creds.serial)
    assert verify_xades(pki, sign_xades(revoked_creds, docs, SS).xml, docs).reasons == ("revoked",)


def test_the_official_example(pki: Pki) -> None:
    """TD2.1-SignatureXades.xml: its signature and SignedProperties verify (with signxml's
    empty-xmlns excision, without its schema check: the Id starts with a digit), its dummy
    submission-set digest is accepted, its SigningCertificate is its KeyInfo certificate; its
    signer is not of this sandbox, and the CDA shipped beside it is not the one it signed."""
    xades = (SPECS / "TD2.1-SignatureXades.xml").read_bytes()
    document = (SPECS / "TD2.1-DocumentME2.xml").read_bytes()
    verdict = verify_xades(pki, xades, {"1.2.250.1.999.1.1.7898.4.9956570902": document})
    assert verdict.signature_id == "0421d1cc-b27b-4b0d-bab2-7ebcd54d47f6"
    assert [r.status for r in verdict.references] == ["dummy", "digest-mismatch"]
    assert verdict.references[0].expected == "AA==" and verdict.signing_certificate_ok
    assert verdict.reasons == ("digest-mismatch", "unknown-issuer")
    assert verdict.signer is not None and verdict.signer.cn == "899900063480"
    assert verdict.signing_time is not None and verdict.signing_time.year == 2019
    assert verdict.purpose == "1.2.840.10065.1.12.1.14"  # its SignatureProperties in no namespace


def test_the_signed_fixture_travels_in_an_mtom_package(pki: Pki, professional: Professional) -> None:
    """The signature as the Signature01 attachment of a kit-written package, read back by the kit."""
    from mocks import soap

    docs = {DOC: cda()}
    signed = sign_xades(pki.credentials(professional, "cps_sign"), docs, SS)
    atts = [soap.Attachment(f"d{n}@lgc", data) for n, data in enumerate([docs[DOC], signed.xml])]
    env = (
        '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><r xmlns:xop="http://www.w3.org/2004/08/xop/include">'
        + "".join(f'<d><xop:Include href="{a.href}"/></d>' for a in atts)
        + "</r></s:Body></s:Envelope>"
    ).encode()
    ctype, body = soap.cxf_package(env, atts, action="urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b")
    doc, sig = (b.data for b in soap.read_request(body, ctype).binaries())
    assert verify_xades(pki, sig, {DOC: doc}, submission_set=SS).valid
