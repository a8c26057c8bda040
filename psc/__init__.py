"""Pro Santé Connect (PSC): the national OpenID Connect provider of health professionals,
as a Keycloak realm `esante-wallet` with its separate "wallet" login front.

    psc.service   what the kernel mounts (settings, listeners, migrations)
    psc.wire      the HTTP surface: endpoints, JSON shapes, error bodies, login pages
    psc.rules     clients, login requests (e-CPS push, CPS card, CIBA), sessions, codes, tokens
    psc.claims    token claims and the UserInfo document, from the synthetic population
    psc.keys      signing keys (RS256 with kid, HS512 for refresh tokens), JWKS
    psc.errors    the error catalogue (Keycloak wording), for answers and fault rules
    psc.control   the control API (/_sandbox/psc): approvals, clients, per-persona quirks

See docs/services/psc.md.
"""
