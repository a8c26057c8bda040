"""TD3.2 "consultation d'un document": ITI-43 RetrieveDocumentSet on the `repository` service
(research dmp.md §2.7, §1.2, §3). The answer is always an Apache CXF MTOM package, faults included
(dmp.protocol packs the faults of TD3.2), the document as an `xop:Include` attachment:

    request   RetrieveDocumentSetRequest / DocumentRequest+ / {RepositoryUniqueId, DocumentUniqueId}
    answer    ns4:RetrieveDocumentSetResponse / ns2:RegistryResponse / ns4:DocumentResponse* /
              {RepositoryUniqueId, DocumentUniqueId, mimeType, Document/xop:Include}

The rules, in order:

1. `Context.secure("TD3.2")`: VIHF, caller, the matrix row `TD3.2:normal` (refuses the indirect
   mode, the CPE and the médecin du travail); the VIHF must name the patient (resource-id).
2. the patient's DMP open, else `XDSUnknownPatientId` [inferred]; a VALIDE authorisation in
   normal access (a blocked PS is refused in every access).
3. each DocumentRequest: RepositoryUniqueId 1.2.250.1.213.4.1.1.1.2 (else
   `XDSUnknownRepositoryId`); a uniqueId of a document of this patient's DMP (else
   `XDSDocumentUniqueIdError`, codeContext `uniqueId=…`; an entryUUID given instead is the seen
   case, with a finding). A document of another patient is not found [inferred].
4. the matrix rows of the document's state: `TD3.2:masque` (MASQUE_PS: note 6 = its author only,
   note 7 = bris de glace / centre 15 only with the patient's consent, which the sandbox does not
   model: refused [inferred]), `:invisible`, `:archive`, `:obsolete` (Deprecated), `:supprime`. A
   refusal is a `DMPAccessDenied` fault for the whole request [inferred].

Some documents found, some not: `PartialSuccess` with the found ones and a RegistryError each.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from xml.sax.saxutils import quoteattr

from dmp import errors, rights, visibility
from dmp.documents import REPOSITORY_UNIQUE_ID, Document, Documents
from dmp.errors import ERRORS, render_text
from mocks.errors import RegistryError, ServiceError
from mocks.soap.mtom import Attachment

if TYPE_CHECKING:
    from lxml import etree

    from dmp.flow import Context, Secured
    from mocks.harness import Reply

XDSB = "urn:ihe:iti:xds-b:2007"
RS = "urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0"
XOP = "http://www.w3.org/2004/08/xop/include"
ACTION = "urn:ihe:iti:2007:RetrieveDocumentSet"
RESPONSE_ACTION = "urn:ihe:iti:2007:RetrieveDocumentSetResponse"
# the official TD3.2 answer declares these on RetrieveDocumentSetResponse, in this order
DECLARATIONS = (
    f'xmlns:ns2="{RS}" xmlns:ns3="urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0" xmlns:ns4="{XDSB}" '
    'xmlns:ns5="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0" xmlns:ns6="urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0"'
)
SUCCESS = "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success"
FAILURE = "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Failure"
PARTIAL = "urn:ihe:iti:2007:ResponseStatusType:PartialSuccess"
ERROR = "urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:Error"
# [inferred] the contract's CXF schema (XDS.b_DocumentRepository-MTOM_CXF.xsd) declares
# xmime:expectedContentTypes="application/octet-stream" on Document: CXF types the part so
ATTACHMENT_TYPE = "application/octet-stream"
# the rights row of each document state beyond "normal" (PDT-INF-526 v1.8)
STATUS_ROWS = {"Archived": "TD3.2:archive", "Deprecated": "TD3.2:obsolete", "Deleted": "TD3.2:supprime"}


# -- wire ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DocumentRequest:
    repository: str
    unique_id: str
    home: str = ""  # HomeCommunityId (the DMP's examples have none)


def read_request(payload: etree._Element) -> list[DocumentRequest]:
    """The DocumentRequests of a RetrieveDocumentSetRequest (values stripped)."""
    out = []
    for el in payload.iterfind(f"{{{XDSB}}}DocumentRequest"):
        out.append(
            DocumentRequest(
                (el.findtext(f"{{{XDSB}}}RepositoryUniqueId") or "").strip(),
                (el.findtext(f"{{{XDSB}}}DocumentUniqueId") or "").strip(),
                (el.findtext(f"{{{XDSB}}}HomeCommunityId") or "").strip(),
            )
        )
    return out


@dataclass(frozen=True)
class Problem:
    """One RegistryError of the answer."""

    code: str  # errorCode
    context: str  # codeContext


def _text(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def document_response(doc: Document, href: str) -> str:
    return (
        f"<ns4:DocumentResponse><ns4:RepositoryUniqueId>{_text(doc.repository_unique_id)}</ns4:RepositoryUniqueId>"
        f"<ns4:DocumentUniqueId>{_text(doc.unique_id)}</ns4:DocumentUniqueId>"
        f"<ns4:mimeType>{_text(doc.mime_type)}</ns4:mimeType>"
        f'<ns4:Document><xop:Include href={quoteattr(href)} xmlns:xop="{XOP}"/></ns4:Document>'
        "</ns4:DocumentResponse>"
    )


def response(documents: list[str], problems: list[Problem]) -> str:
    """The RetrieveDocumentSetResponse: Success, PartialSuccess (some found) or Failure."""
    status = SUCCESS if not problems else (PARTIAL if documents else FAILURE)
    registry = f'<ns2:RegistryResponse status="{status}"'
    if problems:
        listed = "".join(
            f"<ns2:RegistryError codeContext={quoteattr(p.context)} errorCode={quoteattr(p.code)}"
            f' severity="{ERROR}"/>'
            for p in problems
        )
        registry += f"><ns2:RegistryErrorList>{listed}</ns2:RegistryErrorList></ns2:RegistryResponse>"
    else:
        registry += "/>"
    return f"<ns4:RetrieveDocumentSetResponse {DECLARATIONS}>{registry}{''.join(documents)}</ns4:RetrieveDocumentSetResponse>"


def problem(name: str, **fields: str) -> Problem:
    entry = ERRORS[name]
    assert isinstance(entry, RegistryError)
    return Problem(entry.error_code, render_text(entry, fields))


# -- rules -----------------------------------------------------------------------------------------
def find(docs: Documents, tenant: str, ins: str, req: DocumentRequest) -> Document | Problem:
    """The document a DocumentRequest names in the patient's DMP, or the XDS error."""
    if req.repository != REPOSITORY_UNIQUE_ID:
        return problem("XDSUnknownRepositoryId", repository=req.repository)
    if not req.unique_id:
        return problem("xds_repository_error", what="DocumentUniqueId vide")
    doc = docs.get(tenant, unique_id=req.unique_id)
    if doc is None or doc.ins != ins[:15]:
        return problem("XDSDocumentUniqueIdError", unique_id=req.unique_id)
    return doc


