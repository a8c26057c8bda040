"""`registry` (XDS.b_DocumentRegistry.wsdl): ITI-18 RegistryStoredQuery (TD3.1) and ITI-57
UpdateDocumentSet (TD3.3). The wire only: the rules are dmp.registry (TD3.1) and dmp.updates
(TD3.3), the messages dmp.queries and dmp.registry_wire. Research dmp.md §2.6, §2.8; official
examples TD3.1, TD3.3c, TD3.3d.

    AdhocQueryRequest   TD3.1, rights row TD3.1:reference for GetDocuments in ObjectRef ("rechercher
                        la référence d'un document", the one search the indirect mode has), else
                        TD3.1:metadata; the answer ns3:AdhocQueryResponse
    SubmitObjectsRequest TD3.3, one rights row per change (dmp.visibility.ROWS); the answer
                        ns2:RegistryResponse, action urn:ihe:iti:2010:UpdateDocumentSet-Response

The envelope of the answers declares `soap` alone (official responses). An XDS error is a Failure
answer of the operation with its RegistryError (dmp.protocol); the VIHF, certificate and rights
refusals stay SOAP faults, as on the other services.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lxml import etree

from dmp import errors, queries, registry, registry_wire, rights, updates, visibility
from dmp.documents import Documents
from dmp.endpoints import Endpoint, Operation
from dmp.protocol import XDS_KEY
from mocks.errors import RegistryError
from mocks.harness import Reply

if TYPE_CHECKING:
    from dmp.flow import Context, Secured

QUERY_ACTION = "urn:ihe:iti:2007:RegistryStoredQuery"
UPDATE_ACTION = "urn:ihe:iti:2010:UpdateDocumentSet"
GET_DOCUMENTS = "urn:uuid:5c4f972b-d56b-40ac-a5fc-c8ca9b40b9d4"
PATIENT_PARAMS = ("$XDSDocumentEntryPatientId", "$XDSSubmissionSetPatientId")


def _on_xds_error(ctx: Context, kind: str) -> None:
    def answer(entry: RegistryError, text: str) -> tuple[str, str, str]:
        ctx.ex.details["xds_error"] = entry.error_code
        return registry_wire.failure(kind, entry.error_code, text), ctx.operation.response_action, ""

    ctx.environ[XDS_KEY] = answer


def _query_row(payload: etree._Element) -> str:
    """The rights row, read before the query itself (the security layer answers first)."""
    option = payload.find(f"{{{queries.QUERY}}}ResponseOption")
    adhoc = payload.find(f"{{{queries.RIM}}}AdhocQuery")
    reference = (
        option is not None
        and option.get("returnType") == "ObjectRef"
        and adhoc is not None
        and adhoc.get("id") == GET_DOCUMENTS
    )
    return "TD3.1:reference" if reference else "TD3.1:metadata"


def _patient(ctx: Context, s: Secured) -> str:
    """The VIHF's patient, whose DMP must be open (XDSUnknownPatientId)."""
    if s.vihf.patient is None:
        errors.fail(
            "vihf_invalid",
            what="attribut obligatoire urn:oasis:names:tc:xacml:2.0:resource:resource-id absent",
        )
    if s.state is None or s.state.dmp != "open":
        errors.fail("XDSUnknownPatientId", what=s.vihf.patient.ins)
    ctx.require_authorization(s)
    return s.vihf.patient.ins


def _same_patient(ctx: Context, s: Secured, cx: str, where: str) -> bool:
    """A patientId against the VIHF's: another INS is XDSPatientIdDoesNotMatch; the same INS under
    another OID matches nothing (False) [inferred], with an error finding (so XDSPatientIdDoesNotMatch
    in strict mode)."""
    assert s.vihf.patient is not None
    ins, oid = registry.parse_cx(cx)
    if ins != s.vihf.patient.ins:
        errors.fail("XDSPatientIdDoesNotMatch", what=f"{where} « {cx} » / VIHF {s.vihf.patient.raw}")
    if oid != s.vihf.patient.oid:
        ctx.ex.findings.add(
            "DMP-INS-OID-INCOHERENT",
            "error",
            f"{where} : OID {oid or '(absent)'} au lieu de {s.vihf.patient.oid} (celui du VIHF) : aucun résultat",
            location=where,
        )
        if ctx.ex.findings.refuse:  # strict mode: the error finding refuses
            errors.fail("XDSPatientIdDoesNotMatch", what=f"{where} « {cx} » / VIHF {s.vihf.patient.raw}")
        return False
    return True


