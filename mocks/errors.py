"""Error catalogues, typed per protocol: every error a service emits is an entry of its catalogue.

A service's `ERRORS` is a `Catalogue` of entries of one or more of these types; a fault rule names
an entry, and the service raises one with `ERRORS.fail(name, ...)` (a `ServiceError`). The
request harness (mocks.harness) hands the raised error to the listener's `Protocol`, which writes
it on the wire the way the real service does. One vocabulary: a literal error built outside the
catalogue does not exist (each service has a test that every name it raises is in its catalogue).

    SoapFault      SOAP 1.1 / 1.2 fault: code, subcode, reason, detail (INSi, DMP, ApCV)
    OAuthError     OAuth 2.0 / OIDC JSON error: error, error_description (PSC)
    HttpError      any other HTTP answer: a status and a body (gateway pages, FHIR OperationOutcome)
    RegistryError  an XDS RegistryResponse error: errorCode, severity, codeContext (DMP)
    SmtpReply      an SMTP reply: code, enhanced status, text (MSSanté)
    ImapReply      an IMAP tagged/untagged answer: NO, BAD or BYE with a response code (MSSanté)

Services may subclass an entry type to carry their own fields (INSi's siram:Erreur detail).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, NoReturn


@dataclass(frozen=True, kw_only=True)
class ErrorDef:
    """One entry of a service's catalogue, that a fault rule can trigger by name."""

    name: str
    description: str  # what it means, for people (fault pickers, docs)
    http_status: int = 500
    data: Mapping[str, Any] = field(default_factory=dict)  # service-specific extras

    @property
    def kind(self) -> str:
        return type(self).__name__


@dataclass(frozen=True, kw_only=True)
class SoapFault(ErrorDef):
    code: str = "Receiver"  # SOAP 1.2 Sender / Receiver / VersionMismatch / MustUnderstand
    subcode: str | None = None  # e.g. "DMPInvalidCertificate", "siram_100"
    reason: str = ""
    lang: str = "fr"
    detail: str | None = None  # text or XML the service puts in Detail


@dataclass(frozen=True, kw_only=True)
class OAuthError(ErrorDef):
    http_status: int = 400
    error: str = ""
    error_description: str = ""


@dataclass(frozen=True, kw_only=True)
class HttpError(ErrorDef):
    body: str = ""
    content_type: str = "text/html; charset=utf-8"


@dataclass(frozen=True, kw_only=True)
class RegistryError(ErrorDef):
    http_status: int = 200  # XDS errors travel in a 200 RegistryResponse
    error_code: str = ""  # e.g. "XDSRegistryMetadataError"
    severity: Literal["Error", "Warning"] = "Error"
    context: str = ""  # codeContext


@dataclass(frozen=True, kw_only=True)
class SmtpReply(ErrorDef):
    http_status: int = 0
    code: int = 451
    enhanced: str = ""  # e.g. "5.7.8"
    text: str = ""

    @property
    def line(self) -> str:
        return f"{self.code} {self.enhanced} {self.text}".replace("  ", " ").strip()


@dataclass(frozen=True, kw_only=True)
class ImapReply(ErrorDef):
    http_status: int = 0
    status: Literal["NO", "BAD", "BYE"] = "NO"
    response_code: str = ""  # e.g. "AUTHENTICATIONFAILED"
    text: str = ""


class ServiceError(Exception):
    """Answer the current request with a catalogue entry (`text` replaces its default wording).

    `params` carry what the protocol needs to fill in (a message id, a codeContext); `outcome`
    is what the journal line says (default: "error <name>")."""

    def __init__(self, error: ErrorDef, text: str | None = None, outcome: str = "", **params: Any):
        super().__init__(f"{error.name}: {text or error.description}")
        self.error = error
        self.text = text
        self.outcome = outcome or f"error {error.name}"
        self.params = params


class DropConnection(ConnectionResetError):
    """Close the client's connection with no answer (a fault effect, whatever the transport)."""


class Catalogue(Mapping[str, ErrorDef]):
    """A service's errors by name (read-only mapping), with `fail(name)` to raise one."""

    def __init__(self, entries: Iterable[ErrorDef], aliases: Mapping[str, str] | None = None):
        self._entries: dict[str, ErrorDef] = {}
        for entry in entries:
            if entry.name in self._entries:
                raise ValueError(f"error declared twice: {entry.name}")
            self._entries[entry.name] = entry
        for alias, target in (aliases or {}).items():
            self._entries[alias] = self._entries[target]

    def __getitem__(self, name: str) -> ErrorDef:
        return self._entries[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def error(self, name: str, text: str | None = None, outcome: str = "", **params: Any) -> ServiceError:
        """The exception for entry `name` (KeyError for a name the catalogue lacks)."""
        return ServiceError(self._entries[name], text, outcome, **params)

    def fail(self, name: str, text: str | None = None, outcome: str = "", **params: Any) -> NoReturn:
        raise self.error(name, text, outcome, **params)

    def describe(self) -> dict[str, dict[str, Any]]:
        """For the control plane's catalogue and the console's fault pickers."""
        return {
            name: {"kind": e.kind, "description": e.description, "http_status": e.http_status}
            for name, e in self._entries.items()
        }
