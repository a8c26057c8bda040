"""TD3.3 (ITI-57 UpdateDocumentSet) rules on the document store, apart from the wire
(dmp.endpoints.registry) and the message reader (dmp.registry_wire.read_update):

    changes = plan(docs, tenant, ins, update)   # checked against the store (XDSMetadataUpdateError,
                                                # XDSMetadataVersionError); each change's rights
                                                # row for the caller to require
    apply(docs, tenant, ins, update, changes, submitted_at=..., caller=...)   # one transaction

An availability change sets the status of the targeted version (dmp.visibility.transition); a
new ExtrinsicObject with the document's lid is a new metadata version (same lid and uniqueId, a
new entryUUID, the previous version Deprecated) whose visibility codes changed. The update's
submission set and its associations (UpdateAvailabilityStatus, HasMember with PreviousVersion)
are stored like a feed's. [inferred]: only the visibility codes of a new version are taken (the
other metadata stay the current version's); one change per document in a submission.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from lxml import etree

from dmp import errors, metadata, registry_wire, visibility
from dmp.documents import STATUS_URN, URN_STATUS, Association, Document, Documents, Submission, SubmissionSet
from dmp.metadata import Code


@dataclass(frozen=True)
class Change:
    """One checked change of an UpdateDocumentSet."""

    action: str  # archive | unarchive | delete | mask | unmask | invisible_patient | visible_patient
    row: str  # the rights row (dmp.visibility.ROWS)
    doc: Document  # the current version
    new_status: str = ""  # short status (availability change)
    new_entry_uuid: str = ""  # new metadata version
    element: etree._Element | None = None
    confidentiality: tuple[Code, ...] = ()


def _current(docs: Documents, tenant: str, ins: str, doc: Document | None, what: str) -> Document:
    if doc is None or doc.ins != ins[:15] or doc.kind != "document":
        errors.fail("XDSMetadataUpdateError", what=f"document inconnu pour ce patient : {what}")
    return doc


def plan(docs: Documents, tenant: str, ins: str, update: registry_wire.Update) -> list[Change]:
    """The changes of `update` checked against the store (XDSMetadataUpdateError /
    XDSMetadataVersionError raised); the rights are the caller's to check, per change's row."""
    if update.problems:
        errors.fail("XDSMetadataUpdateError", what=" ; ".join(update.problems))
    out: list[Change] = []
    for sc in update.status_changes:
        doc = _current(docs, tenant, ins, docs.get(tenant, entry_uuid=sc.target), sc.target)
        action = visibility.transition(doc.status_urn, sc.original, sc.new)
        out.append(Change(action, visibility.ROWS[action], doc, new_status=URN_STATUS[sc.new]))
    for nv in update.new_versions:
        doc = _current(
            docs, tenant, ins, docs.get(tenant, lid=nv.lid) if nv.lid else None, nv.lid or nv.symbolic_id
        )
        if nv.previous_version != str(doc.version):
            errors.fail(
                "XDSMetadataVersionError",
                what=f"PreviousVersion {nv.previous_version or '(absent)'} : la version courante de {doc.lid} est {doc.version}",
            )
        if doc.status not in ("Approved", "Archived"):
            errors.fail("XDSMetadataUpdateError", what=f"le document {doc.lid} est {doc.status}")
        entry = metadata.read_entry(nv.element)
        after = entry.confidentiality
        action = visibility.confidentiality_action(
            tuple(c.code for c in doc.confidentiality), tuple(c.code for c in after)
        )
        new_id = nv.symbolic_id
        if not new_id.startswith("urn:uuid:") or docs.get(tenant, entry_uuid=new_id) is not None:
            new_id = f"urn:uuid:{uuid.uuid4()}"
        out.append(
            Change(
                action,
                visibility.ROWS[action],
                doc,
                new_entry_uuid=new_id,
                element=nv.element,
                confidentiality=after,
            )
        )
    lids = [c.doc.lid for c in out]
    if len(set(lids)) != len(lids):
        errors.fail("XDSMetadataUpdateError", what="un même document modifié deux fois dans la soumission")
    return out


def _rewrite(element: etree._Element, old: str, new: str, lid: str) -> str:
    """The new version's ExtrinsicObject as stored: its symbolic id replaced by the entryUUID."""
    copy = etree.fromstring(etree.tostring(element))
    for el in copy.iter():
        for attr in ("id", "classifiedObject", "registryObject"):
            if el.get(attr) == old:
                el.set(attr, new)
    copy.set("lid", lid)
    return etree.tostring(copy).decode()


def apply(
    docs: Documents,
    tenant: str,
    ins: str,
    update: registry_wire.Update,
    changes: list[Change],
    *,
    submitted_at: str,
    caller: dict[str, Any],
) -> list[Document]:
    """Write the checked changes, with the update's submission set and associations, in one
    transaction; the documents' new current versions."""
    package = update.submission_set
    assert package is not None
    sent = metadata.read_package(package)
    set_uuid = sent.id if sent.id.startswith("urn:uuid:") else f"urn:uuid:{uuid.uuid4()}"
    content = sent.classifications.get(metadata.SS_CONTENT_TYPE, ())
    ss = SubmissionSet(
        entry_uuid=set_uuid,
        unique_id=sent.unique_id,
        ins=ins[:15],
        patient_id=sent.patient_id,
        source_id=sent.identifier(metadata.SS_SOURCE_ID),
        submission_time=sent.slot("submissionTime"),
        metadata_xml=etree.tostring(package).decode(),
        authors=sent.authors,
        content_type_code=content[0] if content else None,
        title=sent.name,
        submitted_at=submitted_at,
        caller=caller,
    )
    links: list[Association] = []
    out: list[Document] = []
    with docs.store.tx():
        for c in changes:
            if c.new_status:
                docs.set_status(tenant, c.doc.entry_uuid, c.new_status)  # type: ignore[arg-type]
                links.append(
                    Association(
                        f"urn:uuid:{uuid.uuid4()}",
                        metadata.UPDATE_AVAILABILITY,
                        set_uuid,
                        c.doc.entry_uuid,
                        set_uuid,
                        {"OriginalStatus": [c.doc.status_urn], "NewStatus": [STATUS_URN[c.new_status]]},
                    )
                )
                found = docs.get(tenant, entry_uuid=c.doc.entry_uuid)
            else:
                assert c.element is not None
                symbolic = c.element.get("id", "")
                found = docs.new_version(
                    tenant,
                    c.doc.entry_uuid,
                    c.new_entry_uuid,
                    _rewrite(c.element, symbolic, c.new_entry_uuid, c.doc.lid),
                    submission_set=set_uuid,
                    submitted_at=submitted_at,
                    confidentiality=c.confidentiality,
                )
                links.append(
                    Association(
                        f"urn:uuid:{uuid.uuid4()}",
                        metadata.HAS_MEMBER,
                        set_uuid,
                        c.new_entry_uuid,
                        set_uuid,
                        {"SubmissionSetStatus": ["Original"], "PreviousVersion": [str(c.doc.version)]},
                    )
                )
            assert found is not None
            out.append(found)
        docs.insert_submission(tenant, Submission(ss, (), {}, tuple(links)))
    return out
