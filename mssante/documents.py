"""Findings on the IHE_XDM.ZIP of a submitted message (research mssante.md §2.2, §1.4;
cda-segur.md §C.2 MSS.01, MSS.02, MSS.21, DOC.05), in this order:

    1. the archive read safely (mssante.xdm): corrupt, bomb, zip-slip, too many entries
    2. the layout: INDEX.HTM and README.TXT at the root, IHE_XDM/SUBSETnn/METADATA.XML, 8.3
       upper-case names (ISO 9660 level 1)
    3. METADATA.XML (mssante.metadata): XML, ebRIM SubmitObjectsRequest, one DocumentEntry per
       document; its URI / hash (SHA-1) / size slots against the files
    4. each CDA: its header against its DocumentEntry (author here; typeCode, uniqueId,
       patientId, confidentiality, times, formats through the CDA engine's XDS rules), then the
       CDA engine itself (`sandbox.cda.submit`, or `validate` in strict mode) with the PDF
       attachment as the N1's twin (CDA-N1-TWIN-PDF: byte-identical) and the professional
       recipients (CDA-RECIPIENT, DOC.05)
    5. the patient rules: no INVISIBLE_PATIENT document to a patient mailbox, no MASQUE_PS
       document to a professional mailbox — from the document's own confidentialityCode (the
       METADATA.XML classifications and the CDA header: what the LGC sends)
    6. a replacement (relatedDocument RPLC): the parent known, the same setId, versionNumber + 1
       (MSS.02); a new uniqueId under a known setId without RPLC is a version error too

Everything found about the documents goes to `sub.documents` (mssante.submission.DocumentInfo),
for the evidence `mss.message.accepted` and the receipts.
"""

from __future__ import annotations

from mocks.cda import Context as CdaContext
from mocks.findings import Findings, Rule
from mssante import cda_header, history, metadata, xdm
from mssante.content import qualified
from mssante.submission import DocumentInfo, Submission

XDM = "IHE ITI TF-1 §16 et TF-3 §4.2 (XDM) ; CI-SIS volet Échange de documents de santé"
RULES = [
    Rule("MSS-XDM-ZIP", "error", "IHE_XDM.ZIP lisible (archive ZIP non corrompue, non chiffrée)", XDM),
    Rule("MSS-XDM-BOMB", "error", "IHE_XDM.ZIP raisonnable : au plus 100 Mio décompressés, rapport de compression ≤ 100", XDM),
    Rule("MSS-XDM-PATH", "error", "Chemins de l'archive relatifs, sans « .. » ni lecteur (zip-slip)", XDM),
    Rule("MSS-XDM-TOO-MANY", "error", "Au plus 1 000 entrées dans l'archive", XDM),
    Rule("MSS-XDM-LAYOUT", "error", "INDEX.HTM et README.TXT à la racine, dossier IHE_XDM/SUBSETnn", XDM),
    Rule("MSS-XDM-NAME-83", "error", "Noms de fichiers 8.3 en majuscules (ISO 9660 niveau 1)", XDM),
    Rule("MSS-XDM-METADATA-MISSING", "error", "IHE_XDM/SUBSET01/METADATA.XML présent", XDM),
    Rule("MSS-XDM-METADATA-XML", "error", "METADATA.XML est un lcm:SubmitObjectsRequest ebRIM 3.0 bien formé", XDM),
    Rule("MSS-XDM-URI", "error", "Slot URI de chaque document = un fichier du sous-dossier ; chaque fichier décrit", XDM),
    Rule("MSS-XDM-HASH", "error", "Slot hash = SHA-1 du fichier", "IHE ITI TF-3 §4.2.3.2.9"),
    Rule("MSS-XDM-SIZE", "error", "Slot size = taille du fichier en octets", "IHE ITI TF-3 §4.2.3.2.22"),
    Rule("MSS-XDM-AUTHOR", "error", "authorPerson de METADATA.XML = auteur de l'en-tête CDA", XDM),
    Rule("MSS-XDM-RECIPIENT", "info", "intendedRecipient du lot de soumission = destinataires du message", "IHE ITI TF-3 §4.2.3.3.7 (XDM)"),
    Rule("MSS-XDM-NO-PDF", "warning", "Message IHE_XDM accompagné du PDF du document", "DSR LGC vague 1, MSS.01 et MSS.21"),
    Rule("MSS-INVISIBLE-PATIENT", "error", "Pas de document INVISIBLE_PATIENT adressé à la BAL du patient", "CI-SIS, règles de gestion MSSanté (métadonnées MetaDMPMSS)"),
    Rule("MSS-MASQUE-PS", "error", "Pas de document MASQUE_PS adressé à une BAL de professionnel", "CI-SIS, règles de gestion MSSanté (métadonnées MetaDMPMSS)"),
    Rule("MSS-REPLACE-VERSION", "error", "Nouvelle version : relatedDocument RPLC, même setId, versionNumber + 1", "DSR LGC vague 1, MSS.02 ; CI-SIS structuration minimale"),
    Rule("MSS-REPLACE-PARENT", "warning", "Document remplacé connu (envoyé auparavant par MSSanté dans ce tenant)", "DSR LGC vague 1, MSS.02"),
]  # fmt: skip
SEVERITY = {r.id: r.severity for r in RULES}
PS_TYPES = ("PER", "ORG", "APP", "CAB")


