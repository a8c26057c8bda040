"""Helpers for test suites (ours and the pytest plugin's): configurations on ephemeral ports."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mocks.config import ENV_PREFIX, Config, all_settings, load
from mocks.registry import service_settings


def make_config(data_dir: Path | str, environ: Mapping[str, str] | None = None, **settings: Any) -> Config:
    """A configuration with every port 0 (ephemeral: `sandbox.url(...)` gives the real one),
    quiet logs, and the given settings (by name, e.g. `insi_validation="strict"`). `environ`
    (e.g. `os.environ`, for the pytest plugin) contributes its `SEGUR_*` settings, except the
    ports and the data folder."""
    table = all_settings(service_settings())
    env = {k: v for k, v in (environ or {}).items() if k.startswith(ENV_PREFIX)}
    env.setdefault("SEGUR_LOG_LEVEL", "warning")
    env.update({s.env: "0" for s in table.values() if s.kind == "port"})
    env["SEGUR_DATA_DIR"] = str(data_dir)
    env.pop(ENV_PREFIX + "CONFIG", None)
    env.update({table[k].env: str(v) for k, v in settings.items()})
    return load(table, env=env)
