"""SMTP submission with smtplib over real sockets: STARTTLS and implicit TLS, XOAUTH2 and
OAUTHBEARER with a real PSC token, the EHLO keywords before and after TLS, the refusals of
research mssante.md §3.1, delivery into the recipient's IMAP-visible INBOX, evidence and journal."""

from __future__ import annotations

import base64
import re
import smtplib
import uuid
from email.message import EmailMessage

import pytest

from tests.mssante.conftest import (
    CDS_ORG,
    CITIZEN_TEST,
    COLLEAGUE,
    COLLEAGUE_BAL,
    DOCTOR_BAL,
    DOCTOR_CDS_BAL,
    PHARMACIST_BAL,
    Mss,
    xoauth2,
)


def message(
    sender: str, to: list[str], subject: str = "Compte rendu", body: str = "Bonjour,\n"
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, ", ".join(to), subject
    msg["Message-ID"] = f"<{uuid.uuid4().hex}@lgc.example>"
    msg["Date"] = "Thu, 01 Jan 2026 10:00:00 +0100"
    msg.set_content(body)
    return msg


def login(mss: Mss, token: str, user: str = DOCTOR_BAL) -> smtplib.SMTP:
    s = smtplib.SMTP(mss.host, mss.port("mss-smtp"), timeout=20)
    s.starttls(context=mss.context())
    s.ehlo("lgc.example")
    s.auth("XOAUTH2", lambda challenge=None: xoauth2(user, token), initial_response_ok=True)
    return s


def test_ehlo_before_and_after_tls(mss: Mss) -> None:
    with smtplib.SMTP(mss.host, mss.port("mss-smtp"), timeout=20) as s:
        code, text = s.ehlo("lgc.example")
        assert code == 250
        before = text.decode().splitlines()[1:]
        assert "STARTTLS" in before and not any(k.startswith("AUTH") for k in before)
        assert s.docmd("AUTH", "XOAUTH2")[0] == 538
        assert s.docmd(f"MAIL FROM:<{DOCTOR_BAL}>") == (530, b"5.7.0 Must issue a STARTTLS command first")
        s.starttls(context=mss.context())
        code, text = s.ehlo("lgc.example")
        after = text.decode().splitlines()[1:]
        assert "AUTH XOAUTH2 OAUTHBEARER" in after and "STARTTLS" not in after
        for keyword in ("DSN", "ENHANCEDSTATUSCODES", "8BITMIME", "SMTPUTF8", "SIZE 10485760"):
            assert keyword in after
        assert s.sock.version() == "TLSv1.2"  # type: ignore[union-attr]
        assert s.docmd(f"MAIL FROM:<{DOCTOR_BAL}>") == (530, b"5.7.0 Authentication required")


def test_xoauth2_submit_delivers_and_records(mss: Mss) -> None:
    token = mss.token()
    with login(mss, token) as s:
        msg = message(DOCTOR_BAL, [COLLEAGUE_BAL, CDS_ORG])
        refused = s.send_message(msg)
        assert refused == {}
    for box in (COLLEAGUE_BAL, CDS_ORG):
        found = mss.messages(box, "INBOX")
        assert [m["message_id"] for m in found] == [msg["Message-ID"]]
        assert found[0]["mail_from"] == DOCTOR_BAL
    raw = mss.control("GET", f"/messages/{found[0]['id']}/eml")
    assert raw.status_code == 200 and raw.headers["content-type"] == "message/rfc822"
    assert raw.content.startswith(f"Return-Path: <{DOCTOR_BAL}>\r\nReceived: from lgc.example".encode())
    assert msg.as_bytes().replace(b"\n", b"\r\n") in raw.content  # the LGC's bytes, unchanged
    evidence = mss.psc.console.get(
        "/_sandbox/evidence", params={"tenant": mss.tenant, "kind": "mss.message.accepted"}
    ).json()
    facts = evidence["facts"] if isinstance(evidence, dict) else evidence
    assert facts and facts[0]["data"]["recipients"] == [
        {"address": COLLEAGUE_BAL, "kind": "PER"},
        {"address": CDS_ORG.lower(), "kind": "ORG"},
    ]
    assert facts[0]["data"]["sender_kind"] == "PER" and facts[0]["data"]["sender_rpps"] == "810100000016"
    lines = [e["operation"] for e in mss.journal()]
    assert f"SMTP submit {DOCTOR_BAL} → 2 rcpt" in lines


def test_sessions_over_tls_turn_mss03_green_and_plaintext_turns_it_red(mss: Mss) -> None:
    """MSS.03 (always TLS to the operator) reads `details.tls` of the access points' sessions: a
    submission after STARTTLS passes; a MAIL FROM sent in clear is journaled (default tenant: no
    identity yet) as `plaintext` and fails it."""
    with login(mss, mss.token()) as s:
        s.send_message(message(DOCTOR_BAL, [COLLEAGUE_BAL]))
    submit = next(e for e in mss.journal() if e["operation"].startswith("SMTP submit"))
    assert submit["details"]["tls"]["outcome"] == "completed"
    assert submit["details"]["tls"]["protocol"] == "TLSv1.2"
    board = mss.psc.console.get("/_sandbox/scoreboard/requirements/MSS.03", params={"tenant": mss.tenant})
    assert board.json()["status"] == "PASS", board.text

    with smtplib.SMTP(mss.host, mss.port("mss-smtp"), timeout=20) as s:
        s.ehlo("lgc.example")
        assert s.docmd(f"MAIL FROM:<{DOCTOR_BAL}>")[0] == 530
    board = mss.psc.console.get("/_sandbox/scoreboard/requirements/MSS.03", params={"tenant": "default"})
    req = board.json()
    assert req["status"] == "FAIL", req
    assert "plaintext" in board.text


def test_implicit_tls_and_oauthbearer(mss: Mss) -> None:
    token = mss.token()
    with smtplib.SMTP_SSL(mss.host, mss.port("mss-smtps"), context=mss.context(), timeout=20) as s:
        code, text = s.ehlo("lgc.example")
        assert "STARTTLS" not in text.decode() and "AUTH XOAUTH2 OAUTHBEARER" in text.decode()
        blob = f"n,a={DOCTOR_BAL},\x01host=localhost\x01port=4465\x01auth=Bearer {token}\x01\x01"
        s.auth("OAUTHBEARER", lambda challenge=None: blob, initial_response_ok=True)
        sent = message(DOCTOR_BAL, [CITIZEN_TEST])
        assert s.send_message(sent) == {}
    r = mss.psc.console.get(
        "/_sandbox/evidence", params={"tenant": mss.tenant, "kind": "mss.delivered.citizen"}
    )
    facts = r.json()["facts"] if isinstance(r.json(), dict) else r.json()
    assert len(facts) == 1 and facts[0]["subject"] == sent["Message-ID"]
    assert facts[0]["data"]["address"] == CITIZEN_TEST


def test_oauthbearer_failure_is_the_rfc7628_challenge(mss: Mss) -> None:
    with smtplib.SMTP_SSL(mss.host, mss.port("mss-smtps"), context=mss.context(), timeout=20) as s:
        s.ehlo("lgc.example")
        blob = base64.b64encode(b"n,,\x01auth=Bearer not.a.token\x01\x01").decode()
        code, text = s.docmd("AUTH", f"OAUTHBEARER {blob}")
        assert code == 334
        assert b'"status":"invalid_token"' in base64.b64decode(text)
        assert s.docmd(base64.b64encode(b"\x01").decode()) == (
            535,
            b"5.7.8 Authentication credentials invalid",
        )


def test_sender_must_be_owned(mss: Mss) -> None:
    token = mss.token()  # the doctor owns their PER mailboxes and the CDS's ORG mailbox
    with login(mss, token) as s:
        for own in (DOCTOR_BAL, DOCTOR_CDS_BAL, CDS_ORG):
            assert s.docmd(f"MAIL FROM:<{own}>")[0] == 250
            s.rset()
        assert s.docmd(f"MAIL FROM:<{COLLEAGUE_BAL}>") == (
            550,
            b"5.7.1 Sender address rejected: not owned by the authenticated user",
        )


def test_token_of_another_rpps_is_refused(mss: Mss) -> None:
    token = mss.token(COLLEAGUE)
    with smtplib.SMTP(mss.host, mss.port("mss-smtp"), timeout=20) as s:
        s.starttls(context=mss.context())
        s.ehlo("lgc.example")
        with pytest.raises(smtplib.SMTPAuthenticationError) as err:
            s.auth("XOAUTH2", lambda challenge=None: xoauth2(DOCTOR_BAL, token), initial_response_ok=True)
        assert (
            err.value.smtp_code == 535 and err.value.smtp_error == b"5.7.8 Authentication credentials invalid"
        )
    refused = [e for e in mss.journal() if e["operation"] == "SMTP AUTH"]
    assert refused and "not owned by 810100000040" in refused[0]["outcome"]


def test_expired_token_on_the_sandbox_clock(mss: Mss) -> None:
    token = mss.token()
    mss.psc.advance(3600)
    with smtplib.SMTP(mss.host, mss.port("mss-smtp"), timeout=20) as s:
        s.starttls(context=mss.context())
        s.ehlo("lgc.example")
        with pytest.raises(smtplib.SMTPAuthenticationError) as err:
            s.auth("XOAUTH2", lambda challenge=None: xoauth2(DOCTOR_BAL, token), initial_response_ok=True)
        assert err.value.smtp_code == 535


def test_recipient_refusals(mss: Mss) -> None:
    token = mss.token()
    with login(mss, token) as s:
        s.docmd(f"MAIL FROM:<{DOCTOR_BAL}>")
        assert s.docmd("RCPT TO:<nobody@medecin.mssante.fr>") == (
            550,
            b"5.1.1 Recipient address rejected: User unknown",
        )
        assert s.docmd("RCPT TO:<someone@gmail.com>") == (
            550,
            b"5.7.1 Recipient address rejected: domain not in the MSSant\xc3\xa9 trust space".decode().encode(),
        )
        assert s.docmd("RCPT TO:<000000000000000@patient.mssante.fr>")[0] == 550
        assert s.docmd("RCPT TO:<dr.x@medimail.mssante.fr>") == (250, b"2.1.5 Ok")  # another operator
        assert s.docmd(f"RCPT TO:<{PHARMACIST_BAL}>") == (250, b"2.1.5 Ok")
        code, _ = s.docmd("DATA")
        assert code == 354
        s.send(message(DOCTOR_BAL, [PHARMACIST_BAL]).as_bytes().replace(b"\n", b"\r\n") + b".\r\n")
        code, text = s.getreply()
        assert code == 250 and text.startswith(b"2.0.0 Ok: queued as ")
    held = mss.control("GET", "/outbound").json()["outbound"]
    assert [h["recipient"] for h in held] == ["dr.x@medimail.mssante.fr"]
    assert len(mss.messages(PHARMACIST_BAL)) == 1


def test_size_limit(mss: Mss) -> None:
    token = mss.token()
    with login(mss, token) as s:
        assert s.docmd(f"MAIL FROM:<{DOCTOR_BAL}> SIZE=20000000") == (
            552,
            b"5.3.4 Error: message size exceeds fixed maximum message size",
        )


def test_data_transparency_and_size(mss: Mss) -> None:
    """DATA is read in blocks: dot-stuffed lines come back unstuffed (RFC 5321 §4.5.2), a line
    ending with a dot does not end the message, a message over SIZE gets 552 5.3.4 and the
    session goes on."""
    body = ".hidden line\n..two dots\n.\nends with a dot.\nlast line\n"
    token = mss.token()
    with login(mss, token) as s:
        assert s.send_message(message(DOCTOR_BAL, [PHARMACIST_BAL], "Points", body)) == {}
        limit = int(mss.runner.sandbox.config["mss_max_message_size"])
        s.mail(DOCTOR_BAL)
        s.rcpt(PHARMACIST_BAL)
        assert s.docmd("DATA")[0] == 354
        line = b"A" * 76 + b"\r\n"
        s.send(b"Subject: big\r\n\r\n" + line * (limit // len(line) + 10) + b".\r\n")
        assert s.getreply() == (552, b"5.3.4 Error: message file too big")
        assert s.send_message(message(DOCTOR_BAL, [PHARMACIST_BAL], "after")) == {}
    stored = {m["id"]: m for m in mss.messages(PHARMACIST_BAL)}
    assert len(stored) == 2
    raws = [mss.control("GET", f"/messages/{i}/eml").content for i in stored]
    points = next(r for r in raws if b"Subject: Points" in r)
    assert b"\r\n\r\n.hidden line\r\n..two dots\r\n.\r\nends with a dot.\r\nlast line\r\n" in points


@pytest.mark.parametrize(
    ("sender", "rules"),
    [
        ('"Dr Camille LEMAIRE"\r\n <camille.lemaire@medecin.mssante.fr>', set()),  # folded
        ("=?utf-8?q?Dr_Camille_L=C3=A9maire?= <camille.lemaire@medecin.mssante.fr>", set()),
        ("camille.lemaire@medecin.mssante.fr", {"MSS-FROM-DISPLAY"}),
        ("Dr X <dr.x@medecin.mssante.fr>", {"MSS-FROM-NOT-SENDER"}),
    ],
)
def test_from_header_findings(mss: Mss, sender: str, rules: set[str]) -> None:
    raw = message(DOCTOR_BAL, [PHARMACIST_BAL], f"From {uuid.uuid4().hex[:6]}").as_bytes()
    raw = re.sub(rb"(?m)^From: [^\r\n]*", b"From: " + sender.encode(), raw.replace(b"\n", b"\r\n"), count=1)
    with login(mss, mss.token()) as s:
        assert s.sendmail(DOCTOR_BAL, [PHARMACIST_BAL], raw) == {}
    found = set(mss.messages(PHARMACIST_BAL)[0]["envelope"]["findings"])
    assert found & {"MSS-FROM-DISPLAY", "MSS-FROM-NOT-SENDER"} == rules
