"""The console without a browser (httpx on the shared sandbox, Flask's test client for a
process that runs some services only): the service pages mechanism (a package's `pages` module
mounted with no kernel edit; "service désactivé" in the navigation and a French 503 page while
the service is off), the English labels, body rendering (SOAP folding, JSON, JWT, MIME, a body
over 2 MB truncated with its whole download), control API errors shown with their message,
no 5xx on bad input, and the same-origin guard on forms."""

from __future__ import annotations

import re
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mocks.console import i18n, render
from mocks.console.contract import NavEntry, discover
from mocks.control.app import create_app
from mocks.registry import ServiceEntry, available
from mocks.runner import Runner
from mocks.testing import make_config

REPO = Path(__file__).resolve().parents[2]
# the console's own templates, the scoreboard's page, and every service's pages package
ROOTS = [REPO / "mocks/console", REPO / "mocks/scoreboard", *sorted(REPO.glob("*/pages"))]
LABEL = re.compile(r"""_\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')\s*\)""")


@pytest.fixture
def web(running_sandbox: Runner, console_tenant: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=running_sandbox.url("console"), timeout=30,
                      cookies={"segur_tenant": console_tenant}) as client:  # fmt: skip
        yield client


def test_every_template_label_has_its_english_text() -> None:
    labels = {m.group(1) or m.group(2) for base in ROOTS for p in base.rglob("*.html")
              for m in LABEL.finditer(p.read_text(encoding="utf-8"))}  # fmt: skip
    missing = sorted(label for label in labels if label not in i18n.english())
    assert len(labels) > 250 and missing == []


def test_english_toggle_translates_a_page(web: httpx.Client) -> None:
    web.cookies.set("segur_lang", "en")
    text = web.get("/defauts").text
    assert "Add the rule" in text and "Ajouter la règle" not in text and 'lang="en"' in text


@pytest.fixture
def partial(tmp_path: Path) -> Iterator[Runner]:
    """A process that runs the PKI only (not started: no listener), as a compose container."""
    runner = Runner(make_config(tmp_path, services="pki"))
    yield runner


def test_disabled_service_pages_say_so(partial: Runner) -> None:
    app = create_app(partial.sandbox, partial)
    client = app.test_client()
    home = client.get("/").get_data(as_text=True)
    nav = home[home.index('<nav class="main"') : home.index("</nav>")]
    assert re.search(r'href="/insi" class="disabled">INSi <small>\(service désactivé\)</small>', nav), nav
    assert "Pro Santé Connect <small>(service désactivé)</small>" in nav
    for path in ("/insi", "/psc"):
        answer = client.get(path)
        body = answer.get_data(as_text=True)
        assert answer.status_code == 503 and "Service désactivé" in body and "SEGUR_SERVICES" in body


