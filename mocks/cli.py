"""`segur-sandbox`: run the sandbox and look into it.

    segur-sandbox up        start the control plane and the enabled services, print URLs, then `Ready.`
    segur-sandbox health    exit 0 when every service of the local process is ready (container HEALTHCHECK)
    segur-sandbox config    the effective configuration and where each value came from
    segur-sandbox personas  the synthetic world (see docs/personas.md)
    segur-sandbox pki       the fake IGC-Santé (see docs/pki.md)

Every setting is a flag of every sub-command and an environment variable `SEGUR_<NAME>`; a
sub-command's help lists its own options first, then the settings grouped by component.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Sequence
from typing import Any

from mocks import __version__
from mocks.config import (
    ENV_PREFIX,
    KERNEL_SETTINGS,
    Config,
    ConfigError,
    Setting,
    add_flags,
    all_settings,
    load,
)
from mocks.registry import COMPONENT_SETTINGS, available, optional_module, service_settings

# Kernel components that add their own sub-commands: module with register(subparsers)
COMMAND_MODULES = [
    "mocks.population.cli",
    "mocks.pki.cli",
    "mocks.cda.cli",
    "mocks.scoreboard.cli",
    "demo.cli",
]


def setting_groups() -> list[tuple[str, list[Setting]]]:
    """The settings by component, as the help shows them: the kernel's, then each service's."""
    groups = [("settings", list(KERNEL_SETTINGS))]
    names = {s.name for s in KERNEL_SETTINGS}
    for path in COMPONENT_SETTINGS:  # kernel components with settings of their own (the CDA engine)
        module = optional_module(path)
        own = [s for s in getattr(module, "SETTINGS", []) if s.name not in names] if module else []
        names.update(s.name for s in own)
        groups.append((f"settings of {path.split('.')[1]}", own))
    for name, entry in available().items():
        own = [s for s in service_settings() if s.name.startswith(name + "_") and s.name not in names]
        names.update(s.name for s in own)
        groups.append((f"settings of {name} ({entry.title})", own))
    return groups


def add_setting_flags(parser: argparse.ArgumentParser) -> None:
    """Every setting as a flag, in groups after the sub-command's own options (argparse prints
    groups in the order they are made, its own `options` group first)."""
    first = parser.add_argument_group(
        "settings",
        f"every setting is also an environment variable {ENV_PREFIX}<NAME>; see `segur-sandbox config`",
    )
    first.add_argument("--config", default=None, help=f"TOML config file (env {ENV_PREFIX}CONFIG)")
    for title, settings in setting_groups():
        group = first if title == "settings" else parser.add_argument_group(title)
        for s in settings:
            group.add_argument(s.flag, dest=s.name, default=None, help=f"{s.help} (env {s.env})")


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, Any]]:
    settings = all_settings(service_settings())
    parser = argparse.ArgumentParser(
        prog="segur-sandbox", description="Sandbox of the French national e-health services"
    )
    parser.add_argument("--version", action="version", version=f"segur-sandbox {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=argparse.ArgumentParser)
    pending: list[argparse.ArgumentParser] = []  # the settings flags come last, after own options

    def command(name: str, help: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help)
        pending.append(p)
        return p

    command("up", "start the sandbox (embedded: every enabled service in this process)").set_defaults(
        handler=cmd_up
    )
    health = command("health", "exit 0 when every service of the local process is ready")
    health.add_argument("--timeout", type=float, default=5.0, help="seconds to wait for an answer")
    health.set_defaults(handler=cmd_health, needs_sandbox=False)
    cfg = command("config", "print the effective configuration and where each value came from")
    cfg.add_argument("--json", action="store_true", help="as JSON")
    cfg.set_defaults(handler=cmd_config, needs_sandbox=False)

    # kernel components' sub-commands get the settings flags too, through this wrapper
    original = sub.add_parser

    def add_parser(name: str, **kwargs: Any) -> argparse.ArgumentParser:
        kwargs.setdefault("description", kwargs.get("help"))
        p = original(name, **kwargs)
        pending.append(p)
        return p

    sub.add_parser = add_parser  # type: ignore[method-assign]
    for module_name in COMMAND_MODULES:
        module = optional_module(module_name)
        if module is not None:
            module.register(sub)
    sub.add_parser = original  # type: ignore[method-assign]
    for p in pending:
        # the usage line shows the sub-command's own arguments, not ~45 settings flags
        p.usage = " ".join(p.format_usage().removeprefix("usage: ").split()) + " [--SETTING VALUE ...]"
        add_setting_flags(p)
    return parser, settings


def quick_health(argv: Sequence[str]) -> int:
    """`segur-sandbox health` without loading the services (a container HEALTHCHECK runs it every
    few seconds): only the kernel settings are read, other flags are ignored."""
    parser = argparse.ArgumentParser(prog="segur-sandbox health")
    settings = all_settings()
    add_flags(parser, settings)
    parser.add_argument("--timeout", type=float, default=5.0)
    args, _ = parser.parse_known_args(argv)
    try:
        config = load(settings, vars(args))
    except ConfigError:
        return full_main(["health", *argv])  # e.g. a config file naming service settings
    return cmd_health(args, config)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv[:1] == ["health"]:
            return quick_health(argv[1:])
        return full_main(argv)
    except BrokenPipeError:
        # the reader went away (`segur-sandbox personas list | head`): stop quietly, as `cat` does.
        # Python would report the flush of the closed stdout at exit, so point it at /dev/null.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


def full_main(argv: Sequence[str]) -> int:
    parser, settings = build_parser()
    args = parser.parse_args(argv)
    try:
        config = load(settings, vars(args))
    except ConfigError as exc:
        print(f"segur-sandbox: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=str(config["log_level"]).upper(),
        format="%(asctime)s %(message)s",
        datefmt="%H:%M:%S",
        stream=sys.stdout,
    )
    for noisy in ("cheroot", "faker", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if not getattr(args, "needs_sandbox", True) or args.handler is cmd_up:
        return int(args.handler(args, config) or 0)
    from mocks.kernel import Sandbox

    return int(args.handler(args, Sandbox(config)) or 0)


def cmd_up(args: argparse.Namespace, config: Config) -> int:
    from mocks.runner import Runner, StartError, settle_heap

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        runner = Runner(config)
        runner.start()
    except StartError as exc:
        print(f"segur-sandbox: {exc}", file=sys.stderr)
        return 1
    settle_heap()
    rows = runner.table()
    width = max(len(r[1]) for r in rows)
    print(f"Ségur Sandbox {__version__} — data in {config.data_dir}, seed {config.seed}")
    for service, listener, url in rows:
        print(f"  {service:<8} {listener:<{width}}  {url}")
    print(f"(started in {runner.started_in:.2f} s)")
    print("Ready.", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    print("Stopping.", flush=True)
    runner.stop()
    return 0


def cmd_health(args: argparse.Namespace, config: Config) -> int:
    url = f"http://127.0.0.1:{config['console_port']}/_sandbox/readyz?local=1"
    try:
        with urllib.request.urlopen(url, timeout=args.timeout) as resp:
            print(resp.read().decode())
            return 0
    except urllib.error.HTTPError as exc:
        print(exc.read().decode(), file=sys.stderr)
    except OSError as exc:
        print(f"not ready: {exc}", file=sys.stderr)
    return 1


def cmd_config(args: argparse.Namespace, config: Config) -> int:
    rows = config.describe()
    if args.json:
        print(json.dumps(rows, indent=1, default=str))
        return 0
    for row in rows:
        print(f"{row['name']:<22} {str(row['value']):<28} {row['source']:<10} {row['env']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
