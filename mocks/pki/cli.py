"""`segur-sandbox pki ...`: the fake IGC-Santé from the command line.

segur-sandbox pki list [--persona P] [--kind K] [--json]
segur-sandbox pki show SERIAL | PERSONA KIND
segur-sandbox pki export PERSONA KIND [--out DIR] [--password PW] [--algorithm aes|3des]
segur-sandbox pki bundle [--out FILE] [--all]
segur-sandbox pki revoke SERIAL [--reason R]      segur-sandbox pki unrevoke SERIAL
segur-sandbox pki renew PERSONA KIND              segur-sandbox pki issue PERSONA KIND --validity expired
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mocks.clock import iso
from mocks.pki.export import render
from mocks.pki.model import PkiError

if TYPE_CHECKING:
    from mocks.kernel import Sandbox

ACTIONS = ("list", "show", "export", "bundle", "revoke", "unrevoke", "renew", "issue")


def register(subparsers: Any) -> None:
    p: argparse.ArgumentParser = subparsers.add_parser(
        "pki",
        help="the fake IGC-Santé: list, show, export credentials, revoke (see docs/pki.md)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    # one level of positional words (not sub-sub-parsers) so that every settings flag works anywhere
    p.add_argument("action", choices=ACTIONS)
    p.add_argument("target", nargs="*", help="SERIAL, or PERSONA KIND")
    p.add_argument("--persona", help="list: only this persona")
    p.add_argument("--kind", help="list: only this kind")
    p.add_argument("--json", action="store_true", help="JSON output")
    p.add_argument("--out", help="export: folder (default .); bundle: file (default stdout)")
    p.add_argument("--password", default="test", help="export: PKCS#12 password (default: test)")
    p.add_argument("--algorithm", default="aes", choices=("aes", "3des"), help="export: PKCS#12 encryption")
    p.add_argument("--reason", default="unspecified", help="revoke: RFC 5280 reason (e.g. key_compromise)")
    p.add_argument("--validity", default="current", choices=("current", "expired", "not_yet_valid"))
    p.add_argument("--all", action="store_true", help="bundle: every TEST CA, not only the roots")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace, sandbox: Sandbox) -> int:
    try:
        return _run(args, sandbox)
    except PkiError as exc:
        print(f"segur-sandbox pki: {exc}", file=sys.stderr)
        return 2 if exc.status == 400 else 1


def _need(args: argparse.Namespace, count: int, usage: str) -> list[str]:
    if len(args.target) != count:
        raise _Usage(f"usage: segur-sandbox pki {args.action} {usage}")
    return list(args.target)


class _Usage(PkiError):
    status = 400


def _print(rows: Any, as_json: bool) -> None:
    if as_json or not isinstance(rows, list):
        print(json.dumps(rows, indent=1, ensure_ascii=False, default=str))
        return
    for r in rows:
        flags = ("current" if r["current"] else "old") + (" REVOKED" if r["revoked_at"] else "")
        print(
            f"{r['serial']:<33} {r['kind']:<13} {r['persona']:<16} {r['not_after'][:10]}  {flags}  {r['subject']}"
        )


def _run(args: argparse.Namespace, sandbox: Sandbox) -> int:
    pki = sandbox.pki
    action = args.action
    if action == "list":
        _print(pki.issued(args.persona, args.kind), args.json)
    elif action == "show":
        if len(args.target) == 1:
            creds = pki.certificate(args.target[0])
        else:
            persona, kind = _need(args, 2, "SERIAL | PERSONA KIND")
            creds = pki.credentials(persona, kind)
        der_status = pki.identify(_der(creds.cert_pem), "default").status
        _print(
            {
                "serial": creds.serial,
                "kind": creds.kind,
                "persona": creds.persona,
                "subject": creds.subject,
                "issuer": creds.issuer,
                "not_before": iso(creds.not_before),
                "not_after": iso(creds.not_after),
                "status": der_status,
                "certificate": creds.cert_pem.decode(),
            },
            True,
        )
    elif action == "export":
        persona, kind = _need(args, 2, "PERSONA KIND [--out DIR] [--password PW]")
        creds = pki.credentials(persona, kind)
        folder = Path(args.out or ".")
        folder.mkdir(parents=True, exist_ok=True)
        for fmt in ("cert", "key", "chain", "p12"):
            data, name, _ = render(creds, fmt, args.password, args.algorithm)
            (folder / name).write_bytes(data)
            print(folder / name)
    elif action == "bundle":
        data = pki.ca_bundle() if args.all else pki.trust_bundle()
        if args.out:
            Path(args.out).write_bytes(data)
            print(args.out)
        else:
            sys.stdout.write(data.decode())
    elif action in ("revoke", "unrevoke"):
        (serial,) = _need(args, 1, "SERIAL")
        creds = pki.revoke(serial, args.reason) if action == "revoke" else pki.unrevoke(serial)
        print(f"{creds.serial} {'revoked' if creds.revoked_at else 'not revoked'}: {creds.subject}")
    elif action in ("renew", "issue"):
        persona, kind = _need(args, 2, "PERSONA KIND")
        creds = pki.renew(persona, kind) if action == "renew" else pki.issue(persona, kind, args.validity)
        print(
            f"{creds.serial} {creds.kind} {creds.persona} {iso(creds.not_before)} -> {iso(creds.not_after)}"
        )
    return 0


def _der(pem: bytes) -> bytes:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    return x509.load_pem_x509_certificate(pem).public_bytes(serialization.Encoding.DER)
