"""The English toggle: labels of the console in English (the French text is the key). Data
(names, finding messages, error texts) stays as the sandbox holds it."""

from __future__ import annotations

EN: dict[str, str] = {
    "Accueil": "Home",
    "Personas": "Personas",
    "Journal": "Journal",
    "Défauts": "Faults",
    "Horloge": "Clock",
    "Tenants": "Tenants",
    "PKI": "PKI",
}


def label(text: str, lang: str) -> str:
    if lang != "en" or not text:
        return text
    return EN.get(text, text)
