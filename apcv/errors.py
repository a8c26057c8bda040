"""The ApCV error catalogue, by the names fault rules use. [inferred] The real catalogue is not
public (research apcv-sesam-vitale-igc-sante.md A3): only `ERREUR_INTERNE_SERVEUR` (an enum of
the ApCV server, A1.3) and `61441` (CPS absent, Jfse's view, A1.4) are seen. The other names are
ours, upper snake case like the server's enum.

Each entry is an `ApcvFault`: a SOAP 1.2 fault whose Subcode and `siram:Erreur` detail follow the
other AMO teleservices behind the same gateway (INSi, research insi.md 3.1): `siram_10` for a
request the service cannot serve, `siram_100` for access, `siram_40` for the service itself.
`61441` answers `authentifierUtilisateurProximite` with the administrative data only (no
context); every other operation answers it as a fault.
"""

from __future__ import annotations

from dataclasses import dataclass

from mocks.errors import Catalogue, SoapFault


@dataclass(frozen=True, kw_only=True)
class ApcvFault(SoapFault):
    severite: str = "erreur"  # siram:Erreur/@severite


def _def(
    name: str, description: str, subcode: str, reason: str, *, code: str = "Sender", severite: str = "erreur"
) -> ApcvFault:
    return ApcvFault(
        name=name, description=description, code=code, subcode=subcode, reason=reason, severite=severite
    )


_DEFS = [
    _def(
        "QR_INVALIDE",
        "Donnees illisible : pas un QR code ApCV de la sandbox, signature fausse, QR d'un autre tenant, "
        "application carte Vitale non activée, ou Donnees vide sans contexte NFC en attente [inferred]",
        "siram_10",
        "Les données de l'application carte Vitale sont invalides.",
    ),
    _def(
        "QR_EXPIRE",
        "QR code présenté après sa fin de validité (horloge de la sandbox) [inferred]",
        "siram_10",
        "Le QR code de l'application carte Vitale a expiré : le patient doit en présenter un nouveau.",
    ),
    _def(
        "QR_DEJA_UTILISE",
        "QR code déjà utilisé par un autre PS ou pour un contexte détruit ou expiré (rejeu) [inferred]",
        "siram_10",
        "Ce QR code a déjà été utilisé : le patient doit en présenter un nouveau.",
    ),
    _def(
        "CARTE_OPPOSEE",
        "carte Vitale du patient en opposition [inferred]",
        "siram_10",
        "La carte Vitale de ce patient fait l'objet d'une opposition.",
    ),
    _def(
        "CONTEXTE_INCONNU",
        "aucun contexte ApCV de ce PS avec cet identifiant (jamais créé, ou détruit) [inferred]",
        "siram_10",
        "Contexte ApCV inconnu.",
    ),
    _def(
        "CONTEXTE_EXPIRE",
        "contexte ApCV utilisé après sa DateFinValidite : renouveler par une nouvelle lecture [inferred]",
        "siram_10",
        "Le contexte ApCV a expiré : une nouvelle lecture de l'application carte Vitale est nécessaire.",
    ),
    _def(
        "BENEFICIAIRE_ABSENT",
        "signerVitale pour un assuré ou un bénéficiaire qui n'est pas sur le contexte [inferred]",
        "siram_10",
        "Le bénéficiaire de la facture n'est pas porté par le contexte ApCV.",
    ),
    _def(
        "PS_NON_AUTORISE",
        "le contexte appartient à un autre PS, ou l'assertion CPS ne désigne pas le porteur de son "
        "certificat [inferred]",
        "siram_100",
        "Le professionnel de santé n'est pas autorisé à utiliser ce contexte ApCV.",
    ),
    _def(
        "ASSERTION_INVALIDE",
        "assertion CPS non signée, signature invalide, expirée, ou signataire non valide [inferred]",
        "siram_100",
        "L'authentification du professionnel de santé a échoué.",
    ),
    _def(
        "61441",
        "CPS absente : authentifierUtilisateurProximite restitue les seules données administratives "
        "(sans contexte) ; les autres opérations sont refusées [seen: code in Jfse; wire inferred]",
        "siram_100",
        "CPS absente : seules les données administratives des patients sont disponibles.",
    ),
    _def(
        "REQUETE_INVALIDE",
        "message illisible, élément ou en-tête obligatoire absent (ContexteLPS...), opération inconnue, "
        "ou refus du mode strict [inferred]",
        "siram_10",
        "Requête non conforme.",
    ),
    _def(
        "VERSION_SOAP",
        "enveloppe SOAP 1.1 : le service parle SOAP 1.2 (faute VersionMismatch, en-tête Upgrade, SOAP 1.2 "
        "partie 1 §5.4.7)",
        "siram_10",
        "Version de SOAP non supportée : SOAP 1.2 attendu.",
        code="VersionMismatch",
    ),
    _def(
        "ERREUR_INTERNE_SERVEUR",
        "erreur interne du service ApCV [seen: enum ApCVError of the server; wire inferred]",
        "siram_40",
        "Le service est temporairement inaccessible. Veuillez renouveler votre demande ultérieurement.",
        code="Receiver",
        severite="fatale",
    ),
]

ERRORS = Catalogue(_DEFS)
