"""The DMP's error catalogue. Each entry declares its carrier:

- `SoapFault`: a SOAP 1.2 fault as the DMP's Apache CXF stack writes it (`soap:Sender` with a
  `DMP…` subcode and a French reason for the security and rights layer; CXF's own English texts
  for unreadable messages, quoted from CXF's message bundles);
- `Hl7Ack`: an HL7v3 answer of the transaction with `acknowledgement typeCode="AE"|"AR"` and an
  `acknowledgementDetail` code and text (TD0.2, TD0.5, TD1.x);
- `WsStatus`: the `output/status` + `output/context` of the DMP web services (TD0.3, TD0.4, TD1.6).

Texts marked [seen] come from research dmp.md §3.1; every other DMP subcode and wording is
[inferred] (the DMP's error annex, SEL-MP-037, is not public) and listed as such in
docs/services/dmp.md. Any entry can be triggered by a fault rule; `DmpProtocol` writes the HL7 and
WS carriers in the shape of the operation being answered.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, NoReturn

from mocks.errors import Catalogue, ErrorDef, RegistryError, SoapFault


@dataclass(frozen=True, kw_only=True)
class Hl7Ack(ErrorDef):
    """An HL7v3 error acknowledgement in the transaction's own answer message."""

    http_status: int = 200
    type_code: Literal["AE", "AR"] = "AE"
    code: str = ""  # acknowledgementDetail/code
    text: str = ""  # acknowledgementDetail/text


@dataclass(frozen=True, kw_only=True)
class WsStatus(ErrorDef):
    """A web-service answer whose output/status is not DMPOk."""

    http_status: int = 200
    status: str = ""
    context: str = ""


def _fault(name: str, subcode: str | None, reason: str, description: str, code: str = "Sender") -> SoapFault:
    return SoapFault(name=name, description=description, code=code, subcode=subcode, reason=reason)


def _refusal(name: str, reason: str, description: str) -> SoapFault:
    """A rights refusal of PDT-INF-526 / 606 (dmp.rights)."""
    return _fault(name, "DMPAccessDenied", reason, description)


CXF = [
    # CXF ReadHeadersInterceptor XML_STREAM_EXC [seen in CXF's bundle]: garbage, DOCTYPE, truncation
    _fault("malformed", None, "Error reading XMLStreamReader.", "message illisible (XML, DOCTYPE, MIME)"),
    # CXF INVALID_VERSION: the root is not a SOAP envelope
    SoapFault(
        name="version_mismatch",
        description="la racine n'est pas une enveloppe SOAP",
        code="VersionMismatch",
        reason='"{ns}", the namespace on the "{local}" element, is not a valid SOAP version.',
    ),
    # CXF DocLiteralInInterceptor NO_PART_FOUND: a body element the endpoint's WSDL does not have
    _fault(
        "unknown_operation",
        None,
        "Message part {part} was not recognized.  (Does it exist in service WSDL?)",
        "élément de corps inconnu de ce service (opération inexistante ou retirée du WSDL)",
    ),
    # CXF SoapActionInInterceptor: an action naming another operation than the body's
    _fault(
        "action_mismatch",
        None,
        "The given SOAPAction {given} does not match an operation.",
        "action SOAP / WS-Addressing qui ne correspond pas à l'opération du corps",
    ),
    # CXF NO_OPERATION: a retired service (patientCertif, TD0.0)
    _fault("retired", None, "No such operation: {operation}", "service retiré du DMP (TD0.0)"),
    # CXF MUST_UNDERSTAND
    SoapFault(
        name="must_understand",
        description="en-tête mustUnderstand non compris",
        code="MustUnderstand",
        reason="MustUnderstand headers: [{headers}] are not understood.",
    ),
]

