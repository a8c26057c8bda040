"""Findings on the headers and the body of what an LGC submits (research mssante.md §2.1, §1.4;
cda-segur.md §B.2 MSS.10–16, MSS.14, MSS.21): the Ségur rules a message must follow, apart from
its IHE_XDM content (mssante.documents).

- Subject `XDM/1.0/DDM+<libellé> <NOM> <prénom> <JJ/MM/AAAA>` or `N documents` when an
  IHE_XDM.ZIP is attached (Référentiel socle MSSanté #2 ECO.2.1.3): the grammar, then the
  libellé, the birth name, first name and birth date against the CDA;
- X-MSS-NIL on every message (ECO.2.4.3); X-MSS-CODECDA equal to the CDA codes, comma-separated
  (ECO.2.4.1); X-MSS-INS `O` exactly when a qualified INS (an `ins.qualified` fact) is in the
  archive (ECO.2.4.2); X-MSS-MES `FIN` and only to patients (ECO.2.2.8);
- a reply carries In-Reply-To and References (MSS.11, RFC 5322 §3.6.4); From has a meaningful
  display name (MSS.15); an APP mailbox gives a Reply-To towards a PER/ORG mailbox and an
  automatic-sending notice in the body (MSS.13) [inferred: the notice is recognised by its words];
  the body is text/plain or multipart/alternative (MSS.12);
- a patient address is the `<INS>@patient.mssante.fr` of a qualified INS (MSS.14), the INS of
  the document when there is one;
- receipts: an XDM message asks for one (Disposition-Notification-To, Return-Receipt-To or DSN
  NOTIFY=SUCCESS, MSS.16); Disposition-Notification-To ≠ Return-Path gets no automatic MDN
  (RFC 8098 §2.1);
- raw 8-bit bytes in headers without SMTPUTF8 (RFC 6532; RFC 2047 encoded words expected).
"""

from __future__ import annotations

import re
import unicodedata
from email.utils import getaddresses
from typing import TYPE_CHECKING

from mocks.findings import Findings, Rule
from mssante.submission import Submission, addresses, children, header

if TYPE_CHECKING:
    from mocks.kernel import Sandbox

