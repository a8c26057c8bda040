"""Findings: what the sandbox noticed about a message the LGC sent, apart from the answer it got.

Transport acceptance and conformance are separate (design principle 2): a service answers like
production, and records findings on the journal entry. The mode of a service decides what an
error finding does: `report` (default) records it, `strict` also refuses the message with the
error production would give, `off` records nothing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

Severity = Literal["error", "warning", "info"]
SEVERITIES = ("error", "warning", "info")


@dataclass(frozen=True)
class Finding:
    rule: str  # stable id, e.g. "INSI-TRAITS-LOWERCASE"
    severity: Severity
    message: str  # in French, for the LGC developer
    reference: str = ""  # where the rule comes from (spec, section)
    location: str = ""  # where in the message (XPath, header, parameter)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class Findings(list[Finding]):
    """The findings of one exchange, filtered by the service's mode."""

    def __init__(self, mode: str = "report"):
        super().__init__()
        self.mode = mode

    def add(
        self, rule: str, severity: Severity, message: str, reference: str = "", location: str = ""
    ) -> None:
        if self.mode != "off":
            self.append(Finding(rule, severity, message, reference, location))

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self if f.severity == "error"]

    @property
    def refuse(self) -> bool:
        """In strict mode, an error finding makes the service refuse the message."""
        return self.mode == "strict" and bool(self.errors)
