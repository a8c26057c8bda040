"""What the scoreboard reads, as the kernel fixes it: the evidence kinds and their fields (a copy
of the contract in mocks/evidence.py's docstring, checked against it by
tests/scoreboard/test_catalogue.py), the fields by which a scenario's persona matches a fact,
and the journal columns a rule may test.

A rule's condition names a field of this contract (`ins_qualified`, `recipients`, ...); the
loader refuses any other, so a typo in the catalogue fails at start instead of never matching.
"""

from __future__ import annotations

# kind -> the fields of `data` its writers promise (they may add more, never rename these)
EVIDENCE_FIELDS: dict[str, tuple[str, ...]] = {
    "ins.qualified": ("ins", "oid", "traits_hash", "auth_mode", "caller", "operation", "via"),
    "dmp.document.accepted": (
        "ins",
        "ins_qualified",
        "type_code",
        "format_code",
        "class_code",
        "author_rpps",
        "structure",
        "auth_mode",
        "caller",
        "confidentiality",
        "replaces",
        "cda_errors",
        "via_third_party",
    ),
    "dmp.document.updated": ("action", "caller"),
    "mss.message.accepted": (
        "sender",
        "sender_rpps",
        "structure",
        "sender_kind",
        "recipients",
        "documents",
        "xdm",
        "via_third_party",
    ),
    "mss.delivered.citizen": ("address", "sender", "sender_rpps", "structure"),
}

# fields every fact has besides its data (mocks.evidence: {id, kind, subject, at, service, ...})
EVIDENCE_META = ("subject", "service", "kind", "at", "journal_id", "trace_id")

# the service that establishes each kind (a kind whose service is not built is simply absent)
EVIDENCE_SERVICE = {
    "ins.qualified": "insi",
    "dmp.document.accepted": "dmp",
    "dmp.document.updated": "dmp",
    "mss.message.accepted": "mss",
    "mss.delivered.citizen": "mss",
}

# fields of a fact a scenario's persona (an INS, an RPPS or idNat_PS, a structure id, an
# address) is compared with; list fields are searched element by element (`documents[].ins`)
PERSONA_FIELDS: dict[str, tuple[str, ...]] = {
    "ins.qualified": ("subject", "ins", "caller"),
    "dmp.document.accepted": ("ins", "author_rpps", "structure", "caller"),
    "dmp.document.updated": ("caller",),
    "mss.message.accepted": ("sender", "sender_rpps", "structure", "documents[].ins", "recipients[].address"),
    "mss.delivered.citizen": ("address", "sender", "sender_rpps", "structure"),
}

# journal columns a rule may test (mocks.journal), `details.<path>` and `findings` besides
JOURNAL_FIELDS = ("service", "operation", "caller", "persona", "status", "outcome", "trace_id", "at")

# the virtual field of a fact that reads the journal entry that established it (while the
# journal still holds it): `journal.details.cda_report`, `journal.findings`
JOURNAL_LINK = "journal"
