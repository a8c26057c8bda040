"""The requirement catalogue (`data/segur/requirements.yaml`): read, schema-checked, and checked
against what this build knows (evidence kinds and fields, service names, the findings rule catalogues of the services built).
Any problem is a `CatalogueError` naming the file and line, raised at start (the control app
mounts the scoreboard's blueprint), so a typo never becomes a rule that silently never matches.

The schema (pydantic models below; docs/scoreboard.md has the guide):

    requirements:
      - id: DOC.02              family + two digits, as the DSR numbers them
        va2_id: DOC/va1.12      optional
        family: DOC             a key of `families`
        nature: EXIGENCE        EXIGENCE (DOIT) or PRECONISATION (PEUT)
        text: "..."             our paraphrase, in French (never the ANS wording)
        automation: auto        auto | partial (the sandbox sees part of it) | manual
        proof: "..."            the official proof still to produce for the ANS
        rule: {type: evidence, ...}   required unless manual: see RULE_TYPES
        scenario: {window_minutes: 15}   optional: startable from the console and the API

Rule types: `evidence` (facts of a kind with field conditions), `journal` (exchanges of a
service with filters), `findings` (exchanges with no error finding of given rules), `tls`
(handshake outcomes on given listeners), `all_of` / `any_of` (compositions). A journal-based
rule whose operation or finding names are not settled carries `provisional: "<what to
wire>"`: it is evaluated NOT_OBSERVED until the flag is removed (and so is a rule of a service
absent from the build).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mocks.findings import Rule as FindingRule
from mocks.paths import DATA_FILES
from mocks.registry import SERVICES, available, optional_module
from mocks.runner import StartError
from mocks.scoreboard import conditions
from mocks.scoreboard.contract import EVIDENCE_FIELDS, EVIDENCE_META, JOURNAL_FIELDS, JOURNAL_LINK

DEFAULT_PATH = DATA_FILES / "segur" / "requirements.yaml"
# the project's services a rule may name; one absent from this build (a trimmed registry, a
# test's) is evaluated NOT_OBSERVED, not refused: only a name outside this list is a typo
PROJECT_SERVICES = ("pki", "insi", "psc", "annuaire", "mss", "dmp", "apcv")
ID_PATTERN = r"^[A-Za-z]+\.\d{2}$"


class CatalogueError(StartError):
    """The catalogue cannot be used: `file:line: what is wrong`."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


Conditions = dict[str, Any]


class Leaf(Strict):
    label: str = Field(description="what the rule expects, in French (shown in the report)")
    min_count: int = Field(1, ge=1, description="passing observations needed")
    provisional: str | None = Field(None, description="what must be wired before it is evaluated")


class EvidenceRule(Leaf):
    type: Literal["evidence"]
    kind: str
    where: Conditions | None = None  # which facts are attempts
    pass_: Conditions | None = Field(None, alias="pass")  # an attempt passes (else it fails)
    pending: Conditions | None = None  # an attempt without a verdict yet (ignored)


class JournalRule(Leaf):
    type: Literal["journal"]
    service: str
    operation: str | list[str] | None = None
    where: Conditions | None = None
    pass_: Conditions | None = Field(None, alias="pass")
    clean_of: list[str] = Field(default_factory=list)  # finding rules (globs) that make it fail
    severity: Literal["error", "warning"] = "error"


class FindingsRule(Leaf):
    type: Literal["findings"]
    service: str
    operation: str | list[str] | None = None
    where: Conditions | None = None
    pass_: Conditions | None = Field(None, alias="pass")
    rules: list[str] = Field(min_length=1)
    severity: Literal["error", "warning"] = "error"


class TlsRule(Leaf):
    type: Literal["tls"]
    service: str
    listeners: list[str] = Field(min_length=1)
    expect: Literal["aborted_by_client", "completed"]
    protocols: list[str] | None = None  # completed handshakes: allowed protocol versions
    ciphers: list[str] | None = None  # completed handshakes: allowed cipher suites


class AllOf(Strict):
    type: Literal["all_of"]
    rules: list[RuleSpec] = Field(min_length=2)


class AnyOf(Strict):
    type: Literal["any_of"]
    rules: list[RuleSpec] = Field(min_length=2)


RuleSpec = Annotated[
    Union[EvidenceRule, JournalRule, FindingsRule, TlsRule, AllOf, AnyOf],  # noqa: UP007 - pydantic tags
    Field(discriminator="type"),
]
RULE_TYPES = ("evidence", "journal", "findings", "tls", "all_of", "any_of")
AllOf.model_rebuild()
AnyOf.model_rebuild()


class Scenario(Strict):
    window_minutes: float | None = Field(None, gt=0, le=24 * 60)  # default: scoreboard_window_minutes
    title: str | None = None


