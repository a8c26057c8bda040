"""Scoreboard fixtures: the shared in-process sandbox, a fresh tenant per test, and `Facts`, which
writes synthetic evidence (as the services will, through `sandbox.evidence.append`) and
synthetic journal entries (through `sandbox.journal.append`) into that tenant, so that rules of
services not yet built can be made to pass and fail."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from mocks.clock import iso
from mocks.runner import Runner

N1 = "urn:ihe:iti:xds-sd:pdf:2008"
RPPS, RPPS2 = "10000000016", "10000000024"
STRUCTURE = "1750000010"
INS_OK, INS_KO = "1600128020777", "2970226020778"


@dataclass
class Facts:
    runner: Runner
    tenant: str

    @property
    def sandbox(self) -> Any:
        return self.runner.sandbox

    def evidence(self, kind: str, subject: str = "", **data: Any) -> int:
        return int(self.sandbox.evidence.append(self.tenant, kind, subject or uuid.uuid4().hex, data))

    def document(self, subject: str = "", **overrides: Any) -> int:
        """A DMP document accepted (the dmp.document.accepted contract), valid by default."""
        data = {"ins": INS_OK, "ins_qualified": True, "type_code": "11490-0", "format_code": N1,
                "class_code": "11", "author_rpps": RPPS, "structure": STRUCTURE, "auth_mode": "DIRECTE",
                "caller": "CN=CABINET", "confidentiality": ["N"], "replaces": "", "cda_errors": 0,
                "via_third_party": False, **overrides}  # fmt: skip
        return self.evidence(
            "dmp.document.accepted", subject or f"1.2.250.1.999.{uuid.uuid4().int % 10**9}", **data
        )

    def message(self, subject: str = "", recipients: list[dict[str, str]] | None = None,
                documents: list[dict[str, Any]] | None = None, **overrides: Any) -> int:  # fmt: skip
        data = {"sender": "dr.x@medecin.mssante.fr", "sender_rpps": RPPS, "structure": STRUCTURE, "sender_kind": "PER",
                "recipients": recipients if recipients is not None else [{"address": "dr.y@medecin.mssante.fr", "kind": "PER"}],
                "documents": documents if documents is not None else [{"uniqueId": "1.2.3", "type_code": "11490-0",
                                                                       "ins": INS_OK, "ins_qualified": True}],
                "xdm": True, "via_third_party": False, **overrides}  # fmt: skip
        return self.evidence("mss.message.accepted", subject or f"<{uuid.uuid4().hex}@lgc.example>", **data)

    def exchange(self, service: str, operation: str, status: int = 200, caller: str = "", persona: str = "",
                 findings: list[dict[str, Any]] | None = None, outcome: str = "", **details: Any) -> int:  # fmt: skip
        return int(self.sandbox.journal.append({
            "at": iso(self.sandbox.now(self.tenant)), "tenant": self.tenant, "service": service,
            "operation": operation, "caller": caller, "persona": persona, "status": status,
            "outcome": outcome or ("ok" if status < 400 else "fault"), "findings": findings or [], "details": details,
        }))  # fmt: skip

    def advance(self, seconds: float) -> None:
        self.sandbox.clock.advance(self.tenant, seconds)


@pytest.fixture
def facts(running_sandbox: Runner, tenant: str) -> Facts:
    return Facts(running_sandbox, tenant)


@pytest.fixture
def board(console: httpx.Client, tenant: str) -> Any:
    """GET the scoreboard of the test's tenant: board()["requirements"] by id with board.req(id)."""

    class Board:
        def __call__(self) -> dict[str, Any]:
            r = console.get("/_sandbox/scoreboard", params={"tenant": tenant})
            assert r.status_code == 200, r.text
            return dict(r.json())

        def req(self, rid: str) -> dict[str, Any]:
            r = console.get(f"/_sandbox/scoreboard/requirements/{rid}", params={"tenant": tenant})
            assert r.status_code == 200, r.text
            return dict(r.json())

    return Board()


@pytest.fixture
def fresh(console: httpx.Client) -> Iterator[str]:
    """A second fresh tenant."""
    name = "s-" + uuid.uuid4().hex[:10]
    console.post("/_sandbox/tenants", json={"id": name}).raise_for_status()
    yield name
    console.delete(f"/_sandbox/tenants/{name}")
