"""The checks on every message an LGC submits, over real SMTP (smtplib, the CDS's APP mailbox and
its certificate): a correct IHE_XDM message (tests/mssante/xdm_messages.py) gets no error or
warning, each broken variant fires its rule, strict mode refuses with 550 5.6.0 and the rule id,
the patient rules, the replacement version, the evidence of the funding conditions."""

from __future__ import annotations

import smtplib
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from tests.mssante.conftest import CDS_APP, CITIZEN_TEST, HOSPITAL_BAL, PATIENT_INS, App
from tests.mssante.xdm_messages import XdmMessage

PATIENT_BAL = f"{PATIENT_INS}@patient.mssante.fr"


def submit(app: App, msg: XdmMessage, **options: Any) -> list[dict[str, Any]]:
    assert app.send(msg.bytes(), msg.to, **options) == {}
    return app.findings(msg.to[0], msg.message_id)


def rules(findings: list[dict[str, Any]], *severities: str) -> set[str]:
    return {f["rule"] for f in findings if not severities or f["severity"] in severities}


def test_a_correct_xdm_message_has_no_error_or_warning(app: App) -> None:
    doc = app.document("ldl")
    msg = XdmMessage(doc, CDS_APP, [HOSPITAL_BAL], dnt=CDS_APP)
    found = submit(app, msg)
    assert not rules(found, "error", "warning"), found
    stored = app.stored(HOSPITAL_BAL, msg.message_id)
    assert stored["envelope"]["kind"] == "xdm"
    [info] = stored["envelope"]["documents"]
    assert info["uniqueId"] == doc.header.unique_id and info["ins_qualified"] is True
    assert info["type_code"] == "11490-0" and info["level"] == "N1"
    facts = app.sandbox.evidence.find(app.tenant, kind="mss.message.accepted", subject=msg.message_id)
    data = facts[0]["data"]
    assert data["sender"] == CDS_APP and data["sender_kind"] == "APP" and data["structure"] == "1750000010"
    assert data["recipients"] == [{"address": HOSPITAL_BAL, "kind": "PER"}] and data["xdm"] is True
    assert data["documents"][0]["uniqueId"] == doc.header.unique_id
    assert data["documents"][0]["ins"] == PATIENT_INS and data["documents"][0]["ins_qualified"] is True


VARIANTS: dict[str, tuple[Callable[[XdmMessage], None], str]] = {
    "wrong 8.3 name": (lambda m: setattr(m, "uri", "Document_1.xml"), "MSS-XDM-NAME-83"),
    "hash mismatch": (lambda m: setattr(m, "hash", "0" * 40), "MSS-XDM-HASH"),
    "size mismatch": (lambda m: setattr(m, "size", "12"), "MSS-XDM-SIZE"),
    "PDF one byte off": (lambda m: setattr(m, "pdf", m.doc.pdf[:-2] + b"X" + m.doc.pdf[-1:]), "CDA-N1-TWIN-PDF"),
    "CODECDA missing": (lambda m: setattr(m, "codecda", ""), "MSS-CODECDA-MISSING"),
    "CODECDA wrong": (lambda m: setattr(m, "codecda", "11502-2"), "MSS-CODECDA-MISMATCH"),
    "INS=O with a non-qualified INS": (lambda m: setattr(m, "doc", _unqualified(m)), "MSS-INS-HEADER-WRONG"),
    "FIN to a PS": (lambda m: setattr(m, "mes", "FIN"), "MSS-MES-NOT-PATIENT"),
    "MASQUE_PS document to a PS": (lambda m: m.confidentiality.append(("MASQUE_PS", "1.2.250.1.213.1.1.4.13")), "MSS-MASQUE-PS"),
    "subject grammar": (lambda m: setattr(m, "subject", "Compte rendu de Mme GIRARD"), "MSS-SUBJECT-XDM"),
    "subject of another patient": (lambda m: setattr(m, "subject", m.email()["Subject"].replace("17/05/1984", "18/05/1984")), "MSS-SUBJECT-MISMATCH"),
    "X-MSS-NIL missing": (lambda m: setattr(m, "nil", None), "MSS-NIL-MISSING"),
    "README.TXT missing": (lambda m: setattr(m, "readme", False), "MSS-XDM-LAYOUT"),
    "uniqueId of another document": (lambda m: setattr(m, "unique_id", "2.25.1"), "CDA-XDS-UNIQUEID"),
    "author of another professional": (lambda m: setattr(m, "author", "810000000000"), "MSS-XDM-AUTHOR"),
    "APP mailbox without Reply-To": (lambda m: setattr(m, "reply_to", None), "MSS-APP-REPLY-TO"),
    "HTML-only body": (lambda m: setattr(m, "html_only", True), "MSS-BODY-TYPE"),
    "reply without References": (lambda m: m.headers.update({"In-Reply-To": "<x@lgc.example>"}), "MSS-REPLY-HEADERS"),
    "METADATA.XML names a missing file": (lambda m: setattr(m, "metadata", m.metadata_xml().replace(b">DOC0001.XML<", b">DOC0002.XML<")), "MSS-XDM-URI"),
}  # fmt: skip


