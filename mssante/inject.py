"""Inbound injection: a hospital, a laboratory, a colleague or a patient sends the LGC a message,
to test its reception side (MSS.23–25, BIO.*): `POST /_sandbox/mss/inject`.

    {"from_persona": "labo" | an address | an idNat_PS | an idNat_Struct | a patient id or INS,
     "to": "camille.lemaire@medecin.mssante.fr" (or a list: the LGC's mailboxes),
     "document": "crbio" | "ldl" | "vsm" | "none" | {"upload": <base64 CDA>, "pdf": <base64>},
     "variant": "ok" | "sans-ins" | "traits-differents" | "nouvelle-version",
     "patient": a patient id or INS (default: the demo patient GIRARD Sophie),
     "mdn": true (Disposition-Notification-To = the sender = Return-Path),
     "subject", "body", "in_reply_to" (a Message-ID: a reply, with References)}

Presets (`PRESETS`): `labo` — the laboratory of the CENTRE HOSPITALIER DE TOURS SANDBOX
(`biologie@ch-tours-sandbox.mssante.fr`) sends a CR-BIO; `hopital` — Dr Hugo FONTAINE sends a
lettre de liaison (N1 + PDF); `sil` — the hospital's laboratory software (APP mailbox
`sil@…`, with Reply-To and the automatic-sending notice) sends a CR-BIO; `confrere` — Dr Moussa
DIALLO sends a VSM; `patient` — the patient writes from `<INS>@patient.mssante.fr` (no document).

The message is built like an LGC's (mssante.xdm_build: IHE_XDM.ZIP with our METADATA.XML, the
PDF, X-MSS-* headers, the XDM subject), completed with Return-Path and Received, stored and
delivered into each recipient's INBOX (IMAP sees it at once), journaled (operation "inject")
and its documents recorded (a later `nouvelle-version` replaces the last one). The sandbox sends
no automatic receipt for it: the LGC is its receiver, and its MDN or error mail is checked like
any submission (mssante.receipt_checks).
"""

from __future__ import annotations

import base64
import binascii
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mocks.population.model import Patient, Professional, Structure
from mssante import cda_header, history, wire, xdm_build
from mssante.content import ins_qualified
from mssante.mailboxes import Mailbox
from mssante.samples import KINDS, VARIANTS, Actor, Recipient, generate
from mssante.submission import Context, DocumentInfo, header

if TYPE_CHECKING:
    from mssante.service import Mss

DEMO_PATIENT = "demo-girard-sophie"
DEMO_AUTHOR = "810100000032"  # Dr Hugo FONTAINE, CH de Tours


@dataclass(frozen=True)
class Preset:
    sender: str
    document: str
    label: str


PRESETS = {
    "labo": Preset("biologie@ch-tours-sandbox.mssante.fr", "crbio", "Laboratoire du CH de Tours : CR-BIO"),
    "hopital": Preset(
        "hugo.fontaine@ch-tours-sandbox.mssante.fr",
        "ldl",
        "Dr Hugo FONTAINE (CH de Tours) : lettre de liaison",
    ),
    "sil": Preset(
        "sil@ch-tours-sandbox.mssante.fr", "crbio", "Logiciel du laboratoire (BAL applicative) : CR-BIO"
    ),
    "confrere": Preset("moussa.diallo@cds-lilas.mssante.fr", "vsm", "Dr Moussa DIALLO (CDS des Lilas) : VSM"),
    "patient": Preset("patient", "none", "Le patient répond depuis Mon espace santé"),
}


class InjectError(ValueError):
    """A request the control API refuses with 400 (French message)."""


def _patient(mss: Mss, ref: str) -> Patient:
    pop = mss.sandbox.population
    ref = (ref or DEMO_PATIENT).strip()
    found = pop.patient(ref) or (pop.by_matricule(ref[:13]) if ref[:13].isalnum() else None)
    if found is None:
        raise InjectError(f"patient inconnu : {ref}")
    return found


