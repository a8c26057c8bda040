"""MSSanté, part 1: the operator an LGC connects to (research mssante.md §1.1-1.4, §3.1).

Service name `mss` (settings `mss_*`, env `SEGUR_MSS_*`, control API `/_sandbox/mss/...`, tables
`mss_*`, journal lines `MSS ...`); package `mssante`. Listeners:

    mss-smtp        4587  SMTP submission, STARTTLS           (mssante.smtp, aiosmtpd)
    mss-smtps       4465  SMTP submission, implicit TLS
    mss-imap        4143  IMAP, STARTTLS                      (mssante.imap, pymap)
    mss-imaps       4993  IMAP, implicit TLS
    mss-autoconfig  4630  HTTP: Thunderbird autoconfig         (mssante.autoconfig)
    mss-test-*      TLS test endpoints (mssante.tlstest): TLS 1.3 only, a cipher outside the
                    four suites, expired / revoked / non-IGC-Santé server certificates

TLS on the operator's listeners: TLS 1.2 only, the four ECDHE-RSA suites of Ref#2 ECO.1.1.3,
the SERV SSL certificate of our IGC-Santé, client certificates optional (ORG AUTH_CLI for APP
mailboxes). The flow of a message: mssante.flow; mailboxes: mssante.mailboxes; state:
mssante.mailstore; errors: mssante.errors; findings: mssante.checks.
"""

from __future__ import annotations

import ssl
from typing import TYPE_CHECKING, Any

from mocks.config import Setting
from mocks.service import Listener, Service, TlsPolicy
from mssante import mailstore
from mssante.checks import RULES
from mssante.errors import ERRORS
from mssante.integration import Receipts
from mssante.mailboxes import Directories, Directory

if TYPE_CHECKING:
    from mocks.kernel import Sandbox
    from mssante.smtp import MssSmtp

NAME = "mss"
TITLE = "MSSanté (opérateur de messagerie sécurisée de santé)"

# Référentiel socle MSSanté #2 ECO.1.1.3 (research §1.3), in OpenSSL spelling
MSS_CIPHERS = ":".join(
    [
        "ECDHE-RSA-AES256-GCM-SHA384",  # 0xC030
        "ECDHE-RSA-AES128-GCM-SHA256",  # 0xC02F
        "ECDHE-RSA-AES256-SHA384",  # 0xC028
        "ECDHE-RSA-AES128-SHA256",  # 0xC027
    ]
)
TLS = TlsPolicy(client_auth="optional", ciphers=MSS_CIPHERS, minimum_version="TLSv1.2")

SETTINGS = [
    Setting("mss_smtp_port", 4587, "MSSanté SMTP submission (STARTTLS)", "port"),
    Setting("mss_smtps_port", 4465, "MSSanté SMTP submission (implicit TLS)", "port"),
    Setting("mss_imap_port", 4143, "MSSanté IMAP (STARTTLS)", "port"),
    Setting("mss_imaps_port", 4993, "MSSanté IMAP (implicit TLS)", "port"),
    Setting("mss_autoconfig_port", 4630, "MSSanté HTTP: Thunderbird autoconfig", "port"),
    Setting("mss_test_smtp_port", 4590, "MSSanté TLS test endpoints, SMTP: first of 5 ports", "port"),
    Setting("mss_test_imap_port", 4150, "MSSanté TLS test endpoints, IMAP: first of 5 ports", "port"),
    Setting(
        "mss_citizen_test_address",
        "citoyen.test@patient.mssante.fr",
        "the test citizen address (Mon espace santé) of the Ségur balance condition",
    ),
    Setting(
        "mss_outbound_domains",
        "medimail.mssante.fr,aura.mssante.fr,test-ci-sis.mssante.fr",
        "liste-blanche domains of other operators: accepted, held in the outbound view",
    ),
    Setting("mss_max_message_size", 10 * 1024 * 1024, "largest message accepted (bytes)", "int"),
    Setting("mss_max_recipients", 100, "recipients per message (RFC 5321 minimum: 100)", "int"),
    Setting("mss_idle_timeout", 300, "SMTP: seconds of client silence before 421", "int"),
    Setting(
        "mss_imap_idle_timeout", 1800, "IMAP: seconds of client silence before BYE (RFC 3501: 30 min)", "int"
    ),
    Setting(
        "mss_password_auth", False, "offer SASL PLAIN / IMAP LOGIN (the password is a PSC token)", "bool"
    ),
]
__all__ = ["ERRORS", "NAME", "RULES", "SETTINGS", "TITLE", "create"]


