"""`segur-sandbox scoreboard`: the Ségur readiness scoreboard of a running sandbox, for editors'
pipelines (docs/scoreboard.md).

    segur-sandbox scoreboard                              a summary per family
    segur-sandbox scoreboard --fail-under DMP.01,MSS.01   exit 1 unless each of them is green
    segur-sandbox scoreboard --fail-under DOC             every automatable DOC requirement
    segur-sandbox scoreboard --junit report.xml --report rapport.html --json

It asks the control API of the sandbox at --url (default: this configuration's console port on
127.0.0.1), so it works beside `segur-sandbox up` and beside the compose stack alike. Exit codes:
0 all the requirements named are green (PASS), 1 some are not, 2 an unknown requirement or
family, 3 the sandbox did not answer.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from mocks.config import Config


def register(subparsers: Any) -> None:
    p: argparse.ArgumentParser = subparsers.add_parser(
        "scoreboard",
        help="the Ségur readiness scoreboard of a running sandbox; --fail-under for CI (docs/scoreboard.md)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--url", help="the sandbox's console URL (default: http://127.0.0.1:<console_port>)")
    p.add_argument("--tenant", default=None, help="tenant (default: the default tenant)")
    p.add_argument("--fail-under", dest="fail_under", default="",
                   help="comma-separated requirement ids or families (or 'all') that must be green")  # fmt: skip
    p.add_argument("--json", action="store_true", help="print the scoreboard JSON")
    p.add_argument("--junit", metavar="FILE", help="write the JUnit XML report to FILE")
    p.add_argument("--report", metavar="FILE", help="write the HTML « rapport de préparation Ségur » to FILE")
    p.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for the sandbox")
    p.set_defaults(handler=run, needs_sandbox=False)


def run(args: argparse.Namespace, config: Config) -> int:
    base = (args.url or f"http://127.0.0.1:{config['console_port']}").rstrip("/")
    params = {"tenant": args.tenant} if args.tenant else {}
    try:
        with httpx.Client(base_url=base, timeout=args.timeout) as client:
            response = client.get("/_sandbox/scoreboard", params=params)
            if response.status_code != 200:
                print(f"segur-sandbox scoreboard: {response.status_code} {_error(response)}", file=sys.stderr)
                return 2 if response.status_code in (400, 404) else 3
            board = response.json()
            for path, target in (("junit.xml", args.junit), ("report.html", args.report)):
                if target:
                    got = client.get(f"/_sandbox/scoreboard/{path}", params=params)
                    got.raise_for_status()
                    with open(target, "wb") as out:
                        out.write(got.content)
    except (httpx.HTTPError, OSError) as exc:
        print(f"segur-sandbox scoreboard: the sandbox at {base} did not answer: {exc}", file=sys.stderr)
        return 3
    if args.json:
        print(json.dumps(board, ensure_ascii=False, indent=1))
    else:
        print(_summary(board))
    if not args.fail_under:
        return 0
    wanted, unknown = _expand(board, args.fail_under)
    if unknown:
        ids = ", ".join(r["id"] for r in board["requirements"])
        families = ", ".join(f["id"] for f in board["families"])
        print(f"segur-sandbox scoreboard: unknown requirement or family {', '.join(unknown)}; "
              f"requirements: {ids}; families: {families}", file=sys.stderr)  # fmt: skip
        return 2
    by_id = {r["id"]: r for r in board["requirements"]}
    not_green = [by_id[i] for i in wanted if not by_id[i]["green"]]
    for req in not_green:
        print(f"NOT GREEN {req['id']} {req['status']}: {req['reason']}", file=sys.stderr)
    if not not_green:
        print(f"all green: {', '.join(wanted)}")
    return 1 if not_green else 0


def _expand(board: dict[str, Any], text: str) -> tuple[list[str], list[str]]:
    ids = [r["id"] for r in board["requirements"]]
    families = {f["id"] for f in board["families"]}
    wanted: list[str] = []
    unknown: list[str] = []
    for token in (t.strip() for t in text.split(",")):
        if not token:
            continue
        if token in ids:
            wanted.append(token)
        elif token == "all" or token in families:
            wanted += [r["id"] for r in board["requirements"]
                       if r["automation"] != "manual" and token in ("all", r["family"])]  # fmt: skip
        else:
            unknown.append(token)
    return list(dict.fromkeys(wanted)), unknown


def _summary(board: dict[str, Any]) -> str:
    lines = [f"Ségur readiness — tenant {board['tenant']} — {board['computed_at'][:19]} UTC"]
    lines.append(f"{'family':<8} {'PASS':>5} {'FAIL':>5} {'NOT_OBS':>8} {'MANUAL':>7} {'N/A':>4}")
    for fam in board["families"]:
        c = fam["counts"]
        lines.append(f"{fam['id']:<8} {c['PASS']:>5} {c['FAIL']:>5} {c['NOT_OBSERVED']:>8} "
                     f"{c['MANUAL_PENDING']:>7} {c['N/A']:>4}")  # fmt: skip
    for req in board["requirements"]:
        if req["automation"] != "manual" and req["status"] in ("PASS", "FAIL"):
            lines.append(f"  {req['status']:<4} {req['id']:<8} {req['reason']}")
    return "\n".join(lines)


def _error(response: httpx.Response) -> str:
    try:
        return str(response.json().get("error", response.text))
    except ValueError:
        return response.text[:200]
