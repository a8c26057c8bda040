"""The files: the extraction ZIP read by a 31-column reader, the liste blanche read the way the
`mssantelisteblanche` client reads it (CA chain p7b -> openssl -> requests with that chain ->
XPath `//Domaine/Nom`), its checksum, the inconsistency fault (an address in the extraction but
not in FHIR), and real public domains added from a real list (a dedicated runner)."""

from __future__ import annotations

import csv
import hashlib
import io
import subprocess
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import requests
from lxml import etree

from annuaire.extraction import COLUMNS
from mocks.runner import Runner
from mocks.testing import make_config
from tests.annuaire.conftest import DOCTOR, DOCTOR_MAILBOX, SPECS, Api, make_api

EXTRACTION = "/annuaire-sante-webservices/V300/services/extraction/Extraction_Correspondance_MSSante"
NS = {"n": "https://listeblanche.mssante.fr/schema"}


def read_extraction(data: bytes) -> tuple[str, list[dict[str, str]]]:
    """A 31-column reader, as the LGCs' scripts parse the file (`|`, UTF-8, one header line)."""
    archive = zipfile.ZipFile(io.BytesIO(data))
    [name] = archive.namelist()
    text = archive.read(name).decode("utf-8")
    reader = csv.reader(io.StringIO(text), delimiter="|", quoting=csv.QUOTE_NONE)
    header = next(reader)
    assert len(header) == 31
    rows = []
    for row in reader:
        assert len(row) == 31, row
        rows.append(dict(zip(header, row, strict=True)))
    return name, rows


def test_extraction_has_the_31_columns_and_the_world(api: Api) -> None:
    r = httpx.get(api.url(EXTRACTION), verify=str(api.ca))  # free access: no API key
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    name, rows = read_extraction(r.content)
    assert name == "Extraction_Correspondance_MSSante_202601010000.txt"
    assert list(rows[0]) == list(COLUMNS)
    assert {row["Type de BAL"] for row in rows} == {"PER", "ORG"}
    population = api.runner.sandbox.population
    assert sum(1 for p in population.professionals() if p.mss_address) == sum(
        1 for r in rows if r["Type de BAL"] == "PER"
    )
    doctor = next(row for row in rows if row["Adresse BAL"] == DOCTOR_MAILBOX)
    assert (
        doctor["Identifiant PP"],
        doctor["Identification nationale PP"],
        doctor["Type Identifiant PP"],
    ) == (DOCTOR[1:], DOCTOR, "8")
    assert (doctor["Nom d'exercice"], doctor["Code Profession"], doctor["Dématérialisation"]) == (
        "LEMAIRE",
        "10",
        "true",
    )
    assert doctor["Code postal structure BAL"] == "75011"
    again = httpx.get(api.url(EXTRACTION), verify=str(api.ca)).content
    assert again == r.content, "same world, same bytes"


def test_liste_blanche_read_like_the_mssantelisteblanche_client(api: Api, tmp_path: Path) -> None:
    # the client fetches the CA chain first (here over the same listener: the bootstrap trusts nothing yet)
    p7b = requests.get(api.url("/AC/Chaine_de_certification-IGC-Sante.p7b"), verify=False, timeout=30)
    assert p7b.status_code == 200
    pem = subprocess.run(
        ["openssl", "pkcs7", "-print_certs", "-outform", "PEM", "-text", "-in", "-", "-inform", "DER"],
        input=p7b.content, capture_output=True, check=True,
    ).stdout  # fmt: skip
    ca = tmp_path / "ca_igc_sante.pem"
    ca.write_bytes(pem)
    resp = requests.get(api.url("/listeblanchemssante.xml"), verify=str(ca), timeout=30)
    root = etree.fromstring(resp.content)
    domains = [d.strip() for d in root.xpath("//n:Domaine/n:Nom/text()", namespaces=NS) if d.strip()]
    expected = {s.mss_domain for s in api.runner.sandbox.population.structures() if s.mss_domain}
    assert expected <= set(domains)
    assert {"medecin.mssante.fr", "patient.mssante.fr", "cds-lilas.mssante.fr"} <= set(domains)
    first = root.find("n:ListeDomaines/n:Domaine", NS)
    assert [etree.QName(c).localname for c in first] == [
        "Nom", "Description", "DNCertificatOperateur", "ResponsableContact", "SupportContact", "DateMAJ",
    ]  # fmt: skip
    assert first.findtext("n:DNCertificatOperateur", namespaces=NS).startswith("CN=localhost,")
    assert resp.content.startswith(
        b'<?xml version="1.0" encoding="UTF-8"?><ListeBlancheMSSante xmlns="https://listeblanche.mssante.fr/schema">\n'
    )
    checksum = requests.get(api.url("/checksum"), verify=str(ca), timeout=30).content
    assert checksum == hashlib.sha256(resp.content).hexdigest().encode()


def test_the_inconsistency_fault(api: Api) -> None:
    directory = api.directory()
    hidden = next(r for r in directory.types["Practitioner"].records if r.hidden)
    address = hidden.hidden[0]
    assert api.bundle(f"/fhir/v2/Practitioner?mailbox-mss:exact={address}")["total"] == 1
    api.options(inconsistency=True)
    assert api.bundle(f"/fhir/v2/Practitioner?mailbox-mss:exact={address}")["total"] == 0
    read = api.get(f"/fhir/v2/Practitioner/{hidden.id}").json()
    assert address not in str(read) and read["identifier"]
    _, rows = read_extraction(httpx.get(api.url(EXTRACTION), verify=str(api.ca)).content)
    assert address in {row["Adresse BAL"] for row in rows}, "the extraction still lists it"
    api.options(inconsistency=False)
    assert address in str(api.get(f"/fhir/v2/Practitioner/{hidden.id}").json())


@pytest.fixture(scope="module")
def real_list_runner(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runner]:
    real = SPECS / "mssante" / "listeblanchemssante.xml"
    config = make_config(
        tmp_path_factory.mktemp("annuaire-real"), services="annuaire", annuaire_listeblanche_real=str(real)
    )
    runner = Runner(config)
    runner.start()
    yield runner
    runner.stop()


def test_real_public_domains_are_added_on_request(real_list_runner: Runner) -> None:
    with (
        httpx.Client(base_url=real_list_runner.url("console"), timeout=30) as console,
        tempfile.TemporaryDirectory() as tmp,
    ):
        api = make_api(real_list_runner, console, Path(tmp))
        root = etree.fromstring(api.get("/listeblanchemssante.xml").content)
        names = root.xpath("//n:Domaine/n:Nom/text()", namespaces=NS)
        real = etree.fromstring(
            (SPECS / "mssante" / "listeblanchemssante.xml").read_bytes(), etree.XMLParser(recover=True)
        )
        real_names = real.xpath("//n:Domaine/n:Nom/text()", namespaces=NS)
        assert len(names) == len(real_names) + len(set(names) - set(real_names))
        assert "aphp.mssante.fr" in names and "medecin.mssante.fr" in names
