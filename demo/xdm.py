"""The IHE_XDM.ZIP that carries a CDA by MSSanté (IHE ITI XDM as the "Volet Echange de documents
de santé" applies it; research mssante.md §2.2):

    INDEX.HTM, README.TXT                 at the root
    IHE_XDM/SUBSET01/METADATA.XML         ebRIM 3.0 lcm:SubmitObjectsRequest: the submission set
                                          (intendedRecipient = the mail's recipients) and one
                                          DocumentEntry per file, with its URI, hash and size
    IHE_XDM/SUBSET01/DOC0001.XML          the CDA (8.3 upper-case names, ISO 9660 level 1)

`broken=True` (`--fail xdm-casse`) writes a METADATA.XML whose `hash` is not the file's.
"""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime

from lxml import etree

from demo import xds
from demo.cast import Cast
from demo.document import Letter, oid


def metadata(cast: Cast, letter: Letter, recipients: list[str], *, broken: bool = False) -> bytes:
    root = etree.Element(f"{{{xds.LCM}}}SubmitObjectsRequest", nsmap={"lcm": xds.LCM, None: xds.RIM})
    objects = etree.SubElement(root, f"{{{xds.RIM}}}RegistryObjectList")
    ids = xds.Ids()
    intended = [f"^^^^^^^^^^^{address}" for address in recipients]  # XTN e-mail form (ITI TF-3 4.2.3.3.7)
    xds.submission_set(objects, ids, cast, letter, oid(), datetime.now(UTC), intended)
    entry = xds.document_entry(objects, ids, cast, letter, "Document01", uri="DOC0001.XML")
    if broken:
        for s in entry.iter(f"{{{xds.RIM}}}Slot"):
            if s.get("name") == "hash":
                s.find(f"{{{xds.RIM}}}ValueList/{{{xds.RIM}}}Value").text = "0" * 40
    xds.association(
        objects, "assoc1", xds.HAS_MEMBER, "SubmissionSet01", "Document01", SubmissionSetStatus="Original"
    )
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def archive(cast: Cast, letter: Letter, recipients: list[str], *, broken: bool = False) -> bytes:
    readme = (
        "IHE_XDM - support d'echange de documents de sante\r\n"
        "Emetteur : Dr Camille LEMAIRE, CENTRE DE SANTE DES LILAS, 3 avenue de la Republique, 75020 PARIS\r\n"
        f"Application : {cast.lps_name} {cast.lps_version} (segur-sandbox demo)\r\n"
        "Contenu : IHE_XDM/SUBSET01/METADATA.XML, IHE_XDM/SUBSET01/DOC0001.XML\r\n"
    )
    index = (
        "<html><head><title>IHE_XDM</title></head><body><h1>Documents de sant&eacute;</h1>"
        '<p>Emetteur : Dr Camille LEMAIRE.</p><p><a href="README.TXT">README.TXT</a> - '
        '<a href="IHE_XDM/SUBSET01/DOC0001.XML">DOC0001.XML</a></p></body></html>'
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("INDEX.HTM", index)
        z.writestr("README.TXT", readme)
        z.writestr("IHE_XDM/SUBSET01/METADATA.XML", metadata(cast, letter, recipients, broken=broken))
        z.writestr("IHE_XDM/SUBSET01/DOC0001.XML", letter.cda)
    return out.getvalue()
