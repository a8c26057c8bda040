"""The English toggle: the console's labels in English (en.json: French label -> English).
Data (names, finding messages, error texts, notes of the personas) stays as the sandbox holds
it. tests/console/test_mechanism.py checks that every label of the templates has its entry."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

EN_FILE = Path(__file__).with_name("en.json")


@cache
def english() -> dict[str, str]:
    return dict(json.loads(EN_FILE.read_text(encoding="utf-8")))


def label(text: str, lang: str) -> str:
    if lang != "en" or not text:
        return text
    return english().get(text, text)
