"""Configuration precedence: flag > environment > config file > default."""

from __future__ import annotations

from pathlib import Path

import pytest

from mocks.cli import main
from mocks.config import ConfigError, Setting, all_settings, load

EXTRA = [Setting("demo_port", 4999, "a port", "port")]


def test_precedence_flag_env_file_default(tmp_path: Path) -> None:
    table = all_settings(EXTRA)
    conf = tmp_path / "segur.toml"
    conf.write_text('seed = 7\nhost = "file.example"\ndemo_port = 5001\nlog_level = "debug"\n')
    cfg = load(
        table,
        flags={"seed": "9", "config": str(conf)},
        env={"SEGUR_SEED": "8", "SEGUR_HOST": "env.example"},
    )
    assert (cfg["seed"], cfg.sources["seed"]) == (9, "flag")
    assert (cfg["host"], cfg.sources["host"]) == ("env.example", "env")
    assert (cfg["demo_port"], cfg.sources["demo_port"]) == (5001, f"file {conf}")
    assert (cfg["console_port"], cfg.sources["console_port"]) == (4600, "default")
    assert cfg.hostnames[:2] == ["env.example", "localhost"]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SEGUR_DEMO_PORT": "70000"}, "demo_port"),
        ({"SEGUR_VALIDATION": "lenient"}, "validation"),
        ({"SEGUR_REFERENCE_DATE": "2026-13-01"}, "reference_date"),
        ({"SEGUR_JOURNAL_BODIES": "maybe"}, "journal_bodies"),
    ],
)
def test_impossible_values_are_refused_by_name(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load(all_settings(EXTRA), env=env)


def test_unknown_key_in_config_file(tmp_path: Path) -> None:
    conf = tmp_path / "bad.toml"
    conf.write_text("colour = 'red'\n")
    with pytest.raises(ConfigError, match="colour"):
        load(all_settings(EXTRA), env={"SEGUR_CONFIG": str(conf)})


def test_per_service_validation_mode() -> None:
    cfg = load(
        all_settings([Setting("insi_validation", "", "mode")]), env={"SEGUR_INSI_VALIDATION": "strict"}
    )
    assert cfg.validation_mode("insi") == "strict"
    assert cfg.validation_mode("psc") == "report"


def test_config_command_shows_sources(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEGUR_SEED", "12")
    assert main(["config", "--host", "sandbox.test"]) == 0
    out = capsys.readouterr().out
    seed = next(line for line in out.splitlines() if line.startswith("seed "))
    host = next(line for line in out.splitlines() if line.startswith("host "))
    assert "12" in seed and "env" in seed and "SEGUR_SEED" in seed
    assert "sandbox.test" in host and "flag" in host
    assert main(["config", "--seed", "abc"]) == 2
