"""The DMP (Dossier Médical Partagé) as an LGC meets it: one HTTPS listener, TLS 1.2 only with the
four suites of PDT-INF-579v4 and a client certificate required, SOAP 1.2 services under
`/si-dmp-server/v2/services/` (patients, patientsPDQ, patientsSpecific, habilitations, registry,
repository, patientCertif). The request flow is dmp.flow; the VIHF dmp.vihf; the caller dmp.auth;
the rights matrix dmp.rights; the patients' DMP state dmp.state; answers dmp.wire / dmp.protocol.
Research: ../shared/research/dmp.md. Documents (part 2): the store dmp.documents (ebRIM read by
dmp.metadata), ITI-41 feeding dmp.provide, ITI-43 retrieval dmp.retrieve, ITI-18 queries
dmp.registry, ITI-57 updates dmp.updates, the seeded documents dmp.seed; the TD0.9 Web PS page
dmp.webps.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from dmp import documents, flow, state, webps
from dmp.checks import RULES
from dmp.endpoints import endpoints
from dmp.errors import ERRORS
from dmp.protocol import DmpProtocol
from mocks.config import ConfigError, Setting
from mocks.harness import Reply, endpoint
from mocks.pki.tls import ANS_LPS_TLS12_CIPHERS
from mocks.service import Listener, Service, TlsPolicy
from mocks.store import Migration

if TYPE_CHECKING:
    from mocks.kernel import Exchange, Sandbox

NAME = "dmp"
TITLE = "DMP (Dossier Médical Partagé)"
MAX_BODY = flow.MAX_BODY  # [inferred] see dmp.flow

SETTINGS = [
    Setting("dmp_port", 4620, "DMP listener (mTLS, TLS 1.2, PDT-INF-579 suites)", "port"),
    Setting(
        "dmp_ins_oid_family",
        "test",
        "INS OID the DMP expects and answers: test (1.2.250.1.213.1.4.10, the DMP test platforms) or production (.8)",
    ),
    Setting("dmp_vihf_lifetime", 3600, "seconds a VIHF stays valid after its IssueInstant [inferred]", "int"),
    Setting(
        "dmp_seed_documents",
        True,
        "give every tenant the seeded documents of a few generated patients (dmp/seed.py), made on first read",
        "bool",
    ),
    Setting(
        "dmp_homologation",
        "",
        "known LPS_ID_HOMOLOGATION_DMP numbers, comma separated; empty: any non-empty value",
    ),
]
OPERATIONS = [
    "TD0.0",
    "TD0.1",
    "TD0.2",
    "TD0.3",
    "TD0.4",
    "TD0.5",
    "TD0.9",
    "TD1.1",
    "TD1.2",
    "TD1.3a",
    "TD1.3b",
    "TD1.4",
    "TD1.5a",
    "TD1.5b",
    "TD1.5d",
    "TD1.6",
    "TD2.1",
    "TD3.1",
    "TD3.2",
    "TD3.3",
    *endpoints(),  # before the operation is known: the service path (patients, registry...)
]
PATHS = [f"{flow.BASE}{name}" for name in endpoints()] + [webps.PATH]
__all__ = ["ERRORS", "NAME", "OPERATIONS", "RULES", "SETTINGS", "TITLE", "create"]


class Dmp(Service):
    name = NAME
    title = TITLE

    def __init__(self, sandbox: Sandbox):
        super().__init__(sandbox)
        self.protocol = DmpProtocol()
        self.endpoints = endpoints()
        self.sessions: weakref.WeakSet[Any] = weakref.WeakSet()  # TLS connections seen (TD0.1)

    def migrations(self) -> Sequence[Migration]:
        return [*state.MIGRATIONS, *documents.MIGRATIONS]

    def start(self) -> None:
        if self.sandbox.config["dmp_ins_oid_family"] not in flow.INS_OIDS:
            raise ConfigError(f"dmp_ins_oid_family: one of {', '.join(flow.INS_OIDS)}")

    def listeners(self) -> list[Listener]:
        return [
            Listener(
                name="dmp",
                port_setting="dmp_port",
                scheme="https",
                app=endpoint(self.handle),
                tls=TlsPolicy(
                    client_auth="required",
                    ciphers=ANS_LPS_TLS12_CIPHERS,
                    minimum_version="TLSv1.2",
                    maximum_version="TLSv1.2",
                ),
                description="DMP, services web LPS (certificat CPx ou ORG AUTH_CLI, VIHF)",
                paths=PATHS,
                protocol=self.protocol,
                max_body=MAX_BODY,
            )
        ]

    def handle(self, ex: Exchange, environ: dict[str, Any]) -> Reply:
        if environ.get("PATH_INFO") == webps.PATH:  # TD0.9, a page for the browser
            return webps.handle(self.sandbox, self.protocol, self.sessions, ex, environ)
        return flow.handle(self.sandbox, self.protocol, self.endpoints, self.sessions, ex, environ)


def create(sandbox: Sandbox) -> Dmp:
    return Dmp(sandbox)
