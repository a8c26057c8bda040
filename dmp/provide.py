"""TD2.1 / TD2.2: ITI-41 ProvideAndRegisterDocumentSet-b on the `repository` service (research
dmp.md §2.4, §2.5, §2.8, §3; issue 14). The pipeline, in the order the DMP judges:

    TD2.2 when the TLS card is a CPE (card type 2), else TD2.1; a SOAP 1.1 envelope sent as
        `application/soap+xml` (the official example) is answered in SOAP 1.2, as CXF does
    documents read (MTOM xop:Include or inline base64: dmp.provide_wire); metadata (dmp.metadata)
    Context.secure: VIHF, caller, rights (TD2.1 / TD2.2 rows), fault rules; the VIHF must name
        the patient; every patientId = the VIHF resource-id (XDSPatientIdDoesNotMatch), an open
        DMP (XDSUnknownPatientId), the PS not blocked
    ExtrinsicObject <-> xds:Document by id, case-insensitively (XDSMissingDocument /
        XDSMissingDocumentMetadata); mandatory metadata (XDSRegistryMetadataError), findings on
        UUIDs, value sets, XCN / XON, UTC times (dmp.xds_checks)
    EX_2.1-1140 (the caller is an author), PDT-INF-617 (TD2.2: author names not empty)
    hash / size slots against the bytes, uniqueIds unknown to the DMP, text/xml documents are CDA
    the lot's XAdES: its ExtrinsicObject, the `signs` association, mocks.pki.xades verdict
    RPLC (2007 or 2010 namespace): the replaced entry current, same patient, same author, the
        CDA relatedDocument naming it; it becomes Deprecated
    the CDA engine on each CDA (report: queued, strict: waited for, errors refuse)
    stored in one transaction, evidence dmp.document.accepted (dmp.provide_record), RegistryResponse

A RegistryError of the catalogue is answered as a Failure RegistryResponse (HTTP 200, the XDS
way); security and rights errors stay SOAP faults (the DMP habit, research §3.3). Nothing is
stored unless everything passed.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from dmp import errors, provide_record, provide_wire, xds_checks
from dmp import metadata as M
from dmp.documents import Document, Documents
from dmp.value_sets import value_sets
from mocks import soap
from mocks.cda import Context as CdaContext
from mocks.cda.parse import ParseError, parse
from mocks.errors import RegistryError, ServiceError
from mocks.harness import Reply, request_body
from mocks.pki.xades import verify_xades
from mocks.soap.protocol import SOAP_KEY

if TYPE_CHECKING:
    from lxml import etree

    from dmp.flow import Context, Secured

HL7 = "urn:hl7-org:v3"
JOURNAL_BODY = 65536  # the journal keeps the envelope, not the documents (as MSSanté caps its own)
CDA_MAX = 20 * 1024 * 1024  # the CDA engine's default cap, for our own header read


def provide(ctx: Context) -> Reply:
    ex = ctx.ex
    td = _td(ctx)
    ex.operation = td
    envelope = ctx.req.envelope
    multipart = ctx.req.multipart
    if multipart is not None:
        # the documents are in dmp_documents: the journal keeps the root part and names the others
        parts = ", ".join(f"<{p.content_id}> {len(p.data)} octets" for p in multipart.attachments)
        root = multipart.root.data[:JOURNAL_BODY].decode("utf-8", "replace")
        ex.request_body = f"{root}\n[pièces MTOM : {parts}]"
    ex.details["request_bytes"] = len(request_body(ctx.environ))
    if envelope.version_mismatch and envelope.declared_version and SOAP_KEY in ex.details:
        ex.details[SOAP_KEY]["version"] = envelope.declared_version
    try:
        return _provide(ctx, td)
    except ServiceError as err:
        entry = err.error
        if not isinstance(entry, RegistryError):
            raise
        ex.outcome = f"Failure {entry.error_code}"
        ex.details["registry_error"] = {"code": entry.error_code, "context": err.text}
        payload = provide_wire.failure(entry.error_code, err.text or errors.render_text(entry))
        return ctx.protocol.answer(ex, payload, provide_wire.RESPONSE_ACTION, status=entry.http_status)


def _td(ctx: Context) -> str:
    """TD2.2 is the feed of a CPE card (secrétariat médical); the message is the same ITI-41."""
    der = ctx.environ.get("segur.peercert")
    if not der:
        return "TD2.1"
    cert = ctx.sandbox.pki.identify(der, ctx.ex.tenant)
    if cert.kind != "cps_auth":
        return "TD2.1"
    try:
        pro = ctx.sandbox.population.professional(cert.persona)
    except ImportError:
        return "TD2.1"
    return "TD2.2" if pro is not None and int(getattr(pro, "card_type", 0) or 0) == 2 else "TD2.1"


def _cx(value: str) -> tuple[str, str]:
    """(INS, OID) of a CX `INS^^^&OID&ISO^NH[^^date]`."""
    parts = value.split("^")
    authority = parts[3].split("&") if len(parts) > 3 else []
    return parts[0], authority[1] if len(authority) > 1 else ""


def _provide(ctx: Context, td: str) -> Reply:
    ex, sandbox = ctx.ex, ctx.sandbox
    try:
        request = provide_wire.read_provide(ctx.payload, ctx.req)
    except soap.InvalidMessage as exc:
        ex.details["invalid"] = exc.reason
        errors.fail("malformed", f"malformed ({exc.reason})")
    objects = request.objects
    s = ctx.secure(td)
    if s.vihf.patient is None:
        errors.fail("vihf_invalid", what="attribut resource-id (patient) absent")
    ctx.require_not_blocked(s)
    if objects is None or not objects.packages:
        errors.fail(
            "XDSRegistryMetadataError", what="SubmitObjectsRequest sans lot de soumission (RegistryPackage)"
        )
    package = next((p for p in objects.packages if p.is_submission_set), objects.packages[0])
    patient = s.vihf.patient
    for where, pid in [("XDSSubmissionSet", package.patient_id)] + [
        (f"ExtrinsicObject {e.id}", e.patient_id) for e in objects.entries
    ]:
        if pid and _cx(pid) != (patient.ins, patient.oid):
            errors.fail(
                "XDSPatientIdDoesNotMatch", what=f"{where} patientId {pid} ≠ resource-id {patient.raw}"
            )
    if s.state is None or s.state.dmp != "open":
        errors.fail("XDSUnknownPatientId", what=patient.ins)
    sent = _pair(ctx, objects, request.documents)
    _metadata(ctx, objects, package)
    documents = [e for e in objects.entries if not e.is_signature]
    _authors(s, td, documents)
    docs = Documents(sandbox.store)
    digests = _integrity(docs, ex.tenant, objects, package, sent)
    cdas = _cdas(ctx, documents, sent)
    xades = _signature(ctx, objects, package, sent)
    replaced = _replacements(ctx, s, docs, objects, cdas)
    reports = _engine(ctx, documents, sent)
    if ex.findings.refuse:
        first = ex.findings.errors[0]
        name = "XDSRepositoryMetadataError" if first.rule.startswith("CDA-") else "XDSRegistryMetadataError"
        errors.fail(name, what=f"mode strict, {first.rule} : {first.message}")
    stored = provide_record.store(ctx, s, docs, objects, package, sent, digests, xades, replaced, reports)
    provide_record.evidence(
        ctx, s, [(d, reports.get(e.id)) for d, e in zip(stored, objects.entries, strict=True)]
    )
    ex.outcome = "Success"
    ex.details["documents"] = [
        {"uniqueId": d.unique_id, "entryUUID": d.entry_uuid, "kind": d.kind, "size": d.size} for d in stored
    ]
    return ctx.protocol.answer(ex, provide_wire.registry_response(), provide_wire.RESPONSE_ACTION)


def _pair(
    ctx: Context, objects: M.Objects, sent: tuple[provide_wire.Sent, ...]
) -> dict[str, provide_wire.Sent]:
    """ExtrinsicObject id -> its xds:Document (ids compared without case: the official example)."""
    symbolic = (
        [p.id for p in objects.packages] + [e.id for e in objects.entries] + [a.id for a in objects.links]
    )
    repeated = sorted({i for i in symbolic if symbolic.count(i) > 1})
    if repeated:
        errors.fail(
            "XDSRegistryMetadataError",
            what=f"identifiant répété dans RegistryObjectList : {', '.join(repeated)}",
        )
    by_id = {d.id: d for d in sent}
    folded = {d.id.lower(): d for d in sent}
    out: dict[str, provide_wire.Sent] = {}
    for entry in objects.entries:
        doc = by_id.get(entry.id) or folded.get(entry.id.lower())
        if doc is None:
            errors.fail("XDSMissingDocument", what=entry.id)
        if doc.id != entry.id:
            ctx.ex.findings.add("DMP-XDS-DOCUMENT-ID", "warning",
                                f"xds:Document id « {doc.id} » pour l'ExtrinsicObject « {entry.id} » (accepté)",
                                location=f"Document[@id='{doc.id}']")  # fmt: skip
        if doc.source == "inline":
            ctx.ex.findings.add("DMP-XDS-INLINE", "info", f"document {entry.id} en base64 dans l'enveloppe (accepté)",
                                location=f"Document[@id='{doc.id}']")  # fmt: skip
        elif doc.charset and doc.charset.lower().replace("-", "") not in ("utf8",):
            ctx.ex.findings.add("DMP-XDS-CHARSET", "info", f"pièce du document {entry.id} en charset {doc.charset}",
                                location=f"Document[@id='{doc.id}']")  # fmt: skip
        out[entry.id] = doc
    known = {e.id.lower() for e in objects.entries}
    for doc in sent:
        if doc.id.lower() not in known:
            errors.fail("XDSMissingDocumentMetadata", what=doc.id)
    return out


def _metadata(ctx: Context, objects: M.Objects, package: M.Package) -> None:
    engine = getattr(ctx.sandbox, "cda", None)
    data = getattr(engine, "data", None)
    sets = value_sets(data.root if data is not None else None)  # cached per folder; absent files skipped
    judged = [(f"lot {package.id}", xds_checks.check_package(package, sets))]
    judged += [(f"document {e.id}", xds_checks.check_entry(e, sets)) for e in objects.entries]
    for what, (missing, problems) in judged:
        if missing:
            errors.fail("XDSRegistryMetadataError", what=f"{what} : {', '.join(missing)} absent(s)")
        for p in problems:
            ctx.ex.findings.add(p.rule, p.severity, p.message, location=p.location)  # type: ignore[arg-type]


def _authors(s: Secured, td: str, documents: list[M.Entry]) -> None:
    """EX_2.1-1140: only an author may add (or replace) a document; PDT-INF-617 for TD2.2."""
    caller = s.caller
    by_structure = caller.mode != "DIRECTE" or s.actor == "cpe"
    for entry in documents:
        if by_structure:
            if caller.structure not in {sid for a in entry.authors for sid in a.structure_ids}:
                errors.fail(
                    "auteur_ex_2_1_1140", what="Aucun AuthorInstitution ne correspond à l'utilisateur du VIHF"
                )
        else:
            people = {a.person_id for a in entry.authors} | {entry.slot("legalAuthenticator").split("^")[0]}
            if caller.ps not in people:
                errors.fail(
                    "auteur_ex_2_1_1140",
                    what="Aucun auteur (authorPerson ou legalAuthenticator) ne correspond à l'utilisateur du VIHF",
                )
        if td == "TD2.2":
            for a in entry.authors:
                if a.person and xds_checks.names_empty(a.person):
                    errors.fail("auteur_sans_nom_xds", what=a.person)


def _integrity(
    docs: Documents, tenant: str, objects: M.Objects, package: M.Package, sent: dict[str, provide_wire.Sent]
) -> dict[str, str]:
    """The SHA-1 of each entry's bytes (by entry id), once the slots and uniqueIds are checked."""
    seen: set[str] = set()
    digests = {}
    for entry in objects.entries:
        data = sent[entry.id].data
        digest, given = hashlib.sha1(data).hexdigest(), entry.slot("hash")  # noqa: S324 - XDS hash is SHA-1
        if given and given.lower() != digest:
            errors.fail("XDSNonIdenticalHash", what=f"{entry.id} : hash {given}, SHA-1 des octets {digest}")
        size = entry.slot("size")
        if size and size != str(len(data)):
            errors.fail("XDSNonIdenticalSize", what=f"{entry.id} : size {size}, {len(data)} octets reçus")
        if entry.unique_id in seen or docs.exists(tenant, entry.unique_id):
            errors.fail("XDSDuplicateUniqueIdInRegistry", what=entry.unique_id)
        seen.add(entry.unique_id)
        digests[entry.id] = digest
    if docs.submission_set(tenant, unique_id=package.unique_id) is not None:
        errors.fail("XDSDuplicateUniqueIdInRegistry", what=f"lot {package.unique_id}")
    return digests


