"""Findings on what an LGC submits, and their catalogue `RULES` (never a refusal by itself).

The submission pipeline (mssante.flow) runs `CONTENT_CHECKS` in order over the parsed message:
each check is `check(submission, findings)` with a `mssante.submission.Submission` (raw bytes,
parsed headers, the SMTP envelope, who authenticated, and the sandbox context). Order matters:
the receipt check decides what the message is (an MDN, an error mail), the IHE_XDM check reads
the documents, then the header checks compare with them.

Rules of part 1 (here): the RFC 5322 headers a submission server completes (Date, Message-ID:
RFC 6409 §8.1 and §8.3 let it add them, as Postfix does; the LGC is told); the From header
against the authenticated mailbox (RFC 6409 §8.1 / operators' anti-spoofing); the TLS test
endpoints: an LGC that goes on after a handshake it should have aborted (ECO.1.1.x, research
mssante.md §1.3). Part 2: mssante.content (subject, X-MSS-*, replies, APP mailboxes, body,
patients), mssante.documents (IHE_XDM.ZIP), mssante.receipt_checks (the LGC's MDN and error
mails). Every id is listed by `GET /_sandbox/rules`.
"""

from __future__ import annotations

from collections.abc import Callable
from email.utils import getaddresses

from mocks.findings import Findings, Rule, Rules
from mssante import content, documents, receipt_checks
from mssante.submission import Submission

__all__ = ["CONTENT_CHECKS", "RULES", "Submission", "run"]

PART1 = [
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
RULES = Rules([*PART1, *content.RULES, *documents.RULES, *receipt_checks.RULES])


ContentCheck = Callable[[Submission, Findings], None]


def check_date(sub: Submission, findings: Findings) -> None:
    if "Date" not in sub.message:  # presence only: get() would parse the date
        findings.add(
            "MSS-DATE-MISSING", "warning", "En-tête Date absent : ajouté par l'opérateur.", location="Date"
        )


def check_message_id(sub: Submission, findings: Findings) -> None:
    if "Message-ID" not in sub.message:
        findings.add(
            "MSS-MESSAGE-ID-MISSING",
            "warning",
            "En-tête Message-ID absent : ajouté par l'opérateur ; les accusés de réception s'y réfèrent.",
            location="Message-ID",
        )


def check_from(sub: Submission, findings: Findings) -> None:
    values = sub.from_values
    addresses = [a.lower() for _, a in getaddresses(values) if a]
    if addresses and sub.mail_from.lower() not in addresses:
        findings.add(
            "MSS-FROM-NOT-SENDER",
            "warning",
            f"From {', '.join(addresses)} ≠ MAIL FROM {sub.mail_from}.",
            location="From",
        )


CONTENT_CHECKS: list[ContentCheck] = [
    check_date,
    check_message_id,
    check_from,
    receipt_checks.check_receipt,  # decides sub.kind: mdn, error-mail
    documents.check_xdm,  # sub.kind xdm, sub.documents
    content.check_subject,
    content.check_nil,
    content.check_x_mss,
    content.check_reply,
    content.check_display,
    content.check_app,
    content.check_body,
    content.check_patients,
    content.check_receipt_request,
    content.check_8bit,
]


def run(sub: Submission, findings: Findings) -> None:
    for check in CONTENT_CHECKS:
        check(sub, findings)
