"""`registry` (ITI-18, ITI-57) and `repository` (ITI-41, ITI-43): DMP part 2, not emulated yet.
Every call answers a clear Receiver fault `DMPServiceUnavailable`, journaled under the TD its
action names (TD2.1, TD3.1, TD3.2, TD3.3).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dmp import errors
from dmp.endpoints import Endpoint, Operation
from mocks.harness import Reply

if TYPE_CHECKING:
    from dmp.flow import Context

ACTIONS = {
    "registry": ("urn:ihe:iti:2007:RegistryStoredQuery", "urn:ihe:iti:2010:UpdateDocumentSet"),
    "repository": (
        "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b",
        "urn:ihe:iti:2007:RetrieveDocumentSet",
    ),
}
TDS = {
    "urn:ihe:iti:2007:RegistryStoredQuery": "TD3.1",
    "urn:ihe:iti:2010:UpdateDocumentSet": "TD3.3",
    "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b": "TD2.1",
    "urn:ihe:iti:2007:RetrieveDocumentSet": "TD3.2",
}


def _not_yet(service: str) -> Operation:
    def handler(ctx: Context) -> Reply:
        action = (ctx.req.action.value or "").strip()
        ctx.ex.operation = TDS.get(action, service)
        errors.fail("not_yet", "not yet", service=service)

    return Operation(service, ACTIONS[service], "", "urn:ihe:iti:xds-b:2007", handler)


ENDPOINTS = [Endpoint(name, {}, catch_all=_not_yet(name)) for name in ACTIONS]
