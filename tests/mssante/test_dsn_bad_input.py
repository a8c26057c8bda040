"""DSN (RFC 3461-3464) parsed with `email`, and every "bad input" of issue 15: 8-bit data without
8BITMIME, lines over 998 characters, missing Date / Message-ID, a header injection in a token, a
1 MB SASL blob, 500 RCPTs, a silent client (421), a fault rule dropping the connection. Each gets
the RFC reply, never a trace or a hang, and loses nothing already stored."""

from __future__ import annotations

import base64
import email
import email.policy
import smtplib
import socket
import time
from email.message import EmailMessage

import pytest

from tests.mssante.conftest import COLLEAGUE_BAL, DOCTOR_BAL, PHARMACIST_BAL, Mss
from tests.mssante.test_smtp import login, message


def dsns(mss: Mss) -> list[EmailMessage]:
    out = []
    for m in mss.messages(DOCTOR_BAL, "INBOX"):
        if m["origin"] == "dsn":
            raw = mss.control("GET", f"/messages/{m['id']}/eml").content
            parsed = email.message_from_bytes(raw, policy=email.policy.default)
            assert isinstance(parsed, EmailMessage)
            out.append(parsed)
    return out


def report(dsn: EmailMessage) -> tuple[dict[str, str], list[dict[str, str]]]:
    assert dsn.get_content_type() == "multipart/report"
    assert dsn.get_param("report-type") == "delivery-status"
    parts = list(dsn.iter_parts())
    assert [p.get_content_type() for p in parts[:2]] == ["text/plain", "message/delivery-status"]
    blocks = parts[1].get_payload()
    assert isinstance(blocks, list)
    per_message = {k: str(v) for k, v in blocks[0].items()}
    recipients = [{k: str(v) for k, v in b.items()} for b in blocks[1:]]
    return per_message, recipients


def send_with_dsn(mss: Mss, to: list[str], notify: str, ret: str = "HDRS") -> None:
    with login(mss, mss.token()) as s:
        msg = message(DOCTOR_BAL, to)
        s.send_message(msg, mail_options=[f"RET={ret}", "ENVID=lgc+2B42"], rcpt_options=[f"NOTIFY={notify}"])


def test_success_dsn(mss: Mss) -> None:
    with login(mss, mss.token()) as s:
        assert s.docmd(f"MAIL FROM:<{DOCTOR_BAL}> RET=FULL ENVID=QQ+2B42")[0] == 250
        assert (
            s.docmd(
                f"RCPT TO:<{COLLEAGUE_BAL}> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;Moussa+2BDiallo@cds-lilas.mssante.fr"
            )[0]
            == 250
        )
        assert s.data(message(DOCTOR_BAL, [COLLEAGUE_BAL]).as_bytes())[0] == 250
    [dsn] = dsns(mss)
    assert dsn["Subject"] == "Successful Mail Delivery Report" and dsn["To"] == DOCTOR_BAL
    per_message, [rcpt] = report(dsn)
    assert per_message["Original-Envelope-Id"] == "QQ+42" and per_message["Reporting-MTA"] == "dns; localhost"
    assert rcpt["Final-Recipient"] == f"rfc822; {COLLEAGUE_BAL}"
    assert rcpt["Original-Recipient"] == "rfc822; Moussa+Diallo@cds-lilas.mssante.fr"
    assert (rcpt["Action"], rcpt["Status"]) == ("delivered", "2.0.0")
    assert list(dsn.iter_parts())[2].get_content_type() == "message/rfc822"  # RET=FULL


def test_failure_and_delay_dsn_by_fault_rules(mss: Mss) -> None:
    mss.fault(operation="SMTP deliver", persona=COLLEAGUE_BAL, error="smtp_unknown_mailbox")
    mss.fault(operation="SMTP deliver", persona=PHARMACIST_BAL, error="smtp_delay_dsn")
    send_with_dsn(mss, [COLLEAGUE_BAL, PHARMACIST_BAL], "SUCCESS,FAILURE,DELAY")
    by_subject = {d["Subject"]: d for d in dsns(mss)}
    failed = by_subject["Undelivered Mail Returned to Sender"]
    _, [rcpt] = report(failed)
    assert (rcpt["Action"], rcpt["Status"]) == ("failed", "5.1.1")
    assert rcpt["Diagnostic-Code"].startswith("smtp; 550 5.1.1")
    assert list(failed.iter_parts())[2].get_content_type() == "text/rfc822-headers"  # RET=HDRS
    per_message, [rcpt] = report(by_subject["Delayed Mail (still being retried)"])
    assert per_message["Original-Envelope-Id"] == "lgc+42"
    assert (rcpt["Action"], rcpt["Status"], rcpt["Final-Recipient"]) == (
        "delayed",
        "4.4.7",
        f"rfc822; {PHARMACIST_BAL}",
    )
    assert mss.messages(COLLEAGUE_BAL) == []


def test_no_dsn_without_notify_success(mss: Mss) -> None:
    send_with_dsn(mss, [COLLEAGUE_BAL], "NEVER")
    assert dsns(mss) == []


