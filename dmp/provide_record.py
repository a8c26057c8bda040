"""What an accepted ITI-41 leaves behind (dmp.provide decides; this module records): the
submission stored in one transaction (dmp.documents: the lot, every ExtrinsicObject as version 1
with a new entryUUID, the bytes, the associations with their symbolic ids resolved, the RPLC
targets Deprecated), and the evidence `dmp.document.accepted` of each document (not the lot's
XAdES), whose fields are the scoreboard's contract (mocks/evidence.py).
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from dmp import errors, provide_wire
from dmp import metadata as M
from dmp.documents import Association, Document, DocumentError, Documents, Submission, SubmissionSet

if TYPE_CHECKING:
    from dmp.flow import Context, Secured


def store(
    ctx: Context,
    s: Secured,
    docs: Documents,
    objects: M.Objects,
    package: M.Package,
    sent: dict[str, provide_wire.Sent],
    digests: dict[str, str],
    xades: dict[str, Any],
    replaced: dict[str, Document],
    reports: dict[str, Any],
) -> list[Document]:
    ex = ctx.ex
    now = ex.now().isoformat()
    caller = {"identity": s.caller.identity, "mode": s.caller.mode, "ps": s.caller.ps,
              "structure": s.caller.structure, "actor": s.actor, "td": ex.operation}  # fmt: skip
    ids = {package.id: f"urn:uuid:{uuid.uuid4()}"}
    ids.update({e.id: f"urn:uuid:{uuid.uuid4()}" for e in objects.entries})
    patient = s.vihf.patient
    assert patient is not None
    ss = SubmissionSet(
        ids[package.id], package.unique_id, s.ins, package.patient_id, package.identifier(M.SS_SOURCE_ID),
        package.slot("submissionTime"), package.xml.decode(), package.authors,
        (package.classifications.get(M.SS_CONTENT_TYPE) or (None,))[0], package.name,
        package.slot("comments"), now, caller,
    )  # fmt: skip
    stored = []
    for e in objects.entries:
        data = sent[e.id].data
        report = reports.get(e.id)
        masked, invisible, representants = M.visibility(e.confidentiality)
        stored.append(Document(
            entry_uuid=ids[e.id], unique_id=e.unique_id, lid=ids[e.id], version=1, status="Approved",
            ins=s.ins, ins_oid=patient.oid, patient_id=e.patient_id, mime_type=e.mime_type,
            hash=digests[e.id], size=len(data), metadata_xml=e.xml.decode(),
            kind="signature" if e.is_signature else "document",
            class_code=e.code(M.DE_CLASS), type_code=e.code(M.DE_TYPE), format_code=e.code(M.DE_FORMAT),
            practice_setting_code=e.code(M.DE_PRACTICE), hcf_type_code=e.code(M.DE_HCF),
            event_codes=e.event_codes, confidentiality=e.confidentiality, masked_ps=masked,
            invisible_patient=invisible, invisible_representants=representants,
            creation_time=e.slot("creationTime"), service_start_time=e.slot("serviceStartTime"),
            service_stop_time=e.slot("serviceStopTime"), authors=e.authors,
            legal_authenticator=e.slot("legalAuthenticator"), title=e.name, comments=e.description,
            language_code=e.slot("languageCode"), source_patient_id=e.slot("sourcePatientId"),
            source_patient_info=e.slots.get("sourcePatientInfo", ()),
            reference_ids=e.slots.get("urn:ihe:iti:xds:2013:referenceIdList", ()),
            submission_set=ids[package.id], submitted_at=now, caller=caller, xades=xades,
            cda_findings=[f.as_dict() for f in report.findings] if report is not None else [],
            cda_report_id=str(report.id) if report is not None and report.id is not None else "",
            replaces=replaced[e.id].unique_id if e.id in replaced else "",
        ))  # fmt: skip
    links = tuple(
        Association(f"urn:uuid:{uuid.uuid4()}", link.type, ids.get(link.source, link.source),
                    ids.get(link.target, link.target), ids[package.id], {k: list(v) for k, v in link.slots.items()})
        for link in objects.links
    )  # fmt: skip
    submission = Submission(
        ss, tuple(stored), {d.unique_id: sent[e.id].data for d, e in zip(stored, objects.entries, strict=True)},
        links, tuple(p.entry_uuid for p in replaced.values()),
    )  # fmt: skip
    try:
        docs.insert_submission(ex.tenant, submission)
    except DocumentError as exc:  # a concurrent feed of the same uniqueId
        errors.fail("XDSDuplicateUniqueIdInRegistry", what=str(exc))
    return stored


def evidence(ctx: Context, s: Secured, stored: list[tuple[Document, Any]]) -> None:
    ex, sandbox = ctx.ex, ctx.sandbox
    ins = s.ins
    qualified = sandbox.evidence.exists(ex.tenant, "ins.qualified", ins[:13]) or sandbox.evidence.exists(
        ex.tenant, "ins.qualified", ins
    )
    for d, report in stored:
        if d.kind != "document":
            continue
        errors_count = None
        if report is not None and report.state not in ("pending", "timeout"):
            errors_count = sum(1 for f in report.findings if f.severity == "error")
        data = {
            "ins": ins, "ins_qualified": qualified,
            "type_code": d.type_code.code if d.type_code else "",
            "format_code": d.format_code.code if d.format_code else "",
            "class_code": d.class_code.code if d.class_code else "",
            "author_rpps": (d.author_ids or (s.caller.ps,))[0], "structure": s.caller.structure,
            "auth_mode": s.caller.mode, "caller": s.caller.identity,
            "confidentiality": [c.code for c in d.confidentiality], "replaces": d.replaces,
            "cda_errors": errors_count, "via_third_party": False,
            "entry_uuid": d.entry_uuid, "td": ex.operation, "title": d.title,
        }  # fmt: skip
        sandbox.evidence.append(
            ex.tenant, "dmp.document.accepted", subject=d.unique_id, data=data, exchange=ex
        )
