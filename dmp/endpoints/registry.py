"""`registry` (XDS.b_DocumentRegistry.wsdl): ITI-18 RegistryStoredQuery (TD3.1) and ITI-57
UpdateDocumentSet (TD3.3). Not emulated yet: every call answers a Receiver fault
`DMPServiceUnavailable`, journaled under the TD its action names.
"""

from __future__ import annotations

from dmp.endpoints import Endpoint, not_yet

ACTIONS = {
    "urn:ihe:iti:2007:RegistryStoredQuery": "TD3.1",
    "urn:ihe:iti:2010:UpdateDocumentSet": "TD3.3",
}
ENDPOINT = Endpoint("registry", {}, catch_all=not_yet("registry", ACTIONS))