ECO = "Référentiel socle MSSanté #2"
RULES = [
    Rule("MSS-SUBJECT-XDM", "error", "Objet d'un message IHE_XDM : XDM/1.0/DDM+<libellé> <NOM> <prénom> <JJ/MM/AAAA>", f"{ECO} ECO.2.1.3"),
    Rule("MSS-SUBJECT-MISMATCH", "warning", "Objet XDM cohérent avec le document (libellé ou « N documents », nom, prénom, date de naissance)", f"{ECO} ECO.2.1.3"),
    Rule("MSS-NIL-MISSING", "error", "En-tête X-MSS-NIL (référence du produit) présent sur chaque message", f"{ECO} ECO.2.4.3"),
    Rule("MSS-CODECDA-MISSING", "error", "En-tête X-MSS-CODECDA présent quand l'IHE_XDM contient un CDA", f"{ECO} ECO.2.4.1"),
    Rule("MSS-CODECDA-MISMATCH", "error", "X-MSS-CODECDA égal aux codes des documents CDA (séparés par des virgules), absent sans CDA", f"{ECO} ECO.2.4.1"),
    Rule("MSS-INS-HEADER-MISSING", "error", "En-tête X-MSS-INS (O|N) présent quand l'IHE_XDM contient un CDA", f"{ECO} ECO.2.4.2"),
    Rule("MSS-INS-HEADER-WRONG", "error", "X-MSS-INS vaut O exactement quand un INS qualifié figure dans l'archive", f"{ECO} ECO.2.4.2 ; Référentiel INS"),
    Rule("MSS-MES-VALUE", "error", "X-MSS-MES vaut FIN", f"{ECO} ECO.2.2.8"),
    Rule("MSS-MES-NOT-PATIENT", "error", "X-MSS-MES: FIN seulement sur un message adressé à un patient", f"{ECO} ECO.2.2.8"),
    Rule("MSS-REPLY-HEADERS", "error", "Une réponse porte In-Reply-To et References", "RFC 5322 §3.6.4 ; DSR LGC vague 1, MSS.11"),
    Rule("MSS-FROM-DISPLAY", "warning", "From avec un libellé d'affichage significatif", "DSR LGC vague 1, MSS.15"),
    Rule("MSS-APP-REPLY-TO", "error", "Message d'une BAL applicative : Reply-To vers une BAL personnelle ou organisationnelle", "DSR LGC vague 1, MSS.13"),
    Rule("MSS-APP-FOOTER", "warning", "Message d'une BAL applicative : mention d'un envoi automatique dans le corps", "DSR LGC vague 1, MSS.13"),
    Rule("MSS-BODY-TYPE", "error", "Corps du message text/plain ou multipart/alternative (texte et HTML)", "DSR LGC vague 1, MSS.12"),
    Rule("MSS-PATIENT-INS-NOT-QUALIFIED", "error", "Adresse patient construite sur un INS qualifié (fait ins.qualified)", "DSR LGC vague 1, MSS.14 ; Référentiel INS"),
    Rule("MSS-PATIENT-ADDRESS-MISMATCH", "error", "Adresse patient = INS du patient du document", "DSR LGC vague 1, MSS.14"),
    Rule("MSS-RECEIPT-NOT-ASKED", "warning", "Message IHE_XDM qui demande un accusé (Disposition-Notification-To, Return-Receipt-To ou NOTIFY=SUCCESS)", "DSR LGC vague 1, MSS.16"),
    Rule("MSS-DNT-RETURN-PATH", "info", "Disposition-Notification-To différent de Return-Path : pas de MDN automatique", "RFC 8098 §2.1"),
    Rule("MSS-HEADER-8BIT", "warning", "En-têtes en ASCII (mots encodés RFC 2047) sans SMTPUTF8", "RFC 5322 §2.2, RFC 2047, RFC 6532"),
]  # fmt: skip

XDM_SUBJECT = re.compile(r"^XDM/1\.0/DDM\+(?P<rest>.+) (?P<date>\d{2}/\d{2}/\d{4})$")
REPLY = re.compile(r"^\s*(re|ré|aw|sv)\s*:", re.IGNORECASE)
KO_SUBJECT = re.compile(
    r"^\[(KO Intégration système !|Erreur d.intégration !)\]\[(?P<code>\d+)\]\s*(?P<rest>.*)$"
)
NOTICE = re.compile(
    r"automatiquement|ne pas répondre|n'accepte pas de réponse|ne reçoit pas de réponse", re.IGNORECASE
)


def fold(text: str) -> str:
    """Upper case without accents: names are compared as the INS référentiel writes them."""
    plain = unicodedata.normalize("NFKD", text)
    return " ".join("".join(c for c in plain if not unicodedata.combining(c)).upper().split())


def check_subject(sub: Submission, findings: Findings) -> None:
    subject = header(sub.message, "Subject")
    if sub.kind in ("mdn", "error-mail"):
        return
    if sub.attachments.zip is None:
        if subject.startswith("XDM/1.0/DDM"):
            findings.add(
                "MSS-SUBJECT-XDM",
                "warning",
                "Objet XDM/1.0/DDM+… sans pièce jointe IHE_XDM.ZIP.",
                location="Subject",
            )
        return
    match = XDM_SUBJECT.match(subject)
    if not match:
        findings.add(
            "MSS-SUBJECT-XDM",
            "error",
            f"Objet {subject!r} : attendu « XDM/1.0/DDM+<libellé> <NOM> <prénom> <JJ/MM/AAAA> » "
            "(libellé du document ou « N documents »).",
            location="Subject",
        )
        return
    docs = [d for d in sub.documents if d.type_code]
    if not docs:
        return
    first = docs[0]
    birth = (
        f"{first.birth_time[6:8]}/{first.birth_time[4:6]}/{first.birth_time[:4]}"
        if len(first.birth_time) >= 8
        else ""
    )
    rest = fold(match["rest"])
    patient = fold(f"{first.family} {first.given}")
    problems = []
    if birth and match["date"] != birth:
        problems.append(f"date de naissance {match['date']} ≠ {birth} dans le CDA")
    if patient.strip() and not rest.endswith(patient):
        problems.append(
            f"patient « {match['rest']} » : « {first.family} {first.given} » attendu (nom et premier prénom de naissance)"
        )
    else:
        label = rest[: len(rest) - len(patient)].strip()
        if not _label_ok(label, docs):
            wanted = f"{len(docs)} documents" if len(docs) > 1 else first.type_label
            problems.append(f"libellé « {label} » : « {wanted} » attendu")
    for p in problems:
        findings.add("MSS-SUBJECT-MISMATCH", "warning", f"Objet XDM : {p}.", location="Subject")


