"""TD3.1 (ITI-18) pieces: the official request read against the stored-query catalogue, the slot
value syntax, the catalogue's RegistryError entries, and the answer serialiser compared with the
official TD3.1 response (an ExtrinsicObject read from it and written back is the same XML) and
valid against the ebRS 3.0 query schema of the contract."""

from __future__ import annotations

from functools import cache

import pytest
from lxml import etree

from dmp import queries, registry_wire
from dmp.errors import ERRORS
from mocks.errors import RegistryError, ServiceError
from tests.dmp.schemas import CONTRACT
from tests.dmp.support import EXAMPLES

RIM, QUERY, S12 = registry_wire.RIM, registry_wire.QUERY, "http://www.w3.org/2003/05/soap-envelope"
FIND = "urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d"


@cache
def query_schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(CONTRACT / "schema" / "ebRS" / "query.xsd")))


def _body(name: str) -> etree._Element:
    root = etree.parse(str(EXAMPLES / name)).getroot()
    return root.find(f"{{{S12}}}Body")[0]


def _request(query_id: str, slots: dict[str, list[str]], return_type: str = "LeafClass") -> etree._Element:
    values = "".join(
        f'<Slot name="{n}"><ValueList>{"".join(f"<Value>{v}</Value>" for v in vs)}</ValueList></Slot>'
        for n, vs in slots.items()
    )
    return etree.fromstring(
        f'<q:AdhocQueryRequest xmlns="{RIM}" xmlns:q="{QUERY}"><q:ResponseOption returnComposedObjects="true" '
        f'returnType="{return_type}"/><AdhocQuery id="{query_id}">{values}</AdhocQuery></q:AdhocQueryRequest>'
    )


def _error(request: etree._Element) -> tuple[str, str]:
    with pytest.raises(ServiceError) as caught:
        queries.read_query(request)
    entry = caught.value.error
    assert isinstance(entry, RegistryError) and entry.name in ERRORS
    return entry.error_code, caught.value.text or ""


def test_the_official_request_is_find_documents() -> None:
    query = queries.read_query(_body("TD3.1_-_Recherche_de_document_requete.xml"))
    assert (query.name, query.return_type) == ("FindDocuments", "LeafClass")
    assert query.one("$XDSDocumentEntryPatientId") == "207058575627097^^^&1.2.250.1.213.1.4.10&ISO^NH"
    assert query.params["$XDSDocumentEntryStatus"] == (queries.APPROVED,)


def test_slot_value_syntax() -> None:
    assert queries.parse_value("('a','b')") == ("a", "b")
    assert queries.parse_value(" 'it''s' ") == ("it's",)
    assert queries.parse_value("20100101") == ("20100101",)
    assert queries.parse_value("('10^^1.2.250.1.213.1.1.4.1', '11^^1.2.250.1.213.1.1.4.1')") == (
        "10^^1.2.250.1.213.1.1.4.1",
        "11^^1.2.250.1.213.1.1.4.1",
    )
    for bad in ("('a'", "'a' 'b'", "()", "('a',,'b')"):
        with pytest.raises(ValueError):
            queries.parse_value(bad)


def test_several_values_are_or_ed_and_codes_read() -> None:
    query = queries.read_query(
        _request(
            FIND,
            {
                "$XDSDocumentEntryStatus": [f"('{queries.APPROVED}')", f"('{queries.ARCHIVED}')"],
                "$XDSDocumentEntryClassCode": ["('10^^1.2.250.1.213.1.1.4.1')"],
                "$XDSDocumentEntryCreationTimeFrom": ["20240101"],
            },
        )
    )
    assert query.params["$XDSDocumentEntryStatus"] == (queries.APPROVED, queries.ARCHIVED)
    assert query.codes("$XDSDocumentEntryClassCode") == (queries.Code("10", "1.2.250.1.213.1.1.4.1"),)
    assert queries.in_range("20240305101010", query.time("$XDSDocumentEntryCreationTimeFrom"), "")
    assert not queries.in_range("20231231235959", "20240101", "")
    assert not queries.in_range("20240101000000", "", "20240101")  # To is exclusive