def test_a_service_contributes_pages_without_a_kernel_edit(partial: Runner, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    name = "svc" + uuid.uuid4().hex[:8]
    package = tmp_path / name
    (package / "pages" / "templates" / name).mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "service.py").write_text(
        'from mocks.service import Service\nNAME = "demo"\nTITLE = "Service de démonstration"\n'
        "def create(sandbox):\n    return Service(sandbox)\n"
    )
    (package / "pages" / "__init__.py").write_text(
        textwrap.dedent(f'''
        from flask import Blueprint
        from markupsafe import Markup
        from mocks.console import NavEntry, Panel, control, page, tenant
        blueprint = Blueprint("{name}_pages", __name__, template_folder="templates")
        NAV = [NavEntry("", "Démo", "Demo"), NavEntry("/autre", "Démo bis")]
        @blueprint.get("")
        def home():
            return page("{name}/home.html", "Démo", count=len(control().get("/tenants")), t=tenant())
        def persona_panels(kind, persona):
            return [Panel("Panneau démo", Markup('<p id="demo-panel">vu</p>'))] if kind == "structure" else []
        ''')
    )
    (package / "pages" / "templates" / name / "home.html").write_text(
        '{% extends "console/base.html" %}{% block main %}<h1>Démo</h1><p id="n">{{ count }} {{ t }}</p>{% endblock %}'
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    entry = ServiceEntry("demo", __import__(f"{name}.service", fromlist=["x"]))
    [found] = discover({"demo": entry})
    assert found.nav == [NavEntry("", "Démo", "Demo"), NavEntry("/autre", "Démo bis")]
    partial.sandbox.__dict__["services"] = {**available(), "demo": entry}
    partial.sandbox.set_status("demo", "ready")
    client = create_app(partial.sandbox, partial).test_client()
    page = client.get("/demo")
    assert page.status_code == 200 and '<p id="n">1 default</p>' in page.get_data(as_text=True)
    assert 'href="/demo" aria-current="page">Démo</a>' in page.get_data(as_text=True)
    assert 'href="/demo/autre">Démo bis</a>' in page.get_data(as_text=True)
    assert 'id="demo-panel"' in client.get("/personas/structures/1750000010").get_data(as_text=True)
    sys.modules.pop(f"{name}.service", None)


def test_contract_errors_are_named() -> None:
    class Bad(ServiceEntry):
        def part(self, name: str) -> Any:
            module = type(sys)("bad.pages")
            module.blueprint = object()  # type: ignore[attr-defined]
            return module

    with pytest.raises(TypeError, match="bad.pages: `blueprint` must be a flask.Blueprint"):
        discover({"bad": Bad("bad", type(sys)("bad.service"))})


def test_persona_panels_of_insi_and_psc(web: httpx.Client) -> None:
    patient = web.get("/personas/patients/insi-de-vinci-leonardo")
    if patient.status_code == 404:  # the CR 02 pair of the public identities, by search
        found = web.get("/_sandbox/personas/search", params={"q": "DE VINCI"}).json()["patients"]
        patient = web.get(f"/personas/patients/{found[0]['id']}")
    text = patient.text
    assert 'id="insi-attendu"' in text and "CR 02" in text and "Homonymes" in text
    magic = web.get("/personas/patients/magic-erreur-technique").text
    assert 'id="insi-error"' in magic and "<code>insi_102</code>" in magic
    doctor = web.get("/personas/professionals/810100000016").text
    assert 'id="psc-connexion"' in doctor and "login hint" in doctor and "/auth?" in doctor


def test_bodies_rendered_for_reading() -> None:
    soap = '<s:Envelope xmlns:s="urn:s"><s:Body><a x="1">t</a><!-- c --></s:Body></s:Envelope>'
    html = str(render.pretty(soap)["html"])
    assert html.count("<details open>") == 2 and "xmlns:s" in html and "&lt;a" in html
    assert render.pretty("<broken")["kind"] == "xml" and "<pre" in str(render.pretty("<broken")["html"])
    assert "&#34;b&#34;: 1" in str(render.pretty('{"a": {"b": 1}}')["html"])
    token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiI4MTAxMDAwMDAwMTYifQ.c2ln"
    view = render.pretty(f"grant_type=x&assertion={token}")
    assert view["kind"] == "form" and view["jwts"][0]["claims"] == {"sub": "810100000016"}
    mime = ('Content-Type: multipart/related; boundary="b"\r\n\r\n--b\r\nContent-Type: application/xop+xml\r\n\r\n'
            "<x/>\r\n--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=doc.pdf\r\n\r\n"
            "%PDF\r\n--b--\r\n")  # fmt: skip
    tree = str(render.pretty(mime)["html"])
    assert "multipart/related" in tree and "application/pdf" in tree and "doc.pdf" in tree


def test_a_body_over_2_mb_is_truncated_with_its_download(running_sandbox: Runner, web: httpx.Client,
                                                         console_tenant: str) -> None:  # fmt: skip
    big = "<r>" + "x" * (3 * 1024 * 1024) + "</r>"
    entry_id = running_sandbox.sandbox.journal.append(
        {
            "at": "2026-01-01T00:00:00Z",
            "tenant": console_tenant,
            "service": "insi",
            "operation": "gros",
            "status": 200,
            "request_body": "<q/>",
            "response_body": big,
        }  # fmt: skip
    )
    page = web.get(f"/journal/{entry_id}")
    assert page.status_code == 200 and 'id="response-truncated"' in page.text
    assert len(page.text) < 2.5 * 1024 * 1024
    download = web.get(f"/journal/{entry_id}/corps/reponse")
    assert download.status_code == 200 and download.text == big
    assert "attachment" in download.headers["content-disposition"]


def test_control_api_errors_are_shown_with_their_message(web: httpx.Client) -> None:
    bad = web.get("/journal", params={"status": "abc"})
    assert bad.status_code == 200 and "journal filter status must be an integer" in bad.text
    refused = web.post(
        "/defauts", data={"service": "insi", "error": "insi/no_such_error"}, follow_redirects=True
    )
    assert (
        "Règle refusée" in refused.text and "unknown error &#39;no_such_error&#39; for insi" in refused.text
    )
    clash = web.post("/tenants", data={"id": "default"}, follow_redirects=True)
    assert "tenant already exists: default" in clash.text


@pytest.mark.parametrize(
    ("method", "path", "data"),
    [
        ("GET", "/journal?page=-3&t=*&constats=peut-etre", None),
        ("GET", "/journal/flux?after=abc&status=x", None),
        ("GET", "/journal/1/corps/autre", None),
        ("GET", "/personas?q=%00%27%22<script>", None),
        ("GET", "/personas/cards/x", None),
        ("GET", "/pki?persona=<x>", None),
        ("GET", "/insi?page=zz", None),
        ("GET", "/preferences?tenant=nope", None),
        ("GET", "/preferences?next=https://evil.example/", None),
        ("POST", "/horloge", {"action": "freeze", "at": "pas une date"}),
        ("POST", "/horloge", {"action": "advance", "seconds": "-5"}),
        ("POST", "/horloge", {"action": "offset", "days": "1e308"}),
        ("POST", "/defauts", {"service": "nope"}),
        ("POST", "/defauts", {"service": "insi", "delay_ms": "beaucoup"}),
        ("POST", "/defauts/999999/supprimer", {}),
        ("POST", "/tenants", {"id": "Pas Valide!"}),
        ("POST", "/tenants/nope/reinitialiser", {}),
        ("POST", "/tenants/importer", {}),
        ("POST", "/pki/persona", {"persona": "nobody", "kind": "cps_auth", "action": "revoke"}),
        ("POST", "/pki/persona", {"persona": "810100000016", "kind": "nope", "action": "renew"}),
        ("POST", "/pki/certificats/00/revoquer", {}),
        ("POST", "/psc/demandes/nope/approuver", {}),
        ("POST", "/psc/approbation-automatique", {"after_seconds": "-9"}),
    ],
)
def test_bad_input_never_gets_a_5xx(
    web: httpx.Client, method: str, path: str, data: dict[str, str] | None
) -> None:
    answer = web.request(method, path, data=data, follow_redirects=True, timeout=30)
    assert answer.status_code < 500, answer.text[:500]
    assert "Traceback" not in answer.text
    if answer.headers.get("content-type", "").startswith("text/html"):
        assert 'lang="fr"' in answer.text


def test_stream_ends_and_resumes(web: httpx.Client) -> None:
    with web.stream("GET", "/journal/flux", headers={"Last-Event-ID": "1"}, timeout=30) as events:
        assert events.headers["content-type"].startswith("text/event-stream")
        first = next(events.iter_lines())
        assert first == "retry: 250"


def test_forms_from_another_site_are_refused(web: httpx.Client) -> None:
    answer = web.post("/defauts/tout-supprimer", headers={"Origin": "http://evil.example"})
    assert answer.status_code == 403 and "autre site" in answer.text
    own = web.post("/defauts/tout-supprimer", headers={"Origin": str(web.base_url).rstrip("/")})
    assert own.status_code == 303
