"""A search request read into a `Query`, refusing what the server refuses (research mssante.md 1.6,
3.3; the messages are the ANS server's, fr.ans.afas.fhirserver.http.FhirRequestParser):

- an unknown parameter: "Parameter X not found for resource Y" (`mailbox-mss-type`, `_summary`,
  `_type`, `_sort`...), also for an `_include` / `_revinclude` the type does not announce;
- a malformed `_count`: "The _count parameter must be in the FHIR format with an integer value";
  `_count` above the limit (1000): "The Fhir _count parameter is limited to 1000";
- a `_lastUpdated` prefix other than gt / ge / eq, or a date that does not parse;
- a modifier the parameter does not have, a repeated parameter, a bad `_total` (sandbox rules,
  [inferred]: the live server's answers to these are not public).

Values separated by commas are alternatives (OR), distinct parameters all apply (AND).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from annuaire.params import DATE_PREFIXES, INCLUDES, PARAMS, RESULT_PARAMS, REVINCLUDES, TOTAL_MODES

DEFAULT_COUNT = 50
MAX_COUNT = 1000
PARIS = ZoneInfo("Europe/Paris")
DATE_RE = re.compile(
    r"^(?P<y>\d{4})(?:-(?P<m>\d{2})(?:-(?P<d>\d{2})(?:T(?P<H>\d{2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:\.(?P<f>\d{1,9}))?)?"
    r"(?P<tz>Z|[+-]\d{2}:\d{2})?)?)?)?$"
)
COST = {"token": 0, "reference": 0, "string": 1, "date": 2}  # cheapest clause first


class QueryError(Exception):
    """A refusal: `error` names the catalogue entry, `text` is the diagnostics."""

    def __init__(self, error: str, text: str, parameter: str = ""):
        super().__init__(text)
        self.error, self.text, self.parameter = error, text, parameter


@dataclass(frozen=True)
class DateValue:
    prefix: str
    low: datetime
    high: datetime  # exclusive

    def matches(self, moment: datetime) -> bool:
        if self.prefix == "gt":
            return moment >= self.high
        if self.prefix == "ge":
            return moment >= self.low
        return self.low <= moment < self.high


@dataclass
class Clause:
    name: str
    modifier: str | None
    values: list[Any]
    type: str = "string"

    @property
    def cost(self) -> int:
        return COST[self.type] + (3 if self.modifier in ("contains", "text", "not") else 0)


@dataclass
class Query:
    type: str
    clauses: list[Clause] = field(default_factory=list)
    count: int = DEFAULT_COUNT
    count_given: bool = False
    total: str = ""  # "", none, estimate, accurate
    include: list[str] = field(default_factory=list)
    revinclude: list[str] = field(default_factory=list)
    elements: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # accepted and ignored (_offset)
    format: str = ""
    pretty: bool = False

    @property
    def text_search(self) -> bool:
        """A `:contains` string search: the live server leaves the total out of such answers."""
        return any(c.type == "string" and c.modifier in ("contains", "text") for c in self.clauses)

    def persona(self) -> str:
        """What the journal and fault rules name as the subject: an identifier, else a mailbox."""
        for name in ("identifier", "mailbox-mss", "_id"):
            for c in self.clauses:
                if c.name == name and c.values:
                    value = str(c.values[0])
                    return value.rpartition("|")[2]
        return ""


def _not_found(name: str, kind: str) -> QueryError:
    return QueryError("unknown_parameter", f"Parameter {name} not found for resource {kind}", name)


def parse_date(text: str) -> DateValue:
    prefix, value = "eq", text
    if len(text) >= 2 and text[:2].isalpha():
        prefix, value = text[:2], text[2:]
        if prefix not in DATE_PREFIXES:
            if prefix in ("lt", "le", "ne", "sa", "eb", "ap"):
                raise QueryError("invalid_date", f"Prefix not supported: {prefix}", "_lastUpdated")
            raise QueryError("invalid_date", f'Invalid date/time format: "{text}"', "_lastUpdated")
    m = DATE_RE.match(value)
    if not m:
        raise QueryError("invalid_date", f'Invalid date/time format: "{text}"', "_lastUpdated")
    try:
        tz = PARIS if not m["tz"] else ZoneInfo("UTC") if m["tz"] == "Z" else _offset(m["tz"])
        y, mo, d = int(m["y"]), int(m["m"] or 1), int(m["d"] or 1)
        low = datetime(y, mo, d, int(m["H"] or 0), int(m["M"] or 0), int(m["S"] or 0), tzinfo=tz)  # type: ignore[arg-type]
    except ValueError:
        raise QueryError("invalid_date", f'Invalid date/time format: "{text}"', "_lastUpdated") from None
    if m["S"] is not None:
        high = low + timedelta(seconds=1)
    elif m["M"] is not None:
        high = low + timedelta(minutes=1)
    elif m["d"] is not None:
        high = low + timedelta(days=1)
    elif m["m"] is not None:
        high = low.replace(year=y + (mo == 12), month=mo % 12 + 1)
    else:
        high = low.replace(year=y + 1)
    return DateValue(prefix, low, high)


def _offset(text: str) -> Any:
    from datetime import timezone

    sign = -1 if text[0] == "-" else 1
    return timezone(sign * timedelta(hours=int(text[1:3]), minutes=int(text[4:6])))


def parse(kind: str, pairs: list[tuple[str, str]]) -> Query:
    """The Query of `kind` for the (name, value) pairs of a request (query string or form body)."""
    params = PARAMS[kind]
    query = Query(kind)
    seen: set[str] = set()
    for raw_name, raw_value in pairs:
        name, _, modifier = raw_name.partition(":")
        values = [v for v in raw_value.split(",") if v != ""]
        if name not in ("_include", "_revinclude"):
            if raw_name in seen:
                raise QueryError(
                    "repeated_parameter",
                    f"Parameter {raw_name} is repeated: give it once, with comma-separated values",
                    raw_name,
                )
            seen.add(raw_name)
        if name in RESULT_PARAMS:
            _result(query, name, values, raw_value)
            continue
        param = params.get(name)
        if param is None:
            raise _not_found(name, kind)
        if modifier and modifier not in param.modifiers:
            raise QueryError(
                "unknown_modifier",
                f"Modifier {modifier} not supported for parameter {name} of resource {kind}",
                raw_name,
            )
        if param.type == "date":
            query.clauses.append(Clause(name, None, [parse_date(v) for v in values], "date"))
        else:
            query.clauses.append(Clause(name, modifier or None, values, param.type))
    return query


def _result(query: Query, name: str, values: list[str], raw: str) -> None:
    kind = query.type
    if name == "_count":
        try:
            count = int(raw)
            if count < 0:
                raise ValueError(raw)
        except ValueError:
            raise QueryError(
                "invalid_count",
                'The _count parameter must be in the FHIR format with an integer value : "_count=30"',
                "_count",
            ) from None
        if count > MAX_COUNT:
            raise QueryError(
                "count_too_large", f"The Fhir _count parameter is limited to {MAX_COUNT}", "_count"
            )
        query.count, query.count_given = count, True
    elif name == "_total":
        if raw not in TOTAL_MODES:
            raise QueryError(
                "invalid_parameter", f"Invalid _total value: {raw} (none, estimate or accurate)", "_total"
            )
        query.total = raw
    elif name == "_include":
        for v in values:
            if v != "*" and v not in INCLUDES[kind]:
                raise _not_found(v, kind)
            query.include.append(v)
    elif name == "_revinclude":
        for v in values:
            if v not in REVINCLUDES[kind]:
                raise _not_found(v, kind)
            query.revinclude.append(v)
    elif name == "_elements":
        query.elements = values
    elif name == "_format":
        query.format = raw
    elif name == "_pretty":
        query.pretty = raw == "true"
    else:
        query.ignored.append(name)
