"""IMAP with imaplib and imapclient over real sockets: capabilities before and after STARTTLS,
AUTHENTICATE XOAUTH2 with a real PSC token (SASL-IR), NAMESPACE, LIST with SPECIAL-USE and
LIST-STATUS, SELECT, FETCH (ENVELOPE, BODYSTRUCTURE, partial), UID SEARCH, keywords that persist
($MDNSent), COPY / MOVE, APPEND to Sent, EXPUNGE, IDLE push, UTF-7 names, token expiry -> BYE."""

from __future__ import annotations

import asyncio
import imaplib
import re
import smtplib
import ssl
import threading
import time
import uuid
from typing import Any

import pytest
from imapclient import IMAPClient

from mssante.imap import server
from tests.mssante.conftest import COLLEAGUE, COLLEAGUE_BAL, DOCTOR_BAL, Mss, xoauth2
from tests.mssante.test_smtp import login, message


def send(mss: Mss, token: str, to: str, subject: str = "Compte rendu") -> str:
    msg = message(DOCTOR_BAL, [to], subject)
    with login(mss, token) as s:
        assert s.send_message(msg) == {}
    return str(msg["Message-ID"])


def imap_login(mss: Mss, token: str, user: str) -> imaplib.IMAP4:
    i = imaplib.IMAP4(mss.host, mss.port("mss-imap"))
    i.starttls(ssl_context=mss.context())
    typ, _ = i.authenticate("XOAUTH2", lambda _: xoauth2(user, token).encode())
    assert typ == "OK"
    return i


def test_capabilities_and_privacy(mss: Mss) -> None:
    i = imaplib.IMAP4(mss.host, mss.port("mss-imap"))
    try:
        caps = i.capabilities
        assert (
            "STARTTLS" in caps and "LOGINDISABLED" in caps and not [c for c in caps if c.startswith("AUTH=")]
        )
        typ, data = i._simple_command("AUTHENTICATE", "XOAUTH2", "dGVzdA==")  # type: ignore[attr-defined]
        assert (typ, data) == ("NO", [b"[PRIVACYREQUIRED] TLS is required before authentication."])
    finally:
        pass
    i.starttls(ssl_context=mss.context())
    caps = i.capability()[1][0].split()
    assert b"AUTH=XOAUTH2" in caps and b"AUTH=OAUTHBEARER" in caps and b"SASL-IR" in caps
    assert i.sock.version() == "TLSv1.2"  # type: ignore[attr-defined]
    i.logout()


def test_xoauth2_session(mss: Mss) -> None:
    colleague = mss.token(COLLEAGUE)
    mid = send(mss, mss.token(), COLLEAGUE_BAL, "Résultats d'analyses")
    i = imap_login(mss, colleague, COLLEAGUE_BAL)
    try:
        caps = i.capability()[1][0].split()
        for cap in (b"NAMESPACE", b"SPECIAL-USE", b"LIST-STATUS", b"IDLE", b"MOVE", b"UIDPLUS"):
            assert cap in caps
        assert i.namespace()[1][0] == b'(("" "/")) NIL NIL'
        typ, listing = i.list()
        names = {line.decode() for line in listing}
        assert '(\\HasNoChildren \\Sent) "/" Sent' in names and '(\\HasNoChildren \\Trash) "/" Trash' in names
        typ, data = i.select("INBOX")
        assert typ == "OK" and data == [b"1"]
        typ, data = i.fetch("1", "(ENVELOPE BODYSTRUCTURE FLAGS)")
        wire = b"".join(b"".join(d) if isinstance(d, tuple) else d for d in data)
        assert mid.encode() in wire and b'("TEXT" "PLAIN"' in wire.upper()
        typ, data = i.fetch("1", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)] BODY.PEEK[]<0.10>)")
        assert b"=?utf-8?" in data[0][1].lower() or "Résultats".encode() in data[0][1]
        assert data[1][1] == b"Return-Pat"
        typ, data = i.uid("SEARCH", "UNSEEN")
        uid = data[0].split()[0]
        assert i.uid("STORE", uid, "+FLAGS", "($MDNSent \\Seen)")[0] == "OK"
        assert i.create("Archiv&AOk-")[0] == "OK"  # "Archivé" in modified UTF-7 (RFC 3501 §5.1.3)
        assert i.uid("COPY", uid, "Archiv&AOk-")[0] == "OK"
        assert i.uid("MOVE", uid, "Trash")[0] == "OK"
        assert i.select("INBOX")[1] == [b"0"]
        assert i.append("Sent", "(\\Seen)", None, message(COLLEAGUE_BAL, [DOCTOR_BAL]).as_bytes())[0] == "OK"
    finally:
        i.logout()
    # a new session sees what the first one stored: keywords persist
    i = imap_login(mss, colleague, COLLEAGUE_BAL)
    try:
        typ, data = i.select("Trash")
        assert data == [b"1"]
        typ, data = i.fetch("1", "(FLAGS)")
        assert b"$MDNSent" in data[0] and b"\\Seen" in data[0]
        typ, data = i.response("PERMANENTFLAGS")
        assert b"\\*" in data[0]
        i.store("1", "+FLAGS", "\\Deleted")
        assert i.expunge()[1] == [b"1"]
        assert i.status("Sent", "(MESSAGES)")[1] == [b"Sent (MESSAGES 1)"]
        typ, data = i.select("Archiv&AOk-")
        assert data == [b"1"]
    finally:
        i.logout()


