"""Personas from sandbox.population (whatever object it returns: attributes or a mapping)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

from mocks.kernel import Sandbox
from mocks.pki import UnknownPersona

from .support import PkiEnv


@dataclass
class FakePro:
    id_nat: str
    first_name: str
    last_name: str
    profession_code: str
    cps_card: str = "2800636234"


class FakePopulation:
    def __init__(self) -> None:
        self.pros = {"810000000017": FakePro("810000000017", "Jeanne", "Martin", "40")}
        self.structures: dict[str, dict[str, Any]] = {
            "10B0152872": {
                "id_nat": "10B0152872",
                "name": "CENTRE DE SANTE RPPS15287",
                "locality": "Rhône (69)",
                "certificate_state": "revoked",
            },
            "10B0000017": {
                "id_nat": "10B0000017",
                "name": "MSP DU LAC",
                "locality": "",
                "address": {"ville": "ANNECY", "departement": "74"},
            },
        }

    def professional(self, persona: str) -> FakePro | None:
        return self.pros.get(persona)

    def structure(self, persona: str) -> dict[str, Any]:
        if persona not in self.structures:
            raise KeyError(persona)
        return self.structures[persona]


def test_credentials_for_population_personas(pki_env: PkiEnv) -> None:
    sandbox = Sandbox(pki_env.sandbox.config)
    sandbox.__dict__["population"] = FakePopulation()  # what the cached property would hold
    sandbox.bound_ports.update(pki_env.sandbox.bound_ports)
    pki = sandbox.pki
    cps = x509.load_pem_x509_certificate(pki.credentials("810000000017", "cps_auth").cert_pem)
    assert cps.subject.get_attributes_for_oid(NameOID.TITLE)[0].value == "Chirurgien-Dentiste"
    assert cps.subject.get_attributes_for_oid(NameOID.SURNAME)[0].value == "MARTIN"
    card = cps.extensions.get_extension_for_oid(x509.ObjectIdentifier("1.2.250.1.71.1.2.3")).value
    assert card.public_bytes() == b"\x13\x158025000001/2800636234"
    lake = pki.credentials("10B0000017", "org_sign").subject
    assert lake == "CN=LGC SEGUR SANDBOX,OU=10B0000017,O=MSP DU LAC,ST=Annecy (74),C=FR"
    creds = pki.credentials("10B0152872", "insi_auto")
    assert creds.subject == "CN=INSI-AUTO,OU=10B0152872,O=CENTRE DE SANTE RPPS15287,ST=Rhône (69),C=FR"
    assert creds.revoked_at is not None  # a magic persona of the population
    with pytest.raises(UnknownPersona):
        pki.credentials("10B0000000", "insi_auto")
    with pytest.raises(UnknownPersona):
        pki.credentials("810000000099", "cps_sign")
