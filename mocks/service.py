"""What a national service gives the kernel, and what the kernel gives it back.

A service package (`insi/`, `psc/`, ...) has a module named in `mocks.registry` exposing:

- `NAME` (e.g. "insi"), `TITLE`;
- `SETTINGS`: list of `mocks.config.Setting` (its ports, options); names start with the service
  name (`insi_port`, `insi_cpx_port`, ...). `<name>_validation` is added by the kernel;
- `ERRORS`: its error catalogue, `{error name: ErrorDef}`, which fault rules may name;
- `create(sandbox) -> Service`.

A `Service` lists its migrations (tables named `<name>_...`, with a `tenant` column for per-tenant
state, so reset and export work without service code) and its listeners; the runner serves them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from mocks.store import Migration

if TYPE_CHECKING:
    from mocks.kernel import Sandbox

ClientAuth = Literal["none", "optional", "required"]


@dataclass(frozen=True)
class ErrorDef:
    """One error of a service's catalogue, that a fault rule can trigger by name."""

    name: str
    description: str
    http_status: int = 500
    data: dict[str, Any] = field(default_factory=dict)  # whatever the service needs to render it


@dataclass(frozen=True)
class TlsPolicy:
    """How a listener speaks TLS: server certificate for `hostnames`, client certificate policy."""

    client_auth: ClientAuth = "none"
    # Extra PEM CA certificates trusted for client authentication (default: the sandbox TEST roots).
    ciphers: str | None = None
    minimum_version: str = "TLSv1.2"


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
