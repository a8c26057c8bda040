"""`patientCertif` (TD0.0, the INS from the Carte Vitale): "disponible jusqu'au 30/09/2023"
(PDT-INF-526 note 11), retired since. The service answers every call as CXF does for an operation
it no longer has: `soap:Sender` "No such operation: identityCertification" [inferred: which of
CXF's answers the DMP gives for its retired services is not public]. TD1.5a/b/d were removed from
PatientsSpecific.wsdl in v2.01.04: see dmp.endpoints.specific.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lxml import etree

from dmp import errors
from dmp.endpoints import Endpoint, Operation
from mocks.harness import Reply

if TYPE_CHECKING:
    from dmp.flow import Context


def retired(ctx: Context) -> Reply:
    ctx.ex.operation = "TD0.0"
    errors.fail("retired", "retired (TD0.0)", operation=etree.QName(ctx.payload).localname)


ENDPOINT = Endpoint(
    "patientCertif",
    {},
    catch_all=Operation(
        "identityCertification",
        ("", "urn:si-dmp-patients:PatientCertifEndPoint:identityCertification"),
        "urn:si-dmp-patients:PatientCertifEndPoint:identityCertificationResponse",
        "urn:si-dmp-patients",
        retired,
    ),
)
