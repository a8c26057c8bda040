"""MTOM / XOP packages (`multipart/related`, RFC 2387 + W3C XOP): read any, write Apache CXF's.

    parse_multipart(body, content_type) -> Multipart    parts as bytes, root by `start` or first
    Multipart.part(ref)                                 a part by "cid:..." href or Content-ID
    cxf_package(envelope, attachments) -> (content_type, body)   the bytes CXF writes
    CxfIds().next()                                     "<uuid>-N@urn%3Aihe%3Aiti%3Axds-b%3A2007"

Reading is bytes-level (`bytes.find` on the delimiter, no email.parser): any boundary, taken from
the Content-Type or, as CXF's AttachmentDeserializer does, from the body's first line when the
Content-Type has none; CRLF or bare LF line ends (the official TD2.1 capture has LF only);
transfer encodings `binary`, `8bit`, `7bit`, `base64`, `quoted-printable`; any charset (a part's
bytes are never re-encoded: `charset=Cp1252` is kept as information); Content-ID with or without
`<>`, matched against `cid:` hrefs after URL-decoding both. Anything else is an InvalidMessage
(`multipart-*`), never another exception: tests/soap fuzz this with hypothesis.

Writing follows CXF's AttachmentSerializer (apache/cxf core/.../attachment/AttachmentSerializer
.java), which the DMP's ITI-43 answers come from (research dmp.md §1.2): boundary `uuid:<uuid4>`,
root `<root.message@cxf.apache.org>`, a CRLF before the first delimiter, each part's headers
`Content-Type`, `Content-Transfer-Encoding: binary`, `Content-ID`, the envelope and each
attachment followed directly by `CRLF--boundary`, and no CRLF after the closing `--`.
Attachment ids are CXF's AttachmentUtil.createContentID: one UUID per server process, a counter
shared by every message, `@` and the URL-encoded namespace of the element that holds the data.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import threading
import uuid as uuid_mod
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import quote_plus, unquote, unquote_plus

from mocks.soap.content_type import ContentType, parse_content_type
from mocks.soap.invalid import InvalidMessage
from mocks.soap.ns import MEDIA_TYPE, SoapVersion

MAX_PARTS = 100
MAX_HEADER_BYTES = 16 * 1024  # per part
IDENTITY = ("", "binary", "8bit", "7bit")
CXF_ROOT_ID = "root.message@cxf.apache.org"
XDS_NS = "urn:ihe:iti:xds-b:2007"


def normalise_cid(ref: str | None) -> str:
    """`cid:a%40b`, `<a@b>`, ` a@b ` -> `a@b` (the form to compare Content-IDs and hrefs)."""
    text = (ref or "").strip()
    if text[:4].lower() == "cid:":
        text = text[4:]
    if text.startswith("<") and text.endswith(">"):
        text = text[1:-1]
    return unquote(text.strip())


@dataclass(frozen=True)
class Part:
    """One MIME part: its headers as sent (name, value) and its decoded bytes."""

    headers: tuple[tuple[str, str], ...]
    data: bytes = field(repr=False)
    content_type: ContentType = field(default_factory=lambda: ContentType(""))
    content_id: str | None = None  # without <>, as written
    transfer_encoding: str = ""  # lowercased, "" when absent

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((v for k, v in self.headers if k.lower() == wanted), None)

    @property
    def charset(self) -> str | None:
        return self.content_type.charset

    @property
    def key(self) -> str:
        return normalise_cid(self.content_id)


@dataclass(frozen=True)
class Multipart:
    content_type: ContentType
    boundary: str
    parts: tuple[Part, ...]
    root_index: int = 0
    boundary_sniffed: bool = False  # the Content-Type had no boundary: read from the first line
    start_found: bool = True  # False: no `start` parameter (the first part is the root)

    @property
    def root(self) -> Part:
        return self.parts[self.root_index]

    @property
    def attachments(self) -> tuple[Part, ...]:
        return tuple(p for i, p in enumerate(self.parts) if i != self.root_index)

    def part(self, ref: str) -> Part | None:
        """The part a `cid:` href or a Content-ID names (URL-encoded or not, with or without <>)."""
        key = normalise_cid(ref)
        return next((p for p in self.parts if p.content_id is not None and p.key == key), None)


def _sniff_boundary(body: bytes) -> str:
    head = body[:4096]
    start = len(head) - len(head.lstrip(b"\r\n \t"))
    end = body.find(b"\n", start)
    line = body[start : end if end >= 0 else len(body)].rstrip(b"\r \t")
    if not line.startswith(b"--") or len(line) < 3:
        raise InvalidMessage("multipart-boundary", "multipart/related without a boundary parameter")
    return line[2:].decode("latin-1")


def _after_delimiter(body: bytes, at: int) -> tuple[str, int]:
    """What follows a delimiter ending at `at`: ("close", _), ("part", start of the part) or
    ("no", _) when it is no delimiter (a longer line that starts like one)."""
    if body.startswith(b"--", at):
        return "close", at + 2
    i, n = at, len(body)
    while i < n and body[i] in b" \t":
        i += 1  # transport padding
    if body.startswith(b"\r\n", i):
        return "part", i + 2
    if body.startswith(b"\n", i):
        return "part", i + 1
    return ("truncated", n) if i >= n else ("no", i)


def _headers(raw: bytes) -> list[tuple[str, str]]:
    if len(raw) > MAX_HEADER_BYTES:
        raise InvalidMessage("multipart-headers", f"part headers longer than {MAX_HEADER_BYTES} bytes")
    text = raw.decode("latin-1")
    headers: list[tuple[str, str]] = []
    for line in text.replace("\r\n", "\n").split("\n"):
        if not line:
            continue
        if line[0] in " \t" and headers:  # folded continuation line
            name, value = headers[-1]
            headers[-1] = (name, f"{value} {line.strip()}")
            continue
        name, colon, value = line.partition(":")
        if not colon or not name or name != name.strip() or any(c in name for c in ' \t"(),/;<>?@[\\]{}'):
            raise InvalidMessage("multipart-headers", f"unreadable part header line: {line[:80]!r}")
        headers.append((name, value.strip()))
    return headers


def _decode(data: bytes, encoding: str) -> bytes:
    if encoding in IDENTITY:
        return data
    if encoding == "base64":
        try:
            return base64.b64decode(data.translate(None, b" \t\r\n"), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise InvalidMessage("multipart-encoding", f"a base64 part cannot be decoded: {exc}") from None
    if encoding == "quoted-printable":
        return binascii.a2b_qp(data)
    raise InvalidMessage("multipart-encoding", f"Content-Transfer-Encoding {encoding!r} is not supported")


def _part(body: bytes, start: int, end: int) -> Part:
    """The part between `start` and `end` of `body` (its bytes are copied once)."""
    if body.startswith(b"\r\n", start, end):
        raw_headers, data = b"", body[start + 2 : end]
    elif body.startswith(b"\n", start, end):
        raw_headers, data = b"", body[start + 1 : end]
    else:
        window = min(end, start + MAX_HEADER_BYTES + 4)  # headers are short: never scan the data
        crlf, lf = body.find(b"\r\n\r\n", start, window), body.find(b"\n\n", start, window)
        if crlf >= 0 and (lf < 0 or crlf < lf):
            raw_headers, data = body[start:crlf], body[crlf + 4 : end]
        elif lf >= 0:
            raw_headers, data = body[start:lf], body[lf + 2 : end]
        elif end - start > MAX_HEADER_BYTES:
            raise InvalidMessage("multipart-headers", f"part headers longer than {MAX_HEADER_BYTES} bytes")
        else:  # headers only (an empty part whose blank line ends at the delimiter)
            raw_headers, data = body[start:end], b""
    headers = _headers(raw_headers)
    by_name = {k.lower(): v for k, v in reversed(headers)}  # the first of duplicates wins
    encoding = by_name.get("content-transfer-encoding", "").strip().lower()
    cid = by_name.get("content-id")
    if cid is not None:
        cid = cid.strip()
        if cid.startswith("<") and cid.endswith(">"):
            cid = cid[1:-1].strip()
    return Part(
        headers=tuple(headers),
        data=_decode(data, encoding),
        content_type=parse_content_type(by_name.get("content-type")),
        content_id=cid,
        transfer_encoding=encoding,
    )


def parse_multipart(
    body: bytes, content_type: str | ContentType | None, *, max_parts: int = MAX_PARTS
) -> Multipart:
    """Split a multipart/related body into its parts (InvalidMessage `multipart-*` otherwise)."""
    ct = content_type if isinstance(content_type, ContentType) else parse_content_type(content_type)
    boundary = ct.get("boundary") or ""
    sniffed = not boundary
    if sniffed:
        boundary = _sniff_boundary(body)
    delimiter = b"--" + boundary.encode("latin-1", "replace")
    # the first delimiter: at the very start or at a line start
    at = body.find(delimiter)
    while at > 0 and body[at - 1 : at] != b"\n":
        at = body.find(delimiter, at + 1)
    if at < 0:
        raise InvalidMessage("multipart-boundary", f"the boundary {boundary!r} is not in the body")
    kind, start = _after_delimiter(body, at + len(delimiter))
    parts: list[Part] = []
    next_delim = b"\n" + delimiter
    while True:
        if kind == "close":
            break
        if kind != "part":
            raise InvalidMessage("multipart-truncated", "the multipart body ends inside a delimiter line")
        search = start - 1  # the line break that ended the previous line can open the next delimiter
        while True:
            found = body.find(next_delim, search)
            if found < 0:
                raise InvalidMessage(
                    "multipart-truncated", f"no closing delimiter --{boundary}-- (truncated body?)"
                )
            kind, after = _after_delimiter(body, found + len(next_delim))
            if kind != "no":
                break
            search = found + 1
        end = found - 1 if found > 0 and body[found - 1 : found] == b"\r" else found
        if len(parts) >= max_parts:
            raise InvalidMessage("multipart-parts", f"more than {max_parts} parts")
        parts.append(_part(body, start, max(start, end)))
        start = after
    if not parts:
        raise InvalidMessage("multipart-truncated", "a multipart body without any part")
    start_param = ct.get("start")
    root_index = 0
    if start_param:
        key = normalise_cid(start_param)
        root_index = next((i for i, p in enumerate(parts) if p.content_id is not None and p.key == key), -1)
        if root_index < 0:
            raise InvalidMessage("multipart-root", f"no part has the start Content-ID {start_param}")
    return Multipart(ct, boundary, tuple(parts), root_index, sniffed, bool(start_param))


# -- writing, the CXF way ---------------------------------------------------------------------------
def java_urlencode(text: str) -> str:
    """java.net.URLEncoder.encode(text, UTF-8): letters, digits and `.-*_` kept, space as `+`."""
    return quote_plus(text, safe="*").replace("~", "%7E")


class CxfIds:
    """Attachment Content-IDs as CXF makes them: `<ATT_UUID>-<counter>@<URL-encoded namespace>`,
    one UUID for the server's lifetime and one counter for every attachment it writes."""

    def __init__(self, att_uuid: str | None = None, start: int = 0):
        self.att_uuid = att_uuid or str(uuid_mod.uuid4())
        self._counter = itertools.count(start + 1)
        self._lock = threading.Lock()

    def next(self, namespace: str = XDS_NS) -> str:
        """The id as CXF keeps it (and writes in the href after `cid:`)."""
        with self._lock:
            n = next(self._counter)
        return f"{self.att_uuid}-{n}@{java_urlencode(namespace)}"


