"""Where the sandbox is, as an LGC learns it: one base URL (the control plane, `--url` or
`SEGUR_DEMO_URL`, default `http://localhost:4600`), from which `GET /_sandbox/health` gives every
service's state and listener URLs (docs/control-plane.md). Compose and embedded runs differ only
by that URL.

Everything here is a public interface: the control API over HTTP (`/_sandbox/...`), nothing of
the sandbox's code.
"""

from __future__ import annotations

import ssl
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

DEFAULT_URL = "http://localhost:4600"


class Unreachable(Exception):
    """The sandbox does not answer at this URL (wrong host or port): the demo exits with 2."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"aucun bac à sable Ségur ne répond à {url} ({reason})")
        self.url = url


@dataclass
class Service:
    name: str
    state: str  # ready, starting, failed, stopped, disabled
    urls: dict[str, str]


@dataclass
class Sandbox:
    """The control plane of one sandbox, seen from the LGC's machine, in one tenant."""

    base_url: str = DEFAULT_URL
    tenant: str = "default"
    timeout: float = 30.0
    services: dict[str, Service] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        self.control = httpx.Client(base_url=self.base_url + "/_sandbox", timeout=self.timeout)

    # -- discovery -------------------------------------------------------------------------------
    def discover(self) -> dict[str, Service]:
        """Read `/_sandbox/health`: the state and URLs of every service (exit 2 if nobody answers)."""
        url = f"{self.base_url}/_sandbox/health"
        try:
            answer = self.control.get("/health")
        except httpx.TransportError as exc:
            raise Unreachable(url, type(exc).__name__ + (f": {exc}" if str(exc) else "")) from None
        if answer.status_code not in (200, 503) or "services" not in _json(answer):
            raise Unreachable(url, f"HTTP {answer.status_code}, pas un plan de contrôle du bac à sable")
        self.services = {
            name: Service(name, str(s.get("state", "")), dict(s.get("urls") or {}))
            for name, s in answer.json()["services"].items()
        }
        return self.services

    def state(self, service: str) -> str:
        found = self.services.get(service)
        return found.state if found else "absent"

    def ready(self, service: str) -> bool:
        return self.state(service) == "ready"

    def url(self, listener: str) -> str:
        """The URL of a listener (`insi`, `insi-cpx`, `psc-wallet`, `mss-smtp`...)."""
        for service in self.services.values():
            if listener in service.urls:
                return service.urls[listener]
        raise KeyError(f"listener {listener} absent de /_sandbox/health")

    def host_port(self, listener: str) -> tuple[str, int]:
        parts = urlsplit(self.url(listener))
        return parts.hostname or "localhost", int(parts.port or 0)

    def wait_ready(self, timeout: float = 60.0) -> bool:
        """After a restart: wait until the control plane answers and every service is ready again."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if self.control.get("/readyz").status_code == 200:
                    self.discover()
                    return True
            except httpx.TransportError:
                pass
            time.sleep(0.5)
        return False

    # -- control calls ---------------------------------------------------------------------------
    def get(self, path: str, **params: Any) -> httpx.Response:
        return self.control.get(path, params={"tenant": self.tenant, **params})

    def post(self, path: str, json: Any = None, **params: Any) -> httpx.Response:
        return self.control.post(path, json=json, params={"tenant": self.tenant, **params})

    def put(self, path: str, json: Any = None, **params: Any) -> httpx.Response:
        return self.control.put(path, json=json, params={"tenant": self.tenant, **params})

    def ensure_tenant(self, bindings: list[str]) -> None:
        """Create the demo's tenant (not `default`) with the bindings that route mail sessions to
        it: a mail client sends no header, its tenant is the one bound to its token's client id or
        its certificate (docs/control-plane.md, docs/services/mssante.md)."""
        if self.tenant == "default":
            return
        found = self.control.get(f"/tenants/{self.tenant}")
        if found.status_code == 404:
            created = self.control.post(
                "/tenants",
                json={"id": self.tenant, "description": "segur-sandbox demo", "bindings": bindings},
            )
            created.raise_for_status()

    # -- journal, for the trainer's pauses and the presets ----------------------------------------
    def journal_mark(self) -> int:
        """The id of the newest journal entry of the tenant (0 when empty)."""
        entries = self.get("/journal", limit=1).json()
        return int(entries[0]["id"]) if isinstance(entries, list) and entries else 0

    def journal_since(self, mark: int) -> list[dict[str, Any]]:
        answer = self.get("/journal", after_id=mark, order="asc", limit=500)
        entries = answer.json() if answer.status_code == 200 else []
        return entries if isinstance(entries, list) else []

    def close(self) -> None:
        self.control.close()


def _json(answer: httpx.Response) -> dict[str, Any]:
    try:
        body = answer.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def tls(roots: Path, cert: Path | None = None, key: Path | None = None) -> ssl.SSLContext:
    """Trust the sandbox's TEST IGC-Santé roots; present a client certificate when given."""
    context = ssl.create_default_context(cafile=str(roots))
    if cert is not None:
        context.load_cert_chain(str(cert), str(key) if key else None)
    return context
