"""Inbound injection (`POST /_sandbox/mss/inject`): an injected CR-BIO fetched by imaplib from the
LGC's mailbox, its IHE_XDM.ZIP and METADATA.XML valid (the ebRIM lcm.xsd of the official DMP
contract, hash and size of the document); the LGC's MDN and error mail for it checked like its
submissions; a patient's reply; a new version; refusals."""

from __future__ import annotations

import base64
import email
import hashlib
import imaplib
import io
import uuid
import zipfile
from email import policy
from email.header import Header
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from tests.mssante.conftest import CDS, CDS_APP, LAB_ORG, PATIENT_INS, App

EBRS = (
    Path(__file__).resolve().parents[2].parent
    / "shared"
    / "specs"
    / "dmp"
    / "contract"
    / "schema"
    / "ebRS"
    / "lcm.xsd"
)


def inject(app: App, **body: Any) -> dict[str, Any]:
    r = app.control("POST", "/inject", json={"to": CDS_APP, **body})
    assert r.status_code == 201, r.text
    return dict(r.json())


def imap_fetch(app: App, message_id: str) -> EmailMessage:
    """The LGC reads its APP mailbox over IMAP (SASL EXTERNAL with the structure's certificate)."""
    ctx = app.sandbox.pki.client_context(CDS, "org_auth_cli")
    with imaplib.IMAP4(app.runner.sandbox.config.host, app.sandbox.port("mss-imap")) as i:
        i.starttls(ssl_context=ctx)
        i.authenticate("EXTERNAL", lambda _: CDS_APP.encode())
        i.select("INBOX")
        typ, data = i.search(None, "HEADER", "Message-ID", message_id)
        assert typ == "OK" and data[0], data
        typ, fetched = i.fetch(data[0].split()[-1], "(RFC822)")
        raw = fetched[0][1]
    msg = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def test_an_injected_crbio_fetched_by_imap_has_valid_metadata(app: App) -> None:
    result = inject(app, from_persona="labo", mdn=True)
    assert result["from"] == LAB_ORG and result["documents"][0]["type_code"] == "11502-2"
    msg = imap_fetch(app, result["message_id"])
    assert msg["Subject"] == "XDM/1.0/DDM+CR d'examens biologiques GIRARD Sophie 17/05/1984"
    assert msg["X-MSS-CODECDA"] == "11502-2" and msg["X-MSS-INS"] == "O" and msg["X-MSS-NIL"]
    assert msg["Disposition-Notification-To"] == LAB_ORG and msg["Return-Path"] == f"<{LAB_ORG}>"
    attachments = {p.get_filename(): p for p in msg.iter_attachments()}
    archive = zipfile.ZipFile(io.BytesIO(attachments["IHE_XDM.ZIP"].get_content()))
    assert sorted(archive.namelist()) == ["IHE_XDM/SUBSET01/DOC0001.XML", "IHE_XDM/SUBSET01/METADATA.XML",
                                          "INDEX.HTM", "README.TXT"]  # fmt: skip
    meta = etree.fromstring(archive.read("IHE_XDM/SUBSET01/METADATA.XML"))
    schema = etree.XMLSchema(etree.parse(str(EBRS)))
    assert schema.validate(meta), schema.error_log
    rim = {"rim": "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"}
    entry = meta.find(".//rim:ExtrinsicObject", rim)
    slot = {
        s.get("name"): s.findtext("rim:ValueList/rim:Value", namespaces=rim)
        for s in entry.findall("rim:Slot", rim)
    }
    cda = archive.read("IHE_XDM/SUBSET01/" + slot["URI"])
    assert slot["hash"] == hashlib.sha1(cda).hexdigest() and slot["size"] == str(len(cda))
    ids = {
        e.get("identificationScheme"): e.get("value") for e in entry.findall("rim:ExternalIdentifier", rim)
    }
    assert (
        ids["urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427"]
        == f"{PATIENT_INS}^^^&1.2.250.1.213.1.4.10&ISO^NH"
    )
    assert ids["urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab"] == result["documents"][0]["uniqueId"]
    assert attachments[[n for n in attachments if n.endswith(".pdf")][0]].get_content().startswith(b"%PDF-")
    # the sandbox's own checks find nothing to say about what it sent
    from mssante import checks, wire
    from mssante.submission import Submission

    raw = app.eml(result["message"])
    from mocks.findings import Findings

    found = Findings("report", checks.RULES)
    checks.run(Submission(raw, wire.parse(raw), LAB_ORG, [CDS_APP], LAB_ORG, {"recipients": []}), found)
    assert not [f for f in found if f.severity in ("error", "warning")], found


