"""What the Annuaire page reads in a FHIR answer, the way an LGC does: names, identifiers, the
`mailbox-mss` telecoms with their metadata (type PER / ORG / APP / CAB), references; and the
search an LGC sends for what a person types in the form (research mssante.md 1.6: `name`
prefix / `:contains` / `:exact`, `identifier` with or without its system, `mailbox-mss`,
`address-postalcode`).

Pure functions on JSON: the answers themselves come from the control API's FHIR preview
(`/_sandbox/annuaire/fhir/v2/...`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from annuaire.resources import MAILBOX_METADATA, SYSTEMS

PAGE_SIZE = 20
# what the form searches: (value, French label); the FHIR type(s) it asks
WHAT = {
    "professionnels": ("Professionnels (Practitioner)", ("Practitioner",)),
    "structures": ("Structures (Organization)", ("Organization",)),
    "bal": ("Boîtes MSSanté (toutes ressources)", ("Practitioner", "PractitionerRole", "Organization")),
}
MATCH = {"debut": ("commence par", ""), "contient": ("contient", ":contains"), "exact": ("exact", ":exact")}
# identifier systems an LGC names (the `identifier` token's system part)
ID_SYSTEMS = {
    "": "tous (valeur seule)",
    "RPPS": "RPPS",
    "IDNPS": "IDNPS (idNat_PS)",
    "ADELI": "ADELI",
    "FINEG": "FINESS",
    "SIRET": "SIRET",
    "IDNST": "IDNST (idNat_Struct)",
}
MAILBOX_TYPES = {
    "PER": "personnelle",
    "ORG": "organisationnelle",
    "APP": "applicative",
    "CAB": "cabinet",
}
TYPE_LABELS = {
    "Practitioner": "professionnel",
    "PractitionerRole": "situation d'exercice",
    "Organization": "structure",
    "HealthcareService": "activité de soins",
    "Device": "équipement lourd",
}
IDNPS, IDNST = SYSTEMS["IDNPS"], SYSTEMS["IDNST"]
SYSTEM_NAMES = {"https://rpps.esante.gouv.fr": "RPPS", "https://finess.esante.gouv.fr": "FINESS",
                "https://sirene.fr": "SIRET", IDNPS: "IDNPS", IDNST: "IDNST"}  # fmt: skip


@dataclass
class Search:
    """One FHIR search the page sends for the form: its type and parameters, in order."""

    kind: str
    pairs: list[tuple[str, str]]

    def url(self, base: str) -> str:
        """The request line an LGC writes (readable: `:`, `|`, `@`, `/` kept)."""
        query = "&".join(f"{k}={quote(v, safe=':|@/,')}" for k, v in self.pairs)
        return f"{base}/{self.kind}?{query}"


@dataclass
class Form:
    what: str = "professionnels"
    name: str = ""
    match: str = "debut"
    identifier: str = ""
    system: str = ""
    mailbox: str = ""
    postal_code: str = ""
    notes: list[str] = field(default_factory=list)

    @classmethod
    def read(cls, args: Any) -> Form:
        f = cls(
            what=args.get("quoi", "professionnels"),
            name=args.get("nom", "").strip(),
            match=args.get("comparaison", "debut"),
            identifier=args.get("identifiant", "").strip(),
            system=args.get("systeme", ""),
            mailbox=args.get("bal", "").strip(),
            postal_code=args.get("cp", "").strip(),
        )
        f.what = f.what if f.what in WHAT else "professionnels"
        f.match = f.match if f.match in MATCH else "debut"
        f.system = f.system if f.system in ID_SYSTEMS else ""
        return f

    @property
    def empty(self) -> bool:
        if self.what == "bal":
            return not self.mailbox
        return not (self.name or self.identifier or self.mailbox or self.postal_code)

    def searches(self) -> list[Search]:
        """The FHIR searches for this form (one per type; three for a mailbox)."""
        if self.what == "bal":
            out = []
            for kind in WHAT["bal"][1]:
                one = [mailbox_pair(self.mailbox)]
                if kind == "PractitionerRole":  # the professional behind the situation d'exercice
                    one.append(("_include", "PractitionerRole:practitioner"))
                out.append(Search(kind, [*one, ("_count", str(PAGE_SIZE))]))
            return out
        kind = WHAT[self.what][1][0]
        pairs: list[tuple[str, str]] = []
        if self.name:
            pairs.append(("name" + MATCH[self.match][1], self.name))
        if self.identifier:
            system = SYSTEMS.get(self.system, "")
            pairs.append(("identifier", f"{system}|{self.identifier}" if system else self.identifier))
        if self.mailbox:
            pairs.append(mailbox_pair(self.mailbox))
        if self.postal_code:
            if kind == "Organization":
                pairs.append(("address-postalcode", self.postal_code))
            else:
                self.notes.append(
                    "Le code postal n'est pas un critère de recherche des professionnels (Practitioner) "
                    "dans l'Annuaire : cherchez les structures de ce code postal."
                )
        pairs.append(("_count", str(PAGE_SIZE)))
        return [Search(kind, pairs)]


def mailbox_pair(text: str) -> tuple[str, str]:
    """A whole address is searched `:exact` (a full address with `:contains` is slow on the
    real server: finding ANN-CONTAINS); a part of one with `:contains`."""
    local, at, domain = text.partition("@")
    if local and at and "." in domain:
        return ("mailbox-mss:exact", text)
    return ("mailbox-mss:contains", text)


# -- reading resources ------------------------------------------------------------------------
def identifiers(resource: dict[str, Any]) -> list[tuple[str, str]]:
    """(type code or system, value) of each identifier."""
    out = []
    for ident in resource.get("identifier") or []:
        codes = [c.get("code", "") for c in (ident.get("type") or {}).get("coding", [])]
        system = str(ident.get("system", ""))
        label = codes[0] if codes and codes[0] else SYSTEM_NAMES.get(system, system)
        out.append((label, str(ident.get("value", ""))))
    return out


def identifier(resource: dict[str, Any], system: str) -> str:
    for ident in resource.get("identifier") or []:
        if ident.get("system") == system:
            return str(ident.get("value", ""))
    return ""


def mailboxes(resource: dict[str, Any]) -> list[dict[str, Any]]:
    """The `mailbox-mss` telecoms: address, type (PER/ORG/APP/CAB), description, service."""
    out = []
    for telecom in resource.get("telecom") or []:
        meta = next((e for e in telecom.get("extension", []) if e.get("url") == MAILBOX_METADATA), None)
        if meta is None:
            continue
        box: dict[str, Any] = {
            "address": telecom.get("value", ""),
            "type": "",
            "description": "",
            "service": "",
        }
        for part in meta.get("extension", []):
            url = part.get("url")
            if url == "type":
                codings = (part.get("valueCodeableConcept") or {}).get("coding", [])
                box["type"] = codings[0].get("code", "") if codings else ""
            elif url in ("description", "service"):
                box[url] = part.get("valueString", "")
            elif url == "digitization":
                box["digitization"] = part.get("valueBoolean")
        out.append(box)
    return out


def display_name(resource: dict[str, Any]) -> str:
    kind = resource.get("resourceType", "")
    if kind == "Practitioner":
        names = resource.get("name") or [{}]
        n = names[0]
        parts = [*(n.get("suffix") or n.get("prefix") or []), *(n.get("given") or []), n.get("family", "")]
        return " ".join(p for p in parts if p)
    if kind == "Organization":
        return str(resource.get("name", ""))
    if kind == "PractitionerRole":
        return (resource.get("practitioner") or {}).get("reference", "")
    if kind == "Device":
        return " ".join(p for p in (resource.get("manufacturer", ""), _code(resource.get("type"))) if p)
    return ", ".join(_code(t) for t in resource.get("type") or [])


def _code(concept: Any) -> str:
    codings = (concept or {}).get("coding") or [{}]
    return str(codings[0].get("code", ""))


def place(resource: dict[str, Any]) -> str:
    addresses = resource.get("address") or []
    if not addresses:
        return ""
    a = addresses[0]
    return " ".join(p for p in (a.get("postalCode", ""), a.get("city", "")) if p)


def references(data: Any) -> list[str]:
    """Every `reference` ("Type/id") in a resource, in document order, once."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            ref = node.get("reference")
            if isinstance(ref, str) and "/" in ref and ref not in found:
                found.append(ref)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(data)
    return found


def persona_of(resource: dict[str, Any]) -> tuple[str, str] | None:
    """(kind, national id) of the persona a resource describes: a Practitioner's IDNPS, an
    Organization's IDNST (a legal entity may have no persona page: checked by the view)."""
    kind = resource.get("resourceType")
    if kind == "Practitioner":
        value = identifier(resource, IDNPS)
        return ("professionals", value) if value else None
    if kind == "Organization":
        value = identifier(resource, IDNST)
        return ("structures", value) if value else None
    return None


def next_page(bundle: dict[str, Any]) -> str:
    """The opaque id of the bundle's next link (`…/_page?id=…`), or ""."""
    for link in bundle.get("link") or []:
        if link.get("relation") == "next":
            url = str(link.get("url", ""))
            _, found, rest = url.partition("_page?id=")
            return rest.split("&")[0] if found else ""
    return ""
