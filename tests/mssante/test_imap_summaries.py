"""FETCH summaries made in the background (mssante.imap.summaries): after SMTP deliveries the
worker stores each message's ENVELOPE / BODY / BODYSTRUCTURE, byte for byte what pymap writes
from the parsed message; FETCH answers them; a restart (a new store connection, a new cache)
reads them back without parsing; without the worker, FETCH makes them itself."""

from __future__ import annotations

import re
from typing import Any

from pymap.message import BaseLoadedMessage
from pymap.mime import MessageContent
from pymap.parsing.specials import FetchRequirement

from mocks.store import Store
from mssante.imap.backend import ContentCache
from mssante.imap.summaries import SUMMARY_VERSION
from mssante.mailstore import MailStore
from tests.mssante.conftest import COLLEAGUE, COLLEAGUE_BAL, DOCTOR_BAL, Mss
from tests.mssante.test_imap import imap_login
from tests.mssante.test_smtp import login, message

N = 6


def _pymap(raw: bytes) -> tuple[bytes, bytes, bytes]:
    """What pymap itself writes for a message (the reference, computed here independently)."""
    loaded = BaseLoadedMessage(None, FetchRequirement.CONTENT, MessageContent.parse(raw))  # type: ignore[arg-type]
    structure = loaded.get_body_structure()
    return bytes(loaded.get_envelope_structure()), bytes(structure), bytes(structure.extended)


def _stored(mss: Mss, ids: list[int]) -> dict[int, tuple[bytes, bytes, bytes]]:
    rows = mss.runner.sandbox.store.query(
        f"SELECT message, tenant, version, envelope, body, bodystructure FROM mss_imap_summaries "
        f"WHERE message IN ({', '.join('?' * len(ids))})",
        ids,
    )
    assert {r["tenant"] for r in rows} == {mss.tenant} and {r["version"] for r in rows} == {SUMMARY_VERSION}
    return {r["message"]: (r["envelope"], r["body"], r["bodystructure"]) for r in rows}


def _deliver(mss: Mss) -> list[dict[str, Any]]:
    with login(mss, mss.token()) as s:
        for n in range(N):
            msg = message(DOCTOR_BAL, [COLLEAGUE_BAL], f"Résultats n°{n}")
            if n % 2:
                msg.add_attachment(b"%PDF-1.4 fake", maintype="application", subtype="pdf", filename="cr.pdf")
            assert s.send_message(msg) == {}
    found = mss.messages(COLLEAGUE_BAL)
    assert len(found) == N
    return found


def test_background_summaries_after_delivery(mss: Mss) -> None:
    worker = mss.runner.sandbox.instances["mss"].summaries
    before = worker.done
    delivered = _deliver(mss)
    assert worker.wait(30)
    ids = sorted(m["id"] for m in delivered)
    stored = _stored(mss, ids)
    assert sorted(stored) == ids and worker.done >= before + N
    raws = {i: mss.control("GET", f"/messages/{i}/eml").content for i in ids}
    for i in ids:
        assert stored[i] == _pymap(raws[i])

    token = mss.token(COLLEAGUE)
    imap = imap_login(mss, token, COLLEAGUE_BAL)
    imap.select("INBOX", readonly=True)
    typ, data = imap.fetch("1:*", "(UID ENVELOPE BODYSTRUCTURE BODY)")
    imap.logout()
    assert typ == "OK"
    answers = [b"".join(d) if isinstance(d, tuple) else d for d in data]
    assert len([a for a in answers if b"ENVELOPE (" in a]) == N
    written = b"".join(answers)
    for i in ids:
        for value in stored[i]:
            assert b" " + re.sub(rb"(\{\d+\})\r\n", rb"\1", value) in written  # imaplib eats a literal's CRLF

    # a restart: another connection to the same file, a new cache, nothing parsed
    fresh = ContentCache(MailStore(Store(mss.runner.sandbox.store.path)))
    fresh.prefetch(ids)
    assert {i: fresh.summary(i) for i in ids} == stored
    assert not fresh._contents and not fresh._pending
    fresh.mails.store.close()


def test_fetch_makes_the_summaries_without_the_worker(mss: Mss) -> None:
    """The worker is an optimisation: a MailStore without it (no arrivals hook) gets the same
    summaries from the FETCH path, stored at flush."""
    mails = MailStore(Store(mss.runner.sandbox.store.path))
    raw = message(DOCTOR_BAL, [COLLEAGUE_BAL], "Sans le worker").as_bytes()
    mid = mails.add_message(mss.tenant, raw, received_at="2026-01-01T00:00:00")
    mails.deliver(mss.tenant, COLLEAGUE_BAL, mid)
    assert mails.summaries([mid], SUMMARY_VERSION) == {}
    cache = ContentCache(mails)
    assert cache.summary(mid) == _pymap(raw)
    cache.flush()
    assert mails.summaries([mid], SUMMARY_VERSION) == {mid: _pymap(raw)}
    mails.store.close()
