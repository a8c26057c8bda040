"""PSC error catalogue: OAuth 2.0 / OIDC error codes with the descriptions Keycloak words them
with (research psc.md 3), plus the gateway statuses seen when PSC is unavailable.

Each entry is an ErrorDef a fault rule can name; `data` holds `error` and `error_description`
(or `html` for a gateway page). `OAuthError` carries one of them to the wire layer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mocks.errors import Catalogue, ErrorDef, HttpError, ServiceError
from mocks.errors import OAuthError as OAuthEntry

if TYPE_CHECKING:
    from mocks.kernel import Exchange

PENDING = "The authorization request is still pending as the end-user hasn't yet been authenticated."


def _oauth(name: str, status: int, description: str, summary: str, error: str | None = None) -> ErrorDef:
    data = {"error": error or name, "error_description": description}
    return OAuthEntry(name=name, description=summary, http_status=status, data=data, **data)


def _page(name: str, summary: str, status: int, html: str) -> ErrorDef:
    return HttpError(name=name, description=summary, http_status=status, body=html, data={"html": html})


def rule_error(ex: Exchange, persona: str | None = None) -> ErrorDef | None:
    """The catalogue error a fault rule makes this exchange answer with (None: answer normally)."""
    try:
        ex.fault(persona)
    except ServiceError as err:
        return err.error
    return None


ERRORS = Catalogue(
    [
        _oauth("invalid_request", 400, "Invalid request", "malformed request"),
        _oauth("invalid_client", 401, "Invalid client or Invalid client credentials", "unknown client (401)"),
        _oauth(
            "unauthorized_client",
            401,
            "Invalid client or Invalid client credentials",
            "bad client credentials (401)",
        ),
        _oauth("invalid_grant", 400, "Code not valid", "code, refresh token or session no longer valid"),
        _oauth("session_not_active", 400, "Session not active", "session ended", "invalid_grant"),
        _oauth("token_not_active", 400, "Token is not active", "expired refresh token", "invalid_grant"),
        _oauth("access_denied", 400, "not authorized", "the professional refused (CIBA / login)"),
        _oauth("authorization_pending", 400, PENDING, "CIBA: not yet validated"),
        _oauth("slow_down", 400, "too early to access", "CIBA: polling too fast"),
        _oauth("expired_token", 400, "authentication timed out", "CIBA: request expired"),
        _oauth("invalid_token", 401, "Token verification failed", "userinfo: bad or expired token"),
        _oauth("unknown_user_id", 400, "no user found", "CIBA: login_hint names nobody"),
        _oauth("login_required", 400, "User not logged in", "prompt=none without a session (redirect)"),
        _oauth("temporarily_unavailable", 503, "Service temporarily unavailable", "PSC overloaded"),
        _oauth("server_error", 500, "unknown_error", "internal error of the provider", "unknown_error"),
        _page(
            "bad_gateway", "502 from the PSC front", 502, "<html><body><h1>502 Bad Gateway</h1></body></html>"
        ),
        _page(
            "service_unavailable",
            "503 from the PSC front",
            503,
            "<html><body><h1>503 Service Unavailable</h1></body></html>",
        ),
        _page(
            "gateway_timeout",
            "504 from the PSC front",
            504,
            "<html><body><h1>504 Gateway Time-out</h1></body></html>",
        ),
    ]
)


class OAuthError(Exception):
    """An OAuth/OIDC error answer: JSON body `{error, error_description}` with an HTTP status."""

    def __init__(
        self, error: str, description: str, status: int = 400, headers: dict[str, str] | None = None
    ):
        super().__init__(f"{error}: {description}")
        self.error, self.description, self.status = error, description, status
        self.headers = headers or {}

    @classmethod
    def of(cls, name: str, description: str | None = None) -> OAuthError:
        e = ERRORS[name]
        return cls(str(e.data["error"]), description or str(e.data["error_description"]), e.http_status)

    @property
    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


class PageError(Exception):
    """An error shown as a page on the login front (never a redirect: unknown client, bad
    redirect_uri), with Keycloak's message."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message, self.status = message, status