def lgc_mdn(original: EmailMessage, *, code: str = "", broken: str = "") -> bytes:
    """The MDN an LGC writes for a message it integrated (or could not): RFC 8098 by hand."""
    boundary = uuid.uuid4().hex
    subject = original["Subject"]
    subject = f"[KO Intégration système !][{code}] {subject}" if code else subject
    disposition = "automatic-action/MDN-sent-automatically; processed" + (
        f"/Error: {code}^Identifiant de patient inconnu" if code else ""
    )
    fields = [f"Original-Recipient: rfc822;{CDS_APP}", f"Final-Recipient: rfc822; {CDS_APP}",
              f"Original-Message-ID: {original['Message-ID']}", f"Disposition: {disposition}"]  # fmt: skip
    if broken == "no-original-id":
        fields = [f for f in fields if not f.startswith("Original-Message-ID")]
    parts = ["Content-Type: text/plain; charset=utf-8\r\n\r\nLe document a été traité.",
             "Content-Type: message/disposition-notification\r\n\r\n" + "\r\n".join(fields)]  # fmt: skip
    if broken != "two-parts":
        parts.append("Content-Type: message/rfc822\r\n\r\n" + original.as_bytes(policy=policy.SMTP).decode())
        for att in original.iter_attachments():
            data = base64.encodebytes(att.get_content()).decode().replace("\n", "\r\n")
            parts.append(f'Content-Type: {att.get_content_type()}; name="{att.get_filename()}"\r\n'
                         f"Content-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=\"{att.get_filename()}\"\r\n\r\n{data}")  # fmt: skip
    head = [f"From: CDS des Lilas <{CDS_APP}>", f"To: {original['Disposition-Notification-To']}",
            f"Subject: {Header(subject, 'utf-8').encode()}", f"Message-ID: {make_msgid(domain='lgc.example')}",
            "Date: Thu, 01 Jan 2026 10:00:00 +0100", "X-MSS-NIL: DEV935997", "MIME-Version: 1.0",
            f'Content-Type: multipart/report; report-type=disposition-notification; boundary="{boundary}"']  # fmt: skip
    body = "".join(f"--{boundary}\r\n{p}\r\n" for p in parts) + f"--{boundary}--\r\n"
    return ("\r\n".join(head) + "\r\n\r\n" + body).encode("utf-8")


@pytest.mark.parametrize(
    ("broken", "code", "rule"),
    [("", "", None), ("", "902", None), ("no-original-id", "", "MSS-MDN-FIELDS"), ("two-parts", "", "MSS-MDN-STRUCTURE"),
     ("", "999", "MSS-ERROR-CODE")],
)  # fmt: skip
def test_the_lgc_mdn_is_checked(app: App, broken: str, code: str, rule: str | None) -> None:
    result = inject(app, from_persona="labo", mdn=True)
    original = imap_fetch(app, result["message_id"])
    raw = lgc_mdn(original, code=code, broken=broken)
    assert app.send(raw, [LAB_ORG], mail_options=["BODY=8BITMIME"]) == {}
    sent = email.message_from_bytes(raw, policy=policy.default)
    stored = app.stored(LAB_ORG, sent["Message-ID"])
    assert stored["origin"] == "mdn" and stored["envelope"]["kind"] == "mdn"
    found = {f["rule"] for f in stored["envelope"]["checks"] if f["severity"] in ("error", "warning")}
    if rule is None:
        assert not found, stored["envelope"]["checks"]
    else:
        assert rule in found, stored["envelope"]["checks"]