def check_xdm(sub: Submission, findings: Findings) -> None:
    att = sub.attachments
    if att.zip is None or sub.kind in ("mdn", "error-mail"):
        return
    sub.kind = "xdm"
    archive = xdm.read(att.zip)
    sub.xdm_files = archive.names
    for p in archive.problems:
        findings.add(p.rule, SEVERITY[p.rule], p.message, location=p.location)
    if not archive.readable:
        return
    upper = {n.upper() for n in archive.names}
    for required in ("INDEX.HTM", "README.TXT"):
        if required not in upper:
            findings.add(
                "MSS-XDM-LAYOUT", "error", f"{required} absent de la racine de l'archive.", location=required
            )
    bad = [n for n in archive.names if xdm.not_83(n) and not xdm.unsafe_path(n)]
    if bad:
        shown = ", ".join(bad[:5]) + (f" (+{len(bad) - 5})" if len(bad) > 5 else "")
        findings.add("MSS-XDM-NAME-83", "error", f"noms hors 8.3 majuscules : {shown}.", location=bad[0])
    subsets = archive.subsets()
    if not subsets:
        findings.add(
            "MSS-XDM-LAYOUT", "error", "aucun dossier IHE_XDM/SUBSETnn dans l'archive.", location="IHE_XDM/"
        )
        if not any(p.rule in ("MSS-XDM-BOMB", "MSS-XDM-TOO-MANY") for p in archive.problems):
            findings.add(
                "MSS-XDM-METADATA-MISSING",
                "error",
                "IHE_XDM/SUBSET01/METADATA.XML absent.",
                location="IHE_XDM/SUBSET01/METADATA.XML",
            )
        return
    for folder in subsets:
        _subset(sub, findings, archive, folder)
    if not att.pdf_parts and sub.documents:
        findings.add(
            "MSS-XDM-NO-PDF",
            "warning",
            "Message IHE_XDM sans le PDF du document en pièce jointe.",
            location="application/pdf",
        )