def rows_of(doc: Document) -> list[str]:
    """The matrix rows a document's state adds to `TD3.2:normal`."""
    rows = []
    if doc.masked_ps:
        rows.append("TD3.2:masque")
    if doc.invisible_patient or doc.invisible_representants:
        rows.append("TD3.2:invisible")
    if doc.status in STATUS_ROWS:
        rows.append(STATUS_ROWS[doc.status])
    return rows


def require_readable(doc: Document, s: Secured) -> None:
    """PDT-INF-526 for one document, beyond the `TD3.2:normal` row `secure` checked."""
    for row in rows_of(doc):
        decision = rights.require(row, s.actor, s.access, s.caller.air)
        if decision.note == 6:
            who = visibility.Who(
                s.caller.ps, s.caller.structure, s.caller.mode, s.actor == "mt", s.caller.card_type == 2
            )
            shown = visibility.Doc(
                tuple(c.code for c in doc.confidentiality),
                doc.class_code.code if doc.class_code else "",
                (*doc.author_ids, *_legal(doc)),
                doc.structure_ids,
            )
            if not visibility.visible(shown, who):
                errors.fail("refus_masque")
        elif decision.note == 7:
            errors.fail("refus_masque_urgence", mode=rights.ACCESS_LABELS[s.access])


def _legal(doc: Document) -> tuple[str, ...]:
    ident = doc.legal_authenticator.split("^", 1)[0]
    return (ident,) if ident else ()