VIHF = [
    _fault(
        "vihf_missing",
        "DMPInvalidVIHF",
        "VIHF absent : l'en-tête wsse:Security doit contenir une saml2:Assertion",
        "pas de wsse:Security ou pas d'assertion",
    ),
    _fault(
        "vihf_invalid",
        "DMPInvalidVIHF",
        "VIHF invalide : {what}",
        "assertion illisible, pas SAML 2.0, VIHF_Version, attribut obligatoire absent ou mal formé",
    ),
    _fault(
        "vihf_expired",
        "DMPInvalidVIHF",
        "VIHF expiré ou pas encore valide : {what}",
        "IssueInstant / Conditions hors de la durée de validité (horloge du bac à sable)",
    ),
    _fault(
        "vihf_not_signed",
        "DMPInvalidVIHF",
        "Le VIHF doit être signé par le certificat de signature de la structure en authentification indirecte",
        "VIHF non signé en mode INDIRECTE / INDIRECTE_RENFORCEE",
    ),
    _fault(
        "vihf_signature",
        "DMPInvalidSignature",
        "La signature du VIHF est invalide : {what}",
        "la signature XML du VIHF ne vérifie pas",
    ),
    # [seen] research §3.1 (Dehempe)
    _fault(
        "DMPInvalidCertificate",
        "DMPInvalidCertificate",
        "Le certificat ayant signé le VIHF est invalide : Not a valid signature certificate",
        "VIHF signé avec un certificat qui n'est pas un certificat de signature admis pour ce mode",
    ),
    # [seen] the first sentence; the end of the text is [inferred]
    _fault(
        "vihf_specialty",
        "DMPInvalidVIHF",
        "Aucune spécialité dans le vihf. Spécialité obligatoire pour les Médecins et les Pharmaciens",
        "Role sans seconde valeur (spécialité) pour un médecin ou un pharmacien",
    ),
    _fault(
        "vihf_patient_mismatch",
        "DMPInvalidVIHF",
        "L'identifiant patient du VIHF (resource-id) ne correspond pas à celui du message : {what}",
        "resource-id du VIHF différent du patient du corps (INS ou OID)",
    ),
    _fault(
        "vihf_issuer",
        "DMPInvalidVIHF",
        "L'Issuer du VIHF ne correspond pas au DN du certificat signataire : {what}",
        "Issuer différent du DN (RFC 2253) du certificat de signature",
    ),
    # [seen] DevBox FAQ
    _fault(
        "auth_personne_morale",
        "DMPAuthenticationError",
        "Erreur d'authentification de la personne morale",
        "structure du VIHF différente de celle du certificat d'authentification (mode indirect)",
    ),
    _fault(
        "auth_ps",
        "DMPAuthenticationError",
        "Erreur d'authentification du professionnel : {what}",
        "PS du VIHF différent du porteur de la carte (mode direct), certificat inadapté au mode",
    ),
    # [seen] Dehempe: "Impossible d'effectuer un test d'existence : Structure introuvable ou Inactive"
    _fault(
        "structure_inconnue",
        "DMPAuthenticationError",
        "Impossible d'effectuer {acte} : Structure introuvable ou Inactive",
        "Identifiant_Structure inconnu",
    ),
    # [seen] Dehempe
    _fault(
        "ps_structure",
        "DMPAuthenticationError",
        "Impossible d'effectuer {acte} : PS et Structure non liés",
        "Identifiant_Structure / Secteur_Activite hors des situations d'exercice du PS",
    ),
    _fault(
        "lps_homologation",
        "DMPInvalidVIHF",
        "LPS_ID_HOMOLOGATION_DMP absent ou inconnu : {what}",
        "numéro d'homologation DMP du logiciel absent ou non reconnu",
    ),
]

