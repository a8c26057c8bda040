"""Accueil: the services and their state, the URLs an LGC configures, the tenant and its clock,
the last exchanges. Reads /_sandbox/info, /_sandbox/journal, /_sandbox/faults."""

from __future__ import annotations

from typing import Any

from flask import Response

from mocks.console.site import bp, control, page, service_pages, tenant

# French titles of the kernel components the registry lists as services
TITLES = {"pki": "IGC-Santé TEST du bac à sable (LCR, OCSP, certificats des autorités)"}


def service_links(name: str, row: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, URL) an LGC configures for a service: its pages' `lgc_urls` when it has them,
    else the listeners' base URLs."""
    if row.get("state") == "disabled" or not row.get("urls"):
        return []
    for sp in service_pages():
        if sp.service == name and sp.lgc_urls is not None:
            return list(sp.lgc_urls(row))
    if name == "pki":
        pki = control().get("/pki/")
        base = row["urls"].get("pki", "")
        return [
            ("OCSP", pki["ocsp"]),
            ("LCR (exemple)", pki["cas"][1]["crl"]),
            ("Autorités (AIA)", base + "/AC%20TEST/"),
        ]
    return [(listener, url) for listener, url in row["urls"].items()]


@bp.get("/")
def home() -> Response:
    ctl, current = control(), tenant()
    info = ctl.get("/info")
    services = [
        {"name": name, **row, "title": TITLES.get(name, row["title"]), "links": service_links(name, row)}
        for name, row in info["services"].items()
    ]
    counts = {
        "all": ctl.get("/journal/count", tenant=current)["count"],
        "findings": ctl.get("/journal/count", tenant=current, has_findings="true")["count"],
        "faults": len(ctl.get("/faults", tenant=current)),
    }
    last = ctl.get("/journal", tenant=current, limit=10)
    return page("console/home.html", "Accueil", info=info, services=services, counts=counts, last=last)
