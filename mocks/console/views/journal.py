"""Journal: every exchange, newest first, paged on the server (a page is one LIMIT/OFFSET query
of /_sandbox/journal plus one count, so 10,000 entries cost what 50 do), with filters, live new
rows over server-sent events, and an entry's page (bodies pretty-printed, findings with their
French text and reference, copy-as-curl, the same trace and the same persona across services).

Live: `/journal/flux` streams `entry` events. It blocks on the kernel's long-poll
(/_sandbox/journal/wait?after_id=N), which wakes at once on an append in this process (100 ms
for another process's), then reads the new entries; each stream lasts at most STREAM_SECONDS and
the browser's EventSource reconnects with Last-Event-ID, so no thread is held for long.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

from flask import Response, get_template_attribute, request, stream_with_context

from mocks.console import render
from mocks.console.control import ControlError
from mocks.console.site import PageNotFound, bp, control, page, tenant

PAGE_SIZE = 50
STREAM_SECONDS = 15.0
WAIT_SLICE = 5.0
FILTERS = ("service", "operation", "persona", "status", "caller", "trace_id", "outcome", "rule")
ALL = "*"


def journal_filter() -> dict[str, Any]:
    """The page's filters as control API parameters (tenant: the selected one unless `*`)."""
    flt: dict[str, Any] = {k: request.args[k].strip() for k in FILTERS if request.args.get(k, "").strip()}
    shown = request.args.get("t") or tenant()
    if shown != ALL:
        flt["tenant"] = shown
    findings = request.args.get("constats")
    if findings in ("oui", "non"):
        flt["has_findings"] = "true" if findings == "oui" else "false"
    return flt


