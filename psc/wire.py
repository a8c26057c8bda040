"""PSC's wire formats, parse and serialise only (no rule, no state): Keycloak's compact JSON with
its cache headers, forms and their duplicated parameters, HTTP Basic and Bearer credentials, the
authorization response (redirect with a query or a fragment, or Keycloak's auto-submitted
form_post page), and the journal's masked copy of a form. Research psc.md 2.2-2.9, 3.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode

from flask import Request, Response

from mocks.harness import Reply
from psc.login_pages import render

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
FORM = "application/x-www-form-urlencoded"
SECRET_FIELDS = ("client_secret", "code_verifier", "pin", "client_assertion", "access_token")
RESPONSE_MODES = ("query", "fragment", "form_post")

FORM_POST = """<HTML><HEAD><TITLE>Submit This Form</TITLE></HEAD><BODY Onload="javascript:document.forms[0].submit()">\
<FORM METHOD="POST" ACTION="{{ uri }}">{% for k, v in params.items() %}<INPUT TYPE="HIDDEN" NAME="{{ k }}" VALUE="{{ v }}"/>\
{% endfor %}<NOSCRIPT><P>JavaScript is disabled. Click Submit to continue.</P><INPUT name="continue" TYPE="SUBMIT" VALUE="Submit"/>\
</NOSCRIPT></FORM></BODY></HTML>"""


# -- JSON ---------------------------------------------------------------------------------------
def dumps(data: Any) -> str:
    """Keycloak's compact JSON (no spaces, UTF-8 kept)."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def json_response(data: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    return Response(dumps(data), status, {**NO_STORE, **(headers or {})}, mimetype="application/json")


def json_reply(body: str, status: int, headers: Mapping[str, str] | None = None) -> Reply:
    """The same bytes and header order as `json_response`, for the protocols (outside Flask)."""
    listed = [*NO_STORE.items(), *(headers or {}).items(), ("Content-Type", "application/json")]
    return Reply(status, body.encode("utf-8"), None, listed)


def reply_of(response: Response) -> Reply:
    """A Flask response as the harness's Reply (protocols build redirects and pages with Flask)."""
    return Reply(response.status_code, response.get_data(), None, list(response.headers.items()))


# -- forms and credentials ------------------------------------------------------------------------
def form_pairs(body: bytes, content_type: str | None) -> list[tuple[str, str]]:
    """The pairs of a form body (empty when the body is not a form)."""
    if (content_type or "").split(";")[0].strip().lower() != FORM:
        return []
    return parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)


def parse_qsl_query(query: str) -> list[tuple[str, str]]:
    return parse_qsl(query, keep_blank_values=True)


def first_values(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in pairs:
        out.setdefault(key, value)
    return out


def duplicated(pairs: Iterable[tuple[str, str]]) -> str | None:
    """The first parameter sent twice, if any."""
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            return key
        seen.add(key)
    return None


def request_form(request: Request) -> dict[str, str]:
    return {k: v for k, v in request.form.items()}


def basic_credentials(authorization: str | None) -> tuple[str, str] | None:
    """(client id, secret) of an HTTP Basic header (RFC 6749 2.3.1: form-urlencoded parts);
    None without a Basic header; ValueError when the header cannot be decoded."""
    if not authorization or not authorization.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(authorization[6:].strip()).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError("undecodable Basic credentials") from exc
    user, _, password = decoded.partition(":")
    return unquote(user), unquote(password)


def basic_client_id(authorization: str | None) -> str | None:
    try:
        found = basic_credentials(authorization)
    except ValueError:
        return None
    return found[0] if found else None


def bearer(request: Request) -> str:
    """An RFC 6750 bearer token: the Authorization header, else the `access_token` form field."""
    auth = request.headers.get("Authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return request.form.get("access_token") or ""


def journal_form(form: Mapping[str, str]) -> str:
    return urlencode({k: ("***" if k in SECRET_FIELDS else v) for k, v in form.items()})


# -- redirects and the authorization response -----------------------------------------------------
def with_query(uri: str, params: Mapping[str, str]) -> str:
    return uri + ("&" if "?" in uri else "?") + urlencode(params)


def redirect(location: str, status: int = 302) -> Response:
    return Response("", status, {"Location": location, "Cache-Control": "no-store"})


def deliver(uri: str, params: Mapping[str, str], mode: str = "query") -> Response:
    """The authorization response: a redirect with a query or a fragment, or an auto-submitted
    form (response_mode=form_post, as Keycloak renders it)."""
    if mode == "form_post":
        page = render(FORM_POST, uri=uri, params=dict(params))
        return Response(page, 200, {"Cache-Control": "no-store"}, mimetype="text/html")
    if mode == "fragment":
        return redirect(uri + "#" + urlencode(params), 302)
    return redirect(with_query(uri, params), 302)


def html_response(page: str, status: int = 200, no_store: bool = True) -> Response:
    headers = {"Cache-Control": "no-store"} if no_store else {}
    return Response(page, status, headers, mimetype="text/html")