def _cdas(
    ctx: Context, documents: list[M.Entry], sent: dict[str, provide_wire.Sent]
) -> dict[str, etree._Element]:
    """The ClinicalDocument of each text/xml document; anything else in text/xml is refused."""
    out = {}
    for entry in documents:
        if entry.mime_type.split(";")[0].strip().lower() != "text/xml":
            continue
        try:
            out[entry.id] = parse(sent[entry.id].data, CDA_MAX).doc
        except ParseError as exc:
            where = f"Document[@id='{sent[entry.id].id}']"
            ctx.ex.findings.add("DMP-XDS-NOT-CDA", "error", f"document {entry.id} : {exc}", location=where)
            errors.fail(
                "XDSRepositoryMetadataError", what=f"{entry.id} (text/xml) n'est pas un CDA R2 : {exc}"
            )
    return out


def _signature(
    ctx: Context, objects: M.Objects, package: M.Package, sent: dict[str, provide_wire.Sent]
) -> dict[str, Any]:
    """The lot's XAdES: mandatory, linked by `signs`, verified (mocks.pki.xades)."""
    signatures = [e for e in objects.entries if e.is_signature]
    if not signatures:
        errors.fail(
            "XDSRegistryMetadataError",
            what="lot de soumission non signé : pas d'ExtrinsicObject de signature XAdES",
        )
    sig = signatures[0]
    if not any(
        link.type == M.SIGNS and link.source == sig.id and link.target == package.id for link in objects.links
    ):
        errors.fail(
            "XDSRegistryMetadataError", what=f"association {M.SIGNS} de {sig.id} vers {package.id} absente"
        )
    signed = {e.unique_id: sent[e.id].data for e in objects.entries if not e.is_signature}
    verdict = verify_xades(
        ctx.sandbox.pki, sent[sig.id].data, signed, ctx.ex.tenant, submission_set=package.unique_id
    )
    summary = {
        "valid": verdict.valid,
        "reasons": list(verdict.reasons),
        "signer": verdict.signer.subject if verdict.signer else None,
        "signer_kind": verdict.signer.kind if verdict.signer else None,
        "signing_time": verdict.signing_time_text,
        "signature_method": verdict.signature_method,
    }
    ctx.ex.details["xades"] = summary
    if not verdict.valid:
        errors.fail(
            "XDSRegistryMetadataError",
            what=f"signature XAdES du lot invalide : {verdict.failures[0].message}",
        )
    return summary


