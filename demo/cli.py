"""`segur-sandbox demo`: the reference LGC client runs the whole Ségur workflow against a sandbox.

    segur-sandbox demo                         against http://localhost:4600 (or SEGUR_DEMO_URL)
    segur-sandbox demo --url http://h:4700     another sandbox (compose on other ports, a CI host)
    segur-sandbox demo --embedded              start a sandbox in this process first
    segur-sandbox demo --step                  trainer mode: pause after each step, show its journal
    segur-sandbox demo --fail vihf-cle-auth    inject a known error, show the sandbox's answer
    segur-sandbox demo --json                  the run log as JSON on stdout (text on stderr)

Exit status: 0 when every step that could run succeeded (and a --fail preset's error was
observed), 1 otherwise, 2 when no sandbox answers at the URL (the message names it).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from demo.cast import Cast
from demo.run import Run, as_json
from demo.sandbox import DEFAULT_URL, Sandbox, Unreachable
from demo.workflow import PRESETS, steps_for


def register(subparsers: Any) -> None:
    p: argparse.ArgumentParser = subparsers.add_parser(
        "demo",
        help="the reference LGC client: the whole Ségur workflow against the sandbox (docs/demo.md)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--url",
        default=os.environ.get("SEGUR_DEMO_URL", DEFAULT_URL),
        help="the sandbox's control plane (env SEGUR_DEMO_URL; default %(default)s)",
    )
    p.add_argument(
        "--tenant",
        default=os.environ.get("SEGUR_DEMO_TENANT", "default"),
        help="the tenant to run in (created with its bindings if missing)",
    )
    p.add_argument("--step", action="store_true", help="pause after each step and show its journal entries")
    p.add_argument(
        "--fail",
        choices=sorted(PRESETS),
        help="inject a known error: " + "; ".join(f"{k}: {v.what}" for k, v in sorted(PRESETS.items())),
    )
    p.add_argument("--json", action="store_true", help="machine-readable run log on stdout")
    p.add_argument("--rounds", type=int, help="letters of step 8 (default: until the thresholds)")
    p.add_argument(
        "--workdir", help="where credentials and documents are written (default: a temporary folder)"
    )
    p.add_argument(
        "--embedded", action="store_true", help="start the sandbox in this process (the settings flags apply)"
    )
    p.set_defaults(handler=cmd_demo, needs_sandbox=False)


def cmd_demo(args: argparse.Namespace, config: Any) -> int:
    for noisy in ("httpx", "fontTools", "zeep", "urllib3", "PIL"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    runner = None
    url = args.url
    if args.embedded:
        from mocks.runner import Runner  # the sandbox itself, not its internals: the client stays public

        runner = Runner(config)
        runner.start()
        url = runner.url("console")
    try:
        return demo(
            url,
            tenant=args.tenant,
            pause=args.step,
            preset=args.fail,
            as_json_log=args.json,
            rounds=args.rounds,
            workdir=Path(args.workdir) if args.workdir else None,
        )
    finally:
        if runner is not None:
            runner.stop()


def demo(
    url: str,
    *,
    tenant: str = "default",
    pause: bool = False,
    preset: str | None = None,
    as_json_log: bool = False,
    rounds: int | None = None,
    workdir: Path | None = None,
    cast: Cast | None = None,
    out: Any = None,
    stdin: Any = None,
) -> int:
    """Run the workflow; the exit status of `segur-sandbox demo`."""
    text = out or (sys.stderr if as_json_log else sys.stdout)
    sandbox = Sandbox(url, tenant)
    try:
        sandbox.discover()
    except Unreachable as exc:
        print(f"segur-sandbox demo: {exc}", file=sys.stderr)
        return 2
    folder = workdir or Path(tempfile.mkdtemp(prefix="segur-demo-"))
    folder.mkdir(parents=True, exist_ok=True)
    if cast is None:
        # one PSC client per tenant: a client id binds mail sessions to a single tenant
        cast = Cast() if tenant == "default" else replace(Cast(), psc_client=f"segur-demo-{tenant}")
    run = Run(sandbox, cast, folder, out=text, pause=pause, preset=preset, rounds=rounds, stdin=stdin)
    print(f"Démonstration Ségur contre {url} (tenant {tenant}), fichiers dans {folder}", file=text)
    if preset:
        print(f"--fail {preset} : {PRESETS[preset].what}", file=text)
    try:
        results = run.execute(steps_for(preset))
    finally:
        sandbox.close()
    total = sum(r.seconds for r in results)
    print("\nRésumé :", file=text)
    for r in results:
        print(f"  {r.id:<4} {r.status:<8} {r.seconds:6.2f} s  {r.title}", file=text)
    print(f"  total {total:.2f} s", file=text)
    failed = [r for r in results if r.status == "failed"]
    missed = preset is not None and not run.expected_seen
    if missed:
        print(f"--fail {preset} : l'erreur attendue n'a pas été observée", file=text)
    if as_json_log:
        print(
            as_json(
                run,
                {
                    "seconds": round(total, 3),
                    "failed": [r.id for r in failed],
                    "balance": run.data.get("balance"),
                },
            )
        )
    return 1 if failed or missed else 0
