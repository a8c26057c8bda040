"""A verdict on one CDA document: findings from every stage of the pipeline, as JSON.

A `CdaFinding` carries what the ANS report shows (profile, schematron pattern and assert id,
severity from @role/@flag, XPath location, French text, reference, référentiel version); on a
journal entry it becomes a kernel `Finding` whose rule is one of the fixed CDA-* ids of
mocks/cda/checks.py, with the pattern/assert id at the head of the message (schematron asserts
are too many to be catalogue entries). The SVRL of each schematron is kept beside the report.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from mocks.findings import Finding, Findings, Severity

# profile names of the stages that are not schematrons
PARSE, XSD, SANDBOX, ENGINE = "parse", "XSD", "bac à sable", "moteur"


@dataclass(frozen=True)
class CdaFinding:
    profile: str  # "parse", "XSD", "StrucMin", a volet (e.g. "VSM_1.4_2022.01"), "bac à sable", "moteur"
    rule: str  # a CDA-* id of mocks.cda.checks.RULES
    severity: Severity
    message: str  # French (the schematron's own text for its asserts)
    location: str = ""  # XPath in the document
    pattern: str = ""  # schematron "pattern/assert-id" (or the XSD line)
    reference: str = ""  # schematron file and its @see, or the specification of our rule
    version: str = ""  # référentiel version (schematron findings)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CdaFinding:
        return cls(**{k: data.get(k, "") for k in cls.__dataclass_fields__})  # type: ignore[arg-type]

    def kernel(self) -> Finding:
        """The journal's shape: the pattern id and the profile lead the message."""
        head = f"[{self.profile}{' ' + self.pattern if self.pattern else ''}] "
        reference = self.reference + (f" ({self.version})" if self.version else "")
        return Finding(self.rule, self.severity, head + self.message, reference, self.location)


@dataclass
class Report:
    """`state`: done (every stage ran or was ruled out), pending (the schematron verdict is still
    queued: the journal entry is completed when it arrives), timeout (a wait ran out)."""

    id: int | None
    sha256: str
    name: str = ""
    state: str = "done"
    level: str = ""  # N1 or N3
    volet: str | None = None
    profiles: list[str] = field(default_factory=list)  # schematrons run
    version: str = ""  # référentiel version
    findings: list[CdaFinding] = field(default_factory=list)
    cached: bool = False  # the official-data part came from the result cache
    duration_ms: float = 0.0
    tenant: str = "default"
    submitted_at: str = ""

    @property
    def errors(self) -> list[CdaFinding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[CdaFinding]:
        return [f for f in self.findings if f.severity == "warning"]

    @property
    def valid(self) -> bool:
        """No error finding (a pending verdict is not valid yet)."""
        return self.state == "done" and not self.errors

    def rules(self) -> set[str]:
        return {f.rule for f in self.findings}

    def counts(self) -> dict[str, int]:
        return {s: sum(1 for f in self.findings if f.severity == s) for s in ("error", "warning", "info")}

    def add_to(self, findings: Findings, limit: int = 0) -> None:
        """Add these findings to an exchange's (filtered by its mode, checked against its catalogue)."""
        add_kernel(findings, self.findings, limit, self.id)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "state": self.state,
            "valid": self.valid,
            "name": self.name,
            "sha256": self.sha256,
            "tenant": self.tenant,
            "submitted_at": self.submitted_at,
            "level": self.level,
            "volet": self.volet,
            "profiles": self.profiles,
            "version": self.version,
            "counts": self.counts(),
            "cached": self.cached,
            "duration_ms": round(self.duration_ms, 1),
            "findings": [f.as_dict() for f in self.findings],
        }


def add_kernel(
    findings: Findings, items: list[CdaFinding], limit: int = 0, report_id: int | None = None
) -> None:
    """Add CDA findings to a kernel Findings, at most `limit` (0: all) then one info saying so."""
    kept = items if not limit or len(items) <= limit else items[:limit]
    for item in kept:
        k = item.kernel()
        findings.add(k.rule, k.severity, k.message, k.reference, k.location)
    if len(kept) < len(items):
        where = f" : rapport complet /_sandbox/cda/reports/{report_id}" if report_id else ""
        findings.add(
            "CDA-ENGINE", "info", f"{len(items) - len(kept)} constats de plus non recopiés ici{where}"
        )


def kernel_dicts(
    items: list[CdaFinding], limit: int = 0, report_id: int | None = None
) -> list[dict[str, Any]]:
    """The journal's finding dicts of CDA findings (for attaching to an existing entry)."""
    out = Findings("report", None)
    add_kernel(out, items, limit, report_id)
    return [f.as_dict() for f in out]
