"""What a national service gives the kernel, and what the kernel gives it back.

A service package (`insi/`, `psc/`, ...) has a module named in `mocks.registry` exposing:

- `NAME` (e.g. "insi"), `TITLE`;
- `SETTINGS`: list of `mocks.config.Setting` (its ports, options); names start with the service
  name (`insi_port`, `insi_cpx_port`, ...). `<name>_validation` is added by the kernel;
- `ERRORS`: its error catalogue (`mocks.errors.Catalogue`), which fault rules may name;
- `OPERATIONS`: the operation names of its exchanges (`ex.operation`: "rechercherInsAvecCarteVitale",
  "crl", ...), which fault rules may name; the control plane refuses any other (400 listing these);
- `RULES`: its findings rule catalogue (`mocks.findings.Rules`), usually from its `checks.py`;
- `create(sandbox) -> Service`.

A `Service` lists its migrations (tables named `<name>_...`, with a `tenant` column for per-tenant
state, so reset and export work without service code) and its listeners; the runner serves them.
An HTTP listener with a `protocol` is served through the request harness (mocks.harness); a mail
listener (`smtp`, `imap`) gives a `server` factory the runner starts and stops like the others.
The package may also hold `control.py` (a `blueprint` mounted at `/_sandbox/<name>`, found by the
kernel from the registry) and `pages/` (console pages). See docs/architecture.md.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

from mocks.errors import ErrorDef
from mocks.store import Migration

if TYPE_CHECKING:
    from mocks.harness import Protocol as WireProtocol
    from mocks.kernel import Sandbox

__all__ = ["ClientAuth", "ErrorDef", "Listener", "MailServer", "Service", "TlsPolicy"]

ClientAuth = Literal["none", "optional", "required"]


@dataclass(frozen=True)
class TlsPolicy:
    """How a listener speaks TLS: server certificate for `hostnames`, client certificate policy."""

    client_auth: ClientAuth = "none"
    # Extra PEM CA certificates trusted for client authentication (default: the sandbox TEST roots).
    ciphers: str | None = None
    minimum_version: str = "TLSv1.2"
    maximum_version: str | None = None  # e.g. "TLSv1.2": the DMP's LPS access is TLS 1.2 only


class MailServer(Protocol):
    """What a mail listener's `server` factory returns (started and stopped by the runner)."""

    @property
    def port(self) -> int: ...

    def start(self) -> None: ...

    def stop(self) -> None: ...


@dataclass
class Listener:
    """A socket a service answers on."""

    name: str  # e.g. "insi", "insi-cpx"; unique across services
    port_setting: str  # the Setting giving its port, e.g. "insi_port"
    scheme: Literal["http", "https", "smtp", "imap"]
    app: Callable[..., Any] | None = None  # a WSGI app for http/https
    tls: TlsPolicy | None = None
    description: str = ""
    paths: Sequence[str] = ()  # documented entry paths, shown in the URL table
    # -- request harness (http/https): with a protocol, every request goes through mocks.harness
    protocol: WireProtocol | None = None
    # what the caller presents for tenant bindings (default: the client certificate's subject, serial)
    presented: Callable[[dict[str, Any]], Sequence[str | None]] | None = None
    max_body: int | None = None  # request body cap in bytes (default 16 MiB)
    journal_bodies: bool = True  # keep the answer's body in the journal
    # -- mail listeners (smtp/imap): server(sandbox, tls context, bind host, port) -> MailServer
    tls_mode: Literal["implicit", "starttls", "none"] = "implicit"
    server: Callable[[Sandbox, ssl.SSLContext | None, str, int], MailServer] | None = None


class Service:
    """Base class of a running service. Subclasses set `name` and override what they need."""

    name: str = ""
    title: str = ""

    def __init__(self, sandbox: Sandbox):
        self.sandbox = sandbox

    def migrations(self) -> Sequence[Migration]:
        return ()

    def listeners(self) -> list[Listener]:
        return []

    def start(self) -> None:
        """Called once the store is migrated, before the listeners open."""

    def stop(self) -> None:
        """Called on shutdown."""

    def verify_token(self, token: str, tenant: str) -> dict[str, Any] | None:
        """Claims of a bearer token this service issued and still honours (for the kernel's token
        trust, `sandbox.tokens`), else None. Called in any process: read state from the store."""
        return None
