"""What the directory serves, checked against the official material in ../shared/specs/annuaire:

- every resource, and the Bundles, parse as FHIR with fhir.resources' R4B models (no R4 4.0.1
  models exist in recent majors; R4B keeps the R4 structure of these five types);
- every MSSanté telecom validates against the IG's `as-mailbox-mss` snapshot, its metadata
  against `as-ext-mailbox-mss-metadata` (tests/annuaire/profiles.py);
- resources compare structurally with the IG's DP examples: the example's element paths and
  systems are in ours (but the documented omissions), and we write no element the examples lack
  (but the documented additions);
- the IG SearchParameters' FHIRPath expressions (fhirpathpy) agree with what mailbox-mss finds;
- the same seed gives the same ids, another seed other ids."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fhir.resources.R4B import get_fhir_model_class
from fhirpathpy import evaluate
from fhirpathpy.models import models

from annuaire.resources import MAILBOX_METADATA, Builder
from tests.annuaire.conftest import CENTRE, DOCTOR, DOCTOR_MAILBOX, IG, Api, ids_of
from tests.annuaire.profiles import Validator, load


def _paths(node: Any, prefix: str = "") -> set[str]:
    """Element paths without list indexes, plus `path=value` for systems and urls."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("text", "div"):
                continue
            path = f"{prefix}.{key}" if prefix else key
            found.add(path)
            if key in ("system", "url") and isinstance(value, str):
                found.add(f"{path}={value}")
            found |= _paths(value, path)
    elif isinstance(node, list):
        for item in node:
            found |= _paths(item, prefix)
    return found


def _example(name: str) -> dict[str, Any]:
    return dict(json.loads((IG / name).read_text(encoding="utf-8")))


def _resource(api: Api, path: str) -> dict[str, Any]:
    r = api.get(path)
    assert r.status_code == 200, r.text
    return dict(r.json())


def _one(api: Api, path: str) -> dict[str, Any]:
    bundle = api.bundle(path)
    assert len(bundle["entry"]) == 1, bundle
    return dict(bundle["entry"][0]["resource"])


# elements of the IG examples we do not serve (restricted data, diplomas not in the population)
OMITTED = {
    "Practitioner": {"qualification.code.coding.system=https://mos.esante.gouv.fr/NOS/TRE_R48-DiplomeEtatFrancais/FHIR/TRE-R48-DiplomeEtatFrancais",
                     "qualification.code.coding.system=https://mos.esante.gouv.fr/NOS/TRE_R14-TypeDiplome/FHIR/TRE-R14-TypeDiplome",
                     "telecom.rank"},
    "PractitionerRole": {"code.coding.system=https://mos.esante.gouv.fr/NOS/TRE_R21-Fonction/FHIR/TRE-R21-Fonction"},
    "Organization": {"extension", "extension.url", "extension.valuePeriod", "extension.valuePeriod.start",
                     "extension.url=http://hl7.org/fhir/StructureDefinition/organization-period", "telecom.rank",
                     "identifier.system=https://rppsrang.esante.gouv.fr", "telecom.system=fax"},
}  # fmt: skip
# elements we add to the DP examples: the live v2 data (smartcards, digitization), FR Core address
ADDED = {
    "Practitioner": {"extension", "extension.url", "extension.extension", "extension.extension.url",
                     "extension.extension.valueCodeableConcept", "extension.extension.valueString",
                     "extension.extension.valuePeriod", "extension.extension.valuePeriod.end", "name.suffix", "telecom.extension.extension.valueBoolean"},
    "PractitionerRole": {"telecom.extension.extension.valueBoolean"},
    "Organization": {"telecom.rank", "address.line", "address.district", "partOf", "partOf.reference",
                     "telecom.extension.extension.valueString", "telecom.extension.extension.valueBoolean"},
}  # fmt: skip


