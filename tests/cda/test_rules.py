"""Our own rules and the safe parse, on the official examples, without the worker."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from lxml import etree

from mocks.cda.checks import RULES
from mocks.cda.parse import ParseError, parse
from mocks.cda.profiles import choose
from mocks.cda.rules import Context, check
from tests.cda import mutations as m

N1 = "DOC_NON_STRUCTURE_CDA-R2-N1.xml"
TLM = "TLM-CR_2022.01.xml"


def rules_of(doc: bytes, family: str = "test", qualified: bool = True, **ctx: object) -> dict[str, list[str]]:
    found = check(parse(doc, 10**8), Context(**ctx), family, lambda ins: qualified)  # type: ignore[arg-type]
    out: dict[str, list[str]] = {}
    for f in found:
        out.setdefault(f.rule, []).append(f.message)
    return out


def test_clean_n1_only_lacks_a_pdfa_claim(example: Callable[[str], bytes]) -> None:
    assert set(rules_of(example(N1))) == {"CDA-N1-PDFA"}  # the ANS example PDFs declare no PDF/A


def test_ins_family_follows_the_configuration(example: Callable[[str], bytes]) -> None:
    assert "CDA-INS-OID" in rules_of(example(N1), family="production")
    assert "CDA-INS-OID" not in rules_of(m.edit(example(N1), m.production_oid), family="production")
    assert "CDA-INS-NOT-QUALIFIED" in rules_of(example(N1), qualified=False)


def test_n1_body_rules(example: Callable[[str], bytes]) -> None:
    doc = example(N1)
    assert "CDA-N1-REPRESENTATION" in rules_of(
        m.edit(doc, lambda r: m.one(r, "h:component/h:nonXMLBody/h:text").set("representation", "TXT"))
    )
    not_pdf = m.edit(doc, lambda r: setattr(m.one(r, "h:component/h:nonXMLBody/h:text"), "text", "aGVsbG8="))
    assert "CDA-N1-PDF" in rules_of(not_pdf)


def test_recipients_against_information_recipient(example: Callable[[str], bytes]) -> None:
    doc = example(TLM)
    root = etree.fromstring(doc)
    listed = root.find(
        "{urn:hl7-org:v3}informationRecipient/{urn:hl7-org:v3}intendedRecipient/{urn:hl7-org:v3}id"
    )
    assert listed is not None
    assert "CDA-RECIPIENT" not in rules_of(doc, recipients=[listed.get("extension")])
    missing = rules_of(doc, recipients=["someone.else@test.mssante.fr"])["CDA-RECIPIENT"]
    assert "someone.else@test.mssante.fr" in missing[0]


def test_xds_metadata_against_the_header(example: Callable[[str], bytes]) -> None:
    doc = example(N1)
    root = etree.fromstring(doc)
    h = "{urn:hl7-org:v3}"
    eff = root.find(f"{h}effectiveTime").get("value")  # e.g. 20210401134745+0100
    ins = next(
        i
        for i in root.findall(f"{h}recordTarget/{h}patientRole/{h}id")
        if i.get("root") == "1.2.250.1.213.1.4.10"
    )
    good = {
        "typeCode": {"code": root.find(f"{h}code").get("code"), "scheme": root.find(f"{h}code").get("codeSystem")},
        "formatCode": "urn:ihe:iti:xds-sd:pdf:2008",
        "confidentialityCode": ["N", "MASQUE_PS"],
        "languageCode": "fr-FR",
        "creationTime": _utc(eff),
        "uniqueId": root.find(f"{h}id").get("root") + (("^" + root.find(f"{h}id").get("extension")) if root.find(f"{h}id").get("extension") else ""),
        "patientId": f"{ins.get('extension')}^^^&1.2.250.1.213.1.4.10&ISO",
        "hash": hashlib.sha1(doc).hexdigest(),
        "size": len(doc),
    }  # fmt: skip
    assert not {r for r in rules_of(doc, xds=good) if r.startswith("CDA-XDS")}
    bad = {
        **good,
        "formatCode": "urn:ihe:iti:xds-sd:text:2008",
        "confidentialityCode": "R",
        "languageCode": "en-US",
        "creationTime": "19990101000000",
        "uniqueId": "1.2.3",
        "patientId": "999999999999999^^^&1.2.250.1.213.1.4.10&ISO",
        "hash": "0" * 40,
    }
    fired = {r for r in rules_of(doc, xds=bad) if r.startswith("CDA-XDS")}
    assert fired == {"CDA-XDS-FORMATCODE", "CDA-XDS-CONFIDENTIALITY", "CDA-XDS-LANGUAGE", "CDA-XDS-CREATIONTIME",
                     "CDA-XDS-UNIQUEID", "CDA-XDS-PATIENTID", "CDA-XDS-HASH"}  # fmt: skip


def _utc(ts: str) -> str:
    from mocks.cda.rules import _utc as utc

    moment = utc(ts)
    assert moment is not None
    return moment[0].strftime("%Y%m%d%H%M%S")[: moment[1]]


def test_wrappers_validate_the_inner_document(example: Callable[[str], bytes]) -> None:
    presentable = parse(example("BIO-CR-BIO_2021.01_Auto-Presentable.xml"), 10**8)
    assert (
        presentable.wrapper == "xsl:stylesheet" and presentable.doc.tag == "{urn:hl7-org:v3}ClinicalDocument"
    )
    assert choose(presentable.doc).volet == "BIO-CR-BIO_2021.01"
    inner = example(N1).split(b"?>", 1)[1]
    signed = (
        b'<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:Object>'
        + inner
        + b"</ds:Object></ds:Signature>"
    )
    parsed = parse(signed, 10**8)
    assert parsed.wrapper == "ds:Signature" and choose(parsed.doc).level == "N1"
    with pytest.raises(ParseError, match="sans ClinicalDocument"):
        parse(b'<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"/>', 10**8)


def test_doctype_refused_even_behind_comments() -> None:
    with pytest.raises(ParseError, match="DOCTYPE"):
        parse(b"<?xml version='1.0'?><!-- x --><!DOCTYPE a SYSTEM 'http://x/'><a/>", 10**6)


def test_every_rule_id_used_is_in_the_catalogue() -> None:
    used: set[str] = set()
    for path in Path("mocks/cda").glob("*.py"):
        used |= set(re.findall(r'"(CDA-[A-Z0-9-]+)"', path.read_text(encoding="utf-8")))
    assert used and used <= set(RULES), used - set(RULES)
