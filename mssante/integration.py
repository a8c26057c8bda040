"""What a sandbox mailbox does with a message an LGC sent it: it plays the receiving software
(an LPS, a hospital's PFI), integrates the IHE_XDM documents against the synthetic world, and
answers with the receipts of the ANS guide (mssante.receipts) according to its profile:

    auto    (default; `manual` for citizen mailboxes)  integrates at once; an MDN
            `automatic-action/MDN-sent-automatically; processed[/Error: code^libellé]` when
            Disposition-Notification-To is set and equals Return-Path (RFC 8098 §2.1), else on
            an integration error the "standard" error mail to Return-Path
    manual  sends an MDN `manual-action/MDN-sent-manually; displayed` when someone marks the
            message read (console, control API), if one was asked for
    never   no receipt

Integration (the volet's applicationErrorCondition codes, specs/mssante/ig-messages/
error-codes.md): no INS in the CDA 903; an INS unknown to the population 902; traits missing
905; traits (birth name, first first name, birth date, sex) other than the population's 904; a
replacement whose version is not the integrated one + 1 900, from another structure than the
replaced document's 901; an IHE_XDM with no readable document 906. A fault rule on operation
"MDN" (persona: the receiving mailbox) forces a code (`mdn_902`), a delay (`delay_ms`) or a lost
receipt (`drop_connection`).

Receipts run in a small pool after the SMTP reply (`Receipts.after_delivery`), each with its
journal entry (operation "MDN" or "error mail"); messages the sandbox injects get none (the LGC
is their receiver).
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mocks.errors import DropConnection, ServiceError
from mocks.mail import mail_exchange
from mssante import history, receipts, wire
from mssante.content import fold
from mssante.errors import ERRORS, INTEGRATION, IntegrationError
from mssante.mailboxes import Mailbox, domain_of
from mssante.submission import DocumentInfo, addresses, header, walk

if TYPE_CHECKING:
    from mssante.service import Mss

log = logging.getLogger("segur.mss")
PROFILES = ("auto", "manual", "never")
LABELS = dict(INTEGRATION)


def default_profile(mailbox: Mailbox) -> str:
    return "manual" if mailbox.type == "CIT" else "auto"


def profile(mss: Mss, tenant: str, mailbox: Mailbox) -> str:
    row = mss.sandbox.store.one(
        "SELECT receipts FROM mss_profiles WHERE tenant = ? AND mailbox = ?", (tenant, mailbox.address)
    )
    return str(row["receipts"]) if row else default_profile(mailbox)


def set_profile(mss: Mss, tenant: str, mailbox: Mailbox, value: str) -> None:
    if value not in PROFILES:
        raise ValueError(f"profil {value!r} : auto, manual ou never")
    mss.sandbox.store.execute(
        "INSERT INTO mss_profiles(tenant, mailbox, receipts) VALUES (?, ?, ?) "
        "ON CONFLICT(tenant, mailbox) DO UPDATE SET receipts = excluded.receipts",
        (tenant, mailbox.address, value),
    )


@dataclass(frozen=True)
class Outcome:
    code: str = ""  # "" integrated; else 900-906
    detail: str = ""

    @property
    def label(self) -> str:
        return LABELS.get(self.code, "")


def integrate(mss: Mss, tenant: str, mailbox: Mailbox, documents: list[DocumentInfo], xdm: bool) -> Outcome:
    """The receiving software's verdict on the documents of one message."""
    if xdm and not any(d.unique_id for d in documents):
        return Outcome("906", "aucun document CDA lisible dans l'IHE_XDM")
    population = mss.sandbox.population
    for d in documents:
        if not d.unique_id:
            continue
        if not d.ins:
            return Outcome("903", f"{d.uri} sans INS")
        patient = population.by_matricule(d.ins[:13])
        if patient is None:
            return Outcome("902", f"INS {d.ins} inconnu")
        if not (d.family and d.given and len(d.birth_time) >= 8 and d.sex):
            return Outcome("905", f"{d.uri} : traits de l'INS incomplets")
        born = patient.date_naissance.replace("-", "")
        if (
            fold(d.family) != fold(patient.nom)
            or fold(d.given).split(" ")[0] != fold(patient.prenoms[0] if patient.prenoms else "")
            or d.birth_time[:8] != born
            or d.sex != patient.sexe
            or d.ins != patient.ins
        ):
            return Outcome(
                "904",
                f"{d.uri} : traits ≠ {patient.nom} {' '.join(patient.prenoms[:1])} {patient.date_naissance} {patient.sexe}",
            )
        if d.replaces:
            parents = history.previous(
                mss.sandbox.store, tenant, unique_id=d.replaces, mailbox=mailbox.address, direction="received"
            )
            if parents:
                old = history.version_number(parents[0]["version"])
                if old is not None and history.version_number(d.version) != old + 1:
                    return Outcome("900", f"version {d.version} ; {old + 1} attendue")
                if parents[0]["structure"] and d.structure != parents[0]["structure"]:
                    return Outcome("901", f"structure {d.structure} ≠ {parents[0]['structure']}")
    return Outcome()


