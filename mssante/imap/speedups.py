"""pymap's byte formatting without Python 3.11's slow runtime protocol checks.

Every piece of every IMAP response goes through `pymap.bytes.BytesFormat.__mod__`, which asks
`isinstance(value, SupportsIndex)` and `isinstance(value, SupportsBytes)`: on Python 3.11 (the
image's) such a check walks the protocol's attributes each time, half the time of a FETCH of
envelopes. The same tests, done directly (Python 3.12 caches them; the answers are unchanged):
the value has a non-None `__index__` / `__bytes__`, as `typing`'s check requires.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pymap.bytes as pymap_bytes

ORIGINAL = (pymap_bytes.has_bytes, pymap_bytes.BytesFormat.__mod__)  # pymap's own, for the tests


def _has_bytes(value: object) -> bool:
    return isinstance(value, bytes) or getattr(value, "__bytes__", None) is not None


def _mod(self: pymap_bytes.BytesFormat, other: Any) -> bytes:
    if getattr(other, "__index__", None) is not None or _has_bytes(other):
        return self.format([other])
    if isinstance(other, Iterable):
        return self.format(other)
    raise NotImplementedError()


def install() -> None:
    """Once per process, before the first IMAP response (idempotent)."""
    pymap_bytes.has_bytes = _has_bytes  # type: ignore[assignment]
    pymap_bytes.BytesFormat.__mod__ = _mod  # type: ignore[method-assign]
