"""The wallet's pages, in French, as a professional sees them (Jinja, autoescaped), and the
pages the issuer shows (logout, errors) in the same style. `html(title, body, **values)` renders
one; it needs no Flask context (the protocols render error pages after the app has returned)."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment

from mocks.console.style import SHARED_CSS  # one look with the console (mocks/console/static/segur.css)

_ENV = Environment(autoescape=True)

LAYOUT = """<!doctype html>
<html lang="fr"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
{% if refresh %}<meta http-equiv="refresh" content="{{ refresh }}">{% endif %}
<title>{{ title }} - Pro Santé Connect (bac à sable Ségur)</title>
<style>{% raw %}/*SHARED_CSS*/{% endraw %}</style></head>
<body><header class="top">Pro Santé Connect — bac à sable (Ségur Sandbox)</header><main class="narrow">
<h1>{{ title }}</h1>
{% if error %}<p class="error" id="error">{{ error }}</p>{% endif %}
{{ body|safe }}
</main></body></html>""".replace("/*SHARED_CSS*/", SHARED_CSS)

LOGIN = """
<p>Le service <strong>{{ client_id }}</strong> vous demande de vous identifier.</p>
<form method="post" action="{{ action }}" id="login">
<input type="hidden" name="request" value="{{ rid }}">
<label for="national_id">Identifiant national (RPPS, ADELI, e-CPS)</label>
<input id="national_id" name="national_id" value="{{ national_id }}" autocomplete="username">
<label for="persona">ou choisissez un professionnel de test</label>
<select id="persona" name="persona"><option value="">—</option>
{% for p in personas %}<option value="{{ p.id_nat }}">{{ p.label }}</option>{% endfor %}
</select>
<button type="submit" name="method" value="ecps" id="ecps">SE CONNECTER AVEC E-CPS</button>
<button type="submit" name="method" value="card" id="card" class="secondary">Carte CPS</button>
</form>
<p class="note">Bac à sable : identités synthétiques uniquement.</p>"""

WAIT = """
<p>Une notification a été envoyée sur l'application e-CPS de <strong>{{ name }}</strong>.</p>
<p><strong>Validez sur votre téléphone.</strong> Vérifiez que le code affiché est :</p>
<p class="code" id="binding">{{ binding }}</p>
<p class="note">Cette page se met à jour toute seule. Délai restant : {{ remaining }} s.</p>
<p class="note">Simulation : <a href="{{ phone }}" id="phone">ouvrir le téléphone simulé</a>,
ou valider depuis la console du bac à sable (<a href="{{ console }}" id="console">{{ console }}</a>),
ou par l'API : <code id="approve-api">POST {{ approve_api }}</code>.</p>"""

PHONE = """
<p>Application e-CPS de <strong>{{ name }}</strong> ({{ national_id }}).</p>
<p>Demande de connexion de <strong>{{ client_id }}</strong>{% if channel %} (canal {{ channel }}){% endif %}.</p>
{% if binding %}<p>Code : <span class="code">{{ binding }}</span></p>{% endif %}
{% if state == 'pending' %}
<form method="post"><button name="decision" value="approve" id="approve">Valider</button>
<button name="decision" value="refuse" id="refuse" class="secondary">Refuser</button></form>
{% else %}<p id="status">Demande {{ status_fr }}.</p>{% endif %}"""

PIN = """
<p>Carte CPS de <strong>{{ name }}</strong> détectée.</p>
<form method="post" action="{{ action }}">
<label for="pin">Code porteur (simulé, 4 chiffres)</label>
<input id="pin" name="pin" type="password" inputmode="numeric" maxlength="8" autocomplete="off">
<button type="submit" id="validate">Valider</button></form>
<p class="note">Bac à sable : le code porteur des cartes simulées est <strong id="test-pin">{{ pin }}</strong>
(réglage <code>psc_card_pin</code>) ; trois codes faux bloquent la carte.</p>"""

MESSAGE = """<p id="message">{{ message }}</p>
{% if retry %}<form method="post" action="{{ retry }}"><input type="hidden" name="request" value="{{ rid }}">
<input type="hidden" name="national_id" value="{{ national_id }}">
<button type="submit" name="method" value="{{ method }}" id="retry">Réessayer</button></form>{% endif %}
{% if back %}<p><a href="{{ back }}" id="back">Retour au service</a></p>{% endif %}"""

# Keycloak's error page (login theme "error.ftl", French locale), in the wallet's style
ERROR = """<div id="kc-content"><p id="kc-error-message" class="instruction">{{ message }}</p>
{% if trace %}<p class="note">Référence de l'incident (journal du bac à sable) : <code id="trace">{{ trace }}</code></p>{% endif %}</div>"""

LOGGED_OUT = """<div id="kc-content"><p class="instruction" id="message">{{ message }}</p></div>"""


def render(template: str, **values: Any) -> str:
    return _ENV.from_string(template).render(**values)


def html(title: str, body: str, error: str = "", refresh: int = 0, **values: Any) -> str:
    """A full page: `body` (one of the templates above) rendered with `values` inside LAYOUT."""
    inner = render(body, **values)
    return render(LAYOUT, title=title, body=inner, error=error, refresh=refresh)


def error_page(message: str, title: str = "Nous sommes désolés...", trace: str = "") -> str:
    return html(title, ERROR, message=message, trace=trace)