def _parent_id(doc: etree._Element) -> str | None:
    """The uniqueId the CDA's relatedDocument RPLC names (root, or root^extension)."""
    for related in doc.iterfind(f"{{{HL7}}}relatedDocument"):
        if related.get("typeCode") == "RPLC":
            ident = related.find(f"{{{HL7}}}parentDocument/{{{HL7}}}id")
            if ident is not None:
                root, ext = ident.get("root", ""), ident.get("extension", "")
                return f"{root}^{ext}" if ext else root
            return ""
    return None


def _replacements(
    ctx: Context, s: Secured, docs: Documents, objects: M.Objects, cdas: dict[str, etree._Element]
) -> dict[str, Document]:
    """Entry id -> the document version it replaces (RPLC, 2007 or 2010 namespace)."""
    out: dict[str, Document] = {}
    tenant = ctx.ex.tenant
    for link in objects.links:
        if link.type not in M.RPLC:
            continue
        previous = docs.get(tenant, entry_uuid=link.target)
        if previous is None or objects.entry(link.source) is None:
            errors.fail(
                "XDSRegistryMetadataError", what=f"RPLC {link.id} : document remplacé {link.target} inconnu"
            )
        latest = docs.get(tenant, lid=previous.lid)
        if latest is None or latest.entry_uuid != previous.entry_uuid or previous.status != "Approved":
            errors.fail("XDSRegistryMetadataError",
                        what=f"RPLC {link.id} : {link.target} n'est pas la version courante approuvée ({previous.status})")  # fmt: skip
        if previous.ins != s.ins:
            errors.fail(
                "XDSPatientIdDoesNotMatch", what=f"document remplacé {previous.unique_id} d'un autre patient"
            )
        caller = s.caller
        by_structure = caller.mode != "DIRECTE" or s.actor == "cpe"
        people = set(previous.author_ids) | {previous.legal_authenticator.split("^")[0]}
        if (caller.structure not in previous.structure_ids) if by_structure else (caller.ps not in people):
            errors.fail("refus_auteur_maj", td=ctx.ex.operation)
        doc = cdas.get(link.source)
        if doc is not None and _parent_id(doc) != previous.unique_id:
            errors.fail("XDSRegistryMetadataError",
                        what=f"RPLC : le relatedDocument RPLC du CDA ({_parent_id(doc) or 'absent'}) ne désigne pas "
                             f"le document remplacé {previous.unique_id}")  # fmt: skip
        out[link.source] = previous
    for entry_id, doc in cdas.items():
        if entry_id not in out and _parent_id(doc):
            ctx.ex.findings.add("DMP-XDS-RPLC", "warning",
                                f"le CDA {entry_id} remplace {_parent_id(doc)} mais le lot n'a pas d'association RPLC",
                                location="relatedDocument")  # fmt: skip
    return out


