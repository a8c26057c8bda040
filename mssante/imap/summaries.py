"""IMAP summaries made off the request path: a message's FETCH ENVELOPE, BODY and BODYSTRUCTURE
answers, as pymap writes them, computed by one daemon thread per sandbox (`mss-summaries`)
after a delivery commits, and stored in `mss_imap_summaries`.

    summarize(content)   the three answers of one message (what the FETCH fallback computes too)
    Summarizer.queue()   note new messages (MailStore.put calls it after its commit): a set add
    Summarizer.wait()    until every queued message is summarized (tests, the bench)

The worker is an optimisation only: a FETCH reads the stored summaries when present and makes
the missing ones itself (mssante.imap.backend.ContentCache). A summary costs ~1.7 ms of CPU
(the email header registry); the thread waits SETTLE seconds after a wake-up to take the
deliveries of a burst in one batch, lowers its own scheduling priority, and lets the GIL go
between messages, so that the SMTP loop it shares the process with keeps its turn.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Iterable

from pymap.message import BaseLoadedMessage
from pymap.mime import MessageContent
from pymap.parsing.specials import FetchRequirement

from mssante.mailstore import MailStore

log = logging.getLogger("segur")

SUMMARY_VERSION = 1  # bump when what pymap writes for ENVELOPE / BODYSTRUCTURE changes
BATCH = 100  # messages read, summarized and stored per transaction
SETTLE = 0.02  # seconds after a wake-up before a batch starts (a burst of deliveries, one batch)
NICE = 10  # the thread's own nice value (Linux: per thread); the loops keep theirs

Summary = tuple[bytes, bytes, bytes]  # FETCH ENVELOPE, BODY, BODYSTRUCTURE as pymap writes them


def summarize(content: MessageContent) -> Summary:
    """ENVELOPE, BODY and BODYSTRUCTURE of a parsed message, byte for byte as pymap writes them."""
    loaded = BaseLoadedMessage(None, FetchRequirement.CONTENT, content)  # type: ignore[arg-type]
    structure = loaded.get_body_structure()
    return bytes(loaded.get_envelope_structure()), bytes(structure), bytes(structure.extended)


class Summarizer:
    """The background writer of one MailStore's summaries (started on the first queue())."""

    def __init__(self, mails: MailStore) -> None:
        self.mails = mails
        self._cond = threading.Condition()
        self._pending: set[int] = set()
        self._busy = False
        self._stopped = False
        self._thread: threading.Thread | None = None
        self.cpu = 0.0  # seconds of this thread's CPU (the bench tells it apart from the SMTP path)
        self.done = 0  # summaries written

    def queue(self, messages: Iterable[int]) -> None:
        with self._cond:
            if self._stopped:
                return
            self._pending.update(messages)
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="mss-summaries", daemon=True)
                self._thread.start()
            self._cond.notify_all()

    def wait(self, timeout: float = 30.0) -> bool:
        """True once nothing is queued or being summarized (False after `timeout` seconds)."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._pending and not self._busy, timeout)

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._pending.clear()
            self._cond.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)

    def _loop(self) -> None:
        with contextlib.suppress(OSError, AttributeError):  # not Linux: the default priority
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), NICE)
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._pending or self._stopped)
                if self._stopped:
                    return
                self._busy = True
            time.sleep(SETTLE)
            with self._cond:
                batch = sorted(self._pending)[:BATCH]
                self._pending.difference_update(batch)
            started = time.thread_time()
            try:
                self._summarize(batch)
            except Exception:  # a FETCH makes what is missing: log, go on with the next batch
                log.warning("mss: background IMAP summaries failed", exc_info=True)
            finally:
                self.cpu += time.thread_time() - started
                with self._cond:
                    self._busy = bool(self._pending)
                    self._cond.notify_all()

    def _summarize(self, batch: list[int]) -> None:
        made: dict[int, Summary] = {}
        for message, raw in self.mails.unsummarized(batch, SUMMARY_VERSION):
            try:
                made[message] = summarize(MessageContent.parse(raw))
            except Exception:  # pymap's parser refused it: the FETCH path answers as it does today
                log.warning("mss: no IMAP summary for message %s", message, exc_info=True)
            time.sleep(0)  # let the GIL go: the mail loop runs between two messages
        if made:
            self.mails.add_summaries(made, SUMMARY_VERSION)
            self.done += len(made)
