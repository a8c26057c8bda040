"""`repository` (XDS.b_DocumentRepository.wsdl): ITI-41 ProvideAndRegisterDocumentSet-b (TD2.1,
TD2.2) and ITI-43 RetrieveDocumentSet (TD3.2, dmp.retrieve). What is not emulated yet answers a
Receiver fault `DMPServiceUnavailable`, journaled under the TD its action names.
"""

from __future__ import annotations

from dmp import retrieve
from dmp.endpoints import Endpoint, Operation, not_yet

ACTIONS = {
    "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b": "TD2.1",
    "urn:ihe:iti:2007:RetrieveDocumentSet": "TD3.2",
}
XDSB = "urn:ihe:iti:xds-b:2007"
ENDPOINT = Endpoint(
    "repository",
    {
        f"{{{XDSB}}}RetrieveDocumentSetRequest": Operation(
            "DocumentRepository_RetrieveDocumentSet",
            (retrieve.ACTION,),
            retrieve.RESPONSE_ACTION,
            XDSB,
            retrieve.retrieve,
        ),
    },
    catch_all=not_yet("repository", ACTIONS),
)
