"""The ANS validator data (TestContenuCDA-3-0): where it is, which release it is, and whether it is
whole. Third-party data: the product never ships it (`SEGUR_CDA_DATA` points at a copy,
`segur-sandbox cda install` installs one, see mocks/cda/install.py).

Known quirks of the release handled here (research/cda-segur.md §A.6, specs/README.md):
- some volet schematrons `include` a file under a name whose case differs from the file on disk
  (`…/entrees/` vs `…/Entrees/`, `JDV_RechAgHbS-CISIS.sch`): `resolve` finds a path case-blind
  when the exact one is missing (only on a case-sensitive file system does it matter);
- `CI-SIS_BIO-CR-BIO_2023.01.sch` includes files absent at 7cd489b3: `includes` lists them, and
  the engine reports that volet as unavailable (an info finding) instead of failing;
- the StrucMin value set `voc-1.2.250.1.213.1.1.5.471-DYNAMIC.xml` (read with doc()) is absent
  upstream at 7cd489b3: `check` refuses a release whose StrucMin includes or doc() targets do not
  all resolve, naming the missing files.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from lxml import etree

SCH_NS = "http://purl.oclc.org/dsdl/schematron"
STRUCMIN = "schematrons/profils/structurationMinimale/ASIP-STRUCT-MIN-StrucMin.sch"
XSD = "infrastructure/cda/CDA_extended.xsd"
PIN_FILE = ".segur-cda.json"  # written by `cda install`: where the copy came from
HASHED = ("schematrons", "jeuxDeValeurs", "infrastructure")  # what the verdicts depend on
# literal doc('…') / document('…') targets; targets built at run time (value-set variables) are
# checked by the schematron itself (doc-available) or surface as an engine finding
DOC_CALL = re.compile(r"""\b(?:doc|document)\(\s*'([^'$]+?)'\s*[,)]""")

# Releases whose content we know, by digest (sha256 of the HASHED trees, see `digest`)
KNOWN_RELEASES = {
    # ansforge/TestContenuCDA-3-0 at 7cd489b3 + voc-…5.471 from 58fffa68 (../shared/specs/cda)
    "6fbbeccab416aab40691f89a61361b5bbdef6180b788b85492482e1acf0b035d": "TestContenuCDA-3-0@7cd489b3+471",
}


class DataError(Exception):
    """The validator data is missing or incomplete; `path` names the first missing file."""

    def __init__(self, message: str, path: str = ""):
        super().__init__(message)
        self.path = path


def resolve(base: Path, href: str) -> Path | None:
    """`href` (relative, '/'-separated) from folder `base`: the exact path when it exists, else
    the one whose components match case-blind (the ANS files were written on Windows)."""
    exact = (base / href).resolve()
    if exact.exists():
        return exact
    current = base.resolve()
    for part in href.replace("\\", "/").split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            current = current.parent
            continue
        candidate = current / part
        if not candidate.exists():
            if not current.is_dir():
                return None
            matches = sorted(c for c in current.iterdir() if c.name.lower() == part.lower())
            if not matches:
                return None
            candidate = matches[0]
        current = candidate
    return current if current.exists() else None


@dataclass
class Closure:
    """What one entry schematron pulls in."""

    entry: Path
    files: list[Path] = field(default_factory=list)  # the entry and every included file, once
    missing: list[str] = field(default_factory=list)  # "file.sch: href" of includes not found
    case_fixed: list[str] = field(default_factory=list)  # hrefs found only case-blind
    doc_missing: list[str] = field(default_factory=list)  # literal doc() targets not found