def _sender(mss: Mss, ref: str, patient: Patient) -> tuple[str, str, Mailbox | None]:
    """(address, display name, mailbox) of whoever sends."""
    directory = mss.directory()
    pop = mss.sandbox.population
    if ref == "patient":
        ref = patient.mss_address
    if "@" in ref:
        mbx = directory.get(ref)
        if mbx is None and ref.rpartition("@")[2].lower() not in mss.outbound():
            raise InjectError(
                f"expéditeur {ref} : ni une BAL du bac à sable ni un domaine d'un autre opérateur de la liste blanche"
            )
        return ref.lower(), mbx.display if mbx else ref, mbx
    pro = pop.professional(ref)
    if pro is not None and pro.mss_address:
        return (
            pro.mss_address.lower(),
            f"{' '.join(pro.prenoms[:1]).title()} {pro.nom}",
            directory.get(pro.mss_address),
        )
    place = pop.structure(ref)
    if place is not None and (place.mss_app_address or place.mss_org_address):
        address = (place.mss_app_address or place.mss_org_address).lower()
        return address, place.name, directory.get(address)
    found = pop.patient(ref) or pop.by_matricule(ref[:13])
    if found is not None:
        return (
            found.mss_address.lower(),
            f"{found.nom} {' '.join(found.prenoms[:1])}",
            directory.get(found.mss_address),
        )
    raise InjectError(f"expéditeur inconnu : {ref} (adresse, idNat_PS, idNat_Struct ou patient)")


def _author(mss: Mss, mbx: Mailbox | None) -> Actor:
    """The professional who signs a generated document sent from this mailbox."""
    pop = mss.sandbox.population
    pro: Professional | None = None
    place: Structure | None = None
    if mbx is not None and mbx.type in ("PER", "CAB"):
        pro = pop.professional(sorted(mbx.owners)[0]) if mbx.owners else None
    if mbx is not None and mbx.structure:
        place = pop.structure(mbx.structure)
    if pro is None and place is not None:
        pro = next(
            (
                p
                for p in pop.professionals()
                if any(a.structure_id == place.id_nat for a in p.activities) and p.rpps
            ),
            None,
        )
    pro = pro or pop.professional(DEMO_AUTHOR)
    assert pro is not None, "the demo author is part of every world"
    if place is None:
        place = next((s for a in pro.activities if (s := pop.structure(a.structure_id)) is not None), None)
    assert place is not None
    return Actor.of(pro, place)


def _recipients(mss: Mss, to: list[str]) -> list[Recipient]:
    out = []
    for address in to:
        mbx = mss.directory().get(address)
        owner = sorted(mbx.owners)[0] if mbx is not None and mbx.type in ("PER", "CAB") and mbx.owners else ""
        out.append(Recipient(address, mbx.display if mbx else "", owner))
    return out


def _last(mss: Mss, tenant: str, sender: str, type_code: str) -> dict[str, Any] | None:
    rows = mss.sandbox.store.query(
        "SELECT * FROM mss_documents WHERE tenant = ? AND mailbox = ? AND direction = 'sent' AND type_code = ? "
        "ORDER BY id DESC LIMIT 1",
        (tenant, sender, type_code),
    )
    return rows[0] if rows else None


def _decode(value: Any, what: str) -> bytes:
    try:
        return base64.b64decode(str(value), validate=True)
    except (binascii.Error, ValueError):
        raise InjectError(f"{what} : base64 attendu") from None


