"""Annuaire Santé as mounted in the sandbox: one HTTPS listener (IGC-Santé server TLS, no client
certificate) for what the real platform spreads over three hosts — the FHIR API of the gateway
(`/fhir/v2`, `/fhir/v1`, `/fhir`), the extraction file of service.annuaire.sante.fr and the liste
blanche of espacedeconfiance.mssante.fr with the CA chain (research mssante.md 1.2, 1.6, 1.7).
Requests go through the kernel harness, then annuaire.flow. See docs/services/annuaire.md.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

from annuaire import auth, extraction, listeblanche, paging, rules
from annuaire.checks import RULES
from annuaire.directory import directory_for
from annuaire.errors import ERRORS
from annuaire.flow import CA_CHAIN_PATH, Flow
from annuaire.wire import AnnuaireProtocol
from mocks.config import Setting
from mocks.harness import endpoint
from mocks.service import Listener, Service, TlsPolicy
from mocks.store import Migration

if TYPE_CHECKING:
    from mocks.kernel import Sandbox

log = logging.getLogger("segur.annuaire")

NAME = "annuaire"
TITLE = "Annuaire Santé (API FHIR, extraction MSSanté, liste blanche)"
SETTINGS = [
    Setting(
        "annuaire_port", 4640, "Annuaire Santé listener (FHIR API v2/v1, extraction, liste blanche)", "port"
    ),
    Setting(
        "annuaire_api_keys",
        "",
        "ESANTE-API-KEY values valid in every tenant, comma separated (others: POST /_sandbox/annuaire/keys)",
    ),
    Setting(
        "annuaire_rate_limit",
        17,
        "calls per second per API key before 429 (the gateway's 17; 0: no limit)",
        "int",
    ),
    Setting("annuaire_page_lifetime", 3600, "seconds a next link stays valid (then 410 Gone)", "int"),
    Setting(
        "annuaire_listeblanche_real",
        "",
        "path of a real ListeBlancheMSSante XML whose domains are added to the sandbox's (empty: sandbox domains only)",
    ),
]
OPERATIONS = [
    "metadata",
    *(
        f"search {kind}"
        for kind in ("Practitioner", "PractitionerRole", "Organization", "HealthcareService", "Device")
    ),
    *(
        f"read {kind}"
        for kind in ("Practitioner", "PractitionerRole", "Organization", "HealthcareService", "Device")
    ),
    "page",
    "extraction",
    "listeblanche",
    "checksum",
    "ca-chain",
]
__all__ = ["ERRORS", "NAME", "OPERATIONS", "RULES", "SETTINGS", "TITLE", "create"]


class Annuaire(Service):
    name = NAME
    title = TITLE

    def __init__(self, sandbox: Sandbox):
        super().__init__(sandbox)
        self.keys = auth.Keys(sandbox)
        self.options = rules.Options(sandbox)
        self.pages = paging.Pages(sandbox, int(sandbox.config["annuaire_page_lifetime"]))
        self.flow = Flow(sandbox, self.pages, self.keys, self.options)
        self.protocol = AnnuaireProtocol()
        self.app = endpoint(self.flow.handle)

    def migrations(self) -> Sequence[Migration]:
        return [*paging.MIGRATIONS, *auth.MIGRATIONS, *rules.MIGRATIONS]

    def start(self) -> None:
        # index the world now, without delaying "Ready." (a first request waits for it)
        threading.Thread(target=self._warm, name="annuaire-warm", daemon=True).start()

    def _warm(self) -> None:
        try:
            directory_for(self.sandbox)
        except Exception:  # noqa: BLE001 - the first request will report it
            log.exception("Annuaire: indexing the world failed")

    def listeners(self) -> list[Listener]:
        return [
            Listener(
                name="annuaire",
                port_setting="annuaire_port",
                scheme="https",
                app=self.app,
                tls=TlsPolicy(client_auth="none"),
                description="Annuaire Santé : API FHIR (clé ESANTE-API-KEY), extraction MSSanté, liste blanche",
                paths=["/fhir/v2/metadata", extraction.PATH, listeblanche.PATH, CA_CHAIN_PATH],
                protocol=self.protocol,
                presented=auth.presented,
                max_body=1024 * 1024,
            )
        ]


def create(sandbox: Sandbox) -> Annuaire:
    return Annuaire(sandbox)
