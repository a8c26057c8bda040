"""A minimal service for kernel tests, on the request harness: answers `/echo/<persona>`.

Its protocol writes `{"error": <code>}` JSON; its catalogue has two typed errors and its rule
catalogue one rule, so the kernel tests exercise the harness, fault rules and findings."""

from __future__ import annotations

import json
from typing import Any

from mocks.config import Setting
from mocks.errors import Catalogue, HttpError, ServiceError
from mocks.findings import Rule, Rules
from mocks.harness import Protocol, Refused, Reply, current_exchange
from mocks.kernel import Exchange
from mocks.service import Listener, Service

NAME = "echo"
TITLE = "Echo (kernel tests)"
SETTINGS = [Setting("echo_port", 0, "echo test listener", "port")]
OPERATIONS = ["echo"]
ERRORS = Catalogue(
    [
        HttpError(
            name="busy", description="the echo service is busy", http_status=503, data={"code": "E_BUSY"}
        ),
        HttpError(
            name="refused",
            description="the echo service refuses",
            http_status=403,
            data={"code": "E_REFUSED"},
        ),
    ]
)
RULES = Rules([Rule("ECHO-CASE", "warning", "Nom en majuscules", "test")])


class EchoProtocol(Protocol):
    def _json(self, status: int, data: dict[str, Any]) -> Reply:
        return Reply(status, json.dumps(data).encode(), "application/json")

    def render(self, ex: Exchange, error: ServiceError) -> Reply:
        code = str(error.error.data["code"])
        ex.outcome = code
        return self._json(error.error.http_status, {"error": code})

    def refusal(self, ex: Exchange, status: int, message: str) -> Reply:
        return self._json(status, {"error": message})


class Echo(Service):
    name = NAME

    def migrations(self) -> list[str]:
        return ["CREATE TABLE echo_items (tenant TEXT NOT NULL, value TEXT NOT NULL)"]

    def listeners(self) -> list[Listener]:
        return [Listener("echo", "echo_port", "http", self.app, paths=["/echo/"], protocol=EchoProtocol())]

    def app(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        ex = current_exchange(environ)
        path = environ["PATH_INFO"]
        if not path.startswith("/echo/"):
            raise Refused(404, "no such path")
        if path == "/echo/crash":
            raise RuntimeError("a bug")
        persona = path.rsplit("/", 1)[-1]
        ex.operation, ex.persona, ex.caller = "echo", persona, "test"
        ex.fault()
        self.sandbox.store.execute(
            "INSERT INTO echo_items(tenant, value) VALUES (?, ?)", (ex.tenant, persona)
        )
        if persona == "lowercase":
            ex.findings.add("ECHO-CASE", "warning", "le nom devrait être en majuscules", "test", "path")
        ex.outcome = "OK"
        body = json.dumps({"echo": persona, "at": ex.now().isoformat(), "tenant": ex.tenant})
        ex.request_body = persona
        start_response("200 OK", [("Content-Type", "application/json")])
        return [body.encode()]


def create(sandbox: Any) -> Echo:
    return Echo(sandbox)
