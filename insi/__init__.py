"""INSi téléservice (CNAM): search and check a patient's INS, by traits or by Carte Vitale.

    insi.wire       parse the SOAP requests, write the exact answers and faults
    insi.errors     the error catalogue (fault rules name its entries)
    insi.matching   which identity a search designates
    insi.directory  the référentiel, from the sandbox population
    insi.checks     findings on what the LGC sent
    insi.auth       the caller: mTLS certificate or CPx assertion
    insi.service    listeners and request flow

See docs/services/insi.md.
"""
