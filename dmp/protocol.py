"""How the DMP listener writes answers: the SOAP kit's CXF style (SOAP 1.2, WS-Addressing answer
headers, `soap:Sender` + `DMP…` subcodes), plus the two carriers the kit does not know:

- an `Hl7Ack` catalogue entry is the HL7v3 answer of the operation being served, with
  `acknowledgement typeCode="AE"|"AR"` (the operation registers its builder in
  `ex.details`-free `ANSWERS`, keyed by the exchange);
- a `WsStatus` entry is the web-service answer with its `status` / `context`;
- a `RegistryError` entry (XDS, TD3.x) is the operation's ebRS answer with status Failure and a
  RegistryErrorList (AdhocQueryResponse for ITI-18, RegistryResponse for ITI-57).

Successful answers go through `answer_ns(ex, payload, action, ns1)`: the DMP's envelopes declare
the service's `ns1` namespace before `soap` (official responses), which a fixed kit style cannot;
an empty `ns1` declares `soap` alone (the registry's answers).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from dmp.errors import Hl7Ack, WsStatus, render_text
from mocks import soap
from mocks.errors import RegistryError, ServiceError
from mocks.harness import Reply
from mocks.soap.ns import SOAP12

if TYPE_CHECKING:
    from mocks.kernel import Exchange

# the builder of the current operation's error answer: (entry, text) -> (payload, action, ns1)
ErrorAnswer = Callable[[Hl7Ack | WsStatus, str], tuple[str, str, str]]
KEY = "dmp.error_answer"  # environ key holding the current ErrorAnswer
# the registry's builder of its XDS Failure answers: (entry, text) -> (payload, action, ns1)
XdsAnswer = Callable[[RegistryError, str], tuple[str, str, str]]
XDS_KEY = "dmp.xds_answer"  # environ key holding the current XdsAnswer


# the operations whose every answer, faults included, is a CXF MTOM package (research §1.2: the
# DMP's ITI-43 answers are multipart even for faults)
MTOM_OPERATIONS = frozenset({"TD3.2"})


def _mtom(ex: Exchange) -> bool:
    return ex.operation in MTOM_OPERATIONS


class DmpProtocol(soap.Soap12Protocol):
    def __init__(self) -> None:
        super().__init__(style=soap.CXF12, mtom=_mtom)

    def answer_ns(self, ex: Exchange, payload: str, action: str, ns1: str, status: int = 200) -> Reply:
        version = self.version_for(ex)
        declared = ((("ns1", ns1),) if ns1 else ()) + (("soap", SOAP12),)
        style = soap.Style(version="1.2", envelope_declarations=declared).with_version(version)
        body = soap.envelope(payload, style, self._headers(ex, action))
        return Reply(status, body, self._http_type(version, action))

    def render(self, ex: Exchange, error: ServiceError) -> Reply:
        entry = error.error
        if isinstance(entry, RegistryError):
            xds: XdsAnswer | None = (ex.environ or {}).get(XDS_KEY)
            if xds is not None:
                payload, action, ns1 = xds(entry, error.text or render_text(entry))
                return self.answer_ns(ex, payload, action, ns1, entry.http_status)
        if isinstance(entry, Hl7Ack | WsStatus):
            builder: ErrorAnswer | None = (ex.environ or {}).get(KEY)
            text = error.text or render_text(entry)
            if builder is not None:
                payload, action, ns1 = builder(entry, text)
                return self.answer_ns(ex, payload, action, ns1, entry.http_status)
            # raised before an operation was known (a fault rule on any operation): a fault
            fault = soap.Fault(reason=text, code="Receiver")
            return self.fault_reply(ex, fault, 500)
        if error.text is None:
            # a fault rule raises without a text: the entry's wording, placeholders blanked
            error = ServiceError(entry, render_text(entry), error.outcome, **error.params)
        return super().render(ex, error)
