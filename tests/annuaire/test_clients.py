"""Independent clients against the sandbox over real TLS: `annuaire-sante-fhir` (the Annuaire's
PyPI client: search_all paging, mailbox metadata parsing, its error mapping) and `fhirpy` (search
chains: modifiers, include, revinclude, elements, fetch_all following next links)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from annuairesante import (
    AnnuaireSanteClient,
    AuthenticationError,
    NotFoundError,
    ValidationError,
    transform_organization,
    transform_practitioner,
)
from fhirpy import SyncFHIRClient

from tests.annuaire.conftest import CENTRE, DOCTOR, DOCTOR_MAILBOX, Api


@pytest.fixture
def client(api: Api, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> AnnuaireSanteClient:
    # what a user does to trust the IGC-Santé chain with an httpx-based client
    monkeypatch.setenv("SSL_CERT_FILE", str(api.ca))
    monkeypatch.setenv("ANNUAIRE_SANTE_CACHE_DIR", str(tmp_path / "mos"))
    return AnnuaireSanteClient(api_key=api.key, base_url=api.base)


@pytest.fixture
def fhir(api: Api) -> SyncFHIRClient:
    return SyncFHIRClient(
        api.base, extra_headers={"ESANTE-API-KEY": api.key}, requests_config={"verify": str(api.ca)}
    )


def test_search_all_pages_through_every_practitioner(api: Api, client: AnnuaireSanteClient) -> None:
    seen = [p["id"] for p in client.practitioner.search_all(_count=50)]
    expected = sorted(api.directory().ids["Practitioner"])
    assert len(seen) == len(set(seen)), "a practitioner came twice"
    assert sorted(seen) == expected
    assert seen == sorted(seen), "pages follow the technical-id order"


def test_search_all_by_mailbox_domain(api: Api, client: AnnuaireSanteClient) -> None:
    found = list(
        client.practitioner_role.search_all(**{"mailbox-mss:contains": "@medecin.mssante.fr", "_count": 20})
    )
    assert found
    for role in found:
        values = [t["value"] for t in role.get("telecom", [])]
        assert any(v.endswith("@medecin.mssante.fr") for v in values)


def test_mailbox_metadata_parsed_by_the_client(client: AnnuaireSanteClient) -> None:
    bundle = client.practitioner.search(identifier=DOCTOR[1:])
    assert len(bundle) == 1
    practitioner = transform_practitioner(bundle.entries[0])
    assert practitioner.identifiers.rpps == DOCTOR[1:]
    assert practitioner.identifiers.idnps == DOCTOR
    [box] = practitioner.contacts.mssante
    assert (box.email, box.type, box.digitization) == (DOCTOR_MAILBOX, "PER", True)
    assert practitioner.smartcards and practitioner.smartcards[0].type == "CPS"
    again = client.practitioner.get(bundle.entries[0]["id"])
    assert again["id"] == bundle.entries[0]["id"]


def test_organisation_mailboxes_parsed_by_the_client(client: AnnuaireSanteClient) -> None:
    bundle = client.organization.search(identifier=f"urn:oid:1.2.250.1.71.4.2.2|{CENTRE}")
    org = transform_organization(bundle.entries[0])
    kinds = {box.type: box.email for box in org.contacts.mssante}
    assert kinds == {"ORG": "secretariat@cds-lilas.mssante.fr", "APP": "lgc@cds-lilas.mssante.fr"}


def test_client_error_mapping(api: Api, client: AnnuaireSanteClient) -> None:
    with pytest.raises(NotFoundError):
        client.practitioner.get("003-0000000-0000000")
    with pytest.raises(ValidationError, match="mailbox-mss-type not found"):
        client.practitioner.search(**{"mailbox-mss-type": "PER"})
    bad = AnnuaireSanteClient(api_key="not-a-key", base_url=api.base)
    with pytest.raises(AuthenticationError):
        bad.practitioner.search()


def test_fhirpy_identifier_and_exact_mailbox(fhir: SyncFHIRClient) -> None:
    by_rpps = (
        fhir.resources("Practitioner").search(identifier=f"https://rpps.esante.gouv.fr|{DOCTOR[1:]}").first()
    )
    assert by_rpps is not None and by_rpps["identifier"][0]["value"] == DOCTOR
    by_box = fhir.resources("Practitioner").search(mailbox_mss__exact=DOCTOR_MAILBOX.upper()).fetch()
    assert [p["id"] for p in by_box] == [by_rpps["id"]]


def test_fhirpy_include_and_revinclude(fhir: SyncFHIRClient) -> None:
    doctor = fhir.resources("Practitioner").search(identifier=DOCTOR).first()
    bundle = (
        fhir.resources("PractitionerRole")
        .search(practitioner=f"Practitioner/{doctor['id']}")
        .include("PractitionerRole", "organization")
        .fetch_raw()
    )
    kinds = sorted(e["resource"]["resourceType"] for e in bundle["entry"])
    assert kinds == ["Organization", "Organization", "PractitionerRole", "PractitionerRole"]
    names = {
        e["resource"]["name"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Organization"
    }
    assert "CENTRE DE SANTE DES LILAS" in names
    rev = (
        fhir.resources("Practitioner")
        .search(_id=doctor["id"])
        .revinclude("PractitionerRole", "practitioner")
        .fetch_raw()
    )
    assert sorted(e["resource"]["resourceType"] for e in rev["entry"]) == [
        "Practitioner",
        "PractitionerRole",
        "PractitionerRole",
    ]


def test_fhirpy_fetch_all_elements_and_dates(api: Api, fhir: SyncFHIRClient) -> None:
    everyone = fhir.resources("Organization").search(active="true").limit(25).fetch_all()
    active = [r for r in api.directory().types["Organization"].records if r.built.resource.get("active")]
    assert len(everyone) == len(active)
    names = fhir.resources("Practitioner").search(name__contains="lema").elements("name").fetch()
    assert names and all(set(p) <= {"resourceType", "id", "meta", "name"} for p in names)
    assert all(any(t["code"] == "SUBSETTED" for t in p["meta"]["tag"]) for p in names)
    recent = fhir.resources("Practitioner").search(_lastUpdated="ge2025-10-01").limit(200).fetch_all()
    assert recent and all(p["meta"]["lastUpdated"] >= "2025-10-01" for p in recent)


def test_plain_httpx_without_trust_fails_the_tls_handshake(api: Api) -> None:
    """Like production, the chain is IGC-Santé's (here our TEST one), not a public CA."""
    with pytest.raises(httpx.ConnectError):
        httpx.get(api.base + "/metadata", headers={"ESANTE-API-KEY": api.key})
