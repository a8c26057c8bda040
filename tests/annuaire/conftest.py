"""Annuaire fixtures: the shared in-process sandbox, a fresh tenant per test with its own API key
(its requests land in that tenant), an HTTPS client trusting the sandbox's TEST roots, and
helpers to read the world the directory was built from."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from annuaire.directory import Directory, directory_for
from mocks.runner import Runner

SPECS = Path(__file__).resolve().parents[2].parent / "shared" / "specs"
IG = SPECS / "annuaire" / "ig-examples"
DOCTOR = "810100000016"  # demo persona Dr Camille LEMAIRE (RPPS 10100000016)
DOCTOR_MAILBOX = "camille.lemaire@medecin.mssante.fr"
CENTRE = "1750000010"  # demo CENTRE DE SANTE DES LILAS (FINESS 750000010)


@dataclass
class Api:
    runner: Runner
    console: httpx.Client
    tenant: str
    key: str
    https: httpx.Client  # base_url = the annuaire listener, ESANTE-API-KEY set
    ca: Path

    @property
    def base(self) -> str:
        return self.runner.url("annuaire", "/fhir/v2")

    def url(self, path: str = "") -> str:
        return self.runner.url("annuaire", path)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.https.get(path, **kwargs)

    def bundle(self, path: str, **kwargs: Any) -> dict[str, Any]:
        r = self.https.get(path, **kwargs)
        assert r.status_code == 200, r.text
        data: dict[str, Any] = r.json()
        assert data["resourceType"] == "Bundle", data
        return data

    def control(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.console.request(
            method, "/_sandbox/annuaire" + path, params={"tenant": self.tenant}, **kwargs
        )

    def options(self, **changes: Any) -> dict[str, Any]:
        r = self.control("PUT", "/options", json=changes)
        assert r.status_code == 200, r.text
        return dict(r.json())

    def directory(self) -> Directory:
        return directory_for(self.runner.sandbox)


def ids_of(bundle: dict[str, Any], kind: str | None = None) -> list[str]:
    return [
        e["resource"]["id"]
        for e in bundle.get("entry", [])
        if kind is None or e["resource"]["resourceType"] == kind
    ]


def next_link(bundle: dict[str, Any]) -> str | None:
    return next((link["url"] for link in bundle.get("link", []) if link["relation"] == "next"), None)


def make_api(runner: Runner, console: httpx.Client, tmp: Path, rate_limit: int | None = 0) -> Api:
    tenant = "t-" + uuid.uuid4().hex[:12]
    console.post("/_sandbox/tenants", json={"id": tenant}).raise_for_status()
    created = console.post("/_sandbox/annuaire/keys", params={"tenant": tenant}, json={"label": "tests"})
    assert created.status_code == 201, created.text
    key = created.json()["key"]
    if rate_limit is not None:  # most tests page freely; the rate-limit tests set it back
        r = console.put(
            "/_sandbox/annuaire/options", params={"tenant": tenant}, json={"rate_limit": rate_limit}
        )
        assert r.status_code == 200, r.text
    ca = tmp / "ca.pem"
    if not ca.exists():
        ca.write_bytes(runner.sandbox.pki.ca_bundle())
    https = httpx.Client(
        base_url=runner.url("annuaire"), verify=str(ca), headers={"ESANTE-API-KEY": key}, timeout=60
    )
    return Api(runner, console, tenant, key, https, ca)


@pytest.fixture(scope="session")
def annuaire_ca(running_sandbox: Runner, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("annuaire-ca")
    (folder / "ca.pem").write_bytes(running_sandbox.sandbox.pki.ca_bundle())
    return folder


@pytest.fixture
def api(running_sandbox: Runner, console: httpx.Client, annuaire_ca: Path) -> Iterator[Api]:
    found = make_api(running_sandbox, console, annuaire_ca)
    yield found
    found.https.close()
    console.delete(f"/_sandbox/tenants/{found.tenant}")
