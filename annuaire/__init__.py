"""Annuaire Santé: the FHIR R4 directory (API v2 and the v1 aliases) of professionals, structures and
their MSSanté mailboxes, the flat extraction file and the MSSanté liste blanche.

    annuaire.resources     population -> FHIR resources (AS DP profiles), technical ids
    annuaire.params        the search parameters of each type (what is indexed and announced)
    annuaire.directory     the in-memory directory: records, indexes, search, includes
    annuaire.query         a search request read into a Query (refusals with the server's messages)
    annuaire.rules         per-tenant options (gateway presets, rate limit, inconsistency), paging
    annuaire.paging        next links stored in the store (survive a restart), 410 when gone
    annuaire.auth          ESANTE-API-KEY and the per-key rate limit
    annuaire.wire          parameters in, Bundles / OperationOutcome / gateway errors out
    annuaire.capability    GET [base]/metadata
    annuaire.extraction    Extraction_Correspondance_MSSante ZIP (31 columns)
    annuaire.listeblanche  listeblanchemssante.xml and its checksum
    annuaire.checks        findings on what the LGC asked
    annuaire.errors        the error catalogue (server and gateway)
    annuaire.flow          the request pipeline;  annuaire.service  settings and listener
    annuaire.control       /_sandbox/annuaire: API keys, options

See docs/services/annuaire.md.
"""
