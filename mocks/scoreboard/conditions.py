"""Field conditions of the catalogue's rules (`where`, `pass`, `pending`), compiled once into
predicates over an observation (a fact's fields, or a journal entry's columns and details).

    where: {type_code: "11490-0", confidentiality: {contains: MASQUE_PS}, cda_errors: {gt: 0}}

A field is a dotted path (`details.caller.mode`, `journal.details.cda_report`). Its test is:

    a scalar or null        equal to it (`cda_errors: null`: no verdict yet)
    a list                  one of its values
    {eq|ne: v}              equal, different
    {in|not_in: [..]}       among, not among
    {gt|gte|lt|lte: n}      compared with a number (a missing or non-numeric field is false)
    {contains: v}           a list holding v, or a string holding the substring v
    {startswith: s}         a string starting with s
    {empty: true|false}     missing, null, "" or [] (or not)
    {any|all|none: {..}}    some / every / no element of a list matches the nested conditions
                            (`all` of an empty list is false: "every document qualified" needs one)

Several keys in one mapping must all hold. Unknown operators are refused by the loader
(mocks.scoreboard.catalogue), with the line.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

Predicate = Callable[[Mapping[str, Any]], bool]

OPERATORS = ("eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte", "contains", "startswith", "empty",
             "any", "all", "none")  # fmt: skip
NESTED = ("any", "all", "none")
MISSING = object()


def get(obj: Any, path: str) -> Any:
    """The value at a dotted path, MISSING when a step is absent."""
    for step in path.split("."):
        if isinstance(obj, Mapping) and step in obj:
            obj = obj[step]
        else:
            return MISSING
    return obj


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _is_empty(value: Any) -> bool:
    return value is MISSING or value is None or value == "" or value == [] or value == {}


def _test(op: str, arg: Any) -> Callable[[Any], bool]:
    """One operator's test of a value."""
    if op == "eq":
        return lambda v: v == arg or (arg is None and v is MISSING)
    if op == "ne":
        return lambda v: not (v == arg or (arg is None and v is MISSING))
    if op == "in":
        values = list(arg)
        return lambda v: v in values
    if op == "not_in":
        values = list(arg)
        return lambda v: v not in values
    if op in ("gt", "gte", "lt", "lte"):
        bound = float(arg)
        compare = {
            "gt": lambda n: n > bound,
            "gte": lambda n: n >= bound,
            "lt": lambda n: n < bound,
            "lte": lambda n: n <= bound,
        }[op]
        return lambda v: (n := _number(v)) is not None and compare(n)
    if op == "contains":
        return lambda v: (
            (isinstance(v, list) and arg in v) or (isinstance(v, str) and isinstance(arg, str) and arg in v)
        )
    if op == "startswith":
        return lambda v: isinstance(v, str) and v.startswith(str(arg))
    if op == "empty":
        want = bool(arg)
        return lambda v: _is_empty(v) == want
    nested = compile_where(arg)
    if op == "any":
        return lambda v: isinstance(v, list) and any(isinstance(e, Mapping) and nested(e) for e in v)
    if op == "all":
        return lambda v: (
            isinstance(v, list) and bool(v) and all(isinstance(e, Mapping) and nested(e) for e in v)
        )
    if op == "none":
        return lambda v: not isinstance(v, list) or not any(isinstance(e, Mapping) and nested(e) for e in v)
    raise ValueError(f"unknown operator {op!r}")


def _field_test(spec: Any) -> Callable[[Any], bool]:
    if isinstance(spec, Mapping):
        tests = [_test(op, arg) for op, arg in spec.items()]
        if len(tests) == 1:
            return tests[0]
        return lambda v: all(t(v) for t in tests)
    if isinstance(spec, list):
        return _test("in", spec)
    return _test("eq", spec)


def getter(path: str) -> Callable[[Any], Any]:
    """`get` for one path, compiled (rules test thousands of observations)."""
    # observations are plain dicts (JSON): isinstance(dict) is much cheaper than the ABC check
    if "." not in path:
        return lambda obj: obj.get(path, MISSING) if type(obj) is dict else MISSING
    steps = path.split(".")

    def walk(obj: Any) -> Any:
        for step in steps:
            if type(obj) is dict and step in obj:
                obj = obj[step]
            else:
                return MISSING
        return obj

    return walk


def compile_where(where: Mapping[str, Any] | None) -> Predicate:
    """A predicate that holds when every field's test holds (an empty mapping always holds)."""
    if not where:
        return lambda obs: True
    checks = [(getter(path), _field_test(spec)) for path, spec in where.items()]
    if len(checks) == 1:
        read, test = checks[0]
        return lambda obs: test(read(obs))
    if len(checks) == 2:
        (read1, test1), (read2, test2) = checks
        return lambda obs: test1(read1(obs)) and test2(read2(obs))
    return lambda obs: all(test(read(obs)) for read, test in checks)


def fields_of(where: Mapping[str, Any] | None) -> list[str]:
    """The top-level field paths a mapping tests (nested `any`/`all` fields are the list's)."""
    return list((where or {}).keys())


def check_spec(where: Any, nested_ok: bool = True) -> str | None:
    """Why a condition mapping is malformed (None: it is fine)."""
    if where is None:
        return None
    if not isinstance(where, Mapping):
        return "conditions must be a mapping of field: test"
    for path, spec in where.items():
        if not isinstance(path, str) or not path:
            return f"field {path!r}: a dotted name is expected"
        if isinstance(spec, Mapping):
            for op, arg in spec.items():
                if op not in OPERATORS:
                    return f"field {path}: unknown operator {op!r}; valid: {', '.join(OPERATORS)}"
                if op in NESTED:
                    problem = check_spec(arg)
                    if problem:
                        return f"field {path}.{op}: {problem}"
                elif op in ("in", "not_in") and not isinstance(arg, list):
                    return f"field {path}: {op} takes a list"
                elif op in ("gt", "gte", "lt", "lte") and _number(arg) is None:
                    return f"field {path}: {op} takes a number"
    return None
