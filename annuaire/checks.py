"""Findings on what an LGC asks the Annuaire Santé: never a refusal by themselves (the server
refuses what production refuses, annuaire.query), but what a reviewer of the integration wants
to know — a search that relies on the default page size, a page size beyond the recommended 200,
the V1 API (decommissioned in March 2026), `_offset` (ignored), a rebuilt or stale next link,
technical ids instead of business identifiers (they changed between V1 and V2).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mocks.findings import Rule, Rules

if TYPE_CHECKING:
    from annuaire.query import Query
    from mocks.findings import Findings

R_API = "research mssante.md 1.6"
R_ERR = "research mssante.md 3.3"
R_FAQ = "research mssante.md 6"

RULES = Rules(
    [
        Rule("ANN-COUNT-ABSENT", "info", "Recherche sans _count : taille de page par défaut (50)", R_API),
        Rule("ANN-COUNT-LARGE", "warning", "_count au-delà de 200 (recommandation ANS : 200 au plus)", R_FAQ),
        Rule("ANN-PARAM-UNKNOWN", "error", "Paramètre de recherche non pris en charge par l'API", R_ERR),
        Rule("ANN-PARAM-INVALID", "error", "Valeur ou forme de paramètre refusée par le serveur", R_ERR),
        Rule("ANN-OFFSET", "warning", "_offset est ignoré : suivre le lien next", R_API),
        Rule(
            "ANN-V1",
            "warning",
            "API FHIR V1 (décommissionnement annoncé pour mars 2026) : utiliser /fhir/v2",
            R_API,
        ),
        Rule(
            "ANN-TECHNICAL-ID",
            "info",
            "Identifiant technique : préférer les identifiants métier (RPPS, FINESS)",
            R_API,
        ),
        Rule(
            "ANN-CONTAINS", "info", "mailbox-mss:contains pour une adresse complète : préférer :exact", R_FAQ
        ),
        Rule("ANN-FORMAT", "warning", "Format demandé autre que JSON : l'API ne répond qu'en JSON", R_API),
        Rule("ANN-PAGE-GONE", "warning", "Lien next inconnu ou expiré : relancer la recherche", R_API),
        Rule("ANN-API-KEY", "error", "En-tête ESANTE-API-KEY absent ou clé inconnue", R_API),
        Rule("ANN-RATE", "warning", "Plus de requêtes par seconde que la limite de la passerelle", R_API),
        Rule("ANN-BODY", "error", "Corps de requête sur un GET", R_ERR),
        Rule("ANN-METHOD", "error", "Méthode HTTP interdite (API en lecture seule)", R_API),
    ]
)


def check_search(findings: Findings, query: Query, version: str) -> None:
    if version != "v2":
        check_version(findings, version)
    if not query.count_given:
        findings.add(
            "ANN-COUNT-ABSENT",
            "info",
            "aucun _count : la page compte 50 entrées par défaut",
            location="_count",
        )
    elif query.count > 200:
        findings.add(
            "ANN-COUNT-LARGE", "warning",
            f"_count={query.count} : l'ANS recommande 200 au plus (les grandes pages échouent en BadGateway)",
            location="_count",
        )  # fmt: skip
    if "_offset" in query.ignored:
        findings.add(
            "ANN-OFFSET", "warning", "_offset est ignoré par l'API : suivre le lien next", location="_offset"
        )
    if query.format and query.format not in ("json", "application/json", "application/fhir+json"):
        findings.add(
            "ANN-FORMAT", "warning", f"_format={query.format} : la réponse est en JSON", location="_format"
        )
    for c in query.clauses:
        if c.name == "_id":
            findings.add(
                "ANN-TECHNICAL-ID", "info",
                "recherche par identifiant technique : il change entre V1 et V2, préférer identifier",
                location="_id",
            )  # fmt: skip
        if (
            c.name == "mailbox-mss"
            and c.modifier == "contains"
            and any("@" in v and "." in v.split("@")[-1] and v.split("@")[0] for v in c.values)
        ):
            findings.add(
                "ANN-CONTAINS", "info",
                "adresse complète cherchée avec :contains : mailbox-mss:exact la trouve sans ambiguïté",
                location="mailbox-mss:contains",
            )  # fmt: skip


def check_version(findings: Findings, version: str) -> None:
    findings.add(
        "ANN-V1", "warning",
        "appel de l'API V1 (/fhir/v1 ou /fhir) : décommissionnement annoncé pour mars 2026, utiliser /fhir/v2",
        location="path",
    )  # fmt: skip


def check_read(findings: Findings) -> None:
    findings.add(
        "ANN-TECHNICAL-ID", "info",
        "lecture par identifiant technique : il change entre V1 et V2, chercher par identifier",
        location="path",
    )  # fmt: skip
