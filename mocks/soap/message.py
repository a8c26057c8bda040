"""One call to read a SOAP request, plain or MTOM: `read_request(body, content_type)`.

    body + Content-Type (+ SOAPAction)
      -> multipart/related?  parse_multipart (mocks.soap.mtom) -> the root part
      -> parse_envelope (hardened lxml, version from the namespace)
      -> Action (Content-Type, start-info, root part, wsa:Action), Addressing (WS-A headers)
    = SoapRequest; `request.binaries()` and `request.content_of(element)` give attachment bytes
      (mocks.soap.xop); `read_security(request.envelope, pki=..., tenant=...)` the wsse:Security.

Every failure is an `InvalidMessage` whose `version` is the best known (envelope, else the
Content-Type), for the service to answer a fault in that version.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass, replace

from lxml import etree

from mocks.soap.addressing import Addressing, parse_addressing
from mocks.soap.content_type import ContentType, parse_content_type
from mocks.soap.envelope import (
    DEFAULT_MAX_SIZE,
    Action,
    Envelope,
    action_of,
    parse_envelope,
    version_of_content_type,
)
from mocks.soap.invalid import InvalidMessage
from mocks.soap.mtom import Multipart, parse_multipart
from mocks.soap.ns import SoapVersion
from mocks.soap.xop import Binary, content_of, includes

_UTF8 = {"utf-8", "utf8"}


@dataclass(frozen=True)
class SoapRequest:
    envelope: Envelope
    action: Action
    addressing: Addressing
    content_type: ContentType
    multipart: Multipart | None = None  # None: a plain (non-MTOM) message

    @property
    def version(self) -> SoapVersion:
        return self.envelope.version

    def binaries(self) -> list[Binary]:
        """Every xop:Include of the envelope with its part's bytes (InvalidMessage when one
        names no part)."""
        return includes(self.envelope.root, self.multipart)

    def content_of(self, element: etree._Element) -> Binary:
        """The bytes of a base64Binary element: its xop:Include's part, or its inline base64."""
        try:
            return content_of(element, self.multipart)
        except InvalidMessage as exc:
            raise InvalidMessage(exc.reason, exc.message, self.version) from None


def _override_encoding(part_data: bytes, charset: str | None) -> str | None:
    """The part's charset when the XML itself declares none and it is not UTF-8 (`Cp1252`)."""
    if not charset or charset.lower() in _UTF8 or part_data[:64].lstrip()[:5] == b"<?xml":
        return None
    try:
        return codecs.lookup(charset).name
    except (LookupError, ValueError):
        return None  # an unknown (or unreadable) charset: let the XML rules decide (UTF-8)


def read_request(
    body: bytes,
    content_type: str | None,
    *,
    soap_action: str | None = None,
    max_size: int = DEFAULT_MAX_SIZE,
) -> SoapRequest:
    """Read a SOAP request (raises InvalidMessage). `soap_action`: the SOAPAction HTTP header."""
    ct = parse_content_type(content_type)
    declared = version_of_content_type(ct)
    if len(body) > max_size:
        raise InvalidMessage("size", f"message larger than {max_size} bytes ({len(body)})", declared)
    multipart = None
    part_ct = None
    data = body
    encoding = None
    if ct.media_type == "multipart/related" or (not ct.media_type and body[:64].lstrip()[:2] == b"--"):
        try:
            multipart = parse_multipart(body, ct)
        except InvalidMessage as exc:
            raise InvalidMessage(exc.reason, exc.message, declared) from None
        root = multipart.root
        part_ct = root.content_type
        data = root.data
        encoding = _override_encoding(data, root.charset)
        declared = version_of_content_type(part_ct) or declared
    envelope = parse_envelope(data, part_ct or ct, max_size=max_size, encoding=encoding)
    if envelope.declared_version is None and declared is not None:
        envelope = replace(envelope, declared_version=declared)
    return SoapRequest(
        envelope=envelope,
        action=action_of(ct, soap_action=soap_action, part_content_type=part_ct, envelope=envelope),
        addressing=parse_addressing(envelope),
        content_type=ct,
        multipart=multipart,
    )
