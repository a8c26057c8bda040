"""Pro Santé Connect (PSC): the national OpenID Connect provider of health professionals,
as a Keycloak realm `esante-wallet` with its separate "wallet" login front.

    psc.service     what the kernel mounts: settings, listeners, OPERATIONS, ERRORS, RULES
    psc.endpoints   one module per endpoint (discovery, authorize, login pages, token with its
                    grant table, CIBA, userinfo/introspect/revoke, logout, token exchange)
    psc.wire        JSON, forms, credentials, redirects (parse / serialise only)
    psc.protocol    how the listeners write errors, refusals and crashes (JSON, pages)
    psc.auth        client authentication (secret, certificate, JWT assertions); presented ids
    psc.realm       the realm's parts: psc.clients, psc.logins, psc.sessions, psc.tokens
    psc.claims      token claims and the UserInfo document, from the synthetic population
    psc.keys        signing keys (RS256 with kid, HS512 for refresh tokens), JWKS
    psc.errors      the error catalogue; psc.checks the findings and their catalogue
    psc.login_pages the pages' templates (French)
    psc.control     the control API (/_sandbox/psc): approvals, clients, per-persona quirks

See docs/services/psc.md.
"""
