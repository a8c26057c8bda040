"""Step 6: the DMP, in direct mode (the professional's CPS: authentication certificate for TLS 1.2,
signature key for the VIHF and the XAdES), SOAP 1.2 with WS-Addressing and the VIHF in
`wsse:Security` (docs/services/dmp.md; research dmp.md §1.2, §2):

    TD0.2  patients       PRPA_IN201307UV02 TEST_EXST: does the DMP exist, am I authorised?
    TD0.3  habilitations  setAuthorization AJOUT when the authorisation is missing
    TD2.1  repository     ITI-41 ProvideAndRegisterDocumentSet-b in MTOM, the lot signed (XAdES)
    TD3.1  registry       ITI-18 RegistryStoredQuery FindDocuments (LeafClass)
    TD3.2  repository     ITI-43 RetrieveDocumentSet by uniqueId (the answer is always MTOM)
    TD3.3a registry       ITI-57 UpdateDocumentSet: a new metadata version with MASQUE_PS
    TD2.1  repository     ITI-41 with an RPLC association: the letter's version 2
    TD3.3c registry       ITI-57 UpdateAvailabilityStatus Approved → Deleted

Requests are built with lxml and sent with httpx; the MTOM request is a `multipart/related`
written here (the shape of DRIMbox's, research dmp.md §1.2), the MTOM answer read with
requests-toolbelt's MultipartDecoder.

Over 400 lines on purpose: the eight DMP transactions of the workflow stay side by side in one
module an editor copies whole (each is a short step function; the metadata are in demo/xds.py,
the signature in demo/xades.py).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from lxml import etree
from requests_toolbelt.multipart.decoder import MultipartDecoder

from demo import xds
from demo.document import DOCUMENT_INS_OID, Letter, make_letter, oid
from demo.run import Failed, Run
from demo.saml import security, vihf
from demo.xades import sign_lot

SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
WSA = "http://www.w3.org/2005/08/addressing"
HL7 = "urn:hl7-org:v3"
RS = "urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0"
QUERY = "urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0"
SUCCESS = "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success"
APPROVED = "urn:oasis:names:tc:ebxml-regrep:StatusType:Approved"
DELETED = "urn:asip:ci-sis:2010:StatusType:Deleted"
REPOSITORY = "1.2.250.1.213.4.1.1.1.2"
FIND_DOCUMENTS = "urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)


@dataclass
class Answer:
    status: int
    root: etree._Element | None
    parts: dict[str, bytes] = field(default_factory=dict)  # MTOM attachments by Content-ID

    @property
    def fault(self) -> str | None:
        if self.root is None:
            return f"HTTP {self.status} sans enveloppe SOAP"
        fault = self.root.find(f".//{{{SOAP12}}}Fault")
        if fault is None:
            return None
        codes = [v.text or "" for v in fault.iter(f"{{{SOAP12}}}Value")]
        reason = fault.findtext(f".//{{{SOAP12}}}Text") or ""
        return f"{' / '.join(c.split(':')[-1] for c in codes)} : {reason}"


def _patient(run: Run) -> Any:
    """The patient of the DMP calls: the letter's (another one under --fail ins-non-qualifie)."""
    return run.letter_patient if run.has("letter_patient") else run.patient


def _envelope(run: Run, action: str, to: str, body: etree._Element, *, signer: str = "cps_sign") -> bytes:
    patient = _patient(run)
    token = vihf(run.cast, patient.ins, DOCUMENT_INS_OID, run.creds[signer])
    env = etree.Element(f"{{{SOAP12}}}Envelope", nsmap={"soap": SOAP12})
    header = etree.SubElement(env, f"{{{SOAP12}}}Header")
    must = {f"{{{SOAP12}}}mustUnderstand": "true"}
    for tag, text in (("MessageID", f"urn:uuid:{uuid.uuid4()}"), ("To", to)):
        etree.SubElement(header, f"{{{WSA}}}{tag}", nsmap={None: WSA}).text = text
    reply = etree.SubElement(header, f"{{{WSA}}}ReplyTo", nsmap={None: WSA}, **must)
    etree.SubElement(reply, f"{{{WSA}}}Address").text = f"{WSA}/anonymous"
    etree.SubElement(header, f"{{{WSA}}}Action", nsmap={None: WSA}, **must).text = action
    header.append(security(token))
    etree.SubElement(env, f"{{{SOAP12}}}Body").append(body)
    return etree.tostring(env, xml_declaration=True, encoding="UTF-8")


