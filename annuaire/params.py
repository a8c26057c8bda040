"""The search parameters of each resource type, exactly those research mssante.md 1.6 lists (v2
documentation and the IG CapabilityStatement), with what each one reads in a resource.

A parameter is a name, a FHIR search type and an extractor: the values of one resource it
matches against (strings, `(system, code)` tokens, `Type/id` references; `_lastUpdated` is the
date). The Directory indexes these values once; the CapabilityStatement is written from the same
table, so the server never announces a parameter it does not answer, nor answers one it does not
announce. Result parameters (`_count`, `_include`...) are in `RESULT_PARAMS`.

Over 400 lines: the table of every parameter of the five types (one entry each, with its
definition and French documentation as the CapabilityStatement publishes them) is kept in one place.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from annuaire.resources import AS, Built

HL7_SP = "http://hl7.org/fhir/SearchParameter/"
AS_SP = "https://interop.esante.gouv.fr/ig/fhir/annuaire/SearchParameter/"
IG_VERSION = "1.2.0-snapshot-2"

Extract = Callable[[Built], list[Any]]
MODIFIERS = {"string": ("contains", "exact"), "token": ("not",), "reference": (), "date": ()}
# Result parameters the server reads (research 1.6; the ANS server's FhirRequestParser list);
# `_offset` is accepted and ignored, as the live API does.
RESULT_PARAMS = ("_count", "_pretty", "_format", "_total", "_include", "_revinclude", "_elements", "_offset")
TOTAL_MODES = ("none", "estimate", "accurate")
DATE_PREFIXES = (
    "gt",
    "ge",
    "eq",
)  # "Les préfixes supportés par ce paramètre de recherche sont gt, ge et eq."


@dataclass(frozen=True)
class Param:
    name: str
    type: str  # string | token | reference | date
    extract: Extract
    definition: str = ""
    documentation: str = ""
    name_modifiers: tuple[str, ...] = ()  # extra modifiers of this parameter (name:text)

    @property
    def modifiers(self) -> tuple[str, ...]:
        return MODIFIERS[self.type] + self.name_modifiers


def _r(b: Built) -> dict[str, Any]:
    return b.resource


def _identifiers(b: Built) -> list[Any]:
    return [(i.get("system", ""), i.get("value", "")) for i in _r(b).get("identifier", [])]


def _identifier_types(b: Built) -> list[Any]:
    return [
        (c.get("system", ""), c.get("code", ""))
        for i in _r(b).get("identifier", [])
        for c in i.get("type", {}).get("coding", [])
    ]


def _mailboxes(b: Built) -> list[Any]:
    return [box.address for box in b.mailboxes]  # the telecoms of the mailbox-mss slice


def _active(b: Built) -> list[Any]:
    value = _r(b).get("active")
    return [("", "true" if value else "false")] if value is not None else []


def _names(b: Built) -> list[Any]:
    out: list[str] = []
    for n in _r(b).get("name", []):
        out += [n.get("family", ""), *n.get("given", []), *n.get("prefix", []), *n.get("suffix", [])]
        if n.get("text"):
            out.append(n["text"])
    return [v for v in out if v]


def _family(b: Built) -> list[Any]:
    return [n["family"] for n in _r(b).get("name", []) if n.get("family")]


def _given(b: Built) -> list[Any]:
    return [g for n in _r(b).get("name", []) for g in n.get("given", [])]


def _codings(path: str) -> Extract:
    """(system, code) of every coding at `path` (e.g. "qualification.code.coding")."""
    steps = path.split(".")

    def extract(b: Built) -> list[Any]:
        values: list[Any] = [_r(b)]
        for step in steps:
            nxt: list[Any] = []
            for v in values:
                got = v.get(step)
                if isinstance(got, list):
                    nxt.extend(got)
                elif got is not None:
                    nxt.append(got)
            values = nxt
        return [(c.get("system", ""), c.get("code", "")) for c in values]

    return extract


def _ref(name: str) -> Extract:
    return lambda b: [b.refs[name]] if name in b.refs else []


def _system(b: Built) -> list[Any]:
    return [("", b.information_system)] if b.information_system else []


def _authority(b: Built) -> list[Any]:
    return [("", b.authority)] if b.authority else []


def _address_parts(*keys: str) -> Extract:
    def extract(b: Built) -> list[Any]:
        out: list[str] = []
        for a in _r(b).get("address", []):
            for k in keys:
                v = a.get(k)
                out += v if isinstance(v, list) else [v] if v else []
        return out

    return extract


def _id(b: Built) -> list[Any]:
    return [("", b.id)]


def _updated(b: Built) -> list[Any]:
    updated = _r(b).get("meta", {}).get("lastUpdated")
    return [updated] if updated else []


def _smartcard_numbers(b: Built) -> list[Any]:
    return [number for _, number in b.smartcards]


def _profile(b: Built) -> list[Any]:
    return [("", p) for p in _r(b).get("meta", {}).get("profile", [])]


def _field(key: str) -> Extract:
    return lambda b: [_r(b)[key]] if isinstance(_r(b).get(key), str) else []


def _token_field(key: str) -> Extract:
    return lambda b: [("", _r(b)[key])] if isinstance(_r(b).get(key), str) else []


def _common(kind: str) -> list[Param]:
    return [
        Param(
            "_id", "token", _id, HL7_SP + "Resource-id|4.0.1", f"Recherche sur l'ID de la ressource {kind}."
        ),
        Param(
            "_lastUpdated",
            "date",
            _updated,
            HL7_SP + "Resource-lastUpdated|4.0.1",
            "Renvoie uniquement les ressources dont la dernière mise à jour correspond à la période "
            "spécifiée. Les préfixes supportés par ce paramètre de recherche sont gt, ge et eq.",
        ),
    ]


def _as(code: str) -> str:
    return f"{AS_SP}as-sp-{code}|{IG_VERSION}"


def _system_params(authority: bool = True) -> list[Param]:
    found = [
        Param(
            "data-information-system",
            "token",
            _system,
            _as("data-information-system"),
            "Recherche sur le système d'information.",
        )
    ]
    if authority:
        found.append(
            Param(
                "data-registration-authority",
                "token",
                _authority,
                _as("data-registration-authority"),
                "Recherche sur l'autorité d'enregistrement.",
            )
        )
    return found


MAILBOX = Param(
    "mailbox-mss",
    "string",
    _mailboxes,
    _as("mailbox-mss"),
    "Recherche sur les Messageries Sécurisées de Santé (MSS). Les modifiers supportés par ce paramètre de recherche sont contains et exact.",
)

PARAMS: dict[str, dict[str, Param]] = {
    "Practitioner": {
        p.name: p
        for p in [
            *_common("Practitioner"),
            Param(
                "active",
                "token",
                _active,
                HL7_SP + "Practitioner-active|4.0.1",
                "Recherche que les ressources Practitioners actives.",
            ),
            _system_params(authority=False)[0],
            Param(
                "family",
                "string",
                _family,
                HL7_SP + "individual-family|4.0.1",
                "Recherche sur le nom d'exercice des Professionnels. Les modifiers supportés par ce paramètre de recherche sont contains, exact et text.",
            ),
            Param(
                "given",
                "string",
                _given,
                HL7_SP + "individual-given|4.0.1",
                "Recherche sur le prénom d'exercice des Professionnels. Les modifiers supportés par ce paramètre de recherche sont contains, exact et text.",
            ),
            Param(
                "identifier",
                "token",
                _identifiers,
                HL7_SP + "Practitioner-identifier|4.0.1",
                "Recherche sur tous les identifiants des professionnels (RPPS, IDNPS, ADELI).",
            ),
            Param(
                "identifier-type",
                "token",
                _identifier_types,
                "",
                "Recherche sur le type d'identifiant (IDNPS, RPPS, ADELI).",
            ),
            MAILBOX,
            Param(
                "name",
                "string",
                _names,
                HL7_SP + "Practitioner-name|4.0.1",
                "Recherche sur le nom complet (nom, prénom, civilité, civilité d'exercice). Les modifiers supportés par ce paramètre de recherche sont contains, exact et text.",
                ("text",),
            ),
            Param(
                "number-smartcard",
                "string",
                _smartcard_numbers,
                _as("number-smartcard"),
                "Recherche sur le numéro de carte des Professionnels.",
            ),
            Param(
                "qualification-code",
                "token",
                _codings("qualification.code.coding"),
                _as("qualification-code"),
                "Recherche sur le diplôme, l'exercice professionnel et le savoir-faire.",
            ),
        ]
    },
    "PractitionerRole": {
        p.name: p
        for p in [
            *_common("PractitionerRole"),
            Param(
                "active",
                "token",
                _active,
                HL7_SP + "PractitionerRole-active|4.0.1",
                "Recherche que les ressources PractitionerRole actives.",
            ),
            *_system_params(),
            Param(
                "identifier",
                "token",
                _identifiers,
                HL7_SP + "PractitionerRole-identifier|4.0.1",
                "Recherche sur l'identifiant métier du PractitionerRole.",
            ),
            MAILBOX,
            Param(
                "organization",
                "reference",
                _ref("organization"),
                HL7_SP + "PractitionerRole-organization|4.0.1",
                "Recherche sur toutes les PractitionerRoles liées aux Organizations.",
            ),
            Param(
                "practitioner",
                "reference",
                _ref("practitioner"),
                HL7_SP + "PractitionerRole-practitioner|4.0.1",
                "Recherche sur toutes les PractitionerRoles liées aux Practitioners spécifiés.",
            ),
            Param(
                "role",
                "token",
                _codings("code.coding"),
                HL7_SP + "PractitionerRole-role|4.0.1",
                "Recherche sur la fonction, le genre d'activité, le mode d'exercice ou la section Tableau des Pharmaciens.",
            ),
        ]
    },
    "Organization": {
        p.name: p
        for p in [
            *_common("Organization"),
            Param(
                "active",
                "token",
                _active,
                HL7_SP + "Organization-active|4.0.1",
                "Recherche que les ressources Organizations actives.",
            ),
            Param(
                "address",
                "string",
                _address_parts("line", "city", "postalCode", "district"),
                HL7_SP + "Organization-address|4.0.1",
                "Recherche sur l'adresse de la structure.",
            ),
            Param(
                "address-city",
                "string",
                _address_parts("city"),
                HL7_SP + "Organization-address-city|4.0.1",
                "Recherche sur la commune de la structure.",
            ),
            Param(
                "address-line",
                "string",
                _address_parts("line"),
                _as("address-line"),
                "Recherche sur l'adresse.",
            ),
            Param(
                "address-postalcode",
                "string",
                _address_parts("postalCode"),
                HL7_SP + "Organization-address-postalcode|4.0.1",
                "Recherche sur le code postal de la structure.",
            ),
            *_system_params(),
            Param(
                "identifier",
                "token",
                _identifiers,
                HL7_SP + "Organization-identifier|4.0.1",
                "Recherche sur tous les identifiants de structures.",
            ),
            Param("identifier-type", "token", _identifier_types, "", "Recherche sur le type d'identifiant."),
            MAILBOX,
            Param(
                "name",
                "string",
                _field("name"),
                HL7_SP + "Organization-name|4.0.1",
                "Recherche sur la raison sociale des structures. Les modifiers supportés par ce paramètre de recherche sont contains, exact et text.",
                ("text",),
            ),
            Param(
                "partof",
                "reference",
                _ref("partof"),
                "",
                "Recherche sur tous les établissements géographiques rattachés à une même entité juridique.",
            ),
            Param(
                "pharmacy-licence",
                "string",
                lambda b: [],
                _as("pharmacy-licence"),
                "Recherche sur le numéro de licence des pharmacies officines.",
            ),
            Param(
                "type",
                "token",
                _codings("type.coding"),
                "",
                "Recherche sur le type de structure (entité juridique, entité géographique), le secteur d'activité.",
            ),
        ]
    },
    "HealthcareService": {
        p.name: p
        for p in [
            *_common("HealthcareService"),
            Param(
                "_profile", "token", _profile, "", "Sélectionner le profil de la ressource HealthcareService."
            ),
            Param(
                "active",
                "token",
                _active,
                HL7_SP + "HealthcareService-active|4.0.1",
                "Recherche sur les ressources HealthcareService actives.",
            ),
            Param(
                "characteristic",
                "token",
                _codings("characteristic.coding"),
                HL7_SP + "HealthcareService-characteristic|4.0.1",
                "Recherche sur la forme d'activité des activités de soins.",
            ),
            *_system_params(),
            Param(
                "identifier",
                "token",
                _identifiers,
                HL7_SP + "HealthcareService-identifier|4.0.1",
                "Recherche sur l'identifiant des activités de soins.",
            ),
            Param(
                "organization",
                "reference",
                _ref("organization"),
                HL7_SP + "HealthcareService-organization|4.0.1",
                "Recherche sur toutes les activités de soins rattachées à une Organization.",
            ),
            Param(
                "service-category",
                "token",
                _codings("category.coding"),
                HL7_SP + "HealthcareService-service-category|4.0.1",
                "Recherche sur la modalité des activités de soins.",
            ),
            Param(
                "service-type",
                "token",
                _codings("type.coding"),
                HL7_SP + "HealthcareService-service-type|4.0.1",
                "Recherche sur l'activité sanitaire régulée des activités de soins.",
            ),
        ]
    },
    "Device": {
        p.name: p
        for p in [
            *_common("Device"),
            *_system_params(),
            Param(
                "identifier",
                "token",
                _identifiers,
                HL7_SP + "Device-identifier|4.0.1",
                "Recherche sur le numéro ARHGOS de l'équipement.",
            ),
            Param(
                "manufacturer",
                "string",
                _field("manufacturer"),
                HL7_SP + "Device-manufacturer|4.0.1",
                "Recherche sur la marque des équipements matériels lourds.",
            ),
            Param(
                "model",
                "string",
                _field("modelNumber"),
                HL7_SP + "Device-model|4.0.1",
                "Recherche sur le modèle des équipements matériels lourds.",
            ),
            Param(
                "organization",
                "reference",
                _ref("organization"),
                HL7_SP + "Device-organization|4.0.1",
                "Recherche sur tous les Devices liés à l'Organization indiquée.",
            ),
            Param(
                "status",
                "token",
                _token_field("status"),
                HL7_SP + "Device-status|4.0.1",
                "active | inactive | entered-in-error | unknown.",
            ),
            Param(
                "type",
                "token",
                _codings("type.coding"),
                HL7_SP + "Device-type|4.0.1",
                "Recherche sur le type de l'équipement matériel lourd.",
            ),
        ]
    },
}
TYPES = tuple(PARAMS)
# "Server knows how to handle: [...]" lists them in this order (api-basics.md)
KNOWN_ORDER = ("Practitioner", "PractitionerRole", "Device", "Organization", "HealthcareService")

# _include / _revinclude each type announces (IG CapabilityStatement; uc-call-type.md)
INCLUDES = {
    "Practitioner": (),
    "PractitionerRole": ("PractitionerRole:organization", "PractitionerRole:practitioner"),
    "Organization": ("Organization:partof",),
    "HealthcareService": ("HealthcareService:organization",),
    "Device": ("Device:organization",),
}
REVINCLUDES = {
    "Practitioner": ("PractitionerRole:practitioner",),
    "PractitionerRole": (),
    "Organization": (
        "Device:organization",
        "HealthcareService:organization",
        "PractitionerRole:organization",
    ),
    "HealthcareService": (),
    "Device": (),
}
# the target type of each reference parameter
TARGETS = {
    ("PractitionerRole", "organization"): "Organization",
    ("PractitionerRole", "practitioner"): "Practitioner",
    ("Organization", "partof"): "Organization",
    ("HealthcareService", "organization"): "Organization",
    ("Device", "organization"): "Organization",
}
PROFILE_OF = {
    "Practitioner": AS + "as-dp-practitioner",
    "PractitionerRole": AS + "as-dp-practitionerrole",
    "Organization": AS + "as-dp-organization",
    "HealthcareService": AS + "as-dp-healthcareservice-healthcare-activity",
    "Device": AS + "as-dp-device",
}