RIGHTS = [
    _refusal(
        "refus_mode",
        "Transaction {td} non autorisée en {mode}",
        "PDT-INF-526 : transaction refusée pour ce mode d'authentification / d'accès",
    ),
    _refusal(
        "refus_centre15",
        "Transaction {td} autorisée uniquement en mode centre de régulation (centre_15)",
        "TD0.5 hors mode centre 15",
    ),
    _refusal(
        "refus_mt",
        "Transaction {td} réservée au médecin traitant DMP du patient",
        "se supprimer MT sans être le médecin traitant",
    ),
    _refusal(
        "refus_ens",
        "Transaction {td} impossible : le DMP est rattaché à Mon espace santé",
        "PDT-INF-526 note (10) : TD1.3b / TD1.4 / TD1.5 seulement pour un DMP non rattaché à MES",
    ),
    _refusal(
        "refus_bris_de_glace",
        "Accès en mode bris de glace refusé : le patient s'y est opposé",
        "bris de glace sur un DMP avec OPPOSITION_BRIS_DE_GLACE",
    ),
    _refusal(
        "refus_urgence",
        "Accès en mode centre de régulation refusé : le patient s'y est opposé",
        "centre 15 sur un DMP avec OPPOSITION_ACCES_URGENCE",
    ),
    _refusal(
        "refus_bloque",
        "Accès refusé : le patient a bloqué ce professionnel",
        "PS bloqué par le patient (autorisation INTERDIT)",
    ),
    _refusal(
        "refus_autorisation",
        "Accès refusé : le professionnel n'est pas autorisé sur ce DMP ({autorisation})",
        "consultation sans autorisation valide",
    ),
]

HL7 = [
    Hl7Ack(
        name="dmp_inexistant",
        description="pas de DMP pour cet INS (TD1.x sur un patient sans DMP)",
        code="DMPNotFound",
        text="DMP inexistant",
    ),
    Hl7Ack(
        name="dmp_ferme",
        description="DMP fermé (TD1.3b / TD1.4 sur un DMP fermé)",
        code="DMPClosed",
        text="DMP fermé",
    ),
    # [seen] research §2.9: PRPA_IN201313UV02 acknowledgementDetail/code DMPFound "DMP existe"
    Hl7Ack(name="DMPFound", description="création d'un DMP qui existe", code="DMPFound", text="DMP existe"),
    Hl7Ack(
        name="dmp_non_ferme",
        description="réactivation (TD1.2) d'un DMP qui n'est pas fermé",
        code="DMPNotClosed",
        text="Le DMP n'est pas fermé : réactivation impossible",
    ),
    Hl7Ack(
        name="auteur_sans_nom",
        description="PDT-INF-617 : assignedPerson/name/family ou given vide (CPE non nominative)",
        code="DMPInvalidData",
        text="Nom et prénom de l'acteur obligatoires (assignedPerson/name/family et given)",
    ),
    Hl7Ack(
        name="hl7_invalide",
        description="message HL7v3 incomplet (identifiant patient, reasonCode, paramètre absent)",
        type_code="AR",
        code="DMPInvalidRequest",
        text="Requête invalide : {what}",
    ),
    Hl7Ack(
        name="consentement",
        description="TD1.1 / TD1.2 sans le consentement du patient",
        code="DMPInvalidData",
        text="Le consentement du patient ({observation}) est obligatoire",
    ),
]

WS = [
    WsStatus(
        name="ws_invalide",
        description="paramètre absent ou hors de son énumération (TD0.3, TD0.4, TD1.6)",
        status="DMPInvalidParameter",
        context="Paramètre invalide : {what}",
    ),
    WsStatus(
        name="ws_dmp_inexistant",
        description="TD0.3 / TD1.6 sur un patient sans DMP ouvert",
        status="DMPNotFound",
        context="DMP inexistant ou fermé",
    ),
]


def _xds(name: str, code: str, context: str, description: str) -> RegistryError:
    """An XDS error of the registry (TD3.1 / TD3.3): a Failure answer with a RegistryError whose
    errorCode is IHE's (ITI TF-3 Table 4.2.4.1-2) and codeContext a French text [inferred]."""
    return RegistryError(name=name, description=description, error_code=code, context=context)


