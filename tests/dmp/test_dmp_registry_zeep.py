"""ITI-18 and ITI-57 from a zeep client generated from the official XDS.b_DocumentRegistry.wsdl,
over mutual TLS with our CPS certificate, a VIHF of ours and zeep's WS-Addressing plugin: zeep
reads the answers into the ebRS types. zeep writes the RegistryObjectList members as
`rim:Identifiable xsi:type="rim:AssociationType1"` (the substitution group's head, which is not
abstract): the registry reads them as a JAXB registry does. In answers, zeep keeps the members
(ns4:ExtrinsicObject...) in `_raw_elements`, which an LGC parses with the element's own type."""

from __future__ import annotations

from typing import Any

from dmp import documents as D
from tests.dmp import registry_support as R
from tests.dmp.support import PATIENT, TEST_OID
from tests.dmp.test_dmp_zeep import _client, _security

BINDING = "{urn:ihe:iti:xds-b:2007}DocumentRegistry_Binding_Soap12"
RIM = "{urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0}"


def _values(*values: str) -> dict[str, Any]:
    return {"_value_1": [{"Value": v} for v in values]}


def _service(pem_dir: Any, gp_auth: Any, dmp_url: Any, tenant: str) -> Any:
    return _client(
        "XDS.b_DocumentRegistry.wsdl", BINDING, dmp_url("registry"), str(pem_dir / "ca.pem"), gp_auth, tenant
    )


def test_find_documents_with_zeep(
    pem_dir: Any, gp_auth: Any, dmp_url: Any, now: Any, tenant: str, dmp_runner: Any
) -> None:
    fed = [R.feed(dmp_runner.sandbox.store, tenant) for _ in range(2)]
    service = _service(pem_dir, gp_auth, dmp_url, tenant)
    out = service.DocumentRegistry_RegistryStoredQuery(
        ResponseOption={"returnType": "LeafClass", "returnComposedObjects": True},
        AdhocQuery={
            "id": R.FIND,
            "Slot": [
                {
                    "name": "$XDSDocumentEntryPatientId",
                    "ValueList": _values(f"'{PATIENT}^^^&{TEST_OID}&ISO^NH'"),
                },
                {"name": "$XDSDocumentEntryStatus", "ValueList": _values(f"('{R.APPROVED}')")},
            ],
        },
        _soapheaders=[_security(now)],
    )
    assert out.status == "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success"
    assert out.totalResultCount == 2
    # zeep leaves the substitution group's members raw: read them with their element's type
    raw = list(out.RegistryObjectList._raw_elements)  # noqa: SLF001
    assert out.RegistryObjectList.Identifiable == [] and len(raw) == 2
    types = service._binding.wsdl.types  # noqa: SLF001
    entries = [types.get_element(raw[0].tag).parse(r, types) for r in raw]
    assert [e.id for e in entries] == [d.entry_uuid for d in fed]
    first = entries[0]
    assert first.lid == first.id and first.VersionInfo.versionName == "1"
    slots = {s.name: [v["Value"] for v in s.ValueList._value_1] for s in first.Slot}
    assert slots["repositoryUniqueId"] == ["1.2.250.1.213.4.1.1.1.2"]
    unique = [i.value for i in first.ExternalIdentifier if i.identificationScheme.endswith("8640a32e42ab")]
    assert unique == [fed[0].unique_id]


def test_unknown_stored_query_with_zeep(
    pem_dir: Any, gp_auth: Any, dmp_url: Any, now: Any, tenant: str
) -> None:
    service = _service(pem_dir, gp_auth, dmp_url, tenant)
    out = service.DocumentRegistry_RegistryStoredQuery(
        ResponseOption={"returnType": "ObjectRef"},
        AdhocQuery={"id": "urn:uuid:10b545ea-725c-446d-9b95-8aeb444eddf3", "Slot": []},
        _soapheaders=[_security(now)],
    )
    assert out.status.endswith(":Failure")
    assert [e.errorCode for e in out.RegistryErrorList.RegistryError] == ["XDSUnknownStoredQuery"]


def test_archive_with_zeep(
    pem_dir: Any, gp_auth: Any, dmp_url: Any, now: Any, tenant: str, dmp_runner: Any
) -> None:
    store = dmp_runner.sandbox.store
    doc = R.feed(store, tenant)
    service = _service(pem_dir, gp_auth, dmp_url, tenant)
    client = service._binding.wsdl  # noqa: SLF001 - the types of the client's WSDL
    element = lambda name: client.types.get_element(f"{RIM}{name}")  # noqa: E731
    package = element("RegistryPackage")(
        id="SubmissionSet01",
        Slot=[{"name": "submissionTime", "ValueList": _values("20240601100000")}],
        ExternalIdentifier=[
            {
                "registryObject": "SubmissionSet01",
                "identificationScheme": "urn:uuid:6b5aea1a-874d-4603-a4bc-96a0a7b38446",
                "value": f"{PATIENT}^^^&{TEST_OID}&ISO^NH",
            }
        ],
    )
    association = element("Association")(
        id="association1",
        associationType="urn:ihe:iti:2010:AssociationType:UpdateAvailabilityStatus",
        sourceObject="SubmissionSet01",
        targetObject=doc.entry_uuid,
        Slot=[
            {"name": "OriginalStatus", "ValueList": _values(R.APPROVED)},
            {"name": "NewStatus", "ValueList": _values(R.ARCHIVED)},
        ],
    )
    out = service.DocumentRegistry_UpdateDocumentSet(
        RegistryObjectList={"Identifiable": [package, association]}, _soapheaders=[_security(now)]
    )
    assert out.status == "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success"
    assert D.Documents(store).get(tenant, entry_uuid=doc.entry_uuid).status == "Archived"  # type: ignore[union-attr]
