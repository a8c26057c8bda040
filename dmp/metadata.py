"""XDS.b metadata as the DMP reads and writes it (ebRIM 3.0 of ITI-41, ITI-18, ITI-57): the UUIDs
of the classifications and external identifiers, and the parse of a RegistryObjectList into typed
entries (research dmp.md §2.4, §2.5).

    parsed = read_objects(registry_object_list)       # -> Objects (entries, packages, associations)
    entry = parsed.entries[0]                          # an Entry: the fields queries need + its XML
    entry.unique_id, entry.patient_id, entry.class_code, entry.confidentiality, entry.authors ...

Nothing here decides; dmp.endpoints and dmp.checks judge what was read. The stored form of an
entry is dmp.documents.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

RIM = "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"
RS = "urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0"
LCM = "urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0"
QUERY = "urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0"
XDS = "urn:ihe:iti:xds-b:2007"

DOCUMENT_ENTRY = "urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1"  # objectType of a stable entry
SUBMISSION_SET_NODE = "urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd"

SS_AUTHOR = "urn:uuid:a7058bb9-b4e4-4307-ba5b-e3f0ab85e12d"
SS_CONTENT_TYPE = "urn:uuid:aa543740-bdda-424e-8c96-df4873be8500"
SS_PATIENT_ID = "urn:uuid:6b5aea1a-874d-4603-a4bc-96a0a7b38446"
SS_SOURCE_ID = "urn:uuid:554ac39e-e3fe-47fe-b233-965d2a147832"
SS_UNIQUE_ID = "urn:uuid:96fdda7c-d067-4183-912e-bf5ee74998a8"
DE_AUTHOR = "urn:uuid:93606bcf-9494-43ec-9b4e-a7748d1a838d"
DE_CLASS = "urn:uuid:41a5887f-8865-4c09-adf7-e362475b143a"
DE_CONFIDENTIALITY = "urn:uuid:f4f85eac-e6cb-4883-b524-f2705394840f"
DE_EVENT = "urn:uuid:2c6b8cb7-8b2a-4051-b291-b1ae6a575ef4"
DE_FORMAT = "urn:uuid:a09d5840-386c-46f2-b5ad-9c3699a4309d"
DE_HCF = "urn:uuid:f33fb8ac-18af-42cc-ae0e-ed0b0bdb91e1"
DE_PRACTICE = "urn:uuid:cccf5598-8b07-4b77-a05e-ae952c785ead"
DE_TYPE = "urn:uuid:f0306f51-975f-434e-a61c-c59651d33983"
DE_PATIENT_ID = "urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427"
DE_UNIQUE_ID = "urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab"

HAS_MEMBER = "urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember"
SIGNS = "urn:ihe:iti:2007:AssociationType:signs"
RPLC = ("urn:ihe:iti:2007:AssociationType:RPLC", "urn:ihe:iti:2010:AssociationType:RPLC")
UPDATE_AVAILABILITY = "urn:ihe:iti:2010:AssociationType:UpdateAvailabilityStatus"

SIGNATURE_CLASS = "urn:oid:1.3.6.1.4.1.19376.1.2.1.1.1"  # classCode of the lot's XAdES
VISIBILITY_SCHEME = "1.2.250.1.213.1.1.4.13"  # TRE_A07 StatutVisibiliteDocument
MASQUE_PS, INVISIBLE_PATIENT, INVISIBLE_REPRESENTANTS = (
    "MASQUE_PS",
    "INVISIBLE_PATIENT",
    "INVISIBLE_REPRESENTANTS_LEGAUX",
)


def q(local: str, ns: str = RIM) -> str:
    return f"{{{ns}}}{local}"


@dataclass(frozen=True)
class Code:
    """A coded classification: nodeRepresentation, its codingScheme slot, its Name."""

    code: str
    scheme: str = ""
    label: str = ""

    def as_query(self) -> str:
        """The form of a stored-query code parameter: `code^^scheme`."""
        return f"{self.code}^^{self.scheme}"


@dataclass(frozen=True)
class Author:
    person: str = ""  # XCN
    institutions: tuple[str, ...] = ()  # XON
    roles: tuple[str, ...] = ()
    specialties: tuple[str, ...] = ()
    telecoms: tuple[str, ...] = ()

    @property
    def person_id(self) -> str:
        return self.person.split("^", 1)[0]

    @property
    def structure_ids(self) -> tuple[str, ...]:
        """XON.10 (the Struct_IdNat) of each institution, or XON.3 when XON.10 is empty."""
        out = []
        for xon in self.institutions:
            parts = xon.split("^")
            out.append(parts[9] if len(parts) > 9 and parts[9] else (parts[2] if len(parts) > 2 else ""))
        return tuple(out)


@dataclass(frozen=True)
class Identifier:
    scheme: str  # identificationScheme
    value: str


@dataclass(frozen=True)
class Entry:
    """A DocumentEntry (ExtrinsicObject) as sent: the symbolic or UUID id, and the fields read."""

    id: str
    lid: str
    mime_type: str
    object_type: str
    status: str  # as sent (empty in ITI-41)
    slots: dict[str, tuple[str, ...]]
    name: str
    description: str
    classifications: dict[str, tuple[Code, ...]]  # classificationScheme -> codes (not authors)
    authors: tuple[Author, ...]
    identifiers: tuple[Identifier, ...]
    version: str  # VersionInfo@versionName ("" when absent)
    xml: bytes  # the element as received (serialised alone, namespaces kept)

    def slot(self, name: str) -> str:
        values = self.slots.get(name, ())
        return values[0] if values else ""

    def identifier(self, scheme: str) -> str:
        return next((i.value for i in self.identifiers if i.scheme == scheme), "")

    def code(self, scheme: str) -> Code | None:
        found = self.classifications.get(scheme, ())
        return found[0] if found else None

    @property
    def unique_id(self) -> str:
        return self.identifier(DE_UNIQUE_ID)

    @property
    def patient_id(self) -> str:
        return self.identifier(DE_PATIENT_ID)

    @property
    def confidentiality(self) -> tuple[Code, ...]:
        return self.classifications.get(DE_CONFIDENTIALITY, ())

    @property
    def event_codes(self) -> tuple[Code, ...]:
        return self.classifications.get(DE_EVENT, ())

    @property
    def is_signature(self) -> bool:
        code = self.code(DE_CLASS)
        return code is not None and code.code == SIGNATURE_CLASS


@dataclass(frozen=True)
class Package:
    """A RegistryPackage (the submission set)."""

    id: str
    slots: dict[str, tuple[str, ...]]
    name: str
    classifications: dict[str, tuple[Code, ...]]
    authors: tuple[Author, ...]
    identifiers: tuple[Identifier, ...]
    is_submission_set: bool
    xml: bytes

    def slot(self, name: str) -> str:
        values = self.slots.get(name, ())
        return values[0] if values else ""

    def identifier(self, scheme: str) -> str:
        return next((i.value for i in self.identifiers if i.scheme == scheme), "")

    @property
    def unique_id(self) -> str:
        return self.identifier(SS_UNIQUE_ID)

    @property
    def patient_id(self) -> str:
        return self.identifier(SS_PATIENT_ID)


@dataclass(frozen=True)
class Link:
    """An Association."""

    id: str
    type: str
    source: str
    target: str
    slots: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def slot(self, name: str) -> str:
        values = self.slots.get(name, ())
        return values[0] if values else ""


@dataclass(frozen=True)
class Objects:
    entries: tuple[Entry, ...]
    packages: tuple[Package, ...]
    links: tuple[Link, ...]
    unknown: tuple[str, ...]  # local names of other children (ObjectRef, Classification...)

    def entry(self, ident: str) -> Entry | None:
        return next((e for e in self.entries if e.id == ident), None)


def _slots(el: etree._Element) -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for slot in el.findall(q("Slot")):
        values = tuple((v.text or "").strip() for v in slot.iterfind(f"{q('ValueList')}/{q('Value')}"))
        out[slot.get("name", "")] = out.get(slot.get("name", ""), ()) + values
    return out


def _localized(el: etree._Element, what: str) -> str:
    found = el.find(f"{q(what)}/{q('LocalizedString')}")
    return found.get("value", "") if found is not None else ""


def _author(cl: etree._Element) -> Author:
    s = _slots(cl)
    return Author(
        person=(s.get("authorPerson") or ("",))[0],
        institutions=s.get("authorInstitution", ()),
        roles=s.get("authorRole", ()),
        specialties=s.get("authorSpecialty", ()),
        telecoms=s.get("authorTelecommunication", ()),
    )


def _classified(
    el: etree._Element, author_scheme: str
) -> tuple[dict[str, tuple[Code, ...]], tuple[Author, ...]]:
    codes: dict[str, tuple[Code, ...]] = {}
    authors: list[Author] = []
    for cl in el.findall(q("Classification")):
        scheme = cl.get("classificationScheme", "")
        if scheme == author_scheme:
            authors.append(_author(cl))
            continue
        if not scheme:
            continue
        slots = _slots(cl)
        code = Code(
            cl.get("nodeRepresentation", ""), (slots.get("codingScheme") or ("",))[0], _localized(cl, "Name")
        )
        codes[scheme] = codes.get(scheme, ()) + (code,)
    return codes, tuple(authors)


def _identifiers(el: etree._Element) -> tuple[Identifier, ...]:
    return tuple(
        Identifier(x.get("identificationScheme", ""), x.get("value", ""))
        for x in el.findall(q("ExternalIdentifier"))
    )


def read_entry(el: etree._Element) -> Entry:
    codes, authors = _classified(el, DE_AUTHOR)
    version = el.find(q("VersionInfo"))
    return Entry(
        id=el.get("id", ""),
        lid=el.get("lid", ""),
        mime_type=el.get("mimeType", ""),
        object_type=el.get("objectType", ""),
        status=el.get("status", ""),
        slots=_slots(el),
        name=_localized(el, "Name"),
        description=_localized(el, "Description"),
        classifications=codes,
        authors=authors,
        identifiers=_identifiers(el),
        version=version.get("versionName", "") if version is not None else "",
        xml=etree.tostring(el),
    )


def read_package(el: etree._Element) -> Package:
    codes, authors = _classified(el, SS_AUTHOR)
    nodes = {c.get("classificationNode") for c in el.findall(q("Classification"))}
    return Package(
        id=el.get("id", ""),
        slots=_slots(el),
        name=_localized(el, "Name"),
        classifications=codes,
        authors=authors,
        identifiers=_identifiers(el),
        is_submission_set=SUBMISSION_SET_NODE in nodes,
        xml=etree.tostring(el),
    )


def read_objects(registry_object_list: etree._Element) -> Objects:
    entries: list[Entry] = []
    packages: list[Package] = []
    links: list[Link] = []
    unknown: list[str] = []
    for child in registry_object_list:
        if not isinstance(child.tag, str):
            continue
        if child.tag == q("ExtrinsicObject"):
            entries.append(read_entry(child))
        elif child.tag == q("RegistryPackage"):
            packages.append(read_package(child))
        elif child.tag == q("Association"):
            links.append(
                Link(
                    child.get("id", ""),
                    child.get("associationType", ""),
                    child.get("sourceObject", ""),
                    child.get("targetObject", ""),
                    _slots(child),
                )
            )
        else:
            unknown.append(etree.QName(child).localname)
    return Objects(tuple(entries), tuple(packages), tuple(links), tuple(unknown))


def visibility(confidentiality: tuple[Code, ...]) -> tuple[bool, bool, bool]:
    """(masked to PS, invisible to the patient, invisible to the legal representatives)."""
    codes = {c.code for c in confidentiality}
    return MASQUE_PS in codes, INVISIBLE_PATIENT in codes, INVISIBLE_REPRESENTANTS in codes
