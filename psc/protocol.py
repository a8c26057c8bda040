"""How PSC's listeners write what the harness answers on their behalf (mocks.harness.Protocol):
a catalogue error (raised by an endpoint or a fault rule), an edge refusal, a crash of ours.

- `KeycloakJson` (issuer, exchange): OAuth errors as Keycloak's compact JSON with `no-store`;
  JAX-RS style `{"error":"HTTP 405 Method Not Allowed"}` refusals; gateway pages raw; error
  pages (logout) as the realm's French error page.
- `WalletPages` (wallet): once an authorization request's redirect URI is trusted, OAuth errors
  go back to the client (`?error=...&error_description=...&state=...` in its response mode, as
  Keycloak does); before, and for everything else, a French page.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mocks.errors import HttpError, OAuthError, ServiceError
from mocks.harness import Protocol, Reply
from psc import login_pages, wire
from psc.errors import SORRY

if TYPE_CHECKING:
    from mocks.kernel import Exchange

REDIRECT_KEY = "psc.redirect"  # environ: (redirect_uri, state, response_mode) once trusted
UNKNOWN_TENANT = "unknown tenant: "


def trust_redirect(ex: Exchange, uri: str, state: str | None, mode: str) -> None:
    """From now on, this request's OAuth errors go back to the client at `uri`."""
    if ex.environ is not None:
        ex.environ[REDIRECT_KEY] = (uri, state, mode if mode in wire.RESPONSE_MODES else "query")


def _outcome(ex: Exchange, error: ServiceError, summary: str) -> None:
    if error.outcome == f"error {error.error.name}":  # the default: say what the client got
        error.outcome = summary
    ex.outcome = error.outcome


def _page(entry: HttpError, text: str | None) -> Reply:
    title = str(entry.data.get("title") or SORRY)
    if title == SORRY:  # Keycloak's error page
        html = login_pages.error_page(text or entry.description)
        return Reply(entry.http_status, html.encode("utf-8"), "text/html; charset=utf-8")
    # a page of the wallet's own login flow ("Carte refusée"...)
    html = login_pages.html(title, login_pages.MESSAGE, message=text or entry.description)
    headers = [("Cache-Control", "no-store"), ("Content-Type", "text/html; charset=utf-8")]
    return Reply(entry.http_status, html.encode("utf-8"), None, headers)


def _gateway_or_page(ex: Exchange, error: ServiceError) -> Reply:
    entry = error.error
    assert isinstance(entry, HttpError), f"PSC renders its own catalogue only, not {entry.name}"
    _outcome(ex, error, f"{entry.name}: {error.text or entry.description}")
    if entry.body:
        if entry.content_type == "application/json":
            return wire.json_reply(entry.body, entry.http_status)
        return Reply(entry.http_status, entry.body.encode("utf-8"), entry.content_type)
    return _page(entry, error.text)


class KeycloakJson(Protocol):
    def render(self, ex: Exchange, error: ServiceError) -> Reply:
        entry = error.error
        if isinstance(entry, OAuthError):
            description = error.text or entry.error_description
            _outcome(ex, error, f"{entry.error}: {description}")
            body = {"error": entry.error, "error_description": description}
            return wire.json_reply(wire.dumps(body), entry.http_status, error.params.get("headers"))
        return _gateway_or_page(ex, error)

    def refusal(self, ex: Exchange, status: int, message: str) -> Reply:
        if message.startswith(UNKNOWN_TENANT):
            body: dict[str, Any] = {"error": "invalid_request", "error_description": message}
        elif status == 404:
            body = {"error": "Unable to find matching target resource method"}
        else:  # what RESTEasy answers under Keycloak: "HTTP <status> <reason>"
            body = {"error": f"HTTP {status} {REASONS.get(status, 'Bad Request')}"}
        return wire.json_reply(wire.dumps(body), status)

    def crash(self, ex: Exchange) -> Reply:
        body = {"error": "unknown_error", "error_description": f"internal error (trace {ex.trace_id})"}
        return wire.json_reply(wire.dumps(body), 500)


# reason phrases as JAX-RS's Response.Status writes them
REASONS = {
    400: "Bad Request",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    413: "Request Entity Too Large",
    414: "Request-URI Too Long",
    415: "Unsupported Media Type",
}


class WalletPages(Protocol):
    def render(self, ex: Exchange, error: ServiceError) -> Reply:
        entry = error.error
        if isinstance(entry, OAuthError):
            description = error.text or entry.error_description
            target = (ex.environ or {}).get(REDIRECT_KEY)
            if target is None:  # no trusted redirect URI: a page, never a redirect
                _outcome(ex, error, f"{entry.error}: {description} (error page)")
                page = login_pages.error_page(description)
                return Reply(entry.http_status, page.encode("utf-8"), "text/html; charset=utf-8")
            uri, state, mode = target
            params = {"error": entry.error, "error_description": description}
            if state:
                params["state"] = state
            _outcome(ex, error, f"redirect {entry.error}")
            return wire.reply_of(wire.deliver(uri, params, mode))
        return _gateway_or_page(ex, error)

    def refusal(self, ex: Exchange, status: int, message: str) -> Reply:
        if message.startswith(UNKNOWN_TENANT):
            text = f"Tenant inconnu : {message[len(UNKNOWN_TENANT) :]}"
        else:
            text = {
                404: "Page non trouvée",
                405: "Méthode non autorisée sur cette page.",
                413: "Requête trop volumineuse.",
                414: "Adresse trop longue.",
            }.get(status, "Requête invalide")
        page = login_pages.error_page(text)
        return Reply(status, page.encode("utf-8"), "text/html; charset=utf-8")

    def crash(self, ex: Exchange) -> Reply:
        page = login_pages.error_page("Une erreur interne du serveur s'est produite", trace=ex.trace_id)
        return Reply(500, page.encode("utf-8"), "text/html; charset=utf-8")
