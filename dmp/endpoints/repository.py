"""`repository` (XDS.b_DocumentRepository.wsdl): ITI-41 ProvideAndRegisterDocumentSet-b (TD2.1,
TD2.2: dmp.provide) and ITI-43 RetrieveDocumentSet (TD3.2). An operation not emulated yet answers
a Receiver fault `DMPServiceUnavailable`, journaled under the TD its action names.
"""

from __future__ import annotations

from dmp import metadata, provide
from dmp.endpoints import Endpoint, Operation, not_yet

ACTIONS = {
    "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b": "TD2.1",
    "urn:ihe:iti:2007:RetrieveDocumentSet": "TD3.2",
}
ENDPOINT = Endpoint(
    "repository",
    {
        f"{{{metadata.XDS}}}ProvideAndRegisterDocumentSetRequest": Operation(
            "DocumentRepository_ProvideAndRegisterDocumentSet-b",
            # the WSDL's wsaw:Action, and the CXF operation name the official example's MIME root carries
            (
                "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b",
                "DocumentRepository_ProvideAndRegisterDocumentSet-b",
            ),
            "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-bResponse",
            metadata.XDS,
            provide.provide,
        ),
    },
    catch_all=not_yet("repository", ACTIONS),
)