def _endpoint(run: Run, service: str) -> str:
    return f"{run.sandbox.url('dmp')}/si-dmp-server/v2/services/{service}"


def _read(response: httpx.Response) -> Answer:
    ctype = response.headers.get("content-type", "")
    parts: dict[str, bytes] = {}
    data = response.content
    if ctype.startswith("multipart/related"):
        decoder = MultipartDecoder(response.content, ctype)
        data = decoder.parts[0].content
        for part in decoder.parts[1:]:
            cid = part.headers.get(b"Content-ID", b"").decode().strip("<>")
            parts[cid] = part.content
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError:
        root = None
    return Answer(response.status_code, root, parts)


def call(
    run: Run,
    service: str,
    action: str,
    body: etree._Element,
    *,
    signer: str = "cps_sign",
    attachments: dict[str, tuple[str, bytes]] | None = None,
) -> Answer:
    """One DMP call over mutual TLS with the CPS authentication certificate; MTOM when
    `attachments` ({content id: (content type, bytes)}) are given."""
    url = _endpoint(run, service)
    envelope = _envelope(run, action, url, body, signer=signer)
    headers = {"X-Sandbox-Tenant": run.sandbox.tenant}
    if attachments is None:
        headers["Content-Type"] = f'application/soap+xml; charset=UTF-8; action="{action}"'
        content = envelope
    else:
        boundary = f"MIMEBoundary_{uuid.uuid4().hex}"
        root_type = f'application/xop+xml; charset=UTF-8; type="application/soap+xml"; action="{action}"'
        chunks = [
            f"--{boundary}\r\nContent-Type: {root_type}\r\nContent-Transfer-Encoding: binary\r\n"
            f"Content-ID: <root@segur-demo>\r\n\r\n".encode(),
            envelope,
            b"\r\n",
        ]
        for cid, (ctype, data) in attachments.items():
            chunks += [
                f"--{boundary}\r\nContent-Type: {ctype}\r\nContent-Transfer-Encoding: binary\r\n"
                f"Content-ID: <{cid}>\r\n\r\n".encode(),
                data,
                b"\r\n",
            ]
        chunks.append(f"--{boundary}--\r\n".encode())
        content = b"".join(chunks)
        headers["Content-Type"] = (
            f'multipart/related; boundary="{boundary}"; type="application/xop+xml"; start="<root@segur-demo>"; '
            f'start-info="application/soap+xml"; action="{action}"'
        )
    with httpx.Client(verify=run.tls(run.creds["cps_auth"]), timeout=60) as client:
        return _read(client.post(url, content=content, headers=headers))


def _registry_errors(root: etree._Element) -> list[str]:
    return [
        f"{e.get('errorCode')} {e.get('codeContext') or ''}".strip()
        for e in root.iter(f"{{{RS}}}RegistryError")
    ]


def _registry_ok(answer: Answer, what: str) -> etree._Element:
    if answer.fault:
        raise Failed(f"{what} : faute SOAP {answer.fault}")
    assert answer.root is not None
    response = answer.root.find(f".//{{{RS}}}RegistryResponse")
    if response is None:
        response = next(answer.root.iter(f"{{{QUERY}}}AdhocQueryResponse"), None)
    if response is None or response.get("status") != SUCCESS:
        raise Failed(
            f"{what} : {', '.join(_registry_errors(answer.root)) or 'statut ' + str(response.get('status') if response is not None else '?')}"
        )
    return response


