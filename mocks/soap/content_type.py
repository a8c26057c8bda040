"""MIME Content-Type values (RFC 2045 §5.1): `type/subtype; name=value; name="quoted \\" value"`.

Tolerant the way SOAP stacks are: parameter names are case-insensitive, values may be tokens or
quoted strings with backslash escapes (CXF writes `start-info="application/soap+xml;
action=\\"urn:...\\""`), stray spaces and empty parameters are skipped, the first of duplicated
parameters wins. Never raises: an unreadable value gives an empty media type.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ContentType:
    """A parsed Content-Type: `media_type` lowercased (`multipart/related`), `params` by
    lowercase name with their values unquoted, `raw` as received."""

    media_type: str
    params: dict[str, str] = field(default_factory=dict)
    raw: str = ""

    def get(self, name: str, default: str | None = None) -> str | None:
        return self.params.get(name.lower(), default)

    @property
    def charset(self) -> str | None:
        return self.params.get("charset")

    @property
    def is_multipart(self) -> bool:
        return self.media_type.startswith("multipart/")


def parse_content_type(value: str | bytes | None) -> ContentType:
    if value is None:
        return ContentType("", {}, "")
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    head, _, rest = text.partition(";")
    return ContentType(head.strip().lower(), parse_params(rest), text)


def parse_params(text: str) -> dict[str, str]:
    """`name=value; name="value"` pairs (a leading `;` is allowed)."""
    params: dict[str, str] = {}
    i, n = 0, len(text)
    while i < n:
        while i < n and text[i] in " \t\r\n;":
            i += 1
        start = i
        while i < n and text[i] not in "=;":
            i += 1
        name = text[start:i].strip().lower()
        if i >= n or text[i] == ";":
            continue  # a parameter without a value: skipped
        i += 1  # '='
        while i < n and text[i] in " \t":
            i += 1
        if i < n and text[i] == '"':
            i += 1
            chars: list[str] = []
            while i < n and text[i] != '"':
                if text[i] == "\\" and i + 1 < n:
                    i += 1
                chars.append(text[i])
                i += 1
            i += 1  # closing quote (absent at the end of a truncated value: tolerated)
            value = "".join(chars)
            while i < n and text[i] != ";":
                i += 1  # anything between the closing quote and the next ';' is dropped
        else:
            start = i
            while i < n and text[i] != ";":
                i += 1
            value = text[start:i].strip()
        if name and name not in params:
            params[name] = value
    return params


def quote(value: str) -> str:
    """A parameter value as a quoted string (backslash before `"` and `\\`)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
