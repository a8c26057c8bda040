"""The Annuaire Santé's console pages (the console's page contract: mocks.console.contract).

- `/annuaire`: search practitioners, structures and MSSanté mailboxes the way an LGC does (name
  prefix / `:contains` / `:exact`, identifier with or without its system — RPPS, IDNPS, ADELI,
  FINESS, SIRET, IDNST —, mailbox address, postal code): the FHIR request is shown as the LGC
  writes it (with a curl command), each result links to its resource and its persona page;
  next pages follow the answer's own `next` link. The tenant's API keys (`ESANTE-API-KEY`) with
  copy buttons, a form that creates one and a button that revokes one; the URLs an LGC
  configures; the tenant's gateway options (read only: their effect is said, the page is not
  subject to them);
- `/annuaire/<type>/<id>`: a resource as the LGC gets it (pretty-printed JSON), its mailboxes,
  its references as links, its persona; a French 404 page for an unknown type or id;
- a persona panel on a professional's and a structure's page: their Annuaire resources (v2 and
  v1 ids, active or closed) and MSSanté mailboxes with their type (PER / ORG / APP / CAB);
- Accueil's URLs: the FHIR base, the extraction file, the liste blanche and its checksum.

Over the control API only: /_sandbox/annuaire/ (URLs, keys, options, /resources/<idNat> and the
FHIR preview /fhir/v2/… — the API's own answers, neither journaled nor metered), /_sandbox/config,
/_sandbox/personas.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, g, render_template, request
from markupsafe import Markup

from annuaire.pages import reading
from annuaire.pages.reading import Form, Search
from mocks.console import ControlError, NavEntry, PageNotFound, Panel, control, done, page, tenant
from mocks.console.site import enabled

blueprint = Blueprint("annuaire_pages", __name__, template_folder="templates")
NAV = [NavEntry("", "Annuaire Santé", "Annuaire Santé")]
PRESETS = {
    "down": "404 « No context-path matches the request URI. » sur chaque appel",
    "invalid-url": "502 « Request Failed: Invalid URL format »",
    "timeout": "504 sans corps",
    "large-count": "BadGateway (502 sans corps) pour _count > 1000",
}


def lgc_urls(service: dict[str, Any]) -> list[tuple[str, str]]:
    info = control().get("/annuaire/")
    return [
        ("API FHIR v2 (en-tête ESANTE-API-KEY)", info["fhir"]),
        ("Fichier d'extraction MSSanté (ZIP)", info["extraction"]),
        ("Liste blanche MSSanté", info["listeblanche"]),
        ("Empreinte de la liste blanche (SHA-256)", info["checksum"]),
    ]


# -- the FHIR preview -------------------------------------------------------------------------
def fhir(path: str, **params: str) -> tuple[int, Any]:
    """The FHIR API's answer for the reader's tenant (status, parsed JSON or None)."""
    resp = control().raw("GET", f"/annuaire/fhir/v2/{path}", tenant=tenant(), **params)
    try:
        data = json.loads(resp.data) if resp.data else None
    except ValueError:
        data = None
    return resp.status_code, data


def diagnostics(data: Any) -> str:
    """An OperationOutcome's text (or the gateway's message)."""
    if isinstance(data, dict):
        issues = data.get("issue") or []
        if issues:
            return str(issues[0].get("diagnostics", ""))
        if data.get("message") or data.get("error"):
            return str(data.get("message") or data.get("error"))
    return ""


def structure_page(national_id: str) -> str:
    """The console page of a structure persona, or "" (a FINESS legal entity has none)."""
    cache: dict[str, str] = g.setdefault("annuaire_structures", {})
    if national_id not in cache:
        found = control().raw("GET", f"/personas/structures/{national_id}").status_code == 200
        cache[national_id] = f"/personas/structures/{national_id}" if found else ""
    return cache[national_id]


def persona_href(resource: dict[str, Any] | None) -> str:
    who = reading.persona_of(resource or {})
    if who is None:
        return ""
    kind, national_id = who
    return (
        f"/personas/professionals/{national_id}" if kind == "professionals" else structure_page(national_id)
    )


def row(resource: dict[str, Any], included: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """What a results table shows of one resource (`included`: resources by "Type/id", for a
    situation d'exercice's professional and structure)."""
    kind, rid = resource.get("resourceType", ""), resource.get("id", "")
    name, owner = reading.display_name(resource), resource
    if kind == "PractitionerRole":  # a situation d'exercice: its professional is the persona
        who = included.get((resource.get("practitioner") or {}).get("reference", ""), {})
        where = included.get((resource.get("organization") or {}).get("reference", ""), {})
        owner = who
        name = " — ".join(reading.display_name(r) for r in (who, where) if r) or name
    return {
        "kind": kind,
        "id": rid,
        "href": f"/annuaire/{kind}/{rid}",
        "name": name,
        "identifiers": reading.identifiers(resource),
        "mailboxes": reading.mailboxes(resource),
        "place": reading.place(resource),
        "active": resource.get("active", True),
        "persona": persona_href(owner),
    }


@dataclass
class Result:
    """One FHIR search (or next page) and what the page shows of its answer."""

    kind: str
    url: str  # the request an LGC sends
    status: int = 200
    total: int | None = None
    rows: list[dict[str, Any]] = field(default_factory=list)
    next: str = ""  # the next page's opaque id
    error: str = ""


def result(kind: str, url: str, status: int, bundle: Any, known: dict[str, Any] | None = None) -> Result:
    if status != 200 or not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        return Result(kind, url, status, error=diagnostics(bundle) or f"HTTP {status}")
    resources = [e.get("resource") or {} for e in bundle.get("entry") or []]
    included = {**(known or {}), **{f"{r.get('resourceType')}/{r.get('id')}": r for r in resources}}
    rows = [row(r, included) for r in resources if r.get("resourceType") == kind]
    return Result(kind, url, status, bundle.get("total"), rows, reading.next_page(bundle))


def run(search: Search, base: str, known: dict[str, Any] | None = None) -> Result:
    status, bundle = fhir(search.kind, **dict(search.pairs))  # no repeated parameter here
    return result(search.kind, search.url(base), status, bundle, known)


@dataclass
class Keys:
    own: list[dict[str, Any]]  # the tenant's, oldest first
    shared: list[str]  # valid in every tenant (setting annuaire_api_keys)
    rate: Any  # setting annuaire_rate_limit

    @property
    def key(self) -> str:
        """The key a curl example uses: the tenant's newest, else a shared one."""
        return self.own[-1]["key"] if self.own else (self.shared[0] if self.shared else "")


