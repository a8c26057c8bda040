"""Fault rules: make a service answer with one of its real errors, slow down, or drop the connection.

A rule matches a tenant, a service, an operation (or `*`), optionally a persona (whatever the
service names the subject of a request: an INS matricule, an RPPS, a national id), with a
probability, optionally for a limited number of hits. Its effect names an error of the service's
catalogue, and/or a delay, or a dropped connection. The service renders the error exactly as the
real one would. An empty list means no faults.
"""

from __future__ import annotations

import json
import random
import threading
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from mocks.service import ErrorDef
from mocks.store import Store
from mocks.tenants import Cached, Generation

MIGRATIONS = [
    """
    CREATE TABLE faults (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        tenant TEXT NOT NULL,
        service TEXT NOT NULL,
        operation TEXT NOT NULL DEFAULT '*',
        persona TEXT,
        probability REAL NOT NULL DEFAULT 1,
        error TEXT,
        delay_ms INTEGER NOT NULL DEFAULT 0,
        drop_connection INTEGER NOT NULL DEFAULT 0,
        remaining INTEGER,
        hits INTEGER NOT NULL DEFAULT 0,
        description TEXT NOT NULL DEFAULT ''
    )
    """
]


class FaultRule(BaseModel):
    """A fault rule as given to the control API."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    service: str = Field(max_length=64)
    operation: str = Field("*", max_length=200, description="one of the service's OPERATIONS, or *")
    persona: str | None = Field(None, max_length=1000)
    probability: float = Field(1.0, ge=0.0, le=1.0)
    error: str | None = Field(None, max_length=200)
    delay_ms: int = Field(0, ge=0, le=120_000)
    drop_connection: bool = False
    times: int | None = Field(None, ge=1, le=1_000_000_000, description="trigger at most this many times")
    description: str = Field("", max_length=1000)

    @model_validator(mode="after")
    def _has_effect(self) -> FaultRule:
        if not (self.error or self.delay_ms or self.drop_connection):
            raise ValueError("a fault rule needs an effect: error, delay_ms or drop_connection")
        if self.error and self.drop_connection:
            raise ValueError("a fault rule either answers an error or drops the connection, not both")
        return self


@dataclass(frozen=True)
class FaultEffect:
    rule_id: int
    error: ErrorDef | None
    delay_ms: int
    drop_connection: bool


class UnknownName(ValueError):
    """A service or error name that does not exist; the message lists the valid ones."""


class Faults:
    def __init__(
        self,
        store: Store,
        catalogues: dict[str, dict[str, ErrorDef]],
        operations: dict[str, list[str] | None] | None = None,
        generation: Generation | None = None,
    ):
        self.store = store
        self.catalogues = catalogues
        # service -> the operations its journal entries name (None: the service declares none)
        self.operations = operations or {}
        self._rng = random.Random()
        self._lock = threading.Lock()
        # every rule that can still fire, by (tenant, service); reloaded on any change (a hit too)
        self._rules = Cached(generation or Generation(store), self._load)

    def _load(self) -> dict[tuple[str, str], list[dict[str, Any]]]:
        rules: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for row in self.store.query(
            "SELECT * FROM faults WHERE remaining IS NULL OR remaining > 0 ORDER BY id"
        ):
            rules.setdefault((row["tenant"], row["service"]), []).append(row)
        return rules

    def validate(self, rule: FaultRule) -> str | None:
        """Raise UnknownName for a service, operation or error the service does not have; return
        a warning when the operation cannot be checked (the service declares no OPERATIONS)."""
        if rule.service not in self.catalogues:
            raise UnknownName(
                f"unknown service {rule.service!r}; valid: {', '.join(sorted(self.catalogues))}"
            )
        errors = self.catalogues[rule.service]
        if rule.error is not None and rule.error not in errors:
            raise UnknownName(
                f"unknown error {rule.error!r} for {rule.service}; valid: {', '.join(sorted(errors)) or '(none)'}"
            )
        operations = self.operations.get(rule.service)
        if rule.operation == "*":
            return None
        if operations is None:
            return (
                f"{rule.service} declares no operation list: operation {rule.operation!r} is not checked "
                "and fires only if the service names its exchanges so"
            )
        if rule.operation not in operations:
            raise UnknownName(
                f"unknown operation {rule.operation!r} for {rule.service}; valid: *, {', '.join(operations)}"
            )
        return None

    def add(self, tenant: str, rule: FaultRule) -> dict[str, Any]:
        self.validate(rule)
        cursor = self.store.execute(
            "INSERT INTO faults(tenant, service, operation, persona, probability, error, delay_ms, "
            "drop_connection, remaining, description) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                tenant,
                rule.service,
                rule.operation,
                rule.persona,
                rule.probability,
                rule.error,
                rule.delay_ms,
                int(rule.drop_connection),
                rule.times,
                rule.description,
            ),
        )
        rule_id = int(cursor.lastrowid or 0)
        found = self.get(tenant, rule_id)
        assert found is not None
        return found

    def validate_all(self, rules: list[FaultRule]) -> list[str]:
        """Validate a list (UnknownName naming the rule's index); the warnings, by rule."""
        warnings = []
        for n, rule in enumerate(rules):
            try:
                warning = self.validate(rule)
            except UnknownName as exc:
                raise UnknownName(f"rules[{n}]: {exc}") from None
            if warning:
                warnings.append(warning)
        return warnings

    def replace_all(self, tenant: str, rules: list[FaultRule]) -> list[dict[str, Any]]:
        self.validate_all(rules)
        with self.store.tx():
            self.clear(tenant)
            for rule in rules:
                self.add(tenant, rule)
        return self.list(tenant)

    def check_row(self, row: dict[str, Any]) -> None:
        """Check a `faults` row as imported (ValueError): the names as for a new rule, and the values."""
        fields: dict[str, Any] = {
            k: row[k] for k in ("service", "operation", "persona", "probability", "error") if k in row
        }
        fields.update(delay_ms=row.get("delay_ms", 0), drop_connection=bool(row.get("drop_connection")))
        fields["description"] = row.get("description", "")
        try:
            self.validate(FaultRule.model_validate(fields))
        except ValidationError as exc:
            raise ValueError(
                "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            ) from None
        for key in ("remaining", "hits"):
            value = row.get(key)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
                raise ValueError(f"{key} must be an integer of at least 0")

    def list(self, tenant: str) -> list[dict[str, Any]]:
        return [
            self._out(r)
            for r in self.store.query("SELECT * FROM faults WHERE tenant = ? ORDER BY id", (tenant,))
        ]

    def get(self, tenant: str, rule_id: int) -> dict[str, Any] | None:
        row = self.store.one("SELECT * FROM faults WHERE tenant = ? AND id = ?", (tenant, rule_id))
        return self._out(row) if row else None

    def delete(self, tenant: str, rule_id: int) -> bool:
        return (
            self.store.execute("DELETE FROM faults WHERE tenant = ? AND id = ?", (tenant, rule_id)).rowcount
            > 0
        )

    def clear(self, tenant: str) -> int:
        return self.store.execute("DELETE FROM faults WHERE tenant = ?", (tenant,)).rowcount

    def match(
        self, tenant: str, service: str, operation: str, persona: str | None = None
    ) -> FaultEffect | None:
        """The first rule that fires for this request, counting its hit; None when none fires."""
        rows = self._rules.get().get((tenant, service), ())
        for row in rows:
            if row["operation"] not in ("*", operation) or row["persona"] not in (None, persona or ""):
                continue
            with self._lock:
                fires = row["probability"] >= 1 or self._rng.random() < row["probability"]
            if not fires:
                continue
            # counted only while it may still fire (another request or process may have used it up)
            hit = self.store.execute(
                "UPDATE faults SET hits = hits + 1, remaining = CASE WHEN remaining IS NULL THEN NULL "
                "ELSE remaining - 1 END WHERE id = ? AND (remaining IS NULL OR remaining > 0)",
                (row["id"],),
            )
            if hit.rowcount != 1:
                continue
            error = self.catalogues.get(service, {}).get(row["error"]) if row["error"] else None
            return FaultEffect(row["id"], error, int(row["delay_ms"]), bool(row["drop_connection"]))
        return None

    @staticmethod
    def _out(row: dict[str, Any]) -> dict[str, Any]:
        out = dict(row)
        out["drop_connection"] = bool(out["drop_connection"])
        out["times_remaining"] = out.pop("remaining")
        return json.loads(json.dumps(out))
