"""The MSSanté operator's error catalogue: every SMTP reply and IMAP refusal it emits.

No MSSanté operator publishes its reply texts (research mssante.md §7.4); the codes follow RFC
5321 / 3463 / 4954 / 3461 and the choices of research §3.1 [inferred]: `535 5.7.8` bad or expired
token, `530 5.7.0` authentication required, `550 5.7.1` sender not owned or domain outside the
liste blanche, `550 5.1.1` unknown mailbox, `552 5.3.4` too big. IMAP refusals use RFC 5530
response codes (`AUTHENTICATIONFAILED`, `PRIVACYREQUIRED`, ...). Texts are English like Postfix's
and Dovecot's, which the real operators run [inferred].

A fault rule may name any entry (`{"service": "mss", "operation": "SMTP submit", "error":
"smtp_tempfail"}`); `smtp_delay_dsn` is the entry a rule names to have a delay DSN sent;
`mdn_900` ... `mdn_906` (operation "MDN", persona: the receiving mailbox) force the integration
error a sandbox mailbox reports in its MDN or error mail (a `delay_ms` delays the receipt, a
`drop_connection` loses it).

Strict mode refuses a message with error findings with `550 5.6.0` and the first rule id.
"""

from __future__ import annotations

from dataclasses import dataclass

from mocks.errors import Catalogue, ErrorDef, ImapReply, SmtpReply


@dataclass(frozen=True, kw_only=True)
class IntegrationError(ErrorDef):
    """An integration error a sandbox mailbox reports in its MDN or error mail (the volet's
    applicationErrorCondition table, specs/mssante/ig-messages/error-codes.md). Not an SMTP
    reply: a fault rule on operation "MDN" names one to force that code."""

    http_status: int = 0
    mdn_code: str = ""
    label: str = ""


# the volet's table (error-codes.md); 902's libellé as the guide's example MDN writes it
INTEGRATION = [
    ("900", "Version du document incorrecte lors d'une demande de remplacement/suppression"),
    ("901", "Auteur non autorisé à remplacer ou supprimer un document"),
    ("902", "Identifiant de patient inconnu"),
    ("903", "INS non présent dans le document"),
    ("904", "L'INS transmis ne correspond pas exactement à celui stocké dans la base du consommateur"),
    ("905", "L'INS transmis n'est pas complet"),
    ("906", "Erreur 'Autre'"),
]

