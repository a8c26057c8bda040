"""`repository` (XDS.b_DocumentRepository.wsdl): ITI-41 ProvideAndRegisterDocumentSet-b (TD2.1,
TD2.2) and ITI-43 RetrieveDocumentSet (TD3.2). Not emulated yet: every call answers a Receiver
fault `DMPServiceUnavailable`, journaled under the TD its action names.
"""

from __future__ import annotations

from dmp.endpoints import Endpoint, not_yet

ACTIONS = {
    "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b": "TD2.1",
    "urn:ihe:iti:2007:RetrieveDocumentSet": "TD3.2",
}
ENDPOINT = Endpoint("repository", {}, catch_all=not_yet("repository", ACTIONS))
