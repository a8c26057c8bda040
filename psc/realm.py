"""The `esante-wallet` realm: its parts over the store, and its URLs.

    realm.keys       signing keys and JWKS (psc.keys)
    realm.clients    relying parties (psc.clients)
    realm.logins     login requests: browser e-CPS push, card PIN, CIBA (psc.logins)
    realm.sessions   SSO sessions and authorization codes (psc.sessions)
    realm.tokens     minting, verification, refresh, revocation, acr quirks (psc.tokens)

Nothing is kept in memory: every row lives in the store with its tenant, and every time is the
tenant's sandbox clock. The issuer URL carries the `/_t/<tenant>` prefix a client used to reach
it (its discovery then names prefixed endpoints, and its tokens that issuer).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from psc.clients import Clients
from psc.keys import Keys
from psc.logins import Logins
from psc.sessions import Session, Sessions
from psc.tokens import Tokens

if TYPE_CHECKING:
    from mocks.kernel import Sandbox

REALM = "/auth/realms/esante-wallet"
OIDC = REALM + "/protocol/openid-connect"
EXCHANGE_REALM = "/realms/signsessiondata"


class Realm:
    def __init__(self, sandbox: Sandbox):
        self.sandbox = sandbox
        self.store = sandbox.store
        self.keys = Keys(sandbox.store)
        self.clients = Clients(sandbox.store, sandbox.config)
        self.logins = Logins(sandbox)
        self.sessions = Sessions(sandbox)
        self.tokens = Tokens(sandbox, self.keys, self.sessions)

    def now(self, tenant: str) -> float:
        return self.sandbox.now(tenant).timestamp()

    def issuer(self, prefix: str = "") -> str:
        return self.sandbox.url("psc", prefix + REALM)

    def exchange_issuer(self, prefix: str = "") -> str:
        return self.sandbox.url("psc-exchange", prefix + EXCHANGE_REALM)

    def wallet(self, prefix: str = "", path: str = "") -> str:
        return self.sandbox.url("psc-wallet", prefix + path)

    def remember_assertion(self, tenant: str, client_id: str, jti: str, lifetime: int) -> bool:
        """Record a client assertion's jti; False when it was seen already (a replay)."""
        now = self.now(tenant)
        with self.store.tx():
            self.store.execute(
                "DELETE FROM psc_assertions WHERE tenant = ? AND expires_at < ?", (tenant, now)
            )
            cur = self.store.execute(
                "INSERT OR IGNORE INTO psc_assertions(tenant, client_id, jti, expires_at) VALUES (?, ?, ?, ?)",
                (tenant, client_id, jti, now + lifetime),
            )
        return cur.rowcount > 0

    # benchmarks/bench_psc.py prepares codes through these two (kept for it)
    def new_session(self, tenant: str, national_id: str, auth_mode: str) -> Session:
        return self.sessions.new(tenant, national_id, auth_mode)

    def new_code(self, tenant: str, client_id: str, session: Session, params: dict[str, Any]) -> str:
        return self.sessions.new_code(tenant, client_id, session, params)
