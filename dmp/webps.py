"""TD0.9 "accès Web PS contextuel": the read-only page of the Web PS DMP an LGC opens in the
professional's browser on a patient, the context in the URL. Nothing of this page is public beyond
its existence (research dmp.md §1.4: "URLs only", DmpConnect `hl_getWebPsDmpUrls`): its address,
parameters and content are [inferred] and documented as such.

    GET  https://<host>:4620/webps/dossier?ins=<INS>&oid=<INS OID>&vihf=<base64 VIHF>
    POST the same fields as an HTML form (a signed VIHF makes a long URL: 8 KiB at most), or
         `vihf` raw-DEFLATEd before base64, as SAML's HTTP-Redirect binding does

- served on the DMP listener, so the browser authenticates as the LGC does: TLS 1.2 with the
  professional's CPS authentication certificate (a card in the browser), or the structure's;
- the context is the INS (`ins`, optional `oid`, default the configured family's) and the VIHF
  of the web services (`vihf`, base64 of the saml2:Assertion, unsigned or signed as in dmp.vihf):
  the same `Context.secure("TD0.9", ins)` checks it (caller, TLS certificate, rights row TD0.9:
  refused in indirect mode, allowed in AIR), so the PS is the VIHF's NameID;
- the page: the patient's DMP state (open / closed / none, Mon espace santé, médecin traitant,
  oppositions), the caller's authorisation, and — when authorised (or in bris de glace / centre
  15) — the documents list as TD3.1 would show it to this PS (masked ones to the MT and their
  author only; the lot's XAdES never): read-only;
- refusals are French pages (403 rights, 400 context), journaled `DMP TD0.9`.
"""

from __future__ import annotations

import base64
import binascii
import weakref
import zlib
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from jinja2 import Environment

from dmp import errors, registry, visibility
from dmp.documents import Document, Documents
from dmp.endpoints import Operation
from dmp.flow import Context, Secured
from mocks import soap
from mocks.console.style import SHARED_CSS
from mocks.errors import ServiceError, SoapFault
from mocks.harness import Reply, request_body

if TYPE_CHECKING:
    from dmp.protocol import DmpProtocol
    from mocks.kernel import Exchange, Sandbox

PATH = "/webps/dossier"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
HTML = "text/html; charset=utf-8"
SHOWN = ("Approved", "Archived")  # [inferred] what the Web PS lists: current versions, not deleted