def keys_of(current: str) -> Keys:
    ctl = control()
    settings = {c["name"]: c["value"] for c in ctl.get("/config")}
    shared = [k.strip() for k in str(settings.get("annuaire_api_keys") or "").split(",") if k.strip()]
    return Keys(ctl.get("/annuaire/keys", tenant=current), shared, settings.get("annuaire_rate_limit"))


def curl(url: str, key: str) -> str:
    return f"curl --cacert ca.pem -H 'ESANTE-API-KEY: {key or '$KEY'}' '{url}'"


# -- pages ------------------------------------------------------------------------------------
@blueprint.get("")
@blueprint.get("/")
def home() -> Response:
    ctl, current = control(), tenant()
    info = ctl.get("/annuaire/", tenant=current)
    keys = keys_of(current)
    form = Form.read(request.args)
    results: list[Result] = []
    page_id = request.args.get("page", "")
    if page_id:
        status, bundle = fhir("_page", id=page_id)
        kind = request.args.get("type", "")
        if kind not in reading.TYPE_LABELS and isinstance(bundle, dict) and bundle.get("entry"):
            kind = bundle["entry"][0]["resource"]["resourceType"]
        results = [result(kind, f"{info['fhir']}/_page?id={page_id}", status, bundle)]
    elif not form.empty:
        results = [run(s, info["fhir"]) for s in form.searches()]
    params = {k: v for k, v in request.args.items() if k not in ("page", "type", "ok", "erreur")}
    return page(
        "annuaire/home.html",
        "Annuaire Santé",
        info=info,
        form=form,
        results=results,
        own_keys=keys.own,
        shared_keys=keys.shared,
        rate_setting=keys.rate,
        curl=lambda url: curl(url, keys.key),
        keys_curl=(
            f"curl -X POST -H 'Content-Type: application/json' -d '{{\"label\": \"mon-lgc\"}}' "
            f"'{request.host_url}_sandbox/annuaire/keys?{urlencode({'tenant': current})}'"
        ),
        next_link=lambda r: "/annuaire?" + urlencode({**params, "page": r.next, "type": r.kind}),
        presets=PRESETS,
        what=reading.WHAT,
        match=reading.MATCH,
        systems=reading.ID_SYSTEMS,
        box_types=reading.MAILBOX_TYPES,
        type_labels=reading.TYPE_LABELS,
    )


