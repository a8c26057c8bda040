"""Horloge: the selected tenant's sandbox clock — freeze it (now or at an instant), run it with
an offset, advance it, or back to real time (PUT /_sandbox/clock, POST /_sandbox/clock/advance)."""

from __future__ import annotations

from datetime import datetime

from flask import Response, request

from mocks.console.control import ControlError
from mocks.console.site import bp, control, done, page, tenant

MAX_DAYS = 100 * 365  # the control API takes any float; an absurd one breaks the tenant's clock
STEPS = [
    (3600, "+1 heure"),
    (86400, "+1 jour"),
    (7 * 86400, "+7 jours"),
    (30 * 86400, "+30 jours"),
    (365 * 86400, "+1 an"),
]


@bp.get("/horloge")
def clock() -> Response:
    return page("console/clock.html", "Horloge", steps=STEPS)


def _instant(text: str) -> str | None:
    """`YYYY-MM-DDTHH:MM[:SS]` from a datetime-local field, read as UTC."""
    text = text.strip()
    if not text:
        return None
    at = datetime.fromisoformat(text)
    return at.replace(tzinfo=None).isoformat() + "Z"


@bp.post("/horloge")
def clock_set() -> Response:
    current, ctl, action = tenant(), control(), request.form.get("action", "")
    try:
        if action == "freeze":
            at = _instant(request.form.get("at", ""))
            ctl.put("/clock", {"mode": "frozen", **({"at": at} if at else {})}, tenant=current)
        elif action == "offset":
            days = float((request.form.get("days") or "0").replace(",", "."))
            if not -MAX_DAYS <= days <= MAX_DAYS:
                return done(
                    "/horloge", error=f"Décalage de {MAX_DAYS} jours au plus, dans un sens ou dans l'autre."
                )
            ctl.put("/clock", {"mode": "offset", "offset_seconds": days * 86400}, tenant=current)
        elif action == "advance":
            ctl.post("/clock/advance", {"seconds": float(request.form.get("seconds") or "0")}, tenant=current)
        elif action == "real":
            ctl.put("/clock", {"mode": "real"}, tenant=current)
        else:
            return done("/horloge", error="Action inconnue.")
    except ValueError:
        return done("/horloge", error="Date ou nombre illisible.")
    except ControlError as exc:
        return done("/horloge", error=exc.message)
    now = ctl.get("/clock", tenant=current)
    return done("/horloge", ok=f"Horloge du tenant {current} : {now['now']} ({now['mode']}).")