class Mss(Service):
    name = NAME
    title = TITLE

    def __init__(self, sandbox: Sandbox):
        super().__init__(sandbox)
        self.mails = mailstore.MailStore(sandbox.store)
        from mssante.imap.summaries import Summarizer

        # FETCH summaries of delivered messages, made in the background (one thread per sandbox)
        self.summaries = Summarizer(self.mails)
        self.mails.arrivals.append(self.summaries.queue)
        self.directories = Directories(sandbox)
        self.smtp_sessions: set[MssSmtp] = set()
        self.receipts = Receipts(self)

    @property
    def host(self) -> str:
        return str(self.sandbox.config.host)

    def directory(self) -> Directory:
        return self.directories.get()

    def outbound(self) -> set[str]:
        return self.directories.outbound_domains()

    def migrations(self) -> list[Any]:
        return list(mailstore.MIGRATIONS)

    def start(self) -> None:
        import threading

        # build the mailbox directory now (a first session would otherwise wait for it)
        threading.Thread(target=self.directory, name="mss-directory", daemon=True).start()

    def stop(self) -> None:
        self.receipts.stop()
        self.summaries.stop()

    def listeners(self) -> list[Listener]:
        from mssante import autoconfig, tlstest

        return [
            Listener(
                name="mss-smtp",
                port_setting="mss_smtp_port",
                scheme="smtp",
                tls=TLS,
                tls_mode="starttls",
                server=self._smtp("mss-smtp", "starttls"),
                description="MSSanté, soumission SMTP (STARTTLS)",
            ),
            Listener(
                name="mss-smtps",
                port_setting="mss_smtps_port",
                scheme="smtp",
                tls=TLS,
                tls_mode="implicit",
                server=self._smtp("mss-smtps", "implicit"),
                description="MSSanté, soumission SMTP (TLS implicite)",
            ),
            Listener(
                name="mss-imap",
                port_setting="mss_imap_port",
                scheme="imap",
                tls=TLS,
                tls_mode="starttls",
                server=self._imap("mss-imap", "starttls"),
                description="MSSanté, IMAP (STARTTLS)",
            ),
            Listener(
                name="mss-imaps",
                port_setting="mss_imaps_port",
                scheme="imap",
                tls=TLS,
                tls_mode="implicit",
                server=self._imap("mss-imaps", "implicit"),
                description="MSSanté, IMAP (TLS implicite)",
            ),
            Listener(
                name="mss-autoconfig",
                port_setting="mss_autoconfig_port",
                scheme="http",
                app=autoconfig.app(self),
                protocol=autoconfig.PROTOCOL,
                description="MSSanté, autoconfiguration des clients de messagerie (Thunderbird)",
                paths=[autoconfig.PATH],
            ),
            *tlstest.listeners(self),
        ]

    def _smtp(self, name: str, mode: str) -> Any:
        def factory(sandbox: Sandbox, context: ssl.SSLContext | None, host: str, port: int) -> Any:
            from mssante.smtp import SmtpServer

            return SmtpServer(self, name, tls12_only(context), mode, host, port)

        return factory

    def _imap(self, name: str, mode: str) -> Any:
        def factory(sandbox: Sandbox, context: ssl.SSLContext | None, host: str, port: int) -> Any:
            from mssante.imap.server import ImapServer

            return ImapServer(self, name, tls12_only(context), mode, host, port)

        return factory


def tls12_only(context: ssl.SSLContext | None) -> ssl.SSLContext | None:
    """ECO.1.1.2: TLS 1.2 only. The kernel's TlsPolicy sets a minimum; the maximum is ours."""
    if context is not None:
        context.maximum_version = ssl.TLSVersion.TLSv1_2
    return context


def create(sandbox: Sandbox) -> Mss:
    return Mss(sandbox)