def _engine(ctx: Context, documents: list[M.Entry], sent: dict[str, provide_wire.Sent]) -> dict[str, Any]:
    """Every document to the CDA engine (report mode: queued, never waited for)."""
    engine = getattr(ctx.sandbox, "cda", None)
    if engine is None:
        return {}
    strict = ctx.ex.findings.mode == "strict"
    out = {}
    for entry in documents:
        cctx = CdaContext(tenant=ctx.ex.tenant, service="dmp", xds=_xds(entry), name=entry.id)
        data = sent[entry.id].data
        out[entry.id] = (
            engine.validate(data, cctx, exchange=ctx.ex)
            if strict
            else engine.submit(data, cctx, exchange=ctx.ex)
        )
    ctx.ex.details["cda_reports"] = [r.id for r in out.values() if r.id is not None]
    return out


def _xds(entry: M.Entry) -> dict[str, object]:
    """The mapping the CDA engine compares with the header (mocks.cda Context.xds)."""
    out: dict[str, object] = {}
    for key, scheme in (("typeCode", M.DE_TYPE), ("formatCode", M.DE_FORMAT), ("practiceSettingCode", M.DE_PRACTICE),
                        ("healthcareFacilityTypeCode", M.DE_HCF)):  # fmt: skip
        code = entry.code(scheme)
        if code is not None:
            out[key] = {"code": code.code, "scheme": code.scheme}
    if entry.confidentiality:
        out["confidentialityCode"] = [c.code for c in entry.confidentiality]
    for key in ("languageCode", "creationTime", "serviceStartTime", "serviceStopTime"):
        if entry.slot(key):
            out[key] = entry.slot(key)
    out["uniqueId"], out["patientId"] = entry.unique_id, entry.patient_id
    return out
