"""Findings on what an LGC submits, and their catalogue `RULES` (never a refusal by itself).

The submission pipeline (mssante.flow) runs `CONTENT_CHECKS` in order over the parsed message:
each check is `check(message, findings)` with a `Submission` (raw bytes, parsed headers, the SMTP
envelope, who authenticated). Part 2 of MSSanté (IHE_XDM archive, X-MSS-* headers, subject
grammar) appends its checks to this list and its rules to `RULES`.

Rules of part 1:
- the RFC 5322 headers a submission server completes (Date, Message-ID: RFC 6409 §8.1 and §8.3
  let it add them, as Postfix does; the LGC is told);
- the From header against the authenticated mailbox (RFC 6409 §8.1 / operators' anti-spoofing);
- the TLS test endpoints: an LGC that goes on after a handshake it should have aborted
  (ECO.1.1.x, research mssante.md §1.3).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import getaddresses
from typing import Any

from mocks.findings import Findings, Rule, Rules

RULES = Rules(
    [
        Rule(
            "MSS-DATE-MISSING",
            "warning",
            "Le message n'a pas d'en-tête Date : l'opérateur l'ajoute",
            "RFC 5322 §3.6.1, RFC 6409 §8.1",
        ),
        Rule(
            "MSS-MESSAGE-ID-MISSING",
            "warning",
            "Le message n'a pas d'en-tête Message-ID : l'opérateur l'ajoute (les accusés MDN/DSN s'y réfèrent)",
            "RFC 5322 §3.6.4, RFC 6409 §8.3",
        ),
        Rule(
            "MSS-FROM-NOT-SENDER",
            "warning",
            "L'en-tête From ne correspond pas à la BAL authentifiée (MAIL FROM)",
            "RFC 6409 §8.1 ; Référentiel socle MSSanté #2",
        ),
        Rule(
            "MSS-TLS-NOT-ABORTED",
            "error",
            "Le LGC a poursuivi la session sur un point de test TLS qu'il aurait dû refuser",
            "Référentiel socle MSSanté #2 ECO.1.1.2 à ECO.1.1.10",
        ),
    ]
)


@dataclass
class Submission:
    """One message as submitted: what the content checks look at."""

    raw: bytes
    message: EmailMessage
    mail_from: str
    recipients: list[str]
    identity: str  # caller (mailbox or national id)
    envelope: dict[str, Any] = field(default_factory=dict)


ContentCheck = Callable[[Submission, Findings], None]


def check_date(sub: Submission, findings: Findings) -> None:
    if sub.message.get("Date") is None:
        findings.add(
            "MSS-DATE-MISSING", "warning", "En-tête Date absent : ajouté par l'opérateur.", location="Date"
        )


def check_message_id(sub: Submission, findings: Findings) -> None:
    if sub.message.get("Message-ID") is None:
        findings.add(
            "MSS-MESSAGE-ID-MISSING",
            "warning",
            "En-tête Message-ID absent : ajouté par l'opérateur ; les accusés de réception s'y réfèrent.",
            location="Message-ID",
        )


def check_from(sub: Submission, findings: Findings) -> None:
    values = [str(v) for v in sub.message.get_all("From") or []]
    addresses = [a.lower() for _, a in getaddresses(values) if a]
    if addresses and sub.mail_from.lower() not in addresses:
        findings.add(
            "MSS-FROM-NOT-SENDER",
            "warning",
            f"From {', '.join(addresses)} ≠ MAIL FROM {sub.mail_from}.",
            location="From",
        )


CONTENT_CHECKS: list[ContentCheck] = [check_date, check_message_id, check_from]
