"""A builder of correct MSSanté messages carrying an IHE_XDM.ZIP, written for the tests from the
research (mssante.md §2.1–2.2) and IHE XDM, independently of the product's writer
(mssante.xdm_build / mssante.metadata): its METADATA.XML template, its ZIP and its MIME (the
standard library's EmailMessage) are its own. The CDA documents come from the product's
generator, which tests/mssante/test_samples.py validates with the official ANS engine.

    msg = XdmMessage(doc, sender=CDS_APP, to=[COLLEAGUE_BAL])     a correct message
    msg.hash = "0" * 40; raw = msg.bytes()                        a broken variant

Every knob defaults to the correct value; a variant changes one.
"""

from __future__ import annotations

import hashlib
import io
import uuid
import zipfile
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

from mssante.samples import Generated

NS_LCM = "urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0"
NS_RIM = "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"


def _slot(name: str, *values: str) -> str:
    return (
        f'<rim:Slot name="{name}"><rim:ValueList>'
        + "".join(f"<rim:Value>{v}</rim:Value>" for v in values)
        + "</rim:ValueList></rim:Slot>"
    )


def _cls(scheme: str, code: str, system: str, label: str = "") -> str:
    return (f'<rim:Classification id="{uuid.uuid4()}" classificationScheme="urn:uuid:{scheme}" classifiedObject="doc" '
            f'nodeRepresentation="{code}">{_slot("codingScheme", system)}<rim:Name><rim:LocalizedString value="{label}"/></rim:Name></rim:Classification>')  # fmt: skip


