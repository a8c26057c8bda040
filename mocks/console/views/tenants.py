"""Tenants: list, create (with the credentials that select it: a certificate subject or serial,
an OAuth client id), reset, delete, export and import of a tenant's state."""

from __future__ import annotations

import json

from flask import Response, request

from mocks.console.control import ControlError
from mocks.console.site import bp, control, done, page

MAX_IMPORT = 64 * 1024 * 1024


@bp.get("/tenants")
def tenants_page() -> Response:
    ctl = control()
    rows = ctl.get("/tenants")
    for t in rows:
        t["exchanges"] = ctl.get("/journal/count", tenant=t["id"])["count"]
    certs = ctl.get("/pki/certificates")[:100]
    return page("console/tenants.html", "Tenants", rows=rows, certs=certs)


@bp.post("/tenants")
def tenants_create() -> Response:
    form = request.form
    bindings = [b.strip() for b in form.get("bindings", "").splitlines() if b.strip()]
    bindings += [b for b in form.getlist("certificate") if b]
    data = {
        "id": form.get("id", "").strip(),
        "description": form.get("description", "").strip(),
        "bindings": bindings,
    }
    try:
        control().post("/tenants", data)
    except ControlError as exc:
        return done("/tenants", error=f"Tenant non créé : {exc.message}")
    return done("/tenants", ok=f"Tenant {data['id']} créé.")


@bp.post("/tenants/<tenant_id>/reinitialiser")
def tenants_reset(tenant_id: str) -> Response:
    try:
        n = control().post(f"/tenants/{tenant_id}/reset")["rows_deleted"]
    except ControlError as exc:
        return done("/tenants", error=exc.message)
    return done("/tenants", ok=f"Tenant {tenant_id} réinitialisé ({n} ligne(s) effacée(s)).")


@bp.post("/tenants/<tenant_id>/supprimer")
def tenants_delete(tenant_id: str) -> Response:
    try:
        control().delete(f"/tenants/{tenant_id}")
    except ControlError as exc:
        return done("/tenants", error=exc.message)
    return done("/tenants", ok=f"Tenant {tenant_id} supprimé.")


@bp.post("/tenants/importer")
def tenants_import() -> Response:
    upload = request.files.get("state")
    if upload is None or not upload.filename:
        return done("/tenants", error="Choisissez un fichier d'export (JSON).")
    raw = upload.read(MAX_IMPORT + 1)
    if len(raw) > MAX_IMPORT:
        return done("/tenants", error="Fichier trop gros (64 Mo au plus).")
    try:
        data = json.loads(raw)
    except ValueError as exc:
        return done("/tenants", error=f"Ce fichier n'est pas du JSON : {exc}")
    try:
        ids = control().post("/state/import", data)["imported"]
    except ControlError as exc:
        return done("/tenants", error=f"Import refusé : {exc.message}")
    return done("/tenants", ok=f"État importé pour : {', '.join(ids)}.")