@blueprint.get("/<kind>/<rid>")
def resource(kind: str, rid: str) -> Response:
    ctl, current = control(), tenant()
    status, data = fhir(f"{kind}/{rid}")
    if status == 404 or not isinstance(data, dict) or data.get("resourceType") != kind:
        raise PageNotFound(
            f"Ressource inconnue dans l'Annuaire : {kind}/{rid}", "/annuaire", "Retour à l'Annuaire Santé"
        )
    info = ctl.get("/annuaire/", tenant=current)
    url = f"{info['fhir']}/{kind}/{rid}"
    roles = None
    if kind in ("Practitioner", "Organization"):  # its situations d'exercice, as the LGC asks them
        other = "organization" if kind == "Practitioner" else "practitioner"
        search = Search("PractitionerRole", [(kind.lower(), f"{kind}/{rid}"),
                                             ("_include", f"PractitionerRole:{other}"), ("_count", "50")])  # fmt: skip
        roles = run(search, info["fhir"], {f"{kind}/{rid}": data})
    title = reading.display_name(data) or f"{kind}/{rid}"
    return page(
        "annuaire/resource.html",
        f"{title} — Annuaire Santé",
        kind=kind,
        rid=rid,
        r=row(data, {}),
        name=title,
        url=url,
        curl=curl(url, keys_of(current).key),
        raw=f"/_sandbox/annuaire/fhir/v2/{kind}/{rid}?" + urlencode({"tenant": current}),
        pretty=json.dumps(data, indent=2, ensure_ascii=False),
        references=[ref for ref in reading.references(data) if ref.partition("/")[0] in reading.TYPE_LABELS],
        roles=roles,
        persona=persona_href(data),
        box_types=reading.MAILBOX_TYPES,
        type_labels=reading.TYPE_LABELS,
    )


@blueprint.post("/cles")
def create_key() -> Response:
    label = request.form.get("libelle", "").strip() or "console"
    try:
        made = control().post("/annuaire/keys", {"label": label}, tenant=tenant())
    except ControlError as exc:
        return done("/annuaire", error=exc.message)
    return done("/annuaire", ok=f"Clé d'API créée : {made['key']} ({label}).")


@blueprint.post("/cles/<key>/revoquer")
def revoke_key(key: str) -> Response:
    try:
        control().delete(f"/annuaire/keys/{key}", tenant=tenant())
    except ControlError as exc:
        return done("/annuaire", error=exc.message)
    return done("/annuaire", ok=f"Clé d'API révoquée : {key} (le LGC qui la présente reçoit 401).")


# -- persona panels ---------------------------------------------------------------------------
def persona_panels(kind: str, persona: dict[str, Any]) -> list[Panel]:
    if kind not in ("professional", "structure") or not enabled("annuaire"):
        return []
    ctl, current = control(), tenant()
    national_id = persona["id_nat"]
    try:
        listed = ctl.get(f"/annuaire/resources/{national_id}", tenant=current)
    except ControlError:
        listed = []  # not in the directory
    info = ctl.get("/annuaire/", tenant=current)
    found: dict[str, dict[str, Any]] = {}  # "Type/id" -> the resource as the LGC reads it
    v1: dict[str, str] = {}
    for item in listed:
        ref = f"{item['type']}/{item['id']}"
        status, data = fhir(ref)
        if status == 200 and isinstance(data, dict):
            found[ref], v1[ref] = data, item["v1_id"]
    known, parents = dict(found), []
    for data in found.values():  # the structures of the situations, a structure's legal entity
        for target in reading.references(data):
            if target.startswith("Organization/") and target not in known:
                status, other = fhir(target)
                if status == 200 and isinstance(other, dict):
                    known[target] = other
                    if data.get("resourceType") == "Organization":
                        parents.append(target)
    rows = [{**row(data, known), "v1_id": v1[ref]} for ref, data in found.items()]
    rows += [{**row(known[ref], known), "v1_id": known[ref].get("id", ""), "parent": True} for ref in parents]
    expected = [persona.get("mss_address", "")] if kind == "professional" else [
        persona.get("mss_org_address", ""), persona.get("mss_app_address", "")]  # fmt: skip
    published = {b["address"].casefold() for r in rows for b in r["mailboxes"]}
    hidden = [a for a in expected if a and a.casefold() not in published]
    if kind == "professional":
        system, value = ("RPPS", persona["rpps"]) if persona.get("rpps") else ("IDNPS", national_id)
        search = Search("Practitioner", [("identifier", f"{reading.SYSTEMS[system]}|{value}")])
        form = {"quoi": "professionnels", "identifiant": value, "systeme": system}
    else:
        system, value = ("FINEG", persona["finess"]) if persona.get("finess") else ("IDNST", national_id)
        search = Search("Organization", [("identifier", f"{reading.SYSTEMS[system]}|{value}")])
        form = {"quoi": "structures", "identifiant": value, "systeme": system}
    situations = []  # a structure's situations d'exercice: how many, the LGC's count query
    for r in rows if kind == "structure" else []:
        if r["kind"] == "Organization" and not r.get("parent"):
            status, counted = fhir("PractitionerRole", organization=f"Organization/{r['id']}", _count="0")
            if status == 200 and isinstance(counted, dict):
                situations.append({**r, "total": counted.get("total")})
    html = render_template(
        "annuaire/panel.html",
        situations=situations,
        rows=rows,
        hidden=hidden,
        inconsistency=bool((info.get("options") or {}).get("inconsistency")),
        lgc=search.url(info["fhir"]),
        search="/annuaire?" + urlencode(form),
        box_types=reading.MAILBOX_TYPES,
        type_labels=reading.TYPE_LABELS,
    )
    return [Panel("Annuaire Santé", Markup(html), "Annuaire Santé", "annuaire-ressources")]
