"""Rendering for the console: an N1's embedded PDF (mocks.cda.pdf.extract), an N3 as HTML.

N3 → HTML with the ANS display stylesheet `FeuilleDeStyle/cda_CRBIO.xsl` of the installed data
(XSLT 1.0, run by lxml in-process: ~10 ms) when present, else `xsl/cda-simple.xsl` of ours
(header and narrative). `CDA-FO.xsl` produces XSL-FO for a PDF, not HTML: not used here. The
stylesheets may read files (l10n) but never write nor reach the network. The HTML may carry the
document's own markup: serve it with a Content-Security-Policy forbidding scripts.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from lxml import etree

ANS_HTML = "FeuilleDeStyle/cda_CRBIO.xsl"
OURS = Path(__file__).parent / "xsl" / "cda-simple.xsl"
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
ACCESS = etree.XSLTAccessControl(
    read_file=True, write_file=False, create_dir=False, read_network=False, write_network=False
)


@cache
def _stylesheet(path: str) -> etree.XSLT:
    return etree.XSLT(etree.parse(path, etree.XMLParser(no_network=True)), access_control=ACCESS)


def stylesheet_for(data_root: Path | None) -> tuple[str, Path]:
    """(name shown, path) of the stylesheet used for an N3."""
    if data_root is not None and (data_root / ANS_HTML).is_file():
        return "ANS cda_CRBIO.xsl", data_root / ANS_HTML
    return "bac à sable (en-tête et narratif)", OURS


def html(doc: etree._Element, data_root: Path | None) -> str:
    name, path = stylesheet_for(data_root)
    try:
        out = _stylesheet(str(path))(etree.ElementTree(doc))
    except etree.XSLTError:
        if path == OURS:
            raise
        out = _stylesheet(str(OURS))(etree.ElementTree(doc))
    return str(out)