def _label_ok(label: str, docs: list) -> bool:
    """The libellé: `N documents` for several, else the type's displayName or the title (a
    project may truncate it to 40 characters)."""
    if len(docs) > 1:
        return label == f"{len(docs)} DOCUMENTS"
    for text in (fold(docs[0].type_label), fold(docs[0].title)):
        if text and (label == text or (text.startswith(label) and len(label) >= min(len(text), 20))):
            return True
    return False


def check_nil(sub: Submission, findings: Findings) -> None:
    if not header(sub.message, "X-MSS-NIL"):
        findings.add(
            "MSS-NIL-MISSING",
            "error",
            "En-tête X-MSS-NIL absent ou vide : la référence du produit déclarée sur convergence.esante.gouv.fr (ex. DEV935997).",
            location="X-MSS-NIL",
        )


def check_x_mss(sub: Submission, findings: Findings) -> None:
    if sub.kind in ("mdn", "error-mail"):
        return
    codes = [d.type_code for d in sub.documents if d.type_code]
    raw_codes = header(sub.message, "X-MSS-CODECDA")
    given = [c.strip() for c in raw_codes.split(",") if c.strip()]
    if codes:
        if not raw_codes:
            findings.add(
                "MSS-CODECDA-MISSING",
                "error",
                f"X-MSS-CODECDA absent ; attendu {','.join(codes)}.",
                location="X-MSS-CODECDA",
            )
        elif sorted(given) != sorted(codes):
            findings.add(
                "MSS-CODECDA-MISMATCH",
                "error",
                f"X-MSS-CODECDA {raw_codes} ≠ codes des CDA {','.join(codes)}.",
                location="X-MSS-CODECDA",
            )
    elif raw_codes and sub.attachments.zip is None:
        findings.add(
            "MSS-CODECDA-MISMATCH",
            "warning",
            f"X-MSS-CODECDA {raw_codes} sans document CDA dans un IHE_XDM.",
            location="X-MSS-CODECDA",
        )
    ins = header(sub.message, "X-MSS-INS")
    if codes:
        qualified = any(d.ins_qualified for d in sub.documents)
        if not ins:
            findings.add(
                "MSS-INS-HEADER-MISSING",
                "error",
                f"X-MSS-INS absent ; attendu {'O' if qualified else 'N'}.",
                location="X-MSS-INS",
            )
        elif ins not in ("O", "N"):
            findings.add(
                "MSS-INS-HEADER-WRONG", "error", f"X-MSS-INS {ins!r} : O ou N attendu.", location="X-MSS-INS"
            )
        elif sub.context is None:
            pass  # no ledger to compare with (a unit use)
        elif ins == "O" and not qualified:
            shown = ", ".join(sorted({d.ins for d in sub.documents if d.ins})) or "aucun INS"
            findings.add("MSS-INS-HEADER-WRONG", "error",
                         f"X-MSS-INS: O mais l'INS de l'archive ({shown}) n'a jamais été qualifié par l'INSi du bac à sable dans ce tenant.",
                         location="X-MSS-INS")  # fmt: skip
        elif ins == "N" and qualified:
            findings.add(
                "MSS-INS-HEADER-WRONG",
                "warning",
                "X-MSS-INS: N alors que l'INS de l'archive est qualifié.",
                location="X-MSS-INS",
            )
    mes = header(sub.message, "X-MSS-MES")
    if mes:
        if mes != "FIN":
            findings.add(
                "MSS-MES-VALUE",
                "error",
                f"X-MSS-MES {mes!r} : seule la valeur FIN est définie.",
                location="X-MSS-MES",
            )
        if not any(sub.is_patient(r) for r in sub.recipients):
            findings.add(
                "MSS-MES-NOT-PATIENT",
                "error",
                "X-MSS-MES: FIN sur un message sans destinataire patient (…@patient.mssante.fr).",
                location="X-MSS-MES",
            )


