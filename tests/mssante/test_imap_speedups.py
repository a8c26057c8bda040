"""mssante.imap.speedups: pymap's byte formatting, faster on Python 3.11, answers unchanged."""

from __future__ import annotations

from typing import Any

import pytest
from pymap.bytes import BytesFormat
from pymap.parsing.primitives import List, Nil, Number, String

from mssante.imap import speedups

VALUES: list[Any] = [b"x", 7, Number(3), Nil(), String.build(b"a b"), List([Number(1), Nil()])]


@pytest.mark.parametrize("value", VALUES + [[b"a", Number(2)], (Nil(), b"z"), "text", 1.5])
def test_same_answers_as_pymap(value: Any) -> None:
    has_bytes, mod = speedups.ORIGINAL
    assert speedups._has_bytes(value) == has_bytes(value)
    how = BytesFormat(b"<%b %b>" if isinstance(value, list | tuple) else b"<%b>")
    try:
        expected: Any = mod(how, value)
    except Exception as exc:  # noqa: BLE001 - the same refusal is expected
        expected = type(exc)
    try:
        got: Any = speedups._mod(how, value)
    except Exception as exc:  # noqa: BLE001
        got = type(exc)
    assert got == expected
