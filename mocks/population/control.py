"""Control API of the synthetic world, mounted at /_sandbox/personas (JSON; CSV exports)."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict
from typing import Any

from flask import Blueprint, Response, current_app, request

from mocks.population.model import Patient

blueprint = Blueprint("personas", __name__)


def _population() -> Any:
    return current_app.extensions["segur_sandbox"].population


def _json(data: Any, status: int = 200) -> Response:
    return Response(json.dumps(data, ensure_ascii=False, indent=1), status, mimetype="application/json")


def _out(obj: Any) -> dict[str, Any]:
    return obj.as_dict() if isinstance(obj, Patient) else asdict(obj)


@blueprint.get("/")
def summary() -> Response:
    """Sizes of the world and the named personas (public test identities, demo, magic)."""
    pop = _population()
    personas = pop.personas()
    return _json(
        {
            "key": json.loads(pop.key),
            "counts": {
                "patients": len(pop.patients()),
                "professionals": len(pop.professionals()),
                "structures": len(pop.structures()),
                "cards": len(pop.cards()),
            },  # fmt: skip
            "personas": {kind: [_out(x) for x in items] for kind, items in personas.items()},
        }
    )


@blueprint.get("/search")
def search() -> Response:
    text = request.args.get("q", "").strip()
    if not text:
        return _json({"error": "give a text to search: ?q=<name, INS, idNat, RPPS>"}, 400)
    found = _population().search(text, limit=int(request.args.get("limit", "50")))
    return _json({kind: [_out(x) for x in items] for kind, items in found.items()})


@blueprint.get("/patients/<patient_id>")
def patient(patient_id: str) -> Response:
    pop = _population()
    found = pop.patient(patient_id) or pop.by_matricule(patient_id)
    if found is None:
        return _json({"error": f"unknown patient: {patient_id}"}, 404)
    return _json(_out(found))


@blueprint.get("/cards/<nir_od>")
def card(nir_od: str) -> Response:
    found = _population().card(nir_od)
    if found is None:
        return _json({"error": f"unknown Carte Vitale: {nir_od}"}, 404)
    return _json(_out(found))


@blueprint.get("/professionals/<id_nat>")
def professional(id_nat: str) -> Response:
    found = _population().professional(id_nat)
    if found is None:
        return _json({"error": f"unknown professional: {id_nat}"}, 404)
    return _json(_out(found))


@blueprint.get("/structures/<id_nat>")
def structure(id_nat: str) -> Response:
    found = _population().structure(id_nat)
    if found is None:
        return _json({"error": f"unknown structure: {id_nat}"}, 404)
    return _json(_out(found))


@blueprint.get("/export/<kind>")
def export(kind: str) -> Response:
    """The whole list of patients, professionals or structures, as JSON or CSV (?format=csv)."""
    pop = _population()
    lists = {"patients": pop.patients, "professionals": pop.professionals, "structures": pop.structures}
    if kind not in lists:
        return _json({"error": f"unknown list {kind!r}; valid: {', '.join(lists)}"}, 404)
    rows = [_out(x) for x in lists[kind]()]
    fmt = request.args.get("format", "json")
    if fmt == "json":
        return _json(rows)
    if fmt != "csv":
        return _json({"error": "format must be json or csv"}, 400)
    return Response(
        to_csv(rows), mimetype="text/csv", headers={"Content-Disposition": f"attachment; filename={kind}.csv"}
    )


def to_csv(rows: list[dict[str, Any]]) -> str:
    """Flat CSV: nested values (first names, activities, histo) as JSON in their cell."""
    out = io.StringIO()
    if rows:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        for row in rows:
            writer.writerow({k: json.dumps(v, ensure_ascii=False) if isinstance(v, list | dict | tuple) else v
                             for k, v in row.items()})  # fmt: skip
    return out.getvalue()