ERRORS = Catalogue(
    [
        # -- SMTP: session and authentication
        SmtpReply(
            name="smtp_starttls_required",
            description="MAIL before STARTTLS (TLS is mandatory)",
            code=530,
            enhanced="5.7.0",
            text="Must issue a STARTTLS command first",
        ),
        SmtpReply(
            name="smtp_auth_required",
            description="MAIL before authentication",
            code=530,
            enhanced="5.7.0",
            text="Authentication required",
        ),
        SmtpReply(
            name="smtp_auth_failed",
            description="bad, expired or revoked token / certificate",
            code=535,
            enhanced="5.7.8",
            text="Authentication credentials invalid",
        ),
        SmtpReply(
            name="smtp_auth_mechanism",
            description="SASL mechanism not offered",
            code=504,
            enhanced="5.5.4",
            text="Unrecognized authentication type",
        ),
        SmtpReply(
            name="smtp_auth_too_long",
            description="SASL exchange line longer than the limit (RFC 4954 §4)",
            code=500,
            enhanced="5.5.6",
            text="Authentication Exchange line is too long",
        ),
        SmtpReply(
            name="smtp_auth_syntax",
            description="SASL response that cannot be decoded",
            code=501,
            enhanced="5.5.2",
            text="Cannot decode response",
        ),
        SmtpReply(
            name="smtp_auth_aborted",
            description="the client cancelled the SASL exchange with *",
            code=501,
            enhanced="5.7.0",
            text="Authentication aborted",
        ),
        SmtpReply(
            name="smtp_auth_encryption",
            description="AUTH before TLS",
            code=538,
            enhanced="5.7.11",
            text="Encryption required for requested authentication mechanism",
        ),
        SmtpReply(
            name="smtp_already_authenticated",
            description="a second AUTH in one session",
            code=503,
            enhanced="5.5.1",
            text="Already authenticated",
        ),
        SmtpReply(
            name="smtp_timeout",
            description="client idle past the time-out",
            code=421,
            enhanced="4.4.2",
            text="Error: timeout exceeded",
        ),
        # -- SMTP: envelope
        SmtpReply(
            name="smtp_sender_not_owned",
            description="MAIL FROM a mailbox the authenticated identity does not own",
            code=550,
            enhanced="5.7.1",
            text="Sender address rejected: not owned by the authenticated user",
        ),
        SmtpReply(
            name="smtp_domain_not_listed",
            description="recipient domain outside the MSSanté liste blanche",
            code=550,
            enhanced="5.7.1",
            text="Recipient address rejected: domain not in the MSSanté trust space",
        ),
        SmtpReply(
            name="smtp_unknown_mailbox",
            description="recipient mailbox unknown in a sandbox domain",
            code=550,
            enhanced="5.1.1",
            text="Recipient address rejected: User unknown",
        ),
        SmtpReply(
            name="smtp_citizen_closed",
            description="citizen mailbox not open (Mon espace santé closed or opposed)",
            code=550,
            enhanced="5.2.1",
            text="Recipient address rejected: mailbox disabled",
        ),
        SmtpReply(
            name="smtp_too_many_recipients",
            description="more recipients than the limit (RFC 5321 §4.5.3.1.8)",
            code=452,
            enhanced="4.5.3",
            text="Error: too many recipients",
        ),
        SmtpReply(
            name="smtp_size",
            description="message larger than the operator's limit (default 10 MB)",
            code=552,
            enhanced="5.3.4",
            text="Error: message size exceeds fixed maximum message size",
        ),
        SmtpReply(
            name="smtp_bad_parameter",
            description="unknown or malformed MAIL / RCPT parameter (DSN, SIZE, BODY)",
            code=555,
            enhanced="5.5.4",
            text="Unsupported option",
        ),
        SmtpReply(
            name="smtp_bad_address",
            description="malformed address in MAIL or RCPT",
            code=553,
            enhanced="5.1.3",
            text="Error: malformed address",
        ),
        # -- SMTP: content
        SmtpReply(
            name="smtp_8bit_undeclared",
            description="8-bit data without BODY=8BITMIME (RFC 6152)",
            code=554,
            enhanced="5.6.1",
            text="Message contains 8-bit data but BODY=8BITMIME was not declared",
        ),
        SmtpReply(
            name="smtp_line_too_long",
            description="a line longer than 998 characters (RFC 5321 §4.5.3.1.6)",
            code=500,
            enhanced="5.5.2",
            text="Line too long (see RFC5321 4.5.3.1.6)",
        ),
        SmtpReply(
            name="smtp_content_refused",
            description="strict mode: the message has error findings",
            code=550,
            enhanced="5.6.0",
            text="Message refused",
        ),
        SmtpReply(
            name="smtp_tempfail",
            description="temporary failure (fault rules: a busy operator)",
            code=451,
            enhanced="4.3.0",
            text="Error: queue file write error",
        ),
        SmtpReply(
            name="smtp_unavailable",
            description="service not available (fault rules: maintenance)",
            code=421,
            enhanced="4.3.2",
            text="Service not available, closing transmission channel",
        ),
        SmtpReply(
            name="smtp_delay_dsn",
            description="accepted, delivery delayed: a delay DSN is sent (fault rules)",
            code=250,
            enhanced="2.0.0",
            text="Ok: queued",
        ),
        SmtpReply(
            name="smtp_server_error",
            description="an unexpected error of ours (with its trace id)",
            code=451,
            enhanced="4.3.0",
            text="Error: local error in processing",
        ),
        *[
            IntegrationError(
                name=f"mdn_{code}",
                description=f"MDN / error mail: {code} {label}",
                mdn_code=code,
                label=label,
            )
            for code, label in INTEGRATION
        ],
        # -- IMAP
        ImapReply(
            name="imap_auth_failed",
            description="bad, expired or revoked token / certificate",
            status="NO",
            response_code="AUTHENTICATIONFAILED",
            text="Authentication failed.",
        ),
        ImapReply(
            name="imap_privacy_required",
            description="authentication attempted before STARTTLS",
            status="NO",
            response_code="PRIVACYREQUIRED",
            text="TLS is required before authentication.",
        ),
        ImapReply(
            name="imap_token_expired",
            description="the PSC token of the session expired: the next command gets BYE",
            status="BYE",
            response_code="UNAVAILABLE",
            text="Access token expired, please log in again.",
        ),
        ImapReply(
            name="imap_unavailable",
            description="server unavailable (fault rules)",
            status="BYE",
            response_code="UNAVAILABLE",
            text="Server shutting down.",
        ),
        ImapReply(
            name="imap_timeout",
            description="client idle past the autologout time-out",
            status="BYE",
            response_code="",
            text="Autologout; idle for too long",
        ),
        ImapReply(
            name="imap_tempfail",
            description="temporary failure of a command (fault rules)",
            status="NO",
            response_code="UNAVAILABLE",
            text="Temporary failure, try again later.",
        ),
        ImapReply(
            name="imap_server_error",
            description="an unexpected error of ours (with its trace id)",
            status="NO",
            response_code="SERVERBUG",
            text="Internal error occurred.",
        ),
    ]
)