@dataclass
class XdmMessage:
    doc: Generated
    sender: str
    to: list[str]
    sender_name: str = "Centre de santé des Lilas"
    # archive
    uri: str = "DOC0001.XML"
    hash: str | None = None  # default: the SHA-1 of the document
    size: str | None = None
    unique_id: str | None = None
    author: str | None = None
    confidentiality: list[tuple[str, str]] = field(default_factory=list)  # extra (code, scheme)
    readme: bool = True
    metadata: bytes | None = None  # replaces METADATA.XML
    extra_files: dict[str, bytes] = field(default_factory=dict)
    zip_bytes: bytes | None = None  # replaces the whole archive
    # message
    subject: str | None = None
    nil: str | None = "DEV935997"
    codecda: str | None = None  # default: the document's code; "" leaves the header out
    ins: str | None = "O"
    mes: str | None = None
    reply_to: str | None = "secretariat@cds-lilas.mssante.fr"
    footer: bool = True
    html_only: bool = False
    pdf: bytes | None = None  # default: the document's PDF twin
    with_pdf: bool = True
    dnt: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    message_id: str = field(default_factory=lambda: make_msgid(domain="lgc.example"))

    def metadata_xml(self) -> bytes:
        h, data = self.doc.header, self.doc.cda
        pid = f"{h.ins}^^^&amp;{h.ins_root}&amp;ISO^NH"
        author = self.author if self.author is not None else h.author.id
        conf = _cls("f4f85eac-e6cb-4883-b524-f2705394840f", h.confidentiality.code, h.confidentiality.system)
        conf += "".join(_cls("f4f85eac-e6cb-4883-b524-f2705394840f", c, s) for c, s in self.confidentiality)
        recipients = "".join(f"<rim:Value>|^^Internet^{a}</rim:Value>" for a in self.to)
        return (
            f'<?xml version="1.0" encoding="UTF-8"?><lcm:SubmitObjectsRequest xmlns:lcm="{NS_LCM}" xmlns:rim="{NS_RIM}"><rim:RegistryObjectList>'
            f'<rim:RegistryPackage id="ss">{_slot("submissionTime", "20260101120000")}'
            f'<rim:Slot name="intendedRecipient"><rim:ValueList>{recipients}</rim:ValueList></rim:Slot></rim:RegistryPackage>'
            '<rim:ExtrinsicObject id="doc" mimeType="text/xml" objectType="urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1">'
            + _slot("hash", self.hash if self.hash is not None else hashlib.sha1(data).hexdigest())
            + _slot("size", self.size if self.size is not None else str(len(data)))
            + _slot("URI", self.uri)
            + _slot("languageCode", h.language)
            + '<rim:Classification id="a1" classificationScheme="urn:uuid:93606bcf-9494-43ec-9b4e-a7748d1a838d" classifiedObject="doc" nodeRepresentation="">'
            + _slot(
                "authorPerson",
                f"{author}^{h.author.family}^{h.author.given}^^^^^^&amp;1.2.250.1.71.4.2.1&amp;ISO^D^^^IDNPS",
            )
            + "</rim:Classification>"
            + conf
            + _cls(
                "f0306f51-975f-434e-a61c-c59651d33983",
                h.code.code,
                h.code.system,
                h.code.display.replace("'", "&apos;"),
            )
            + f'<rim:ExternalIdentifier id="e1" registryObject="doc" identificationScheme="urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427" value="{pid}"/>'
            + f'<rim:ExternalIdentifier id="e2" registryObject="doc" identificationScheme="urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab" value="{self.unique_id or h.unique_id}"/>'
            + "</rim:ExtrinsicObject></rim:RegistryObjectList></lcm:SubmitObjectsRequest>"
        ).encode()

    def archive(self) -> bytes:
        if self.zip_bytes is not None:
            return self.zip_bytes
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("INDEX.HTM", "<html><body><a href='README.TXT'>README.TXT</a></body></html>")
            if self.readme:
                z.writestr("README.TXT", "Expediteur : Centre de sante des Lilas\r\n")
            z.writestr(
                "IHE_XDM/SUBSET01/METADATA.XML",
                self.metadata if self.metadata is not None else self.metadata_xml(),
            )
            z.writestr(f"IHE_XDM/SUBSET01/{self.uri}", self.doc.cda)
            for name, data in self.extra_files.items():
                z.writestr(name, data)
        return out.getvalue()

    def email(self) -> EmailMessage:
        h = self.doc.header
        msg = EmailMessage()
        msg["From"] = f"{self.sender_name} <{self.sender}>"
        msg["To"] = ", ".join(self.to)
        label = h.code.display[:40]
        msg["Subject"] = (
            self.subject
            if self.subject is not None
            else f"XDM/1.0/DDM+{label} {h.family} {h.given} {h.birth_date}"
        )
        msg["Date"] = format_datetime(__import__("datetime").datetime.now().astimezone())
        msg["Message-ID"] = self.message_id
        optional: dict[str, str | None] = {"X-MSS-NIL": self.nil, "X-MSS-CODECDA": self.codecda if self.codecda is not None else h.code.code,
                                           "X-MSS-INS": self.ins, "X-MSS-MES": self.mes, "Reply-To": self.reply_to,
                                           "Disposition-Notification-To": self.dnt}  # fmt: skip
        for name, value in {**optional, **self.headers}.items():
            if value:
                msg[name] = value
        text = "Bonjour,\n\nVeuillez trouver ci-joint le document.\n"
        if self.footer:
            text += (
                "\n--\nMessage envoyé automatiquement par le logiciel du centre : répondez au secrétariat.\n"
            )
        if self.html_only:
            msg.set_content(f"<p>{text}</p>", subtype="html")
        else:
            msg.set_content(text)
        msg.add_attachment(self.archive(), maintype="application", subtype="zip", filename="IHE_XDM.ZIP")
        if self.with_pdf:
            msg.add_attachment(self.pdf if self.pdf is not None else self.doc.pdf, maintype="application", subtype="pdf",
                               filename=self.doc.pdf_name)  # fmt: skip
        return msg

    def bytes(self) -> bytes:
        from email import policy

        return self.email().as_bytes(policy=policy.SMTP)

    def as_dict(self) -> dict[str, Any]:
        return {"message_id": self.message_id, "to": self.to}
