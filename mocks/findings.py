"""Findings: what the sandbox noticed about a message the LGC sent, apart from the answer it got.

Transport acceptance and conformance are separate (design principle 2): a service answers like
production, and records findings on the journal entry. The mode of a service decides what an
error finding does: `report` (default) records it, `strict` also refuses the message with the
error production would give, `off` records nothing.

Each service declares its rule catalogue (`RULES`, a `Rules` of `Rule`, usually in its
`checks.py`): the id, the default severity, a French title and the reference. A finding whose rule
is not in the catalogue is a bug of ours and raises `UnknownRule` (the Ségur scoreboard and the
console enumerate the catalogues, so a rule they do not know must not exist).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
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


@dataclass(frozen=True)
class Rule:
    """One entry of a service's findings catalogue."""

    id: str  # e.g. "INSI-TRAITS-LEXIQUE"
    severity: Severity  # the usual severity (a check may raise or lower it for one case)
    title: str  # in French: what the rule checks
    reference: str = ""  # the specification it comes from

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class UnknownRule(KeyError):
    """A finding names a rule its service's catalogue does not declare."""


class Rules(Mapping[str, Rule]):
    def __init__(self, rules: Iterable[Rule]):
        self._rules: dict[str, Rule] = {}
        for rule in rules:
            if rule.id in self._rules:
                raise ValueError(f"rule declared twice: {rule.id}")
            if rule.severity not in SEVERITIES:
                raise ValueError(f"rule {rule.id}: severity must be one of {', '.join(SEVERITIES)}")
            self._rules[rule.id] = rule

    def __getitem__(self, rule_id: str) -> Rule:
        return self._rules[rule_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._rules)

    def __len__(self) -> int:
        return len(self._rules)


class Findings(list[Finding]):
    """The findings of one exchange, filtered by the service's mode and checked against its
    rule catalogue (when given)."""

    def __init__(self, mode: str = "report", rules: Mapping[str, Rule] | None = None):
        super().__init__()
        self.mode = mode
        self.rules = rules

    def add(
        self, rule: str, severity: Severity, message: str, reference: str = "", location: str = ""
    ) -> None:
        if self.rules is not None:
            entry = self.rules.get(rule)
            if entry is None:
                raise UnknownRule(f"finding rule {rule!r} is not in the service's catalogue")
            reference = reference or entry.reference
        if self.mode != "off":
            self.append(Finding(rule, severity, message, reference, location))

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self if f.severity == "error"]

    @property
    def refuse(self) -> bool:
        """In strict mode, an error finding makes the service refuse the message."""
        return self.mode == "strict" and bool(self.errors)
