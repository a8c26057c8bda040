"""The console's only way to the sandbox's state: the control API under `/_sandbox/`, called
in-process through the control app itself (a WSGI call, no socket), so that every page shows
exactly what a test reads over HTTP.

    ctl = control()                         # in a console view (mocks.console)
    tenants = ctl.get("/tenants")
    ctl.put("/clock", {"mode": "frozen"}, tenant="default")
    ctl.raw("GET", "/pki/personas/X/cps_auth", format="p12")   # a download, as it is

A non-2xx answer raises `ControlError(status, message)`, where `message` is the control API's
own `{"error": ...}` text: the page shows it as it is.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Flask
from werkzeug.test import Client, TestResponse

PREFIX = "/_sandbox"


class ControlError(Exception):
    """The control API refused a call (4xx) or failed (5xx): its status and message."""

    def __init__(self, status: int, message: str, path: str = ""):
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message
        self.path = path


class Control:
    def __init__(self, app: Flask):
        self.client = Client(app, use_cookies=False)

    def raw(
        self, method: str, path: str, data: Any = None, tenant: str | None = None, **params: Any
    ) -> TestResponse:
        """The control API's answer as it is (status, headers, bytes); never raises."""
        query = {k: _param(v) for k, v in params.items() if v is not None and v != ""}
        if tenant:
            query.setdefault("tenant", tenant)
        kwargs: dict[str, Any] = {"query_string": query}
        if isinstance(data, bytes | str):
            kwargs["data"] = data
        elif data is not None:
            kwargs["data"] = json.dumps(data)
            kwargs["content_type"] = "application/json"
        return self.client.open(PREFIX + path, method=method, **kwargs)

    def call(self, method: str, path: str, data: Any = None, tenant: str | None = None, **params: Any) -> Any:
        resp = self.raw(method, path, data, tenant, **params)
        if resp.status_code >= 400:
            raise ControlError(resp.status_code, _message(resp), PREFIX + path)
        if resp.status_code == 204 or not resp.data:
            return None
        if resp.mimetype != "application/json":
            return resp.get_data(as_text=True)
        return json.loads(resp.data)

    def get(self, path: str, tenant: str | None = None, **params: Any) -> Any:
        return self.call("GET", path, None, tenant, **params)

    def post(self, path: str, data: Any = None, tenant: str | None = None, **params: Any) -> Any:
        return self.call("POST", path, data if data is not None else {}, tenant, **params)

    def put(self, path: str, data: Any = None, tenant: str | None = None, **params: Any) -> Any:
        return self.call("PUT", path, data if data is not None else {}, tenant, **params)

    def delete(self, path: str, tenant: str | None = None, **params: Any) -> Any:
        return self.call("DELETE", path, None, tenant, **params)


def _param(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _message(resp: TestResponse) -> str:
    try:
        data = json.loads(resp.data)
    except ValueError:
        return resp.get_data(as_text=True)[:500] or resp.status
    if isinstance(data, dict) and data.get("error"):
        return str(data["error"])
    return json.dumps(data, ensure_ascii=False)[:500]