def test_imapclient_list_status_and_idle(mss: Mss) -> None:
    doctor, colleague = mss.token(), mss.token(COLLEAGUE)
    with IMAPClient(
        mss.host, port=mss.port("mss-imaps"), ssl=True, ssl_context=mss.context(), timeout=20
    ) as c:
        c.oauth2_login(COLLEAGUE_BAL, colleague)
        folders = {name: flags for flags, _, name in c.list_folders()}
        assert b"\\Drafts" in folders["Drafts"]
        typ, lines = c._imap._simple_command(
            "LIST", '""', '"*"', "RETURN", "(SPECIAL-USE STATUS (MESSAGES UNSEEN))"
        )  # type: ignore[attr-defined]
        assert typ == "OK"
        statuses = c._imap.untagged_responses.get("STATUS", [])  # type: ignore[attr-defined]
        assert any(b"INBOX (MESSAGES 0 UNSEEN 0)" in s for s in statuses)
        c.select_folder("INBOX")
        c.idle()
        started = time.perf_counter()
        sender = threading.Thread(target=send, args=(mss, doctor, COLLEAGUE_BAL))
        sender.start()
        responses = c.idle_check(timeout=10)
        pushed = time.perf_counter() - started
        c.idle_done()
        sender.join()
        assert (1, b"EXISTS") in responses
        assert pushed < 5  # push within a second of the delivery (the send itself takes the rest)
        assert c.search(["ALL"]) == [1]


class _Trickle:
    """A server-side StreamWriter that sends each write() at once, but holds the rest of a line
    written in pieces for 0.2 s per piece: a line split across writes arrives split."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self._writer = writer
        self._due = 0.0
        self._mid_line = False

    def write(self, data: bytes) -> None:
        loop = asyncio.get_running_loop()
        self._due = max(self._due + 1e-4, loop.time()) + (0.2 if self._mid_line else 0)
        self._mid_line = not bytes(data).endswith(b"\n")
        loop.call_at(self._due, self._writer.write, bytes(data))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._writer, name)


def test_idle_push_arrives_whole_when_writes_are_slow(mss: Mss, monkeypatch: pytest.MonkeyPatch) -> None:
    """imapclient's idle_check reads a non-blocking socket and drops a line that is only partly
    there; the server must write each response at once (it wrote an untagged FETCH in pieces,
    so idle_done later saw the line's tail: "unexpected response: b')'")."""

    class Slow(server.MssConnection):
        def __init__(self, mss: Any, listener: str, implicit: bool, config: Any, reader: Any, writer: Any,
                     tls_test: str | None = None) -> None:  # fmt: skip
            super().__init__(mss, listener, implicit, config, reader, _Trickle(writer), tls_test)

    monkeypatch.setattr(server, "MssConnection", Slow)
    doctor, colleague = mss.token(), mss.token(COLLEAGUE)
    with IMAPClient(
        mss.host, port=mss.port("mss-imaps"), ssl=True, ssl_context=mss.context(), timeout=20
    ) as c:
        c.oauth2_login(COLLEAGUE_BAL, colleague)
        c.select_folder("INBOX")
        c.idle()
        send(mss, doctor, COLLEAGUE_BAL)
        responses = c.idle_check(timeout=10)
        time.sleep(0.5)  # the rest of the push, if it came in pieces, is there by now
        text, more = c.idle_done()
        assert (1, b"EXISTS") in responses + more
        assert c.search(["ALL"]) == [1]


def test_token_expiry_gives_bye_and_a_fresh_token_reopens(mss: Mss) -> None:
    token = mss.token(COLLEAGUE)
    i = imap_login(mss, token, COLLEAGUE_BAL)
    assert i.select("INBOX")[0] == "OK"
    mss.psc.advance(300)  # PSC tokens live 120 s here
    with pytest.raises(imaplib.IMAP4.abort, match="UNAVAILABLE.*expired"):
        i.noop()
    fresh = mss.token(COLLEAGUE)
    i = imap_login(mss, fresh, COLLEAGUE_BAL)
    assert i.select("INBOX")[0] == "OK"
    i.logout()
    assert any(e["operation"] == "IMAP token expired" for e in mss.journal())


