"""Annuaire wire format: the parameters an LGC sends, the bytes the API answers.

- Parameters are split like the ANS server does (FhirRequestParser.parseParameters): `&`, first
  `=`, URL-decoded (`+` is a space), modifier after `:`, values on `,` (annuaire.query).
- API v2 Bundles are written byte for byte as the ANS server's FhirBundleBuilder does (research
  mssante.md 1.6; ansforge/annuaire-sante-fhir-serveur): `{"resourceType": "Bundle","type":
  "searchset","id": "<uuid>","total":N,"entry": [` then one `\\n{"fullUrl":...,"resource":...}` per
  entry, then `],"link": [ {"relation": "next","url": ".../fhir/v2/_page?id=..."}, {"relation":
  "self","url": "..."}]}`. No `search.mode`, `total` only when counted.
- API v1 Bundles have the HAPI shape (id, meta.lastUpdated, type, total, link self then next
  `?_getpages=..&_pageId=..&_bundletype=searchset`, entries with `search.mode`).
- Errors: `OperationOutcome` compact (`{"resourceType":"OperationOutcome","issue":[{"severity":
  "error","code":"exception","diagnostics":...}]}`, HAPI's R4 encoder), gateway JSON
  `{"message":...,"http_status_code":N}`, or the empty / text / HTML bodies of the catalogue.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote_plus

from annuaire.errors import ERRORS, FHIR
from mocks.errors import ServiceError
from mocks.harness import Protocol, Reply

if TYPE_CHECKING:
    from mocks.kernel import Exchange

SUBSETTED = {
    "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue",
    "code": "SUBSETTED",
    "display": "Resource encoded in summary mode",
}


def new_id() -> str:
    return str(uuid.uuid4())


def parse_pairs(text: str) -> list[tuple[str, str]]:
    """(name, value) pairs of a query string or form body, in order (empty names skipped)."""
    pairs = []
    for token in text.split("&"):
        if not token:
            continue
        name, eq, value = token.partition("=")
        name = unquote_plus(name)
        if name:
            pairs.append((name, unquote_plus(value) if eq else ""))
    return pairs


def compact(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


def operation_outcome(diagnostics: str, code: str = "exception") -> bytes:
    return compact(
        {
            "resourceType": "OperationOutcome",
            "issue": [{"severity": "error", "code": code, "diagnostics": diagnostics}],
        }
    )


def gateway_message(message: str, status: int) -> bytes:
    return compact({"message": message, "http_status_code": status})


def _json_str(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)[1:-1]


def bundle_v2(
    bundle_id: str,
    total: int | None,
    entries: Sequence[tuple[str, bytes]],
    next_url: str | None,
    self_url: str,
) -> bytes:
    """The v2 searchset as FhirBundleBuilder writes it; entries are (fullUrl, resource JSON)."""
    head = f'{{"resourceType": "Bundle","type": "searchset","id": "{bundle_id}",'
    if total is not None:
        head += f'"total":{total},'
    parts = [head.encode(), b'"entry": [']
    for i, (full_url, resource) in enumerate(entries):
        parts.append(b"," if i else b"")
        parts.append(b'\n{"fullUrl":"' + _json_str(full_url).encode() + b'","resource":' + resource + b"}")
    foot = '],"link": ['
    if next_url:
        foot += f' {{"relation": "next","url": "{_json_str(next_url)}"}},'
    foot += f' {{"relation": "self","url": "{_json_str(self_url)}"}}]}}'
    parts.append(foot.encode())
    return b"".join(parts)


def bundle_v1(
    bundle_id: str,
    updated: str,
    total: int | None,
    entries: Sequence[tuple[str, bytes, str]],
    next_url: str | None,
    self_url: str,
    pretty: bool,
) -> bytes:
    """The v1 (HAPI) searchset; entries are (fullUrl, resource JSON, search mode)."""
    links = [{"relation": "self", "url": self_url}]
    if next_url:
        links.append({"relation": "next", "url": next_url})
    head: dict[str, Any] = {
        "resourceType": "Bundle",
        "id": bundle_id,
        "meta": {"lastUpdated": updated},
        "type": "searchset",
    }
    if total is not None:
        head["total"] = total
    head["link"] = links
    body = compact(head)[:-1] + b',"entry":['
    body += b",".join(
        b'{"fullUrl":'
        + compact(url)
        + b',"resource":'
        + res
        + b',"search":{"mode":"'
        + mode.encode()
        + b'"}}'
        for url, res, mode in entries
    )
    body += b"]}"
    if pretty:
        return json.dumps(json.loads(body), ensure_ascii=False, indent=2).encode()
    return body


def subset(resource: bytes, elements: Sequence[str]) -> bytes:
    """`_elements`: the listed top-level elements (plus id and meta), tagged SUBSETTED."""
    data = json.loads(resource)
    keep = {"resourceType", "id", "meta", *elements}
    out = {k: v for k, v in data.items() if k in keep}
    meta = dict(out.get("meta", {}))
    meta["tag"] = [*meta.get("tag", []), SUBSETTED]
    out["meta"] = meta
    return compact(out)


def url_with(base: str, params: Sequence[tuple[str, str]]) -> str:
    return base + "?" + "&".join(f"{quote(k, safe=':_-')}={quote(v, safe='')}" for k, v in params)


def fhir_reply(status: int, body: bytes, headers: Sequence[tuple[str, str]] = ()) -> Reply:
    return Reply(status, body, FHIR, list(headers))


class AnnuaireProtocol(Protocol):
    """Writes catalogue errors in their layer's shape; harness refusals and crashes as the FHIR
    server's OperationOutcome."""

    def render(self, ex: Exchange, error: ServiceError) -> Reply:
        entry = error.error
        shape = entry.data.get("shape", "outcome")
        status = entry.http_status or 500
        headers = list(error.params.get("headers", []))
        text = error.text or getattr(entry, "body", "") or entry.description
        if shape == "outcome":
            return fhir_reply(
                status, operation_outcome(text, str(entry.data.get("code", "exception"))), headers
            )
        if shape == "gateway":
            return Reply(status, gateway_message(text, status), "application/json", headers)
        if shape == "empty":
            return Reply(status, b"", None, headers)
        content_type = getattr(entry, "content_type", "text/plain")
        return Reply(status, text.encode(), content_type, headers)

    def refusal(self, ex: Exchange, status: int, message: str) -> Reply:
        if status == 414:
            return Reply(414, str(getattr(ERRORS["uri_too_long"], "body", "")).encode(), "text/html")
        return fhir_reply(status, operation_outcome(message))

    def crash(self, ex: Exchange) -> Reply:
        return fhir_reply(500, operation_outcome("Unknown error"))
