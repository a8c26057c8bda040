"""Writing an IHE_XDM.ZIP and the MSSanté message around it (research mssante.md §2.1–2.2): what
the sandbox sends when it plays a hospital, a laboratory or a colleague (mssante.inject).

    zip_bytes = archive(documents, sender=..., recipients=[...], now=...)
    raw = message(sender=..., to=[...], subject=..., body=..., zip_bytes=..., pdf=..., ...)

The archive: INDEX.HTM and README.TXT at the root, IHE_XDM/SUBSET01/METADATA.XML (our writer,
mssante.metadata) and the documents under ISO 9660 level-1 names (DOC0001.XML ...). The message:
multipart/mixed — the text body, IHE_XDM.ZIP (application/zip, base64), the PDF twin of the N1
(application/pdf, base64) — with the X-MSS headers (ECO.2.4.1–2.4.3, ECO.2.2.8) and the subject
`XDM/1.0/DDM+<libellé> <NOM> <prénom> <JJ/MM/AAAA>` (ECO.2.1.3).
"""

from __future__ import annotations

import base64
import io
import uuid
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.header import Header as MimeHeader
from email.utils import format_datetime, formataddr

from mssante import metadata_write as metadata
from mssante.cda_header import Header

APPLICATION = "Ségur Sandbox MSSanté"
VENDOR = "Ségur Sandbox (logiciel libre)"
NIL = "SEGUR-SANDBOX"  # the X-MSS-NIL of the sandbox's own messages


@dataclass(frozen=True)
class Sender:
    name: str  # display name (a person or a structure)
    address: str
    organisation: str = ""
    postal: str = ""
    phone: str = ""


def subject(headers: Sequence[Header]) -> str:
    """`XDM/1.0/DDM+<libellé> <NOM> <prénom> <JJ/MM/AAAA>`: the document's displayName (40
    characters at most) or `N documents`, the patient's birth name, first name and birth date."""
    first = headers[0]
    label = first.code.display[:40] if len(headers) == 1 else f"{len(headers)} documents"
    return f"XDM/1.0/DDM+{label} {first.family} {first.given} {first.birth_date}".strip()


def _index(sender: Sender, uris: Sequence[str]) -> bytes:
    links = "".join(f'<li><a href="IHE_XDM/SUBSET01/{u}">{u}</a></li>' for u in uris)
    html = (
        '<!DOCTYPE html>\n<html lang="fr"><head><meta charset="utf-8"><title>IHE_XDM</title></head><body>\n'
        f"<h1>Documents de santé transmis par {sender.name}</h1>\n"
        f"<p>Expéditeur : {sender.name}{' — ' + sender.organisation if sender.organisation else ''} "
        f"&lt;{sender.address}&gt;</p>\n"
        '<p>Lisez d\'abord le fichier <a href="README.TXT">README.TXT</a>.</p>\n'
        f"<ul>{links}</ul>\n</body></html>\n"
    )
    return html.encode("utf-8")


def _readme(sender: Sender, uris: Sequence[str], now: datetime) -> bytes:
    tree = "\r\n".join(["IHE_XDM.ZIP", "  INDEX.HTM", "  README.TXT", "  IHE_XDM/", "    SUBSET01/",
                        "      METADATA.XML", *[f"      {u}" for u in uris]])  # fmt: skip
    text = (
        "Expéditeur\r\n"
        f"  Nom : {sender.name}\r\n"
        f"  Organisation : {sender.organisation}\r\n"
        f"  Adresse : {sender.postal}\r\n"
        f"  Téléphone : {sender.phone}\r\n"
        f"  Messagerie : {sender.address}\r\n\r\n"
        "Application émettrice\r\n"
        f"  Nom : {APPLICATION}\r\n  Version : 1.0\r\n  Éditeur : {VENDOR}\r\n\r\n"
        "Instructions\r\n"
        "  Cette archive suit le profil IHE XDM (volet Échange de documents de santé du CI-SIS).\r\n"
        "  Ouvrez INDEX.HTM, ou intégrez les documents CDA décrits par IHE_XDM/SUBSET01/METADATA.XML.\r\n"
        f"  Constituée le {now.strftime('%d/%m/%Y à %H:%M')}.\r\n\r\n"
        f"Contenu\r\n{tree}\r\n"
    )
    return text.encode("utf-8")


