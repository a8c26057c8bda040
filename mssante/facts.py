"""The evidence MSSanté establishes (the contract in mocks/evidence.py's docstring; the readers are
the Ségur scoreboard's funding conditions — ten documents to professionals with a qualified INS,
one message to the test citizen address — research cda-segur.md §B.4):

    mss.message.accepted   subject: the Message-ID of every accepted submission
        {sender, sender_rpps, structure, sender_kind: PER|ORG|APP|CAB,
         recipients: [{address, kind: PER|ORG|APP|CAB|patient|citizen_test|external}],
         documents: [{uniqueId, type_code, ins, ins_qualified, ...}], xdm, via_third_party}
        plus: message_id, kind (mail|xdm|mdn|error-mail), delivered, size, subject, auth, caller,
        message (the stored row), findings (error rule ids)
    mss.delivered.citizen  subject: the Message-ID of a message delivered to the configured test
        citizen address, once per Message-ID {address, sender, sender_rpps, structure}

`ins` is the 15-character INS of the CDA (matricule + key); `ins_qualified` says whether an
`ins.qualified` fact exists for it (INSi records the 13-character matricule).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mssante.mailboxes import Directory
from mssante.submission import header

if TYPE_CHECKING:
    from mocks.kernel import Exchange, Sandbox
    from mssante.auth import Identity
    from mssante.submission import Submission


def recipient_kind(directory: Directory, address: str) -> str:
    address = address.lower()
    if address == directory.test_citizen:
        return "citizen_test"
    found = directory.get(address)
    if found is None:
        return "external"
    return "patient" if found.type == "CIT" else found.type


def sender_fields(directory: Directory, identity: Identity, sender: str) -> dict[str, str]:
    mbx = directory.get(sender)
    kind = mbx.type if mbx is not None else ""
    rpps = identity.subject if identity.kind == "psc" else ""
    structure = (mbx.structure if mbx is not None else "") or (
        identity.subject if identity.kind == "certificate" else ""
    )
    return {"sender": sender.lower(), "sender_rpps": rpps, "structure": structure, "sender_kind": kind}


def accepted(
    sandbox: Sandbox,
    ex: Exchange,
    *,
    tenant: str,
    directory: Directory,
    identity: Identity,
    sub: Submission,
    message_id: str,
    recipients: list[str],
    delivered: list[str],
    size: int,
    stored: int,
) -> None:
    who = sender_fields(directory, identity, sub.mail_from)
    data: dict[str, Any] = {
        **who,
        "recipients": [{"address": r, "kind": recipient_kind(directory, r)} for r in recipients],
        "documents": [d.as_dict() for d in sub.documents],
        "xdm": sub.kind == "xdm",
        "via_third_party": False,
        "message_id": message_id,
        "kind": sub.kind,
        "delivered": delivered,
        "size": size,
        "subject": _subject(sub),
        "auth": identity.kind,
        "caller": identity.caller,
        "message": stored,
        "findings": sorted({f.rule for f in ex.findings if f.severity == "error"}),
    }
    sandbox.evidence.append(tenant, "mss.message.accepted", subject=message_id, data=data, exchange=ex)
    test = directory.test_citizen
    if test in delivered and not sandbox.evidence.exists(tenant, "mss.delivered.citizen", message_id):
        sandbox.evidence.append(
            tenant,
            "mss.delivered.citizen",
            subject=message_id,
            data={
                "address": test,
                **{k: who[k] for k in ("sender", "sender_rpps", "structure")},
                "message": stored,
                "message_id": message_id,
            },  # fmt: skip
            exchange=ex,
        )


def _subject(sub: Submission) -> str:
    return header(sub.message, "Subject")
