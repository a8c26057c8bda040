"""The CDA conformance engine: every CDA an LGC produces judged like the ANS verification judges
it, with the official validator data (TestContenuCDA-3-0) and the ISO Schematron skeleton run by
saxonche, the CDA XSD, and our own rules. Issue 12; facts in research/cda-segur.md §A.6–A.7,
§C.1; user documentation in docs/cda.md.

The API the services use (`sandbox.cda`, a `mocks.cda.engine.CdaEngine`):

    from mocks.cda import Context
    ctx = Context(tenant=ex.tenant, xds=metadata, twin_pdf=pdf, recipients=["dr.x@…mssante.fr"])

    report = sandbox.cda.submit(document, ctx, exchange=ex)    # report mode: never waits
        # our rules' findings (and a cached verdict's) are on `ex.findings` now; the official
        # verdict (XSD, StrucMin, volet) is attached to ex's journal entry when it arrives
    report = sandbox.cda.validate(document, ctx, timeout=t, exchange=ex)   # strict mode: waits
        # every finding is on ex.findings; `ex.findings.refuse` then says whether to refuse
    sandbox.cda.report(report.id)          # the stored report (state pending / done)
    sandbox.cda.svrl(report.id)            # {profile: SVRL}
    body, media = sandbox.cda.extract_pdf(document)   # an N1's PDF (ValueError for an N3)
    html = sandbox.cda.render_html(document)           # an N3 for reading

A `Report` has `findings` (`CdaFinding`: profile, rule, severity, message, location, pattern,
reference, version), `valid`, `errors`, `state`, `level`, `volet`, `profiles`, `version`,
`as_dict()`. Bad input (not XML, wrong root, too big, a DOCTYPE) is one CDA-PARSE finding.
Without the data the engine says "not installed" (health, and an info finding) and our own rules
still run. Rule ids: mocks/cda/checks.py.

Pipeline and where it runs:

    caller's process   parse.py (safe parse, wrappers) → rules.py (ours) → queue.py (result cache
                       by SHA-256 + data version, else a job in the store)
    worker process     worker.py: xsd.py → schematron.py (ISO stages cached on disk, compiled
                       profiles in an LRU) → svrl.py → result cache → journal entries completed
    everywhere         profiles.py (templateId → volet), data.py (the release, case-tolerant
                       paths, include checks), install.py, control.py (/_sandbox/cda), cli.py

The worker is a separate process because saxonche holds the GIL while it compiles (StrucMin:
10–30 s) and runs: a thread would freeze the sandbox.
"""

from __future__ import annotations

from mocks.cda.report import CdaFinding, Report
from mocks.cda.rules import Context

__all__ = ["CdaFinding", "Context", "Report"]
