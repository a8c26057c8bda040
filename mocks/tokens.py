"""Cross-service token trust: `sandbox.tokens.verify(token, tenant) -> claims | None`.

A service that issues bearer tokens (PSC) answers `Service.verify_token`: its signature, `exp` /
`nbf` on the tenant's sandbox clock, revocation, audience. A service that accepts them (MSSanté's
XOAUTH2, the national APIs) asks the kernel, never the issuer's package. Every process has every
service's object (mocks.kernel.Sandbox.instances), and issuers keep their keys and revocations in
the shared store, so a token issued in one compose container verifies in another.

`POST /_sandbox/tokens/introspect` (RFC 7662 shape) is backed by it, for external servers (a
dovecot, an LGC's own API gateway).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mocks.kernel import Sandbox

log = logging.getLogger("segur")


class TokenTrust:
    def __init__(self, sandbox: Sandbox):
        self.sandbox = sandbox

    def verify(self, token: str, tenant: str) -> dict[str, Any] | None:
        """The claims of a token some service issued and still honours, else None."""
        if not token or len(token) > 16384:
            return None
        for name, service in self.sandbox.instances.items():
            try:
                claims = service.verify_token(token, tenant)
            except Exception:  # noqa: BLE001 - one issuer's bug must not make every token valid or fail
                log.exception("token verification by %s failed", name)
                continue
            if claims is not None:
                return {**claims, "issued_by": name}
        return None

    def introspect(self, token: str, tenant: str) -> dict[str, Any]:
        """RFC 7662: `{"active": false}` or the claims with `active: true`."""
        claims = self.verify(token, tenant)
        if claims is None:
            return {"active": False}
        return {"active": True, **claims}
