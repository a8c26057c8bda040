"""WS-Addressing 1.0 (2005/08) headers: read a request's, write an answer's as Apache CXF does.

    parse_addressing(envelope) -> Addressing    MessageID, To, Action, ReplyTo, FaultTo, RelatesTo
    response_headers(action, relates_to)        Action, MessageID (urn:uuid:), To (anonymous),
                                                RelatesTo: the order and form of the DMP's answers
    new_message_id()                            "urn:uuid:<uuid4>"

The request side follows the official DMP examples (research dmp.md §1.2): `MessageID`
`urn:uuid:...`, an empty `To`, `ReplyTo/Address` anonymous and `Action`, the last two with
`mustUnderstand="true"`. The official TD2.1 writes that attribute *without* a namespace (it is
then not SOAP's mustUnderstand); `must_understand` records either form, `must_understand_qualified`
only the SOAP-namespaced one, so a service can report the difference.

The answer side is byte for byte what the official answers show once soapUI's indentation is
removed: each header in its own default namespace declaration,
`<Action xmlns="http://www.w3.org/2005/08/addressing">...</Action><MessageID ...>...`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from lxml import etree

from mocks.soap.envelope import Envelope
from mocks.soap.ns import WSA, WSA_ANONYMOUS

FIELDS = ("MessageID", "To", "Action", "ReplyTo", "FaultTo", "From", "RelatesTo")
TRUE = ("true", "1")


@dataclass(frozen=True)
class Addressing:
    """The WS-Addressing headers of a request (None: absent; "" : present and empty)."""

    present: bool = False  # at least one wsa: header
    message_id: str | None = None
    to: str | None = None
    action: str | None = None
    reply_to: str | None = None  # ReplyTo/Address
    fault_to: str | None = None  # FaultTo/Address
    from_: str | None = None  # From/Address
    relates_to: str | None = None
    must_understand: dict[str, bool] = field(default_factory=dict)  # local name -> flag, either form
    must_understand_qualified: dict[str, bool] = field(default_factory=dict)  # soap:mustUnderstand only
    duplicates: tuple[str, ...] = ()  # headers sent more than once (the first one is read)
    unknown: tuple[str, ...] = ()  # other wsa: headers

    @property
    def reply_is_anonymous(self) -> bool:
        return self.reply_to in (None, "", WSA_ANONYMOUS)


def _address(element: etree._Element) -> str:
    address = element.find(f"{{{WSA}}}Address")
    return (address.text or "").strip() if address is not None else ""


def parse_addressing(envelope: Envelope) -> Addressing:
    values: dict[str, str] = {}
    flags: dict[str, bool] = {}
    qualified: dict[str, bool] = {}
    seen: list[str] = []
    duplicates: list[str] = []
    unknown: list[str] = []
    mu_attr = f"{{{envelope.namespace}}}mustUnderstand"
    for header in envelope.headers:
        qname = etree.QName(header)
        if qname.namespace != WSA:
            continue
        local = qname.localname
        if local not in FIELDS:
            unknown.append(local)
            continue
        if local in seen:
            duplicates.append(local)
            continue
        seen.append(local)
        if local in ("ReplyTo", "FaultTo", "From"):
            values[local] = _address(header)
        else:
            values[local] = (header.text or "").strip()
        soap_mu = header.get(mu_attr)
        bare_mu = header.get("mustUnderstand")
        if soap_mu is not None:
            qualified[local] = soap_mu.strip() in TRUE
        if soap_mu is not None or bare_mu is not None:
            flags[local] = (soap_mu if soap_mu is not None else str(bare_mu)).strip() in TRUE
    return Addressing(
        present=bool(seen or unknown),
        message_id=values.get("MessageID"),
        to=values.get("To"),
        action=values.get("Action"),
        reply_to=values.get("ReplyTo"),
        fault_to=values.get("FaultTo"),
        from_=values.get("From"),
        relates_to=values.get("RelatesTo"),
        must_understand=flags,
        must_understand_qualified=qualified,
        duplicates=tuple(duplicates),
        unknown=tuple(unknown),
    )


def new_message_id() -> str:
    return f"urn:uuid:{uuid.uuid4()}"


def response_headers(
    action: str,
    relates_to: str | None,
    *,
    message_id: str | None = None,
    to: str | None = WSA_ANONYMOUS,
) -> str:
    """The WS-Addressing headers of an answer, in CXF's order: Action, MessageID, To, RelatesTo
    (RelatesTo only when the request had a MessageID; To only when not None)."""
    mid = message_id or new_message_id()
    parts = [
        f'<Action xmlns="{WSA}">{escape(action)}</Action>',
        f'<MessageID xmlns="{WSA}">{escape(mid)}</MessageID>',
    ]
    if to is not None:
        parts.append(f'<To xmlns="{WSA}">{escape(to)}</To>')
    if relates_to:
        parts.append(f'<RelatesTo xmlns="{WSA}">{escape(relates_to)}</RelatesTo>')
    return "".join(parts)