def archive(
    documents: Sequence[tuple[bytes, Header]],
    *,
    sender: Sender,
    recipients: Sequence[str],
    now: datetime,
    confidentiality: Sequence[tuple[str, str, str]] = (),
) -> bytes:
    """The IHE_XDM.ZIP of `documents` (CDA bytes with their header)."""
    docs = [
        metadata.Document(f"DOC{n:04d}.XML", data, header, tuple(confidentiality))
        for n, (data, header) in enumerate(documents, start=1)
    ]
    meta = metadata.build(
        docs,
        submission_time=now.astimezone().strftime("%Y%m%d%H%M%S"),
        source_id="1.2.250.1.213.1.1.9.99",
        unique_id=f"2.25.{uuid.uuid4().int}",
        recipients=recipients,
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("INDEX.HTM", _index(sender, [d.uri for d in docs]))
        z.writestr("README.TXT", _readme(sender, [d.uri for d in docs], now))
        z.writestr("IHE_XDM/SUBSET01/METADATA.XML", meta)
        for d in docs:
            z.writestr(f"IHE_XDM/SUBSET01/{d.uri}", d.data)
    return out.getvalue()


def _b64(data: bytes) -> str:
    text = base64.b64encode(data).decode()
    return "\r\n".join(text[i : i + 76] for i in range(0, len(text), 76))


def _hdr(value: str) -> str:
    """A header value: as is in ASCII, else RFC 2047 encoded words (UTF-8)."""
    return value if value.isascii() else MimeHeader(value, "utf-8").encode()


def message(
    *,
    sender: Sender,
    to: Sequence[str],
    subject: str,
    body: str,
    now: datetime,
    host: str,
    zip_bytes: bytes | None = None,
    pdf: bytes | None = None,
    pdf_name: str = "document.pdf",
    codes: Sequence[str] = (),
    ins_qualified: bool | None = None,
    disposition_to: str = "",
    reply_to: str = "",
    in_reply_to: str = "",
    references: str = "",
    fin: bool = False,
) -> tuple[bytes, str]:
    """The raw message (CRLF) and its Message-ID."""
    message_id = f"<{uuid.uuid4().hex}@{host}>"
    boundary = f"=_sandbox_{uuid.uuid4().hex}"
    head = [
        f"From: {formataddr((sender.name, sender.address), charset='utf-8')}",
        f"To: {', '.join(to)}",
        f"Subject: {_hdr(subject)}",
        f"Date: {format_datetime(now)}",
        f"Message-ID: {message_id}",
        f"X-MSS-NIL: {NIL}",
    ]
    if reply_to:
        head.append(f"Reply-To: {reply_to}")
    if in_reply_to:
        head += [f"In-Reply-To: {in_reply_to}", f"References: {references or in_reply_to}"]
    if zip_bytes is not None and codes:
        head.append(f"X-MSS-CODECDA: {','.join(codes)}")
        head.append(f"X-MSS-INS: {'O' if ins_qualified else 'N'}")
    if fin:
        head.append("X-MSS-MES: FIN")
    if disposition_to:
        head.append(f"Disposition-Notification-To: {disposition_to}")
    head.append("MIME-Version: 1.0")
    text_part = "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n" + _b64(
        body.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8")
    )
    if zip_bytes is None and pdf is None:
        raw = "\r\n".join(head) + "\r\n" + text_part + "\r\n"
        return raw.encode("ascii"), message_id
    parts = [text_part]
    if zip_bytes is not None:
        parts.append(
            'Content-Type: application/zip; name="IHE_XDM.ZIP"\r\nContent-Transfer-Encoding: base64\r\n'
            'Content-Disposition: attachment; filename="IHE_XDM.ZIP"\r\n\r\n' + _b64(zip_bytes)
        )
    if pdf is not None:
        parts.append(
            f'Content-Type: application/pdf; name="{pdf_name}"\r\nContent-Transfer-Encoding: base64\r\n'
            f'Content-Disposition: attachment; filename="{pdf_name}"\r\n\r\n' + _b64(pdf)
        )
    head.append(f'Content-Type: multipart/mixed; boundary="{boundary}"')
    raw = "\r\n".join(head) + "\r\n\r\nThis is a multi-part message in MIME format.\r\n"
    raw += "".join(f"--{boundary}\r\n{p}\r\n" for p in parts) + f"--{boundary}--\r\n"
    return raw.encode("ascii"), message_id