class Requirement(Strict):
    id: str = Field(pattern=ID_PATTERN)
    va2_id: str | None = None
    family: str
    nature: Literal["EXIGENCE", "PRECONISATION"]
    text: str = Field(min_length=10)
    automation: Literal["auto", "partial", "manual"]
    proof: str = Field(min_length=3)
    rule: RuleSpec | None = None
    scenario: Scenario | None = None
    applicable: bool = True
    note: str = ""


class Family(Strict):
    title: str
    description: str = ""


class Link(Strict):
    kind: str
    label: str
    href: str  # with {subject}, {id}, {journal_id} or {data.<field>}
    service: str | None = None  # shown only while this service is part of the build
    provisional: str | None = None


class Rejected(Strict):
    counter: Literal["dmp", "mss"]
    service: str
    operation: str | list[str] | dict[str, Any]  # a name, names, or a condition ({startswith: ..})
    reason: str
    # also a refusal when answered 2xx with such an outcome (an XDS Failure RegistryResponse is HTTP 200)
    outcome: str | list[str] | dict[str, Any] | None = None
    provisional: str | None = None


class Balance(Strict):
    source: str
    rejected: list[Rejected] = Field(default_factory=list)


class CatalogueModel(Strict):
    version: int
    title: str
    source: str
    disclaimer: str
    families: dict[str, Family]
    links: list[Link] = Field(default_factory=list)
    balance: Balance
    requirements: list[Requirement] = Field(min_length=1)


@dataclass(frozen=True)
class Catalogue:
    path: Path
    model: CatalogueModel

    @cached_property
    def by_id(self) -> dict[str, Requirement]:
        return {r.id: r for r in self.model.requirements}

    @property
    def requirements(self) -> list[Requirement]:
        return self.model.requirements

    def automatable(self) -> list[Requirement]:
        return [r for r in self.requirements if r.automation != "manual"]


