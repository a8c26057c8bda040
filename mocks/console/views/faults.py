"""Défauts: the tenant's fault rules, and a form whose pickers are fed by each service's
operations and error catalogue (/_sandbox/faults/catalogue, /_sandbox/errors; operations the
catalogue declares, plus those the journal has seen). Adding a rule is POST /_sandbox/faults."""

from __future__ import annotations

from typing import Any

from flask import Response, request

from mocks.console.control import ControlError
from mocks.console.site import back_to, bp, control, done, page, tenant


def catalogue(chosen: str | None = None) -> dict[str, dict[str, Any]]:
    """service -> {"errors": {name: {description, http_status, kind}}, "operations": [names]}:
    operations as the catalogue declares them, plus, for the `chosen` service, those its recent
    journal entries in the reader's tenant name."""
    ctl = control()
    raw = ctl.get("/faults/catalogue")
    typed = ctl.get("/errors")
    out: dict[str, dict[str, Any]] = {}
    for service, value in raw.items():
        errors = value.get("errors") if isinstance(value.get("errors"), dict) else value
        declared = value.get("operations") if isinstance(value, dict) else None
        errors = {k: v for k, v in errors.items() if k != "operations" and isinstance(v, dict)}
        for name, row in errors.items():
            kind = (typed.get(service) or {}).get(name, {})
            row["kind"] = kind.get("kind", "") if isinstance(kind, dict) else ""
        operations = _names(declared)
        seen = ctl.get("/journal", service=service, tenant=tenant(), limit=100) if service == chosen else []
        for entry in seen:
            op = entry["operation"]
            if (
                op not in operations
                and not op.startswith(("GET ", "POST ", "PUT ", "DELETE ", "HEAD "))
                and op != "invalid"
            ):
                operations.append(op)
        out[service] = {"errors": errors, "operations": operations}
    return out


def _names(declared: Any) -> list[str]:
    if isinstance(declared, dict):
        return list(declared)
    if isinstance(declared, list):
        return [d if isinstance(d, str) else str(d.get("name", "")) for d in declared if d]
    return []


@bp.get("/defauts")
def faults() -> Response:
    current = tenant()
    names = list(control().get("/faults/catalogue"))
    chosen = request.args.get("service") or ("insi" if "insi" in names else next(iter(names), ""))
    cat = catalogue(chosen)
    return page(
        "console/faults.html",
        "Défauts",
        rules=control().get("/faults", tenant=current),
        catalogue=cat,
        chosen=chosen,
    )


@bp.post("/defauts")
def faults_add() -> Response:
    current = tenant()
    form = request.form
    rule: dict[str, Any] = {"service": form.get("service", ""), "operation": form.get("operation") or "*"}
    if form.get("persona", "").strip():
        rule["persona"] = form["persona"].strip()
    effect = form.get("effect", "error")
    if effect == "error" and form.get("error"):
        rule["error"] = form["error"].split("/", 1)[-1]  # "service/error" from the grouped picker
    if effect == "drop":
        rule["drop_connection"] = True
    try:
        if form.get("delay_ms", "").strip():
            rule["delay_ms"] = int(form["delay_ms"])
        if form.get("probability", "").strip():
            rule["probability"] = float(form["probability"].replace(",", ".")) / 100
        if form.get("times", "").strip():
            rule["times"] = int(form["times"])
    except ValueError:
        return done("/defauts", error="Délai, probabilité et nombre de déclenchements sont des nombres.")
    if form.get("description", "").strip():
        rule["description"] = form["description"].strip()
    try:
        created = control().post("/faults", rule, tenant=current)
    except ControlError as exc:
        return done(f"/defauts?service={rule['service']}", error=f"Règle refusée : {exc.message}")
    return done("/defauts", ok=f"Règle n° {created['id']} ajoutée : elle s'applique au prochain appel.")


@bp.post("/defauts/<rule_id>/supprimer")
def faults_delete(rule_id: str) -> Response:
    try:
        control().delete(f"/faults/{rule_id}", tenant=tenant())
    except ControlError as exc:
        return done("/defauts", error=exc.message)
    return done(back_to("/defauts"), ok=f"Règle n° {rule_id} supprimée.")


@bp.post("/defauts/tout-supprimer")
def faults_clear() -> Response:
    deleted = control().delete("/faults", tenant=tenant())["deleted"]
    return done("/defauts", ok=f"{deleted} règle(s) supprimée(s).")