def test_login_refusals(mss: Mss) -> None:
    token = mss.token(COLLEAGUE)
    i = imaplib.IMAP4_SSL(mss.host, mss.port("mss-imaps"), ssl_context=mss.context())
    with pytest.raises(imaplib.IMAP4.error, match="AUTHENTICATIONFAILED"):
        i.authenticate("XOAUTH2", lambda _: xoauth2(DOCTOR_BAL, token).encode())
    with pytest.raises(imaplib.IMAP4.error):
        i.login(COLLEAGUE_BAL, token)  # LOGINDISABLED
    i.logout()


def test_tls13_and_weak_ciphers_refused(mss: Mss) -> None:
    for listener in ("mss-imaps", "mss-smtps"):
        ctx = mss.context()
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        with pytest.raises(ssl.SSLError):
            imaplib.IMAP4_SSL(mss.host, mss.port(listener), ssl_context=ctx, timeout=10)
        ctx = mss.context()
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        ctx.set_ciphers("AES256-SHA")
        with pytest.raises(ssl.SSLError):
            smtplib.SMTP_SSL(mss.host, mss.port(listener), context=ctx, timeout=10)


def test_many_messages(mss: Mss) -> None:
    """FETCH of envelopes over a mailbox filled through SMTP (the benchmark measures the time)."""
    token = mss.token()
    with login(mss, token) as s:
        for n in range(30):
            s.send_message(message(DOCTOR_BAL, [COLLEAGUE_BAL], f"n{n} {uuid.uuid4().hex[:6]}"))
    i = imap_login(mss, mss.token(COLLEAGUE), COLLEAGUE_BAL)
    i.select("INBOX", readonly=True)
    typ, data = i.fetch("1:*", "(UID ENVELOPE)")
    assert typ == "OK" and len([d for d in data if isinstance(d, bytes)]) == 30
    i.logout()


def _fetched(i: imaplib.IMAP4, items: str) -> bytes:
    typ, data = i.fetch("1", items)
    assert typ == "OK"
    return b"".join(b"".join(d) if isinstance(d, tuple) else d for d in data)


def test_fetch_summaries_are_kept_and_answer_as_pymap(mss: Mss) -> None:
    """ENVELOPE, BODY and BODYSTRUCTURE are written once per message and kept in the store: a
    session of the other listener (its own memory cache) reads them back, byte for byte what
    pymap writes from the parsed message; SEARCH on envelope fields still works."""
    from pymap.message import BaseLoadedMessage
    from pymap.mime import MessageContent
    from pymap.parsing.specials import FetchRequirement

    msg = message(DOCTOR_BAL, [COLLEAGUE_BAL], "Résultats d'analyses")
    msg["Cc"], msg["Reply-To"] = DOCTOR_BAL, "Secrétariat <secretariat@cds-lilas.mssante.fr>"
    msg.add_attachment(b"%PDF-1.4 fake", maintype="application", subtype="pdf", filename="cr.pdf")
    with login(mss, mss.token()) as s:
        assert s.send_message(msg) == {}
    token = mss.token(COLLEAGUE)
    first = imaplib.IMAP4_SSL(mss.host, mss.port("mss-imaps"), ssl_context=mss.context())
    first.authenticate("XOAUTH2", lambda _: xoauth2(COLLEAGUE_BAL, token).encode())
    first.select("INBOX", readonly=True)
    written = _fetched(first, "(ENVELOPE BODYSTRUCTURE BODY)")
    first.logout()

    stored = mss.messages(COLLEAGUE_BAL)[0]
    row = mss.runner.sandbox.store.one(
        "SELECT tenant, envelope, body, bodystructure FROM mss_imap_summaries WHERE message = ?",
        (stored["id"],),
    )
    assert row is not None and row["tenant"] == mss.tenant
    raw = mss.control("GET", f"/messages/{stored['id']}/eml").content
    loaded = BaseLoadedMessage(None, FetchRequirement.CONTENT, MessageContent.parse(raw))  # type: ignore[arg-type]
    structure = loaded.get_body_structure()
    for value in (loaded.get_envelope_structure(), structure.extended, structure):
        assert (
            b" " + re.sub(rb"(\{\d+\})\r\n", rb"\1", bytes(value)) in written
        )  # imaplib eats a literal's CRLF
    assert b'("application" "pdf" ' in written and b' "mixed"' in written

    second = imap_login(mss, token, COLLEAGUE_BAL)  # mss-imap: another listener, another cache
    second.select("INBOX", readonly=True)
    assert second.search(None, "FROM", "camille.lemaire", "SENTBEFORE", "2-Jan-2026")[1] == [b"1"]
    assert second.search(None, "SENTSINCE", "2-Jan-2026")[1] == [b""]
    assert _fetched(second, "(ENVELOPE BODYSTRUCTURE BODY)") == written
    second.logout()
