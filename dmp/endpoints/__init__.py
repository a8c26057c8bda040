"""One module per WSDL service of the DMP (contract v2.01.04, ../shared/specs/dmp/contract/wsdl):

    patients          GestionDossierPatientPartage.wsdl  TD0.2, TD1.1, TD1.2, TD1.3a, TD1.3b, TD1.4
    patientsPDQ       PDQSupplier.wsdl                   TD0.5
    patientsSpecific  PatientsSpecific.wsdl              TD0.4 (TD1.5a/b/d retired in v2.01.04)
    habilitations     Habilitations.wsdl                 TD0.3, TD1.6
    patientCertif     patientCertif.wsdl                 TD0.0, retired
    registry          XDS.b_DocumentRegistry.wsdl        TD3.1, TD3.3
    repository        XDS.b_DocumentRepository.wsdl      TD2.1, TD2.2, TD3.2

An `Endpoint` maps the Clark name of a body element to an `Operation` (the accepted request
actions, the answer's WS-Addressing action, the `ns1` namespace of the answer's envelope).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from lxml import etree

from mocks.harness import Reply

if TYPE_CHECKING:
    from dmp.flow import Context


@dataclass(frozen=True)
class Operation:
    name: str  # the WSDL operation
    actions: tuple[str, ...]  # request actions accepted (WSDL wsaw:Action / soapAction, CXF default)
    response_action: str
    ns1: str  # declared as ns1 on the answer's envelope
    handler: Callable[[Context], Reply]


@dataclass(frozen=True)
class Endpoint:
    name: str  # the path suffix
    operations: dict[str, Operation]  # Clark name of the body element -> operation
    retired: dict[str, str] = field(default_factory=dict)  # Clark name -> TD label (journal)
    catch_all: Operation | None = None  # answers any body (a retired service)

    def operation(self, payload: etree._Element) -> Operation | None:
        q = etree.QName(payload)
        return self.operations.get(f"{{{q.namespace}}}{q.localname}") or self.catch_all


def endpoints() -> dict[str, Endpoint]:
    from dmp.endpoints import habilitations, patients, pdq, registry, repository, retired, specific

    found = [
        patients.ENDPOINT,
        pdq.ENDPOINT,
        specific.ENDPOINT,
        habilitations.ENDPOINT,
        retired.ENDPOINT,
        registry.ENDPOINT,
        repository.ENDPOINT,
    ]
    return {e.name: e for e in found}