def stored_query(ctx: Context) -> Reply:
    ctx.ex.operation = "TD3.1"
    _on_xds_error(ctx, "query")
    s = ctx.secure("TD3.1", row=_query_row(ctx.payload), acte="une recherche de documents")
    ins = _patient(ctx, s)
    query = queries.read_query(ctx.payload)
    ctx.ex.details["query"] = {
        "name": query.name,
        "return_type": query.return_type,
        "params": sorted(query.params),
    }
    given = next((query.one(p) for p in PATIENT_PARAMS if query.one(p)), "")
    who = registry.who_of(s.caller.ps, s.caller.structure, s.caller.mode, s.actor)
    if given and not _same_patient(ctx, s, given, "patientId"):
        result = registry.Result()
    else:
        result = registry.run(Documents(ctx.sandbox.store), ctx.ex.tenant, ins, query, who)
    if query.return_type == "ObjectRef":
        ids = [d.entry_uuid for d in result.documents] + [x.entry_uuid for x in result.sets]
        objects = [registry_wire.object_ref(i) for i in ids + [a.entry_uuid for a in result.associations]]
    else:
        objects = result.extrinsic_objects()
        objects += [registry_wire.registry_package(registry.package_view(x)) for x in result.sets]
        objects += [registry_wire.association(registry.association_view(a)) for a in result.associations]
    ctx.ex.outcome = f"{query.name}/{result.count}"
    return ctx.answer(registry_wire.query_response(objects))


def update_document_set(ctx: Context) -> Reply:
    ctx.ex.operation = "TD3.3"
    _on_xds_error(ctx, "update")
    # the rights row depends on each change, known once the documents are read: the security
    # layer runs first on TD3.3c (the row every actor has, under conditions), each change's own
    # row is required below
    s = ctx.secure("TD3.3", row="TD3.3c", acte="une mise à jour de documents")
    ins = _patient(ctx, s)
    update = registry_wire.read_update(ctx.payload)
    if update.submission_set is not None:
        if not update.patient_id:
            errors.fail("XDSMetadataUpdateError", what="XDSSubmissionSet.patientId absent")
        if not _same_patient(ctx, s, update.patient_id, "XDSSubmissionSet.patientId"):
            errors.fail("XDSPatientIdDoesNotMatch", what=f"OID de « {update.patient_id} »")
    docs = Documents(ctx.sandbox.store)
    changes = updates.plan(docs, ctx.ex.tenant, ins, update)
    who = registry.who_of(s.caller.ps, s.caller.structure, s.caller.mode, s.actor)
    decisions = []
    for change in changes:
        decision = rights.require(change.row, s.actor, s.access, s.caller.air)
        visibility.require_updater(registry.doc_of(change.doc), who, decision)
        decisions.append({"row": decision.row, "note": decision.note, "action": change.action})
    ctx.ex.details["rights"] = {
        "actor": s.actor,
        "access": s.access,
        "air": s.caller.air,
        "changes": decisions,
    }
    caller = {
        "identity": s.caller.identity,
        "mode": s.caller.mode,
        "ps": s.caller.ps,
        "structure": s.caller.structure,
    }
    now = ctx.ex.now()
    updated = updates.apply(
        docs, ctx.ex.tenant, ins, update, changes, submitted_at=now.isoformat(), caller=caller
    )
    for change, doc in zip(changes, updated, strict=True):
        ctx.sandbox.evidence.append(
            ctx.ex.tenant,
            "dmp.document.updated",
            subject=doc.unique_id,
            data={
                "action": change.action,
                "caller": s.caller.identity,
                "ins": ins,
                "row": change.row,
                "entry_uuid": doc.entry_uuid,
                "status": doc.status,
            },
            exchange=ctx.ex,
        )
    ctx.ex.outcome = "+".join(c.action for c in changes)
    return ctx.answer(registry_wire.registry_response())


ENDPOINT = Endpoint(
    "registry",
    {
        f"{{{queries.QUERY}}}AdhocQueryRequest": Operation(
            "DocumentRegistry_RegistryStoredQuery",
            (QUERY_ACTION,),
            "urn:ihe:iti:2007:RegistryStoredQueryResponse",
            "",
            stored_query,
        ),
        f"{{{registry_wire.LCM}}}SubmitObjectsRequest": Operation(
            "DocumentRegistry_UpdateDocumentSet",
            (UPDATE_ACTION,),
            "urn:ihe:iti:2010:UpdateDocumentSet-Response",
            "",
            update_document_set,
        ),
    },
)
