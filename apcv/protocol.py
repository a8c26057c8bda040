"""How the ApCV listener writes what goes wrong: always a SOAP 1.2 fault (a SOAP 1.1 request gets
the SOAP 1.2 `VersionMismatch` fault with its `Upgrade` header, SOAP 1.2 part 1 §5.4.7), HTTP 500
like the other AMO teleservices (INSi, research insi.md 3.1), `siram_NN` subcode and a
`siram:Erreur code=... messageID=... severite=...` detail echoing the request's MessageID.
Harness refusals (413, 405...) and crashes of ours are catalogue faults too (`REQUETE_INVALIDE`,
`ERREUR_INTERNE_SERVEUR` with the sandbox trace id); an unknown path is CXF's 404 page."""

from __future__ import annotations

from typing import TYPE_CHECKING

from apcv import wire
from apcv.errors import ERRORS, ApcvFault
from mocks import soap
from mocks.errors import ServiceError
from mocks.harness import Reply

if TYPE_CHECKING:
    from mocks.kernel import Exchange

STYLE = soap.Style(version="1.2", lang="fr")


class ApcvProtocol(soap.Soap12Protocol):
    def __init__(self) -> None:
        super().__init__(style=STYLE, follow_request_version=False)

    def _fault(self, ex: Exchange, entry: ApcvFault, text: str | None, status: int = 500) -> Reply:
        message_id = self._request(ex).get("message_id")
        reason = text or entry.reason
        fault = soap.Fault(
            reason=reason,
            code=entry.code,
            subcode=entry.subcode,
            detail=wire.erreur_detail(entry.name, entry.severite, message_id, reason),
        )
        if entry.code == "VersionMismatch":
            body = soap.fault_envelope(fault, STYLE, wire.UPGRADE)
            return Reply(status, body, self._http_type("1.2", None))
        return self.fault_reply(ex, fault, status, version="1.2")

    def render(self, ex: Exchange, error: ServiceError) -> Reply:
        entry = error.error
        if not isinstance(entry, ApcvFault):  # pragma: no cover - ApCV raises its own catalogue only
            entry = ERRORS["ERREUR_INTERNE_SERVEUR"]  # type: ignore[assignment]
        assert isinstance(entry, ApcvFault)
        return self._fault(ex, entry, error.text, entry.http_status or 500)

    def refusal(self, ex: Exchange, status: int, message: str) -> Reply:
        if status == 404:
            return super().refusal(ex, status, message)
        entry = ERRORS["REQUETE_INVALIDE"]
        assert isinstance(entry, ApcvFault)
        return self._fault(ex, entry, message, status)

    def crash(self, ex: Exchange) -> Reply:
        entry = ERRORS["ERREUR_INTERNE_SERVEUR"]
        assert isinstance(entry, ApcvFault)
        return self._fault(ex, entry, f"{entry.reason} (sandbox trace {ex.trace_id})")
