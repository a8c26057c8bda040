"""`patients` (GestionDossierPatientPartage.wsdl, HL7v3 NE2009): the DMP's administrative file.

    PRPA_IN201307UV02  TEST_EXST -> TD0.2 test d'existence + autorisation; CNSLT_DATA -> TD1.3a
    PRPA_IN201311UV02  CREA_RD   -> TD1.1 création (DMPFound when it exists)
    PRPA_IN201314UV02  REAC -> TD1.2, MODIF_DATA -> TD1.3b, FERM -> TD1.4 (not for a DMP attached
                       to Mon espace santé: PDT-INF-526 note 10)

Research dmp.md §2.2, §2.9; official examples TD0.2, TD1.3a, TD1.3b, TD1.4. TD1.1 / TD1.2 have no
official example: their answers follow the WSDL and the TD1.3b / TD1.4 answers [inferred].
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from dmp import errors, wire
from dmp.endpoints import Endpoint, Operation
from dmp.errors import Hl7Ack, WsStatus
from dmp.state import Authorization, PatientState
from mocks.harness import Reply

if TYPE_CHECKING:
    from dmp.flow import Context

NS1 = wire.PATIENTS
V3 = "urn:hl7-org:v3:"
ACTES = {
    "TD0.2": "un test d'existence",
    "TD1.3a": "une consultation des données administratives",
    "TD1.1": "une création de DMP",
    "TD1.2": "une réactivation de DMP",
    "TD1.3b": "une modification des données administratives",
    "TD1.4": "une fermeture de DMP",
}
REVISE_TD = {"REAC": "TD1.2", "MODIF_DATA": "TD1.3b", "FERM": "TD1.4"}


def view(state: PatientState, oid: str) -> wire.PatientView:
    rep = state.representative
    return wire.PatientView(
        ins=state.ins,
        ins_oid=oid,
        ins_c=state.ins_c,
        active=state.dmp == "open",
        family=state.nom,
        given=state.prenom,
        prefix={"M": "M", "F": "Mme"}.get(state.sexe, ""),
        gender=state.sexe,
        birth=state.naissance,
        telecoms=state.telecoms,
        address=state.adresse,
        compte_internet=state.compte_internet,
        ens=state.ens,
        opposition_bris_de_glace=state.opposition_bris_de_glace,
        opposition_acces_urgence=state.opposition_acces_urgence,
        representative=(rep.lien, rep.nom, rep.prenom) if rep is not None else None,
    )


def _ack(entry: Hl7Ack | WsStatus, text: str) -> wire.AckError:
    assert isinstance(entry, Hl7Ack)
    return wire.AckError(entry.type_code, entry.code, text)


def get_demographics(ctx: Context) -> Reply:
    req = wire.parse_hl7(ctx.payload)
    td = "TD1.3a" if req.reason == "CNSLT_DATA" else "TD0.2"
    ctx.ex.operation = td
    mid, creation = str(uuid.uuid4()), ctx.creation()
    build = wire.consultation_response if td == "TD1.3a" else None

    def on_error(entry: Hl7Ack | WsStatus, text: str) -> tuple[str, str, str]:
        err = _ack(entry, text)
        if build is not None:
            payload = build(req, None, message_id=mid, creation=creation, error=err)
        else:
            payload = wire.existence_response(
                req, None, "NON_EXISTE", False, message_id=mid, creation=creation, error=err
            )
        return payload, ctx.operation.response_action, NS1

    ctx.on_error(on_error)
    if not req.patient_ins:
        errors.fail("hl7_invalide", what="queryByParameter/parameterList/patientIdentifier/value absent")
    s = ctx.secure(td, req.patient_ins, req.patient_root, acte=ACTES[td])
    state = s.state
    assert state is not None
    patient = view(state, ctx.ins_oid) if state.dmp != "none" else None
    if td == "TD1.3a":
        if patient is not None:
            ctx.require_not_blocked(s)
        ctx.ex.outcome = "OK" if patient else "NF"
        return ctx.answer(wire.consultation_response(req, patient, message_id=mid, creation=creation))
    authorization = state.authorization(s.caller.holder) if patient is not None else "NON_EXISTE"
    statut_mt = patient is not None and state.is_mt(s.caller.ps)
    closed = "/FERME" if state.dmp == "closed" else ""
    ctx.ex.outcome = f"{authorization}/{'OK' if patient else 'NF'}{closed}"
    ctx.ex.details["dmp"] = {"state": state.dmp, "ens": state.ens, "mt": state.medecin_traitant}
    return ctx.answer(
        wire.existence_response(req, patient, authorization, statut_mt, message_id=mid, creation=creation)
    )


def _author_names(req: wire.Hl7Request) -> None:
    """PDT-INF-617: TD1.1, TD1.2, TD1.3b and TD1.4 are refused when the actor's names are empty."""
    author = req.author
    if author is None or not author.family.strip() or not author.given.strip():
        errors.fail("auteur_sans_nom")