REGISTRY = [
    _xds(
        "XDSUnknownStoredQuery",
        "XDSUnknownStoredQuery",
        "Requête stockée inconnue : {what}",
        "TD3.1 : identifiant de requête stockée absent, inconnu ou non proposé par le DMP",
    ),
    _xds(
        "XDSStoredQueryParamNumber",
        "XDSStoredQueryParamNumber",
        "Paramètre invalide : {what}",
        "TD3.1 : paramètre inconnu de la requête ou plusieurs valeurs pour un paramètre simple",
    ),
    _xds(
        "XDSStoredQueryMissingParam",
        "XDSStoredQueryMissingParam",
        "Paramètre obligatoire absent : {what}",
        "TD3.1 : paramètre obligatoire de la requête stockée absent",
    ),
    _xds(
        "xds_registry_error",
        "XDSRegistryError",
        "Requête invalide : {what}",
        "TD3.1 / TD3.3 : valeur illisible (syntaxe des slots, date, statut, returnType)",
    ),
    _xds(
        "XDSPatientIdDoesNotMatch",
        "XDSPatientIdDoesNotMatch",
        "L'identifiant patient ne correspond pas à celui du VIHF : {what}",
        "TD3.1 / TD3.3 : patientId (OID ou INS) différent du resource-id du VIHF",
    ),
    _xds(
        "XDSUnknownPatientId",
        "XDSUnknownPatientId",
        "Pas de DMP ouvert pour ce patient : {what}",
        "TD3.1 / TD3.3 sur un patient sans DMP (ou DMP fermé)",
    ),
    _xds(
        "XDSMetadataUpdateError",
        "XDSMetadataUpdateError",
        "Mise à jour impossible : {what}",
        "TD3.3 : document inconnu, transition de statut interdite, OriginalStatus faux, message incomplet",
    ),
    _xds(
        "XDSMetadataVersionError",
        "XDSMetadataVersionError",
        "Version de métadonnées incorrecte : {what}",
        "TD3.3a/b : PreviousVersion différent de la version courante du document",
    ),
    # ITI-41 (TD2.1 / TD2.2): the IHE codes; every codeContext is French and [inferred]
    _xds(
        "XDSRegistryMetadataError",
        "XDSRegistryMetadataError",
        "Métadonnées invalides : {what}",
        "TD2.1 : métadonnée obligatoire absente, lot non signé, XAdES invalide, remplacement (RPLC) incohérent",
    ),
    _xds(
        "XDSRepositoryMetadataError",
        "XDSRepositoryMetadataError",
        "Document refusé : {what}",
        "TD2.1 : document text/xml qui n'est pas un CDA, CDA refusé en mode strict",
    ),
    _xds(
        "XDSMissingDocument",
        "XDSMissingDocument",
        "Document absent pour l'ExtrinsicObject {what}",
        "TD2.1 : un ExtrinsicObject sans xds:Document de même id",
    ),
    _xds(
        "XDSMissingDocumentMetadata",
        "XDSMissingDocumentMetadata",
        "Métadonnées absentes pour le document {what}",
        "TD2.1 : un xds:Document sans ExtrinsicObject de même id",
    ),
    _xds(
        "XDSNonIdenticalHash",
        "XDSNonIdenticalHash",
        "Empreinte incorrecte : {what}",
        "TD2.1 : slot hash différent du SHA-1 des octets reçus",
    ),
    _xds(
        "XDSNonIdenticalSize",
        "XDSNonIdenticalSize",
        "Taille incorrecte : {what}",
        "TD2.1 : slot size différent de la taille des octets reçus",
    ),
    _xds(
        "XDSDuplicateUniqueIdInRegistry",
        "XDSDuplicateUniqueIdInRegistry",
        "uniqueId déjà enregistré : {what}",
        "TD2.1 : uniqueId d'un document ou d'un lot déjà connu du DMP (ou répété dans la soumission)",
    ),
    # [seen] DevBox FAQ for the indirect wording; the direct one is [inferred] by analogy
    _xds(
        "auteur_ex_2_1_1140",
        "XDSRegistryMetadataError",
        "{what}",
        "EX_2.1-1140 : l'utilisateur du VIHF n'est pas auteur (authorPerson / legalAuthenticator ; "
        "authorInstitution en mode indirect ou CPE)",
    ),
    # PDT-INF-617: a non-nominative CPE leaves the author's names empty
    _xds(
        "auteur_sans_nom_xds",
        "XDSRegistryMetadataError",
        "Nom et prénom de l'auteur obligatoires (authorPerson, composantes 2 et 3) : {what}",
        "PDT-INF-617 : TD2.2 avec un authorPerson sans nom ni prénom (CPE non nominative)",
    ),
    _refusal(
        "refus_auteur_maj",
        "Transaction {td} refusée : seul l'auteur du document (ou sa structure) peut le modifier",
        "TD3.3 par un autre que l'auteur (direct), sa structure (indirect / CPE) ou le MT (document du patient)",
    ),
]

