"""dmp.documents and dmp.metadata: the official TD2.1 request's metadata read and stored, versions,
status, duplicate uniqueId, associations."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from dmp import documents as D
from dmp import metadata as M
from mocks.store import Store

EXAMPLE = (
    Path(__file__).parents[2]
    / ".."
    / "shared"
    / "specs"
    / "dmp"
    / "examples"
    / "TD2.1_-_Alimentation_requete.xml"
)
INS = "207058575627097"


@pytest.fixture
def objects() -> M.Objects:
    raw = EXAMPLE.read_bytes()
    start, end = raw.index(b"<soap:Envelope"), raw.index(b"</soap:Envelope>") + len(b"</soap:Envelope>")
    rol = etree.fromstring(raw[start:end]).find(f".//{{{M.RIM}}}RegistryObjectList")
    assert rol is not None
    return M.read_objects(rol)


@pytest.fixture
def docs(tmp_path: Path) -> D.Documents:
    store = Store(tmp_path / "s.db")
    store.migrate("dmp", D.MIGRATIONS)
    return D.Documents(store)


def _submission(objects: M.Objects) -> D.Submission:
    entry, package = objects.entries[0], objects.packages[0]
    ss = D.SubmissionSet(
        "urn:uuid:ss", package.unique_id, INS, package.patient_id, "", "20210604135051", package.xml.decode()
    )
    doc = D.Document(
        "urn:uuid:d1", entry.unique_id, "urn:uuid:d1", 1, "Approved", INS, "1.2.250.1.213.1.4.10",
        entry.patient_id, entry.mime_type, "a9993e364706816aba3e25717850c26c9cd0d89d", 3, entry.xml.decode(),
        class_code=entry.code(M.DE_CLASS), confidentiality=entry.confidentiality, authors=entry.authors,
    )  # fmt: skip
    link = D.Association("urn:uuid:a1", M.HAS_MEMBER, "urn:uuid:ss", "urn:uuid:d1", "urn:uuid:ss")
    return D.Submission(ss, (doc,), {entry.unique_id: b"abc"}, (link,))


def test_official_metadata_is_read(objects: M.Objects) -> None:
    entry, signature = objects.entries
    assert entry.unique_id == "1.2.250.1.999.1.1.7898.3.1622814651504"
    assert entry.code(M.DE_TYPE) == M.Code(
        "27899-4", "2.16.840.1.113883.6.1", "CR d'acte diagnostique (autre)"
    )
    assert entry.authors[0].person_id == "899900063480"
    assert entry.authors[0].structure_ids == ("499900063480001",)
    assert signature.is_signature and not entry.is_signature
    assert M.visibility(signature.confidentiality) == (True, True, False)
    assert [link.type for link in objects.links].count(M.SIGNS) == 1
    assert objects.packages[0].is_submission_set


def test_store_versions_and_status(objects: M.Objects, docs: D.Documents) -> None:
    sub = _submission(objects)
    docs.insert_submission("t", sub)
    unique_id = sub.documents[0].unique_id
    assert docs.get("t", unique_id=unique_id) == sub.documents[0]
    assert docs.content("t", unique_id) == b"abc"
    new = docs.new_version(
        "t", "urn:uuid:d1", "urn:uuid:d2", "<x/>", confidentiality=(M.Code("N"), M.Code("MASQUE_PS"))
    )
    assert (new.version, new.lid, new.masked_ps, new.status) == (2, "urn:uuid:d1", True, "Approved")
    old = docs.get("t", entry_uuid="urn:uuid:d1")
    assert old is not None and old.status == "Deprecated"
    assert [d.entry_uuid for d in docs.by_patient("t", INS)] == ["urn:uuid:d2"]
    with pytest.raises(D.DocumentError):
        docs.new_version("t", "urn:uuid:d1", "urn:uuid:d3", "<x/>")  # not the latest
    assert docs.set_status("t", "urn:uuid:d2", "Archived")
    assert docs.by_patient("t", INS, statuses=("Approved",)) == []
    assert docs.associations("t", source="urn:uuid:ss")[0].target == "urn:uuid:d1"
    with pytest.raises(D.DocumentError):
        docs.insert_submission("t", sub)  # duplicate uniqueId
    assert docs.get("other", unique_id=unique_id) is None  # per tenant
