"""Bodies as a reader wants them: SOAP/XML folded element by element, JSON indented, JWTs
decoded (header and claims, signature not checked: the journal shows what was sent), MIME as a
tree of parts, form fields as a table; and a journal entry as a curl command.

Every function takes text the journal holds and returns escaped HTML (markupsafe.Markup);
nothing here raises on bad input: what cannot be parsed is shown as plain text.
"""

from __future__ import annotations

import base64
import binascii
import email
import email.policy
import json
import re
import shlex
from typing import Any
from urllib.parse import parse_qsl

from lxml import etree
from markupsafe import Markup

MAX_SHOWN = 2 * 1024 * 1024  # a body over 2 MB is shown truncated, with a download link
MAX_ELEMENTS = 4000  # past this, XML is shown as indented text (folding would be slow to draw)
JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_blank_text=True)


def kind_of(body: str, content_type: str = "") -> str:
    ct = content_type.lower()
    head = body.lstrip()[:200]
    if ct.startswith("multipart/") or (
        head[:13].lower() in ("mime-version:",) or head.lower().startswith("content-type: multipart")
    ):
        return "mime"
    if head.startswith("<"):
        return "xml"
    if head.startswith(("{", "[")):
        return "json"
    if "x-www-form-urlencoded" in ct or re.fullmatch(
        r"[\w.\-~%+]+=[^\s]*(&[\w.\-~%+]+=[^\s]*)*", body.strip()[:2000] or "-"
    ):
        return "form"
    return "text"


def pretty(body: str | None, content_type: str = "") -> dict[str, Any]:
    """{kind, html, truncated, size, jwts} for a journal body."""
    if body is None:
        return {"kind": "none", "html": Markup(""), "truncated": False, "size": 0, "jwts": []}
    size = len(body.encode("utf-8", "replace"))
    truncated = size > MAX_SHOWN
    shown = body[:MAX_SHOWN] if truncated else body
    kind = kind_of(shown, content_type)
    html: Markup | None = None
    if not truncated:
        if kind == "xml":
            html = xml_html(shown)
        elif kind == "json":
            html = json_html(shown)
        elif kind == "form":
            html = form_html(shown)
        elif kind == "mime":
            html = mime_html(shown, content_type)
    if html is None:
        html = Markup('<pre class="body" tabindex="0">{}</pre>').format(shown)
    return {"kind": kind, "html": html, "truncated": truncated, "size": size, "jwts": jwts(shown)}


# -- XML: folding ------------------------------------------------------------------------------
def _qname(el: Any) -> str:
    local = etree.QName(el).localname
    return f"{el.prefix}:{local}" if el.prefix else local


def _attrs(el: Any) -> Markup:
    parts = []
    nsmap = el.nsmap
    parent = el.getparent()
    inherited = parent.nsmap if parent is not None else {}
    for prefix, uri in nsmap.items():
        if inherited.get(prefix) != uri:
            name = f"xmlns:{prefix}" if prefix else "xmlns"
            parts.append(Markup(' <span class="attr">{}</span>="{}"').format(name, uri))
    for key, value in el.attrib.items():
        q = etree.QName(key)
        prefix = next((p for p, u in nsmap.items() if u == q.namespace and p), None) if q.namespace else None
        name = f"{prefix}:{q.localname}" if prefix else q.localname
        parts.append(Markup(' <span class="attr">{}</span>="{}"').format(name, value))
    return Markup("").join(parts)


def xml_html(text: str) -> Markup | None:
    try:
        root = etree.fromstring(text.encode("utf-8"), _PARSER)
    except (etree.XMLSyntaxError, ValueError):
        return None
    if sum(1 for _ in root.iter()) > MAX_ELEMENTS:
        return Markup('<pre class="body" tabindex="0">{}</pre>').format(
            etree.tostring(root, pretty_print=True, encoding="unicode")
        )
    return Markup('<div class="xml mono">{}</div>').format(_element(root, 0))


def _element(el: Any, depth: int) -> Markup:
    if not isinstance(el.tag, str):  # comment or processing instruction
        return Markup('<div class="note">{}</div>').format(etree.tostring(el, encoding="unicode"))
    name = _qname(el)
    open_tag = Markup('<span class="tag">&lt;{}</span>{}<span class="tag">&gt;</span>').format(
        name, _attrs(el)
    )
    close_tag = Markup('<span class="tag">&lt;/{}&gt;</span>').format(name)
    children = list(el)
    text = (el.text or "").strip()
    if not children:
        return Markup('<div>{}<span class="text">{}</span>{}</div>').format(open_tag, text, close_tag)
    inner = Markup("").join(_element(c, depth + 1) for c in children)
    if text:
        inner = Markup('<div class="text">{}</div>').format(text) + inner
    return Markup("<details open><summary>{}</summary>{}{}</details>").format(open_tag, inner, close_tag)


