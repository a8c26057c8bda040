"""The wallet's pages, in French, as a professional sees them (Jinja, autoescaped by Flask)."""

from __future__ import annotations

from mocks.console.style import SHARED_CSS  # one look with the console (mocks/console/static/segur.css)

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
<p class="note">Simulation : <a href="{{ phone }}" id="phone">ouvrir le téléphone simulé</a>
(ou approuver depuis la console du bac à sable).</p>"""

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
<p class="note">Bac à sable : le code porteur des cartes simulées est indiqué dans la documentation.</p>"""

MESSAGE = """<p id="message">{{ message }}</p>
{% if retry %}<form method="post" action="{{ retry }}"><input type="hidden" name="request" value="{{ rid }}">
<input type="hidden" name="national_id" value="{{ national_id }}">
<button type="submit" name="method" value="{{ method }}" id="retry">Réessayer</button></form>{% endif %}
{% if back %}<p><a href="{{ back }}" id="back">Retour au service</a></p>{% endif %}"""

KEYCLOAK_ERROR = """<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><title>Erreur</title></head>
<body><div id="kc-content"><h1 id="kc-page-title">Nous sommes désolés...</h1>
<p id="kc-error-message" class="instruction">{{ message }}</p></div></body></html>"""

LOGGED_OUT = """<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><title>Déconnexion</title></head>
<body><div id="kc-content"><h1 id="kc-page-title">Vous êtes déconnecté</h1>
<p class="instruction">{{ message }}</p></div></body></html>"""
