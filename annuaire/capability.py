"""`GET [base]/metadata`: the CapabilityStatement, in the shape the live server writes (research
mssante.md 1.6, test-api.md; the ANS server's CapabilityStatementWriteListener):
`{"resourceType":"CapabilityStatement","status":"active","fhirVersion":"4.0.1","format":
["application/fhir+json","json"],"rest":[{"resource":[…]}]}` — like the live one it carries no
`date`, `kind` nor `rest.mode`. Resources, interactions (search-type, read), includes and search
parameters come from annuaire.params: what is announced is what is answered.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from annuaire.params import INCLUDES, PARAMS, PROFILE_OF, REVINCLUDES
from annuaire.wire import compact


@cache
def capability_statement() -> bytes:
    resources: list[dict[str, Any]] = []
    for kind in ("Organization", "Device", "Practitioner", "PractitionerRole", "HealthcareService"):
        entry: dict[str, Any] = {
            "type": kind,
            "profile": PROFILE_OF[kind],
            "interaction": [{"code": "search-type"}, {"code": "read"}],
        }
        if INCLUDES[kind]:
            entry["searchInclude"] = ["*", *INCLUDES[kind]]
        if REVINCLUDES[kind]:
            entry["searchRevInclude"] = list(REVINCLUDES[kind])
        params = []
        for p in PARAMS[kind].values():
            item: dict[str, Any] = {"name": p.name}
            if p.definition:
                item["definition"] = p.definition
            item["type"] = p.type
            item["documentation"] = p.documentation
            params.append(item)
        entry["searchParam"] = params
        resources.append(entry)
    return compact(
        {
            "resourceType": "CapabilityStatement",
            "status": "active",
            "fhirVersion": "4.0.1",
            "format": ["application/fhir+json", "json"],
            "rest": [{"resource": resources}],
        }
    )
