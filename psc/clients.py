"""The realm's clients (relying parties, LGCs): registered per tenant through the control API
(`psc_clients` table) or for every tenant by the `psc_clients` setting. How each authenticates
(research psc.md 1.4): a secret (Basic or form), an IGC-Santé ORG AUTH_CLI certificate mapped by
its subject (`tls_client_auth`), or a signed JWT assertion (`private_key_jwt` with the client's
public JWKS, `client_secret_jwt` with its secret), as Keycloak's client authenticators do."""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal

from joserfc.jwk import KeySet
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

if TYPE_CHECKING:
    from mocks.config import Config
    from mocks.pki.model import CallerCertificate
    from mocks.store import Store

GRANT_CODE = "authorization_code"
GRANT_REFRESH = "refresh_token"
GRANT_CIBA = "urn:openid:params:grant-type:ciba"
GRANT_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
GRANTS = (GRANT_CODE, GRANT_REFRESH, GRANT_CIBA, GRANT_EXCHANGE)
AuthMethod = Literal[
    "client_secret_basic", "client_secret_post", "tls_client_auth", "private_key_jwt", "client_secret_jwt"
]
AUTH_METHODS: tuple[str, ...] = AuthMethod.__args__  # type: ignore[attr-defined]
CLIENT_ID = re.compile(r"^[A-Za-z0-9._:@-]{1,128}$")


class Client(BaseModel):
    """A relying party (LGC) registered at the realm, by configuration or the control API."""

    model_config = ConfigDict(extra="forbid")

    client_id: str = Field(description="client identifier, e.g. 'editeur-lgc-bas'")
    secret: str = Field(
        "", description="client secret (client_secret_basic / client_secret_post / client_secret_jwt)"
    )
    redirect_uris: list[str] = Field(default_factory=list, description="exact redirect URIs")
    post_logout_redirect_uris: list[str] = Field(default_factory=list)
    grant_types: list[str] = Field(default_factory=lambda: [GRANT_CODE, GRANT_REFRESH])
    auth_method: AuthMethod = "client_secret_basic"
    tls_subject: str = Field(
        "",
        description="tls_client_auth / token exchange: RFC 4514 subject (or OU=structure id) of the ORG AUTH_CLI certificate",
    )
    jwks: dict[str, Any] | None = Field(
        None, description='private_key_jwt: the client\'s public keys (a JWKS {"keys": [...]})'
    )
    description: str = ""

    @field_validator("client_id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not CLIENT_ID.match(value):
            raise ValueError("1 to 128 characters among A-Z a-z 0-9 . _ : @ -")
        return value

    @field_validator("redirect_uris", "post_logout_redirect_uris")
    @classmethod
    def _uris(cls, values: list[str]) -> list[str]:
        for uri in values:
            if not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s#]+$", uri):
                raise ValueError(f"not an absolute URI without fragment: {uri!r}")
        return values

    @field_validator("grant_types")
    @classmethod
    def _grants(cls, values: list[str]) -> list[str]:
        for grant in values:
            if grant not in GRANTS:
                raise ValueError(f"unknown grant type {grant!r}; valid: {', '.join(GRANTS)}")
        return values

    @field_validator("jwks")
    @classmethod
    def _jwks(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is None:
            return None
        try:
            keys = KeySet.import_key_set(value)  # type: ignore[arg-type]
        except Exception as exc:  # noqa: BLE001 - joserfc raises several types for a bad set
            raise ValueError(f"not a JWKS: {exc}") from None
        if not keys.keys or any(k.is_private for k in keys.keys):
            raise ValueError("a JWKS of public keys only, at least one")
        return value

    @model_validator(mode="after")
    def _auth(self) -> Client:
        if self.auth_method == "tls_client_auth" and not self.tls_subject:
            raise ValueError(
                "tls_client_auth needs tls_subject (the certificate's subject DN, or OU=<structure id>)"
            )
        if self.auth_method == "private_key_jwt" and not self.jwks:
            raise ValueError("private_key_jwt needs jwks (the public keys the assertions are signed with)")
        secret_based = ("client_secret_basic", "client_secret_post", "client_secret_jwt")
        if self.auth_method in secret_based and not self.secret:
            raise ValueError(f"{self.auth_method} needs a secret")
        return self

    def matches_certificate(self, caller: CallerCertificate) -> bool:
        want = self.tls_subject.strip()
        if not want or not caller.subject:
            return False
        if want.upper().startswith("OU=") and "," not in want:
            return caller.ou == want[3:]
        return _dn(want) == _dn(caller.subject)


def _dn(text: str) -> list[str]:
    return sorted(p.strip().upper().replace(" = ", "=") for p in re.split(r"(?<!\\),", text) if p.strip())


DEFAULT_CLIENTS = json.dumps(
    [
        {
            "client_id": "lgc-sandbox",
            "secret": "lgc-sandbox-secret",
            "redirect_uris": ["http://localhost:8080/callback", "https://localhost:8443/callback"],
            "post_logout_redirect_uris": ["http://localhost:8080/", "https://localhost:8443/"],
            "grant_types": [GRANT_CODE, GRANT_REFRESH, GRANT_CIBA],
            "description": "demo client of the sandbox",
        }
    ]
)


@lru_cache(maxsize=8)
def configured_clients(raw: str) -> dict[str, Client]:
    """Clients of the `psc_clients` setting (a JSON list), valid in every tenant."""
    if not raw.strip():
        return {}
    try:
        items = json.loads(raw)
        return {c.client_id: c for c in (Client.model_validate(i) for i in items)}
    except (ValueError, ValidationError, TypeError) as exc:
        raise ValueError(f"psc_clients: {exc}") from exc


class Clients:
    """Clients of a tenant: its own (control API) over the configured ones."""

    def __init__(self, store: Store, config: Config):
        self.store, self.config = store, config

    def configured(self) -> dict[str, Client]:
        return configured_clients(str(self.config["psc_clients"] or ""))

    def get(self, tenant: str, client_id: str | None) -> Client | None:
        if not client_id:
            return None
        row = self.store.one(
            "SELECT data FROM psc_clients WHERE tenant = ? AND client_id = ?", (tenant, client_id)
        )
        if row is not None:
            return Client.model_validate_json(row["data"])
        return self.configured().get(client_id)

    def all(self, tenant: str) -> list[tuple[Client, str]]:
        """Every client of a tenant, with where it comes from ('control' or 'configuration')."""
        own = {
            r["client_id"]: Client.model_validate_json(r["data"])
            for r in self.store.query(
                "SELECT client_id, data FROM psc_clients WHERE tenant = ? ORDER BY client_id", (tenant,)
            )
        }
        out = [(c, "control") for c in own.values()]
        out += [(c, "configuration") for cid, c in self.configured().items() if cid not in own]
        return out

    def put(self, tenant: str, client: Client) -> None:
        self.store.execute(
            "INSERT INTO psc_clients(tenant, client_id, data) VALUES (?, ?, ?) "
            "ON CONFLICT(tenant, client_id) DO UPDATE SET data = excluded.data",
            (tenant, client.client_id, client.model_dump_json()),
        )

    def delete(self, tenant: str, client_id: str) -> bool:
        cur = self.store.execute(
            "DELETE FROM psc_clients WHERE tenant = ? AND client_id = ?", (tenant, client_id)
        )
        return cur.rowcount > 0

    def for_certificate(self, tenant: str, caller: CallerCertificate) -> Client | None:
        for client, _ in self.all(tenant):
            if client.matches_certificate(caller):
                return client
        return None