# TD3.2 (ITI-43, dmp.retrieve): XDS errors in a RetrieveDocumentSetResponse Failure / PartialSuccess
REPOSITORY = [
    # [seen] research §3.1: an entryUUID given as DocumentUniqueId, codeContext "uniqueId=urn:uuid:…"
    _xds(
        "XDSDocumentUniqueIdError",
        "XDSDocumentUniqueIdError",
        "uniqueId={unique_id}",
        "TD3.2 : uniqueId inconnu dans le DMP du patient (ou un entryUUID donné à la place du uniqueId)",
    ),
    _xds(
        "XDSUnknownRepositoryId",
        "XDSUnknownRepositoryId",
        "repositoryUniqueId={repository}",
        "TD3.2 : RepositoryUniqueId autre que celui du DMP (1.2.250.1.213.4.1.1.1.2)",
    ),
    _xds(
        "xds_repository_error",
        "XDSRepositoryError",
        "Requête invalide : {what}",
        "TD3.2 : RetrieveDocumentSetRequest sans DocumentRequest, ou DocumentUniqueId vide",
    ),
    _refusal(
        "refus_masque",
        "Document masqué aux professionnels de santé : seuls son auteur et le médecin traitant DMP du patient peuvent le consulter",
        "TD3.2 d'un document MASQUE_PS par un PS qui n'en est ni l'auteur ni le médecin traitant (PDT-INF-526 note 6)",
    ),
    _refusal(
        "refus_masque_urgence",
        "Document masqué aux professionnels de santé : consultation en {mode} seulement si le patient l'a autorisé",
        "TD3.2 d'un document MASQUE_PS en bris de glace ou centre 15 (PDT-INF-526 note 7 ; autorisation du patient non émulée)",
    ),
]

ERRORS = Catalogue([*CXF, *VIHF, *RIGHTS, *HL7, *WS, *REGISTRY, *REPOSITORY])


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "…"


def template_of(entry: ErrorDef) -> str:
    """The entry's wording with its `{placeholders}` (reason, text or context)."""
    return str(getattr(entry, "reason", "") or getattr(entry, "text", "") or getattr(entry, "context", ""))


def render_text(entry: ErrorDef, fields: dict[str, str] | None = None) -> str:
    """The entry's wording with `fields` filled in ("…" for a placeholder nobody filled: a fault
    rule raises entries without their context)."""
    return template_of(entry).format_map(_Blank(fields or {}))


def fail(name: str, outcome: str = "", **fields: str) -> NoReturn:
    """Raise catalogue entry `name` with its wording's placeholders filled from `fields`."""
    entry = ERRORS[name]
    ERRORS.fail(name, render_text(entry, fields), outcome, **fields)