@dataclass(frozen=True)
class Attachment:
    """An attachment to write: `cid` is CXF's id (URL-encoded namespace, as in the href)."""

    cid: str
    data: bytes = field(repr=False)
    content_type: str = "application/octet-stream"
    headers: tuple[tuple[str, str], ...] = ()  # extra headers (Content-Disposition...)

    @property
    def href(self) -> str:
        return f"cid:{self.cid}"

    @property
    def header_id(self) -> str:
        """The Content-ID header value (URL-decoded, as java.net.URLDecoder writes it)."""
        return unquote_plus(self.cid)


def _escape_quotes(params: str) -> str:
    return params.replace('"', '\\"')


def cxf_package(
    envelope: bytes,
    attachments: Sequence[Attachment] = (),
    *,
    version: SoapVersion = "1.2",
    action: str | None = None,
    boundary: str | None = None,
    root_id: str = CXF_ROOT_ID,
    encoding: str = "UTF-8",
) -> tuple[str, bytes]:
    """(HTTP Content-Type, body) of an MTOM package written as CXF writes it. `action` adds
    `; action="..."` to the SOAP media type (CXF does so on requests; its answers carry none)."""
    boundary = boundary or f"uuid:{uuid_mod.uuid4()}"
    body_ct = MEDIA_TYPE[version]
    params = f'; action="{action}"' if action else ""
    escaped = _escape_quotes(params)
    content_type = (
        f'multipart/related; type="application/xop+xml"; boundary="{boundary}"; '
        f'start="<{root_id}>"; start-info="{body_ct}{escaped}"'
    )
    root_ct = f'application/xop+xml; charset={encoding}; type="{body_ct}{escaped}"'
    chunks = [
        f"\r\n--{boundary}\r\nContent-Type: {root_ct}\r\nContent-Transfer-Encoding: binary\r\n"
        f"Content-ID: <{root_id}>\r\n\r\n".encode(),
        envelope,
    ]
    for att in attachments:
        extra = "".join(f"{k}: {v}\r\n" for k, v in att.headers)
        chunks.append(
            f"\r\n--{boundary}\r\nContent-Type: {att.content_type}\r\nContent-Transfer-Encoding: binary\r\n"
            f"Content-ID: <{att.header_id}>\r\n{extra}\r\n".encode()
        )
        chunks.append(att.data)
    chunks.append(f"\r\n--{boundary}--".encode())
    return content_type, b"".join(chunks)
