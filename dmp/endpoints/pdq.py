"""`patientsPDQ` (PDQSupplier.wsdl, HL7v3 NE2008): TD0.5, a patient search without INS, allowed
only in régulation mode (centre_15, PDT-INF-526). Candidates are the population's patients with an
open DMP whose birth name (and first name, birth date, sex when given) match; each answer carries
its POURCENTAGE (100 when every given trait matches) [inferred scoring] and OPPOSITION_ACCES_URGENCE.
Official example TD0.5 (its answer is schema-invalid on `subjectOf2`: written the same way).
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from dmp import wire
from dmp.endpoints import Endpoint, Operation
from dmp.endpoints.patients import _ack, view
from dmp.errors import Hl7Ack, WsStatus
from mocks.harness import Reply

if TYPE_CHECKING:
    from dmp.flow import Context

MAX_CANDIDATES = 10  # [inferred]


def find_candidates(ctx: Context) -> Reply:
    req = wire.parse_hl7(ctx.payload)
    mid, creation = str(uuid.uuid4()), ctx.creation()

    def on_error(entry: Hl7Ack | WsStatus, text: str) -> tuple[str, str, str]:
        payload = wire.pdq_response(req, [], message_id=mid, creation=creation, error=_ack(entry, text))
        return payload, ctx.operation.response_action, wire.PATIENTS

    ctx.on_error(on_error)
    ctx.secure("TD0.5", acte="une recherche de patient")
    family = req.name_family.upper()
    matches: list[tuple[wire.PatientView, int]] = []
    if family:
        try:
            found = ctx.sandbox.population.search(family, limit=500)["patients"]
        except ImportError:
            found = []
        today = ctx.ex.now().date()
        for patient in found:
            if patient.nom != family and patient.nom_utilise != family:
                continue
            state = ctx.states.get(ctx.ex.tenant, patient.ins, today)
            if state.dmp != "open":
                continue
            checks = [
                not req.name_given or req.name_given.upper() in patient.prenoms,
                not req.birth_time or patient.date_naissance.replace("-", "") == req.birth_time[:8],
                not req.gender or patient.sexe == req.gender,
            ]
            score = 100 - 25 * checks.count(False)
            if score > 50:
                matches.append((view(state, ctx.ins_oid), score))
    matches.sort(key=lambda m: -m[1])
    matches = matches[:MAX_CANDIDATES]
    ctx.ex.outcome = f"{len(matches)} patient(s)"
    return ctx.answer(wire.pdq_response(req, matches, message_id=mid, creation=creation))


ENDPOINT = Endpoint(
    "patientsPDQ",
    {
        f"{{{wire.HL7}}}PRPA_IN201305UV02": Operation(
            "findCandidatesQuery",
            ("urn:hl7-org:v3:PRPA_IN201305UV02",),
            "urn:hl7-org:v3:PRPA_IN201306UV02",
            wire.PATIENTS,
            find_candidates,
        )
    },
)