def check_reply(sub: Submission, findings: Findings) -> None:
    msg = sub.message
    in_reply_to, references = header(msg, "In-Reply-To"), header(msg, "References")
    subject = header(msg, "Subject")
    if not (in_reply_to or references or REPLY.match(subject)):
        return
    missing = [n for n, v in (("In-Reply-To", in_reply_to), ("References", references)) if not v]
    if missing:
        findings.add(
            "MSS-REPLY-HEADERS", "error", f"Réponse sans {' ni '.join(missing)}.", location=", ".join(missing)
        )
    elif in_reply_to.split()[-1] not in references.split():
        findings.add(
            "MSS-REPLY-HEADERS",
            "warning",
            "References ne contient pas l'identifiant de In-Reply-To.",
            location="References",
        )


def check_display(sub: Submission, findings: Findings) -> None:
    values = sub.from_values
    for name, address in getaddresses(values):
        name = name.strip().strip('"')
        if not name or name.lower() == address.lower() or "@" in name:
            findings.add(
                "MSS-FROM-DISPLAY",
                "warning",
                f"From <{address}> sans libellé d'affichage (le nom du professionnel ou de la structure).",
                location="From",
            )


def check_app(sub: Submission, findings: Findings) -> None:
    if sub.sender_type != "APP" or sub.kind in ("mdn", "error-mail"):
        return
    replies = addresses(sub.message, "Reply-To")
    if not replies:
        findings.add(
            "MSS-APP-REPLY-TO",
            "error",
            "Message d'une BAL applicative sans Reply-To vers une BAL personnelle ou organisationnelle.",
            location="Reply-To",
        )
    elif not any(
        sub.recipient_type(r) in ("PER", "ORG", "CAB") or not (sub.recipient_type(r) or sub.is_patient(r))
        for r in replies
    ):
        findings.add(
            "MSS-APP-REPLY-TO",
            "error",
            f"Reply-To {', '.join(replies)} : une BAL personnelle ou organisationnelle attendue.",
            location="Reply-To",
        )
    if not NOTICE.search(sub.attachments.body_text):
        findings.add(
            "MSS-APP-FOOTER",
            "warning",
            "Corps sans mention d'un envoi automatique (ex. « Ce message a été envoyé automatiquement »).",
            location="body",
        )


def check_body(sub: Submission, findings: Findings) -> None:
    body = sub.attachments.body
    if sub.kind == "mdn":
        return
    if body is None:
        findings.add(
            "MSS-BODY-TYPE",
            "error",
            "Message sans corps texte (text/plain ou multipart/alternative).",
            location="body",
        )
        return
    ctype = body.get_content_type()
    if ctype == "multipart/alternative":
        kinds = [p.get_content_type() for p in children(body)]
        if "text/plain" not in kinds:
            findings.add(
                "MSS-BODY-TYPE",
                "error",
                f"multipart/alternative sans partie text/plain ({', '.join(kinds)}).",
                location="body",
            )
    elif ctype != "text/plain":
        findings.add(
            "MSS-BODY-TYPE",
            "error",
            f"Corps {ctype} : text/plain ou multipart/alternative attendu.",
            location="body",
        )


