"""A zeep client generated from the official WSDLs (v2.01.04), over mutual TLS with our CPS
certificate, a VIHF of ours in wsse:Security and zeep's WS-Addressing plugin: what an LGC built
from the contract sends is answered, and zeep reads the answers into the WSDL's types."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import requests
from zeep import Client, Settings
from zeep.transports import Transport
from zeep.wsa import WsAddressingPlugin

from tests.dmp.schemas import CONTRACT
from tests.dmp.support import PATIENT, WSSE, vihf
from tests.insi.clients import OfflineTransport


def _client(wsdl: str, binding: str, url: str, ca: str, cert: tuple[str, str], tenant: str) -> Any:
    session = requests.Session()
    session.trust_env = False
    session.verify, session.cert = ca, cert
    session.headers["X-Sandbox-Tenant"] = tenant
    transport: Transport = OfflineTransport(session=session)
    client = Client(
        str(CONTRACT / "wsdl" / wsdl),
        transport=transport,
        settings=Settings(strict=False),
        plugins=[WsAddressingPlugin()],
    )
    return client.create_service(binding, url)


def _security(now: Any) -> Any:
    from lxml import etree

    security = etree.Element(f"{{{WSSE}}}Security", nsmap={"wsse": WSSE})
    security.append(vihf(now))
    return security


def test_habilitations_with_zeep(pem_dir: Any, gp_auth: Any, dmp_url: Any, now: Any, tenant: str) -> None:
    service = _client(
        "Habilitations.wsdl",
        "{urn:si-dmp-habilitations}HabilitationsEndPointImplServiceSoapBinding",
        dmp_url("habilitations"),
        str(pem_dir / "ca.pem"),
        gp_auth,
        tenant,
    )
    out = service.setAuthorization(action="AJOUT", _soapheaders=[_security(now)])
    assert out.status == "DMPOk"
    assert out.context == "Autorisation déjà présente aucune action effectuée"
    listed = service.listAuthorizationByPatient(mode="TOUTE", _soapheaders=[_security(now)])
    assert listed.status == "DMPOk"
    assert [a.nationalId for a in listed.listOfAuthorizationByPatient] == ["810100000016"]


def test_patient_list_with_zeep(pem_dir: Any, gp_auth: Any, dmp_url: Any, now: Any, tenant: str) -> None:
    service = _client(
        "PatientsSpecific.wsdl",
        "{urn:si-dmp-patients}PatientSpecificEndPointImplServiceSoapBinding",
        dmp_url("patientsSpecific"),
        str(pem_dir / "ca.pem"),
        gp_auth,
        tenant,
    )
    out = service.patientList(
        startDate="20100101000000", dateType="LASTAUTORIZATION", _soapheaders=[_security(now)]
    )
    assert out.status == "DMPOk"
    assert PATIENT in [i.nationalId for d in out.patientlistData for i in d.patientIdentifier]


def test_patient_list_lastdoc_reads_the_documents_fed(
    pem_dir: Any, gp_auth: Any, dmp_url: Any, now: Any, tenant: str, dmp_runner: Any
) -> None:
    """LASTDOC lists a DMP whose last document was fed after startDate (the stored documents)."""
    from tests.dmp import registry_support

    service = _client(
        "PatientsSpecific.wsdl",
        "{urn:si-dmp-patients}PatientSpecificEndPointImplServiceSoapBinding",
        dmp_url("patientsSpecific"),
        str(pem_dir / "ca.pem"),
        gp_auth,
        tenant,
    )
    later = (now + timedelta(days=30)).strftime("%Y%m%d%H%M%S")

    def listed() -> list[str]:
        out = service.patientList(startDate=later, dateType="LASTDOC", _soapheaders=[_security(now)])
        assert out.status == "DMPOk"
        return [i.nationalId for d in out.patientlistData or [] for i in d.patientIdentifier]

    assert PATIENT not in listed()
    fed_at = (now + timedelta(days=31)).isoformat()
    registry_support.feed(dmp_runner.sandbox.store, tenant, submitted_at=fed_at)
    assert PATIENT in listed()
