"""Mail client auto-configuration (DST TM3.3C "AutoConfig", research mssante.md §1.3): the
Thunderbird / Mozilla ISPDB `clientConfig` v1.1 document for the sandbox operator.

    GET /.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=<address>
    GET /mail/config-v1.1.xml?emailaddress=<address>        (the autoconfig.<domain> form)

It lists IMAP (STARTTLS 4143, TLS 993-style 4993) and SMTP submission (STARTTLS 4587, TLS 4465)
with the ports this process bound, authentication OAuth2 (XOAUTH2 with a PSC token) and the PSC
endpoints in an `<oAuth2>` block (Thunderbird 128+ reads it). The real operators' autoconfig
names are not public (research §7.9); the document shape is Mozilla's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

from mocks.harness import Protocol, Refused, Reply, WSGIApp, endpoint

if TYPE_CHECKING:
    from mocks.kernel import Exchange
    from mssante.service import Mss

PATH = "/.well-known/autoconfig/mail/config-v1.1.xml"
PATHS = (PATH, "/mail/config-v1.1.xml")
PROTOCOL = Protocol()
PSC_REALM = "/auth/realms/esante-wallet"


def document(mss: Mss, address: str) -> str:
    sb = mss.sandbox
    host = escape(str(sb.config.host))
    domains = sorted(mss.directory().domains)

    def server(kind: str, listener: str, socket_type: str) -> str:
        tag = "incomingServer" if kind == "imap" else "outgoingServer"
        return (
            f'    <{tag} type="{kind}">\n'
            f"      <hostname>{host}</hostname>\n"
            f"      <port>{sb.port(listener)}</port>\n"
            f"      <socketType>{socket_type}</socketType>\n"
            "      <authentication>OAuth2</authentication>\n"
            "      <username>%EMAILADDRESS%</username>\n"
            f"    </{tag}>\n"
        )

    oauth = ""
    if "psc" in sb.listener_specs:
        issuer = sb.url("psc", PSC_REALM)
        oauth = (
            "  <oAuth2>\n"
            f"    <issuer>{escape(issuer)}</issuer>\n"
            "    <scope>openid scope_all</scope>\n"
            f"    <authURL>{escape(issuer)}/protocol/openid-connect/auth</authURL>\n"
            f"    <tokenURL>{escape(issuer)}/protocol/openid-connect/token</tokenURL>\n"
            "  </oAuth2>\n"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<clientConfig version="1.1">\n'
        '  <emailProvider id="mssante.fr">\n'
        + "".join(f"    <domain>{escape(d)}</domain>\n" for d in domains)
        + "    <displayName>Ségur Sandbox MSSanté</displayName>\n"
        "    <displayShortName>MSSanté (sandbox)</displayShortName>\n"
        + server("imap", "mss-imap", "STARTTLS")
        + server("imap", "mss-imaps", "SSL")
        + server("smtp", "mss-smtp", "STARTTLS")
        + server("smtp", "mss-smtps", "SSL")
        + "  </emailProvider>\n"
        + oauth
        + "</clientConfig>\n"
    )


def app(mss: Mss) -> WSGIApp:
    def handle(ex: Exchange, environ: dict[str, Any]) -> Reply:
        path = environ.get("PATH_INFO") or "/"
        if path not in PATHS:
            raise Refused(404, "Not Found")
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            raise Refused(405, "Method Not Allowed", [("Allow", "GET")])
        ex.operation = "autoconfig"
        from urllib.parse import parse_qs

        address = (parse_qs(environ.get("QUERY_STRING") or "").get("emailaddress") or [""])[0]
        ex.details["emailaddress"] = address
        return Reply(200, document(mss, address).encode(), "application/xml; charset=utf-8")

    return endpoint(handle)
