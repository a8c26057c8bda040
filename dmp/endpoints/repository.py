"""`repository` (XDS.b_DocumentRepository.wsdl): ITI-41 ProvideAndRegisterDocumentSet-b (TD2.1,
TD2.2: dmp.provide) and ITI-43 RetrieveDocumentSet (TD3.2: dmp.retrieve).
"""

from __future__ import annotations

from dmp import metadata, provide, retrieve
from dmp.endpoints import Endpoint, Operation

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
        f"{{{metadata.XDS}}}RetrieveDocumentSetRequest": Operation(
            "DocumentRepository_RetrieveDocumentSet",
            (retrieve.ACTION,),
            retrieve.RESPONSE_ACTION,
            metadata.XDS,
            retrieve.retrieve,
        ),
    },
)
