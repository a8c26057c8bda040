"""PKI: the TEST hierarchy (roots and intermediates, CRL and AIA links, OCSP), the certificates
issued so far with revocation, and per-persona controls (renew, issue expired or not yet valid,
revoke the current one) — over /_sandbox/pki/..."""

from __future__ import annotations

from flask import Response, request

from mocks.console.control import ControlError
from mocks.console.site import back_to, bp, control, done, page, tenant

REASONS = [("key_compromise", "compromission de la clé"), ("superseded", "remplacé"),
           ("cessation_of_operation", "cessation d'activité"), ("unspecified", "non précisée")]  # fmt: skip
ACTIONS = {"renew": "renouvelé", "expired": "émis expiré", "not_yet_valid": "émis pas encore valide",
           "current": "émis valide", "revoke": "révoqué"}  # fmt: skip


@bp.get("/pki")
def pki() -> Response:
    ctl = control()
    persona = request.args.get("persona", "").strip()
    certs = ctl.get("/pki/certificates", persona=persona or None)
    shown = certs[:200]
    return page("console/pki.html", "PKI", pki=ctl.get("/pki/"), certs=shown, total=len(certs), persona=persona,
                reasons=REASONS)  # fmt: skip


@bp.post("/pki/certificats/<serial>/<action>")
def certificate_action(serial: str, action: str) -> Response:
    ctl, current = control(), tenant()
    try:
        if action == "revoquer":
            ctl.post(f"/pki/certificates/{serial}/revoke", {"reason": request.form.get("reason") or "unspecified"},
                     tenant=current)  # fmt: skip
            message = f"Certificat {serial} révoqué : il figure dans la LCR et l'OCSP répond « revoked »."
        elif action == "retablir":
            ctl.post(f"/pki/certificates/{serial}/unrevoke")
            message = f"Certificat {serial} rétabli (retiré de la LCR)."
        else:
            return done(back_to("/pki"), error=f"Action inconnue : {action}")
    except ControlError as exc:
        return done(back_to("/pki"), error=exc.message)
    return done(back_to("/pki"), ok=message)


@bp.post("/pki/persona")
def persona_action() -> Response:
    ctl, current = control(), tenant()
    persona = request.form.get("persona", "").strip()
    kind = request.form.get("kind", "")
    action = request.form.get("action", "")
    if not persona:
        return done("/pki", error="Indiquez l'identifiant national du persona (idNat_PS ou idNat_Struct).")
    try:
        if action == "renew":
            ctl.post(f"/pki/personas/{persona}/{kind}/renew")
        elif action in ("expired", "not_yet_valid", "current"):
            ctl.post(f"/pki/personas/{persona}/{kind}/issue", {"validity": action}, tenant=current)
        elif action == "revoke":
            ctl.post(f"/pki/personas/{persona}/{kind}/revoke", {"reason": request.form.get("reason") or "unspecified"},
                     tenant=current)  # fmt: skip
        else:
            return done("/pki", error=f"Action inconnue : {action}")
    except ControlError as exc:
        return done(f"/pki?persona={persona}", error=exc.message)
    return done(f"/pki?persona={persona}", ok=f"Certificat {kind} de {persona} {ACTIONS[action]}.")
