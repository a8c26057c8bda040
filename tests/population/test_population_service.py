"""The world in the store (generated once, shared, regenerated on a new seed), the control API
and the CLI."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import httpx

from mocks.cli import main
from mocks.kernel import Sandbox
from mocks.testing import make_config

SIZES = {"population_households": 40, "population_professionals": 10, "population_structures": 4}


def test_generated_once_then_read_and_regenerated_for_another_seed(tmp_path: Path) -> None:
    first = Sandbox(make_config(tmp_path, **SIZES)).population
    world = first.ensure()
    assert first.generated_in > 0
    again = Sandbox(make_config(tmp_path, **SIZES)).population
    assert again.ensure() is not world and again.generated_in == 0  # read from the store
    assert [p.ins for p in again.patients()] == [p.ins for p in first.patients()]
    other = Sandbox(make_config(tmp_path, seed=99, **SIZES)).population
    other.ensure()
    assert other.generated_in > 0
    assert [p.ins for p in other.patients()] != [p.ins for p in first.patients()]


def test_lookups(tmp_path: Path) -> None:
    pop = Sandbox(make_config(tmp_path, **SIZES)).population
    ecetinsi = pop.patient("insi-ecetinsi-pierre-alain")
    assert ecetinsi is not None
    assert pop.by_matricule("109076322083489") is ecetinsi  # with the key
    assert pop.by_matricule("2090763220834") is ecetinsi  # historic
    assert [p.id for p in pop.by_traits("NESSI", "F", "1977-07-14")] == ["insi-nessi-nathalie"]
    sophie = pop.patient("demo-girard-sophie")
    assert sophie is not None
    card = pop.card(sophie.matricule)
    assert card is not None and card.apcv and len(card.beneficiaries) == 3
    gp = pop.professional("899700366240")
    assert gp is not None and all(pop.structure(a.structure_id) for a in gp.activities)
    assert pop.professional("800000000000") is None
    assert pop.search("DOC0042788")["professionals"][0].id_nat == "899700427885"


def test_control_api(console: httpx.Client) -> None:
    summary = console.get("/_sandbox/personas/").json()
    assert summary["counts"]["patients"] > 100
    assert any(p["id"] == "insi-adrtrois-toussaint" for p in summary["personas"]["patients"])
    found = console.get("/_sandbox/personas/search", params={"q": "160012B02077713"}).json()
    assert [p["nom"] for p in found["patients"]] == ["ADRTROIS"]
    assert found["patients"][0]["mss_address"] == "160012B02077713@patient.mssante.fr"
    assert console.get("/_sandbox/personas/professionals/899700427885").json()["nom"] == "DOC0042788"
    missing = console.get("/_sandbox/personas/professionals/800000000000")
    assert missing.status_code == 404 and "800000000000" in missing.json()["error"]
    assert console.get("/_sandbox/personas/search").status_code == 400
    assert console.get("/_sandbox/personas/export/dogs").status_code == 404
    exported = console.get("/_sandbox/personas/export/structures", params={"format": "csv"})
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert exported.headers["content-type"].startswith("text/csv") and len(rows) > 10
    assert {"id_nat", "name", "secteur"} <= set(rows[0])


def test_cli_search(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert (
        main(["personas", "search", "TCHITCHI", "--data-dir", str(tmp_path), "--population-households", "10"])
        == 0
    )
    out = capsys.readouterr().out
    assert "236066322083656" in out and "TCHITCHI CATARINA BELLA" in out
