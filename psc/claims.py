"""What PSC says about a professional: token claims (research psc.md 2.4, 2.5) and the UserInfo
document (2.6), built from the synthetic population. Every UserInfo string is present, "" when
unknown, never null."""

from __future__ import annotations

from typing import Any, Protocol

# The user-federation component UUID in every BAS `sub` 2021-2023 (research 2.4).
FEDERATION = "550dc1c8-d97b-4b1e-ac8c-8eb4471cf9dd"
PROFESSION_OID = "1.2.250.1.213.1.1.5.5"
SECTEUR_OID = "1.2.250.1.71.4.2.4"
PALIER = "APPPRIP3^1.2.250.1.213.1.5.1.1.1"
PSI_LOCALE = "1.2.250.1.213.1.3.1.1"
ACR_MODES = ("default", "eidas1", "eidas2", "eidas3", "missing", "duplicate")


class Population(Protocol):
    def professional(self, id_nat: str) -> Any: ...
    def structure(self, id_nat: str) -> Any: ...


def sub(national_id: str) -> str:
    return f"f:{FEDERATION}:{national_id}"


def acr_for(auth_mode: str, quirk: str, card_acr: str) -> str | None:
    """The `acr` of a login: eidas1 for e-CPS, the configured level for a card; a persona's quirk
    overrides it (None: no `acr` claim; "duplicate" is rendered by `with_acr`)."""
    if quirk in ("eidas1", "eidas2", "eidas3"):
        return quirk
    if quirk == "missing":
        return None
    return "eidas1" if auth_mode == "MOBILE" else card_acr


def with_acr(claims: list[tuple[str, Any]], acr: str | None, quirk: str) -> list[tuple[str, Any]]:
    """Claims as ordered pairs, `acr` placed where Keycloak writes it; the "duplicate" quirk
    writes the key twice (`"acr":"1"` then the real one), like a 2021 BAS token."""
    out: list[tuple[str, Any]] = []
    for key, value in claims:
        if key == "acr":
            if quirk == "duplicate":
                out.append(("acr", "1"))
                out.append(("acr", acr or "eidas3"))
            elif acr is not None:
                out.append(("acr", acr))
            continue
        out.append((key, value))
    return out


def other_ids(pro: Any) -> list[dict[str, Any]]:
    if pro.rpps:
        return [{"identifiant": pro.id_nat, "origine": "RPPS", "qualite": 1}]
    return [{"identifiant": pro.id_nat, "origine": "ADELI", "qualite": 1}]


def _activity(pop: Population, act: Any) -> dict[str, str]:
    s = pop.structure(act.structure_id)
    address = getattr(s, "address", None)
    ville = getattr(address, "ville", "") or ""
    code_postal = getattr(address, "code_postal", "") or ""
    finess = getattr(s, "finess", "") or ""
    siret = getattr(s, "siret", "") or ""
    return {
        "codeModeExercice": act.mode or "",
        "codeSecteurDactivite": act.secteur or "",
        "codeSectionPharmacien": "",
        "codeRole": act.role or "",
        "codeGenreActivite": act.genre or "",
        "numeroSiretSite": siret,
        "numeroSirenSite": siret[:9],
        "numeroFinessSite": finess,
        "numeroFinessetablissementJuridique": getattr(s, "finess_ej", "") or "",
        "identifiantTechniqueDeLaStructure": getattr(s, "technical_id", "") or "",
        "raisonSocialeSite": getattr(s, "name", "") or "",
        "enseigneCommercialeSite": "",
        "complementDestinataire": "",
        "complementPointGeographique": "",
        "numeroVoie": getattr(address, "numero", "") or "",
        "indiceRepetitionVoie": "",
        "codeTypeDeVoie": getattr(address, "type_voie", "") or "",
        "libelleVoie": getattr(address, "libelle_voie", "") or "",
        "mentionDistribution": "",
        "bureauCedex": f"{code_postal} {ville}".strip(),
        "codePostal": code_postal,
        "codeCommune": getattr(address, "commune", "") or "",
        "codePays": "",
        "telephone": getattr(address, "telephone", "") or "",
        "telephone2": "",
        "telecopie": "",
        "adresseEMail": "",
        "codeDepartement": getattr(address, "departement", "") or "",
        "ancienIdentifiantDeLaStructure": act.structure_id or "",
        "autoriteDenregistrement": "",  # set by userinfo() from the professional
    }


def userinfo(pop: Population, pro: Any, auth_mode: str) -> dict[str, Any]:
    """The UserInfo JSON of a professional (research 2.6), first activity as the chosen one."""
    authority = pro.registration_authority or ""
    exercices = []
    activities = []
    for act in pro.activities:
        a = _activity(pop, act)
        a["autoriteDenregistrement"] = "/".join([authority] * 3) if authority else ""
        activities.append(a)
    exercices.append(
        {
            "codeProfession": pro.profession or "",
            "codeCategorieProfessionnelle": pro.categorie or "",
            "codeCiviliteDexercice": pro.civilite_exercice or "",
            "nomDexercice": pro.nom or "",
            "prenomDexercice": pro.first_name or "",
            "codeTypeSavoirFaire": pro.savoir_faire_type or "",
            "codeSavoirFaire": pro.savoir_faire or "",
            "activities": activities,
        }
    )
    first = activities[0] if activities else {}
    secteur = first.get("codeSecteurDactivite", "")
    return {
        "sub": sub(pro.id_nat),
        "SubjectOrganization": first.get("raisonSocialeSite", ""),
        "Mode_Acces_Raison": "",
        "preferred_username": pro.id_nat,
        "given_name": pro.first_name or "",
        "Acces_Regulation_Medicale": "FAUX",
        "UITVersion": "1.0",
        "Palier_Authentification": PALIER,
        "SubjectRefPro": {"codeCivilite": pro.civilite or "", "exercices": exercices},
        "SubjectOrganizationID": first.get("identifiantTechniqueDeLaStructure", ""),
        "SubjectRole": [f"{pro.profession}^{PROFESSION_OID}"] if pro.profession else [],
        "PSI_Locale": PSI_LOCALE,
        "otherIds": other_ids(pro),
        "SubjectNameID": pro.id_nat,
        "family_name": pro.nom or "",
        "Secteur_Activite": f"{secteur}^{SECTEUR_OID}" if secteur else "",
        "authMode": auth_mode,
        "email_verified": False,
    }
