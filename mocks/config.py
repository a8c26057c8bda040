"""Configuration: one table of settings, read from flags > environment (`SEGUR_*`) > file > defaults.

Every setting has an environment variable (`SEGUR_<NAME>`) and a CLI flag (`--<name-with-dashes>`).
The optional config file is TOML (`--config` / `SEGUR_CONFIG`), with the setting names as keys.
Services declare their own settings (ports, options) in their `SETTINGS` list, found through the
registry, so the kernel never names them.
"""

from __future__ import annotations

import argparse
import os
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

ENV_PREFIX = "SEGUR_"
VALIDATION_MODES = ("strict", "report", "off")


class ConfigError(ValueError):
    """A setting has a value it cannot take."""


def _bool(text: str) -> bool:
    low = str(text).strip().lower()
    if low in {"1", "true", "yes", "on"}:
        return True
    if low in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"not a boolean: {text!r}")


def _port(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        raise ValueError(f"not a port: {text!r}")
    return value


def _date(text: str) -> str:
    return date.fromisoformat(str(text)).isoformat()


def _mode(text: str) -> str:
    if text not in VALIDATION_MODES:
        raise ValueError(f"validation mode must be one of {', '.join(VALIDATION_MODES)}")
    return str(text)


def _level(text: str) -> str:
    low = str(text).lower()
    if low not in {"debug", "info", "warning", "error"}:
        raise ValueError("log level must be debug, info, warning or error")
    return low


PARSERS: dict[str, Callable[[str], Any]] = {
    "str": str,
    "int": int,
    "bool": _bool,
    "port": _port,
    "date": _date,
    "mode": _mode,
    "level": _level,
}


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str
    kind: str = "str"  # a key of PARSERS

    @property
    def env(self) -> str:
        return ENV_PREFIX + self.name.upper()

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    def parse(self, raw: Any) -> Any:
        if raw is None:
            return None
        if self.kind != "str" and not isinstance(raw, str) and self.kind in {"int", "port", "bool"}:
            raw = str(raw)
        try:
            return PARSERS[self.kind](raw)
        except (ValueError, TypeError) as exc:
            raise ConfigError(f"{self.name}: {exc}") from exc


KERNEL_SETTINGS: list[Setting] = [
    Setting("data_dir", ".segur-sandbox", "data folder: database, PKI, exports"),
    Setting("seed", 1, "seed of the synthetic world (same seed + reference date = same world)", "int"),
    Setting("reference_date", "2026-01-01", "reference date of the synthetic world (ages, dates)", "date"),
    Setting("host", "localhost", "host name announced in URLs, issuers and certificates"),
    Setting("extra_hosts", "", "other host names the server certificates carry (comma separated)"),
    Setting("bind", "127.0.0.1", "address the listeners bind to"),
    Setting("console_port", 4600, "control plane and web console (HTTP)", "port"),
    Setting("services", "all", "services to run: 'all' or a comma-separated list"),
    Setting(
        "validation", "report", "default validation mode of every service: strict, report or off", "mode"
    ),
    Setting("log_level", "info", "log level: debug, info, warning, error", "level"),
    Setting(
        "population_households", 1200, "households of the synthetic world (about 1.35 patients each)", "int"
    ),
    Setting("population_professionals", 300, "professionals of the synthetic world", "int"),
    Setting("population_structures", 60, "shared structures (hospitals, centres, pharmacies...)", "int"),
    Setting(
        "http_threads", 32, "worker threads of each HTTP listener (requests being answered at once)", "int"
    ),
    Setting("journal_bodies", True, "keep request and response bodies in the journal", "bool"),
    Setting("journal_max_entries", 20000, "journal entries kept (oldest dropped first)", "int"),
    Setting("journal_max_bytes", 64 * 1024 * 1024, "journal body bytes kept (oldest dropped first)", "int"),
]


@dataclass
class Config:
    """The effective configuration: values and where each came from."""

    values: dict[str, Any]
    sources: dict[str, str]
    settings: dict[str, Setting] = field(repr=False)

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    def get(self, name: str, default: Any = None) -> Any:
        return self.values.get(name, default)

    @property
    def data_dir(self) -> Path:
        return Path(self.values["data_dir"]).resolve()

    @property
    def seed(self) -> int:
        return int(self.values["seed"])

    @property
    def host(self) -> str:
        return str(self.values["host"])

    @property
    def hostnames(self) -> list[str]:
        """Every host name a server certificate must carry."""
        names = [self.host, "localhost", *[h.strip() for h in str(self.values["extra_hosts"]).split(",")]]
        return list(dict.fromkeys(n for n in names if n))

    def enabled(self, service: str) -> bool:
        wanted = str(self.values["services"]).strip()
        if wanted in {"", "all"}:
            return True
        return service in {s.strip() for s in wanted.split(",")}

    def validation_mode(self, service: str) -> str:
        """Per-service mode (`SEGUR_<SERVICE>_VALIDATION`), else the global one."""
        return str(self.values.get(f"{service}_validation") or self.values["validation"])

    def describe(self) -> list[dict[str, Any]]:
        return [
            {"name": n, "value": self.values[n], "source": self.sources[n], "env": s.env, "flag": s.flag}
            for n, s in self.settings.items()
        ]


def all_settings(extra: Iterable[Setting] = ()) -> dict[str, Setting]:
    table: dict[str, Setting] = {}
    for setting in [*KERNEL_SETTINGS, *extra]:
        if setting.name in table:
            raise ConfigError(f"setting declared twice: {setting.name}")
        table[setting.name] = setting
    return table


def add_flags(parser: argparse.ArgumentParser, settings: Mapping[str, Setting]) -> None:
    """One flag per setting; the default is None so that we can tell 'not given'."""
    parser.add_argument("--config", default=None, help=f"TOML config file (env {ENV_PREFIX}CONFIG)")
    for s in settings.values():
        parser.add_argument(s.flag, dest=s.name, default=None, help=f"{s.help} (env {s.env})")


def load(
    settings: Mapping[str, Setting],
    flags: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    config_file: str | Path | None = None,
) -> Config:
    """Resolve every setting: flag > environment > config file > default."""
    env = os.environ if env is None else env
    flags = flags or {}
    path = config_file or flags.get("config") or env.get(ENV_PREFIX + "CONFIG")
    from_file: dict[str, Any] = {}
    if path:
        try:
            from_file = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"config file {path}: {exc}") from exc
        unknown = sorted(set(from_file) - set(settings))
        if unknown:
            raise ConfigError(f"config file {path}: unknown settings {', '.join(unknown)}")
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for name, s in settings.items():
        if flags.get(name) is not None:
            values[name], sources[name] = s.parse(flags[name]), "flag"
        elif s.env in env:
            values[name], sources[name] = s.parse(env[s.env]), "env"
        elif name in from_file:
            values[name], sources[name] = s.parse(from_file[name]), f"file {path}"
        else:
            values[name], sources[name] = s.default, "default"
    return Config(values=values, sources=sources, settings=dict(settings))
