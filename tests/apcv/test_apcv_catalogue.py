"""One vocabulary: every error ApCV raises is an entry of its catalogue, every finding a rule of
RULES (and every rule used), every journaled operation in OPERATIONS."""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from apcv import wire
from apcv.checks import RULES
from apcv.errors import ERRORS, ApcvFault
from apcv.service import OPERATIONS
from tests.apcv.support import (
    AUTH,
    SIGN_ACTION,
    assertion,
    auth_action,
    authentifier_body,
    detruire_body,
    envelope,
    payload,
    restituer_body,
    signer_body,
)

PACKAGE = Path(__file__).resolve().parents[2] / "apcv"


def _calls() -> list[tuple[str, ast.Call]]:
    found = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                found.append((ast.unparse(node.func), node))
    return found


def _literal(call: ast.Call) -> str | None:
    if call.args and isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, str):
        return call.args[0].value
    return None


def test_every_error_raised_is_a_catalogue_entry() -> None:
    raised = [_literal(c) for callee, c in _calls() if callee in ("ERRORS.fail", "ERRORS.error")]
    assert len(raised) > 20
    assert None not in raised, "a raise names its error with a literal"
    assert set(raised) - set(ERRORS) == set()
    # every entry is raised somewhere or documented as fault-rule / protocol only
    assert set(ERRORS) - set(raised) <= {"ERREUR_INTERNE_SERVEUR"}
    assert all(isinstance(e, ApcvFault) for e in ERRORS.values())


def test_every_finding_is_in_rules_and_every_rule_is_used() -> None:
    used = {_literal(c) for callee, c in _calls() if callee.endswith("findings.add") or callee == "f.add"}
    assert used == set(RULES)
    assert all(r.title and r.reference for r in RULES.values())


def test_operations_are_the_journaled_ones(
    console: httpx.Client,
    post: Callable[..., httpx.Response],
    qr_of: Callable[..., str],
    tenant: str,
    cps: Any,
) -> None:
    assert len(OPERATIONS) == len(set(OPERATIONS))
    made = post(
        envelope(authentifier_body(qr_of("demo-girard-sophie")), auth_action(wire.OP_AUTH), assertion(cps))
    )
    ident = str(payload(made.content).findtext(f"{{{AUTH}}}ContexteApCV/{{{AUTH}}}Identifiant"))
    post(envelope(restituer_body(), auth_action(wire.OP_RESTITUER), assertion(cps)))
    post(envelope(signer_body(ident, "2840575056412", "89", "MOREAU", "LEA"), SIGN_ACTION, assertion(cps)))
    post(envelope(detruire_body(ident), auth_action(wire.OP_DETRUIRE), assertion(cps)))
    post(b"garbage")
    entries = console.get(
        "/_sandbox/journal", params={"service": "apcv", "tenant": tenant, "limit": 100}
    ).json()
    seen = {e["operation"] for e in entries}
    assert seen == {*wire.SOAP_OPERATIONS, "invalid"} and seen <= set(OPERATIONS)
    described = console.get("/_sandbox/faults/catalogue").json()
    assert set(described["apcv"]) == set(ERRORS)
