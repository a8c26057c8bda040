"""Professionals as PSC knows them (from the synthetic population) and their UserInfo document.

The population (`sandbox.population`) gives professionals by idNat_PS with their exercice and
activities; when it is absent (a build without it), a small built-in directory of the public BAS
test identities of research psc.md §4 stands in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from mocks.kernel import Sandbox

OID_PROFESSION_ROLE = "1.2.250.1.213.1.1.5.5"
OID_SECTEUR = "1.2.250.1.71.4.2.4"
PALIER = "APPPRIP3^1.2.250.1.213.1.5.1.1.1"
PSI_LOCALE = "1.2.250.1.213.1.3.1.1"


class AddressLike(Protocol):
    numero: str
    type_voie: str
    libelle_voie: str
    code_postal: str
    commune: str
    ville: str
    departement: str
    telephone: str


class StructureLike(Protocol):
    id_nat: str
    technical_id: str
    name: str
    secteur: str
    finess: str
    finess_ej: str
    siret: str

    @property
    def address(self) -> AddressLike: ...


class ActivityLike(Protocol):
    structure_id: str
    mode: str
    secteur: str
    role: str
    genre: str


class ProfessionalLike(Protocol):
    id_nat: str
    rpps: str
    adeli: str
    civilite: str
    civilite_exercice: str
    nom: str
    prenoms: tuple[str, ...]
    profession: str
    categorie: str
    savoir_faire: str
    savoir_faire_type: str
    ecps: bool
    cps_card: str
    registration_authority: str
    certificate_state: str
    persona: str
    note: str

    @property
    def activities(self) -> tuple[ActivityLike, ...]: ...


class Directory(Protocol):
    def professional(self, id_nat: str) -> Any: ...
    def professionals(self) -> list[Any]: ...
    def structure(self, id_nat: str) -> Any: ...


# -- built-in fallback (public BAS test identities) ------------------------------------------
@dataclass(frozen=True)
class _Address:
    numero: str = "1"
    type_voie: str = "R"
    libelle_voie: str = "NOIR"
    code_postal: str = "75009"
    commune: str = "75056"
    ville: str = "PARIS"
    departement: str = "75"
    telephone: str = ""


@dataclass(frozen=True)
class _Structure:
    id_nat: str
    technical_id: str
    name: str
    secteur: str = "SA07"
    finess: str = ""
    finess_ej: str = ""
    siret: str = ""
    address: _Address = field(default_factory=_Address)


@dataclass(frozen=True)
class _Activity:
    structure_id: str
    mode: str = "L"
    secteur: str = "SA07"
    role: str = ""
    genre: str = "GENR01"


@dataclass(frozen=True)
class _Professional:
    id_nat: str
    nom: str
    prenoms: tuple[str, ...]
    activities: tuple[_Activity, ...]
    rpps: str = ""
    adeli: str = ""
    civilite: str = "M"
    civilite_exercice: str = "DR"
    profession: str = "10"
    categorie: str = "C"
    savoir_faire: str = "SM26"
    savoir_faire_type: str = "S"
    ecps: bool = True
    cps_card: str = ""
    registration_authority: str = "CNOM"
    certificate_state: str = "valid"
    persona: str = "psc-public"
    note: str = "PSC BAS test identity (research psc.md 4)"


class BuiltinDirectory:
    def __init__(self) -> None:
        self._pros = {
            p.id_nat: p
            for p in [
                _Professional(
                    "899700366240", "DOC0036624", ("KIT",), (_Activity("499700366240007"),), "99700366240"
                ),
                _Professional(
                    "899700427885", "DOC0042788", ("KIT",), (_Activity("499700427885006"),), "99700427885"
                ),
            ]
        }
        self._structures = {
            s.id_nat: s
            for s in [
                _Structure("499700366240007", "R95141", "CABINET M DOC0036624"),
                _Structure("499700427885006", "R102671", "CABINET M DOC0042788"),
            ]
        }

    def professional(self, id_nat: str) -> Any:
        return self._pros.get(id_nat)

    def professionals(self) -> list[Any]:
        return list(self._pros.values())

    def structure(self, id_nat: str) -> Any:
        return self._structures.get(id_nat)


def directory(sandbox: Sandbox) -> Directory:
    try:
        import mocks.population  # noqa: F401
    except ImportError:
        return BuiltinDirectory()
    return sandbox.population


def first_name(pro: ProfessionalLike) -> str:
    return pro.prenoms[0] if pro.prenoms else ""


def display(pro: ProfessionalLike) -> str:
    return f"{pro.civilite_exercice or pro.civilite} {first_name(pro)} {pro.nom}".strip()


def other_ids(pro: ProfessionalLike) -> list[dict[str, Any]]:
    origine = "ADELI" if pro.id_nat.startswith("0") else "RPPS"
    if pro.persona == "edit":
        origine = "EDIT"
    return [{"identifiant": pro.id_nat, "origine": origine, "qualite": 1}]


def _activity(pro: ProfessionalLike, act: ActivityLike, dirx: Directory) -> dict[str, str]:
    s = dirx.structure(act.structure_id)
    a = getattr(s, "address", None)
    ra = pro.registration_authority or ""
    authority = f"{ra}/{ra}/{ra}" if act.mode == "L" else (f"{ra}/{ra}/ARS" if ra else "")

    def attr(obj: Any, name: str) -> str:
        return str(getattr(obj, name, "") or "") if obj is not None else ""

    siret = attr(s, "siret")
    cp, ville = attr(a, "code_postal"), attr(a, "ville")
    return {
        "codeModeExercice": act.mode or "",
        "codeSecteurDactivite": act.secteur or "",
        "codeSectionPharmacien": "",
        "codeRole": act.role or "",
        "codeGenreActivite": act.genre or "",
        "numeroSiretSite": siret,
        "numeroSirenSite": siret[:9],
        "numeroFinessSite": attr(s, "finess"),
        "numeroFinessetablissementJuridique": attr(s, "finess_ej"),
        "identifiantTechniqueDeLaStructure": attr(s, "technical_id"),
        "raisonSocialeSite": attr(s, "name"),
        "enseigneCommercialeSite": "",
        "complementDestinataire": "",
        "complementPointGeographique": "",
        "numeroVoie": attr(a, "numero"),
        "indiceRepetitionVoie": "",
        "codeTypeDeVoie": attr(a, "type_voie"),
        "libelleVoie": attr(a, "libelle_voie"),
        "mentionDistribution": "",
        "bureauCedex": f"{cp} {ville}".strip(),
        "codePostal": cp,
        "codeCommune": attr(a, "commune"),
        "codePays": "",
        "telephone": attr(a, "telephone"),
        "telephone2": "",
        "telecopie": "",
        "adresseEMail": "",
        "codeDepartement": attr(a, "departement"),
        "ancienIdentifiantDeLaStructure": act.structure_id if s is not None else "",
        "autoriteDenregistrement": authority,
    }


def userinfo(
    pro: ProfessionalLike, dirx: Directory, sub: str, auth_mode: str, email_verified: bool = False
) -> dict[str, Any]:
    """The UserInfo document (research psc.md 2.6): every field present, "" rather than null."""
    activities = [_activity(pro, act, dirx) for act in pro.activities]
    first = activities[0] if activities else None
    genre = first["codeGenreActivite"] if first else ""
    return {
        "Secteur_Activite": f"{first['codeSecteurDactivite']}^{OID_SECTEUR}" if first else "",
        "sub": sub,
        "email_verified": email_verified,
        "SubjectOrganization": first["raisonSocialeSite"] if first else "",
        "Mode_Acces_Raison": "",
        "preferred_username": pro.id_nat,
        "given_name": first_name(pro),
        "Acces_Regulation_Medicale": "FAUX",
        "UITVersion": "1.0",
        "Palier_Authentification": PALIER,
        "SubjectRefPro": {
            "codeCivilite": pro.civilite or "",
            "exercices": [
                {
                    "codeProfession": pro.profession or "",
                    "codeCategorieProfessionnelle": pro.categorie or "",
                    "codeCiviliteDexercice": pro.civilite_exercice or "",
                    "nomDexercice": pro.nom or "",
                    "prenomDexercice": first_name(pro),
                    "codeTypeSavoirFaire": pro.savoir_faire_type or "",
                    "codeSavoirFaire": pro.savoir_faire or "",
                    "activities": activities,
                }
            ],
        },
        "SubjectOrganizationID": first["identifiantTechniqueDeLaStructure"] if first else "",
        "SubjectRole": [f"{pro.profession}^{OID_PROFESSION_ROLE}"] if pro.profession else [],
        "PSI_Locale": PSI_LOCALE,
        "otherIds": other_ids(pro),
        "SubjectNameID": pro.id_nat,
        "family_name": pro.nom or "",
        "authMode": auth_mode,
        "codeCivilite": pro.civilite or "",
        "codeGenreActivite": genre,
    }
