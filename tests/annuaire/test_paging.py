"""Paging consistency over a world of 20,000 practitioners (a dedicated runner with raised
`population_professionals`): walking the next links in pages of 50 and of 200 yields every
practitioner exactly once, in technical-id order. And next links survive a restart (they live in
the store): a link handed out by one process is served by the next one on the same data folder."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from annuaire.directory import directory_for
from mocks.runner import Runner
from mocks.testing import make_config
from tests.annuaire.conftest import next_link

ID = re.compile(rb'"fullUrl":"[^"]+/Practitioner/(003-\d+-\d+)"')


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Runner, httpx.Client]]:
    folder = tmp_path_factory.mktemp("annuaire-20k")
    config = make_config(
        folder, services="annuaire", population_professionals=20000, population_households=10,
        population_structures=400, annuaire_api_keys="paging-test-key", annuaire_rate_limit=0,
    )  # fmt: skip
    runner = Runner(config)
    runner.start()
    (folder / "ca.pem").write_bytes(runner.sandbox.pki.ca_bundle())
    client = httpx.Client(
        base_url=runner.url("annuaire"),
        verify=str(folder / "ca.pem"),
        headers={"ESANTE-API-KEY": "paging-test-key"},
        timeout=60,
    )
    yield runner, client
    client.close()
    runner.stop()


@pytest.mark.slow
@pytest.mark.parametrize("size", [50, 200])
def test_no_duplicate_and_no_missing_practitioner(big: tuple[Runner, httpx.Client], size: int) -> None:
    runner, client = big
    expected = sorted(directory_for(runner.sandbox).ids["Practitioner"])
    assert len(expected) > 20000
    seen: list[str] = []
    url: str | None = f"/fhir/v2/Practitioner?_count={size}"
    pages = 0
    while url:
        r = client.get(url)
        assert r.status_code == 200, r.text
        seen += [m.decode() for m in ID.findall(r.content)]
        pages += 1
        found = re.search(rb'\{"relation": "next","url": "([^"]+)"\}', r.content)
        url = found.group(1).decode() if found else None
    assert pages == -(-len(expected) // size)
    assert len(seen) == len(set(seen)), "a practitioner came twice"
    assert seen == expected, "a practitioner is missing, or the order moved"


def test_next_links_survive_a_restart(tmp_path: Path) -> None:
    config = make_config(tmp_path, services="annuaire", annuaire_api_keys="restart-key")
    ca = tmp_path / "ca.pem"
    first = Runner(config)
    first.start()
    try:
        ca.write_bytes(first.sandbox.pki.ca_bundle())
        with httpx.Client(verify=str(ca), headers={"ESANTE-API-KEY": "restart-key"}) as client:
            bundle = client.get(first.url("annuaire", "/fhir/v2/Organization?_count=7")).json()
            link = next_link(bundle)
            assert link
            expected = client.get(link).json()
    finally:
        first.stop()
    second = Runner(make_config(tmp_path, services="annuaire", annuaire_api_keys="restart-key"))
    second.start()
    try:
        port = second.sandbox.port("annuaire")
        moved = re.sub(r"localhost:\d+", f"localhost:{port}", link)  # ephemeral ports: same link, new port
        with httpx.Client(verify=str(ca), headers={"ESANTE-API-KEY": "restart-key"}) as client:
            again = client.get(moved).json()
        assert [e["resource"]["id"] for e in again["entry"]] == [
            e["resource"]["id"] for e in expected["entry"]
        ]
    finally:
        second.stop()
