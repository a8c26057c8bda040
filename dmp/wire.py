"""DMP messages: parse the HL7v3 and web-service request bodies, serialise the answers with the
exact actions, namespaces, prefixes and element order of the official responses
(../shared/specs/dmp/examples/TD0.2-TD1.6, research dmp.md §2.2-2.3, §2.9). No rule, no state.

Answers (their envelope declares `xmlns:ns1` before `xmlns:soap`, as the DMP's CXF does):

    TD0.2 / TD1.3a  PRPA_IN201308UV02 (ns2 = asip:ci-sis:gdp:2010 on the root)  action ...PRPA_IN201308UV02
    TD0.5           PRPA_IN201306UV02                                           action ...PRPA_IN201306UV02
    TD1.1           ns2:PRPA_IN201311UV02_Response / PRPA_IN201312UV02 | 313    action ...PRPA_IN201311ResponseUV02
    TD1.2/1.3b/1.4  ns2:PRPA_IN201314UV02_Response / PRPA_IN201315UV02          action ...PRPA_IN201314ResponseUV02
    TD0.3 / TD1.6   ns1:setAuthorizationResponse / ns1:listAuthorizationByPatientResponse (urn:si-dmp-habilitations)
    TD0.4           ns1:patientListResponse xmlns:ns2="urn:com:santeos:dmp:patient:2010" (urn:si-dmp-patients)

The official TD1.3b / TD1.4 answers carry a `patient` without `id` (schema-invalid, research
"notes from replaying"): the sandbox writes them the same way.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

from lxml import etree

HL7 = "urn:hl7-org:v3"
GDP = "asip:ci-sis:gdp:2010"
HABILITATIONS = "urn:si-dmp-habilitations"
PATIENTS = "urn:si-dmp-patients"
SANTEOS = "urn:com:santeos:dmp:patient:2010"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
H = f"{{{HL7}}}"

DMP_OID = "1.2.250.1.213.4.1.1.1"
INS_C_OID = "1.2.250.1.213.1.4.2"
PS_OID = "1.2.250.1.71.4.2.1"
REASON_SYSTEM = "1.2.250.1.213.1.1.4.11"
OBS_SYSTEM = "1.2.250.1.213.4.1.2.3"

REASONS = {
    "TEST_EXST": "Test d'existence de dossier",
    "CNSLT_DATA": "Consultation des données de gestion de dossier",
    "CREA_RD": "Création de dossier",
    "REAC": "Réactivation de dossier",
    "MODIF_DATA": "Modification des données de gestion du dossier",
    "FERM": "Fermeture de dossier",
}


# -- parsing ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Device:
    root: str = ""
    name: str = ""


@dataclass(frozen=True)
class Person:
    family: str = ""
    given: str = ""
    prefix: str = ""
    gender: str = ""
    birth: str = ""
    telecoms: tuple[tuple[str, str], ...] = ()
    address: tuple[str, str, str] = ("", "", "")


@dataclass(frozen=True)
class Author:
    id: str = ""
    id_root: str = ""
    family: str = ""
    given: str = ""
    structure: str = ""
    structure_name: str = ""


@dataclass(frozen=True)
class Hl7Request:
    """The parts of an HL7v3 request the DMP reads (any interaction of the patients services)."""

    interaction: str  # root element's local name, e.g. PRPA_IN201307UV02
    id_root: str = ""
    id_extension: str = ""
    creation_time: str = ""
    sender: Device = field(default_factory=Device)
    reason: str = ""  # controlActProcess/reasonCode/@code
    query_root: str = ""
    query_extension: str = ""
    patient_root: str = ""  # patientIdentifier/value or patient/id of the INS
    patient_ins: str = ""
    person: Person = field(default_factory=Person)
    observations: dict[str, bool] = field(default_factory=dict)
    author: Author | None = None
    closing_reason: str = ""
    status: str = ""  # patient/statusCode (FERM: terminated)
    # PDQ parameters
    name_family: str = ""
    name_given: str = ""
    birth_time: str = ""
    gender: str = ""


def _attr(root: etree._Element, path: str, name: str) -> str:
    found = root.find(path)
    return (found.get(name) or "").strip() if found is not None else ""


def _text(root: etree._Element, path: str) -> str:
    found = root.find(path)
    return "".join(found.itertext()).strip() if found is not None else ""


def _person(person: etree._Element | None) -> Person:
    if person is None:
        return Person()
    telecoms = tuple((t.get("use") or "", t.get("value") or "") for t in person.findall(f"{H}telecom"))
    addr = person.find(f"{H}addr")
    address = (
        (_text(addr, f"{H}streetAddressLine"), _text(addr, f"{H}postalCode"), _text(addr, f"{H}city"))
        if addr is not None
        else ("", "", "")
    )
    return Person(
        family=_text(person, f"{H}name/{H}family"),
        given=_text(person, f"{H}name/{H}given"),
        prefix=_text(person, f"{H}name/{H}prefix"),
        gender=_attr(person, f"{H}administrativeGenderCode", "code"),
        birth=_attr(person, f"{H}birthTime", "value"),
        telecoms=telecoms,
        address=address,
    )


def _author(entity: etree._Element | None) -> Author | None:
    if entity is None:
        return None
    return Author(
        id=_attr(entity, f"{H}id", "extension"),
        id_root=_attr(entity, f"{H}id", "root"),
        family=_text(entity, f"{H}assignedPerson/{H}name/{H}family"),
        given=_text(entity, f"{H}assignedPerson/{H}name/{H}given"),
        structure=_attr(entity, f"{H}representedOrganization/{H}id", "extension"),
        structure_name=_text(entity, f"{H}representedOrganization/{H}name"),
    )


def parse_hl7(payload: etree._Element) -> Hl7Request:
    """An HL7v3 request body (the root element of soap:Body)."""
    cap = payload.find(f"{H}controlActProcess")
    cap = cap if cap is not None else etree.Element("none")
    subject = cap.find(f"{H}subject/{H}registrationRequest/{H}subject1/{H}patient")
    patient_root = patient_ins = ""
    person = Person()
    observations: dict[str, bool] = {}
    status = ""
    if subject is not None:
        patient_root, patient_ins = _attr(subject, f"{H}id", "root"), _attr(subject, f"{H}id", "extension")
        person = _person(subject.find(f"{H}patientPerson"))
        status = _attr(subject, f"{H}statusCode", "code")
        for obs in subject.findall(f"{H}subjectOf/{H}administrativeObservation"):
            code = _attr(obs, f"{H}code", "code")
            observations[code] = _attr(obs, f"{H}value", "value").lower() == "true"
    else:
        value = cap.find(f"{H}queryByParameter/{H}parameterList/{H}patientIdentifier/{H}value")
        if value is not None:
            patient_root, patient_ins = value.get("root") or "", value.get("extension") or ""
    params = f"{H}queryByParameter/{H}parameterList"
    return Hl7Request(
        interaction=etree.QName(payload).localname,
        id_root=_attr(payload, f"{H}id", "root"),
        id_extension=_attr(payload, f"{H}id", "extension"),
        creation_time=_attr(payload, f"{H}creationTime", "value"),
        sender=Device(
            _attr(payload, f"{H}sender/{H}device/{H}id", "root"),
            _text(payload, f"{H}sender/{H}device/{H}softwareName"),
        ),
        reason=_attr(cap, f"{H}reasonCode", "code"),
        query_root=_attr(cap, f"{H}queryByParameter/{H}queryId", "root"),
        query_extension=_attr(cap, f"{H}queryByParameter/{H}queryId", "extension"),
        patient_root=patient_root.strip(),
        patient_ins=patient_ins.strip(),
        person=person,
        observations=observations,
        author=_author(cap.find(f"{H}subject/{H}registrationRequest/{H}author/{H}assignedEntity")),
        closing_reason=_attr(cap, f"{H}reasonOf/{H}detectedIssueEvent/{H}code", "code"),
        status=status,
        name_family=_text(cap, f"{params}/{H}livingSubjectName/{H}value/{H}family"),
        name_given=_text(cap, f"{params}/{H}livingSubjectName/{H}value/{H}given"),
        birth_time=_attr(cap, f"{params}/{H}livingSubjectBirthTime/{H}value", "value"),
        gender=_attr(cap, f"{params}/{H}livingSubjectAdministrativeGender/{H}value", "code"),
    )


def ws_fields(payload: etree._Element) -> dict[str, str]:
    """The children of a doc/literal web-service request (setAuthorization, patientList...)."""
    return {etree.QName(c).localname: (c.text or "").strip() for c in payload if isinstance(c.tag, str)}


# -- HL7 answers --------------------------------------------------------------------------------
def _a(value: str) -> str:
    return quoteattr(value)


def _e(value: str) -> str:
    return escape(value)


def _header(
    interaction: str, req: Hl7Request, message_id: str, creation: str, *, id_root: str | None = None
) -> str:
    ident = (
        f"<id root={_a(message_id)}/>"
        if id_root is None
        else f"<id extension={_a(message_id)} root={_a(id_root)}/>"
    )
    return (
        f"{ident}<creationTime value={_a(creation)}/>"
        f'<interactionId extension="{interaction}" root="2.16.840.1.113883.1.6"/>'
        '<processingCode code="P"/><processingModeCode code="T"/><acceptAckCode code="NE"/>'
        '<receiver typeCode="RCV"><device classCode="DEV" determinerCode="INSTANCE">'
        f"<id root={_a(req.sender.root)}/><softwareName>{_e(req.sender.name)}</softwareName></device></receiver>"
        '<sender typeCode="SND"><device classCode="DEV" determinerCode="INSTANCE">'
        f'<id root="{DMP_OID}"/><softwareName>DMP</softwareName></device></sender>'
    )


@dataclass(frozen=True)
class AckError:
    type_code: str  # AE | AR
    code: str
    text: str


def _ack(req: Hl7Request, error: AckError | None, *, pdq: bool = False) -> str:
    target = f"<targetMessage><id extension={_a(req.id_extension)} root={_a(req.id_root)}/></targetMessage>"
    detail = ""
    type_code = "AA"
    if error is not None:
        type_code = error.type_code
        detail = (
            '<acknowledgementDetail typeCode="E">'
            f'<code code={_a(error.code)} codeSystem="{DMP_OID}"/><text>{_e(error.text)}</text>'
            "</acknowledgementDetail>"
        )
    if pdq:
        return f'<acknowledgement><typeCode code="{type_code}"/>{target}{detail}</acknowledgement>'
    return f'<acknowledgement typeCode="{type_code}">{target}{detail}</acknowledgement>'


def _reason(code: str) -> str:
    return (
        f'<reasonCode code="{code}" codeSystem="{REASON_SYSTEM}" displayName={_a(REASONS.get(code, code))}/>'
    )


def _bl(value: bool) -> str:
    return f'<value value="{"true" if value else "false"}" xsi:type="BL" xmlns:xsi="{XSI}"/>'


def _observation(code: str, system: str, value: bool, display: str = "") -> str:
    disp = f" displayName={_a(display)}" if display else ""
    return (
        '<subjectOf typeCode="SBJ"><administrativeObservation classCode="OBS" moodCode="EVN">'
        f'<code code="{code}" codeSystem="{system}"{disp}/>{_bl(value)}</administrativeObservation></subjectOf>'
    )


@dataclass(frozen=True)
class PatientView:
    """What an answer says of a patient (dmp.state gives it)."""

    ins: str
    ins_oid: str
    ins_c: str
    active: bool
    family: str
    given: str
    prefix: str
    gender: str
    birth: str
    telecoms: tuple[tuple[str, str], ...] = ()
    address: tuple[str, str, str] = ("", "", "")
    compte_internet: bool = False
    ens: bool = False
    opposition_bris_de_glace: bool = False
    opposition_acces_urgence: bool = False
    representative: tuple[str, str, str] | None = None  # (RoleCode, family, given)


def _name(p: PatientView, *, family_first: bool = False) -> str:
    prefix = f"<prefix>{_e(p.prefix)}</prefix>" if p.prefix else ""
    family = f'<family qualifier="SP">{_e(p.family)}</family>'
    given = f"<given>{_e(p.given)}</given>"
    return f"<name>{prefix}{family + given if family_first else given + family}</name>"


def _telecoms(p: PatientView) -> str:
    return "".join(
        f"<telecom use={_a(use)} value={_a(value)}/>" if use else f"<telecom value={_a(value)}/>"
        for use, value in p.telecoms
    )


def _ids(p: PatientView) -> str:
    return f'<id extension={_a(p.ins_c)} root="{INS_C_OID}"/><id extension={_a(p.ins)} root={_a(p.ins_oid)}/>'


def _custodian() -> str:
    return f'<custodian typeCode="CST"><assignedEntity classCode="ASSIGNED"><id root="{DMP_OID}"/></assignedEntity></custodian>'


def _query_ack(req: Hl7Request, code: str) -> str:
    return (
        f"<queryAck><queryId extension={_a(req.query_extension)} root={_a(req.query_root)}/>"
        f'<queryResponseCode code="{code}"/></queryAck>'
    )


def _registration(patient_xml: str, status: str = "completed") -> str:
    return (
        '<subject contextConductionInd="false" typeCode="SUBJ"><registrationEvent classCode="REG" moodCode="EVN">'
        f'<statusCode code="{status}"/><subject1 typeCode="SBJ"><patient classCode="PAT">{patient_xml}'
        f"</patient></subject1>{_custodian()}</registrationEvent></subject>"
    )


def _status(p: PatientView) -> str:
    return f'<statusCode code="{"active" if p.active else "terminated"}"/>'


def existence_response(
    req: Hl7Request,
    patient: PatientView | None,
    authorization: str,
    statut_mt: bool,
    *,
    message_id: str,
    creation: str,
    error: AckError | None = None,
) -> str:
    """TD0.2: PRPA_IN201308UV02 with AUTORISATION and STATUT_MT; queryResponseCode OK or NF."""
    lines = (
        '<attentionLine><keyWordText code="AUTORISATION" codeSystem="1.2.250.1.213.4.1.2.6.1"/>'
        f'<value code="{authorization}" codeSystem="1.2.250.1.213.4.1.2.6.2" xsi:type="CV" xmlns:xsi="{XSI}"/>'
        '</attentionLine><attentionLine><keyWordText code="STATUT_MT" codeSystem="1.2.250.1.213.4.1.2.6.3"/>'
        f"{_bl(statut_mt)}</attentionLine>"
    )
    body = ""
    if patient is not None and error is None:
        person = (
            f'<patientPerson classCode="PSN" determinerCode="INSTANCE">{_name(patient)}{_telecoms(patient)}'
            f"<administrativeGenderCode code={_a(patient.gender)}/><birthTime value={_a(patient.birth)}/></patientPerson>"
        )
        observations = _observation(
            "COMPTE_INTERNET_OUVERT", "1.2.250.1.213.4.1.2.9", patient.compte_internet
        ) + _observation(
            "RATTACHEMENT_ENS", OBS_SYSTEM, patient.ens, "information de rattachement du DMP à un ENS"
        )
        body = _registration(_ids(patient) + _status(patient) + person + observations)
    code = "AE" if error is not None else ("OK" if patient is not None else "NF")
    return (
        f'<PRPA_IN201308UV02 ITSVersion="XML_1.0" xmlns="{HL7}" xmlns:ns2="{GDP}">'
        f"{_header('PRPA_IN201308UV02', req, message_id, creation)}{lines}{_ack(req, error)}"
        f'<controlActProcess classCode="CACT" moodCode="EVN">{_reason(req.reason or "TEST_EXST")}{body}'
        f"{_query_ack(req, code)}</controlActProcess></PRPA_IN201308UV02>"
    )


def consultation_response(
    req: Hl7Request,
    patient: PatientView | None,
    *,
    message_id: str,
    creation: str,
    error: AckError | None = None,
) -> str:
    """TD1.3a: PRPA_IN201308UV02 with the administrative data and both oppositions."""
    body = ""
    if patient is not None and error is None:
        street, postal, city = patient.address
        addr = (
            f"<addr><streetAddressLine>{_e(street)}</streetAddressLine><postalCode>{_e(postal)}</postalCode>"
            f"<city>{_e(city)}</city></addr>"
            if any(patient.address)
            else ""
        )
        relation = ""
        if patient.representative is not None:
            role, family, given = patient.representative
            relation = (
                f'<personalRelationship classCode="PRS"><code code="{role}" codeSystem="2.16.840.1.113883.1.11.19579"/>'
                '<relationshipHolder1 classCode="PSN" determinerCode="INSTANCE">'
                f"<name><given>{_e(given)}</given><family>{_e(family)}</family></name>"
                "</relationshipHolder1></personalRelationship>"
            )
        person = (
            f'<patientPerson classCode="PSN" determinerCode="INSTANCE">{_name(patient)}{_telecoms(patient)}'
            f"<administrativeGenderCode code={_a(patient.gender)}/><birthTime value={_a(patient.birth)}/>"
            f'<deceasedInd value="false"/>{addr}{relation}<birthPlace classCode="BIRTHPL"><addr/></birthPlace></patientPerson>'
        )
        observations = _observation(
            "OPPOSITION_BRIS_DE_GLACE",
            OBS_SYSTEM,
            patient.opposition_bris_de_glace,
            "opposition au mode bris de glace",
        ) + _observation(
            "OPPOSITION_ACCES_URGENCE",
            OBS_SYSTEM,
            patient.opposition_acces_urgence,
            "opposition à l'accès au mode urgence",
        )
        body = _registration(_ids(patient) + _status(patient) + person + observations)
    code = "AE" if error is not None else ("OK" if patient is not None else "NF")
    return (
        f'<PRPA_IN201308UV02 ITSVersion="XML_1.0" xmlns="{HL7}" xmlns:ns2="{GDP}">'
        f"{_header('PRPA_IN201308UV02', req, message_id, creation)}{_ack(req, error)}"
        f'<controlActProcess classCode="CACT" moodCode="EVN">{_reason("CNSLT_DATA")}{body}'
        f"{_query_ack(req, code)}</controlActProcess></PRPA_IN201308UV02>"
    )


def revise_response(
    req: Hl7Request,
    patient: PatientView | None,
    *,
    message_id: str,
    creation: str,
    error: AckError | None = None,
) -> str:
    """TD1.2 / TD1.3b / TD1.4: ns2:PRPA_IN201314UV02_Response / PRPA_IN201315UV02 (or 316 when
    refused), the patient without id as the official answers write it."""
    interaction = "PRPA_IN201316UV02" if error is not None else "PRPA_IN201315UV02"
    body = ""
    if patient is not None and error is None:
        person = f'<patientPerson classCode="PSN" determinerCode="INSTANCE">{_name(patient, family_first=True)}</patientPerson>'
        body = _registration(_status(patient) + person)
    return (
        f'<ns2:PRPA_IN201314UV02_Response xmlns="{HL7}" xmlns:ns2="{GDP}"><{interaction} ITSVersion="XML_1.0">'
        f"{_header(interaction, req, message_id, creation, id_root=DMP_OID + '.1')}{_ack(req, error)}"
        f'<controlActProcess classCode="CACT" moodCode="EVN">{_reason(req.reason)}{body}</controlActProcess>'
        f"</{interaction}></ns2:PRPA_IN201314UV02_Response>"
    )


def create_response(
    req: Hl7Request,
    patient: PatientView | None,
    *,
    message_id: str,
    creation: str,
    error: AckError | None = None,
) -> str:
    """TD1.1: ns2:PRPA_IN201311UV02_Response / PRPA_IN201312UV02 (created) or PRPA_IN201313UV02
    (refused, e.g. DMPFound) [inferred from the TD1.3b / TD1.4 answers and the WSDL]."""
    interaction = "PRPA_IN201313UV02" if error is not None else "PRPA_IN201312UV02"
    body = ""
    if patient is not None and error is None:
        person = f'<patientPerson classCode="PSN" determinerCode="INSTANCE">{_name(patient, family_first=True)}</patientPerson>'
        body = _registration(_ids(patient) + _status(patient) + person)
    return (
        f'<ns2:PRPA_IN201311UV02_Response xmlns="{HL7}" xmlns:ns2="{GDP}"><{interaction} ITSVersion="XML_1.0">'
        f"{_header(interaction, req, message_id, creation, id_root=DMP_OID + '.1')}{_ack(req, error)}"
        f'<controlActProcess classCode="CACT" moodCode="EVN">{_reason("CREA_RD")}{body}</controlActProcess>'
        f"</{interaction}></ns2:PRPA_IN201311UV02_Response>"
    )


def pdq_response(
    req: Hl7Request,
    matches: list[tuple[PatientView, int]],
    *,
    message_id: str,
    creation: str,
    error: AckError | None = None,
) -> str:
    """TD0.5: PRPA_IN201306UV02, one subject per candidate with its POURCENTAGE."""
    subjects = []
    for p, score in matches if error is None else []:
        street, postal, city = p.address
        addr = (
            f"<addr><city>{_e(city)}</city><postalCode>{_e(postal)}</postalCode></addr>"
            if city or postal
            else ""
        )
        person = (
            f'<patientPerson classCode="PSN" determinerCode="INSTANCE"><name>'
            f"{'<prefix>' + _e(p.prefix) + '</prefix>' if p.prefix else ''}<given>{_e(p.given)}</given>"
            f'<family qualifier="SP">{_e(p.family)}</family></name>'
            f"<administrativeGenderCode code={_a(p.gender)}/><birthTime value={_a(p.birth)}/>{addr}</patientPerson>"
        )
        match = (
            '<subjectOf1 typeCode="SBJ"><queryMatchObservation classCode="COND" moodCode="EVN">'
            f'<code code="POURCENTAGE" xsi:type="CS" xmlns:xsi="{XSI}"/>'
            f'<value value="{score}" xsi:type="INT" xmlns:xsi="{XSI}"/></queryMatchObservation></subjectOf1>'
        )
        opposition = (
            "<subjectOf2><administrativeObservation>"
            f'<code code="OPPOSITION_ACCES_URGENCE" codeSystem="{OBS_SYSTEM}" displayName="opposition au mode Urgence"/>'
            f"{_bl(p.opposition_acces_urgence)}</administrativeObservation></subjectOf2>"
        )
        ids = f'<id extension={_a(p.ins)} root={_a(p.ins_oid)}/><id extension={_a(p.ins_c)} root="{INS_C_OID}"/>'
        subjects.append(
            '<subject contextConductionInd="false" typeCode="SUBJ"><registrationEvent classCode="REG" moodCode="EVN">'
            f'<statusCode code="active"/><subject1 typeCode="SBJ"><patient classCode="PAT">{ids}'
            f'<statusCode code="active"/>{person}{match}{opposition}</patient></subject1>{_custodian()}'
            "</registrationEvent></subject>"
        )
    count = len(subjects)
    code = "AE" if error is not None else ("OK" if count else "NF")
    query_ack = (
        f'<queryAck><queryId extension={_a(uuid.uuid4().hex[:6])} root="{DMP_OID}.356.4"/>'
        f'<queryResponseCode code="{code}"/><resultTotalQuantity value="{count}"/>'
        f'<resultCurrentQuantity value="{count}"/><resultRemainingQuantity value="0"/></queryAck>'
    )
    params = ""
    if req.name_family or req.name_given:
        given = f"<given>{_e(req.name_given)}</given>" if req.name_given else ""
        family = f"<family>{_e(req.name_family)}</family>" if req.name_family else ""
        params += (
            f'<livingSubjectName><value use="">{family}{given}</value>'
            "<semanticsText>LivingSubject.name</semanticsText></livingSubjectName>"
        )
    query = (
        f"<queryByParameter><queryId extension={_a(req.query_extension)} root={_a(req.query_root)}/>"
        f'<statusCode code="new"/><parameterList>{params}</parameterList></queryByParameter>'
    )
    return (
        f'<PRPA_IN201306UV02 ITSVersion="XML_1.0" xmlns="{HL7}">'
        f"{_header('PRPA_IN201306UV02', req, message_id, creation)}{_ack(req, error, pdq=True)}"
        '<controlActProcess classCode="CACT" moodCode="EVN">'
        f'<code code="PRPA_TE201306UV02" codeSystem="2.16.840.1.113883.1.6" xsi:type="CS" xmlns:xsi="{XSI}"/>'
        f"{''.join(subjects)}{query_ack}{query}</controlActProcess></PRPA_IN201306UV02>"
    )


# -- web-service answers ----------------------------------------------------------------------------
def status_response(element: str, status: str, context: str | None) -> str:
    """`ns1:<element>/ns1:output/{status, context}` (TD0.3 setAuthorizationResponse)."""
    ctx = (
        ""
        if context is None
        else (f"<ns1:context>{_e(context)}</ns1:context>" if context else "<ns1:context/>")
    )
    return (
        f"<ns1:{element}><ns1:output><ns1:status>{_e(status)}</ns1:status>{ctx}</ns1:output></ns1:{element}>"
    )


@dataclass(frozen=True)
class AuthorizedPs:
    national_id: str
    first_name: str
    last_name: str
    specialities: tuple[tuple[str, str], ...]  # (code, label)
    start: str
    last_action: str
    mode: str  # ACTIVE | INTERDITE


def authorizations_response(entries: list[AuthorizedPs], status: str, context: str) -> str:
    """TD1.6 listAuthorizationByPatientResponse."""
    items = []
    for e in entries:
        codes = "".join(f"<ns1:codeSpeciality>{_e(c)}</ns1:codeSpeciality>" for c, _ in e.specialities)
        labels = "".join(f"<ns1:libSpeciality>{_e(label)}</ns1:libSpeciality>" for _, label in e.specialities)
        items.append(
            f"<ns1:listOfAuthorizationByPatient><ns1:nationalId>{_e(e.national_id)}</ns1:nationalId>"
            f"<ns1:nationalIdType>{PS_OID}</ns1:nationalIdType><ns1:firstName>{_e(e.first_name)}</ns1:firstName>"
            f"<ns1:lastName>{_e(e.last_name)}</ns1:lastName>{codes}{labels}"
            f"<ns1:startOfAuthorization>{_e(e.start)}</ns1:startOfAuthorization>"
            f"<ns1:lastActionDate>{_e(e.last_action)}</ns1:lastActionDate><ns1:mode>{e.mode}</ns1:mode>"
            "</ns1:listOfAuthorizationByPatient>"
        )
    ctx = f"<ns1:context>{_e(context)}</ns1:context>" if context else "<ns1:context/>"
    return (
        f"<ns1:listAuthorizationByPatientResponse><ns1:output>{''.join(items)}"
        f"<ns1:status>{_e(status)}</ns1:status>{ctx}</ns1:output></ns1:listAuthorizationByPatientResponse>"
    )


@dataclass(frozen=True)
class ListedPatient:
    ins_c: str
    ins: str
    ins_oid: str
    last_name: str
    first_name: str
    birth: str
    mt: bool
    last_access: str
    last_update: str
    last_add: str


def patient_list_response(entries: list[ListedPatient], status: str, context: str | None = None) -> str:
    """TD0.4 patientListResponse (the official answer has no context when DMPOk)."""
    items = []
    for e in entries:
        items.append(
            "<ns1:patientlistData>"
            f"<ns1:patientIdentifier><ns1:nationalId>{_e(e.ins_c)}</ns1:nationalId>"
            f"<ns1:nationalIdType>{INS_C_OID}</ns1:nationalIdType></ns1:patientIdentifier>"
            f"<ns1:patientIdentifier><ns1:nationalId>{_e(e.ins)}</ns1:nationalId>"
            f"<ns1:nationalIdType>{_e(e.ins_oid)}</ns1:nationalIdType></ns1:patientIdentifier>"
            f"<ns1:lastName>{_e(e.last_name)}</ns1:lastName><ns1:firstName>{_e(e.first_name)}</ns1:firstName>"
            f"<ns1:dateOfBirth>{_e(e.birth)}</ns1:dateOfBirth><ns1:MT>{'true' if e.mt else 'false'}</ns1:MT>"
            "<ns1:message>false</ns1:message>"
            f"<ns1:lastAccessDate>{_e(e.last_access)}</ns1:lastAccessDate>"
            f"<ns1:lastUpdateDate>{_e(e.last_update)}</ns1:lastUpdateDate>"
            f"<ns1:lastAddDate>{_e(e.last_add)}</ns1:lastAddDate></ns1:patientlistData>"
        )
    ctx = "" if context is None else f"<ns1:context>{_e(context)}</ns1:context>"
    return (
        f'<ns1:patientListResponse xmlns:ns2="{SANTEOS}"><ns1:output>{"".join(items)}'
        f"<ns1:status>{_e(status)}</ns1:status>{ctx}</ns1:output></ns1:patientListResponse>"
    )
