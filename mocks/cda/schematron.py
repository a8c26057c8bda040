"""ISO Schematron through saxonche, in the worker process only (mocks/cda/worker.py).

    entry .sch ─ inline includes (data.inline: case-tolerant) ─▶ iso_dsdl_include.xsl (stage 1)
               ─▶ iso_abstract_expand.xsl (stage 2) ─▶ iso_svrl_for_xslt2.xsl (stage 3) = an XSLT
               ─▶ compiled by Saxon (10–30 s for StrucMin, ~1 GB) ─▶ run on each document → SVRL

The stage outputs are cached on disk (`<data_dir>/cda/stages/`), keyed by a hash of the entry's
include closure, the skeleton and the Saxon version: a changed .sch recompiles, a warm start skips
the ~5 s of stages. Saxon HE cannot save a compiled executable (SEF export is EE), so the last step
is paid at each worker start. The cached XSLT lives outside the data tree (which may be
read-only), and is parsed with the entry .sch's URI as its base URI: relative `doc()` and
`document()` paths of the ANS files resolve as if it sat beside the .sch.

Why a separate process: saxonche keeps the GIL during a compile (measured: a 10 s compile froze
every other thread of the process for 10 s), so it must not run inside the sandbox's process.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mocks.cda.data import DataError, closure, inline

SKELETON = Path(__file__).parent / "vendor" / "iso-schematron-xslt2"
STAGES = ("iso_dsdl_include.xsl", "iso_abstract_expand.xsl", "iso_svrl_for_xslt2.xsl")
PIPELINE = "2"  # bump when what we feed the stages changes
STAGE3_PARAMS = {"generate-fired-rule": "false", "full-path-notation": "2"}


class EngineError(Exception):
    """Saxon refused a schematron or crashed on a document; the message names what and why."""


@dataclass
class Compiled:
    profile: str
    entry: Path
    key: str
    executable: Any  # saxonche.PyXsltExecutable
    stage_seconds: float  # 0 when the stage cache answered
    compile_seconds: float


def saxon_message(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:800] or type(exc).__name__


class Saxon:
    """The one Saxon processor of the worker process."""

    def __init__(self, cache_dir: Path):
        import saxonche

        self.saxonche = saxonche
        self.proc = saxonche.PySaxonProcessor(license=False)
        self.version = str(self.proc.version)
        self.xslt = self.proc.new_xslt30_processor()
        self.cache_dir = cache_dir
        self._stages: list[Any] | None = None

    def _stage_executables(self) -> list[Any]:
        if self._stages is None:
            self._stages = [self.xslt.compile_stylesheet(stylesheet_file=str(SKELETON / n)) for n in STAGES]
            for name, value in STAGE3_PARAMS.items():
                self._stages[2].set_parameter(name, self.proc.make_string_value(value))
        return self._stages

    def key(self, entry: Path) -> str:
        """Hash of what the stage output depends on."""
        found = closure(entry)
        if found.missing:
            raise DataError("inclusions manquantes : " + "; ".join(found.missing), str(entry))
        h = hashlib.sha256(f"{PIPELINE}\0{self.version}\0{STAGE3_PARAMS}\0".encode())
        for name in STAGES:
            h.update((SKELETON / name).read_bytes())
        for path in found.files:
            h.update(path.name.encode() + b"\0")
            h.update(path.read_bytes())
        return h.hexdigest()[:24]

    def _node(self, text: str, base: Path) -> Any:
        builder = self.proc.new_document_builder()
        builder.set_base_uri(base.as_uri())
        return builder.parse_xml(xml_text=text)

    def stages(self, profile: str, entry: Path) -> tuple[str, str, float]:
        """(key, stage-3 XSLT, seconds spent: 0 from the cache)."""
        key = self.key(entry)
        cached = self.cache_dir / f"{profile}-{key}.xsl"
        if cached.is_file():
            return key, cached.read_text(encoding="utf-8"), 0.0
        started = time.perf_counter()
        text = inline(entry).decode("utf-8")
        try:
            for stage in self._stage_executables():
                text = stage.transform_to_string(xdm_node=self._node(text, entry))
        except self.saxonche.PySaxonApiError as exc:
            raise EngineError(f"{entry.name} : étape ISO en échec : {saxon_message(exc)}") from None
        if not text or "<" not in text:
            raise EngineError(f"{entry.name} : les étapes ISO n'ont rien produit")
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        for old in self.cache_dir.glob(f"{profile}-*.xsl"):  # an older version of this profile
            old.unlink(missing_ok=True)
        tmp = cached.with_suffix(".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(cached)
        return key, text, time.perf_counter() - started

    def compile(self, profile: str, entry: Path) -> Compiled:
        key, text, stage_seconds = self.stages(profile, entry)
        started = time.perf_counter()
        try:
            executable = self.xslt.compile_stylesheet(stylesheet_node=self._node(text, entry))
        except self.saxonche.PySaxonApiError as exc:
            raise EngineError(
                f"{entry.name} : compilation refusée par Saxon : {saxon_message(exc)}"
            ) from None
        return Compiled(profile, entry, key, executable, stage_seconds, time.perf_counter() - started)

    def document(self, text: str) -> Any:
        """A parsed document to validate (parse once, run every profile on it)."""
        builder = self.proc.new_document_builder()
        builder.set_base_uri("file:///document.xml")
        return builder.parse_xml(xml_text=text)

    def run(self, compiled: Compiled, node: Any) -> str:
        try:
            out = compiled.executable.transform_to_string(xdm_node=node)
        except self.saxonche.PySaxonApiError as exc:
            raise EngineError(f"{compiled.entry.name} : {saxon_message(exc)}") from None
        if not out:
            raise EngineError(f"{compiled.entry.name} : aucun rapport SVRL produit")
        return str(out)
