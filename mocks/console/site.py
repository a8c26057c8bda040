"""The console's frame: the blueprint every kernel page is a view of, the service pages mounted
beside it, the layout's context (navigation, tenant selector, sandbox clock, language and large
type), and the French error pages.

    mount(app, sandbox)   called by the control app (mocks/control/app.py) for its root `/`

Preferences are cookies (`segur_tenant`, `segur_lang`, `segur_large`): nothing is stored server
side. State changes are HTML forms (POST, then a redirect: the page works without JavaScript);
a POST from another site's page (its `Origin` is not this host) is refused.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

from flask import Blueprint, Flask, Response, current_app, g, redirect, render_template, request
from markupsafe import Markup
from werkzeug.exceptions import HTTPException, NotFound

from mocks.console import i18n
from mocks.console.contract import ServicePages, discover
from mocks.console.control import Control, ControlError

if TYPE_CHECKING:
    from mocks.kernel import Sandbox

log = logging.getLogger("segur.console")

bp = Blueprint("console", __name__, template_folder="templates", static_folder="static",
               static_url_path="/static/console")  # fmt: skip

TENANT_COOKIE, LANG_COOKIE, LARGE_COOKIE = "segur_tenant", "segur_lang", "segur_large"
YEAR = 365 * 86400

# Kernel pages in the navigation: (endpoint path, French label)
KERNEL_NAV = [
    ("/", "Accueil"),
    ("/personas", "Personas"),
    ("/journal", "Journal"),
    ("/defauts", "Défauts"),
    ("/horloge", "Horloge"),
    ("/tenants", "Tenants"),
    ("/pki", "PKI"),
    ("/preparation-segur", "Préparation Ségur"),
]
EXT = "segur_console"  # app.extensions key: {"control": Control, "pages": [ServicePages]}


class PageNotFound(NotFound):
    """A console 404 with what was not found, in French ("Persona inconnu : X")."""

    def __init__(self, message: str, back: str = "/", back_label: str = "Retour à l'accueil"):
        super().__init__(message)
        self.message, self.back, self.back_label = message, back, back_label


def control() -> Control:
    return current_app.extensions[EXT]["control"]  # type: ignore[no-any-return]


def service_pages() -> list[ServicePages]:
    return current_app.extensions[EXT]["pages"]  # type: ignore[no-any-return]


def _(text: str) -> str:
    """A label in the reader's language (French unless the English toggle is on)."""
    return i18n.label(text, lang())


def lang() -> str:
    return "en" if request.cookies.get(LANG_COOKIE) == "en" else "fr"


def tenant() -> str:
    """The tenant the reader looks at: `?tenant=` (404 page if unknown), else the cookie (back to
    `default` if that tenant is gone), else `default`."""
    if "tenant_id" in g:
        return str(g.tenant_id)
    ids = [t["id"] for t in tenants()]
    asked = request.args.get("tenant")
    if asked:
        if asked not in ids:
            raise PageNotFound(f"Tenant inconnu : {asked}", "/tenants", "Voir les tenants")
        g.tenant_id = asked
    else:
        cookie = request.cookies.get(TENANT_COOKIE, "default")
        g.tenant_id = cookie if cookie in ids else "default"
    return str(g.tenant_id)


def tenants() -> list[dict[str, Any]]:
    if "tenants" not in g:
        g.tenants = control().get("/tenants")
    return list(g.tenants)


def health() -> dict[str, Any]:
    if "health" not in g:
        g.health = control().get("/health")["services"]
    return dict(g.health)


def enabled(service: str) -> bool:
    return health().get(service, {}).get("state", "disabled") != "disabled"


def navigation() -> list[dict[str, Any]]:
    path = request.path
    items = [
        {
            "href": href,
            "label": _(label),
            "active": path == href or (href != "/" and path.startswith(href + "/")),
        }
        for href, label in KERNEL_NAV
    ]
    items[0]["active"] = path == "/"
    for pages in service_pages():
        on = enabled(pages.service)
        for entry in pages.nav:
            href = pages.prefix + entry.path
            label = entry.label_en if lang() == "en" and entry.label_en else entry.label
            items.append(
                {
                    "href": href,
                    "label": label,
                    "active": path == href or path.startswith(href + "/"),
                    "disabled": not on,
                    "service": pages.service,
                }
            )
    return items


def page(template: str, title: str, status: int = 200, **context: Any) -> Response:
    """A console page: `template` extends console/base.html; `title` is French (translated)."""
    try:
        current = tenant()
    except PageNotFound:
        current = "default"
    frame: dict[str, Any] = {
        "title": _(title),
        "nav": navigation(),
        "tenants": tenants(),
        "tenant": current,
        "clock": control().get("/clock", tenant=current),
        "lang": lang(),
        "large": request.cookies.get(LARGE_COOKIE) == "1",
        "here": request.full_path.rstrip("?"),
        "message": request.args.get("ok", ""),
        "error": request.args.get("erreur", ""),
    }
    html = render_template(template, **{**frame, **context})
    return Response(html, status, mimetype="text/html")


def done(location: str, ok: str = "", error: str = "") -> Response:
    """After a form: back to `location` with a French message (success or the API's error)."""
    params = {k: v for k, v in (("ok", ok), ("erreur", error)) if v}
    sep = "&" if "?" in location else "?"
    return redirect(location + (sep + urlencode(params) if params else ""), 303)  # type: ignore[return-value]


def back_to(default: str) -> str:
    """A local `next` URL (never another host), else `default`."""
    target = request.values.get("next") or default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/"):
        return default
    return target


