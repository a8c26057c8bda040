"""The Mon espace santé inbox through the control API: list, open, attachments, mark read (which
sends the MDN `manual-action/MDN-sent-manually; displayed` when one was asked for)."""

from __future__ import annotations

import email
from email import policy

from tests.mssante.conftest import CDS_APP, CITIZEN_TEST, PATIENT_INS, App
from tests.mssante.xdm_messages import XdmMessage

PATIENT_BAL = f"{PATIENT_INS}@patient.mssante.fr"


def test_citizen_inbox_list_open_attachments_and_read(app: App) -> None:
    msg = XdmMessage(app.document("ldl", to=[PATIENT_BAL]), CDS_APP, [PATIENT_BAL], dnt=CDS_APP, mes="FIN")
    assert app.send(msg.bytes(), msg.to) == {}
    inboxes = {b["address"]: b for b in app.control("GET", "/citizen").json()["inboxes"]}
    assert inboxes[PATIENT_BAL]["unread"] >= 1 and inboxes[PATIENT_BAL]["patient"] == PATIENT_INS
    assert inboxes[PATIENT_BAL]["display"] == "SOPHIE GIRARD" and CITIZEN_TEST in inboxes
    assert app.control("GET", "/citizen", params={"q": "girard"}).json()["count"] >= 1
    stored = app.stored(PATIENT_BAL, msg.message_id)
    # citizen mailboxes are "manual": no automatic MDN on delivery
    assert app.control("GET", f"/mailboxes/{PATIENT_BAL}/profile").json()["receipts"] == "manual"
    parts = app.control("GET", f"/messages/{stored['id']}/parts").json()["parts"]
    pdf = next(p for p in parts if p["content_type"] == "application/pdf")
    download = app.console.get(pdf["download"])
    assert download.status_code == 200 and download.content == msg.doc.pdf
    assert download.headers["content-disposition"].startswith("attachment; filename=")
    content = app.control("GET", f"/messages/{stored['id']}/xdm").json()
    assert content["entries"][0]["uniqueId"] == msg.doc.header.unique_id
    assert [d["uniqueId"] for d in content["documents"]] == [msg.doc.header.unique_id]
    # the patient reads it: \Seen, and the MDN the LGC asked for
    read = app.control("POST", f"/mailboxes/{PATIENT_BAL}/messages/{stored['id']}/read").json()
    assert "\\Seen" in read["flags"] and read["mdn"]
    mdn = email.message_from_bytes(app.eml(read["mdn"]), policy=policy.default)
    notification = mdn.get_payload()[1].get_payload()[0]
    assert notification["Disposition"] == "manual-action/MDN-sent-manually; displayed"
    assert notification["Final-Recipient"] == f"rfc822; {PATIENT_BAL}"
    assert any(m["id"] == read["mdn"] for m in app.messages(CDS_APP))
    receipts = app.control("GET", f"/messages/{stored['id']}/receipts").json()["receipts"]
    assert [r["kind"] for r in receipts if r["kind"] == "mdn"] == ["mdn"]
    after = {b["address"]: b for b in app.control("GET", "/citizen").json()["inboxes"]}
    assert after[PATIENT_BAL]["unread"] == inboxes[PATIENT_BAL]["unread"] - 1
    assert app.control("POST", f"/mailboxes/{PATIENT_BAL}/messages/999999/read").status_code == 404
    assert app.control("GET", "/messages/999999/parts").status_code == 404
    assert app.control("GET", f"/messages/{stored['id']}/parts/9.9").status_code == 404