def _unqualified(m: XdmMessage) -> Any:
    """The same document for a patient whose INS the sandbox's INSi never qualified (tenant)."""
    return m.__dict__["_app"].document("ldl", patient="demo-moreau-lucas")


@pytest.mark.parametrize("name", list(VARIANTS))
def test_each_broken_variant_fires_its_rule(app: App, name: str) -> None:
    change, rule = VARIANTS[name]
    msg = XdmMessage(app.document("ldl"), CDS_APP, [HOSPITAL_BAL], dnt=CDS_APP)
    msg.__dict__["_app"] = app
    change(msg)
    found = submit(app, msg)
    assert rule in rules(found), (name, found)
    # the message is still delivered (report mode)
    assert app.stored(HOSPITAL_BAL, msg.message_id)["envelope"]["kind"] == "xdm"


def test_patient_rules(app: App) -> None:
    # a document INVISIBLE_PATIENT to the patient's mailbox; its INS is qualified
    msg = XdmMessage(app.document("ldl", to=[PATIENT_BAL]), CDS_APP, [PATIENT_BAL], dnt=CDS_APP, mes="FIN")
    msg.confidentiality.append(("INVISIBLE_PATIENT", "1.2.250.1.213.1.1.4.13"))
    found = submit(app, msg)
    assert "MSS-INVISIBLE-PATIENT" in rules(found) and "MSS-MES-NOT-PATIENT" not in rules(found)
    assert "MSS-PATIENT-INS-NOT-QUALIFIED" not in rules(found)
    # a patient address whose INS was never qualified, and who is not the document's patient
    other = "1191175056501" + "33"  # the twin LUCAS MOREAU: identity VALI, never qualified here
    plain = XdmMessage(
        app.document("ldl", to=[f"{other}@patient.mssante.fr"]), CDS_APP, [f"{other}@patient.mssante.fr"]
    )
    found = submit(app, plain)
    assert {"MSS-PATIENT-INS-NOT-QUALIFIED", "MSS-PATIENT-ADDRESS-MISMATCH"} <= rules(found)


def test_the_citizen_test_address_is_counted_once(app: App) -> None:
    msg = XdmMessage(app.document("ldl", to=[CITIZEN_TEST]), CDS_APP, [CITIZEN_TEST, CITIZEN_TEST.upper()])
    assert app.send(msg.bytes(), msg.to) == {}
    assert app.send(msg.bytes(), [CITIZEN_TEST]) == {}  # the same message again (a retry)
    facts = app.sandbox.evidence.find(app.tenant, kind="mss.delivered.citizen", subject=msg.message_id)
    assert len(facts) == 1 and facts[0]["data"]["address"] == CITIZEN_TEST
    assert facts[0]["data"]["sender"] == CDS_APP and facts[0]["data"]["structure"] == "1750000010"
    # one delivery into the inbox per submission, the duplicate RCPT delivered once
    inbox = [m for m in app.messages(CITIZEN_TEST) if m["message_id"] == msg.message_id]
    assert len(inbox) == 2 and all(m["rcpt_to"] == [CITIZEN_TEST] for m in inbox[-1:])
    accepted = app.sandbox.evidence.find(app.tenant, kind="mss.message.accepted", subject=msg.message_id)
    assert accepted[0]["data"]["recipients"] == [{"address": CITIZEN_TEST, "kind": "citizen_test"}]


def test_a_replacement_keeps_the_set_and_increments_the_version(app: App) -> None:
    first = app.document("ldl")
    submit(app, XdmMessage(first, CDS_APP, [HOSPITAL_BAL]))
    h = first.header
    good = app.document("ldl", replaces=h.unique_id, set_id=h.set_id, version=2)
    assert "MSS-REPLACE-VERSION" not in rules(submit(app, XdmMessage(good, CDS_APP, [HOSPITAL_BAL])))
    skipped = app.document("ldl", replaces=h.unique_id, set_id=h.set_id, version=3)
    assert "MSS-REPLACE-VERSION" in rules(submit(app, XdmMessage(skipped, CDS_APP, [HOSPITAL_BAL])))
    unknown = app.document("ldl", replaces="2.25." + str(uuid.uuid4().int), version=2)
    assert "MSS-REPLACE-PARENT" in rules(submit(app, XdmMessage(unknown, CDS_APP, [HOSPITAL_BAL])))


def test_strict_mode_refuses_with_550_and_the_rule_id(app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.sandbox.config.values, "mss_validation", "strict")
    msg = XdmMessage(app.document("ldl"), CDS_APP, [HOSPITAL_BAL], hash="0" * 40)
    with pytest.raises(smtplib.SMTPDataError) as refused:
        app.send(msg.bytes(), msg.to)
    assert refused.value.smtp_code == 550
    assert refused.value.smtp_error.decode().startswith("5.6.0 Message refused: MSS-XDM-HASH")
    assert not [m for m in app.messages(HOSPITAL_BAL) if m["message_id"] == msg.message_id]
    good = XdmMessage(app.document("ldl"), CDS_APP, [HOSPITAL_BAL], dnt=CDS_APP)
    assert app.send(good.bytes(), good.to) == {}