# -- preferences ------------------------------------------------------------------------------
@bp.get("/preferences")
def preferences() -> Response:
    resp: Response = redirect(back_to("/"), 303)  # type: ignore[assignment]
    if "lang" in request.args:
        resp.set_cookie(
            LANG_COOKIE, "en" if request.args["lang"] == "en" else "fr", max_age=YEAR, samesite="Lax"
        )
    if "large" in request.args:
        resp.set_cookie(
            LARGE_COOKIE, "1" if request.args["large"] == "1" else "0", max_age=YEAR, samesite="Lax"
        )
    if "tenant" in request.args:
        asked = request.args["tenant"]
        if asked not in [t["id"] for t in tenants()]:
            raise PageNotFound(f"Tenant inconnu : {asked}", "/tenants", "Voir les tenants")
        resp.set_cookie(TENANT_COOKIE, asked, max_age=YEAR, samesite="Lax")
        resp.location = _without_tenant(resp.location or "/")
    return resp


def _without_tenant(location: str) -> str:
    parts = urlsplit(location)
    query = "&".join(p for p in parts.query.split("&") if p and not p.startswith("tenant="))
    return parts.path + ("?" + query if query else "")


# -- errors: French pages, never a traceback ---------------------------------------------------
def error_page(status: int, heading: str, message: str, back: str = "/", back_label: str = "") -> Response:
    try:
        return page("console/error.html", heading, status, heading=heading, detail=message, back=back,
                    back_label=back_label or "Retour à l'accueil")  # fmt: skip
    except Exception:  # noqa: BLE001 - the frame itself failed (control API down): a bare page
        log.exception("console: error page without its frame")
        body = Markup(
            '<!doctype html><html lang="fr"><meta charset="utf-8"><title>{0}</title>'
            '<h1>{0}</h1><p>{1}</p><p><a href="/">Retour à l\'accueil</a></p></html>'
        ).format(heading, message)
        return Response(str(body), status, mimetype="text/html")


@bp.errorhandler(ControlError)
def _control_error(exc: ControlError) -> Response:
    if exc.status == 404:
        return error_page(404, "Introuvable", exc.message, back_to("/"))
    heading = "L'API de contrôle a refusé la demande" if exc.status < 500 else "L'API de contrôle a échoué"
    return error_page(exc.status if exc.status < 500 else 502, heading, f"{exc.path} : {exc.message}")


@bp.errorhandler(PageNotFound)
def _page_not_found(exc: PageNotFound) -> Response:
    return error_page(404, "Page introuvable", exc.message, exc.back, exc.back_label)


@bp.errorhandler(HTTPException)
def _http(exc: HTTPException) -> Response:
    if exc.code == 404:
        return error_page(404, "Page introuvable", f"Rien à l'adresse {request.path}.")
    return error_page(exc.code or 400, "Demande impossible", exc.description or exc.name)


@bp.errorhandler(Exception)
def _crash(exc: Exception) -> Response:
    log.exception("console: %s %s failed", request.method, request.path)
    return error_page(500, "Erreur inattendue de la console", f"{type(exc).__name__} : {exc}")


@bp.before_app_request
def _same_origin() -> Response | None:
    """Refuse a console form posted from another site (the console has no login)."""
    if request.method == "GET" or request.path.startswith("/_sandbox/"):
        return None
    origin = request.headers.get("Origin")
    if origin and origin != "null" and urlsplit(origin).netloc != request.host:
        return error_page(403, "Demande refusée", "Formulaire envoyé depuis un autre site.")
    return None


# -- mounting ---------------------------------------------------------------------------------
def mount(app: Flask, sandbox: Sandbox) -> None:
    """The console at the root of the control app: kernel pages, then each service's pages at
    /<service>; a 404 outside /_sandbox/ becomes the French page."""
    from mocks.console import views  # noqa: F401 - registers the kernel pages on `bp`

    pages = discover(sandbox.services)
    app.extensions[EXT] = {"control": Control(app), "pages": pages}
    app.jinja_env.globals["_"] = _
    app.register_blueprint(bp)
    for sp in pages:
        _guard(sp)
        app.register_blueprint(sp.blueprint, url_prefix=sp.prefix, name=f"pages_{sp.service}")

    api_handler = app.error_handler_spec[None][None].get(HTTPException)

    def not_found(exc: HTTPException) -> Any:
        if request.path.startswith("/_sandbox") or api_handler is None:
            return api_handler(exc) if api_handler else exc
        return error_page(404, "Page introuvable", f"Rien à l'adresse {request.path}.")

    app.register_error_handler(404, not_found)


def _guard(sp: ServicePages) -> None:
    """A service's pages answer "service désactivé" while no process runs the service, and
    their errors get the console's French pages."""

    if getattr(sp.blueprint, "_segur_guarded", False):  # another app of this process mounted it
        return
    sp.blueprint._segur_guarded = True  # type: ignore[attr-defined]

    def disabled() -> Response | None:
        if not enabled(sp.service):
            return error_page(503, "Service désactivé",
                              f"{sp.title} n'est lancé par aucun processus de ce bac à sable "
                              f"(SEGUR_SERVICES).")  # fmt: skip
        return None

    sp.blueprint.before_request(disabled)
    sp.blueprint.register_error_handler(ControlError, _control_error)
    sp.blueprint.register_error_handler(PageNotFound, _page_not_found)
    sp.blueprint.register_error_handler(HTTPException, _http)
    sp.blueprint.register_error_handler(Exception, _crash)
