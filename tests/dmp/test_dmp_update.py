"""TD3.3 (ITI-57) pieces: the official TD3.3c / TD3.3d requests and the kit's masking template read
into status changes and new metadata versions; the answer shaped like the official TD3.3 responses
and valid against the ebRS 3.0 rs schema of the contract."""

from __future__ import annotations

import pytest
from lxml import etree

from dmp import queries, registry_wire, rights, visibility
from mocks.errors import ServiceError
from tests.dmp.schemas import CONTRACT
from tests.dmp.support import EXAMPLES

S12 = "http://www.w3.org/2003/05/soap-envelope"
TARGET = "urn:uuid:fe5287a2-ae6a-11eb-8f5d-0050569e422e"


def _body(name: str) -> etree._Element:
    return etree.parse(str(EXAMPLES / name)).getroot().find(f"{{{S12}}}Body")[0]


def test_official_delete_and_archive_requests() -> None:
    deleted = registry_wire.read_update(_body("TD3.3c_-_Supprimer_un_document_requete.xml"))
    assert deleted.problems == ()
    assert deleted.status_changes == (registry_wire.StatusChange(TARGET, queries.ARCHIVED, queries.DELETED),)
    assert deleted.patient_id.startswith("207058575627097^^^&1.2.250.1.213.1.4.10&ISO^NH")
    assert deleted.author_person.startswith("899900063480^MAX^LIBRE")
    assert deleted.author_institutions == (
        "CABINET DR LIBRE^^^^^&1.2.250.1.71.4.2.2&ISO^IDNST^^^499900063480001",
    )
    archived = registry_wire.read_update(_body("TD3.3d_-_Archiver_un_document_requete.xml"))
    assert archived.status_changes == (
        registry_wire.StatusChange(TARGET, queries.APPROVED, queries.ARCHIVED),
    )
    assert archived.new_versions == ()


def test_kit_masking_template_is_a_new_version() -> None:
    template = etree.parse(str(EXAMPLES / "kit-templates" / "template_masquage.xml")).getroot()
    # the kit's template has no namespace: put it in ebRIM / lcm as the kit does when sending
    text = (
        etree.tostring(template)
        .decode()
        .replace(
            "<SubmitObjectsRequest>",
            f'<SubmitObjectsRequest xmlns="{registry_wire.RIM}">',
        )
    )
    update = registry_wire.read_update(etree.fromstring(text))
    assert update.status_changes == ()
    (version,) = update.new_versions
    assert (version.symbolic_id, version.lid, version.previous_version) == (
        "Document01",
        "urn:uuid:4f196ae8-5549-11e9-9478-0050569e422e",
        "5",
    )
    assert ("MASQUE_PS", "1.2.250.1.213.1.1.4.13") in version.confidentiality


def test_incomplete_requests_are_reported() -> None:
    empty = etree.fromstring(f'<l:SubmitObjectsRequest xmlns:l="{registry_wire.LCM}"/>')
    assert registry_wire.read_update(empty).problems
    no_change = etree.fromstring(
        f'<l:SubmitObjectsRequest xmlns:l="{registry_wire.LCM}" xmlns="{registry_wire.RIM}">'
        '<RegistryObjectList><RegistryPackage id="SubmissionSet01"/></RegistryObjectList></l:SubmitObjectsRequest>'
    )
    assert "ni UpdateAvailabilityStatus" in registry_wire.read_update(no_change).problems[0]


def test_answers_like_the_official_ones() -> None:
    schema = etree.XMLSchema(etree.parse(str(CONTRACT / "schema" / "ebRS" / "rs.xsd")))
    official = _body("TD3.3d_-_Archiver_un_document_reponse.xml")
    ours = etree.fromstring(registry_wire.registry_response())
    assert (ours.tag, dict(ours.attrib)) == (official.tag, dict(official.attrib))
    assert ours.nsmap == {p: n for p, n in official.nsmap.items() if p != "soap"}
    assert schema.validate(ours), schema.error_log
    failed = etree.fromstring(
        registry_wire.failure("update", "XDSMetadataVersionError", "version 2 attendue")
    )
    assert schema.validate(failed), schema.error_log
    assert failed.get("status").endswith(":Failure")


