"""Automatic receipts from sandbox mailboxes, parsed with the standard library's `email` exactly as
an LGC would: the MDN of the ANS guide (three parts + the ZIP and PDF re-attached, success and
integration errors 900–906), the "standard" error mail when no MDN was asked for, the mailbox
profiles (auto, manual, never), fault rules forcing a code or a delay; and the DSN round trip."""

from __future__ import annotations

import email
import time
from email import policy
from email.message import EmailMessage
from typing import Any

from tests.mssante.conftest import CDS_APP, HOSPITAL_BAL, LAB_ORG, App
from tests.mssante.xdm_messages import XdmMessage


def parse(raw: bytes) -> EmailMessage:
    msg = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def receipt_for(app: App, msg: XdmMessage, origin: str, timeout: float = 10.0) -> EmailMessage:
    found = app.wait_for(
        CDS_APP,
        lambda m: m["origin"] == origin and msg.message_id in app.eml(m["id"]).decode("utf-8", "replace"),
        timeout,
    )
    return parse(app.eml(found["id"]))


def fields(report: EmailMessage) -> dict[str, str]:
    part = report.get_payload()[1]
    assert part.get_content_type() == "message/disposition-notification"
    out: dict[str, str] = {}
    for block in part.get_payload():
        out.update({k: str(v) for k, v in block.items()})
    return out


def test_mdn_processed_round_trip(app: App) -> None:
    msg = XdmMessage(app.document("ldl"), CDS_APP, [HOSPITAL_BAL], dnt=CDS_APP)
    started = time.monotonic()
    assert app.send(msg.bytes(), msg.to) == {}
    mdn = receipt_for(app, msg, "mdn")
    assert time.monotonic() - started < 10
    assert mdn.get_content_type() == "multipart/report"
    assert mdn.get_param("report-type") == "disposition-notification"
    assert mdn["Subject"] == msg.email()["Subject"]  # XDM/1.0/DDM+... on success
    assert mdn["From"] == HOSPITAL_BAL and mdn["To"] == CDS_APP and mdn["In-Reply-To"] == msg.message_id
    parts = mdn.get_payload()
    kinds = [p.get_content_type() for p in parts]
    assert kinds == [
        "text/plain",
        "message/disposition-notification",
        "message/rfc822",
        "application/zip",
        "application/pdf",
    ]
    f = fields(mdn)
    assert f["Disposition"] == "automatic-action/MDN-sent-automatically; processed"
    assert f["Final-Recipient"] == f"rfc822; {HOSPITAL_BAL}"
    assert f["Original-Recipient"] == f"rfc822;{HOSPITAL_BAL}"
    assert f["Original-Message-ID"] == msg.message_id
    original = parts[2].get_payload()[0]
    assert original["Message-ID"] == msg.message_id and original["Return-Path"] == f"<{CDS_APP}>"
    # the ZIP and the PDF re-attached, byte for byte
    sent = [p.get_content() for p in original.iter_attachments()]
    assert parts[3].get_content() == sent[0] and parts[4].get_content() == sent[1] == msg.doc.pdf
    assert parts[3].get_filename() == "IHE_XDM.ZIP"
    journal = app.console.get(
        "/_sandbox/journal", params={"tenant": app.tenant, "service": "mss", "operation": "MDN"}
    ).json()
    entries = journal["entries"] if isinstance(journal, dict) else journal
    assert any("processed" in e["outcome"] for e in entries)


def test_mdn_integration_error_902(app: App) -> None:
    # an INS the population does not know: the receiving software answers 902
    doc = app.document("ldl")
    unknown = doc.cda.replace(doc.header.ins.encode(), b"299999999999999")
    from mssante import cda_header
    from mssante.samples import Generated

    odd = Generated("ldl", unknown, doc.pdf, cda_header.read(unknown), doc.pdf_name)
    msg = XdmMessage(odd, CDS_APP, [HOSPITAL_BAL], dnt=CDS_APP)
    assert app.send(msg.bytes(), msg.to) == {}
    mdn = receipt_for(app, msg, "mdn")
    assert mdn["Subject"] == "[KO Intégration système !][902] " + msg.email()["Subject"]
    f = fields(mdn)
    assert f["Disposition"] == (
        "automatic-action/MDN-sent-automatically; processed/Error: "
        "902^Identifiant de patient inconnu^messageErrorCondition| E^Error^errorSeverity"
    )
    text = mdn.get_payload()[0].get_content()
    assert "Le document n’a pas pu être intégré." in text and "902^Identifiant de patient inconnu" in text


def test_error_mail_when_no_mdn_was_asked(app: App) -> None:
    doc = app.document("ldl", variant="traits-differents")  # the birth name spelled otherwise: 904
    msg = XdmMessage(doc, CDS_APP, [HOSPITAL_BAL])
    assert app.send(msg.bytes(), msg.to) == {}
    mail = receipt_for(app, msg, "error-mail")
    assert mail["Subject"].startswith("[KO Intégration système !][904] XDM/1.0/DDM+")
    assert mail.get_content_type() == "multipart/mixed"
    kinds = [p.get_content_type() for p in mail.get_payload()]
    assert kinds == ["text/plain", "message/rfc822", "application/zip", "application/pdf"]
    text = mail.get_payload()[0].get_content()
    assert "- Code d’erreur : 904" in text
    assert mail.get_payload()[1].get_filename() == "message_original.eml"


