"""Préparation Ségur: the tenant's Ségur readiness scoreboard (mocks/scoreboard), the balance
conditions, and the scenarios a trainer starts and watches turn green — over
/_sandbox/scoreboard and /_sandbox/scenarios (docs/scoreboard.md)."""

from __future__ import annotations

from flask import Response, request

from mocks.console.control import ControlError
from mocks.console.site import PageNotFound, bp, control, done, page, tenant

LABELS = {"PASS": "Conforme", "FAIL": "Non conforme", "NOT_OBSERVED": "Non observé",
          "MANUAL_PENDING": "Preuve manuelle", "N/A": "Non applicable"}  # fmt: skip
BADGES = {"PASS": "ok", "FAIL": "ko", "NOT_OBSERVED": "off", "MANUAL_PENDING": "warn", "N/A": "off"}
STATES = {"running": "en cours", "passed": "réussi", "failed": "échoué", "expired": "expiré (rien observé)"}


@bp.get("/preparation-segur")
def scoreboard() -> Response:
    ctl, current = control(), tenant()
    family = request.args.get("famille") or None
    board = ctl.get("/scoreboard", tenant=current)
    shown = [r for r in board["requirements"] if not family or r["family"] == family]
    return page("console/scoreboard.html", "Préparation Ségur", board=board, shown=shown, family=family,
                scenarios=ctl.get("/scenarios"), labels=LABELS, badges=BADGES)  # fmt: skip


@bp.post("/preparation-segur/scenarios")
def scenario_start() -> Response:
    scenario = request.form.get("scenario", "")
    body: dict[str, object] = {}
    if request.form.get("persona", "").strip():
        body["persona"] = request.form["persona"].strip()
    minutes = (request.form.get("minutes") or "").strip().replace(",", ".")
    try:
        if minutes:
            body["minutes"] = float(minutes)
        run = control().post(f"/scenarios/{scenario}/runs", body, tenant=tenant())
    except ValueError:
        return done("/preparation-segur", error="Durée illisible : un nombre de minutes est attendu.")
    except ControlError as exc:
        return done("/preparation-segur", error=exc.message)
    return done(f"/preparation-segur/scenarios/{scenario}/runs/{run['id']}", ok=f"Scénario {scenario} lancé.")


@bp.get("/preparation-segur/scenarios/<scenario>/runs/<int:run>")
def scenario_run(scenario: str, run: int) -> Response:
    ctl, current = control(), tenant()
    try:
        found = ctl.get(f"/scenarios/{scenario}/runs/{run}", tenant=current)
    except ControlError as exc:
        if exc.status == 404:
            raise PageNotFound(f"Exécution inconnue : {scenario} n° {run}", "/preparation-segur",
                               "Retour à la préparation Ségur") from None  # fmt: skip
        raise
    return page("console/scoreboard_run.html", f"Scénario {scenario}", run=found,
                scenario=ctl.get(f"/scenarios/{scenario}"), labels=LABELS, badges=BADGES, states=STATES)  # fmt: skip
