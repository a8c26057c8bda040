"""The stack's lifecycle, last of the docker suite (file order: after test_compose_stack.py and
test_demo_e2e.py, on the same stack): the state across `down` / `up`, then `down -v` leaving
nothing."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.docker.stack import PROJECT, TIMINGS, Stack

pytestmark = pytest.mark.docker


def get(stack: Stack, path: str) -> httpx.Response:
    return httpx.get(stack.console + path, timeout=30)


def test_state_survives_a_restart(stack: Stack) -> None:
    tenant = "e2e-persist-" + uuid.uuid4().hex[:8]
    assert httpx.post(stack.console + "/tenants", json={"id": tenant}, timeout=30).status_code in (200, 201)
    before = {ca["short"]: ca["serial"] for ca in get(stack, "/pki/").json()["cas"]}
    stack.down(volumes=False)
    assert stack.leftovers()["volumes"], "the named volume went away without -v"
    TIMINGS["warm start (existing volume) to all healthy"] = stack.up()
    assert get(stack, f"/tenants/{tenant}").status_code == 200
    after = {ca["short"]: ca["serial"] for ca in get(stack, "/pki/").json()["cas"]}
    assert after == before, "the PKI was generated again"


def test_down_v_leaves_nothing(stack: Stack) -> None:
    stack.down(volumes=True)
    assert stack.leftovers() == {"containers": [], "volumes": [], "networks": []}, PROJECT
