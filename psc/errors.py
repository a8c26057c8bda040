"""The PSC error catalogue: every error PSC emits, by the name fault rules and `ERRORS.fail` use.

- `OAuthError` entries: the OAuth 2.0 / OIDC JSON errors with Keycloak's wording (research
  psc.md 3). Where Keycloak answers one `error` code with two HTTP statuses (`unauthorized_client`
  is 401 for bad credentials, 400 for a grant the client may not use), each pair is its own
  entry. On the wallet they travel back to the client's redirect URI (`?error=...&state=...`).
- `HttpError` entries: the front's gateway pages (502/503/504, raw HTML), Keycloak's JAX-RS
  answer to a non-form body (415), and the wallet's error pages (a French page, the wording of
  Keycloak's French locale where Keycloak has one): `data["title"]` is the page's heading.

psc.protocol writes each entry on the wire (issuer and exchange: JSON; wallet: pages).
"""

from __future__ import annotations

from mocks.errors import Catalogue, ErrorDef, HttpError, OAuthError

PENDING = "The authorization request is still pending as the end-user hasn't yet been authenticated."
SORRY = "Nous sommes désolés..."  # Keycloak fr: errorTitle


def _oauth(name: str, status: int, description: str, summary: str, error: str | None = None) -> ErrorDef:
    data = {"error": error or name, "error_description": description}
    return OAuthError(name=name, description=summary, http_status=status, data=data, **data)


def _gateway(name: str, summary: str, status: int, html: str) -> ErrorDef:
    return HttpError(name=name, description=summary, http_status=status, body=html, data={"html": html})


def _page(name: str, status: int, message: str, title: str = SORRY) -> ErrorDef:
    """A wallet / logout error page: `message` is the default text (ERRORS.fail may replace it)."""
    return HttpError(name=name, description=message, http_status=status, data={"title": title})


ERRORS = Catalogue(
    [
        # -- OAuth JSON errors (token, introspection, revocation, CIBA, token exchange, redirects)
        _oauth("invalid_request", 400, "Invalid request", "malformed request"),
        _oauth("missing_token", 401, "Missing token", "userinfo without a bearer token", "invalid_request"),
        _oauth("invalid_client", 401, "Invalid client or Invalid client credentials", "unknown client (401)"),
        _oauth(
            "unauthorized_client",
            401,
            "Invalid client or Invalid client credentials",
            "bad client credentials (401)",
        ),
        _oauth(
            "grant_not_allowed",
            400,
            "Client not allowed to exchange code",
            "the client may not use this grant (400)",
            "unauthorized_client",
        ),
        _oauth(
            "client_assertion_malformed",
            400,
            "client_assertion parameter missing",
            "private_key_jwt / client_secret_jwt: no or malformed assertion parameters (400)",
            "invalid_client",
        ),
        _oauth(
            "client_assertion_refused",
            400,
            "Client authentication with signed JWT failed",
            "private_key_jwt / client_secret_jwt assertion refused (400)",
            "unauthorized_client",
        ),
        _oauth(
            "unsupported_grant_type", 400, "Unsupported grant_type", "grant_type the endpoint does not serve"
        ),
        _oauth(
            "unsupported_response_type",
            400,
            "Client is not allowed to initiate browser login with given response_type. "
            "Implicit flow is disabled for the client.",
            "authorization request with a response_type other than code (redirect)",
        ),
        _oauth("invalid_grant", 400, "Code not valid", "code, refresh token or session no longer valid"),
        _oauth("session_not_active", 400, "Session not active", "session ended", "invalid_grant"),
        _oauth("token_not_active", 400, "Token is not active", "expired refresh token", "invalid_grant"),
        _oauth("access_denied", 400, "not authorized", "the professional refused (CIBA / login)"),
        _oauth("authorization_pending", 400, PENDING, "CIBA: not yet validated"),
        _oauth("slow_down", 400, "too early to access", "CIBA: polling too fast"),
        _oauth("expired_token", 400, "authentication timed out", "CIBA: request expired"),
        _oauth("invalid_token", 401, "Token verification failed", "userinfo: bad or expired token"),
        _oauth(
            "invalid_subject_token",
            400,
            "Invalid token",
            "token exchange: the subject token is not an active PSC access token",
            "invalid_token",
        ),
        _oauth("unknown_user_id", 400, "no user found", "CIBA: login_hint names nobody"),
        _oauth("login_required", 400, "User not logged in", "prompt=none without a session (redirect)"),
        _oauth("temporarily_unavailable", 503, "Service temporarily unavailable", "PSC overloaded"),
        _oauth("server_error", 500, "unknown_error", "internal error of the provider", "unknown_error"),
        # -- Keycloak's JAX-RS answer to a body that is not a form
        HttpError(
            name="unsupported_media_type",
            description="back-channel request that is not application/x-www-form-urlencoded (415)",
            http_status=415,
            body='{"error":"HTTP 415 Unsupported Media Type"}',
            content_type="application/json",
        ),
        # -- the front's gateway pages
        _gateway(
            "bad_gateway", "502 from the PSC front", 502, "<html><body><h1>502 Bad Gateway</h1></body></html>"
        ),
        _gateway(
            "service_unavailable",
            "503 from the PSC front",
            503,
            "<html><body><h1>503 Service Unavailable</h1></body></html>",
        ),
        _gateway(
            "gateway_timeout",
            "504 from the PSC front",
            504,
            "<html><body><h1>504 Gateway Time-out</h1></body></html>",
        ),
        # -- error pages (authorization endpoint before the redirect URI is trusted, logout, wallet)
        _page("client_not_found", 400, "Client inconnu."),
        _page("invalid_parameter", 400, "Paramètre invalide : redirect_uri"),
        _page("missing_parameter", 400, "Paramètres manquants : id_token_hint"),
        _page("invalid_redirect_uri", 400, "L'URI de redirection est invalide"),
        _page("invalid_request_page", 400, "Requête invalide"),
        _page("unknown_login_request", 400, "Demande d'authentification inconnue ou expirée."),
        _page("unknown_push", 404, "Demande inconnue."),
        _page("bad_decision", 400, "Décision attendue : approve (valider) ou refuse (refuser)."),
        _page(
            "request_done",
            400,
            "Cette demande d'authentification a déjà été traitée.",
            "Demande déjà traitée",
        ),
        _page("pin_expired", 400, "Le délai de saisie du code porteur est dépassé.", "Demande expirée"),
        _page("card_refused", 403, "La carte CPS est refusée.", "Carte refusée"),
        _page("card_blocked", 403, "Code porteur faux trois fois : la carte est bloquée.", "Carte bloquée"),
    ]
)
