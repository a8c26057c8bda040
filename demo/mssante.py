"""Step 7: MSSanté with Python's standard library (smtplib, imaplib, email), TLS 1.2 from the
sandbox's IGC-Santé TEST (docs/services/mssante.md; research mssante.md §1.3, §2.1–2.3):

- the letter in IHE_XDM (+ its PDF) from the centre's applicative mailbox, authenticated by the
  structure's ORG AUTH_CLI certificate in the TLS handshake, to the professional found in the
  Annuaire: subject `XDM/1.0/DDM+<libellé> <NOM> <prénom> <JJ/MM/AAAA>`, X-MSS-NIL,
  X-MSS-CODECDA, X-MSS-INS, Reply-To to a personal mailbox and the "sent automatically" notice
  (MSS.13), `NOTIFY=SUCCESS` (DSN);
- from Dr LEMAIRE's personal mailbox (Pro Santé Connect token, SASL XOAUTH2) to the patient's
  citizen mailbox `<INS>@patient.mssante.fr` and to the test citizen address, asking for a read
  receipt (`Disposition-Notification-To`, MSS.16);
- the DSN (RFC 3464) and the MDN (RFC 8098) read back by IMAP.
"""

from __future__ import annotations

import imaplib
import smtplib
import time
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from demo import xdm
from demo.document import TYPE, Letter
from demo.psc import fresh_token
from demo.run import Failed, Run

APP_MAILBOX = "lgc@cds-lilas.mssante.fr"
PER_MAILBOX = "camille.lemaire@medecin.mssante.fr"
CITIZEN_TEST = "citoyen.test@patient.mssante.fr"
NOTICE = "Ce message a été envoyé automatiquement par le logiciel du centre de santé ; pour répondre, écrivez à Dr Camille LEMAIRE."


def subject(letter: Letter) -> str:
    p = letter.patient
    return f"XDM/1.0/DDM+{TYPE[1]} {p.nom} {p.first_name} {p.naissance[8:10]}/{p.naissance[5:7]}/{p.naissance[:4]}"


