"""PSC's three HTTP surfaces, one small module per endpoint, each behind the kernel harness
(mocks.harness: tenant, body cap, one journaled Exchange per request, fault rules, errors
rendered by psc.protocol):

- issuer (`psc`):   discovery (both paths), realm document, JWKS       endpoints.discovery
                    token (grant table: code, refresh, CIBA poll)       endpoints.token
                    CIBA backchannel authentication                    endpoints.ciba
                    userinfo, introspection, revocation                endpoints.userinfo
                    RP-initiated logout                                endpoints.logout
- wallet (`psc-wallet`): /auth                                         endpoints.authorize
                    login pages, PIN, e-CPS wait and phone              endpoints.login
- exchange (`psc-exchange`): metadata, JWKS, RFC 8693 token exchange   endpoints.exchange
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from flask import Flask

from mocks.harness import flask_app
from psc.endpoints import authorize, ciba, discovery, exchange, login, logout, token, userinfo
from psc.realm import EXCHANGE_REALM, OIDC, REALM

if TYPE_CHECKING:
    from psc.realm import Realm


def _routes(app: Flask, realm: Realm) -> Callable[..., None]:
    def route(methods: str, path: str, view: Callable[..., Any]) -> None:
        def bound(**kwargs: Any) -> Any:
            return view(realm, **kwargs)

        name = f"{view.__module__.rpartition('.')[2]}.{view.__name__}:{path}"
        app.add_url_rule(path, name, bound, methods=methods.split("|"))

    return route


def issuer_app(realm: Realm) -> Flask:
    app = flask_app("psc-issuer")
    route = _routes(app, realm)
    route("GET", REALM + "/.well-known/wallet-openid-configuration", discovery.discovery)
    route("GET", REALM + "/.well-known/openid-configuration", discovery.discovery)
    route("GET", REALM, discovery.realm_info)
    route("GET", OIDC + "/certs", discovery.certs)
    route("POST", OIDC + "/token", token.token)
    route("GET|POST", OIDC + "/userinfo", userinfo.userinfo)
    route("POST", OIDC + "/token/introspect", userinfo.introspect)
    route("POST", OIDC + "/revoke", userinfo.revoke)
    route("GET|POST", OIDC + "/logout", logout.logout)
    route("POST", OIDC + "/ext/ciba/auth", ciba.ciba)
    return app


def wallet_app(realm: Realm) -> Flask:
    app = flask_app("psc-wallet")
    route = _routes(app, realm)
    route("GET", "/", login.home)
    route("GET|POST", "/auth", authorize.authorize)
    route("POST", "/auth/login", login.login)
    route("GET", "/auth/attente/<rid>", login.wait)
    route("GET|POST", "/auth/telephone/<rid>", login.phone)
    route("POST", "/auth/pin/<rid>", login.pin)
    return app


def exchange_app(realm: Realm) -> Flask:
    app = flask_app("psc-exchange")
    route = _routes(app, realm)
    route("GET", EXCHANGE_REALM + "/.well-known/openid-configuration", discovery.exchange_discovery)
    route("GET", EXCHANGE_REALM + "/protocol/openid-connect/certs", discovery.exchange_certs)
    route("POST", EXCHANGE_REALM + "/protocol/openid-connect/token", exchange.token_exchange)
    return app