def _profile(app: App, box: str, value: str) -> None:
    r = app.control("PUT", f"/mailboxes/{box}/profile", json={"receipts": value})
    assert r.status_code == 200, r.text


def test_profiles_never_and_manual(app: App) -> None:
    _profile(app, LAB_ORG, "never")
    quiet = XdmMessage(app.document("ldl", to=[LAB_ORG]), CDS_APP, [LAB_ORG], dnt=CDS_APP)
    assert app.send(quiet.bytes(), quiet.to) == {}
    _profile(app, LAB_ORG, "manual")
    asked = XdmMessage(app.document("ldl", to=[LAB_ORG]), CDS_APP, [LAB_ORG], dnt=CDS_APP)
    assert app.send(asked.bytes(), asked.to) == {}
    time.sleep(0.5)
    mdns = [m for m in app.messages(CDS_APP) if m["origin"] == "mdn"]
    texts = [app.eml(m["id"]) for m in mdns]
    assert not any(quiet.message_id.encode() in t or asked.message_id.encode() in t for t in texts)
    # someone reads it (console / control API): the manual MDN, once
    stored = app.stored(LAB_ORG, asked.message_id)
    r = app.control("POST", f"/mailboxes/{LAB_ORG}/messages/{stored['id']}/read")
    assert r.status_code == 200 and r.json()["mdn"] and "\\Seen" in r.json()["flags"]
    mdn = receipt_for(app, asked, "mdn")
    assert fields(mdn)["Disposition"] == "manual-action/MDN-sent-manually; displayed"
    again = app.control("POST", f"/mailboxes/{LAB_ORG}/messages/{stored['id']}/read").json()
    assert again["mdn"] is None and "$MDNSent" in again["flags"]
    assert app.control("GET", f"/mailboxes/{LAB_ORG}/profile").json()["receipts"] == "manual"
    assert (
        app.control("PUT", f"/mailboxes/{LAB_ORG}/profile", json={"receipts": "sometimes"}).status_code == 400
    )
    _profile(app, LAB_ORG, "auto")


def _fault(app: App, **rule: Any) -> None:
    r = app.console.post("/_sandbox/faults", params={"tenant": app.tenant}, json={"service": "mss", **rule})
    assert r.status_code in (200, 201), r.text


def test_a_fault_rule_forces_a_code_and_a_delay(app: App) -> None:
    _fault(app, operation="MDN", persona=HOSPITAL_BAL, error="mdn_905", delay_ms=600, times=1)
    msg = XdmMessage(app.document("ldl"), CDS_APP, [HOSPITAL_BAL], dnt=CDS_APP)
    started = time.monotonic()
    assert app.send(msg.bytes(), msg.to) == {}
    assert time.monotonic() - started < 0.6 + 5  # the SMTP reply does not wait for the receipt
    mdn = receipt_for(app, msg, "mdn")
    assert time.monotonic() - started >= 0.6
    assert "processed/Error: 905^L'INS transmis n'est pas complet" in fields(mdn)["Disposition"]
    assert mdn["Subject"].startswith("[KO Intégration système !][905]")


def test_dnt_other_than_return_path_gets_no_automatic_mdn(app: App) -> None:
    msg = XdmMessage(app.document("ldl"), CDS_APP, [HOSPITAL_BAL], dnt="secretariat@cds-lilas.mssante.fr")
    assert app.send(msg.bytes(), msg.to) == {}
    found = app.findings(HOSPITAL_BAL, msg.message_id)
    assert "MSS-DNT-RETURN-PATH" in {f["rule"] for f in found}
    time.sleep(0.5)
    assert not [m for m in app.messages("secretariat@cds-lilas.mssante.fr") if m["origin"] == "mdn"
                and msg.message_id.encode() in app.eml(m["id"])]  # fmt: skip


def test_dsn_round_trip(app: App) -> None:
    msg = XdmMessage(app.document("ldl"), CDS_APP, [HOSPITAL_BAL])
    assert app.send(msg.bytes(), msg.to, rcpt_options=["NOTIFY=SUCCESS", f"ORCPT=rfc822;{HOSPITAL_BAL}"],
                    mail_options=["RET=HDRS", "ENVID=lgc-42"]) == {}  # fmt: skip
    dsn = receipt_for(app, msg, "dsn")
    assert dsn.get_content_type() == "multipart/report" and dsn.get_param("report-type") == "delivery-status"
    status = dsn.get_payload()[1]
    assert status.get_content_type() == "message/delivery-status"
    blocks = status.get_payload()
    assert blocks[0]["Original-Envelope-Id"] == "lgc-42" and blocks[0]["Reporting-MTA"].startswith("dns;")
    assert blocks[1]["Final-Recipient"] == f"rfc822; {HOSPITAL_BAL}" and blocks[1]["Action"] == "delivered"
    assert blocks[1]["Status"] == "2.0.0" and blocks[1]["Original-Recipient"] == f"rfc822; {HOSPITAL_BAL}"
    assert dsn.get_payload()[2].get_content_type() == "text/rfc822-headers"
    stored = app.stored(HOSPITAL_BAL, msg.message_id)
    listed = app.control("GET", f"/messages/{stored['id']}/receipts").json()["receipts"]
    assert "dsn" in {r["kind"] for r in listed}