# -- JSON, forms, JWT ----------------------------------------------------------------------------
def json_html(text: str) -> Markup | None:
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return Markup('<pre class="body" tabindex="0">{}</pre>').format(
        json.dumps(data, ensure_ascii=False, indent=2)
    )


def form_html(text: str) -> Markup | None:
    pairs = parse_qsl(text.strip(), keep_blank_values=True)
    if not pairs:
        return None
    rows = Markup("").join(
        Markup('<tr><th scope="row" class="mono">{}</th><td class="mono">{}</td></tr>').format(k, v)
        for k, v in pairs
    )
    return Markup('<table class="form"><tbody>{}</tbody></table>').format(rows)


def _b64json(segment: str) -> Any:
    raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    return json.loads(raw)


def jwts(text: str) -> list[dict[str, Any]]:
    """Every JWT in a body, decoded: [{token, header, claims}] (at most 10)."""
    found = []
    for token in dict.fromkeys(JWT.findall(text or "")):
        head, payload, _sig = (token.split(".") + [""])[:3]
        try:
            found.append({"token": token, "header": _b64json(head), "claims": _b64json(payload)})
        except (ValueError, binascii.Error):
            continue
        if len(found) == 10:
            break
    return found


# -- MIME ----------------------------------------------------------------------------------------
def mime_html(text: str, content_type: str = "") -> Markup | None:
    raw = (
        text
        if text.lower().lstrip().startswith(("content-type", "mime-version"))
        else (f"Content-Type: {content_type}\r\n\r\n{text}" if content_type else text)
    )
    try:
        msg = email.message_from_string(raw, policy=email.policy.default)
    except Exception:  # noqa: BLE001 - the email package raises many kinds on broken input
        return None
    if not msg.is_multipart() and not msg.get_content_type().startswith("multipart"):
        return None
    return Markup('<ul class="mime">{}</ul>').format(_part(msg))


def _part(part: Any) -> Markup:
    ctype = part.get_content_type()
    name = part.get_filename() or ""
    extra = [f"{k}: {v}" for k, v in part.items() if k.lower() not in ("content-type",)][:6]
    label = Markup("<strong>{}</strong>{}{}").format(
        ctype,
        Markup(" — <code>{}</code>").format(name) if name else "",
        Markup('<br><span class="note">{}</span>').format("; ".join(extra)) if extra else "",
    )
    if part.is_multipart():
        kids = Markup("").join(_part(p) for p in part.iter_parts())
        return Markup("<li>{}<ul>{}</ul></li>").format(label, kids)
    payload = part.get_payload(decode=True) or b""
    preview = ""
    if ctype.startswith("text/") or ctype.endswith(("xml", "json")):
        preview = payload[:2000].decode("utf-8", "replace")
    body = (
        Markup('<pre class="body" tabindex="0">{}</pre>').format(preview)
        if preview
        else Markup('<span class="note">({} octets)</span>').format(len(payload))
    )
    return Markup("<li>{} {}</li>").format(label, body)


# -- copy as curl ----------------------------------------------------------------------------------
def curl(entry: dict[str, Any], base_url: str, body_file: str, inline_limit: int = 4096) -> str:
    """The request of a journal entry as a curl command (mTLS listeners get --cert/--key
    placeholders: the persona's credentials come from its page)."""
    req = entry.get("details", {}).get("request") or {}
    method = req.get("method") or "POST"
    path = req.get("path") or "/"
    query = req.get("query") or ""
    url = base_url.rstrip("/") + path + (f"?{query}" if query else "")
    parts = ["curl", "-sS"]
    if base_url.startswith("https"):
        parts += ["--cacert", "IGC-Sante-TEST.pem"]
        mode = (entry.get("details", {}).get("caller") or {}).get("mode") or entry.get("details", {}).get(
            "mode"
        )
        if mode == "mtls" or entry.get("details", {}).get("listener") == "insi":
            parts += ["--cert", "certificat.pem", "--key", "cle.pem"]
    if method != "GET":
        parts += ["-X", method]
    if entry.get("tenant") and entry["tenant"] != "default":
        parts += ["-H", f"X-Sandbox-Tenant: {entry['tenant']}"]
    if req.get("content_type"):
        parts += ["-H", f"Content-Type: {req['content_type']}"]
    body = entry.get("request_body")
    if body:
        if len(body) <= inline_limit:
            parts += ["--data-binary", body]
        else:
            parts += ["--data-binary", "@" + body_file]
    parts.append(url)
    return " ".join(shlex.quote(p) for p in parts)
