"""The `registry` service's messages (ITI-18 answers, ITI-57 requests and answers), shaped like the
official TD3.1 / TD3.3c / TD3.3d responses (research dmp.md §2.6, §2.8):

    query_response(objects, total)      ns3:AdhocQueryResponse (ns2 rs, ns3 query, ns4 rim, ns5 lcm,
                                        ns6 hl7 declared on it, as the DMP does), LeafClass or ObjectRef
    extrinsic_object(view)              one ns4:ExtrinsicObject: slots in name order, Name,
                                        Description, VersionInfo, classifications (author first),
                                        external identifiers patientId then uniqueId
    object_ref(id)                      one ns4:ObjectRef
    registry_package(view)              one submission set (FindSubmissionSets LeafClass) [inferred
                                        shape: the ExtrinsicObject's conventions]
    association(view)                   one ns4:Association (GetAssociations LeafClass) [inferred]
    registry_response()                 ns2:RegistryResponse Success (TD3.3 answers)
    failure(kind, code, context)        the same roots with status Failure and a RegistryErrorList
    read_update(submit_objects)         an ITI-57 SubmitObjectsRequest -> `Update`
    typed_identifiables(list)           rim:Identifiable xsi:type=... renamed to its element

No rule here: dmp.queries reads the stored queries, the endpoints decide.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from xml.sax.saxutils import quoteattr

from lxml import etree

RIM = "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"
RS = "urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0"
QUERY = "urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0"
LCM = "urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0"
HL7 = "urn:hl7-org:v3"
DECLARATIONS = f'xmlns:ns2="{RS}" xmlns:ns3="{QUERY}" xmlns:ns4="{RIM}" xmlns:ns5="{LCM}" xmlns:ns6="{HL7}"'
SUCCESS = "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success"
FAILURE = "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Failure"
ERROR = "urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:Error"
DOCUMENT_ENTRY = "urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1"
REPOSITORY = "1.2.250.1.213.4.1.1.1.2"
DE_AUTHOR = "urn:uuid:93606bcf-9494-43ec-9b4e-a7748d1a838d"
DE_PATIENT_ID = "urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427"
DE_UNIQUE_ID = "urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab"
UPDATE_AVAILABILITY = "urn:ihe:iti:2010:AssociationType:UpdateAvailabilityStatus"
HAS_MEMBER = "urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember"
# the DMP's order of the classifications: by the metadata attribute's name (official TD3.1)
SCHEME_ORDER = (
    DE_AUTHOR,
    "urn:uuid:41a5887f-8865-4c09-adf7-e362475b143a",  # classCode
    "urn:uuid:f4f85eac-e6cb-4883-b524-f2705394840f",  # confidentialityCode
    "urn:uuid:2c6b8cb7-8b2a-4051-b291-b1ae6a575ef4",  # eventCodeList
    "urn:uuid:a09d5840-386c-46f2-b5ad-9c3699a4309d",  # formatCode
    "urn:uuid:f33fb8ac-18af-42cc-ae0e-ed0b0bdb91e1",  # healthcareFacilityTypeCode
    "urn:uuid:cccf5598-8b07-4b77-a05e-ae952c785ead",  # practiceSettingCode
    "urn:uuid:f0306f51-975f-434e-a61c-c59651d33983",  # typeCode
)


_SPECIAL = re.compile(r"[&<>\"'\n\r\t]")


def _a(value: str) -> str:
    # most values need no escaping: skip quoteattr's replacements for them (ITI-18 answers write
    # about 70 attributes a document)
    return f'"{value}"' if _SPECIAL.search(value) is None else quoteattr(value)


def _string(tag: str, value: str) -> str:
    return f'<ns4:{tag}><ns4:LocalizedString charset="UTF8" value={_a(value)} xml:lang="FR"/></ns4:{tag}>'


def _slot(name: str, values: tuple[str, ...]) -> str:
    inner = "".join(f"<ns4:Value>{_text(v)}</ns4:Value>" for v in values)
    return f"<ns4:Slot name={_a(name)}><ns4:ValueList>{inner}</ns4:ValueList></ns4:Slot>"


def _classification(c: Coded, classified: str) -> str:
    body = "".join(_slot(n, v) for n, v in sorted(c.slots))
    if c.coding_scheme:
        body += _slot("codingScheme", (c.coding_scheme,))
    if c.label:
        body += _string("Name", c.label)
    return (
        f"<ns4:Classification classificationScheme={_a(c.scheme)} classifiedObject={_a(classified)} id={_a(c.id)}"
        f" nodeRepresentation={_a(c.code)}>{body}</ns4:Classification>"
    )


def _text(value: str) -> str:
    if _SPECIAL.search(value) is None:
        return value
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@dataclass(frozen=True)
class Coded:
    id: str  # the Classification's urn:uuid
    scheme: str  # classificationScheme
    code: str = ""  # nodeRepresentation ("" for an author)
    coding_scheme: str = ""
    label: str = ""
    slots: tuple[tuple[str, tuple[str, ...]], ...] = ()  # author slots


@dataclass(frozen=True)
class EntryView:
    """What an ITI-18 LeafClass answer shows of one metadata version of a document."""

    entry_uuid: str
    lid: str
    status: str
    mime_type: str
    version: str
    slots: tuple[tuple[str, tuple[str, ...]], ...]  # hash, size, repositoryUniqueId included
    title: str
    comments: str
    classifications: tuple[Coded, ...]
    patient_id: str
    patient_id_uuid: str
    unique_id: str
    unique_id_uuid: str


def extrinsic_object(view: EntryView) -> str:
    e = view.entry_uuid
    parts = [
        f'<ns4:ExtrinsicObject id={_a(e)} isOpaque="false" lid={_a(view.lid)} mimeType={_a(view.mime_type)}'
        f' objectType="{DOCUMENT_ENTRY}" status={_a(view.status)}>'
    ]
    parts += [_slot(n, v) for n, v in sorted(view.slots)]
    if view.title:
        parts.append(_string("Name", view.title))
    if view.comments:
        parts.append(_string("Description", view.comments))
    parts.append(f"<ns4:VersionInfo versionName={_a(view.version)}/>")
    rank = {s: i for i, s in enumerate(SCHEME_ORDER)}
    for c in sorted(view.classifications, key=lambda c: rank.get(c.scheme, len(rank))):
        parts.append(_classification(c, e))
    for ident, scheme, value, label in (
        (view.patient_id_uuid, DE_PATIENT_ID, view.patient_id, "XDSDocumentEntry.patientId"),
        (view.unique_id_uuid, DE_UNIQUE_ID, view.unique_id, "XDSDocumentEntry.uniqueId"),
    ):
        parts.append(
            f"<ns4:ExternalIdentifier id={_a(ident)} identificationScheme={_a(scheme)} registryObject={_a(e)}"
            f" value={_a(value)}>{_string('Name', label)}</ns4:ExternalIdentifier>"
        )
    parts.append("</ns4:ExtrinsicObject>")
    return "".join(parts)


REGISTRY_PACKAGE = "urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:RegistryPackage"
ASSOCIATION = "urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:Association"
SUBMISSION_SET_NODE = "urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd"
SS_AUTHOR = "urn:uuid:a7058bb9-b4e4-4307-ba5b-e3f0ab85e12d"
SS_IDENTIFIERS = (
    ("urn:uuid:6b5aea1a-874d-4603-a4bc-96a0a7b38446", "XDSSubmissionSet.patientId"),
    ("urn:uuid:554ac39e-e3fe-47fe-b233-965d2a147832", "XDSSubmissionSet.sourceId"),
    ("urn:uuid:96fdda7c-d067-4183-912e-bf5ee74998a8", "XDSSubmissionSet.uniqueId"),
)


@dataclass(frozen=True)
class PackageView:
    """What an ITI-18 LeafClass answer shows of a submission set."""

    entry_uuid: str
    status: str
    slots: tuple[tuple[str, tuple[str, ...]], ...]
    title: str
    comments: str
    classifications: tuple[Coded, ...]  # author first, then contentTypeCode
    node_id: str  # id of the Classification naming the SubmissionSet node
    identifiers: tuple[tuple[str, str, str], ...]  # (id, identificationScheme, value)


def registry_package(view: PackageView) -> str:
    e = view.entry_uuid
    parts = [
        f'<ns4:RegistryPackage id={_a(e)} lid={_a(e)} objectType="{REGISTRY_PACKAGE}" status={_a(view.status)}>'
    ]
    parts += [_slot(n, v) for n, v in sorted(view.slots)]
    if view.title:
        parts.append(_string("Name", view.title))
    if view.comments:
        parts.append(_string("Description", view.comments))
    parts.append('<ns4:VersionInfo versionName="1"/>')
    for c in sorted(view.classifications, key=lambda c: c.scheme != SS_AUTHOR):
        parts.append(_classification(c, e))
    parts.append(
        f'<ns4:Classification classificationNode="{SUBMISSION_SET_NODE}" classifiedObject={_a(e)} id={_a(view.node_id)}/>'
    )
    labels = dict(SS_IDENTIFIERS)
    for ident, scheme, value in view.identifiers:
        parts.append(
            f"<ns4:ExternalIdentifier id={_a(ident)} identificationScheme={_a(scheme)} registryObject={_a(e)}"
            f" value={_a(value)}>{_string('Name', labels.get(scheme, scheme))}</ns4:ExternalIdentifier>"
        )
    parts.append("</ns4:RegistryPackage>")
    return "".join(parts)


@dataclass(frozen=True)
class AssociationView:
    entry_uuid: str
    type: str
    source: str
    target: str
    slots: tuple[tuple[str, tuple[str, ...]], ...] = ()
    status: str = "urn:oasis:names:tc:ebxml-regrep:StatusType:Approved"


def association(view: AssociationView) -> str:
    slots = "".join(_slot(n, v) for n, v in sorted(view.slots))
    return (
        f"<ns4:Association associationType={_a(view.type)} id={_a(view.entry_uuid)} lid={_a(view.entry_uuid)}"
        f' objectType="{ASSOCIATION}" sourceObject={_a(view.source)} status={_a(view.status)}'
        f' targetObject={_a(view.target)}>{slots}<ns4:VersionInfo versionName="1"/></ns4:Association>'
    )


def object_ref(ident: str) -> str:
    return f"<ns4:ObjectRef id={_a(ident)}/>"


def query_response(objects: list[str], total: int | None = None) -> str:
    count = len(objects) if total is None else total
    return (
        f'<ns3:AdhocQueryResponse startIndex="0" status="{SUCCESS}" totalResultCount="{count}" {DECLARATIONS}>'
        f"<ns4:RegistryObjectList>{''.join(objects)}</ns4:RegistryObjectList></ns3:AdhocQueryResponse>"
    )


def registry_response() -> str:
    return f'<ns2:RegistryResponse status="{SUCCESS}" {DECLARATIONS}/>'


def _errors(code: str, context: str, location: str) -> str:
    loc = f" location={_a(location)}" if location else ""
    return (
        f"<ns2:RegistryErrorList><ns2:RegistryError codeContext={_a(context)} errorCode={_a(code)}{loc}"
        f' severity="{ERROR}"/></ns2:RegistryErrorList>'
    )


def failure(kind: str, code: str, context: str, location: str = "") -> str:
    """A Failure answer: `kind` "query" (AdhocQueryResponse, empty list) or "update"."""
    if kind == "query":
        return (
            f'<ns3:AdhocQueryResponse startIndex="0" status="{FAILURE}" totalResultCount="0" {DECLARATIONS}>'
            f"{_errors(code, context, location)}<ns4:RegistryObjectList/></ns3:AdhocQueryResponse>"
        )
    return f'<ns2:RegistryResponse status="{FAILURE}" {DECLARATIONS}>{_errors(code, context, location)}</ns2:RegistryResponse>'


# -- ITI-57 requests ----------------------------------------------------------------------------
@dataclass(frozen=True)
class StatusChange:
    """An UpdateAvailabilityStatus association (TD3.3c / TD3.3d)."""

    target: str  # the entryUUID
    original: str
    new: str


@dataclass(frozen=True)
class NewVersion:
    """A metadata update (TD3.3a / TD3.3b): the new ExtrinsicObject and its HasMember."""

    symbolic_id: str
    lid: str
    previous_version: str
    confidentiality: tuple[tuple[str, str], ...]  # (code, codingScheme)
    element: etree._Element


@dataclass(frozen=True)
class Update:
    submission_set: etree._Element | None
    patient_id: str  # XDSSubmissionSet.patientId
    author_person: str
    author_institutions: tuple[str, ...]
    status_changes: tuple[StatusChange, ...]
    new_versions: tuple[NewVersion, ...]
    problems: tuple[str, ...]  # what cannot be read (XDSMetadataUpdateError)


def _slot_values(el: etree._Element, name: str) -> tuple[str, ...]:
    for slot in el.iterfind(f"{{{RIM}}}Slot"):
        if slot.get("name") == name:
            return tuple(v.text or "" for v in slot.iterfind(f"{{{RIM}}}ValueList/{{{RIM}}}Value"))
    return ()


XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
# the substitution group of rim:Identifiable, by the xsi:type a generic client writes
IDENTIFIABLE_TYPES = {
    "AssociationType1": "Association",
    "ExtrinsicObjectType": "ExtrinsicObject",
    "RegistryPackageType": "RegistryPackage",
    "ObjectRefType": "ObjectRef",
    "ClassificationType": "Classification",
}


def typed_identifiables(objects: etree._Element) -> None:
    """A RegistryObjectList whose members are `rim:Identifiable xsi:type="rim:AssociationType1"`
    (what zeep and other schema-driven clients write for the substitution group) read as the
    named elements, as a JAXB registry does: Identifiable is not abstract, the xsi:type rules."""
    for child in objects:
        if child.tag != f"{{{RIM}}}Identifiable":
            continue
        local = child.get(XSI_TYPE, "").rpartition(":")[2]
        if local in IDENTIFIABLE_TYPES:
            child.tag = f"{{{RIM}}}{IDENTIFIABLE_TYPES[local]}"
            del child.attrib[XSI_TYPE]


def read_update(request: etree._Element) -> Update:
    """An ITI-57 lcm:SubmitObjectsRequest (lenient: the official TD3.3c/d requests are accepted)."""
    problems: list[str] = []
    objects = request.find(f"{{{RIM}}}RegistryObjectList")
    if objects is None:
        return Update(None, "", "", (), (), (), ("RegistryObjectList absent",))
    typed_identifiables(objects)
    package = objects.find(f"{{{RIM}}}RegistryPackage")
    patient_id, person = "", ""
    institutions: tuple[str, ...] = ()
    if package is None:
        problems.append("RegistryPackage (lot de soumission) absent")
    else:
        for ident in package.iter(f"{{{RIM}}}ExternalIdentifier"):
            if ident.get("identificationScheme") == "urn:uuid:6b5aea1a-874d-4603-a4bc-96a0a7b38446":
                patient_id = ident.get("value", "")
        for cl in package.iterfind(f"{{{RIM}}}Classification"):
            if cl.get("classificationScheme") == "urn:uuid:a7058bb9-b4e4-4307-ba5b-e3f0ab85e12d":
                person = next(iter(_slot_values(cl, "authorPerson")), "")
                institutions = _slot_values(cl, "authorInstitution")
    extrinsic = {e.get("id", ""): e for e in objects.iterfind(f"{{{RIM}}}ExtrinsicObject")}
    changes: list[StatusChange] = []
    versions: list[NewVersion] = []
    for assoc in objects.iterfind(f"{{{RIM}}}Association"):
        kind, target = assoc.get("associationType", ""), assoc.get("targetObject", "")
        if kind == UPDATE_AVAILABILITY:
            original = next(iter(_slot_values(assoc, "OriginalStatus")), "")
            new = next(iter(_slot_values(assoc, "NewStatus")), "")
            if not (target and original and new):
                problems.append(
                    f"association {assoc.get('id')} : targetObject, OriginalStatus et NewStatus requis"
                )
            changes.append(StatusChange(target, original, new))
        elif kind == HAS_MEMBER and target in extrinsic:
            el = extrinsic[target]
            previous = next(iter(_slot_values(assoc, "PreviousVersion")), "")
            if not previous:
                problems.append(f"association {assoc.get('id')} : slot PreviousVersion absent")
            codes = tuple(
                (c.get("nodeRepresentation", ""), next(iter(_slot_values(c, "codingScheme")), ""))
                for c in el.iterfind(f"{{{RIM}}}Classification")
                if c.get("classificationScheme") == "urn:uuid:f4f85eac-e6cb-4883-b524-f2705394840f"
            )
            versions.append(NewVersion(target, el.get("lid", ""), previous, codes, el))
    if not changes and not versions:
        problems.append("ni UpdateAvailabilityStatus ni nouvelle version de métadonnées")
    return Update(
        package, patient_id, person, tuple(institutions), tuple(changes), tuple(versions), tuple(problems)
    )