# -- handler ---------------------------------------------------------------------------------------
def retrieve(ctx: Context) -> Reply:
    ctx.ex.operation = "TD3.2"
    try:
        return _retrieve(ctx)
    except ServiceError as exc:
        if not isinstance(exc.error, RegistryError):
            raise
        # an XDS error of the whole request (or a fault rule naming one): a Failure answer
        ctx.ex.outcome = exc.outcome
        entry = exc.error
        context = exc.text or render_text(entry)
        payload = response([], [Problem(entry.error_code, context)])
        return ctx.protocol.answer(ctx.ex, payload, RESPONSE_ACTION, status=entry.http_status)


def _retrieve(ctx: Context) -> Reply:
    requests = read_request(ctx.payload)
    s = ctx.secure("TD3.2", row="TD3.2:normal")
    if not s.ins:
        errors.fail(
            "vihf_invalid",
            what="attribut obligatoire urn:oasis:names:tc:xacml:2.0:resource:resource-id absent",
        )
    assert s.state is not None
    if s.state.dmp != "open":
        errors.fail("XDSUnknownPatientId", what=s.ins)
    ctx.require_authorization(s)
    if not requests:
        errors.fail("xds_repository_error", what="aucun DocumentRequest")
    tenant = ctx.ex.tenant
    docs = Documents(ctx.sandbox.store)
    found: list[Document] = []
    problems: list[Problem] = []
    for req in requests:
        got = find(docs, tenant, s.ins, req)
        if isinstance(got, Problem):
            if req.unique_id.lower().startswith("urn:uuid:"):
                ctx.ex.findings.add(
                    "DMP-ITI43-ENTRYUUID",
                    "error",
                    f"DocumentUniqueId « {req.unique_id} » est un entryUUID : ITI-43 attend le uniqueId du document",
                    location="DocumentRequest/DocumentUniqueId",
                )
            problems.append(got)
        else:
            require_readable(got, s)
            found.append(got)
    attachments: list[Attachment] = []
    parts: list[str] = []
    for doc in found:
        content = docs.content(tenant, doc.unique_id)
        if content is None:  # metadata without bytes: not retrievable
            problems.append(problem("XDSDocumentUniqueIdError", unique_id=doc.unique_id))
            continue
        att = ctx.protocol.attachment(content, ATTACHMENT_TYPE)
        attachments.append(att)
        parts.append(document_response(doc, att.href))
    ctx.ex.details["documents"] = [
        {"unique_id": d.unique_id, "entry_uuid": d.entry_uuid, "status": d.status, "masked": d.masked_ps}
        for d in found
    ]
    ctx.ex.outcome = (
        f"{len(parts)} document(s)"
        if not problems
        else f"{'PartialSuccess' if parts else 'Failure'} {' '.join(p.code for p in problems)}"
    )
    reply = ctx.protocol.answer(ctx.ex, response(parts, problems), RESPONSE_ACTION, attachments)
    ctx.ex.response_body = journal_text(reply.body, attachments)
    ctx.ex.details["response_bytes"] = len(reply.body)  # the journal's size is the elided text's
    return reply


def journal_text(body: bytes, attachments: list[Attachment]) -> str:
    """The answer as the journal keeps it: the package with each document's bytes replaced by
    their size (the bytes are in the store; a 1 MiB document a call would fill the journal)."""
    chunks, at = [], 0
    for att in attachments:
        # right after its part's headers (bytes.replace of a 1 MiB needle costs 6 ms a call)
        header = body.find(f"Content-ID: <{att.header_id}>\r\n".encode(), at)
        start = body.find(b"\r\n\r\n", header) + 4 if header >= 0 else -1
        if start < 4 or memoryview(body)[start : start + len(att.data)] != att.data:
            continue
        chunks += [body[at:start], f"[{len(att.data)} octets : le document {att.header_id}]".encode()]
        at = start + len(att.data)
    chunks.append(body[at:])
    return b"".join(chunks).decode("utf-8", "replace")