def _ins_of(address: str) -> str:
    local, _, domain = address.lower().partition("@")
    return local if domain == "patient.mssante.fr" and re.fullmatch(r"[0-9AB]{15}", local.upper()) else ""


def qualified(sub: Submission, ins: str) -> bool:
    """An `ins.qualified` fact for this INS in the submission's tenant."""
    ctx = sub.context
    return ctx is not None and ins_qualified(ctx.sandbox, ctx.tenant, ins)


def ins_qualified(sandbox: Sandbox, tenant: str, ins: str) -> bool:
    """INSi records the 13-character matricule; a CDA and an address carry the 15 characters."""
    if not ins:
        return False
    evidence = sandbox.evidence
    return evidence.exists(tenant, "ins.qualified", ins) or (
        len(ins) == 15 and evidence.exists(tenant, "ins.qualified", ins[:13])
    )


def check_patients(sub: Submission, findings: Findings) -> None:
    if sub.kind in ("mdn", "error-mail") or sub.context is None:
        return
    test = sub.context.directory.test_citizen
    doc_ins = {d.ins.upper() for d in sub.documents if d.ins}
    for address in sub.recipients:
        if address.lower() == test:
            continue
        ins = _ins_of(address)
        if not ins:
            continue
        if not qualified(sub, ins.upper()):
            findings.add(
                "MSS-PATIENT-INS-NOT-QUALIFIED",
                "error",
                f"{address} : l'INS {ins} n'a pas été qualifié par l'INSi du bac à sable dans ce tenant ; "
                "une adresse patient se construit sur un INS qualifié.",
                location="RCPT TO",
            )
        if doc_ins and ins.upper() not in doc_ins:
            findings.add("MSS-PATIENT-ADDRESS-MISMATCH", "error",
                         f"{address} : le document concerne l'INS {', '.join(sorted(doc_ins))}.", location="RCPT TO")  # fmt: skip


def check_receipt_request(sub: Submission, findings: Findings) -> None:
    msg = sub.message
    dnt = addresses(msg, "Disposition-Notification-To")
    if dnt and sub.mail_from and sub.mail_from.lower() not in dnt:
        findings.add("MSS-DNT-RETURN-PATH", "info",
                     f"Disposition-Notification-To {', '.join(dnt)} ≠ Return-Path {sub.mail_from} : les destinataires n'envoient pas de MDN automatique.",
                     location="Disposition-Notification-To")  # fmt: skip
    if sub.attachments.zip is None or sub.kind != "xdm":
        return
    notify = any("SUCCESS" in r.get("notify", []) for r in sub.envelope.get("recipients", []))
    if not (dnt or header(msg, "Return-Receipt-To") or notify):
        findings.add("MSS-RECEIPT-NOT-ASKED", "warning",
                     "Message IHE_XDM sans demande d'accusé (Disposition-Notification-To, Return-Receipt-To ou RCPT NOTIFY=SUCCESS).",
                     location="Disposition-Notification-To")  # fmt: skip


def check_8bit(sub: Submission, findings: Findings) -> None:
    end = sub.raw.find(b"\r\n\r\n")
    block = sub.raw[: end if end >= 0 else len(sub.raw)]
    if not any(b > 127 for b in block):
        return
    names = []
    for line in block.split(b"\r\n"):
        if any(b > 127 for b in line) and b":" in line and not line[:1].isspace():
            names.append(line.split(b":", 1)[0].decode("ascii", "replace"))
    if sub.envelope.get("smtputf8"):
        try:
            block.decode("utf-8")
            return
        except UnicodeDecodeError:
            pass
    findings.add(
        "MSS-HEADER-8BIT",
        "warning",
        f"Octets 8 bits bruts dans les en-têtes ({', '.join(names) or 'en-tête replié'}) : encoder en mots RFC 2047 "
        "(=?UTF-8?B?…?=) ou déclarer SMTPUTF8 avec de l'UTF-8.",
        location=", ".join(names),
    )
