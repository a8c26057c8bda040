"""XOP resolution: the bytes of each base64Binary element of an envelope, wherever they travel.

    includes(root, multipart) -> list[Binary]     every xop:Include of the tree, resolved
    content_of(element, multipart) -> Binary      one element's bytes: its xop:Include's part,
                                                  or its inline base64 text (DRIMbox sends some
                                                  documents inline, research dmp.md §2.4)
    unreferenced(multipart, binaries)             attachments no xop:Include points at

An xop:Include whose href names no part, or that has no `cid:` href, is an InvalidMessage
(`xop-missing-part`, `xop-href`); inline text that is not base64 is `base64`.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from typing import Literal

from lxml import etree

from mocks.soap.invalid import InvalidMessage
from mocks.soap.mtom import Multipart, Part, normalise_cid
from mocks.soap.ns import XOP

INCLUDE = f"{{{XOP}}}Include"


@dataclass(frozen=True)
class Binary:
    """The bytes of one element: `element` is the base64Binary element (the xop:Include's
    parent for MTOM), `source` says how they travelled."""

    element: etree._Element = field(repr=False)
    data: bytes = field(repr=False)
    source: Literal["xop", "inline"]
    href: str | None = None  # the xop:Include href as written
    part: Part | None = field(default=None, repr=False)

    @property
    def content_id(self) -> str | None:
        return self.part.content_id if self.part is not None else None


def _resolve(include: etree._Element, multipart: Multipart | None) -> Binary:
    href = include.get("href")
    parent = include.getparent()
    holder = parent if parent is not None else include
    if not href or not href.strip().lower().startswith("cid:"):
        raise InvalidMessage("xop-href", f"xop:Include without a cid: href ({href!r})")
    part = multipart.part(href) if multipart is not None else None
    if part is None or (multipart is not None and part is multipart.root):
        where = "the message is not multipart" if multipart is None else "no such MIME part"
        raise InvalidMessage("xop-missing-part", f"xop:Include href {href}: {where}")
    return Binary(holder, part.data, "xop", href, part)


def includes(root: etree._Element, multipart: Multipart | None) -> list[Binary]:
    """Every xop:Include under `root`, in document order, with the bytes of its part."""
    return [_resolve(inc, multipart) for inc in root.iter(INCLUDE)]


def content_of(element: etree._Element, multipart: Multipart | None) -> Binary:
    """The bytes `element` carries: through its xop:Include child, else its base64 text."""
    include = element.find(INCLUDE)
    if include is not None:
        return _resolve(include, multipart)
    text = "".join(element.itertext()).encode("ascii", "replace")
    try:
        data = base64.b64decode(text.translate(None, b" \t\r\n"), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidMessage("base64", f"{element.tag}: the content is not base64 ({exc})") from None
    return Binary(element, data, "inline")


def unreferenced(multipart: Multipart, binaries: list[Binary]) -> list[Part]:
    """Attachments of the package that no resolved xop:Include points at."""
    used = {normalise_cid(b.content_id) for b in binaries if b.part is not None}
    return [p for p in multipart.attachments if p.key not in used]
