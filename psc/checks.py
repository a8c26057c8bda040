"""Findings on what the LGC sent to PSC, and their rule catalogue `RULES` (every finding PSC
emits is in it: the kernel raises UnknownRule otherwise). A finding never refuses by itself; in
strict mode an error finding makes the endpoint refuse with `invalid_request`, as production
would refuse the mistake. Messages in French, for the LGC developer.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from mocks.findings import Findings, Rule, Rules

RULES = Rules(
    [
        Rule(
            "PSC-REDIRECT-URI", "error", "redirect_uri déclarée pour le client", "ANS PSC, URL de redirection"
        ),
        Rule("PSC-STATE", "error", "paramètre state présent", "IG sécurisation API, PSC"),
        Rule("PSC-NONCE", "warning", "paramètre nonce présent", "OpenID Connect Core 3.1.2.1"),
        Rule("PSC-SCOPE-ALL", "warning", "scope scope_all demandé", "research psc.md 1.5"),
        Rule("PSC-SCOPE-OPENID", "warning", "scope openid demandé", "OpenID Connect Core 3.1.2.1"),
        Rule("PSC-ACR-PARAM", "warning", "acr_values (et non acr)", "OpenID Connect Core 3.1.2.1"),
        Rule("PSC-ACR", "info", "acr_values=eidas1", "research psc.md 1.5"),
        Rule("PSC-PKCE", "info", "PKCE utilisé", "RFC 7636"),
        Rule("PSC-PKCE-PLAIN", "info", "PKCE en S256 plutôt que plain", "RFC 7636 4.2"),
        Rule("PSC-CLIENT-AUTH", "info", "authentification du client comme déclarée", "RFC 6749 2.3.1"),
        Rule("PSC-FORM", "error", "corps application/x-www-form-urlencoded", "RFC 6749 3.2"),
        Rule(
            "PSC-CIBA-BINDING", "warning", "binding_message à 2 chiffres", "ANS CIBA ; API-Proxy-eSante.json"
        ),
        Rule("PSC-CIBA-CHANNEL", "warning", "channel CARD ou MOBILE", "ANS CIBA"),
        Rule("PSC-SCOPE", "warning", "scope openid scope_all (CIBA)", "research psc.md 2.8"),
        Rule(
            "PSC-LOGOUT-HINT",
            "warning",
            "déconnexion avec id_token_hint",
            "OpenID Connect RP-Initiated Logout 1.0",
        ),
    ]
)


def redirect_uri(f: Findings, client_id: str, uri: str) -> None:
    f.add(
        "PSC-REDIRECT-URI",
        "error",
        f"redirect_uri {uri!r} n'est pas déclarée pour {client_id} (comparaison exacte) ; "
        "PSC affiche une page d'erreur au lieu de revenir vers le logiciel.",
        "ANS PSC, déclaration des URL de redirection",
        "redirect_uri",
    )


def authorization(f: Findings, v: Mapping[str, str]) -> None:
    """What PSC integrators get wrong in the authorization request."""
    scopes = v.get("scope", "").split()
    if "scope_all" not in scopes:
        f.add(
            "PSC-SCOPE-ALL",
            "warning",
            f"PSC attend scope=openid scope_all (reçu {v.get('scope', '')!r}).",
            "research psc.md 1.5",
            "scope",
        )
    if "openid" not in scopes:
        f.add(
            "PSC-SCOPE-OPENID",
            "warning",
            "Sans le scope openid, aucun id_token n'est délivré (toléré : scope_all seul).",
            "OpenID Connect Core 3.1.2.1",
            "scope",
        )
    if not v.get("state"):
        f.add(
            "PSC-STATE",
            "error",
            "Le paramètre state est obligatoire pour PSC (protection CSRF).",
            "IG sécurisation API, PSC",
            "state",
        )
    if not v.get("nonce"):
        f.add(
            "PSC-NONCE",
            "warning",
            "Envoyez un nonce aléatoire et vérifiez-le dans l'id_token.",
            "OpenID Connect Core 3.1.2.1",
            "nonce",
        )
    if "acr" in v and "acr_values" not in v:
        f.add(
            "PSC-ACR-PARAM",
            "warning",
            "Le paramètre s'appelle acr_values (acr=... est ignoré).",
            "OpenID Connect Core 3.1.2.1",
            "acr",
        )
    elif v.get("acr_values") != "eidas1":
        f.add(
            "PSC-ACR",
            "info",
            f"PSC attend acr_values=eidas1 (reçu {v.get('acr_values', '')!r}).",
            "research psc.md 1.5",
            "acr_values",
        )
    if not v.get("code_challenge"):
        f.add("PSC-PKCE", "info", "PKCE (code_challenge S256) est recommandé.", "RFC 7636", "code_challenge")
    elif v.get("code_challenge_method", "plain") == "plain":
        f.add(
            "PSC-PKCE-PLAIN",
            "info",
            "Préférez code_challenge_method=S256 à plain.",
            "RFC 7636 4.2",
            "code_challenge_method",
        )


def form_body(f: Findings, mimetype: str) -> None:
    f.add(
        "PSC-FORM",
        "error",
        f"Les points d'accès PSC attendent application/x-www-form-urlencoded (reçu {mimetype or 'aucun'!r}).",
        "RFC 6749 3.2",
        "Content-Type",
    )


def client_auth(f: Findings, method: str, declared: str) -> None:
    if method != declared and declared in ("client_secret_basic", "client_secret_post"):
        f.add(
            "PSC-CLIENT-AUTH",
            "info",
            f"Client authentifié par {method} alors qu'il est déclaré en {declared} "
            "(accepté, comme Keycloak, qui accepte les deux formes du secret).",
            "RFC 6749 2.3.1",
            "Authorization",
        )


def ciba(f: Findings, form: Mapping[str, str], scope: str) -> str:
    """Findings on a CIBA request; returns the channel to use (MOBILE when not CARD/MOBILE)."""
    binding = form.get("binding_message", "")
    if not re.fullmatch(r"\d{2}", binding):
        f.add(
            "PSC-CIBA-BINDING",
            "warning",
            f"binding_message doit être un code à 2 chiffres affiché sur les deux appareils (reçu {binding!r}).",
            "ANS CIBA ; API-Proxy-eSante.json",
            "binding_message",
        )
    channel = form.get("channel", "")
    if channel not in ("CARD", "MOBILE"):
        f.add(
            "PSC-CIBA-CHANNEL",
            "warning",
            f"Le paramètre PSC channel vaut CARD ou MOBILE (reçu {channel!r}) ; MOBILE est supposé.",
            "ANS CIBA",
            "channel",
        )
        channel = "MOBILE"
    if "openid" not in scope.split() or "scope_all" not in scope.split():
        f.add(
            "PSC-SCOPE",
            "warning",
            f"PSC attend scope=openid scope_all (reçu {scope!r}).",
            "research psc.md 2.8",
            "scope",
        )
    return channel


def logout_without_hint(f: Findings) -> None:
    f.add(
        "PSC-LOGOUT-HINT",
        "warning",
        "Déconnexion sans id_token_hint : aucune session PSC n'est désignée, elle reste ouverte.",
        "OpenID Connect RP-Initiated Logout 1.0",
        "id_token_hint",
    )
