"""`patientsSpecific` (PatientsSpecific.wsdl v1.0.2, 11/06/2024): TD0.4 `patientList`, the DMP
the caller is authorised on, by date of last document fed (LASTDOC: the later of the stored
documents and the state's `last_update`) or of authorisation (LASTAUTORIZATION, sic). In indirect mode the list is limited to new authorisations by date (note
3), for a CPE to the PS of the same structure (note 2). TD1.5a/b/d (createPatientAccess,
patientOTPUpdate, updatePatientAccess) were removed from the WSDL in v2.01.04: their body
elements get CXF's "Message part … was not recognized" fault, journaled under their TD.
Official example TD0.4 (research dmp.md §2.3).
"""

from __future__ import annotations

import contextlib
import re
from typing import TYPE_CHECKING

from dmp import errors, wire
from dmp.documents import Documents
from dmp.endpoints import Endpoint, Operation
from dmp.errors import Hl7Ack, WsStatus
from mocks.harness import Reply

if TYPE_CHECKING:
    from dmp.flow import Context

NS = wire.PATIENTS
PREFIX = "urn:si-dmp-patients:PatientSpecificEndPoint:"
STAMP = re.compile(r"^\d{14}$")
DATE_TYPES = ("LASTDOC", "LASTAUTORIZATION")


def patient_list(ctx: Context) -> Reply:
    def on_error(entry: Hl7Ack | WsStatus, text: str) -> tuple[str, str, str]:
        assert isinstance(entry, WsStatus)
        return wire.patient_list_response([], entry.status, text), ctx.operation.response_action, NS

    ctx.on_error(on_error)
    fields = wire.ws_fields(ctx.payload)
    s = ctx.secure("TD0.4", acte="une liste des DMP autorisés")
    start, date_type = fields.get("startDate", ""), fields.get("dateType", "")
    if date_type not in DATE_TYPES:
        errors.fail("ws_invalide", what=f"dateType « {date_type} » : LASTDOC ou LASTAUTORIZATION attendu")
    if not STAMP.match(start):
        errors.fail("ws_invalide", what=f"startDate « {start} » : aaaaMMjjHHmmss attendu")
    holder = s.caller.holder
    today = ctx.ex.now().date()
    entries: list[wire.ListedPatient] = []
    docs = Documents(ctx.sandbox.store)
    for ins in _candidates(ctx, s.caller.ps, holder):
        state = ctx.states.get(ctx.ex.tenant, ins, today)
        if state.dmp != "open" or state.authorization(holder) != "VALIDE":
            continue
        auth = state.authorizations.get(holder)
        granted = auth.start if auth is not None else "20220101000000"
        updated = max(state.last_update, docs.last_submission(ctx.ex.tenant, ins)) or granted
        if s.decision.note == 3 and granted < start:  # indirect: new authorisations only
            continue
        if (updated if date_type == "LASTDOC" else granted) < start:
            continue
        entries.append(
            wire.ListedPatient(
                state.ins_c,
                state.ins,
                ctx.ins_oid,
                state.nom,
                state.prenom,
                state.naissance,
                state.is_mt(s.caller.ps),
                updated,
                updated,
                updated,
            )
        )
        if len(entries) >= 500:  # [inferred] the DMP's page size is not public
            break
    ctx.ex.outcome = f"DMPOk ({len(entries)})"
    return ctx.answer(wire.patient_list_response(entries, "DMPOk"))


def _candidates(ctx: Context, ps: str, holder: str) -> list[str]:
    """INS of the patients the holder may be authorised on: those whose médecin traitant is the
    caller (population) and those with a stored authorisation or MT change in the tenant."""
    found: list[str] = []
    with contextlib.suppress(ImportError):
        found = [p.ins for p in ctx.sandbox.population.patients() if p.medecin_traitant == ps]
    rows = ctx.sandbox.store.query("SELECT ins FROM dmp_patients WHERE tenant = ?", (ctx.ex.tenant,))
    for row in rows:
        if row["ins"] not in found:
            found.append(row["ins"])
    return found


ENDPOINT = Endpoint(
    "patientsSpecific",
    {
        f"{{{NS}}}patientList": Operation(
            "patientList", (PREFIX + "patientList", ""), PREFIX + "patientListResponse", NS, patient_list
        )
    },
    retired={
        f"{{{NS}}}createPatientAccess": "TD1.5a",
        f"{{{NS}}}patientOTPUpdate": "TD1.5b",
        f"{{{NS}}}updatePatientAccess": "TD1.5d",
    },
)
