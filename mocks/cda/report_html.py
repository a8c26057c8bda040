"""A report as an HTML page, in the spirit of the ANS one (rapportSchematronToHtml4.xsl): a summary
per profile, then every finding with its severity, location and reference. French."""

from __future__ import annotations

from html import escape

from mocks.cda.report import Report

LABELS = {"error": "Erreur", "warning": "Avertissement", "info": "Information"}
STYLE = """body{font-family:sans-serif;margin:2em;max-width:75em}table{border-collapse:collapse;width:100%}
td,th{border:1px solid #bbb;padding:.3em .5em;vertical-align:top;text-align:left}th{background:#eee}
.error{background:#fde2e2}.warning{background:#fff4d6}.info{background:#e8f0fe}.ok{color:#1a7f37}.ko{color:#b42318}
code{font-size:.85em;word-break:break-all}"""


def report_html(report: Report) -> str:
    counts = report.counts()
    verdict = (
        '<p class="ok"><b>Conforme</b> : aucune erreur.</p>'
        if report.valid
        else f'<p class="ko"><b>{"Non conforme" if report.state == "done" else "Verdict en attente"}</b> : '
        f"{counts['error']} erreur(s), {counts['warning']} avertissement(s).</p>"
    )
    profiles: dict[str, dict[str, int]] = {}
    for f in report.findings:
        row = profiles.setdefault(f.profile, {"error": 0, "warning": 0, "info": 0})
        row[f.severity] += 1
    summary = "".join(
        f"<tr><td>{escape(p)}</td><td>{c['error']}</td><td>{c['warning']}</td><td>{c['info']}</td></tr>"
        for p, c in profiles.items()
    )
    rows = "".join(
        f'<tr class="{f.severity}"><td>{LABELS[f.severity]}</td><td>{escape(f.profile)}</td>'
        f"<td><code>{escape(f.rule)}</code><br><code>{escape(f.pattern)}</code></td><td>{escape(f.message)}</td>"
        f"<td><code>{escape(f.location)}</code></td><td>{escape(f.reference)}</td></tr>"
        for f in report.findings
    )
    ran = ", ".join(["XSD", *report.profiles]) if report.profiles else "—"
    return f"""<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><title>Rapport de vérification CDA n° {report.id}</title>
<style>{STYLE}</style></head><body>
<h1>Rapport de vérification CDA n° {report.id}</h1>
<table>
<tr><th>Document</th><td>{escape(report.name or "(sans nom)")} — SHA-256 <code>{report.sha256}</code></td></tr>
<tr><th>Reçu le</th><td>{escape(report.submitted_at)} (tenant {escape(report.tenant)})</td></tr>
<tr><th>Niveau, volet</th><td>{escape(report.level)} — {escape(report.volet or "structuration minimale seule")}</td></tr>
<tr><th>Vérifications</th><td>{escape(ran)}</td></tr>
<tr><th>Référentiel</th><td>{escape(report.version or "non installé")}</td></tr>
</table>
{verdict}
<h2>Synthèse</h2>
<table><tr><th>Profil</th><th>Erreurs</th><th>Avertissements</th><th>Informations</th></tr>{summary}</table>
<h2>Constats</h2>
<table><tr><th>Sévérité</th><th>Profil</th><th>Règle</th><th>Message</th><th>Emplacement</th><th>Référence</th></tr>{rows}</table>
<p>Bac à sable Ségur : verdict rendu avec les schématrons officiels de l'ANS ; il ne remplace pas
l'espace de test de l'ANS.</p>
</body></html>
"""