# -- reading ----------------------------------------------------------------------------------
def load(path: Path | str | None = None) -> Catalogue:
    path = Path(path) if path else DEFAULT_PATH
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CatalogueError(f"{path}: cannot read the requirement catalogue: {exc.strerror}") from None
    # libyaml's loader when present (5-10 times faster: this is read at every start); the node
    # tree, for line numbers, only when there is a problem to locate
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        data = yaml.load(text, Loader=loader)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise CatalogueError(f"{where}: not valid YAML: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(data, dict):
        raise CatalogueError(
            f"{path}:1: the catalogue must be a mapping (version, families, requirements...)"
        )
    try:
        model = CatalogueModel.model_validate(data)
    except ValidationError as exc:
        root = yaml.compose(text, Loader=loader)
        raise CatalogueError(_first_error(path, root, data, exc)) from None
    catalogue = Catalogue(path, model)
    problems = check(catalogue)
    if problems:
        loc, message = problems[0]
        more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
        root = yaml.compose(text, Loader=loader)
        raise CatalogueError(f"{path}:{_line(root, loc)}: {_where(data, loc)}{message}{more}")
    return catalogue


def _first_error(path: Path, root: yaml.Node, data: Any, exc: ValidationError) -> str:
    err = exc.errors()[0]
    loc = tuple(err["loc"])
    if err["type"] == "union_tag_invalid":
        tag = (err.get("ctx") or {}).get("tag")
        message = f"unknown rule type {tag!r}; valid: {', '.join(RULE_TYPES)}"
        return f"{path}:{_line(root, (*loc, 'type'))}: {_where(data, loc)}{message}"
    if err["type"] == "union_tag_not_found":
        message = f"a rule needs a type; valid: {', '.join(RULE_TYPES)}"
    elif err["type"] == "extra_forbidden":
        message = f"unknown key {loc[-1]!r}"
    elif err["type"] == "missing":
        message = f"missing key {loc[-1]!r}"
    else:
        message = f"{'.'.join(str(s) for s in loc)}: {err['msg']}"
    more = f" (and {exc.error_count() - 1} more problem(s))" if exc.error_count() > 1 else ""
    return f"{path}:{_line(root, loc)}: {_where(data, loc)}{message}{more}"


def _line(root: yaml.Node, loc: tuple[Any, ...]) -> int:
    """The 1-based line of the deepest node of `loc` found in the YAML tree (pydantic inserts
    union tags in paths: steps that are not keys are skipped)."""
    node = root
    for step in loc:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.value == step:
                    node = value if not isinstance(value, yaml.ScalarNode) or step != "type" else key
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step < len(node.value):
            node = node.value[step]
    return int(node.start_mark.line) + 1


def _where(data: Any, loc: tuple[Any, ...]) -> str:
    """`requirement DOC.02: ` when the problem is inside a requirement."""
    if len(loc) >= 2 and loc[0] == "requirements" and isinstance(loc[1], int):
        items = data.get("requirements") if isinstance(data, dict) else None
        if isinstance(items, list) and loc[1] < len(items) and isinstance(items[loc[1]], dict):
            return f"requirement {items[loc[1]].get('id', '#' + str(loc[1] + 1))}: "
    return ""


# -- checks against this build ------------------------------------------------------------------
def finding_rules(service: str) -> dict[str, FindingRule] | None:
    """The finding rules an exchange of `service` may carry (its catalogue and the kernel
    components'), None when the service is not part of this build."""
    from mocks.kernel import COMPONENT_RULES

    entry = available().get(service)
    if entry is None:
        return None
    merged: dict[str, FindingRule] = {}
    for module_path in COMPONENT_RULES.values():
        module = optional_module(module_path)
        merged.update(getattr(module, "RULES", None) or {})
    merged.update(entry.rules or {})
    return merged


def check(catalogue: Catalogue) -> list[tuple[tuple[Any, ...], str]]:
    """Problems as (location in the YAML, message); empty when the catalogue is usable."""
    model = catalogue.model
    problems: list[tuple[tuple[Any, ...], str]] = []
    seen: dict[str, int] = {}
    for i, req in enumerate(model.requirements):
        loc: tuple[Any, ...] = ("requirements", i)
        if req.id in seen:
            problems.append(((*loc, "id"), f"id {req.id} declared twice"))
        seen[req.id] = i
        if req.family not in model.families:
            problems.append(
                ((*loc, "family"), f"unknown family {req.family!r}; declared: {', '.join(model.families)}")
            )
        elif req.id.split(".")[0] != req.family:
            problems.append(((*loc, "id"), f"id {req.id} is not of family {req.family}"))
        if req.automation == "manual" and req.rule is not None:
            problems.append(((*loc, "rule"), "a manual requirement has no rule"))
        if req.automation != "manual" and req.rule is None:
            problems.append(((*loc, "automation"), f"automation {req.automation} needs a rule"))
        if req.scenario is not None and req.rule is None:
            problems.append(((*loc, "scenario"), "a scenario needs a rule"))
        if req.rule is not None:
            problems += _check_rule(req.rule, (*loc, "rule"))
    for i, link in enumerate(model.links):
        if link.kind not in EVIDENCE_FIELDS:
            problems.append((("links", i, "kind"), f"unknown evidence kind {link.kind!r}"))
    for i, rejected in enumerate(model.balance.rejected):
        problems += _check_service(rejected.service, rejected.provisional, ("balance", "rejected", i))
        for name in ("operation", "outcome"):
            spec = getattr(rejected, name)
            problem = None if spec is None else conditions.check_spec({name: spec})
            if problem:  # a condition ({startswith: ..}): its operators, at load
                problems.append((("balance", "rejected", i, name), problem))
    return problems


def _check_service(
    service: str, provisional: str | None, loc: tuple[Any, ...]
) -> list[tuple[tuple[Any, ...], str]]:
    if service not in SERVICES and service not in PROJECT_SERVICES:
        known = sorted({*SERVICES, *PROJECT_SERVICES})
        return [((*loc, "service"), f"unknown service {service!r}; known: {', '.join(known)}")]
    return []


def _check_rule(rule: Any, loc: tuple[Any, ...]) -> list[tuple[tuple[Any, ...], str]]:
    problems: list[tuple[tuple[Any, ...], str]] = []
    if isinstance(rule, AllOf | AnyOf):
        for i, part in enumerate(rule.rules):
            problems += _check_rule(part, (*loc, "rules", i))
        return problems
    if isinstance(rule, EvidenceRule):
        if rule.kind not in EVIDENCE_FIELDS:
            return [
                ((*loc, "kind"), f"unknown evidence kind {rule.kind!r}; known: {', '.join(EVIDENCE_FIELDS)}")
            ]
        allowed = {*EVIDENCE_FIELDS[rule.kind], *EVIDENCE_META, JOURNAL_LINK}
        for key in ("where", "pass_", "pending"):
            problems += _check_conditions(getattr(rule, key), allowed, (*loc, key.rstrip("_")))
        return problems
    problems += _check_service(rule.service, rule.provisional, loc)
    if isinstance(rule, JournalRule | FindingsRule):
        allowed = {*JOURNAL_FIELDS, "details", "findings"}
        for key in ("where", "pass_"):
            problems += _check_conditions(getattr(rule, key), allowed, (*loc, key.rstrip("_")))
        patterns = rule.rules if isinstance(rule, FindingsRule) else rule.clean_of
        known = finding_rules(rule.service) if not rule.provisional else None
        if known is not None:
            for pattern in patterns:
                if not fnmatch.filter(known, pattern):
                    key = "rules" if isinstance(rule, FindingsRule) else "clean_of"
                    problems.append(((*loc, key), f"no finding rule of {rule.service} matches {pattern!r}"))
    return problems


def _check_conditions(
    where: Mapping[str, Any] | None, allowed: set[str], loc: tuple[Any, ...]
) -> list[tuple[tuple[Any, ...], str]]:
    problem = conditions.check_spec(where)
    if problem:
        return [(loc, problem)]
    out = []
    for path in conditions.fields_of(where):
        if path.split(".")[0] not in allowed:
            out.append((loc, f"unknown field {path!r}; valid: {', '.join(sorted(allowed))}"))
    return out
