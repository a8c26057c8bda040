"""The seeded documents judged by the official ANS engine (CDA XSD, structuration minimale) and our
N1 and XDS-consistency rules, with the metadata the seed stores: no error, no warning."""

from __future__ import annotations

import uuid

from dmp import seed
from mocks.cda.engine import CdaEngine
from mocks.runner import Runner
from tests.cda.conftest import cda_runner, engine  # noqa: F401 - the CDA tests' session fixtures


def test_seeded_cda_pass_the_official_engine(cda_runner: Runner, engine: CdaEngine) -> None:  # noqa: F811
    sandbox = cda_runner.sandbox
    tenant = "seed-cda-" + uuid.uuid4().hex[:8]
    sandbox.tenants.create(tenant, "", [])
    try:
        lots = seed.build(sandbox, tenant)
        assert len(lots) == 8
        for lot in lots:
            report = engine.validate(lot.cda, lot.context, timeout=600)
            assert report.state == "done" and report.level == "N1" and "StrucMin" in report.profiles
            bad = [f.as_dict() for f in report.findings if f.severity in ("error", "fatal", "warning")]
            assert bad == [], (lot.document.title, bad)
    finally:
        sandbox.tenants.delete(tenant)
