"""The official TD2.1 request (../shared/specs/dmp/examples/TD2.1_-_Alimentation_requete.xml) as
sent by soapUI, re-keyed to our personas: our VIHF in place of its assertion, our patient, author
and structure, fresh uniqueIds (the CDA's id = its DocumentEntry uniqueId), and the lot re-signed
(XAdES) with the author's CPS signature key by the kernel's signer. Its quirks are kept: a SOAP
1.1 envelope in an `application/soap+xml` root part, LF line ends, `text/xml; charset=Cp1252`
binary parts with file-name Content-IDs, `Document@id="documentME2"` for `DocumentME2`.

    body, content_type, ids = official_td21(assertion, signer)           # MTOM, as sent
    body, content_type, ids = official_td21(assertion, signer, inline=True)  # base64 in the envelope
"""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from lxml import etree

from mocks.pki import Credentials
from mocks.pki.xades import sign_xades
from tests.dmp.support import ASSERTION, EXAMPLES, GP, GP_STRUCTURE, PATIENT

REQUEST = EXAMPLES / "TD2.1_-_Alimentation_requete.xml"
RESPONSE = EXAMPLES / "TD2.1_-_Alimentation_reponse.xml"
BOUNDARY = b"----=_Part_9_20030738.1554380517598"
ACTION = "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b"
CONTENT_TYPE = (
    'multipart/related; type="application/xop+xml"; start="<rootpart@soapui.org>"; '
    f'start-info="application/soap+xml"; action="{ACTION}"; boundary="{BOUNDARY.decode()}"'
)
OFFICIAL_SUFFIX = "1622814651504"  # the official uniqueIds' last arc
OFFICIAL_CDA_ID = "1.2.250.1.999.1.1.7898.4.9956570902"
XOP_INCLUDE = re.compile(
    rb'<xop:Include xmlns:xop="http://www.w3.org/2004/08/xop/include" href="cid:([^"]+)"/>'
)


@dataclass(frozen=True)
class Ids:
    submission_set: str
    document: str
    signature: str


def _rekey(data: bytes, ins: str, author: str, structure: str) -> bytes:
    for old, new in (("499900063480001", structure), ("899900063480", author), ("207058575627097", ins)):
        data = data.replace(old.encode(), new.encode())
    return data


def parts() -> tuple[bytes, bytes, bytes]:
    """The official root part, CDA and XAdES bodies (headers stripped)."""
    chunks = REQUEST.read_bytes().split(b"--" + BOUNDARY)
    bodies = [c.split(b"\n\n", 1)[1][: -len(b"\n")] for c in chunks[1:4]]
    return bodies[0], bodies[1], bodies[2]


def official_td21(
    assertion: etree._Element,
    signer: Credentials | None,
    *,
    ins: str = PATIENT,
    author: str = GP,
    structure: str = GP_STRUCTURE,
    inline: bool = False,
    cda: Callable[[bytes], bytes] | None = None,
    envelope: Callable[[bytes], bytes] | None = None,
    xades: bytes | None = None,
    tamper: Callable[[bytes], bytes] | None = None,
) -> tuple[bytes, str, Ids]:
    """The re-keyed official request; `cda` / `envelope` transform those parts before signing,
    `xades` replaces the signature made with `signer`, `tamper` changes the CDA after signing."""
    suffix = str(uuid.uuid4().int)[:13]
    ids = Ids(*(f"1.2.250.1.999.1.1.7898.{arc}.{suffix}" for arc in (1, 3, 4)))
    root, document, _ = parts()
    root = ASSERTION.sub(lambda _m: etree.tostring(assertion), root, count=1)
    root = re.sub(rb"urn:uuid:[0-9a-f-]{36}", f"urn:uuid:{uuid.uuid4()}".encode(), root, count=1)
    root = _rekey(root, ins, author, structure).replace(OFFICIAL_SUFFIX.encode(), suffix.encode())
    document = _rekey(document, ins, author, structure).replace(
        OFFICIAL_CDA_ID.encode(), ids.document.encode()
    )
    if cda is not None:
        document = cda(document)
    if envelope is not None:
        root = envelope(root)
    signature = xades if xades is not None else b""
    if xades is None and signer is not None:
        signature = sign_xades(signer, {ids.document: document}, ids.submission_set).xml
    if tamper is not None:
        document = tamper(document)
    contents = {b"WS_DMP_TD2.1-DocumentME2.xml": document, b"WS_DMP_TD2.1-SignatureXades.xml": signature}
    if inline:
        body = XOP_INCLUDE.sub(lambda m: base64.b64encode(contents[m[1]]), root)
        return body, "application/soap+xml; charset=UTF-8", ids
    out = [
        b"--" + BOUNDARY + b"\n" + REQUEST.read_bytes().split(b"--" + BOUNDARY)[1].split(b"\n\n", 1)[0][1:]
    ]
    out[0] += b"\n\n" + root + b"\n"
    for cid, data in contents.items():
        out.append(
            b"--" + BOUNDARY + b"\nContent-Type: text/xml; charset=Cp1252; name=" + cid + b"\n"
            b"Content-Transfer-Encoding: binary\nContent-ID: <" + cid + b">\n"
            b'Content-Disposition: attachment; name="'
            + cid
            + b'"; filename="'
            + cid
            + b'"\n\n'
            + data
            + b"\n"
        )
    return b"".join(out) + b"--" + BOUNDARY + b"--", CONTENT_TYPE, ids
