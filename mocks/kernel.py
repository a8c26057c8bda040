"""The Sandbox: the kernel objects a service works with, built once per process.

    sandbox.config      effective configuration (mocks.config)
    sandbox.store       the SQLite store (mocks.store)
    sandbox.clock       per-tenant clock: sandbox.now(tenant)
    sandbox.tenants     tenants and request -> tenant resolution
    sandbox.journal     exchanges, queryable and waitable
    sandbox.faults      fault rules
    sandbox.evidence    durable typed facts shared between services (mocks.evidence)
    sandbox.tokens      cross-service token trust: tokens.verify(token, tenant) (mocks.tokens)
    sandbox.harness     the request harness every emulated HTTP endpoint goes through (mocks.harness)
    sandbox.population  the synthetic world (mocks.population), built on first use
    sandbox.pki         the fake IGC-Santé (mocks.pki), built on first use
    sandbox.cda         the CDA conformance engine (mocks.cda), built on first use

An HTTP request reaches a service through the harness, which opens its `Exchange`; a mail
transaction opens one with `sandbox.exchange(...)`. `ex.fault(persona)` applies the fault rules.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from mocks import clock as clock_mod
from mocks import evidence as evidence_mod
from mocks import faults as faults_mod
from mocks import journal as journal_mod
from mocks import tenants as tenants_mod
from mocks.clock import Clock, iso
from mocks.config import Config
from mocks.errors import DropConnection, ServiceError
from mocks.evidence import Evidence
from mocks.faults import Faults
from mocks.findings import Findings, Rule
from mocks.harness import Harness
from mocks.journal import Journal
from mocks.registry import ServiceEntry, available, optional_module
from mocks.service import Listener, Service
from mocks.store import Store
from mocks.tenants import Tenants
from mocks.tokens import TokenTrust

if TYPE_CHECKING:
    from mocks.cda.engine import CdaEngine
    from mocks.pki import Pki
    from mocks.population import Population

log = logging.getLogger("segur")

# kernel components whose findings services attach (module exposing RULES)
COMPONENT_RULES = {"cda": "mocks.cda.checks"}

KERNEL_MIGRATIONS = [
    *tenants_mod.MIGRATIONS,
    *clock_mod.MIGRATIONS,
    *journal_mod.MIGRATIONS,
    *faults_mod.MIGRATIONS,
    *evidence_mod.MIGRATIONS,
    """
    CREATE TABLE service_status (
        service TEXT PRIMARY KEY,
        state TEXT NOT NULL,
        detail TEXT NOT NULL DEFAULT '',
        urls TEXT NOT NULL DEFAULT '{}',
        pid INTEGER NOT NULL,
        updated_at TEXT NOT NULL
    )
    """,
    journal_mod.TENANT_ORDER_INDEX,
]


@dataclass
class Exchange:
    """One request to an emulated service, journaled when the `with` block ends."""

    sandbox: Sandbox
    service: str
    operation: str
    tenant: str
    environ: dict[str, Any] | None = None
    caller: str = ""
    persona: str = ""
    status: int = 200
    outcome: str = ""
    request_body: str | None = None
    response_body: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    findings: Findings = field(default_factory=Findings)
    started: float = field(default_factory=time.perf_counter)
    recorded: bool = False  # journaled already (a dropped connection records before it drops)
    journal: bool = True  # False: not journaled (a static asset of a login page)
    # closes the client's transport at once (HTTP: the socket; a mail server sets its own)
    on_drop: Callable[[], None] | None = None
    trace: str = ""  # trace id when there is no WSGI environ (mail)
    entry_id: int | None = None  # the journal entry, once recorded
    facts: list[dict[str, Any]] = field(default_factory=list)  # evidence written with the entry

    @property
    def trace_id(self) -> str:
        return str((self.environ or {}).get("segur.trace_id") or self.trace)

    def now(self) -> datetime:
        return self.sandbox.now(self.tenant)

    def fault(self, persona: str | None = None) -> None:
        """Apply the first matching fault rule: sleep its delay, then drop the connection
        (DropConnection) or raise its catalogue error (ServiceError); return to answer normally."""
        effect = self.sandbox.faults.match(self.tenant, self.service, self.operation, persona or self.persona)
        if effect is None:
            return
        self.details["fault_rule"] = effect.rule_id
        if effect.delay_ms:
            time.sleep(effect.delay_ms / 1000)
        if effect.drop_connection:
            self.status, self.outcome = 0, "dropped"
            self._record()
            if self.on_drop is not None:
                self.on_drop()
            elif self.environ is not None:
                from mocks.http import close_socket

                close_socket(self.environ)
            raise DropConnection("connection dropped by a fault rule")
        if effect.error is not None:
            raise ServiceError(effect.error, outcome=f"fault rule {effect.error.name}")

    def _record(self) -> None:
        if self.recorded or not self.journal:
            self.recorded = True
            return
        self.recorded = True
        facts = self.facts
        ids: list[int] = []  # the facts' ids, once written
        first = link = None
        if facts:
            evidence = self.sandbox.evidence

            def first(conn: Any) -> dict[str, Any]:  # in the journal's transaction, before the entry
                ids[:] = evidence.write(conn, facts)
                return {"evidence": ids}

            def link(conn: Any, entry_id: int) -> None:  # after it
                evidence.link(ids, entry_id, conn)

        self.entry_id = self.sandbox.journal.append(
            {
                "at": iso(self.sandbox.now(self.tenant)),
                "tenant": self.tenant,
                "service": self.service,
                "operation": self.operation,
                "caller": self.caller,
                "persona": self.persona,
                "status": self.status,
                "outcome": self.outcome,
                "duration_ms": (time.perf_counter() - self.started) * 1000,
                "request_size": len(self.request_body or ""),
                "response_size": len(self.response_body or ""),
                "trace_id": self.trace_id,
                "findings": [f.as_dict() for f in self.findings],
                "details": self.details,
                "request_body": self.request_body,
                "response_body": self.response_body,
            },
            link,
            first,
        )
        if facts:
            self.sandbox.evidence.notify()


class Sandbox:
    def __init__(self, config: Config):
        self.config = config
        self.config.data_dir.mkdir(parents=True, exist_ok=True)
        self.store = Store(self.config.data_dir / "sandbox.db")
        self.store.migrate("kernel", KERNEL_MIGRATIONS)
        self.generation = tenants_mod.Generation(self.store)  # what the caches below watch
        self.clock = Clock(self.store, self.generation)
        self.tenants = Tenants(self.store, lambda: iso(self.clock.now()), self.generation)
        self.tenants.ensure_default()
        self.journal = Journal(
            self.store,
            max_entries=int(config["journal_max_entries"]),
            max_bytes=int(config["journal_max_bytes"]),
            keep_bodies=bool(config["journal_bodies"]),
        )
        self.faults = Faults(
            self.store,
            {name: e.errors for name, e in self.services.items()},
            {name: e.operations for name, e in self.services.items()},
            self.generation,
        )
        self.evidence = Evidence(self.store, lambda tenant: iso(self.clock.now(tenant)))
        self.tokens = TokenTrust(self)
        self.harness = Harness(self)
        self.bound_ports: dict[str, int] = {}  # listener name -> port bound in this process
        self._rule_cache: dict[str, Mapping[str, Rule] | None] = {}

    @cached_property
    def services(self) -> dict[str, ServiceEntry]:
        """Every service this build knows (enabled or not): for catalogues and settings."""
        return available()

    @cached_property
    def population(self) -> Population:
        from mocks.population import Population

        return Population(self)

    @cached_property
    def pki(self) -> Pki:
        from mocks.pki import Pki

        return Pki(self)

    @cached_property
    def cda(self) -> CdaEngine:
        """The CDA conformance engine (mocks/cda): validate, submit, render."""
        from mocks.cda.engine import CdaEngine

        return CdaEngine(self)

    def component_rules(self) -> dict[str, Mapping[str, Rule]]:
        """Findings catalogues of kernel components (the CDA engine), by component name."""
        found: dict[str, Mapping[str, Rule]] = {}
        for name, path in COMPONENT_RULES.items():
            module = optional_module(path)
            if module is not None and getattr(module, "RULES", None) is not None:
                found[name] = module.RULES
        return found

    def _rules_of(self, service: str) -> Mapping[str, Rule] | None:
        """What a service's findings may name: its catalogue plus the kernel components' (a DMP
        exchange carries the CDA engine's findings). None: the service declares no catalogue."""
        if service not in self._rule_cache:
            entry = self.services.get(service)
            own = entry.rules if entry else None
            if own is None:
                self._rule_cache[service] = None
            else:
                merged: dict[str, Rule] = {}
                for catalogue in self.component_rules().values():
                    merged.update(catalogue)
                merged.update(own)
                self._rule_cache[service] = merged
        return self._rule_cache[service]

    # -- services and their URLs --------------------------------------------------------------
    @cached_property
    def instances(self) -> dict[str, Service]:
        """A Service object for every available service (creating one has no side effect)."""
        return {name: entry.module.create(self) for name, entry in self.services.items()}

    @cached_property
    def listener_specs(self) -> dict[str, Listener]:
        specs: dict[str, Listener] = {}
        for service in self.instances.values():
            for listener in service.listeners():
                specs[listener.name] = listener
        return specs

    def port(self, listener: str) -> int:
        """The port of a listener: the one bound in this process, else the configured one."""
        if listener in self.bound_ports:
            return self.bound_ports[listener]
        if listener == "console":
            return int(self.config["console_port"])
        return int(self.config[self.listener_specs[listener].port_setting])

    def url(self, listener: str, path: str = "") -> str:
        """Public URL of a listener (announced host, real port), e.g. url("insi", "/lps")."""
        scheme = "http" if listener == "console" else self.listener_specs[listener].scheme
        return f"{scheme}://{self.config.host}:{self.port(listener)}{path}"

    def now(self, tenant: str = tenants_mod.DEFAULT) -> datetime:
        return self.clock.now(tenant)

    def mode(self, service: str) -> str:
        return self.config.validation_mode(service)

    def resolve_tenant(
        self, environ: dict[str, Any] | None, presented: Sequence[str | None] | None = None
    ) -> str:
        """The tenant of a request (raises tenants.UnknownTenant for an explicit unknown one)."""
        hint = (environ or {}).get("segur.tenant_hint")
        return self.tenants.resolve(hint, presented)

    @contextmanager
    def exchange(
        self, service: str, operation: str, tenant: str, environ: dict[str, Any] | None = None, **fields: Any
    ) -> Iterator[Exchange]:
        ex = Exchange(self, service, operation, tenant, environ, **fields)
        ex.findings = Findings(self.mode(service), self._rules_of(service))
        with self.generation.pinned():  # tenants, clocks, fault rules: read once a request
            try:
                yield ex
            except DropConnection:
                ex._record()
                raise
            except Exception as exc:
                if not ex.recorded:
                    ex.status = 500
                    ex.outcome = ex.outcome or f"internal error: {type(exc).__name__}"
                    ex._record()
                raise
            ex._record()

    # -- service status (shared by every process through the store) ---------------------------
    def set_status(
        self, service: str, state: str, detail: str = "", urls: dict[str, str] | None = None
    ) -> None:
        self.store.execute(
            "INSERT INTO service_status(service, state, detail, urls, pid, updated_at) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(service) DO UPDATE SET state = excluded.state, detail = excluded.detail, "
            "urls = excluded.urls, pid = excluded.pid, updated_at = excluded.updated_at",
            (service, state, detail, json.dumps(urls or {}), os.getpid(), iso(datetime.now().astimezone())),
        )

    def statuses(self) -> dict[str, dict[str, Any]]:
        return {
            r["service"]: {**r, "urls": json.loads(r["urls"])}
            for r in self.store.query("SELECT * FROM service_status ORDER BY service")
        }