class Receipts:
    """The receipts pool of the service (two threads: receipts are small and rare)."""

    def __init__(self, mss: Mss):
        self.mss = mss
        self._pool: ThreadPoolExecutor | None = None

    @property
    def pool(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="mss-receipts")
        return self._pool

    def after_delivery(self, tenant: str, stored: int, mailboxes: list[Mailbox], documents: list[DocumentInfo],
                       xdm: bool, mail_from: str, orcpt: dict[str, str]) -> None:  # fmt: skip
        if not mailboxes:
            return
        self.pool.submit(self._guarded, tenant, stored, mailboxes, documents, xdm, mail_from, orcpt)

    def _guarded(self, *args: Any) -> None:
        try:
            self._run(*args)
        except Exception:  # noqa: BLE001 - a bug of ours must not kill the pool thread
            log.exception("MSS receipts failed")

    def _run(self, tenant: str, stored: int, mailboxes: list[Mailbox], documents: list[DocumentInfo],
             xdm: bool, mail_from: str, orcpt: dict[str, str]) -> None:  # fmt: skip
        raw = self.mss.mails.raw(stored)
        # the header block says whether a receipt is asked; the whole message is parsed only to
        # send one (most deliveries send none: this runs for every delivered message)
        dnt = addresses(wire.HEADERS.parsebytes(wire.header_block(raw)), "Disposition-Notification-To")
        parsed: list[Any] = []

        def message() -> Any:
            if not parsed:
                parsed.append(wire.parse(raw))
            return parsed[0]

        for mbx in mailboxes:
            outcome = integrate(self.mss, tenant, mbx, documents, xdm)
            if not outcome.code:
                now = self.mss.sandbox.now(tenant).isoformat()
                history.record(
                    self.mss.sandbox.store, tenant, stored, mbx.address, "received", documents, now
                )
            mode = profile(self.mss, tenant, mbx)
            if mode != "auto":
                continue
            if dnt and mail_from and dnt[0] == mail_from.lower():
                disposition = receipts.Disposition(code=outcome.code, label=outcome.label)
                self.send(
                    tenant,
                    stored,
                    raw,
                    message(),
                    mbx,
                    dnt[0],
                    disposition,
                    orcpt.get(mbx.address, mbx.address),
                )
            elif outcome.code and mail_from:
                self.send(tenant, stored, raw, message(), mbx, mail_from.lower(), None, "", outcome)

    def send(
        self,
        tenant: str,
        stored: int,
        raw: bytes,
        message: Any,
        mbx: Mailbox,
        to: str,
        disposition: receipts.Disposition | None,
        original_recipient: str = "",
        outcome: Outcome | None = None,
    ) -> int | None:
        """Send an MDN (disposition given) or an error mail; apply the fault rules of "MDN"."""
        sandbox, mss = self.mss.sandbox, self.mss
        kind = "MDN" if disposition is not None else "error mail"
        with mail_exchange(sandbox, "mss", "MDN", tenant, None) as ex:
            ex.caller, ex.persona = mbx.address, mbx.address
            ex.details.update({"message": stored, "to": to, "kind": kind})
            try:
                ex.fault(mbx.address)
            except DropConnection:
                ex.outcome = "receipt lost (fault rule)"
                return None
            except ServiceError as err:
                entry = err.error
                if isinstance(entry, IntegrationError):
                    if disposition is not None:
                        disposition = receipts.Disposition(
                            disposition.action,
                            disposition.sending,
                            disposition.type,
                            entry.mdn_code,
                            entry.label,
                        )
                    outcome = Outcome(entry.mdn_code, "fault rule")
            now = sandbox.now(tenant)
            common: dict[str, Any] = {
                "original": raw,
                "original_id": header(message, "Message-ID"),
                "original_subject": header(message, "Subject"),
                "attachments": walk(message),
                "reporter": mbx.address,
                "to": to,
                "now": now,
                "host": mss.host,
            }
            if disposition is not None:
                data = receipts.mdn(
                    **common, original_recipient=original_recipient or mbx.address, disposition=disposition
                )
                origin, detail = "mdn", disposition.field
            else:
                assert outcome is not None
                data = receipts.error_mail(**common, code=outcome.code, label=outcome.label,
                                           team=f"L'équipe technique de {mbx.display}")  # fmt: skip
                origin, detail = "error-mail", f"{outcome.code} {outcome.label}"
            receipt = mss.mails.add_message(
                tenant, data, message_id=wire.message_id_of(data), mail_from=mbx.address, rcpt_to=[to],
                envelope={"kind": origin, "receipt_for": stored, "reporter": mbx.address, "detail": detail},
                received_at=now.isoformat(), origin=origin,
            )  # fmt: skip
            where = self.deliver(tenant, receipt, to, now.isoformat())
            if disposition is not None:
                self._flag(tenant, mbx, stored)
            ex.status, ex.outcome = 250, f"{kind} {detail} → {to} ({where})"
            ex.details.update({"receipt": receipt, "disposition": detail})
            return receipt

    def _flag(self, tenant: str, mbx: Mailbox, stored: int) -> None:
        """$MDNSent on the message in the reporting mailbox (RFC 3503): one MDN per message."""
        row = self.mss.sandbox.store.one(
            "SELECT i.folder, i.uid, i.flags FROM mss_items i JOIN mss_folders f ON f.id = i.folder "
            "WHERE f.tenant = ? AND f.mailbox = ? AND i.message = ? AND i.expunged = 0 LIMIT 1",
            (tenant, mbx.address, stored),
        )
        if row is not None:
            flags = {f for f in str(row["flags"]).split(" ") if f} | {"$MDNSent"}
            self.mss.mails.set_flags(row["folder"], row["uid"], flags)

    def deliver(self, tenant: str, message: int, to: str, at: str) -> str:
        directory = self.mss.directory()
        if directory.get(to) is not None:
            self.mss.mails.folders(tenant, to)
            self.mss.mails.deliver(tenant, to, message)
            return "delivered"
        if domain_of(to) in self.mss.outbound():
            self.mss.mails.hold_outbound(tenant, message, to, domain_of(to), at)
            return "relayed"
        return "undeliverable"

    def displayed(self, tenant: str, stored: int, mbx: Mailbox) -> int | None:
        """Someone read the message in `mbx` (console, control API): the manual MDN, if asked."""
        raw = self.mss.mails.raw(stored)
        message = wire.parse(raw)
        dnt = addresses(message, "Disposition-Notification-To")
        if not dnt or profile(self.mss, tenant, mbx) == "never":
            return None
        disposition = receipts.Disposition("manual-action", "MDN-sent-manually", "displayed")
        return self.send(tenant, stored, raw, message, mbx, dnt[0], disposition, mbx.address)

    def stop(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)


__all__ = ["ERRORS", "PROFILES", "Outcome", "Receipts", "integrate", "profile", "set_profile"]
