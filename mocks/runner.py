"""The embedded runner: the control plane and every enabled service in one process.

    runner = Runner(config); runner.start(); ...; runner.stop()

Each listener gets its own server (mocks.http: an asyncio edge and a work pool); `port 0` in the configuration binds an ephemeral port
(tests do that), and `sandbox.url(listener)` then gives the real one. Every process (the embedded
one, or one compose container per service) runs the control plane too, so that
`segur-sandbox health` can ask its own process; compose publishes the console container's only.
"""

from __future__ import annotations

import gc
import logging
import time
from typing import Any

from mocks.config import Config
from mocks.http import DEFAULT_MAX_BODY, DEFAULT_THREADS, HttpServer
from mocks.kernel import Sandbox
from mocks.registry import optional_module
from mocks.service import Listener, MailServer, Service

log = logging.getLogger("segur")


CONSOLE_MAX_BODY = 256 * 1024 * 1024  # control plane: tenant imports can be large


class StartError(RuntimeError):
    pass


class Runner:
    def __init__(self, config: Config):
        started = time.perf_counter()
        self.config = config
        self.sandbox = Sandbox(config)
        self.servers: dict[str, HttpServer] = {}
        self.mail: dict[str, MailServer] = {}
        self.local: list[str] = []  # services run by this process
        self.started_in = 0.0
        self._t0 = started

    @property
    def enabled(self) -> dict[str, Service]:
        return {n: s for n, s in self.sandbox.instances.items() if self.config.enabled(n)}

    def start(self) -> None:
        sandbox = self.sandbox
        # every known service's tables exist in every process: reset and export see them all
        for name, service in sandbox.instances.items():
            sandbox.store.migrate(name, list(service.migrations()))
        if self.enabled:
            sandbox.population.ensure()  # generated (first start) or read now, not on a first request
        from mocks.control.app import create_app

        self._serve("console", "http", int(self.config["console_port"]), create_app(sandbox, self), None)
        for name, service in self.enabled.items():
            sandbox.set_status(name, "starting")
            try:
                service.start()
                for listener in service.listeners():
                    self._serve_listener(name, listener)
            except Exception as exc:
                sandbox.set_status(name, "failed", f"{type(exc).__name__}: {exc}")
                self.stop()
                raise StartError(f"{name} failed to start: {exc}") from exc
            self.local.append(name)
        for name, service in self.enabled.items():
            urls = {lst.name: sandbox.url(lst.name) for lst in service.listeners()}
            sandbox.set_status(name, "ready", urls=urls)
        self.started_in = time.perf_counter() - self._t0
        if self.enabled:
            # the CAs no listener needs, in the background (each one is also made on first use,
            # under the PKI's lock, and stored with its root in one transaction: nobody sees half)
            sandbox.pki.warm_up()
        if optional_module("mocks.cda.engine") is not None:
            sandbox.cda.start()  # spawns the CDA worker process (compiles in the background)

    def _serve_listener(self, service: str, listener: Listener) -> None:
        from mocks.service import TlsPolicy

        port = int(self.config[listener.port_setting])
        needs_tls = listener.scheme == "https" or (
            listener.scheme in ("smtp", "imap") and listener.tls_mode != "none"
        )
        context = (
            self.sandbox.pki.server_context(listener.tls or TlsPolicy(), self.config.hostnames)
            if needs_tls
            else None
        )
        if listener.scheme in ("smtp", "imap"):
            assert listener.server is not None, f"mail listener {listener.name} has no server factory"
            mail = listener.server(self.sandbox, context, str(self.config["bind"]), port)
            try:
                mail.start()
            except OSError as exc:
                raise StartError(
                    f"cannot listen on {self.config['bind']}:{port} for {listener.name}: {exc}"
                ) from exc
            self.mail[listener.name] = mail
            self.sandbox.bound_ports[listener.name] = mail.port
            return
        assert listener.app is not None, f"listener {listener.name} has no app"
        app = self.sandbox.harness.wrap(service, listener) if listener.protocol is not None else listener.app
        harness = self.sandbox.harness

        def refuse(
            environ: dict[str, Any], status: int, message: str
        ) -> tuple[str, list[tuple[str, str]], bytes]:
            reply = harness.refuse(service, listener, environ, status, message)
            return reply.status_line(), reply.header_list(), reply.body

        cap = listener.max_body or DEFAULT_MAX_BODY
        self._serve(listener.name, listener.scheme, port, app, context, max_body=cap, refuse=refuse)

    def _serve(self, name: str, scheme: str, port: int, app: Any, context: Any, **edge: Any) -> None:
        threads = int(self.config.get("http_threads") or DEFAULT_THREADS)
        edge.setdefault("max_body", CONSOLE_MAX_BODY)
        server = HttpServer(name, str(self.config["bind"]), port, app, context, threads=threads, **edge)
        try:
            server.start()
        except OSError as exc:
            raise StartError(f"cannot listen on {self.config['bind']}:{port} for {name}: {exc}") from exc
        self.servers[name] = server
        self.sandbox.bound_ports[name] = server.port

    def url(self, listener: str, path: str = "") -> str:
        return self.sandbox.url(listener, path)

    def table(self) -> list[tuple[str, str, str]]:
        """(service, listener, URL) rows for the start-up banner."""
        rows = [
            ("console", "console", self.url("console", "/")),
            ("control", "console", self.url("console", "/_sandbox/")),
        ]
        for name, service in self.enabled.items():
            for listener in service.listeners():
                paths = list(listener.paths) or [""]
                for path in paths:
                    rows.append((name, listener.name, self.url(listener.name, path)))
        return rows

    def stop(self) -> None:
        if "cda" in vars(self.sandbox):
            self.sandbox.cda.stop()
        for name in self.local:
            try:
                self.sandbox.instances[name].stop()
                self.sandbox.set_status(name, "stopped")
            except Exception:  # noqa: BLE001 - stopping must go on for the others
                log.exception("stopping %s", name)
        for mail in reversed(list(self.mail.values())):
            try:
                mail.stop()
            except Exception:  # noqa: BLE001
                log.exception("stopping a mail listener")
        self.mail.clear()
        for server in reversed(list(self.servers.values())):
            server.stop()
        self.servers.clear()
        self.local.clear()


def settle_heap() -> None:
    """Once a serving process is ready: collect, then move what is alive (the world, the PKI, the
    compiled schemas, the modules) out of the collector's reach. Its full passes scanned all of it
    and freed almost nothing, 40-230 ms each, landing on whichever request allocated at that
    moment (benchmarks/README.md, "MSSanté, fourth look"). `segur-sandbox up` and the benchmarks
    call it; the embedded runner of a test session does not (a frozen object is never freed, and
    a session starts and stops many runners).
    """
    gc.collect()
    gc.freeze()