@bp.get("/journal")
def journal() -> Response:
    ctl = control()
    flt = journal_filter()
    try:
        number = max(1, int(request.args.get("page", "1")))
    except ValueError:
        number = 1
    error = ""
    try:
        total = ctl.get("/journal/count", **flt)["count"]
        entries = ctl.get("/journal", limit=PAGE_SIZE, offset=(number - 1) * PAGE_SIZE, **flt)
    except ControlError as exc:
        if exc.status != 400:
            raise
        total, entries, error = 0, [], exc.message  # a bad filter value: say which
    pages = max(1, -(-total // PAGE_SIZE))
    newest = entries[0]["id"] if entries and number == 1 else None
    if number == 1 and not error:
        last = ctl.get("/journal", limit=1, **flt)
        newest = last[0]["id"] if last else 0
    params = {k: v for k, v in request.args.items() if k != "page"}
    stream = "/journal/flux?" + urlencode({**params, "after": newest}) if number == 1 and not error else ""
    services = sorted(ctl.get("/info")["services"])
    return page(
        "console/journal.html",
        "Journal",
        entries=entries,
        total=total,
        number=number,
        pages=pages,
        params=params,
        query=lambda **kw: "/journal?" + urlencode({**params, **kw}),
        stream=stream,
        services=services,
        shown_tenant=request.args.get("t") or tenant(),
        filter_error=error,
        page_size=PAGE_SIZE,
    )


@bp.get("/journal/flux")
def stream() -> Response:
    """Server-sent events: one `entry` event per new journal entry matching the filters."""
    ctl = control()
    flt = journal_filter()
    try:
        after = int(request.headers.get("Last-Event-ID") or request.args.get("after") or 0)
    except ValueError:
        after = 0
    if not after:
        last = ctl.get("/journal", limit=1, **flt)
        after = last[0]["id"] if last else 0
    row = get_template_attribute("console/macros.html", "journal_row")
    show_tenant = "tenant" not in flt

    def events() -> Iterator[str]:
        nonlocal after
        yield "retry: 250\n\n"
        deadline = time.monotonic() + STREAM_SECONDS
        while (left := deadline - time.monotonic()) > 0:
            waited = ctl.raw(
                "GET", "/journal/wait", after_id=after, timeout=round(min(WAIT_SLICE, left), 2), **flt
            )
            if waited.status_code == 408:
                yield ": en attente\n\n"
                continue
            if waited.status_code >= 400:
                yield f"event: failure\ndata: {json.dumps(waited.get_data(as_text=True))}\n\n"
                return
            for entry in ctl.get("/journal", after_id=after, order="asc", limit=200, **flt):
                after = entry["id"]
                html = str(row(entry, show_tenant))
                yield f"id: {after}\nevent: entry\ndata: {json.dumps({'id': after, 'html': html})}\n\n"

    return Response(
        stream_with_context(events()),
        mimetype="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def _entry(entry_id: str) -> dict[str, Any]:
    if not entry_id.isdigit():
        raise PageNotFound(f"Entrée de journal inconnue : {entry_id}", "/journal", "Retour au journal")
    try:
        return dict(control().get(f"/journal/{entry_id}"))
    except ControlError as exc:
        if exc.status == 404:
            raise PageNotFound(
                f"Entrée de journal inconnue : {entry_id} (effacée, ou élaguée : le journal garde les plus récentes)",
                "/journal",
                "Retour au journal",
            ) from None
        raise


def _rules() -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for catalogue in control().get("/rules").values():
        for rule in catalogue:
            out[rule["id"]] = rule
    return out


@bp.get("/journal/<entry_id>")
def entry(entry_id: str) -> Response:
    ctl = control()
    e = _entry(entry_id)
    details = e.get("details") or {}
    req = details.get("request") or {}
    listener = details.get("listener") or e["service"]
    urls: dict[str, str] = {}
    for service in ctl.get("/info")["services"].values():
        urls.update(service.get("urls") or {})
    base = urls.get(listener, "")
    request_view = render.pretty(e.get("request_body"), req.get("content_type", ""))
    response_view = render.pretty(e.get("response_body"))
    trace = ctl.get("/journal", trace_id=e["trace_id"], order="asc", limit=50) if e.get("trace_id") else []
    persona = ctl.get("/journal", persona=e["persona"], limit=20) if e.get("persona") else []
    rules = _rules()
    findings = [
        {**f, "title": rules.get(f.get("rule", ""), {}).get("title", "")} for f in e.get("findings") or []
    ]
    curl = (
        render.curl(e, base, f"requete-{e['id']}.txt") if base and e.get("request_body") is not None else ""
    )
    return page(
        "console/entry.html",
        f"Échange n° {e['id']}",
        e=e,
        details=json.dumps(
            {k: v for k, v in details.items() if k != "request"}, ensure_ascii=False, indent=2
        ),
        req=req,
        request_view=request_view,
        response_view=response_view,
        trace=[t for t in trace if t["id"] != e["id"]],
        persona_entries=[p for p in persona if p["id"] != e["id"]],
        findings=findings,
        curl=curl,
        base=base,
    )


@bp.get("/journal/<entry_id>/corps/<which>")
def body(entry_id: str, which: str) -> Response:
    """A body as it was captured, as a download (the whole of it, however large)."""
    if which not in ("requete", "reponse"):
        raise PageNotFound(
            f"Corps inconnu : {which} (requete ou reponse)", f"/journal/{entry_id}", "Retour à l'échange"
        )
    e = _entry(entry_id)
    text = e.get("request_body" if which == "requete" else "response_body")
    if text is None:
        raise PageNotFound(
            "Ce corps n'a pas été conservé (SEGUR_JOURNAL_BODIES)",
            f"/journal/{entry_id}",
            "Retour à l'échange",
        )
    kind = render.kind_of(text[:4096])
    ext = {"xml": "xml", "json": "json"}.get(kind, "txt")
    return Response(
        text.encode("utf-8"),
        mimetype={"xml": "application/xml", "json": "application/json"}.get(kind, "text/plain"),
        headers={"Content-Disposition": f'attachment; filename="{which}-{entry_id}.{ext}"'},
    )