# -- the decisions of dmp.visibility ------------------------------------------------------------
GP, OTHER, CABINET = "810100000016", "810100000099", "410100000016001"
DOC = visibility.Doc(("N",), "10", (GP,), (CABINET,))
MASKED = visibility.Doc(("N", "MASQUE_PS"), "10", (GP,), (CABINET,))


def _who(
    ps: str, mt: bool = False, mode: str = "DIRECTE", structure: str = "499999999999999"
) -> visibility.Who:
    return visibility.Who(ps, structure, mode, mt)


def _refused(call: object, *args: object) -> str:
    with pytest.raises(ServiceError) as caught:
        call(*args)  # type: ignore[operator]
    return caught.value.error.name


def test_masked_documents_are_seen_by_their_author_and_the_mt_only() -> None:
    assert visibility.visible(DOC, _who(OTHER))
    assert visibility.visible(MASKED, _who(GP))
    assert visibility.visible(MASKED, _who(OTHER, mt=True))
    assert not visibility.visible(MASKED, _who(OTHER))
    assert visibility.visible(MASKED, _who("local-id", mode="INDIRECTE", structure=CABINET))
    invisible = visibility.Doc(("N", "INVISIBLE_PATIENT"), "10", (GP,), (CABINET,))
    assert visibility.visible(invisible, _who(OTHER))
    signature = visibility.Doc(("N", "MASQUE_PS", "INVISIBLE_PATIENT"), visibility.SIGNATURE_CLASS, (GP,), ())
    assert not visibility.visible(signature, _who(GP, mt=True))


def test_availability_transitions() -> None:
    assert visibility.transition(queries.APPROVED, queries.APPROVED, queries.ARCHIVED) == "archive"
    assert visibility.transition(queries.ARCHIVED, queries.ARCHIVED, queries.APPROVED) == "unarchive"
    assert visibility.transition(queries.ARCHIVED, queries.ARCHIVED, queries.DELETED) == "delete"
    assert visibility.transition(queries.APPROVED, queries.APPROVED, queries.DELETED) == "delete"
    fn = visibility.transition
    assert _refused(fn, queries.APPROVED, queries.ARCHIVED, queries.DELETED) == "XDSMetadataUpdateError"
    assert _refused(fn, queries.DELETED, queries.DELETED, queries.APPROVED) == "XDSMetadataUpdateError"


def test_confidentiality_actions() -> None:
    assert visibility.confidentiality_action(("N",), ("N", "MASQUE_PS")) == "mask"
    assert visibility.confidentiality_action(("N", "MASQUE_PS"), ("N",)) == "unmask"
    assert visibility.confidentiality_action(("N", "INVISIBLE_PATIENT"), ("N",)) == "visible_patient"
    assert (
        visibility.confidentiality_action(("N",), ("N", "INVISIBLE_REPRESENTANTS_LEGAUX"))
        == "invisible_patient"
    )
    assert _refused(visibility.confidentiality_action, ("N",), ("N",)) == "XDSMetadataUpdateError"


def test_only_the_author_or_the_mt_updates() -> None:
    archive = rights.decide("TD3.3d:archiver", "medecin", "normal")
    visibility.require_updater(DOC, _who(GP), archive)
    assert _refused(visibility.require_updater, DOC, _who(OTHER), archive) == "refus_auteur_maj"
    visibility.require_updater(DOC, _who(OTHER, mt=True), rights.decide("TD3.3d:archiver", "mt", "normal"))
    # TD3.3c has note (8) even for the MT: own documents only
    delete_mt = rights.decide("TD3.3c", "mt", "normal")
    assert _refused(visibility.require_updater, DOC, _who(OTHER, mt=True), delete_mt) == "refus_auteur_maj"
    patient_doc = visibility.Doc(("N",), "90", ("patient",), ())
    visibility.require_updater(patient_doc, _who(OTHER, mt=True), delete_mt)
    assert _refused(visibility.require_updater, patient_doc, _who(GP), archive) == "refus_auteur_maj"
    indirect = rights.decide("TD3.3c", "indirect", "normal")
    visibility.require_updater(DOC, _who("x", mode="INDIRECTE", structure=CABINET), indirect)
    assert (
        _refused(visibility.require_updater, DOC, _who("x", mode="INDIRECTE"), indirect) == "refus_auteur_maj"
    )