_ENV = Environment(autoescape=True)
PAGE = _ENV.from_string(
    """<!doctype html>
<html lang="fr"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }} - Web PS DMP (bac à sable Ségur)</title>
<style>{% raw %}/*SHARED_CSS*/{% endraw %}</style></head>
<body><header class="top">DMP — Web PS, accès contextuel (TD0.9) — bac à sable Ségur</header><main>
<h1>{{ title }}</h1>
{% if error %}<p class="error" id="error">{{ error }}</p>
<p class="note">Contexte attendu : <code>{{ path }}?ins=…&amp;oid=…&amp;vihf=…</code> (le VIHF des services
web en base64), sur une connexion TLS avec le certificat d'authentification de la carte CPS.</p>
{% else %}
<section class="card" id="dossier"><h2>Dossier médical partagé</h2><dl class="facts">
<dt>INS</dt><dd id="ins">{{ ins }} ({{ oid }})</dd>
<dt>État du DMP</dt><dd id="etat"><span class="badge {{ 'ok' if state.dmp == 'open' else 'warn' }}">{{ etat }}</span></dd>
{% if state.dmp != 'none' %}
<dt>Rattaché à Mon espace santé</dt><dd id="ens">{{ 'oui' if state.ens else 'non' }}</dd>
<dt>Médecin traitant DMP</dt><dd id="mt">{{ mt_name }}</dd>
<dt>Opposition au bris de glace</dt><dd>{{ 'oui' if state.opposition_bris_de_glace else 'non' }}</dd>
<dt>Opposition à l'accès en urgence (centre 15)</dt><dd>{{ 'oui' if state.opposition_acces_urgence else 'non' }}</dd>
{% if state.representative %}<dt>Représentant légal</dt><dd>{{ state.representative.prenom }} {{ state.representative.nom }}</dd>{% endif %}
{% endif %}
</dl></section>
<section class="card" id="acces"><h2>Votre accès</h2><dl class="facts">
<dt>Professionnel</dt><dd id="ps">{{ ps_name }} ({{ s.caller.ps }}), structure {{ s.caller.structure }}</dd>
<dt>Mode</dt><dd id="mode">{{ mode }}</dd>
<dt>Autorisation d'accès</dt><dd id="autorisation">{{ autorisation }}{% if is_mt %} — vous êtes le médecin traitant DMP{% endif %}</dd>
</dl></section>
{% if state.dmp == 'open' %}
<section class="card" id="documents"><h2>Documents ({{ documents|length }})</h2>
{% if not readable %}<p id="non-autorise">Vous n'êtes pas autorisé à consulter les documents de ce DMP
(autorisation {{ autorisation }}) : déclarez-vous autorisé (TD0.3) depuis votre logiciel.</p>
{% elif documents %}<table><caption>Documents visibles pour vous, du plus récent au plus ancien (lecture seule)</caption>
<thead><tr><th scope="col">Date</th><th scope="col">Titre</th><th scope="col">Type</th><th scope="col">Auteur</th>
<th scope="col">Statut</th><th scope="col">Visibilité</th><th scope="col">Identifiant (uniqueId)</th></tr></thead><tbody>
{% for d in documents %}<tr><td>{{ d.date }}</td><td>{{ d.title }}</td><td>{{ d.type }}</td><td>{{ d.author }}</td>
<td>{{ d.status }}</td><td>{{ d.visibility }}</td><td class="mono">{{ d.unique_id }}</td></tr>{% endfor %}
</tbody></table>
{% else %}<p id="aucun">Aucun document visible pour vous dans ce DMP.</p>{% endif %}
</section>{% endif %}
{% endif %}
<p class="note">Page en lecture seule du bac à sable ; adresse et paramètres [déduits] : le Web PS
contextuel du DMP n'est pas documenté publiquement.</p>
</main></body></html>""".replace("/*SHARED_CSS*/", SHARED_CSS)
)
ETATS = {"open": "ouvert", "closed": "fermé", "none": "pas de DMP"}
AUTORISATIONS = {
    "VALIDE": "valide",
    "EXPIRE": "expirée",
    "INTERDIT": "bloqué par le patient",
    "NON_EXISTE": "aucune",
}
STATUTS = {"Approved": "à jour", "Archived": "archivé"}
# TD0.9 is no web-service operation: this stands for one in Context (no WS-A answer is written)
OPERATION = Operation("webps", (), "", "", lambda ctx: Reply(500))


def _params(environ: dict[str, Any]) -> dict[str, str]:
    """The query's fields, the form's for a POST (first value of each)."""
    fields = parse_qs(environ.get("QUERY_STRING") or "", keep_blank_values=True)
    if environ.get("REQUEST_METHOD") == "POST":
        form = parse_qs(request_body(environ).decode("utf-8", "replace"), keep_blank_values=True)
        fields = {**fields, **form}
    return {k: v[0].strip() for k, v in fields.items() if v}


def _assertion(text: str) -> bytes:
    """The VIHF of the context: base64 (standard or URL-safe, padding optional) of the XML."""
    padded = text.replace(" ", "+") + "=" * (-len(text) % 4)  # "+" read as a space in a query
    try:
        data = base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError):
        errors.fail("vihf_invalid", what="paramètre vihf : base64 illisible")
    if not data.lstrip().startswith(b"<"):
        try:  # raw DEFLATE first, as SAML's HTTP-Redirect binding does (a signed VIHF fits a URL)
            data = zlib.decompress(data, -15)
        except zlib.error:
            errors.fail("vihf_invalid", what="paramètre vihf : ni une assertion SAML ni DEFLATE")
    return data


def _request(assertion: bytes) -> soap.SoapRequest:
    """The VIHF in the envelope a web service would have received (its bytes as given, so that its
    signature verifies as in a SOAP call)."""
    envelope = (
        f'<soap:Envelope xmlns:soap="{SOAP12}"><soap:Header><wsse:Security xmlns:wsse="{WSSE}">'.encode()
        + assertion
        + b"</wsse:Security></soap:Header><soap:Body><webps/></soap:Body></soap:Envelope>"
    )
    try:
        return soap.read_request(envelope, "application/soap+xml; charset=UTF-8")
    except soap.InvalidMessage:
        errors.fail("vihf_invalid", what="paramètre vihf : XML illisible")