def _subset(sub: Submission, findings: Findings, archive: xdm.Archive, folder: str) -> None:
    where = folder + "METADATA.XML"
    data = archive.file(where)
    if data is None:
        if not any(p.rule in ("MSS-XDM-BOMB", "MSS-XDM-TOO-MANY") for p in archive.problems):
            findings.add("MSS-XDM-METADATA-MISSING", "error", f"{where} absent.", location=where)
        return
    try:
        meta = metadata.parse(data)
    except metadata.MetadataError as exc:
        findings.add("MSS-XDM-METADATA-XML", "error", str(exc), location=where)
        return
    if not meta.entries:
        findings.add(
            "MSS-XDM-METADATA-XML",
            "error",
            "METADATA.XML ne décrit aucun document (ExtrinsicObject).",
            location=where,
        )
    _intended(sub, findings, meta, where)
    referenced: set[str] = {where.upper()}
    for entry in meta.entries:
        uri = entry.uri
        if not uri:
            findings.add("MSS-XDM-URI", "error", f"DocumentEntry {entry.id} sans slot URI.", location=where)
            continue
        name = folder + uri
        referenced.add(name.upper())
        body = archive.file(name)
        if body is None:
            findings.add(
                "MSS-XDM-URI",
                "error",
                f"URI {uri!r} de {entry.id} : fichier absent de {folder}.",
                location=name,
            )
            continue
        _integrity(findings, entry, name, body)
        _document(sub, findings, entry, name, body)
    for n in archive.names:
        if n.upper().startswith(folder.upper()) and not n.endswith("/") and n.upper() not in referenced:
            findings.add(
                "MSS-XDM-URI",
                "warning",
                f"{n} n'est décrit par aucun DocumentEntry de METADATA.XML.",
                location=n,
            )


def _intended(sub: Submission, findings: Findings, meta: metadata.Metadata, where: str) -> None:
    listed = {r.rpartition("^")[2].lower() for r in meta.intended_recipients}
    if not listed:
        findings.add(
            "MSS-XDM-RECIPIENT", "info", "Lot de soumission sans intendedRecipient (accepté).", location=where
        )
        return
    missing = [r for r in sub.recipients if r.lower() not in listed]
    if missing:
        findings.add(
            "MSS-XDM-RECIPIENT", "info", f"intendedRecipient sans {', '.join(missing)}.", location=where
        )


def _integrity(findings: Findings, entry: metadata.Entry, name: str, body: bytes) -> None:
    import hashlib

    digest = hashlib.sha1(body).hexdigest()
    given = entry.slot("hash").lower()
    if given != digest:
        findings.add(
            "MSS-XDM-HASH",
            "error",
            f"{entry.uri} : hash {given or '(absent)'} ≠ SHA-1 du fichier {digest}.",
            location=name,
        )
    size = entry.slot("size")
    if size != str(len(body)):
        findings.add(
            "MSS-XDM-SIZE",
            "error",
            f"{entry.uri} : size {size or '(absent)'} ≠ {len(body)} octets.",
            location=name,
        )


def _document(sub: Submission, findings: Findings, entry: metadata.Entry, name: str, body: bytes) -> None:
    info = DocumentInfo(uri=name, size=len(body))
    sub.documents.append(info)
    try:
        h = cda_header.read(body)
    except cda_header.HeaderError:
        h = None  # the CDA engine says why (CDA-PARSE)
    if h is not None:
        info.unique_id, info.type_code, info.type_label, info.title = (
            h.unique_id,
            h.code.code,
            h.code.display,
            h.title,
        )
        info.ins, info.set_id, info.version, info.replaces = h.ins, h.set_id, h.version, h.replaces
        info.level, info.family, info.given, info.birth_time, info.sex = (
            h.level,
            h.family,
            h.given,
            h.birth_time,
            h.sex,
        )
        info.author, info.structure = h.author.id, h.author.org_id
        info.ins_qualified = qualified(sub, h.ins)
        info.confidentiality = sorted({*entry.confidentiality, h.confidentiality.code} - {""})
        _author(findings, entry, h, name)
        _confidentiality(sub, findings, info, name)
        _version(sub, findings, h, name)
    _engine(sub, entry, name, body, info, h)


def _author(findings: Findings, entry: metadata.Entry, h: cda_header.Header, name: str) -> None:
    people = [v.split("^")[0] for a in entry.authors for v in a.get("authorPerson", [])]
    if not people:
        findings.add(
            "MSS-XDM-AUTHOR", "error", f"{entry.uri} : aucun authorPerson dans METADATA.XML.", location=name
        )
    elif h.author.id not in people:
        findings.add("MSS-XDM-AUTHOR", "error",
                     f"{entry.uri} : authorPerson {', '.join(people)} ≠ auteur du CDA {h.author.id or '(absent)'}.", location=name)  # fmt: skip


