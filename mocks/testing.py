"""Helpers for test suites (ours and the pytest plugin's): configurations on ephemeral ports."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mocks.config import Config, all_settings, load
from mocks.registry import service_settings


def make_config(data_dir: Path | str, **settings: Any) -> Config:
    """A configuration with every port 0 (ephemeral: `sandbox.url(...)` gives the real one),
    quiet logs, and the given settings (by name, e.g. `insi_validation="strict"`)."""
    table = all_settings(service_settings())
    env = {s.env: "0" for s in table.values() if s.kind == "port"}
    env.update({"SEGUR_DATA_DIR": str(data_dir), "SEGUR_LOG_LEVEL": "warning"})
    env.update({table[k].env: str(v) for k, v in settings.items()})
    return load(table, env=env)
