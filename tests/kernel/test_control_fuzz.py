"""Fuzzing every control route from the served OpenAPI document (schemathesis, on hypothesis).

Every operation of `/_sandbox/openapi.json` — the kernel's, the components' (personas, PKI,
evidence) and the services' (PSC approvals...) — gets valid and invalid parameters and bodies,
in process (WSGI, the same thread as the test). Two properties:

- never a 5xx;
- a 4xx changes nothing: SQLite's `total_changes` of the store connection of this thread (the one
  the control plane writes with) is the same before and after the call.

The sandbox is its own (a POST /reset here must not touch the other tests' tenants), on a small
world; its PKI and world are made before fuzzing so that their lazy creation is not taken for a
change. Server-side waits are cut to 50 ms: the fuzzer picks long time-outs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from mocks.control.app import create_app
from mocks.kernel import Sandbox
from mocks.testing import make_config

pytestmark = pytest.mark.slow
WAIT_CAP = 0.05
# 4xx answers that write by design, each with its reason (reported to the lead):
# the CDA engine keeps the report of an unreadable document (CDA-PARSE) and answers it with 400
WRITES_ON_4XX = {("POST", "/_sandbox/cda/validate"): "the report of an unreadable document is kept"}
EXAMPLES = 20  # per operation and mode
TENANT = "fuzz"


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Sandbox, Any]]:
    config = make_config(
        Path(tmp_path_factory.mktemp("fuzz")),
        population_households=40,
        population_professionals=15,
        population_structures=6,
    )
    sandbox = Sandbox(config)
    for name, service in sandbox.instances.items():
        sandbox.store.migrate(name, list(service.migrations()))
    sandbox.population.ensure()
    sandbox.pki.trust_bundle()  # the hierarchy, made now rather than by the first fuzzed call
    for thing in (sandbox.journal, sandbox.evidence):
        wait = thing.wait

        def capped(*args: Any, _wait: Any = wait, **kwargs: Any) -> Any:
            args = (args[0], min(float(args[1]), WAIT_CAP), *args[2:]) if len(args) > 1 else args
            if "timeout" in kwargs:
                kwargs["timeout"] = min(float(kwargs["timeout"]), WAIT_CAP)
            return _wait(*args, **kwargs)

        thing.wait = capped  # type: ignore[method-assign]
    app = create_app(sandbox)
    yield sandbox, app
    sandbox.store.close()


@pytest.mark.parametrize(
    ("mode", "known_tenant"),
    [(GenerationMode.POSITIVE, False), (GenerationMode.POSITIVE, True), (GenerationMode.NEGATIVE, True)],
    ids=["positive", "positive-known-tenant", "negative-known-tenant"],
)
def test_no_5xx_and_no_change_on_4xx(
    fuzzed: tuple[Sandbox, Any], mode: GenerationMode, known_tenant: bool
) -> None:
    sandbox, app = fuzzed
    schema = schemathesis.openapi.from_wsgi("/_sandbox/openapi.json", app)
    conn = sandbox.store.conn
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 40, "the OpenAPI document lost routes"

    def check(case: Any) -> None:
        if known_tenant:
            # most generated tenant ids are unknown (404 before anything runs): name a real one
            if not sandbox.tenants.exists(TENANT):
                sandbox.tenants.create(TENANT)
            if case.query is not None and "tenant" in case.query:
                case.query["tenant"] = TENANT
            if case.path_parameters and "tenant" in case.path_parameters:
                case.path_parameters["tenant"] = TENANT
        before = conn.total_changes
        response = case.call()
        status = response.status_code
        assert status < 500, f"{case.method} {case.formatted_path} -> {status}: {response.text[:500]}"
        if 400 <= status < 500 and (case.method, case.path) not in WRITES_ON_4XX:
            assert conn.total_changes == before, (
                f"{case.method} {case.formatted_path} answered {status} but changed the store: "
                f"{response.text[:300]}"
            )

    fuzzed_ops: list[str] = []
    for operation in operations:
        run = settings(
            max_examples=EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
            derandomize=True,
        )(given(case=operation.as_strategy(generation_mode=mode))(check))
        try:
            run()
        except Unsatisfiable:  # negative mode, an operation with nothing that can be made invalid
            assert mode is GenerationMode.NEGATIVE, operation.label
            continue
        fuzzed_ops.append(operation.label)
    assert len(fuzzed_ops) > (40 if mode is GenerationMode.POSITIVE else 20), fuzzed_ops