def _compare(ours: dict[str, Any], examples: list[str], kind: str, mailbox_from: str = "") -> None:
    mine = {p for p in _paths(ours) if "=" not in p or p.split("=")[0].endswith(("system", "url"))}
    union: set[str] = set()
    if mailbox_from:
        union |= {p for p in _paths(_example(mailbox_from)) if p.startswith("telecom")}
    for name in examples:
        ex = _paths(_example(name))
        union |= ex
    dp = _paths(_example(examples[0]))
    missing = {p for p in dp if p not in mine and not p.startswith("meta.versionId")} - OMITTED.get(
        kind, set()
    )
    assert not missing, f"{kind}: elements of {examples[0]} not served: {sorted(missing)}"
    plain = {p for p in mine if "=" not in p}
    extra = {p for p in plain if p not in union} - ADDED.get(kind, set())
    assert not extra, f"{kind}: elements no IG example has: {sorted(extra)}"


def test_practitioner_matches_the_ig_examples(api: Api) -> None:
    ours = _one(api, f"/fhir/v2/Practitioner?identifier={DOCTOR}")
    _compare(
        ours,
        ["Practitioner-3719500DP.json", "Practitioner-3719500.json", "Practitioner-334081DP.json"],
        "Practitioner",
    )
    assert ours["meta"]["source"] == "https://annuaire.sante.fr"
    assert ours["meta"]["profile"] == [
        "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-practitioner",
        "https://interop.esante.gouv.fr/ig/fhir/annuaire/StructureDefinition/as-dp-practitioner",
    ]
    assert [i["type"]["coding"][0]["code"] for i in ours["identifier"]] == ["IDNPS", "RPPS"]
    assert ours["name"][0] == {
        "use": "usual",
        "family": "LEMAIRE",
        "given": ["CAMILLE"],
        "prefix": ["MME"],
        "suffix": ["DR"],
    }


def test_practitioner_role_and_organization_match_the_ig_examples(api: Api) -> None:
    doctor = _one(api, f"/fhir/v2/Practitioner?identifier={DOCTOR}")
    roles = api.bundle(f"/fhir/v2/PractitionerRole?practitioner={doctor['id']}")["entry"]
    for entry in roles:
        _compare(
            entry["resource"],
            ["PractitionerRole-5015602DP.json", "PractitionerRole-1578230DP.json"],
            "PractitionerRole",
            mailbox_from="Practitioner-3719500.json",  # the IG has no role example with a mailbox
        )
    centre = _one(api, f"/fhir/v2/Organization?identifier={CENTRE}")
    _compare(centre, ["Organization-158480DP.json", "Organization-481677.json", "Organization-example-organization-nancy.json",
                      "Organization-548812DP.json"], "Organization")  # fmt: skip


def test_every_resource_is_fhir_r4b(api: Api) -> None:
    directory = api.directory()
    checked = 0
    for kind, index in directory.types.items():
        model = get_fhir_model_class(kind)
        for rec in index.records:
            model.model_validate(json.loads(rec.json))
            checked += 1
    assert checked == sum(directory.size.values()) and directory.size["Device"] > 0
    bundle = api.get("/fhir/v2/Organization?_revinclude=PractitionerRole:organization&_count=5")
    get_fhir_model_class("Bundle").model_validate(bundle.json())
    outcome = api.get("/fhir/v2/Organization?_summary=true")
    get_fhir_model_class("OperationOutcome").model_validate(outcome.json())


def test_every_mailbox_validates_against_the_ig_profiles(api: Api, specs: Any) -> None:
    mailbox = Validator(load(IG / "StructureDefinition-as-mailbox-mss.json"))
    metadata = Validator(load(IG / "StructureDefinition-as-ext-mailbox-mss-metadata.json"))
    # the validator is not blind: the IG's own example passes, a broken copy fails
    example = _example("Practitioner-3719500.json")["telecom"][0]
    assert mailbox.validate(example) == []
    broken = json.loads(json.dumps(example))
    broken["extension"][1]["extension"][0]["valueCodeableConcept"]["coding"][0]["code"] = "XXX"
    broken["system"] = "phone"
    assert len(mailbox.validate(broken)) == 2
    kinds: dict[str, set[str]] = {}
    for index in api.directory().types.values():
        for rec in index.records:
            for telecom in json.loads(rec.json).get("telecom", []):
                if telecom.get("system") != "email":
                    continue
                assert mailbox.validate(telecom) == [], (rec.ref, telecom)
                meta = next(e for e in telecom["extension"] if e["url"] == MAILBOX_METADATA)
                assert metadata.validate(meta) == [], (rec.ref, meta)
                code = meta["extension"][0]["valueCodeableConcept"]["coding"][0]["code"]
                kinds.setdefault(rec.type, set()).add(code)
    assert kinds == {"Practitioner": {"PER"}, "PractitionerRole": {"PER"}, "Organization": {"ORG", "APP"}}