def _row(doc: Document) -> dict[str, str]:
    author = doc.authors[0].person.split("^") if doc.authors else []
    name = " ".join(p for p in (author[2:3] + author[1:2]) if p) if author else ""
    t = doc.creation_time
    return {
        "date": f"{t[6:8]}/{t[4:6]}/{t[0:4]}" if len(t) >= 8 else "",
        "title": doc.title or "(sans titre)",
        "type": doc.type_code.label or doc.type_code.code if doc.type_code else "",
        "author": name or (doc.author_ids[0] if doc.author_ids else ""),
        "status": STATUTS.get(doc.status, doc.status),
        "visibility": "masqué aux professionnels" if doc.masked_ps else "normale",
        "unique_id": doc.unique_id,
    }


def documents_for(docs: Documents, tenant: str, s: Secured) -> list[dict[str, str]]:
    """The patient's documents this caller may see (TD3.1 visibility), newest first."""
    who = visibility.Who(
        s.caller.ps, s.caller.structure, s.caller.mode, s.actor == "mt", s.caller.card_type == 2
    )
    shown = []
    for doc in docs.by_patient(tenant, s.ins, statuses=SHOWN):
        if visibility.visible(registry.doc_of(doc), who):  # TD3.1's view (legalAuthenticator too)
            shown.append(doc)
    shown.sort(key=lambda d: d.creation_time, reverse=True)
    return [_row(d) for d in shown]


def _page(status: int, **values: Any) -> Reply:
    return Reply(status, PAGE.render(path=PATH, **values).encode(), HTML)


def handle(
    sandbox: Sandbox,
    protocol: DmpProtocol,
    sessions: weakref.WeakSet[Any],
    ex: Exchange,
    environ: dict[str, Any],
) -> Reply:
    ex.operation = "TD0.9"
    if environ.get("REQUEST_METHOD") not in ("GET", "POST"):
        ex.outcome = "refused: method"
        return Reply(405, b"Method Not Allowed", headers=[("Allow", "GET, POST")])
    try:
        return _serve(sandbox, protocol, sessions, ex, environ)
    except ServiceError as exc:
        ex.outcome = exc.outcome
        entry = exc.error
        status = 403 if isinstance(entry, SoapFault) and entry.subcode == "DMPAccessDenied" else 400
        return _page(status, title="Accès au DMP impossible", error=exc.text or entry.description)


def _serve(
    sandbox: Sandbox,
    protocol: DmpProtocol,
    sessions: weakref.WeakSet[Any],
    ex: Exchange,
    environ: dict[str, Any],
) -> Reply:
    fields = _params(environ)
    ins, token = fields.get("ins", ""), fields.get("vihf", "")
    if not ins or not token:
        missing = ", ".join(name for name, v in (("ins", ins), ("vihf", token)) if not v)
        errors.fail("vihf_invalid", what=f"contexte incomplet : {missing} absent")
    ctx = Context(sandbox, protocol, ex, environ, _request(_assertion(token)), OPERATION, sessions)
    s = ctx.secure("TD0.9", ins, fields.get("oid", ""), acte="un accès au Web PS")
    ctx.require_not_blocked(s)
    state = s.state
    assert state is not None
    authorization = state.authorization(s.caller.holder)
    readable = authorization == "VALIDE" or s.access != "normal"
    docs = documents_for(Documents(sandbox.store), ex.tenant, s) if readable and state.dmp == "open" else []
    ex.outcome = f"{state.dmp}/{authorization} ({len(docs)} documents)"
    ex.details["webps"] = {"documents": len(docs), "readable": readable}
    name = f"{s.caller.first_name} {s.caller.last_name}".strip() or s.caller.ps
    mt = sandbox.population.professional(state.medecin_traitant) if state.medecin_traitant else None
    mt_name = (
        f"Dr {mt.prenoms[0] if mt.prenoms else ''} {mt.nom} ({mt.id_nat})".replace("  ", " ")
        if mt is not None
        else state.medecin_traitant or "aucun"
    )
    return _page(
        200,
        title=f"DMP de {state.prenom} {state.nom}".strip() if state.nom else f"DMP {s.ins}",
        ins=s.ins,
        oid=s.vihf.patient.oid if s.vihf.patient else ctx.ins_oid,
        state=state,
        etat=ETATS.get(state.dmp, state.dmp),
        s=s,
        ps_name=name,
        mt_name=mt_name,
        mode=f"{s.caller.mode}, accès {s.access.replace('_', ' ')}",
        autorisation=AUTORISATIONS.get(authorization, authorization),
        is_mt=s.actor == "mt",
        readable=readable,
        documents=docs,
    )