def message(
    run: Run,
    letter: Letter,
    sender: tuple[str, str],
    to: list[str],
    *,
    reply_to: str | None = None,
    receipt: bool = False,
    body: str = "",
    broken: bool = False,
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = f"{sender[0]} <{sender[1]}>"
    msg["To"] = ", ".join(to)
    if reply_to:
        msg["Reply-To"] = reply_to
    msg["Subject"] = subject(letter)
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg["Message-ID"] = make_msgid(domain=sender[1].split("@")[1])
    msg["X-MSS-NIL"] = run.cast.nil
    msg["X-MSS-CODECDA"] = TYPE[0]
    msg["X-MSS-INS"] = "O" if letter.patient.qualified else "N"
    if receipt:
        msg["Disposition-Notification-To"] = sender[1]
    msg.set_content(body or f"Bonjour,\n\nVeuillez trouver ci-joint : {letter.title}.\n\n{NOTICE}\n")
    msg.add_attachment(
        xdm.archive(run.cast, letter, to, broken=broken),
        maintype="application",
        subtype="zip",
        filename="IHE_XDM.ZIP",
    )
    msg.add_attachment(letter.pdf, maintype="application", subtype="pdf", filename="LETTRE.PDF")
    return msg


def _smtp(run: Run, credential: object | None = None) -> smtplib.SMTP:
    host, port = run.sandbox.host_port("mss-smtp")
    smtp = smtplib.SMTP(host, port, timeout=30)
    smtp.starttls(context=run.tls(credential))
    smtp.ehlo()  # RFC 3207: EHLO again after STARTTLS
    return smtp


def _findings(run: Run, mark: int) -> list[str]:
    out = []
    for entry in run.sandbox.journal_since(mark):
        if entry.get("service") == "mss":
            out += [f"{f.get('rule')} ({f.get('severity')})" for f in entry.get("findings") or []]
    return out


def send_app(run: Run, letter: Letter, recipient: str, *, broken: bool = False) -> str:
    """One IHE_XDM message from the applicative mailbox (certificate, no AUTH); its Message-ID."""
    msg = message(
        run,
        letter,
        ("Centre de santé des Lilas - logiciel", APP_MAILBOX),
        [recipient],
        reply_to="Dr Camille LEMAIRE <camille.lemaire@cds-lilas.mssante.fr>",
        broken=broken,
    )
    with _smtp(run, run.creds["org_auth_cli"]) as smtp:
        smtp.send_message(msg, rcpt_options=["NOTIFY=SUCCESS"])
    return str(msg["Message-ID"])


def step_app(run: Run) -> None:
    """MSSanté : envoyer la lettre en IHE_XDM depuis la BAL applicative (certificat) à un PS

    docs/services/mssante.md; research mssante.md §2.1–2.2 (objet XDM/1.0/DDM, X-MSS-*, IHE_XDM.ZIP
    + PDF), §1.3 (BAL applicative par certificat ORG AUTH_CLI); issue 16 (contrôles de contenu).
    """
    letter: Letter = run.letter
    idnat, name, address = run.recipient
    broken = run.preset == "xdm-casse"
    if broken:
        run.say("--fail xdm-casse : METADATA.XML avec un hash faux")
    mark = run.sandbox.journal_mark()
    mid = send_app(run, letter, address, broken=broken)
    run.say(f"{APP_MAILBOX} → {address} (Dr {name}) : {subject(letter)}")
    run.say(f"Message-ID {mid}, pièces IHE_XDM.ZIP + LETTRE.PDF, NOTIFY=SUCCESS")
    found = _findings(run, mark)
    run.say(f"constats du bac à sable : {', '.join(found) or 'aucun'}")
    if broken:
        if any(f.startswith("MSS-XDM-HASH") for f in found):
            run.expect("constat MSS-XDM-HASH : le hash de METADATA.XML n'est pas celui du fichier")
        elif not part2(run):
            run.say(
                "contrôles IHE_XDM non servis par ce bac à sable (MSSanté partie 2) : constat non vérifiable"
            )
        else:
            raise Failed("le constat MSS-XDM-HASH était attendu")
    run.keep(mss_sent=[mid])


def part2(run: Run) -> bool:
    """Does this sandbox check IHE_XDM content (MSSanté part 2)? Its rule catalogue says so."""
    rules = run.sandbox.control.get("/rules").json().get("mss", [])
    ids = {r.get("id") if isinstance(r, dict) else r for r in rules}
    return any(str(i).startswith("MSS-XDM") for i in ids)


def step_per(run: Run) -> None:
    """MSSanté : écrire au patient et à l'adresse citoyenne de test depuis la BAL personnelle (PSC)

    docs/services/mssante.md (SASL XOAUTH2 avec le jeton Pro Santé Connect); research mssante.md
    §1.4 (Mon espace santé, <INS>@patient.mssante.fr), §2.3 (Disposition-Notification-To).
    """
    letter: Letter = run.letter
    token = fresh_token(run)
    patient_box = f"{letter.patient.ins}@patient.mssante.fr"
    to = [patient_box, CITIZEN_TEST]
    msg = message(
        run,
        letter,
        ("Dr Camille LEMAIRE", PER_MAILBOX),
        to,
        receipt=True,
        body=f"Bonjour,\n\nVotre médecin vous transmet : {letter.title}.\n\nDr Camille LEMAIRE\n",
    )
    auth = f"user={PER_MAILBOX}\x01auth=Bearer {token}\x01\x01"
    with _smtp(run) as smtp:
        smtp.auth("XOAUTH2", lambda _=None: auth, initial_response_ok=True)
        smtp.send_message(msg, rcpt_options=["NOTIFY=SUCCESS"])
    run.say(f"{PER_MAILBOX} → {', '.join(to)} (XOAUTH2, Disposition-Notification-To)")
    run.keep(mss_per=str(msg["Message-ID"]))
    if part2(run):
        _patient_reads(run, patient_box, str(msg["Message-ID"]))


def _patient_reads(run: Run, mailbox: str, message_id: str) -> None:
    """The patient opens the message in Mon espace santé (a citizen mailbox answers a read
    receipt when it is read, not on delivery): the control API's "mark read", as the console's
    citizen inbox does."""
    listed = run.sandbox.get(f"/mss/mailboxes/{mailbox}/messages").json().get("messages", [])
    mine = [m for m in listed if m.get("message_id") == message_id]
    if not mine:
        raise Failed(f"le message n'est pas dans la boîte Mon espace santé {mailbox}")
    answer = run.sandbox.post(f"/mss/mailboxes/{mailbox}/messages/{mine[0]['id']}/read")
    if answer.status_code != 200:
        raise Failed(f"lecture dans Mon espace santé : HTTP {answer.status_code} {answer.text[:200]}")
    run.say(
        f"la patiente lit le message dans Mon espace santé : accusé de lecture {'émis' if answer.json().get('mdn') else 'non émis'}"
    )


def step_imap(run: Run) -> None:
    """MSSanté : lire les accusés de réception (DSN) et de lecture (MDN) par IMAP

    RFC 3464 (multipart/report; report-type=delivery-status), RFC 8098 (disposition-notification);
    docs/services/mssante.md (IMAP STARTTLS, XOAUTH2).
    """
    token = fresh_token(run)
    host, port = run.sandbox.host_port("mss-imap")
    wanted_mdn = part2(run)
    deadline = time.monotonic() + (10 if wanted_mdn else 3)
    dsn = mdn = 0
    while True:
        imap = imaplib.IMAP4(host, port, timeout=30)
        try:
            imap.starttls(ssl_context=run.tls())
            imap.authenticate(
                "XOAUTH2", lambda _: f"user={PER_MAILBOX}\x01auth=Bearer {token}\x01\x01".encode()
            )
            imap.select("INBOX", readonly=True)
            _typ, data = imap.search(None, "ALL")
            dsn = mdn = 0
            for num in data[0].split():
                _typ, fetched = imap.fetch(num, "(BODY.PEEK[HEADER])")
                first = fetched[0]
                head = message_from_bytes(first[1] if isinstance(first, tuple) else b"")
                report = head.get_param("report-type", header="content-type") or ""
                dsn += report == "delivery-status"
                mdn += report == "disposition-notification"
        finally:
            imap.logout()
        if (dsn and (mdn or not wanted_mdn)) or time.monotonic() > deadline:
            break
        time.sleep(1)
    run.say(f"INBOX de {PER_MAILBOX} : {dsn} accusé(s) de réception (DSN), {mdn} accusé(s) de lecture (MDN)")
    if not dsn:
        raise Failed("aucun DSN reçu (NOTIFY=SUCCESS demandé)")
    if not mdn:
        if wanted_mdn:
            raise Failed("aucun MDN reçu (Disposition-Notification-To demandé)")
        run.say("accusés de lecture non servis par ce bac à sable (MSSanté partie 2) : MDN non vérifié")