def raw_data(s: smtplib.SMTP, body: bytes) -> tuple[int, bytes]:
    s.docmd(f"MAIL FROM:<{DOCTOR_BAL}>")
    s.docmd(f"RCPT TO:<{COLLEAGUE_BAL}>")
    assert s.docmd("DATA")[0] == 354
    s.send(body + b"\r\n.\r\n")
    return s.getreply()


def test_transport_bad_input(mss: Mss) -> None:
    with login(mss, mss.token()) as s:
        head = (
            b"From: "
            + DOCTOR_BAL.encode()
            + b"\r\nTo: x\r\nSubject: t\r\nDate: Thu, 01 Jan 2026 10:00:00 +0100\r\nMessage-ID: <a@b>\r\n\r\n"
        )
        assert raw_data(s, head + "Résumé sans 8BITMIME".encode()) == (
            554,
            b"5.6.1 Message contains 8-bit data but BODY=8BITMIME was not declared",
        )
        code, text = raw_data(s, head + b"x" * 1200)
        assert code == 500 and text.startswith(b"5.5.2 Line too long")
        code, text = raw_data(s, b"From: " + DOCTOR_BAL.encode() + b"\r\nSubject: sans date\r\n\r\nbonjour")
        assert code == 250
        s.noop()  # the session survives every refusal
    [stored] = mss.messages(COLLEAGUE_BAL)
    raw = mss.control("GET", f"/messages/{stored['id']}/eml").content
    assert b"\r\nDate: " in raw and b"\r\nMessage-ID: <" in raw
    entry = next(e for e in mss.journal() if e["operation"].startswith("SMTP submit") and e["status"] == 250)
    assert {f["rule"] for f in entry["findings"]} >= {"MSS-DATE-MISSING", "MSS-MESSAGE-ID-MISSING"}


def test_auth_bad_input(mss: Mss) -> None:
    token = mss.token()
    with smtplib.SMTP(mss.host, mss.port("mss-smtp"), timeout=20) as s:
        s.starttls(context=mss.context())
        s.ehlo("lgc.example")
        injected = f"user={DOCTOR_BAL}\x01auth=Bearer {token}\r\nX-Injected: 1\x01\x01"
        assert s.docmd("AUTH", "XOAUTH2 " + base64.b64encode(injected.encode()).decode())[0] == 535
        assert s.docmd("AUTH", "XOAUTH2 " + "A" * (1024 * 1024)) == (500, b"5.5.2 Error: line too long")
        assert s.docmd("AUTH", "XOAUTH2") == (334, b"")
        assert s.docmd("A" * (1024 * 1024)) == (500, b"5.5.6 Authentication Exchange line is too long")
        assert s.docmd("AUTH", "XOAUTH2 not-base64!")[0] == 501
        assert s.docmd("AUTH", "XOAUTH2") == (334, b"")
        assert s.docmd("*") == (501, b"5.7.0 Authentication aborted")
        assert s.noop()[0] == 250


def test_500_recipients(mss: Mss) -> None:
    with login(mss, mss.token()) as s:
        s.docmd(f"MAIL FROM:<{DOCTOR_BAL}>")
        codes = [s.docmd(f"RCPT TO:<{COLLEAGUE_BAL}>")[0] for _ in range(500)]
        assert codes[:100] == [250] * 100 and set(codes[100:]) == {452}
        assert s.docmd("RCPT TO:<x@y.z>")[1] == b"4.5.3 Error: too many recipients"


def test_silent_client_gets_421(mss: Mss, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(mss.runner.sandbox.config.values, "mss_idle_timeout", 1)
    with socket.create_connection((mss.host, mss.port("mss-smtp")), timeout=10) as sock:
        started = time.perf_counter()
        data = b""
        while b"421" not in data:
            chunk = sock.recv(1024)
            if not chunk:
                break
            data += chunk
        assert b"421 4.4.2 localhost Error: timeout exceeded" in data
        assert time.perf_counter() - started < 5
        assert sock.recv(1024) == b""  # then closed


def test_fault_rule_drops_the_connection(mss: Mss) -> None:
    mss.fault(operation="SMTP submit", drop_connection=True, times=1)
    with login(mss, mss.token()) as s, pytest.raises(smtplib.SMTPServerDisconnected):
        s.send_message(message(DOCTOR_BAL, [COLLEAGUE_BAL]))
    assert mss.messages(COLLEAGUE_BAL) == []
    mss.fault(operation="SMTP submit", error="smtp_tempfail", times=1)
    with login(mss, mss.token()) as s:
        with pytest.raises(smtplib.SMTPDataError) as err:
            s.send_message(message(DOCTOR_BAL, [COLLEAGUE_BAL]))
        assert (err.value.smtp_code, err.value.smtp_error) == (451, b"4.3.0 Error: queue file write error")
        assert s.send_message(message(DOCTOR_BAL, [COLLEAGUE_BAL])) == {}