def closure(entry: Path) -> Closure:
    """Follow the `sch:include` tree of `entry` (paths case-tolerant)."""
    found = Closure(entry.resolve())
    seen: set[Path] = set()

    def walk(path: Path) -> None:
        if path in seen:
            return
        seen.add(path)
        found.files.append(path)
        tree = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True))
        for inc in tree.iter(f"{{{SCH_NS}}}include"):
            href = inc.get("href", "")
            target = resolve(path.parent, href)
            if target is None:
                found.missing.append(f"{path.name}: {href}")
                continue
            if target != (path.parent / href).resolve():
                found.case_fixed.append(href)
            walk(target)

    walk(found.entry)
    base = found.entry.parent  # doc() in included text resolves against the entry (stage 1 inlines)
    for path in found.files:
        for target in sorted(set(DOC_CALL.findall(path.read_text(encoding="utf-8", errors="replace")))):
            if "://" not in target and resolve(base, target) is None:
                found.doc_missing.append(f"{path.name}: doc('{target}')")
    return found


def inline(entry: Path) -> bytes:
    """The entry schematron with every `sch:include` replaced by the included file's root
    element, recursively, paths case-tolerant (what ISO stage 1, iso_dsdl_include.xsl, does, but
    on a case-sensitive file system too). Raises DataError naming a missing file."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True)

    def expand(path: Path, stack: tuple[Path, ...]) -> etree._Element:
        root = etree.parse(str(path), parser).getroot()
        for inc in list(root.iter(f"{{{SCH_NS}}}include")):
            href = inc.get("href", "")
            target = resolve(path.parent, href)
            if target is None:
                raise DataError(f"{path.name} includes {href}, which is missing", str(path.parent / href))
            if target in stack:
                raise DataError(f"include cycle through {target.name}", str(target))
            child = expand(target, (*stack, target))
            child.tail = inc.tail
            parent = inc.getparent()
            if parent is None:
                return child
            parent.replace(inc, child)
        return root

    resolved = entry.resolve()
    return etree.tostring(expand(resolved, (resolved,)), encoding="utf-8", xml_declaration=True)


class DataSet:
    """One copy of the validator data, rooted at the folder holding `schematrons/`."""

    def __init__(self, root: Path):
        self.root = root.resolve() if root.exists() else root

    @property
    def installed(self) -> bool:
        return (self.root / STRUCMIN).is_file()

    def path(self, relative: str) -> Path:
        return self.root / relative

    @cached_property
    def digest(self) -> str:
        """sha256 over the files the verdicts depend on (names and contents): the data version
        of the result cache."""
        h = hashlib.sha256()
        for top in HASHED:
            folder = self.root / top
            if not folder.is_dir():
                continue
            for path in sorted(p for p in folder.rglob("*") if p.is_file()):
                h.update(str(path.relative_to(self.root)).encode())
                h.update(b"\0")
                h.update(path.read_bytes())
        return h.hexdigest()

    @cached_property
    def pin(self) -> dict[str, str]:
        try:
            data = json.loads((self.root / PIN_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}

    @cached_property
    def version(self) -> str:
        """The référentiel version named in every report."""
        name = self.pin.get("release") or KNOWN_RELEASES.get(self.digest) or self.root.name
        return f"{name} (sha256 {self.digest[:12]})"

    def check(self, entries: Iterable[Path] = ()) -> dict[str, Closure]:
        """The include closures of StrucMin and of `entries` (volet schematrons)."""
        out = {"StrucMin": closure(self.root / STRUCMIN)}
        for entry in entries:
            out[entry.stem] = closure(entry)
        return out

    def require(self) -> None:
        """Raise DataError unless StrucMin and the CDA XSD are whole (what `cda install` refuses)."""
        if not self.installed:
            raise DataError(f"not installed: {self.root / STRUCMIN} is missing", str(self.root / STRUCMIN))
        if not (self.root / XSD).is_file():
            raise DataError(f"{self.root / XSD} is missing", str(self.root / XSD))
        strucmin = closure(self.root / STRUCMIN)
        problems = strucmin.missing + strucmin.doc_missing
        if problems:
            raise DataError(
                "structuration minimale is incomplete: " + "; ".join(problems),
                str(self.root / STRUCMIN),
            )
