"""The one typed error of the SOAP kit: a message that cannot be read.

Every reader of the kit (envelope, multipart, XOP, WS-Security) raises `InvalidMessage` and
nothing else for bad input, so a service turns it into its own fault with one `except`:

    try:
        msg = soap.read_request(body, content_type)
    except soap.InvalidMessage as exc:
        ERRORS.fail("malformed", exc.message, soap_version=exc.version)

`reason` is a short stable key (for journals, findings and tests); `message` says what is wrong
in words a developer reads; `version` is the SOAP version when it was known before the failure
(a service answers a fault in that version; None: the version could not be read).
"""

from __future__ import annotations

from typing import Literal

from mocks.soap.ns import SoapVersion

Reason = Literal[
    "size",  # larger than the reader's cap (nothing past the cap is read)
    "xml",  # not well-formed XML (garbage bytes, truncated document, bad encoding)
    "doctype",  # a DOCTYPE (DTD, entity declarations): refused by SOAP and by us
    "envelope",  # the root is not a SOAP 1.1 / 1.2 Envelope
    "body",  # no soap:Body, or a Body in the wrong place
    "multipart-boundary",  # multipart/related without a usable boundary
    "multipart-truncated",  # no closing delimiter, a part cut in its headers
    "multipart-headers",  # a part's headers cannot be read
    "multipart-root",  # the `start` part is missing
    "multipart-encoding",  # a Content-Transfer-Encoding we cannot decode, or bad base64 / QP
    "multipart-parts",  # too many parts
    "xop-missing-part",  # xop:Include href naming no part of the message
    "xop-href",  # xop:Include without a cid: href
    "base64",  # inline base64 content that is not base64
    "security",  # wsse:Security / saml2:Assertion that cannot be read
]


class InvalidMessage(ValueError):
    """A SOAP message (or its MIME package) that cannot be read."""

    def __init__(self, reason: Reason, message: str, version: SoapVersion | None = None):
        super().__init__(message)
        self.reason: Reason = reason
        self.message = message
        self.version: SoapVersion | None = version

    def __repr__(self) -> str:
        return f"InvalidMessage({self.reason!r}, {self.message!r}, version={self.version!r})"