def _confidentiality(sub: Submission, findings: Findings, info: DocumentInfo, name: str) -> None:
    if "INVISIBLE_PATIENT" in info.confidentiality:
        for r in sub.recipients:
            if sub.is_patient(r):
                findings.add("MSS-INVISIBLE-PATIENT", "error",
                             f"{info.uri} est INVISIBLE_PATIENT (non visible par le patient) et adressé à {r}.", location=name)  # fmt: skip
    if "MASQUE_PS" in info.confidentiality:
        for r in sub.recipients:
            if not sub.is_patient(r):
                findings.add("MSS-MASQUE-PS", "error",
                             f"{info.uri} est MASQUE_PS (masqué aux professionnels) et adressé à {r}.", location=name)  # fmt: skip


def _version(sub: Submission, findings: Findings, h: cda_header.Header, name: str) -> None:
    ctx = sub.context
    if ctx is None or not h.set_id:
        return
    store, tenant = ctx.sandbox.store, ctx.tenant
    version = history.version_number(h.version)
    if h.replaces:
        parents = history.previous(store, tenant, unique_id=h.replaces)
        if not parents:
            findings.add("MSS-REPLACE-PARENT", "warning",
                         f"Le document remplacé {h.replaces} n'a pas été envoyé par MSSanté dans ce tenant.", location=name)  # fmt: skip
            return
        parent = parents[0]
        if parent["set_id"] != h.set_id:
            findings.add(
                "MSS-REPLACE-VERSION",
                "error",
                f"setId {h.set_id} ≠ setId {parent['set_id']} du document remplacé.",
                location=name,
            )
        old = history.version_number(parent["version"])
        if old is not None and version != old + 1:
            findings.add("MSS-REPLACE-VERSION", "error",
                         f"versionNumber {h.version or '(absent)'} : {old + 1} attendu (version {old} remplacée).", location=name)  # fmt: skip
        return
    earlier = [
        d
        for d in history.previous(store, tenant, set_id=h.set_id, direction="sent")
        if d["unique_id"] != h.unique_id
    ]
    if earlier:
        findings.add("MSS-REPLACE-VERSION", "error",
                     f"setId {h.set_id} déjà envoyé (document {earlier[0]['unique_id']}) : une nouvelle version porte "
                     "relatedDocument typeCode=\"RPLC\" vers le document remplacé.", location=name)  # fmt: skip


def _twin(sub: Submission, info: DocumentInfo, body: bytes) -> bytes | None:
    pdfs = sub.attachments.pdfs
    if info.level != "N1" or not pdfs:
        return None
    if len(pdfs) == 1:
        return pdfs[0][1]
    ctx = sub.context
    if ctx is not None:
        try:
            inside, _ = ctx.sandbox.cda.extract_pdf(body)
        except Exception:  # noqa: BLE001 - the engine reports an unreadable body itself
            inside = b""
        for _, pdf in pdfs:
            if pdf == inside:
                return pdf
    return pdfs[0][1]


def _engine(
    sub: Submission,
    entry: metadata.Entry,
    name: str,
    body: bytes,
    info: DocumentInfo,
    h: cda_header.Header | None,
) -> None:
    ctx = sub.context
    if ctx is None or not ctx.validate_cda:
        return
    professionals = [r for r in sub.recipients if not sub.is_patient(r)]
    cctx = CdaContext(
        tenant=ctx.tenant,
        service="mss",
        xds=entry.xds(),
        twin_pdf=_twin(sub, info, body),
        recipients=professionals or None,
        name=name,
    )
    engine = ctx.sandbox.cda
    ex = ctx.exchange
    strict = ex is not None and ex.findings.mode == "strict"
    report = engine.validate(body, cctx, exchange=ex) if strict else engine.submit(body, cctx, exchange=ex)
    info.cda_report = report.id
