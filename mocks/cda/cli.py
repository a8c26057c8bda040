"""`segur-sandbox cda ...`: the CDA engine from the command line (docs/cda.md).

segur-sandbox cda install [--from DIR|ARCHIVE]   install and check the ANS validator data
segur-sandbox cda check                          is the data whole? which volets are available?
segur-sandbox cda validate FILE... [--volet V] [--json]   validate documents (starts a worker)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mocks.cda.install import InstallError, install

if TYPE_CHECKING:
    from mocks.kernel import Sandbox

ACTIONS = ("install", "check", "validate")


def register(subparsers: Any) -> None:
    p: argparse.ArgumentParser = subparsers.add_parser(
        "cda",
        help="the CDA conformance engine: install the ANS data, check it, validate documents (docs/cda.md)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("action", choices=ACTIONS)
    p.add_argument("files", nargs="*", help="validate: CDA documents")
    p.add_argument("--from", dest="source", help="install: a folder or archive (.zip, .tar.gz) of the data")
    p.add_argument("--volet", help="validate: force the volet (e.g. BIO-CR-BIO_2024.01)")
    p.add_argument("--json", action="store_true", help="JSON output")
    p.add_argument("--wait", type=float, default=120.0, help="validate: seconds to wait per document")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace, sandbox: Sandbox) -> int:
    engine = sandbox.cda
    if args.action == "install":
        if sandbox.config.get("cda_data"):
            target = Path(str(sandbox.config["cda_data"]))
        else:
            target = sandbox.config.data_dir / "cda" / "TestContenuCDA-3-0"
        try:
            data = install(target, args.source)
        except InstallError as exc:
            print(f"segur-sandbox cda: {exc}", file=sys.stderr)
            return 1
        print(f"installed {data.version} in {data.root}")
        return 0
    if args.action == "check":
        state, detail = engine.data_state()
        volets = engine.volets()
        problems: dict[str, list[str]] = {}
        closures = (
            engine.data.check(
                engine.data.path(f"schematrons/CI-SIS_{v['name']}.sch") for v in volets[1:] if v["present"]
            )
            if engine.data.installed
            else {}
        )
        for name, found in closures.items():
            if found.missing or found.doc_missing or found.case_fixed:
                problems[name] = [
                    *found.missing,
                    *found.doc_missing,
                    *(f"case: {c}" for c in found.case_fixed),
                ]
        out = {"state": state, "detail": detail, "data": str(engine.data.root), "problems": problems}
        if state == "installed":
            out["version"] = engine.data.version
        print(json.dumps(out, indent=1, ensure_ascii=False) if args.json else _text(out))
        return 0 if state == "installed" else 1
    if not args.files:
        print("segur-sandbox cda validate: give one or more files", file=sys.stderr)
        return 2
    return _validate(args, sandbox)


def _text(out: dict[str, Any]) -> str:
    lines = [f"{out['state']}: {out['data']}" + (f" — {out['detail']}" if out["detail"] else "")]
    if out.get("version"):
        lines.append(f"version: {out['version']}")
    for name, items in out["problems"].items():
        lines.append(f"{name}:")
        lines += [f"  {i}" for i in items]
    return "\n".join(lines)


def _validate(args: argparse.Namespace, sandbox: Sandbox) -> int:
    from mocks.cda.rules import Context

    engine = sandbox.cda
    sandbox.config.values["cda_worker"] = "on"  # this command owns a worker for its run
    sandbox.config.values["cda_precompile"] = "none"
    engine.start()
    worst = 0
    try:
        for name in args.files:
            report = engine.validate(
                Path(name).read_bytes(), Context(name=name, volet=args.volet), timeout=args.wait
            )
            worst = max(worst, 1 if report.errors or report.state != "done" else 0)
            if args.json:
                print(json.dumps(report.as_dict(), ensure_ascii=False, indent=1))
                continue
            c = report.counts()
            print(f"{name}: {report.state}, {report.level} {report.volet or 'StrucMin'}: "
                  f"{c['error']} erreur(s), {c['warning']} avertissement(s)")  # fmt: skip
            for f in report.findings:
                print(f"  {f.severity:<7} {f.rule} [{f.profile}{' ' + f.pattern if f.pattern else ''}] {f.message}"
                      f"{' @ ' + f.location if f.location else ''}")  # fmt: skip
    finally:
        engine.stop()
    return worst
