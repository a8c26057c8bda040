"""Who is on a mail session, and which mailboxes they may use (research mssante.md §1.3, §3.1).

    PER / ORG / CAB  a Pro Santé Connect access token (SASL XOAUTH2 or OAUTHBEARER), checked by
                     the kernel's token trust (`sandbox.tokens.verify`: signature, expiry on the
                     tenant's sandbox clock, revocation); its `SubjectNameID` (idNat_PS) must own
                     the mailbox. PSC tokens live 4-5 minutes: `expires` bounds the IMAP session.
    APP              an ORG AUTH_CLI client certificate of our IGC-Santé, valid on the sandbox
                     clock and not revoked (`sandbox.pki.identify`): SASL EXTERNAL, or the implicit
                     identity of the certificate's only APP mailbox.
    PLAIN            only with `mss_password_auth`: the password is a PSC access token (for
                     clients with no OAuth support; no real operator offers it to LGCs [inferred]).

The tenant is the one bound to what the client presents — the token's client id (`azp`), or the
certificate (subject, serial) — else the default tenant (a mail client sends no header).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from mocks.pki.identify import presented_keys
from mssante.mailboxes import Directory, Mailbox
from mssante.sasl import BearerCredentials

if TYPE_CHECKING:
    from mocks.kernel import Sandbox

Kind = Literal["psc", "certificate"]


@dataclass(frozen=True)
class Identity:
    kind: Kind
    subject: str  # idNat_PS (token) or idNat_Struct (certificate)
    tenant: str
    mailboxes: tuple[Mailbox, ...]  # what this identity may send from / open
    login: str = ""  # the address asked for (XOAUTH2 user=, EXTERNAL authzid), lower case
    expires: float | None = None  # token expiry (epoch seconds, sandbox clock)
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def caller(self) -> str:
        return self.login or self.subject

    def owns(self, address: str) -> bool:
        address = address.lower()
        return any(m.address == address for m in self.mailboxes)


@dataclass(frozen=True)
class Refusal:
    reason: str  # for the journal: why, in plain words
    tenant: str


def _jwt_claims_unverified(token: str) -> dict[str, Any]:
    """The payload of a JWT, unverified: only to find which tenant's keys to verify it with."""
    try:
        payload = token.split(".")[1]
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def token_tenant(sandbox: Sandbox, token: str) -> str:
    azp = str(_jwt_claims_unverified(token).get("azp") or "")
    return sandbox.tenants.resolve(None, [azp] if azp else [])


def bearer(sandbox: Sandbox, directory: Directory, creds: BearerCredentials) -> Identity | Refusal:
    tenant = token_tenant(sandbox, creds.token)
    claims = sandbox.tokens.verify(creds.token, tenant)
    if claims is None:
        return Refusal("token invalid, expired or revoked", tenant)
    subject = str(claims.get("SubjectNameID") or claims.get("preferred_username") or "")
    owned = tuple(directory.owned(subject))
    login = creds.user.lower()
    if login and not any(m.address == login for m in owned):
        found = directory.get(login)
        why = "unknown mailbox" if found is None else f"mailbox not owned by {subject}"
        return Refusal(f"{login}: {why}", tenant)
    exp = claims.get("exp")
    return Identity(
        "psc",
        subject,
        tenant,
        owned,
        login,
        float(exp) if isinstance(exp, int | float) else None,
        {"client_id": claims.get("azp"), "mechanism": creds.mechanism, "issued_by": claims.get("issued_by")},
    )


def certificate(
    sandbox: Sandbox, directory: Directory, der: bytes | None, authzid: str
) -> Identity | Refusal:
    tenant = sandbox.tenants.resolve(None, presented_keys(der))
    if not der:
        return Refusal("no client certificate", tenant)
    cert = sandbox.pki.identify(der, tenant)
    if cert.status != "valid":
        return Refusal(f"certificate {cert.status}", tenant)
    if cert.kind != "org_auth_cli":
        return Refusal(f"certificate kind {cert.kind}, ORG AUTH_CLI expected", tenant)
    apps = tuple(directory.app_of(cert.persona))
    login = authzid.strip().lower()
    if login:
        if not any(m.address == login for m in apps):
            return Refusal(f"{login}: not an APP mailbox of structure {cert.persona}", tenant)
    elif len(apps) != 1:
        return Refusal(f"structure {cert.persona} has {len(apps)} APP mailboxes: name one (authzid)", tenant)
    else:
        login = apps[0].address
    return Identity(
        "certificate",
        cert.persona,
        tenant,
        apps,
        login,
        None,
        {"certificate": cert.subject, "serial": cert.serial, "mechanism": "EXTERNAL"},
    )


def still_valid(sandbox: Sandbox, identity: Identity) -> bool:
    """A token identity whose token has not expired on the tenant's clock."""
    if identity.expires is None:
        return True
    return sandbox.now(identity.tenant).timestamp() < identity.expires