# -- TD0.2, TD0.3 ------------------------------------------------------------------------------------
def _td02_body(run: Run) -> etree._Element:
    H = f"{{{HL7}}}"
    msg = etree.Element(H + "PRPA_IN201307UV02", nsmap={None: HL7}, ITSVersion="XML_1.0")

    def sub(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
        el = etree.SubElement(parent, H + tag, **attrs)
        el.text = text
        return el

    sub(msg, "id", root="1.2.250.1.999.1.1", extension=str(uuid.uuid4()))
    sub(msg, "creationTime", value=datetime.now(UTC).strftime("%Y%m%d%H%M%S"))
    sub(msg, "interactionId", root="2.16.840.1.113883.1.6", extension="PRPA_IN201307UV02")
    sub(msg, "processingCode", code="D")
    sub(msg, "processingModeCode", code="T")
    sub(msg, "acceptAckCode", code="AL")
    for role, ident, name in (
        ("receiver", "1.2.250.1.213.4.1.1.1", "DMP"),
        ("sender", "1.2.250.1.999.1", run.cast.lps_name),
    ):
        device = sub(
            sub(msg, role, typeCode="RCV" if role == "receiver" else "SND"),
            "device",
            classCode="DEV",
            determinerCode="INSTANCE",
        )
        sub(device, "id", root=ident)
        sub(device, "softwareName", name)
    act = sub(msg, "controlActProcess", classCode="CACT", moodCode="EVN")
    sub(act, "reasonCode", code="TEST_EXST", codeSystem="1.2.250.1.213.1.1.4.11")
    query = sub(act, "queryByParameter")
    sub(query, "queryId", root="1.2.250.1.999.1.2", extension=str(uuid.uuid4())[:8])
    sub(query, "statusCode", code="new")
    ident = sub(sub(query, "parameterList"), "patientIdentifier")
    sub(ident, "value", root=DOCUMENT_INS_OID, extension=_patient(run).ins)
    sub(ident, "semanticsText", "Patient.id")
    return msg


def step_td02(run: Run) -> None:
    """DMP TD0.2 : test d'existence du DMP et de l'autorisation (PRPA_IN201307UV02)

    docs/services/dmp.md; research dmp.md §2.1 (VIHF 3.0 signé par la clé de signature CPS),
    §2.2 (TEST_EXST, queryResponseCode, AUTORISATION, STATUT_MT); TLS 1.2 + CPS authentification.
    """
    preset = run.preset == "vihf-cle-auth"
    signer = "cps_auth" if preset else "cps_sign"
    if preset:
        run.say("--fail vihf-cle-auth : VIHF signé avec la clé d'AUTHENTIFICATION de la CPS")
    answer = call(run, "patients", "urn:hl7-org:v3:PRPA_IN201307UV02", _td02_body(run), signer=signer)
    if answer.fault:
        if preset and "DMPInvalidCertificate" in answer.fault:
            run.expect(f"faute SOAP {answer.fault}")
            return
        raise Failed(f"TD0.2 : faute SOAP {answer.fault}")
    if preset:
        raise Failed("la faute DMPInvalidCertificate était attendue")
    assert answer.root is not None
    code = answer.root.find(f".//{{{HL7}}}queryResponseCode")
    found = code.get("code") if code is not None else "?"
    words: dict[str, str] = {}
    for line in answer.root.iter(f"{{{HL7}}}attentionLine"):
        key = line.find(f"{{{HL7}}}keyWordText")
        value = line.find(f"{{{HL7}}}value")
        if key is not None and value is not None:
            words[key.get("code", "")] = value.get("code") or value.get("value") or ""
    run.say(f"DMP {'existant' if found == 'OK' else 'absent'} (queryResponseCode {found}) ; {words}")
    if found != "OK":
        raise Failed(f"le DMP de {_patient(run).ins} n'existe pas (code {found})")
    run.keep(dmp_authorisation=words.get("AUTORISATION", ""))


def step_td03(run: Run) -> None:
    """DMP TD0.3 : se déclarer autorisée si nécessaire (setAuthorization AJOUT)

    docs/services/dmp.md; research dmp.md §2.3: habilitations, réponse DMPOk.
    """
    if run.dmp_authorisation == "VALIDE":
        run.say("autorisation VALIDE : TD0.3 non nécessaire")
        return
    body = etree.Element(
        "{urn:si-dmp-habilitations}setAuthorization", nsmap={None: "urn:si-dmp-habilitations"}
    )
    etree.SubElement(body, "{urn:si-dmp-habilitations}action").text = "AJOUT"
    answer = call(
        run, "habilitations", "urn:si-dmp-habilitations:HabilitationsEndPoint:setAuthorization", body
    )
    if answer.fault or answer.root is None:
        raise Failed(f"TD0.3 : {answer.fault}")
    status = answer.root.findtext(".//{urn:si-dmp-habilitations}status")
    context = answer.root.findtext(".//{urn:si-dmp-habilitations}context")
    run.say(f"setAuthorization AJOUT => {status} {context or ''}")
    if status != "DMPOk":
        raise Failed(f"TD0.3 : statut {status}")


# -- TD2.1 --------------------------------------------------------------------------------------------
def feed(
    run: Run, letter: Letter, *, replaces_entry: str | None = None, signed: bool = True
) -> tuple[str, Answer]:
    """ITI-41 of one letter in a signed lot; returns the submission set uniqueId and the answer."""
    ss_uid, sig_uid, when = oid(), oid(), datetime.now(UTC).replace(microsecond=0)
    body = xds.provide_and_register(
        run.cast,
        letter,
        ss_uid=ss_uid,
        sig_uid=sig_uid,
        when=when,
        signed=signed,
        replaces_entry=replaces_entry,
    )
    parts = {"document@segur-demo": ("text/xml; charset=UTF-8", letter.cda)}
    if signed:
        signature = sign_lot(run.creds["cps_sign"], ss_uid, {letter.unique_id: letter.cda})
        parts["signature@segur-demo"] = ("text/xml; charset=UTF-8", signature)
    answer = call(
        run, "repository", "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b", body, attachments=parts
    )
    return ss_uid, answer


def step_td21(run: Run) -> None:
    """DMP TD2.1 : alimenter le DMP (ITI-41 en MTOM, lot signé XAdES)

    research dmp.md §2.4–2.5 (exemple officiel TD2.1, métadonnées XDS, signature XAdES du lot
    avec la clé de signature CPS, association signs); issue 14.
    """
    letter: Letter = run.letter
    unsigned = run.preset == "xades-absente"
    if unsigned:
        run.say("--fail xades-absente : lot envoyé sans sa signature XAdES")
    ss_uid, answer = feed(run, letter, signed=not unsigned)
    if unsigned:
        refused = (
            answer.fault or ", ".join(_registry_errors(answer.root))
            if answer.root is not None
            else answer.fault
        )
        if refused:
            run.expect(f"lot non signé refusé : {refused}")
            return
        raise Failed("un lot sans XAdES devait être refusé")
    _registry_ok(answer, "ITI-41")
    run.say(
        f"document {letter.unique_id[:24]}… accepté par le DMP (lot {ss_uid[:16]}…, RegistryResponse Success)"
    )
    run.keep(dmp_fed=[letter.unique_id])
    if run.preset == "ins-non-qualifie":  # the DMP takes it; the balance must not count it
        run.expect("document accepté par le DMP, mais son INS n'a jamais été qualifié : non compté au solde")


# -- TD3.1, TD3.2 -------------------------------------------------------------------------------------
def find_documents(run: Run) -> list[dict[str, Any]]:
    Q, R = f"{{{QUERY}}}", f"{{{xds.RIM}}}"
    request = etree.Element(Q + "AdhocQueryRequest", nsmap={"query": QUERY, None: xds.RIM})
    etree.SubElement(request, Q + "ResponseOption", returnComposedObjects="true", returnType="LeafClass")
    query = etree.SubElement(request, R + "AdhocQuery", id=FIND_DOCUMENTS)
    xds.slot(query, "$XDSDocumentEntryPatientId", f"'{run.patient.ins}^^^&{DOCUMENT_INS_OID}&ISO^NH'")
    xds.slot(query, "$XDSDocumentEntryStatus", f"('{APPROVED}')")
    answer = call(run, "registry", "urn:ihe:iti:2007:RegistryStoredQuery", request)
    response = _registry_ok(answer, "ITI-18")
    found = []
    for obj in response.iter(R + "ExtrinsicObject"):
        unique = next(
            (
                e.get("value")
                for e in obj.iter(R + "ExternalIdentifier")
                if e.get("identificationScheme") == xds.UUID["de.uniqueId"]
            ),
            "",
        )
        version = obj.find(R + "VersionInfo")
        codes = [
            c.get("nodeRepresentation")
            for c in obj.iter(R + "Classification")
            if c.get("classificationScheme") == xds.UUID["de.confidentiality"]
        ]
        found.append(
            {
                "entry": obj.get("id"),
                "lid": obj.get("lid"),
                "status": obj.get("status"),
                "unique_id": unique,
                "version": version.get("versionName") if version is not None else "1",
                "confidentiality": codes,
            }
        )
    return found


def step_td31(run: Run) -> None:
    """DMP TD3.1 : rechercher les documents du patient (ITI-18 FindDocuments)

    research dmp.md §2.6: AdhocQueryRequest LeafClass, $XDSDocumentEntryPatientId (INS, OID de
    test), statut Approved; entryUUID, lid, uniqueId, VersionInfo.
    """
    found = find_documents(run)
    mine = [d for d in found if d["unique_id"] in run.dmp_fed]
    run.say(f"{len(found)} document(s) approuvé(s) dans le DMP, dont {len(mine)} de cette démonstration")
    if not mine:
        raise Failed("le document alimenté n'est pas retrouvé")
    run.say(f"entryUUID {mine[0]['entry']}, lid {mine[0]['lid']}, version {mine[0]['version']}")
    run.keep(dmp_entry=mine[0])


def step_td32(run: Run) -> None:
    """DMP TD3.2 : consulter le document (ITI-43 RetrieveDocumentSet, réponse MTOM)

    research dmp.md §2.7: DocumentRequest RepositoryUniqueId 1.2.250.1.213.4.1.1.1.2 +
    DocumentUniqueId (l'uniqueId, jamais l'entryUUID); réponse toujours MTOM (CXF).
    """
    X = f"{{{xds.XDSB}}}"
    request = etree.Element(X + "RetrieveDocumentSetRequest", nsmap={None: xds.XDSB})
    doc = etree.SubElement(request, X + "DocumentRequest")
    etree.SubElement(doc, X + "RepositoryUniqueId").text = REPOSITORY
    etree.SubElement(doc, X + "DocumentUniqueId").text = run.dmp_entry["unique_id"]
    answer = call(run, "repository", "urn:ihe:iti:2007:RetrieveDocumentSet", request)
    _registry_ok(answer, "ITI-43")
    assert answer.root is not None
    include = answer.root.find(".//{http://www.w3.org/2004/08/xop/include}Include")
    data = b""
    if include is not None:
        from urllib.parse import unquote

        data = answer.parts.get(unquote(include.get("href", "")[4:]), b"")
    if data != run.letter.cda:
        raise Failed(
            f"le document relu ({len(data)} octets) n'est pas celui envoyé ({len(run.letter.cda)} octets)"
        )
    run.say(f"document relu en MTOM : {len(data)} octets, identiques à l'envoi")


# -- TD3.3a, TD2.1 RPLC, TD3.3c -----------------------------------------------------------------------
def _update(run: Run, build: Any) -> None:
    root = etree.Element(f"{{{xds.LCM}}}SubmitObjectsRequest", nsmap={"lcm": xds.LCM, None: xds.RIM})
    objects = etree.SubElement(root, f"{{{xds.RIM}}}RegistryObjectList")
    ids = xds.Ids()
    xds.submission_set(objects, ids, run.cast, run.letter, oid(), datetime.now(UTC))
    build(objects, ids)
    answer = call(run, "registry", "urn:ihe:iti:2010:UpdateDocumentSet", root)
    _registry_ok(answer, "ITI-57")


def step_td33a(run: Run) -> None:
    """DMP TD3.3a : masquer le document aux professionnels (ITI-57, nouvelle version de métadonnées)

    research dmp.md §2.8: ExtrinsicObject de même lid, confidentialityCode MASQUE_PS,
    HasMember avec PreviousVersion; nouvel entryUUID.
    """
    entry = run.dmp_entry

    def build(objects: etree._Element, ids: xds.Ids) -> None:
        xds.document_entry(
            objects,
            ids,
            run.cast,
            run.letter,
            "Document02",
            visibility=("MASQUE_PS",),
            lid=entry["lid"],
            status=APPROVED,
        )
        xds.association(
            objects,
            "assoc1",
            xds.HAS_MEMBER,
            "SubmissionSet01",
            "Document02",
            SubmissionSetStatus="Original",
            PreviousVersion=entry["version"],
        )

    _update(run, build)
    now = [d for d in find_documents(run) if d["lid"] == entry["lid"]]
    masked = now[0] if now else {}
    run.say(
        f"métadonnées version {masked.get('version')} : {masked.get('confidentiality')} (entryUUID {masked.get('entry')})"
    )
    if "MASQUE_PS" not in (masked.get("confidentiality") or []):
        raise Failed("le masquage n'apparaît pas dans la recherche")
    run.keep(dmp_entry=masked)


def step_td21_rplc(run: Run) -> None:
    """DMP TD2.1 RPLC : remplacer le document par sa version 2 (ITI-41, association RPLC)

    research dmp.md §2.8 « Replacement »: nouvelle version CDA (même setId, relatedDocument RPLC),
    association RPLC vers l'entryUUID de la version précédente, qui devient Deprecated.
    """
    previous: Letter = run.letter
    letter = make_letter(run, previous.patient, previous.recipients, previous=previous)
    _ss, answer = feed(run, letter, replaces_entry=run.dmp_entry["entry"])
    _registry_ok(answer, "ITI-41 RPLC")
    current = [d for d in find_documents(run) if d["unique_id"] in (letter.unique_id, previous.unique_id)]
    run.say(
        f"version 2 {letter.unique_id[:24]}… acceptée ; documents approuvés de cette lettre : {[d['unique_id'][:12] for d in current]}"
    )
    if any(d["unique_id"] == previous.unique_id for d in current):
        raise Failed("la version remplacée est encore Approved")
    run.keep(
        letter=letter,
        dmp_fed=[*run.dmp_fed, letter.unique_id],
        dmp_entry=next(d for d in current if d["unique_id"] == letter.unique_id),
    )


def step_td33c(run: Run) -> None:
    """DMP TD3.3c : supprimer (dépublier) le document (ITI-57 UpdateAvailabilityStatus)

    research dmp.md §2.8: association UpdateAvailabilityStatus, OriginalStatus Approved,
    NewStatus urn:asip:ci-sis:2010:StatusType:Deleted (exemple officiel TD3.3c).
    """
    entry = run.dmp_entry

    def build(objects: etree._Element, _ids: xds.Ids) -> None:
        xds.association(
            objects,
            "assoc1",
            "urn:ihe:iti:2010:AssociationType:UpdateAvailabilityStatus",
            "SubmissionSet01",
            entry["entry"],
            OriginalStatus=APPROVED,
            NewStatus=DELETED,
        )

    _update(run, build)
    left = [d for d in find_documents(run) if d["unique_id"] == entry["unique_id"]]
    run.say(f"document {entry['unique_id'][:24]}… dépublié ; encore approuvé : {bool(left)}")
    if left:
        raise Failed("le document supprimé est encore Approved")
