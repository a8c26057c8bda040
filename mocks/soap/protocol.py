"""SOAP protocols for the request harness, and the CXF-style answer builder.

    Soap12Protocol(...) / Soap11Protocol(...)   a listener's `protocol` (mocks.harness.Protocol)
    protocol.answer(ex, payload, action, attachments=())    a complete answer, CXF style
    protocol.fault_reply(ex, Fault(...), status)            any fault, same headers and package
    remember(ex, request)                       what the protocol needs from the request
    cxf_response(payload, action, ...)          (content type, body) without a protocol

The protocol writes, in the listener's style (mocks.soap.fault.Style, default `CXF12`/`CXF11`):

- a `SoapFault` catalogue entry (raised by the service or a fault rule): Code, Subcode, Reason
  (the raised text, else the entry's reason), Detail (the entry's `detail`, markup when it
  starts with `<`, else text; `params["detail"]` overrides it with markup), with the entry's
  HTTP status (500 by default, like CXF); an `HttpError` entry as its status and body;
- a harness refusal (unknown tenant, body too large...) as a fault with the refusal's status,
  except 404 which CXF answers with its servlet page `<html><body>No service was found.</body>
  </html>` (`cxf_not_found=True`, the default);
- a crash of ours as a `Receiver` fault "Fault occurred while processing." (CXF's wording when
  an exception has no message) with the sandbox trace id.

WS-Addressing headers go on every answer to a request that had WS-Addressing (Action — the
WSDL's for answers, `.../addressing/soap/fault` for faults unless given —, a fresh `urn:uuid:`
MessageID, To anonymous, RelatesTo the request's MessageID), as CXF's MAPAggregator does.
`mtom=True` (or a function of the exchange) packs every answer, faults included, as a CXF
multipart (the DMP's ITI-43 answers are MTOM even for faults, research dmp.md §1.2).
The answer is in the request's SOAP version when `remember(ex, request)` was called (CXF answers
in the envelope's version), else in the protocol's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from mocks.errors import HttpError, ServiceError, SoapFault
from mocks.harness import Protocol, Reply
from mocks.soap.addressing import response_headers
from mocks.soap.fault import CXF11, CXF12, Fault, Style, envelope, fault_envelope
from mocks.soap.message import SoapRequest
from mocks.soap.mtom import Attachment, CxfIds, cxf_package
from mocks.soap.ns import MEDIA_TYPE, WSA_FAULT_ACTION, SoapVersion

if TYPE_CHECKING:
    from mocks.kernel import Exchange

SOAP_KEY = "soap"  # ex.details[SOAP_KEY]: what remember() keeps of the request
CXF_NOT_FOUND = b"<html><body>No service was found.</body></html>"
# [inferred] a servlet container adds its default charset to CXF's "text/html" when the page is
# written through getWriter() (Tomcat: ISO-8859-1)
CXF_NOT_FOUND_TYPE = "text/html;charset=ISO-8859-1"
CRASH_REASON = "Fault occurred while processing."


def remember(ex: Exchange, request: SoapRequest) -> None:
    """Keep on the exchange what answers need: the SOAP version, the action, the MessageID (for
    RelatesTo) and whether WS-Addressing was used. Also journaled (ex.details["soap"])."""
    ex.details[SOAP_KEY] = {
        "version": request.version,
        "action": request.action.value,
        "message_id": request.addressing.message_id,
        "addressing": request.addressing.present,
        "mtom": request.multipart is not None,
    }


def cxf_response(
    payload: str | bytes,
    action: str | None,
    relates_to: str | None,
    *,
    version: SoapVersion = "1.2",
    style: Style | None = None,
    addressing: bool = True,
    attachments: Sequence[Attachment] = (),
    mtom: bool = False,
    message_id: str | None = None,
    content_type: str | None = None,
) -> tuple[str, bytes]:
    """(Content-Type, body) of an answer as CXF writes it: envelope with the WS-A headers, in an
    MTOM package when there are attachments or `mtom`."""
    style = (style or (CXF12 if version == "1.2" else CXF11)).with_version(version)
    headers = response_headers(action, relates_to, message_id=message_id) if addressing and action else ""
    body = envelope(payload, style, headers)
    if attachments or mtom:
        return cxf_package(body, attachments, version=version)
    return content_type or default_content_type(version), body


def default_content_type(version: SoapVersion) -> str:
    # [inferred] CXF sets "<media type>; charset=UTF-8"; Tomcat writes it without the space
    return f"{MEDIA_TYPE[version]};charset=UTF-8"


class SoapProtocol(Protocol):
    """Base of the two SOAP protocols; see the module docstring for what it writes."""

    version: SoapVersion = "1.2"

    def __init__(
        self,
        *,
        style: Style | None = None,
        content_type: str | None = None,
        action_in_content_type: bool = False,
        mtom: bool | Callable[[Exchange], bool] = False,
        addressing: bool = True,
        fault_action: str = WSA_FAULT_ACTION,
        ids: CxfIds | None = None,
        cxf_not_found: bool = True,
        follow_request_version: bool = True,
        entry_lang: bool = False,
    ):
        self.style = style or (CXF12 if self.version == "1.2" else CXF11)
        self.content_type = content_type  # None: default_content_type(version)
        self.action_in_content_type = action_in_content_type
        self.mtom = mtom
        self.addressing = addressing
        self.fault_action = fault_action
        self.ids = ids or CxfIds()
        self.cxf_not_found = cxf_not_found
        self.follow_request_version = follow_request_version
        self.entry_lang = entry_lang  # True: a catalogue entry's `lang` wins over the style's

    # -- what the request said ------------------------------------------------------------------
    def _request(self, ex: Exchange) -> dict[str, Any]:
        data = ex.details.get(SOAP_KEY)
        return data if isinstance(data, dict) else {}

    def version_for(self, ex: Exchange, override: str | None = None) -> SoapVersion:
        wanted = override or (self._request(ex).get("version") if self.follow_request_version else None)
        return wanted if wanted in ("1.1", "1.2") else self.version  # type: ignore[return-value]

    def _mtom(self, ex: Exchange) -> bool:
        return bool(self.mtom(ex) if callable(self.mtom) else self.mtom)

    def _headers(self, ex: Exchange, action: str | None) -> str:
        req = self._request(ex)
        if not (self.addressing and req.get("addressing") and action):
            return ""
        return response_headers(action, req.get("message_id"))

    def _http_type(self, version: SoapVersion, action: str | None) -> str:
        base = self.content_type or default_content_type(version)
        if self.action_in_content_type and action and version == "1.2":
            base = f'{base};action="{action}"'
        return base

    def _reply(
        self, ex: Exchange, status: int, body: bytes, version: SoapVersion, action: str | None
    ) -> Reply:
        if self._mtom(ex):
            ctype, data = cxf_package(body, (), version=version)
            return Reply(status, data, ctype)
        return Reply(status, body, self._http_type(version, action))

    # -- answers -----------------------------------------------------------------------------------
    def answer(
        self,
        ex: Exchange,
        payload: str | bytes,
        action: str,
        attachments: Sequence[Attachment] = (),
        *,
        status: int = 200,
        version: SoapVersion | None = None,
    ) -> Reply:
        """A complete answer: `payload` (the Body's content, markup) with the WS-A headers of
        `action`, packed as MTOM when there are attachments or the protocol says so."""
        v = version or self.version_for(ex)
        body = envelope(payload, self.style.with_version(v), self._headers(ex, action))
        if attachments or self._mtom(ex):
            ctype, data = cxf_package(body, attachments, version=v)
            return Reply(status, data, ctype)
        return Reply(status, body, self._http_type(v, action))

    def attachment(
        self, data: bytes, content_type: str = "application/octet-stream", namespace: str | None = None
    ) -> Attachment:
        """An attachment with the next CXF Content-ID of this protocol (href: `attachment.href`)."""
        return Attachment(self.ids.next(namespace) if namespace else self.ids.next(), data, content_type)

    def fault_reply(
        self,
        ex: Exchange,
        fault: Fault,
        status: int = 500,
        *,
        version: SoapVersion | None = None,
        action: str | None = None,
    ) -> Reply:
        v = version or self.version_for(ex)
        style = self.style.with_version(v)
        wsa_action = action or self.fault_action
        body = fault_envelope(fault, style, self._headers(ex, wsa_action))
        return self._reply(ex, status, body, v, wsa_action)

    # -- mocks.harness.Protocol ----------------------------------------------------------------------
    def render(self, ex: Exchange, error: ServiceError) -> Reply:
        entry = error.error
        if isinstance(entry, HttpError):
            return Reply(entry.http_status, (error.text or entry.body).encode(), entry.content_type)
        version = self.version_for(ex, error.params.get("soap_version"))
        if isinstance(entry, SoapFault):
            detail = error.params.get("detail", entry.detail)
            markup = detail if isinstance(detail, str) and detail.lstrip().startswith("<") else None
            fault = Fault(
                reason=error.text or entry.reason or entry.description,
                code=entry.code,
                subcode=entry.subcode,
                lang=entry.lang if self.entry_lang else None,
                detail=markup,
                detail_text=detail if detail and markup is None else None,
            )
        else:
            fault = Fault(reason=error.text or entry.description, code="Receiver")
        status = entry.http_status or 500
        return self.fault_reply(ex, fault, status, version=version, action=error.params.get("action"))

    def refusal(self, ex: Exchange, status: int, message: str) -> Reply:
        if status == 404 and self.cxf_not_found:
            return Reply(404, CXF_NOT_FOUND, CXF_NOT_FOUND_TYPE)
        code = "Receiver" if status >= 500 else "Sender"
        return self.fault_reply(ex, Fault(reason=message, code=code), status)

    def crash(self, ex: Exchange) -> Reply:
        reason = f"{CRASH_REASON} (sandbox trace {ex.trace_id})"
        return self.fault_reply(ex, Fault(reason=reason, code="Receiver"), 500)


class Soap12Protocol(SoapProtocol):
    version: SoapVersion = "1.2"


class Soap11Protocol(SoapProtocol):
    version: SoapVersion = "1.1"