def test_inactive_resources_carry_only_id_identifiers_and_active(api: Api) -> None:
    inactive = api.bundle("/fhir/v2/PractitionerRole?active=false&_count=5")["entry"]
    assert inactive
    for entry in inactive:
        resource = entry["resource"]
        assert set(resource) == {"resourceType", "id", "meta", "identifier", "active"}
        assert resource["active"] is False and set(resource["meta"]) == {"source", "profile"}


def test_fhirpath_expressions_of_the_ig_search_parameters(api: Api) -> None:
    sp = _example("SearchParameter-as-sp-mailbox-mss.json")
    sp_type = _example("SearchParameter-as-sp-mailbox-mss-type.json")
    found = api.bundle(f"/fhir/v2/Practitioner?mailbox-mss:exact={DOCTOR_MAILBOX}")
    assert len(found["entry"]) == 1
    for kind in sp["base"]:
        index = api.directory().types[kind]
        expected = {
            r.id for r in index.records if DOCTOR_MAILBOX in evaluate(json.loads(r.json), sp["expression"])
        }
        served = set(ids_of(api.bundle(f"/fhir/v2/{kind}?mailbox-mss:exact={DOCTOR_MAILBOX}")))
        assert served == expected
    org = _one(api, f"/fhir/v2/Organization?identifier={CENTRE}")
    codes = {c["code"] for v in evaluate(org, sp_type["expression"], {}, models["r4"]) for c in v["coding"]}
    assert codes == {"ORG", "APP"}


def test_same_seed_same_ids_other_seed_other_ids(api: Api) -> None:
    population = api.runner.sandbox.population
    reference = str(api.runner.sandbox.config["reference_date"])
    first = [b.id for b in Builder(population, 1, reference).all()]
    again = [b.id for b in Builder(population, 1, reference).all()]
    other = [b.id for b in Builder(population, 2, reference).all()]
    assert first == again and len(set(first)) == len(first)
    assert set(first).isdisjoint(other)
    assert all(i.startswith(("003-", "005-", "001-01-", "004-", "002-")) for i in first)
    served = ids_of(api.bundle(f"/fhir/v2/Practitioner?identifier={DOCTOR}"))
    assert served[0] in first


@pytest.mark.parametrize("version", ["v1", ""])
def test_v1_ids_for_practitioners_and_roles(api: Api, version: str) -> None:
    base = "/fhir/v1" if version else "/fhir"
    v2 = _one(api, f"/fhir/v2/Practitioner?identifier={DOCTOR}")
    bundle = api.bundle(f"{base}/Practitioner?identifier={DOCTOR}&_revinclude=PractitionerRole:practitioner")
    practitioner = bundle["entry"][0]["resource"]
    assert practitioner["id"] == v2["id"].rsplit("-", 1)[0]  # 003-NNNNNNN
    assert bundle["entry"][0]["search"] == {"mode": "match"}
    roles = [e for e in bundle["entry"] if e["search"]["mode"] == "include"]
    assert roles and all(
        e["resource"]["practitioner"]["reference"] == f"Practitioner/{practitioner['id']}" for e in roles
    )
    assert all(
        e["fullUrl"].endswith(f"/fhir/v1/{e['resource']['resourceType']}/{e['resource']['id']}")
        for e in bundle["entry"]
    )
    read = api.get(f"{base}/Practitioner/{practitioner['id']}")
    assert read.status_code == 200 and read.json()["id"] == practitioner["id"]
    assert api.get(f"{base}/Practitioner/{v2['id']}").status_code == 404
