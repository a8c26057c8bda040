"""The request path caches tenants, clocks and fault rules (mocks.tenants.Generation); a change
made by another process sharing the store (the compose containers) is seen by the very next
request."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from mocks.faults import FaultRule
from mocks.kernel import Sandbox
from mocks.testing import make_config

ROOT = Path(__file__).resolve().parents[2]


def _other_process(data: Path, code: str) -> None:
    script = (
        "from mocks.kernel import Sandbox\nfrom mocks.testing import make_config\n"
        f"sandbox = Sandbox(make_config({str(data)!r}))\n{code}\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, cwd=ROOT, timeout=60)


def test_another_process_changes_are_seen_at_once(tmp_path: Path) -> None:
    data = tmp_path / "data"
    here = Sandbox(make_config(data))
    assert not here.tenants.exists("lab")
    assert here.tenants.resolve(None, ["CN=LAB"]) == "default"
    assert here.clock.state("default")["mode"] == "real"
    _other_process(data, "sandbox.tenants.create('lab', bindings=['CN=LAB'])")
    assert here.tenants.exists("lab") and here.tenants.resolve(None, ["CN=LAB"]) == "lab"
    _other_process(data, "sandbox.clock.set_offset('lab', 86400)")
    assert here.clock.state("lab") == {"mode": "offset", "offset_seconds": 86400.0, "frozen_at": None}
    assert here.faults.match("lab", "insi", "op") is None
    _other_process(
        data,
        "from mocks.faults import FaultRule\n"
        "sandbox.faults.add('lab', FaultRule(service='insi', delay_ms=1, times=1))",
    )
    effect = here.faults.match("lab", "insi", "op")
    assert effect is not None and effect.delay_ms == 1
    assert here.faults.match("lab", "insi", "op") is None  # `times: 1` used up
    _other_process(data, "sandbox.tenants.delete('lab')")
    assert not here.tenants.exists("lab") and here.tenants.resolve(None, ["CN=LAB"]) == "default"


def test_a_rule_with_one_use_fires_once_across_two_sandboxes(tmp_path: Path) -> None:
    """Two processes may both hold the rule in cache: the hit is counted in the store, once."""
    first, second = Sandbox(make_config(tmp_path)), Sandbox(make_config(tmp_path))
    first.faults.add("default", FaultRule(service="insi", delay_ms=1, times=1))
    with first.generation.pinned(), second.generation.pinned():  # both read the rule, then both try
        assert first.faults._rules.get() and second.faults._rules.get()
        fired = [first.faults.match("default", "insi", "op"), second.faults.match("default", "insi", "op")]
    assert sum(f is not None for f in fired) == 1
