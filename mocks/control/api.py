"""A small route registry for the control plane: each route is a Flask view and an OpenAPI
operation, so the served OpenAPI document is generated from the code it describes."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Flask, Response, request
from pydantic import BaseModel, ValidationError

PREFIX = "/_sandbox"


class ApiError(Exception):
    def __init__(self, status: int, message: str, **extra: Any):
        super().__init__(message)
        self.status = status
        self.message = message
        self.extra = extra


def json_response(data: Any, status: int = 200) -> Response:
    return Response(
        json.dumps(data, ensure_ascii=False, indent=1, default=str), status, mimetype="application/json"
    )


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_json(raw: bytes | str) -> Any:
    """Strict JSON (RFC 8259): no NaN / Infinity, nesting within Python's recursion limit, integers
    of at most 4300 digits; any failure is a 400 ApiError."""
    try:
        return json.loads(raw, parse_constant=_no_constant)
    except RecursionError:
        raise ApiError(400, "malformed JSON: nested too deeply") from None
    except ValueError as exc:  # includes UnicodeDecodeError and the integer digit limit
        raise ApiError(400, f"malformed JSON: {exc}") from None


def body(model: type[BaseModel]) -> Any:
    """The request body parsed into `model`; 400 on malformed JSON, unknown fields or bad values."""
    raw = request.get_data(cache=True)
    data: Any = {} if not raw.strip() else parse_json(raw)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ApiError(400, f"invalid request: {problems(exc)}") from None
    except RecursionError:
        raise ApiError(400, "invalid request: nested too deeply") from None


def problems(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in exc.errors())


@dataclass
class Param:
    name: str
    description: str
    where: str = "query"
    type: str = "string"
    required: bool = False
    minimum: float | None = None
    maximum: float | None = None

    def schema(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type}
        if self.minimum is not None:
            out["minimum"] = self.minimum
        if self.maximum is not None:
            out["maximum"] = self.maximum
        return out


@dataclass
class Route:
    method: str
    path: str  # OpenAPI style: /_sandbox/tenants/{tenant}
    summary: str
    tag: str
    params: list[Param] = field(default_factory=list)
    body: type[BaseModel] | None = None


class BlueprintRoutes:
    """The routes of a component's blueprint mounted under /_sandbox (PKI, PSC, ...): each is a
    Flask rule and an OpenAPI description; `create_app` adds `routes` to the control plane's
    document when it mounts the blueprint.

        route = BlueprintRoutes(blueprint, "/_sandbox/pki", "pki")
        @route("GET", "/cas/{short}", "One CA certificate", [Param("format", "pem or der")])
    """

    def __init__(
        self, blueprint: Blueprint, prefix: str, tag: str, default_params: list[Param] | None = None
    ):
        self.blueprint = blueprint
        self.prefix = prefix
        self.tag = tag
        self.default_params = default_params or []
        self.routes: list[Route] = []

    def __call__(
        self,
        method: str,
        path: str,
        summary: str,
        params: list[Param] | None = None,
        model: type[BaseModel] | None = None,
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        def register(view: Callable[..., Any]) -> Callable[..., Any]:
            rule = path.replace("{", "<").replace("}", ">")
            self.blueprint.add_url_rule(rule, view.__name__, view, methods=[method])
            described = self.default_params if params is None else params
            self.routes.append(Route(method, self.prefix + path, summary, self.tag, list(described), model))
            return view

        return register


class Api:
    def __init__(self, app: Flask, title: str, version: str):
        self.app = app
        self.title = title
        self.version = version
        self.routes: list[Route] = []

    def route(
        self,
        method: str,
        path: str,
        summary: str,
        tag: str,
        params: list[Param] | None = None,
        body: type[BaseModel] | None = None,
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        def register(view: Callable[..., Any]) -> Callable[..., Any]:
            flask_path = PREFIX + path.replace("{", "<").replace("}", ">")
            self.app.add_url_rule(flask_path, f"{method}:{path}", view, methods=[method])
            self.routes.append(Route(method, PREFIX + path, summary, tag, params or [], body))
            return view

        return register

    def openapi(self, server_url: str) -> dict[str, Any]:
        paths: dict[str, Any] = {}
        schemas: dict[str, Any] = {}
        for r in self.routes:
            op: dict[str, Any] = {"summary": r.summary, "tags": [r.tag], "responses": _RESPONSES}
            params = [
                {
                    "name": p.name,
                    "in": p.where,
                    "required": p.required or p.where == "path",
                    "description": p.description,
                    "schema": p.schema(),
                }
                for p in r.params
            ]
            params += [
                {"name": seg[1:-1], "in": "path", "required": True, "schema": {"type": "string"}}
                for seg in r.path.split("/")
                if seg.startswith("{") and not any(p.name == seg[1:-1] for p in r.params)
            ]
            if params:
                op["parameters"] = params
            if r.body is not None:
                schema = _openapi30(r.body.model_json_schema(ref_template="#/components/schemas/{model}"))
                schemas.update(schema.pop("$defs", {}))
                schemas[r.body.__name__] = schema
                op["requestBody"] = {
                    "content": {
                        "application/json": {"schema": {"$ref": f"#/components/schemas/{r.body.__name__}"}}
                    }
                }
            paths.setdefault(r.path, {})[r.method.lower()] = op
        return {
            "openapi": "3.0.3",
            "info": {
                "title": self.title,
                "version": self.version,
                "description": "Control plane of Ségur Sandbox. Per-tenant calls take `?tenant=` "
                "or the `X-Sandbox-Tenant` header (default tenant otherwise); an unknown tenant is a 404.",
            },
            "servers": [{"url": server_url}],
            "paths": paths,
            "components": {"schemas": schemas},
        }


def _openapi30(schema: Any) -> Any:
    """Pydantic writes JSON Schema 2020-12; OpenAPI 3.0 (what the bundled Swagger UI reads) spells
    an optional value `nullable: true` instead of `anyOf: [..., {type: null}]`, and has no `const`."""
    if isinstance(schema, list):
        return [_openapi30(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _openapi30(v) for k, v in schema.items()}
    if "const" in out:  # 3.0 has no const: a one-value enum
        out["enum"] = [out.pop("const")]
    if isinstance(out.get("exclusiveMinimum"), int | float):  # 3.0 has a boolean flag instead
        out["minimum"], out["exclusiveMinimum"] = out["exclusiveMinimum"], True
    variants = out.get("anyOf")
    if isinstance(variants, list) and {"type": "null"} in variants:
        rest = [v for v in variants if v != {"type": "null"}]
        del out["anyOf"]
        out.update(rest[0] if len(rest) == 1 else {"anyOf": rest})
        out["nullable"] = True
    return out


_RESPONSES = {
    "200": {"description": "OK (JSON)"},
    "400": {
        "description": "Bad request: malformed JSON, unknown field, impossible value or malformed "
        "tenant id; nothing applied"
    },
    "404": {"description": "Unknown tenant, entry or name"},
}