def inject(mss: Mss, tenant: str, data: dict[str, Any]) -> dict[str, Any]:
    sandbox = mss.sandbox
    if not isinstance(data, dict):
        raise InjectError("corps JSON attendu : un objet")
    ref = str(data.get("from_persona") or "labo")
    preset = PRESETS.get(ref)
    patient = _patient(mss, str(data.get("patient") or ""))
    sender, sender_name, mbx = _sender(mss, preset.sender if preset else ref, patient)
    raw_to = data.get("to") or []
    if not isinstance(raw_to, str | list):
        raise InjectError("« to » : une adresse ou une liste d'adresses")
    to = [str(a).strip().lower() for a in ([raw_to] if isinstance(raw_to, str) else raw_to) if str(a).strip()]
    if not to:
        raise InjectError("« to » : au moins une BAL destinataire (celle du LGC)")
    for address in to:
        if mss.directory().get(address) is None:
            raise InjectError(f"destinataire {address} : pas une BAL du bac à sable")
    document = data.get("document", preset.document if preset else "none")
    variant = str(data.get("variant") or "ok")
    if variant not in VARIANTS:
        raise InjectError(f"variante inconnue {variant!r} : {', '.join(VARIANTS)}")
    now = sandbox.now(tenant)
    ins_family = str(sandbox.config.get("cda_ins_oids") or "test")
    docs: list[tuple[bytes, cda_header.Header]] = []
    pdf: bytes | None = None
    pdf_name = "document.pdf"
    if isinstance(document, dict) and "upload" in document:
        cda = _decode(document["upload"], "document.upload")
        try:
            docs.append((cda, cda_header.read(cda)))
        except cda_header.HeaderError as exc:
            raise InjectError(f"document.upload : {exc}") from None
        if document.get("pdf"):
            pdf = _decode(document["pdf"], "document.pdf")
        else:
            try:
                pdf, _ = sandbox.cda.extract_pdf(cda)
            except ValueError:
                pdf = None
    elif document not in ("none", None, ""):
        kind = str(document)
        if kind not in KINDS:
            raise InjectError(f'document {kind!r} : {", ".join(KINDS)}, none ou {{"upload": ...}}')
        author = _author(mss, mbx)
        extra: dict[str, Any] = {}
        if variant == "nouvelle-version":
            code = {"crbio": "11502-2", "ldl": "11490-0", "vsm": "SYNTH"}[kind]
            last = _last(mss, tenant, sender, code)
            if last is None:
                raise InjectError(
                    "nouvelle-version : aucun document de ce type injecté auparavant par cet expéditeur"
                )
            extra = {
                "replaces": last["unique_id"],
                "set_id": last["set_id"],
                "version": int(last["version"] or 1) + 1,
            }
        made = generate(kind, patient=patient, author=author, recipients=_recipients(mss, to), now=now,
                        ins_family=ins_family, variant=variant, **extra)  # fmt: skip
        docs.append((made.cda, made.header))
        pdf, pdf_name = made.pdf, made.pdf_name
    headers = [h for _, h in docs]
    is_app = mbx is not None and mbx.type == "APP"
    reply_to = ""
    if is_app and mbx is not None:
        place = sandbox.population.structure(mbx.structure)
        reply_to = (place.mss_org_address if place and place.mss_org_address else DEMO_REPLY).lower()
    subject = str(data.get("subject") or "") or (
        xdm_build.subject(headers) if headers else "Message de votre patient"
    )
    in_reply_to = str(data.get("in_reply_to") or "")
    if in_reply_to and not data.get("subject"):
        subject = "RE: " + _subject_of(mss, tenant, in_reply_to, subject)
    body = str(data.get("body") or "") or _body(headers, sender_name, is_app)
    zip_bytes = None
    if docs:
        zip_bytes = xdm_build.archive(
            docs, sender=xdm_build.Sender(sender_name, sender), recipients=to, now=now
        )
    who = xdm_build.Sender(sender_name, sender)
    qualified = [h for h in headers if h.ins] and all(h.ins for h in headers)
    raw, message_id = xdm_build.message(
        sender=who, to=to, subject=subject, body=body, now=now, host=mss.host, zip_bytes=zip_bytes, pdf=pdf,
        pdf_name=pdf_name, codes=[h.code.code for h in headers], ins_qualified=bool(qualified),
        disposition_to=sender if data.get("mdn") else "", reply_to=reply_to, in_reply_to=in_reply_to,
    )  # fmt: skip
    return _deliver(mss, tenant, raw, message_id, sender, to, docs, {"preset": ref if preset else "", "variant": variant,
                    "document": document if isinstance(document, str) else "upload", "patient": patient.id})  # fmt: skip


DEMO_REPLY = "secretariat@cds-lilas.mssante.fr"


