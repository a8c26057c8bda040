"""A minimal service for kernel tests: answers `/echo/<persona>` and journals the exchange."""

from __future__ import annotations

import json
from typing import Any

from mocks.config import Setting
from mocks.service import ErrorDef, Listener, Service

NAME = "echo"
TITLE = "Echo (kernel tests)"
SETTINGS = [Setting("echo_port", 0, "echo test listener", "port")]
ERRORS = {
    "busy": ErrorDef("busy", "the echo service is busy", 503, {"code": "E_BUSY"}),
    "refused": ErrorDef("refused", "the echo service refuses", 403, {"code": "E_REFUSED"}),
}


class Echo(Service):
    name = NAME

    def migrations(self) -> list[str]:
        return ["CREATE TABLE echo_items (tenant TEXT NOT NULL, value TEXT NOT NULL)"]

    def listeners(self) -> list[Listener]:
        return [Listener("echo", "echo_port", "http", self.app, paths=["/echo/"])]

    def app(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        sandbox = self.sandbox
        persona = environ["PATH_INFO"].rsplit("/", 1)[-1]
        try:
            tenant = sandbox.resolve_tenant(environ)
        except LookupError as exc:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [str(exc).encode()]
        with sandbox.exchange(NAME, "echo", tenant, environ, persona=persona, caller="test") as ex:
            error = ex.fault()
            if error is not None:
                ex.status, ex.outcome = error.http_status, error.data["code"]
                body = json.dumps({"error": error.data["code"]})
            else:
                sandbox.store.execute(
                    "INSERT INTO echo_items(tenant, value) VALUES (?, ?)", (tenant, persona)
                )
                if persona == "lowercase":
                    ex.findings.add(
                        "ECHO-CASE", "warning", "le nom devrait être en majuscules", "test", "path"
                    )
                ex.outcome = "OK"
                body = json.dumps({"echo": persona, "at": ex.now().isoformat(), "tenant": tenant})
            ex.request_body, ex.response_body = persona, body
            start_response(f"{ex.status} X", [("Content-Type", "application/json")])
            return [body.encode()]


def create(sandbox: Any) -> Echo:
    return Echo(sandbox)
