"""CDA engine fixtures: one sandbox for the whole session (control plane only, the ANS data of
../shared/specs/cda, one worker process that compiles StrucMin once), an httpx client on its
control plane, the official examples, a tenant whose INSi evidence qualifies their INS."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from mocks.cda.engine import CdaEngine
from mocks.runner import Runner
from mocks.testing import make_config

SPECS = Path(__file__).resolve().parents[2].parent / "shared" / "specs"
DATA = SPECS / "cda" / "TestContenuCDA-3-0"
EXAMPLES = DATA / "ExemplesCDA"
EXAMPLE_INS = "279035121518989"  # PAT-TROIS DOMINIQUE, INS-NIR test OID in the ANS examples


@pytest.fixture(scope="session")
def cda_runner(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runner]:
    pytest.importorskip("saxonche")
    assert DATA.is_dir(), f"the ANS validator data is expected in {DATA}"
    config = make_config(
        tmp_path_factory.mktemp("cda"),
        services="none",
        cda_data=str(DATA),
        cda_max_profiles=4,
        cda_timeout=120,
    )
    runner = Runner(config)
    runner.start()
    yield runner
    runner.stop()


@pytest.fixture(scope="session")
def engine(cda_runner: Runner) -> CdaEngine:
    return cda_runner.sandbox.cda


@pytest.fixture(scope="session")
def cda_console(cda_runner: Runner) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=cda_runner.url("console"), timeout=180) as client:
        yield client


@pytest.fixture
def qualified_tenant(cda_runner: Runner) -> Iterator[str]:
    """A tenant where the examples' INS was qualified (the fact INSi records on a CR 00)."""
    sandbox = cda_runner.sandbox
    name = "cda-" + uuid.uuid4().hex[:10]
    sandbox.tenants.create(name, "cda tests", [])
    sandbox.evidence.append(
        name, "ins.qualified", EXAMPLE_INS, {"ins": EXAMPLE_INS, "oid": "1.2.250.1.213.1.4.10"}
    )
    yield name
    sandbox.tenants.delete(name)


@pytest.fixture
def example() -> Callable[[str], bytes]:
    return lambda name: (EXAMPLES / name).read_bytes()


def unique(document: bytes) -> bytes:
    """The same document with a fresh comment: another SHA-256, so no cached verdict."""
    return document.replace(b"<ClinicalDocument", f"<!-- {uuid.uuid4()} --><ClinicalDocument".encode(), 1)
