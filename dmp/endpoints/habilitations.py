"""`habilitations` (Habilitations.wsdl): TD0.3 `setAuthorization` (se déclarer autorisé, supprimer
son autorisation, se supprimer médecin traitant) and TD1.6 `listAuthorizationByPatient`. The
patient comes from the VIHF resource-id (the bodies name none). Research dmp.md §2.3; official
examples TD0.3 ("Autorisation déjà présente aucune action effectuée" [seen]) and TD1.6; the other
context texts are [inferred].
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dmp import errors, wire
from dmp.endpoints import Endpoint, Operation
from dmp.errors import Hl7Ack, WsStatus
from dmp.state import Authorization
from mocks.harness import Reply

if TYPE_CHECKING:
    from dmp.flow import Context

NS = wire.HABILITATIONS
PREFIX = "urn:si-dmp-habilitations:HabilitationsEndPoint:"
ALREADY = "Autorisation déjà présente aucune action effectuée"  # [seen]
SPECIALITY_LABELS = {"SM26": "Qualifié en Médecine générale (SM)", "SM54": "Médecine générale (SM)"}


def set_authorization(ctx: Context) -> Reply:
    def on_error(entry: Hl7Ack | WsStatus, text: str) -> tuple[str, str, str]:
        assert isinstance(entry, WsStatus)
        return (
            wire.status_response("setAuthorizationResponse", entry.status, text),
            ctx.operation.response_action,
            NS,
        )

    ctx.on_error(on_error)
    fields = wire.ws_fields(ctx.payload)
    action, role = fields.get("action", ""), fields.get("role", "")
    if action not in ("AJOUT", "SUPPRESSION"):
        ctx.ex.operation = "TD0.3"
        errors.fail("ws_invalide", what=f"action « {action} » : AJOUT ou SUPPRESSION attendu")
    if role not in ("", "MEDECIN_TRAITANT"):
        ctx.ex.operation = "TD0.3"
        errors.fail("ws_invalide", what=f"role « {role} » : MEDECIN_TRAITANT attendu")
    row = "TD0.3:MEDECIN_TRAITANT" if role and action == "SUPPRESSION" else f"TD0.3:{action}"
    s = ctx.secure("TD0.3", row=row, acte="une mise à jour de l'autorisation")
    state = s.state
    assert state is not None
    if state.dmp != "open":
        errors.fail("ws_dmp_inexistant")
    holder, now = s.caller.holder, ctx.ex.now()
    stamp = now.strftime("%Y%m%d%H%M%S")
    current = state.authorization(holder)
    authorizations = dict(state.authorizations)
    change: dict[str, object] = {}
    if row == "TD0.3:MEDECIN_TRAITANT":
        change["medecin_traitant"] = ""
        context = "Suppression du statut de médecin traitant effectuée"
    elif action == "AJOUT":
        if current == "INTERDIT":
            errors.fail("refus_bloque")
        if current == "VALIDE" and not (role and not state.is_mt(s.caller.ps)):
            context = ALREADY
        else:
            authorizations[holder] = Authorization("VALIDE", stamp, stamp)
            change["authorizations"] = authorizations
            context = "Autorisation ajoutée"
            if role:
                change["medecin_traitant"] = s.caller.ps
                context = "Autorisation ajoutée, déclaré médecin traitant"
    else:
        if current not in ("VALIDE", "EXPIRE"):
            context = "Aucune autorisation à supprimer aucune action effectuée"
        else:
            authorizations.pop(holder, None)
            change["authorizations"] = authorizations
            if state.is_mt(s.caller.ps):
                change["medecin_traitant"] = ""
            context = "Autorisation supprimée"
    if change:
        change["last_update"] = stamp
        ctx.states.update(ctx.ex.tenant, state.ins, now, change)
    ctx.ex.outcome = f"{row.split(':')[1]}/DMPOk"
    return ctx.answer(wire.status_response("setAuthorizationResponse", "DMPOk", context))


def list_authorizations(ctx: Context) -> Reply:
    def on_error(entry: Hl7Ack | WsStatus, text: str) -> tuple[str, str, str]:
        assert isinstance(entry, WsStatus)
        return wire.authorizations_response([], entry.status, text), ctx.operation.response_action, NS

    ctx.on_error(on_error)
    mode = wire.ws_fields(ctx.payload).get("mode", "TOUTE") or "TOUTE"
    if mode not in ("TOUTE", "ACTIVE", "INTERDITE"):
        ctx.ex.operation = "TD1.6"
        errors.fail("ws_invalide", what=f"mode « {mode} » : TOUTE, ACTIVE ou INTERDITE attendu")
    s = ctx.secure("TD1.6", acte="une liste des PS autorisés")
    state = s.state
    assert state is not None
    if state.dmp != "open":
        errors.fail("ws_dmp_inexistant")
    rows: list[tuple[str, str, str, str]] = []  # holder, mode, start, last action
    if state.medecin_traitant and f"PS:{state.medecin_traitant}" not in state.authorizations:
        rows.append(
            (
                f"PS:{state.medecin_traitant}",
                "ACTIVE",
                "20220101000000",
                state.last_update or "20220101000000",
            )
        )
    for holder, auth in state.authorizations.items():
        if auth.status == "VALIDE" and holder not in state.blocked:
            rows.append((holder, "ACTIVE", auth.start, auth.last_action))
    for holder in state.blocked:
        rows.append(
            (
                holder,
                "INTERDITE",
                state.last_update or "20220101000000",
                state.last_update or "20220101000000",
            )
        )
    entries = []
    for holder, entry_mode, start, last in rows:
        if mode != "TOUTE" and entry_mode != mode or not holder.startswith("PS:"):
            continue
        entries.append(_entry(ctx, holder[3:], entry_mode, start, last))
    ctx.ex.outcome = f"DMPOk ({len(entries)})"
    return ctx.answer(wire.authorizations_response(entries, "DMPOk", ""))


def _entry(ctx: Context, id_nat: str, mode: str, start: str, last: str) -> wire.AuthorizedPs:
    try:
        pro = ctx.sandbox.population.professional(id_nat)
    except ImportError:
        pro = None
    if pro is None:
        return wire.AuthorizedPs(id_nat, "", "", (), start, last, mode)
    code = f"G15_{pro.profession}" + (f"/{pro.savoir_faire}" if pro.savoir_faire else "")
    profession = {"10": "Médecin", "21": "Pharmacien", "60": "Infirmier", "40": "Chirurgien-Dentiste"}.get(
        pro.profession, pro.profession
    )
    label = profession + (
        f" - {SPECIALITY_LABELS.get(pro.savoir_faire, pro.savoir_faire)}" if pro.savoir_faire else ""
    )
    return wire.AuthorizedPs(id_nat, pro.first_name, pro.last_name, ((code, label),), start, last, mode)


ENDPOINT = Endpoint(
    "habilitations",
    {
        f"{{{NS}}}setAuthorization": Operation(
            "setAuthorization",
            (PREFIX + "setAuthorization", "urn:hl7-org:v3:setAuthorization"),
            PREFIX + "setAuthorizationResponse",
            NS,
            set_authorization,
        ),
        f"{{{NS}}}listAuthorizationByPatient": Operation(
            "listAuthorizationByPatient",
            (PREFIX + "listAuthorizationByPatient", "urn:hl7-org:v3:listAuthorizationByPatient"),
            PREFIX + "listAuthorizationByPatientResponse",
            NS,
            list_authorizations,
        ),
    },
)