def test_the_lgc_error_mail_is_checked(app: App) -> None:
    result = inject(app, from_persona="labo")
    original = imap_fetch(app, result["message_id"])
    good = EmailMessage()
    good["From"], good["To"] = f"CDS des Lilas <{CDS_APP}>", LAB_ORG
    good["Subject"] = f"[KO Intégration système !][904] {original['Subject']}"
    good["Message-ID"], good["X-MSS-NIL"] = make_msgid(domain="lgc.example"), "DEV935997"
    good["Date"] = "Thu, 01 Jan 2026 10:00:00 +0100"
    good.set_content("Bonjour,\n- Code d’erreur : 904\n")
    good.add_attachment(original, filename="message_original.eml")
    for att in original.iter_attachments():
        good.add_attachment(att.get_content(), maintype=att.get_content_maintype(), subtype=att.get_content_subtype(),
                            filename=att.get_filename())  # fmt: skip
    assert app.send(good.as_bytes(policy=policy.SMTP), [LAB_ORG], mail_options=["BODY=8BITMIME"]) == {}
    stored = app.stored(LAB_ORG, good["Message-ID"])
    assert stored["envelope"]["kind"] == "error-mail"
    assert not [f for f in stored["envelope"]["checks"] if f["severity"] in ("error", "warning")], stored[
        "envelope"
    ]["checks"]
    plain = EmailMessage()
    plain["From"], plain["To"], plain["X-MSS-NIL"] = CDS_APP, LAB_ORG, "DEV935997"
    plain["Subject"] = f"[KO Intégration système !][904] {original['Subject']}"
    plain["Message-ID"] = make_msgid(domain="lgc.example")
    plain.set_content("erreur 904")
    assert app.send(plain.as_bytes(policy=policy.SMTP), [LAB_ORG]) == {}
    found = {f["rule"] for f in app.stored(LAB_ORG, plain["Message-ID"])["envelope"]["checks"]}
    assert "MSS-ERRMAIL-STRUCTURE" in found


def test_presets_variants_and_a_patient_reply(app: App) -> None:
    options = app.control("GET", "/inject").json()
    assert set(options["presets"]) >= {"labo", "hopital", "sil", "confrere", "patient"}
    ldl = inject(app, from_persona="hopital")
    assert ldl["documents"][0]["level"] == "N1"
    vsm = inject(app, from_persona="confrere", variant="sans-ins")
    msg = imap_fetch(app, vsm["message_id"])
    assert msg["X-MSS-INS"] == "N" and vsm["documents"][0]["ins"] == ""
    app_sent = imap_fetch(app, inject(app, from_persona="sil")["message_id"])
    assert app_sent["Reply-To"] and "automatiquement" in app_sent.get_body(("plain",)).get_content()
    again = inject(app, from_persona="hopital", variant="nouvelle-version")
    assert again["documents"][0]["replaces"] == ldl["documents"][0]["uniqueId"]
    assert (
        again["documents"][0]["version"] == "2"
        and again["documents"][0]["set_id"] == ldl["documents"][0]["set_id"]
    )
    reply = inject(app, from_persona="patient", in_reply_to=ldl["message_id"])
    got = imap_fetch(app, reply["message_id"])
    assert got["From"].addresses[0].addr_spec == f"{PATIENT_INS}@patient.mssante.fr"
    assert got["In-Reply-To"] == ldl["message_id"] and got["Subject"].startswith("RE: XDM/1.0/DDM+")
    assert not list(got.iter_attachments())


@pytest.mark.parametrize(
    ("body", "needle"),
    [({"to": "nobody@medecin.mssante.fr"}, "pas une BAL"), ({"from_persona": "x@example.org"}, "expéditeur"),
     ({"document": "ordonnance"}, "document"), ({"variant": "bizarre"}, "variante"), ({"patient": "nobody"}, "patient"),
     ({"document": {"upload": "%%%"}}, "base64"), ({"to": []}, "to")],
)  # fmt: skip
def test_bad_injection_requests_are_400(app: App, body: dict[str, Any], needle: str) -> None:
    payload = {"to": CDS_APP, **body}
    if payload["to"] == []:
        payload.pop("to")
    r = app.control("POST", "/inject", json=payload)
    assert r.status_code == 400 and needle in r.json()["error"], r.text
    assert app.control("POST", "/inject", content=b"not json").status_code == 400
