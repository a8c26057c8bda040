"""Pro Santé Connect as mounted in the sandbox: three HTTPS listeners like the real platform.

- `psc`          (psc_port 4610): the issuer `auth.*` host, realm `esante-wallet` (client
                 certificate optional: tls_client_auth clients present an ORG AUTH_CLI);
- `psc-wallet`   (psc_wallet_port 4611): the `wallet.*` login front with `/auth` (client
                 certificate optional: a CPS card's authentication certificate);
- `psc-exchange` (psc_exchange_port 4612): the token-exchange authorization server of the
                 national APIs (client certificate asked for, required by its token endpoint:
                 an ORG AUTH_CLI; its metadata and JWKS are public, as a Keycloak realm's).

Every request goes through the kernel harness (one journaled exchange, tenant from the
`X-Sandbox-Tenant` header, a `/_t/<tenant>/` prefix or what the caller presents: its client id,
its certificate's subject), bodies capped at 64 KiB (OAuth forms), errors written by
psc.protocol. The endpoints are in psc.endpoints, the realm's state in psc.realm.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from mocks.config import ConfigError, Setting
from mocks.service import Listener, Service, TlsPolicy
from mocks.store import Migration
from psc import auth, endpoints
from psc.checks import RULES
from psc.clients import DEFAULT_CLIENTS, configured_clients
from psc.errors import ERRORS
from psc.protocol import KeycloakJson, WalletPages
from psc.realm import EXCHANGE_REALM, REALM, Realm
from psc.schema import MIGRATIONS

if TYPE_CHECKING:
    from mocks.kernel import Sandbox

NAME = "psc"
TITLE = "Pro Santé Connect (fournisseur OpenID Connect des professionnels de santé)"

SETTINGS = [
    Setting(
        "psc_port", 4610, "PSC issuer listener (realm esante-wallet: token, userinfo, JWKS, CIBA...)", "port"
    ),
    Setting("psc_wallet_port", 4611, "PSC wallet login listener (/auth, login pages)", "port"),
    Setting(
        "psc_exchange_port", 4612, "token-exchange authorization server of the national APIs (mTLS)", "port"
    ),
    Setting(
        "psc_clients",
        DEFAULT_CLIENTS,
        "clients valid in every tenant: JSON list of {client_id, secret, redirect_uris, ...}",
    ),
    Setting(
        "psc_auto_approve",
        -1,
        "seconds after which an e-CPS push or CIBA request approves itself (-1: never, 0: at once, for CI)",
        "int",
    ),
    Setting(
        "psc_ecps_timeout",
        120,
        "seconds a professional has to validate an e-CPS push or type the card PIN",
        "int",
    ),
    Setting("psc_card_pin", "1234", "the simulated CPS cards' PIN"),
    Setting(
        "psc_card_acr", "eidas3", "acr of a CPS card login (eidas3 as in BAS 2023; eidas2 as in prod 2026)"
    ),
    Setting("psc_access_token_lifetime", 120, "access and ID token lifetime, seconds", "int"),
    Setting("psc_refresh_token_lifetime", 1800, "refresh token lifetime, seconds", "int"),
    Setting("psc_sso_max", 14400, "SSO session maximum, seconds (4 h)", "int"),
    Setting("psc_sso_idle", 1800, "SSO session idle timeout, seconds (30 min)", "int"),
    Setting("psc_code_lifetime", 60, "authorization code lifetime, seconds", "int"),
    Setting("psc_ciba_expires_in", 120, "CIBA auth_req_id lifetime, seconds", "int"),
    Setting("psc_ciba_interval", 5, "CIBA minimum polling interval, seconds", "int"),
    Setting("psc_exchange_lifetime", 14400, "token-exchange access token lifetime, seconds", "int"),
]
# every operation PSC journals (`ex.operation`), which fault rules may name
OPERATIONS = [
    "discovery",
    "realm",
    "certs",
    "token",
    "userinfo",
    "introspect",
    "revoke",
    "logout",
    "ciba",
    "authorize",
    "login",
    "card-pin",
    "ecps-wait",
    "ecps-approved",
    "ecps-refused",
    "ecps-phone",
    "wallet-home",
    "token-exchange",
]
MAX_BODY = 64 * 1024  # OAuth forms (issue 11): a PSC request is a few hundred bytes
__all__ = ["ERRORS", "NAME", "OPERATIONS", "RULES", "SETTINGS", "TITLE", "create"]


class Psc(Service):
    name = NAME
    title = TITLE

    def __init__(self, sandbox: Sandbox):
        super().__init__(sandbox)
        self.realm = Realm(sandbox)
        # one WSGI app per listener, built once (listeners() is called more than once)
        self.apps = {
            "psc": endpoints.issuer_app(self.realm),
            "psc-wallet": endpoints.wallet_app(self.realm),
            "psc-exchange": endpoints.exchange_app(self.realm),
        }
        self.json, self.pages = KeycloakJson(), WalletPages()

    def migrations(self) -> Sequence[Migration]:
        return MIGRATIONS

    def start(self) -> None:
        try:
            configured_clients(str(self.sandbox.config["psc_clients"] or ""))
        except ValueError as exc:
            raise ConfigError(str(exc)) from exc
        if self.sandbox.config["psc_card_acr"] not in ("eidas1", "eidas2", "eidas3"):
            raise ConfigError("psc_card_acr: eidas1, eidas2 or eidas3")
        for name in ("realm", "exchange", "refresh"):
            self.realm.keys.kid(name)  # created now rather than on a first request

    def verify_token(self, token: str, tenant: str) -> dict[str, Any] | None:
        """An access token of the realm, active on the tenant's clock (kernel token trust):
        signature and kid, `exp`, not revoked, session alive, issued in this tenant."""
        active = self.realm.tokens.active(token)
        if active is None:
            return None
        claims, row = active
        if row["tenant"] != tenant or row["kind"] != "access":
            return None
        return dict(claims)

    def listeners(self) -> list[Listener]:
        return [
            Listener(
                name="psc",
                port_setting="psc_port",
                scheme="https",
                app=self.apps["psc"],
                tls=TlsPolicy(client_auth="optional"),
                description="Pro Santé Connect, émetteur (realm esante-wallet)",
                paths=[REALM + "/.well-known/wallet-openid-configuration"],
                protocol=self.json,
                presented=auth.presented,
                max_body=MAX_BODY,
            ),
            Listener(
                name="psc-wallet",
                port_setting="psc_wallet_port",
                scheme="https",
                app=self.apps["psc-wallet"],
                tls=TlsPolicy(client_auth="optional"),
                description="Pro Santé Connect, page de connexion (wallet)",
                paths=["/auth"],
                protocol=self.pages,
                presented=auth.presented_client,
                max_body=MAX_BODY,
                journal_bodies=False,  # the pages' HTML: the outcome says what was shown
            ),
            Listener(
                name="psc-exchange",
                port_setting="psc_exchange_port",
                scheme="https",
                app=self.apps["psc-exchange"],
                tls=TlsPolicy(client_auth="optional"),
                description="Serveur d'autorisation des API nationales (échange de jeton RFC 8693, mTLS)",
                paths=[EXCHANGE_REALM + "/protocol/openid-connect/token"],
                protocol=self.json,
                presented=auth.presented,
                max_body=MAX_BODY,
            ),
        ]


def create(sandbox: Sandbox) -> Psc:
    return Psc(sandbox)