def test_catalogue_errors() -> None:
    status = {"$XDSDocumentEntryStatus": [f"('{queries.APPROVED}')"]}
    code, text = _error(_request("urn:uuid:10b545ea-725c-446d-9b95-8aeb444eddf3", status))
    assert code == "XDSUnknownStoredQuery" and "GetAll" in text
    assert (
        _error(_request("urn:uuid:00000000-0000-0000-0000-000000000000", status))[0]
        == "XDSUnknownStoredQuery"
    )
    assert _error(_request(FIND, {}))[0] == "XDSStoredQueryMissingParam"
    assert (
        _error(_request(FIND, {**status, "$XDSFolderPatientId": ["'x'"]}))[0] == "XDSStoredQueryParamNumber"
    )
    two = {**status, "$XDSDocumentEntryPatientId": ["('a','b')"]}
    assert _error(_request(FIND, two))[0] == "XDSStoredQueryParamNumber"
    assert _error(_request(FIND, {"$XDSDocumentEntryStatus": ["('urn:x')"]}))[0] == "XDSRegistryError"
    assert (
        _error(_request(FIND, {**status, "$XDSDocumentEntryCreationTimeFrom": ["'hier'"]}))[0]
        == "XDSRegistryError"
    )
    get = "urn:uuid:5c4f972b-d56b-40ac-a5fc-c8ca9b40b9d4"
    assert _error(_request(get, {}, "ObjectRef"))[0] == "XDSStoredQueryMissingParam"
    query = queries.read_query(_request(get, {"$XDSDocumentEntryUniqueId": ["('1.2.3')"]}, "ObjectRef"))
    assert (query.name, query.return_type) == ("GetDocuments", "ObjectRef")


def _view(el: etree._Element) -> registry_wire.EntryView:
    """An official ExtrinsicObject read into the serialiser's input (independently of dmp code)."""
    ns = {"r": RIM}

    def slots(node: etree._Element) -> tuple[tuple[str, tuple[str, ...]], ...]:
        return tuple(
            (s.get("name"), tuple(v.text or "" for v in s.findall("r:ValueList/r:Value", ns)))
            for s in node.findall("r:Slot", ns)
        )

    def label(node: etree._Element) -> str:
        found = node.find("r:Name/r:LocalizedString", ns)
        return found.get("value") if found is not None else ""

    classes = []
    for c in el.findall("r:Classification", ns):
        s = dict(slots(c))
        coding = s.pop("codingScheme", ("",))[0]
        classes.append(
            registry_wire.Coded(
                c.get("id"),
                c.get("classificationScheme"),
                c.get("nodeRepresentation"),
                coding,
                label(c),
                tuple(s.items()),
            )
        )
    idents = {i.get("identificationScheme"): i for i in el.findall("r:ExternalIdentifier", ns)}
    pid, uid = idents[registry_wire.DE_PATIENT_ID], idents[registry_wire.DE_UNIQUE_ID]
    desc = el.find("r:Description/r:LocalizedString", ns)
    return registry_wire.EntryView(
        el.get("id"),
        el.get("lid"),
        el.get("status"),
        el.get("mimeType"),
        el.find("r:VersionInfo", ns).get("versionName"),
        slots(el),
        label(el),
        desc.get("value") if desc is not None else "",
        tuple(sorted(classes, key=lambda c: c.scheme, reverse=True)),
        pid.get("value"),
        pid.get("id"),
        uid.get("value"),
        uid.get("id"),
    )


def _canonical(el: etree._Element) -> list[tuple[str, list[tuple[str, str]], str]]:
    """Every element in order with its attributes and text (namespace declarations aside)."""
    return [(n.tag, sorted(n.attrib.items()), (n.text or "").strip()) for n in el.iter()]


def test_the_official_answer_written_back() -> None:
    official = _body("TD3.1_-_Recherche_de_document_reponse.xml")
    entries = official.findall(f"{{{RIM}}}RegistryObjectList/{{{RIM}}}ExtrinsicObject")
    assert len(entries) == 21
    # the official sourcePatientInfo values are in varying order: keep each entry's own
    written = registry_wire.query_response(
        [registry_wire.extrinsic_object(_view(e)) for e in entries[:3]], 21
    )
    ours = etree.fromstring(written)
    assert ours.get("totalResultCount") == "21"
    assert ours.nsmap == {p: n for p, n in official.nsmap.items() if p != "soap"}
    for mine, theirs in zip(ours.iter(f"{{{RIM}}}ExtrinsicObject"), entries[:3], strict=True):
        assert _canonical(mine) == _canonical(theirs)
    assert query_schema().validate(ours), query_schema().error_log


def test_object_refs_and_failures_are_schema_valid() -> None:
    schema = query_schema()
    refs = etree.fromstring(registry_wire.query_response([registry_wire.object_ref("urn:uuid:" + "1" * 32)]))
    assert schema.validate(refs), schema.error_log
    failed = etree.fromstring(
        registry_wire.failure("query", "XDSUnknownStoredQuery", "Requête stockée inconnue")
    )
    assert schema.validate(failed), schema.error_log
    assert failed.get("status").endswith("Failure")
    error = failed.find(".//{urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0}RegistryError")
    assert error.get("errorCode") == "XDSUnknownStoredQuery"