def add_patient(ctx: Context) -> Reply:
    req = wire.parse_hl7(ctx.payload)
    ctx.ex.operation = "TD1.1"
    mid, creation = str(uuid.uuid4()), ctx.creation()

    def on_error(entry: Hl7Ack | WsStatus, text: str) -> tuple[str, str, str]:
        payload = wire.create_response(req, None, message_id=mid, creation=creation, error=_ack(entry, text))
        return payload, ctx.operation.response_action, NS1

    ctx.on_error(on_error)
    if not req.patient_ins:
        errors.fail("hl7_invalide", what="registrationRequest/subject1/patient/id absent")
    s = ctx.secure("TD1.1", req.patient_ins, req.patient_root, acte=ACTES["TD1.1"])
    _author_names(req)
    state = s.state
    assert state is not None
    if state.dmp != "none":
        errors.fail("DMPFound", "DMPFound")
    if not req.observations.get("CONSENTEMENT_OUVERTURE_DMP", False):
        errors.fail("consentement", observation="CONSENTEMENT_OUVERTURE_DMP")
    now = ctx.ex.now()
    stamp = now.strftime("%Y%m%d%H%M%S")
    person = req.person
    authorizations = dict(state.authorizations)
    authorizations[s.caller.holder] = Authorization("VALIDE", stamp, stamp)
    created = ctx.states.update(
        ctx.ex.tenant,
        state.ins,
        now,
        {
            "dmp": "open",
            "known": True,
            "nom": person.family or state.nom,
            "prenom": person.given or state.prenom,
            "sexe": person.gender or state.sexe,
            "naissance": person.birth or state.naissance,
            "telecoms": [list(t) for t in person.telecoms] or [list(t) for t in state.telecoms],
            "adresse": list(person.address) if any(person.address) else list(state.adresse),
            "opposition_bris_de_glace": req.observations.get("OPPOSITION_BRIS_DE_GLACE", False),
            "opposition_acces_urgence": req.observations.get("OPPOSITION_ACCES_URGENCE", False),
            "authorizations": authorizations,
            "last_update": stamp,
        },
    )
    ctx.ex.outcome = "CREA_RD/AA"
    return ctx.answer(
        wire.create_response(req, view(created, ctx.ins_oid), message_id=mid, creation=creation)
    )


def revise_patient(ctx: Context) -> Reply:
    req = wire.parse_hl7(ctx.payload)
    td = REVISE_TD.get(req.reason, "TD1.3b")
    ctx.ex.operation = td
    mid, creation = str(uuid.uuid4()), ctx.creation()

    def on_error(entry: Hl7Ack | WsStatus, text: str) -> tuple[str, str, str]:
        payload = wire.revise_response(req, None, message_id=mid, creation=creation, error=_ack(entry, text))
        return payload, ctx.operation.response_action, NS1

    ctx.on_error(on_error)
    if req.reason not in REVISE_TD:
        errors.fail("hl7_invalide", what=f"reasonCode « {req.reason} » : REAC, MODIF_DATA ou FERM attendu")
    if not req.patient_ins:
        errors.fail("hl7_invalide", what="registrationRequest/subject1/patient/id absent")
    s = ctx.secure(td, req.patient_ins, req.patient_root, acte=ACTES[td])
    _author_names(req)
    state = s.state
    assert state is not None
    if state.dmp == "none":
        errors.fail("dmp_inexistant")
    if s.decision.note == 10 and state.ens:
        errors.fail("refus_ens", td=td)
    now = ctx.ex.now()
    stamp = now.strftime("%Y%m%d%H%M%S")
    change: dict[str, object] = {"last_update": stamp}
    if td == "TD1.2":
        if state.dmp != "closed":
            errors.fail("dmp_non_ferme")
        if not req.observations.get("CONSENTEMENT_REACTIVATION_DMP", True):
            errors.fail("consentement", observation="CONSENTEMENT_REACTIVATION_DMP")
        change.update(dmp="open", closed_reason="")
    elif state.dmp == "closed":
        errors.fail("dmp_ferme")
    elif td == "TD1.4":
        change.update(dmp="closed", closed_reason=req.closing_reason or "FERMETURE_DEMANDE_PATIENT")
    else:
        person = req.person
        if person.telecoms:
            change["telecoms"] = [list(t) for t in person.telecoms]
        if any(person.address):
            change["adresse"] = list(person.address)
        for code, key in (
            ("OPPOSITION_BRIS_DE_GLACE", "opposition_bris_de_glace"),
            ("OPPOSITION_ACCES_URGENCE", "opposition_acces_urgence"),
        ):
            if code in req.observations:
                change[key] = req.observations[code]
    updated = ctx.states.update(ctx.ex.tenant, state.ins, now, change)
    ctx.ex.outcome = f"{req.reason}/AA"
    return ctx.answer(
        wire.revise_response(req, view(updated, ctx.ins_oid), message_id=mid, creation=creation)
    )


ENDPOINT = Endpoint(
    "patients",
    {
        f"{{{wire.HL7}}}PRPA_IN201307UV02": Operation(
            "PatientGetDemographics_PRPA_IN201307UV02",
            (V3 + "PRPA_IN201307UV02",),
            V3 + "PRPA_IN201308UV02",
            NS1,
            get_demographics,
        ),
        f"{{{wire.HL7}}}PRPA_IN201311UV02": Operation(
            "PatientAdd_PRPA_IN201311UV02",
            (V3 + "PRPA_IN201311UV02",),
            V3 + "PRPA_IN201311ResponseUV02",
            NS1,
            add_patient,
        ),
        f"{{{wire.HL7}}}PRPA_IN201314UV02": Operation(
            "PatientRevise_PRPA_IN201314UV02",
            (V3 + "PRPA_IN201314UV02",),
            V3 + "PRPA_IN201314ResponseUV02",
            NS1,
            revise_patient,
        ),
    },
)
