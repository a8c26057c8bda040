"""Search semantics as research mssante.md 1.6 lists them, the exact v2 Bundle bytes, the v1
aliases, the CapabilityStatement, and the read-only verbs. Expected results are computed from the
population the directory was built from, never written by hand."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest

from annuaire.params import PARAMS
from tests.annuaire.conftest import CENTRE, DOCTOR, DOCTOR_MAILBOX, Api, ids_of, next_link


def _org_ids(api: Api, predicate: object) -> set[str]:
    return {r.id for r in api.directory().types["Organization"].records if predicate(r.built)}  # type: ignore[operator]


@pytest.mark.parametrize(
    "value",
    [DOCTOR[1:], f"https://rpps.esante.gouv.fr|{DOCTOR[1:]}", DOCTOR, f"urn:oid:1.2.250.1.71.4.2.1|{DOCTOR}"],
)
def test_practitioner_by_rpps_and_idnps(api: Api, value: str) -> None:
    bundle = api.bundle("/fhir/v2/Practitioner", params={"identifier": value})
    assert bundle["total"] == 1
    assert api.directory().by_rpps(DOCTOR[1:]).id == ids_of(bundle)[0]  # type: ignore[union-attr]


def test_organization_by_finess_siret_and_or(api: Api) -> None:
    assert (
        len(ids_of(api.bundle("/fhir/v2/Organization?identifier=https://finess.esante.gouv.fr|750000010")))
        == 1
    )
    groups = [s for s in api.runner.sandbox.population.structures() if s.siret and s.id_nat.startswith("3")]
    siret = groups[0].siret
    found = ids_of(api.bundle(f"/fhir/v2/Organization?identifier=https://sirene.fr|{siret}"))
    assert found == sorted(_org_ids(api, lambda b: b.persona == groups[0].id_nat))
    both = ids_of(api.bundle(f"/fhir/v2/Organization?identifier={CENTRE},{groups[0].id_nat}"))
    assert len(both) == 2
    assert api.bundle(f"/fhir/v2/Organization?identifier=https://sirene.fr|{CENTRE}")["total"] == 0


def test_name_modifiers(api: Api) -> None:
    prefix = ids_of(api.bundle("/fhir/v2/Organization?name=centre de sante des l"))
    contains = ids_of(api.bundle("/fhir/v2/Organization?name:contains=SANTE DES LILAS"))
    exact = ids_of(api.bundle("/fhir/v2/Organization?name:exact=CENTRE DE SANTE DES LILAS"))
    assert exact and set(exact) <= set(contains) and set(exact) <= set(prefix)
    assert (
        api.bundle("/fhir/v2/Organization?name:exact=centre de sante des lilas")["total"] == 0
    )  # exact is exact
    either = api.bundle("/fhir/v2/Organization?name:contains=lilas,pharmacie&_total=accurate")
    expected = _org_ids(
        api, lambda b: "LILAS" in b.resource.get("name", "") or "PHARMACIE" in b.resource.get("name", "")
    )
    assert either["total"] == len(expected)
    family = ids_of(api.bundle("/fhir/v2/Practitioner?family=LEMAIRE&given=CAMILLE"))
    assert len(family) == 1


def test_mailbox_exact_contains_and_the_o1_index(api: Api) -> None:
    exact = api.bundle(f"/fhir/v2/PractitionerRole?mailbox-mss:exact={DOCTOR_MAILBOX}")
    assert [
        r.id for r in api.directory().by_mailbox(DOCTOR_MAILBOX) if r.type == "PractitionerRole"
    ] == ids_of(exact)
    domain = api.bundle("/fhir/v2/Organization?mailbox-mss:contains=@cds-lilas.mssante.fr")
    assert domain["entry"][0]["resource"]["name"] == "CENTRE DE SANTE DES LILAS"
    assert "total" not in domain  # text searches come without a total, as on the live API
    everyone = api.bundle("/fhir/v2/Practitioner?mailbox-mss:contains=%40&_total=accurate&_count=0")
    with_box = [r for r in api.directory().types["Practitioner"].records if r.built.mailboxes]
    assert everyone["total"] == len(with_box) and "entry" not in everyone or everyone["entry"] == []


def test_postal_code_active_and_last_updated(api: Api) -> None:
    orgs = api.directory().types["Organization"].records
    in_75 = {
        r.id
        for r in orgs
        for a in r.built.resource.get("address", [])
        if a.get("postalCode", "").startswith("75")
    }
    got = api.bundle("/fhir/v2/Organization?address-postalcode=75&_count=1000")
    assert set(ids_of(got)) == in_75
    inactive = api.bundle("/fhir/v2/PractitionerRole?active=false&_total=accurate")
    roles = api.directory().types["PractitionerRole"].records
    assert inactive["total"] == sum(1 for r in roles if r.built.resource["active"] is False) > 0
    some = datetime.fromisoformat(orgs[0].built.resource["meta"]["lastUpdated"])
    day = some.date().isoformat()
    on_day = {
        r.id
        for r in orgs
        if r.updated is not None and r.updated.astimezone(some.tzinfo).date() == some.date()
    }
    assert set(ids_of(api.bundle(f"/fhir/v2/Organization?_lastUpdated={day}&_count=1000"))) == on_day
    assert set(ids_of(api.bundle(f"/fhir/v2/Organization?_lastUpdated=eq{day}&_count=1000"))) == on_day
    later = {r.id for r in orgs if r.updated is not None and r.updated >= some + timedelta(seconds=1)}
    stamp = "gt" + some.isoformat(timespec="seconds")  # "+01:00" must travel percent-encoded
    got_gt = ids_of(api.bundle("/fhir/v2/Organization", params={"_lastUpdated": stamp, "_count": 1000}))
    assert set(got_gt) == later


def test_include_revinclude_and_partof(api: Api) -> None:
    centre = api.bundle(
        f"/fhir/v2/Organization?identifier={CENTRE}&_include=Organization:partof&_revinclude=PractitionerRole:organization"
    )
    kinds = [e["resource"]["resourceType"] for e in centre["entry"]]
    assert kinds[0] == "Organization" and kinds.count("Organization") == 2  # the EG, then its EJ
    assert centre["total"] == 1 and "PractitionerRole" in kinds
    ej = centre["entry"][1]["resource"]
    assert centre["entry"][0]["resource"]["partOf"]["reference"] == f"Organization/{ej['id']}"
    assert [c["code"] for t in ej["type"] for c in t["coding"]] == ["LEGAL-ENTITY"]
    roles = api.bundle("/fhir/v2/PractitionerRole?_include=*&_count=3&active=true")
    included = {e["resource"]["resourceType"] for e in roles["entry"][3:]}
    assert included == {"Practitioner", "Organization"}
    hospitals = api.bundle(
        "/fhir/v2/Organization?_revinclude=HealthcareService:organization,Device:organization&type=SA01"
    )
    assert {e["resource"]["resourceType"] for e in hospitals["entry"]} == {
        "Organization",
        "HealthcareService",
        "Device",
    }


def test_elements_total_count_and_offset(api: Api) -> None:
    subset = api.bundle(f"/fhir/v2/PractitionerRole?mailbox-mss:exact={DOCTOR_MAILBOX}&_elements=telecom")
    resource = subset["entry"][0]["resource"]
    assert set(resource) == {"resourceType", "id", "meta", "telecom"}
    assert {"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue", "code": "SUBSETTED",
            "display": "Resource encoded in summary mode"} in resource["meta"]["tag"]  # fmt: skip
    default = api.bundle("/fhir/v2/Practitioner")
    assert len(default["entry"]) == 50 and default["total"] == api.directory().size["Practitioner"]
    assert "total" not in api.bundle("/fhir/v2/Practitioner?_total=none")
    offset = api.bundle("/fhir/v2/Practitioner?_offset=100&_count=5")
    assert ids_of(offset) == ids_of(default)[:5], "_offset is ignored"


def test_v2_bundle_bytes_and_links(api: Api) -> None:
    r = api.get("/fhir/v2/Practitioner?_count=2")
    assert r.headers["content-type"] == "application/fhir+json;charset=UTF-8"
    text = r.text
    assert re.match(
        r'^\{"resourceType": "Bundle","type": "searchset","id": "[0-9a-f-]{36}","total":\d+,"entry": \[\n\{"fullUrl":"https://',
        text,
    )
    assert "\n" in text and text.count('\n{"fullUrl"') == 2 and '"search"' not in text
    tail = re.search(
        r'\],"link": \[ \{"relation": "next","url": "([^"]+)"\}, \{"relation": "self","url": "([^"]+)"\}\]\}$',
        text,
    )
    assert tail, text[-400:]
    assert tail.group(1).startswith(api.url("/fhir/v2/_page?id=")) and tail.group(2) == api.url(
        "/fhir/v2/Practitioner?_count=2"
    )
    last = api.get(f"/fhir/v2/Practitioner?identifier={DOCTOR}").text
    assert last.endswith(
        f'],"link": [ {{"relation": "self","url": "{api.url(f"/fhir/v2/Practitioner?identifier={DOCTOR}")}"}}]}}'
    )


def test_v1_next_links_and_bare_fhir(api: Api) -> None:
    for base in ("/fhir/v1", "/fhir"):
        first = api.bundle(f"{base}/Organization?_count=10&_format=json")
        nxt = next_link(first)
        assert nxt and re.match(
            re.escape(api.url("/fhir/v1?_getpages="))
            + r"[0-9a-f-]{36}&_pageId=[\w-]+&_format=json&_bundletype=searchset$",
            nxt,
        )
        assert [link["relation"] for link in first["link"]] == ["self", "next"]
        second = api.bundle(nxt)
        assert set(ids_of(first)).isdisjoint(ids_of(second)) and len(ids_of(second)) == 10
        assert second["total"] == first["total"]


def test_post_search_with_a_form_body(api: Api) -> None:
    r = api.https.post(
        "/fhir/v2/Practitioner/_search",
        content=f"identifier={DOCTOR}&_count=10",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 200 and len(r.json()["entry"]) == 1
    not_form = api.https.post("/fhir/v2/Practitioner/_search", json={"identifier": DOCTOR})
    assert not_form.status_code == 400 and not_form.json()["resourceType"] == "OperationOutcome"


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_writes_are_405_with_an_operation_outcome(api: Api, method: str) -> None:
    doctor = ids_of(api.bundle(f"/fhir/v2/Practitioner?identifier={DOCTOR}"))[0]
    r = api.https.request(method, f"/fhir/v2/Practitioner/{doctor}", json={"resourceType": "Practitioner"})
    assert r.status_code == 405 and r.headers["allow"] == "GET, POST"
    assert r.json()["issue"][0]["severity"] == "error"
    create = api.https.post("/fhir/v2/Practitioner", json={"resourceType": "Practitioner"})
    assert create.status_code == 405
    assert api.get(f"/fhir/v2/Practitioner/{doctor}").status_code == 200  # nothing changed


def test_metadata_announces_what_is_answered(api: Api) -> None:
    cs = api.get("/fhir/v2/metadata", headers={"Accept": "application/json"}).json()
    assert (cs["resourceType"], cs["status"], cs["fhirVersion"], cs["format"]) == (
        "CapabilityStatement", "active", "4.0.1", ["application/fhir+json", "json"],
    )  # fmt: skip
    for resource in cs["rest"][0]["resource"]:
        assert [p["name"] for p in resource["searchParam"]] == list(PARAMS[resource["type"]])
        assert [i["code"] for i in resource["interaction"]] == ["search-type", "read"]
    assert api.get("/fhir/metadata").json() == cs


def test_findings_recorded_in_the_journal(api: Api) -> None:
    api.get("/fhir/v1/Practitioner?_offset=10&_count=500")
    entries = api.console.get(
        "/_sandbox/journal", params={"tenant": api.tenant, "service": "annuaire"}
    ).json()
    rules = {f["rule"] for e in entries for f in e["findings"]}
    assert {"ANN-V1", "ANN-OFFSET", "ANN-COUNT-LARGE"} <= rules
    assert entries[0]["operation"] == "search Practitioner" and entries[0]["caller"] == "tests"