def _subject_of(mss: Mss, tenant: str, message_id: str, default: str) -> str:
    row = mss.sandbox.store.one(
        "SELECT raw FROM mss_messages WHERE tenant = ? AND message_id = ?", (tenant, message_id)
    )
    if row is None:
        return default
    return header(wire.parse(bytes(row["raw"])), "Subject") or default


def _body(headers: list[cda_header.Header], sender: str, is_app: bool) -> str:
    if headers:
        text = f"Bonjour,\n\nVeuillez trouver ci-joint le document « {headers[0].title} » de votre patient(e) {headers[0].family} {headers[0].given}.\n\nCordialement,\n{sender}\n"
    else:
        text = "Bonjour Docteur,\n\nMerci pour votre message. Je vous confirme ma présence au rendez-vous.\n\nBien cordialement.\n"
    if is_app:
        text += "\n--\nCe message a été envoyé automatiquement par le logiciel du laboratoire : répondez à l'adresse indiquée (Reply-To).\n"
    return text


def _deliver(mss: Mss, tenant: str, raw: bytes, message_id: str, sender: str, to: list[str],
             docs: list[tuple[bytes, cda_header.Header]], meta: dict[str, Any]) -> dict[str, Any]:  # fmt: skip
    sandbox = mss.sandbox
    now = sandbox.now(tenant)
    queue_id = uuid.uuid4().hex[:12].upper()
    stored, _ = wire.completed(raw, host=mss.host, queue_id=queue_id, helo=mss.host, peer="127.0.0.1",
                               identity="sandbox-inject", tls=None, recipient=to[0] if len(to) == 1 else None, now=now,
                               add_date=False, add_message_id=False, return_path=sender)  # fmt: skip
    ctx = Context(sandbox, tenant, mss.directory(), mss.mails)
    infos = [_info(ctx, n, data, h) for n, (data, h) in enumerate(docs, start=1)]
    with sandbox.exchange("mss", "inject", tenant) as ex:
        ex.caller, ex.persona = sender, to[0]
        envelope = {"mail_from": sender, "recipients": [{"address": a, "route": "local", "notify": [], "orcpt": ""} for a in to],
                    "kind": "xdm" if docs else "mail", "injected": meta, "documents": [d.as_dict() for d in infos],
                    "queue_id": queue_id, "trace_id": ex.trace_id}  # fmt: skip
        message = mss.mails.add_message(tenant, stored, message_id=message_id, mail_from=sender, rcpt_to=to,
                                        envelope=envelope, received_at=now.isoformat(), origin="inject")  # fmt: skip
        for address in to:
            mss.mails.folders(tenant, address)
            mss.mails.deliver(tenant, address, message)
        history.record(sandbox.store, tenant, message, sender, "sent", infos, now.isoformat())
        ex.status, ex.outcome = 201, f"injected {sender} → {', '.join(to)}"
        ex.request_body = stored[:65536].decode("utf-8", "replace")
        ex.details.update({"message": message, "message_id": message_id, **meta})
    return {
        "message": message,
        "message_id": message_id,
        "from": sender,
        "to": to,
        "subject": _subject_line(stored),
        "documents": [d.as_dict() for d in infos],
        "eml": f"/_sandbox/mss/messages/{message}/eml?tenant={tenant}",
        **meta,
    }


def _subject_line(raw: bytes) -> str:
    return header(wire.parse(raw), "Subject")


def _info(ctx: Context, n: int, data: bytes, h: cda_header.Header) -> DocumentInfo:
    return DocumentInfo(
        uri=f"IHE_XDM/SUBSET01/DOC{n:04d}.XML", unique_id=h.unique_id, type_code=h.code.code, type_label=h.code.display,
        title=h.title, ins=h.ins, ins_qualified=ins_qualified(ctx.sandbox, ctx.tenant, h.ins), set_id=h.set_id, version=h.version,
        replaces=h.replaces, confidentiality=[h.confidentiality.code], level=h.level, family=h.family, given=h.given,
        birth_time=h.birth_time, sex=h.sex, author=h.author.id, structure=h.author.org_id, size=len(data),
    )  # fmt: skip
