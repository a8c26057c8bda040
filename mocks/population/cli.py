"""`segur-sandbox personas`: list, search and export the synthetic world."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from mocks.population.control import to_csv
from mocks.population.model import Patient

if TYPE_CHECKING:
    from mocks.kernel import Sandbox


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("personas", help="list, search and export the synthetic world")
    parser.add_argument(
        "action",
        nargs="?",
        default="list",
        choices=["list", "search", "export"],
        help="what to do (default: list)",
    )
    parser.add_argument("text", nargs="?", default="", help="search: a name, INS, idNat, RPPS")
    parser.add_argument(
        "--kind",
        choices=["patients", "professionals", "structures"],
        default="patients",
        help="export: which list",
    )
    parser.add_argument("--format", choices=["json", "csv", "table"], default="table", help="output format")
    parser.set_defaults(handler=run)


def _row(obj: Any) -> dict[str, Any]:
    return obj.as_dict() if isinstance(obj, Patient) else asdict(obj)


def _line(obj: Any) -> str:
    if isinstance(obj, Patient):
        return f"{obj.ins}  {obj.nom} {' '.join(obj.prenoms)}  {obj.sexe} {obj.date_naissance} {obj.lieu_naissance}  {obj.note or obj.persona}"
    if hasattr(obj, "profession"):
        return f"{obj.id_nat}  {obj.civilite_exercice} {' '.join(obj.prenoms)} {obj.nom}  profession {obj.profession}  {obj.note or obj.persona}"
    return f"{obj.id_nat}  {obj.name}  {obj.secteur}  {obj.note or obj.persona}"


def run(args: argparse.Namespace, sandbox: Sandbox) -> int:
    pop = sandbox.population
    if args.action == "list":
        groups: dict[str, list[Any]] = dict(pop.personas())
    elif args.action == "search":
        if not args.text:
            print("segur-sandbox personas search: give a text", file=sys.stderr)
            return 2
        groups = pop.search(args.text)
    else:
        lists: dict[str, Callable[[], Sequence[Any]]] = {
            "patients": pop.patients,
            "professionals": pop.professionals,
            "structures": pop.structures,
        }
        groups = {args.kind: list(lists[args.kind]())}
    if args.format == "json":
        print(json.dumps({k: [_row(x) for x in v] for k, v in groups.items()}, ensure_ascii=False, indent=1))
    elif args.format == "csv":
        for rows in groups.values():
            sys.stdout.write(to_csv([_row(x) for x in rows]))
    else:
        for kind, items in groups.items():
            print(f"{kind} ({len(items)})")
            for item in items:
                print("  " + _line(item))
    return 0
