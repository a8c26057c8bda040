"""A small validator of an element against an IG StructureDefinition snapshot, for the parts of the
language the mailbox profiles use: cardinalities, `extension` slices discriminated by `url`,
`value[x]` type choices, `fixed*` / `pattern*` values and the required bindings whose codes are
public (TRE_R257 / JDV_J139 BAL types, ContactPoint system and use).

No published tool validates R4 profiles offline from PyPI (the HL7 Java validator and the IG
packages come from elsewhere; fhir.resources ships R4B and R5 models only), so the test suite
checks the base resources with fhir.resources' R4B models (the same structures as R4 for the
types served here) and the mailbox slices with this walker over the official snapshots.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

REQUIRED_CODES = {
    "https://mos.esante.gouv.fr/NOS/JDV_J139-TypeBAL-RASS/FHIR/JDV-J139-TypeBAL-RASS": {
        "PER",
        "ORG",
        "APP",
        "CAB",
    },
    "http://hl7.org/fhir/ValueSet/contact-point-system": {
        "phone",
        "fax",
        "email",
        "pager",
        "url",
        "sms",
        "other",
    },
    "http://hl7.org/fhir/ValueSet/contact-point-use": {"home", "work", "temp", "old", "mobile"},
}


def load(path: Path) -> list[dict[str, Any]]:
    return list(json.loads(path.read_text(encoding="utf-8"))["snapshot"]["element"])


def _max(e: dict[str, Any]) -> float:
    return float("inf") if e.get("max", "*") == "*" else int(e["max"])


def _matches_pattern(value: Any, pattern: Any) -> bool:
    if isinstance(pattern, dict):
        return isinstance(value, dict) and all(_matches_pattern(value.get(k), v) for k, v in pattern.items())
    if isinstance(pattern, list):
        return isinstance(value, list) and all(any(_matches_pattern(v, p) for v in value) for p in pattern)
    return bool(value == pattern)


class Validator:
    def __init__(self, elements: list[dict[str, Any]]):
        self.by_id = {e["id"]: e for e in elements}
        self.root = elements[0]["id"]

    def children(self, eid: str) -> list[dict[str, Any]]:
        prefix = eid + "."
        return [
            e
            for i, e in self.by_id.items()
            if i.startswith(prefix) and "." not in i[len(prefix) :] and ":" not in i[len(prefix) :]
        ]

    def slices(self, eid: str) -> list[dict[str, Any]]:
        prefix = eid + ":"
        return [e for i, e in self.by_id.items() if i.startswith(prefix) and "." not in i[len(prefix) :]]

    def slice_url(self, slice_id: str) -> str:
        url = self.by_id.get(slice_id + ".url", {})
        if "fixedUri" in url:
            return str(url["fixedUri"])
        profiles = self.by_id[slice_id].get("type", [{}])[0].get("profile", [""])
        return str(profiles[0]).split("|")[0]

    def validate(self, node: dict[str, Any]) -> list[str]:
        return self._check(node, self.root)

    def _count(self, e: dict[str, Any], count: int, where: str) -> list[str]:
        problems = []
        if count < int(e.get("min", 0)):
            problems.append(f"{where}: {count} < min {e.get('min')}")
        if count > _max(e):
            problems.append(f"{where}: {count} > max {e.get('max')}")
        return problems

    def _check(self, node: dict[str, Any], eid: str) -> list[str]:
        problems: list[str] = []
        for e in self.children(eid):
            name = e["path"].rsplit(".", 1)[1]
            where = e["id"]
            if name == "value[x]":
                keys = [k for k in node if k.startswith("value")]
                problems += self._count(e, len(keys), where)
                allowed = {"value" + t["code"][0].upper() + t["code"][1:] for t in e.get("type", [])}
                for k in keys:
                    if k not in allowed:
                        problems.append(f"{where}: {k} is not one of {sorted(allowed)}")
                    problems += self._value(e, node[k], where)
            elif name == "extension":
                items = node.get("extension", [])
                problems += self._count(e, len(items), where)
                for s in self.slices(e["id"]):
                    url = self.slice_url(s["id"])
                    matched = [i for i in items if i.get("url") == url]
                    problems += self._count(s, len(matched), s["id"])
                    for item in matched:
                        problems += self._check(item, s["id"])
            else:
                value = node.get(name)
                count = len(value) if isinstance(value, list) else (0 if value is None else 1)
                problems += self._count(e, count, where)
                if value is not None:
                    problems += self._value(e, value, where)
        return problems

    def _value(self, e: dict[str, Any], value: Any, where: str) -> list[str]:
        problems = []
        for key, expected in e.items():
            if key.startswith("fixed") and value != expected:
                problems.append(f"{where}: {value!r} != fixed {expected!r}")
            if key.startswith("pattern") and not _matches_pattern(value, expected):
                problems.append(f"{where}: {value!r} does not match {expected!r}")
        binding = e.get("binding", {})
        codes = REQUIRED_CODES.get(str(binding.get("valueSet", "")).split("|")[0])
        if binding.get("strength") == "required" and codes is not None:
            found = [c.get("code") for c in value.get("coding", [])] if isinstance(value, dict) else [value]
            if not any(code in codes for code in found):
                problems.append(f"{where}: {found} not in the required value set {sorted(codes)}")
        return problems
