"""Findings on what the LGC sent to ApCV (never a refusal by themselves; strict mode refuses an
error finding with `REQUETE_INVALIDE`). References: the Pyxvital templates (research
apcv-sesam-vitale-igc-sante.md A1.3), the AMO envelope shared with INSi (insi.md 1.5)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from apcv import wire
from mocks.findings import Rule, Rules

if TYPE_CHECKING:
    from mocks.findings import Findings

R_TEMPLATES = "research apcv A1.3 (gabarits Pyxvital ApCV_AUTH / ApCV_SIGN)"
R_LPS = "research insi.md 1.5 (ContexteLPS des téléservices AMO)"
FACTURATION = re.compile(r"^\d{9}$")  # n° de facturation (8 chiffres) + clé
SPECIALITE = re.compile(r"^\d{2}$")

RULES = Rules(
    [
        Rule("APCV-MESSAGE", "error", "Message SOAP 1.2 ApCV lisible", R_TEMPLATES),
        Rule(
            "APCV-ASSERTION",
            "error",
            "Assertion CPS signée, valide, du porteur de la carte",
            "research insi.md 1.4",
        ),
        Rule(
            "APCV-ASSERTION-CERTIFICAT",
            "warning",
            "Assertion signée avec le certificat de signature de la CPS",
            "research insi.md 1.4",
        ),
        Rule(
            "APCV-ASSERTION-FORME",
            "warning",
            "Forme de l'assertion PS (Issuer, NameID, attributs)",
            "research insi.md 1.4",
        ),
        Rule(
            "APCV-LPS",
            "error",
            "En-tête ctxlps:ContexteLPS complet (Version 01_00, Id, Temps, Emetteur, LPS)",
            R_LPS,
        ),
        Rule("APCV-ACTION", "warning", "wsa:Action présente et conforme au corps du message", R_TEMPLATES),
        Rule("APCV-MESSAGEID", "warning", "wsa:MessageID présent", R_TEMPLATES),
        Rule("APCV-VERSION", "warning", "Attribut version du corps conforme à l'espace de noms", R_TEMPLATES),
        Rule(
            "APCV-PS",
            "warning",
            "ProfessionnelSante : IdentifiantFacturation (9 chiffres) et CodeSpecialiteAMO",
            R_TEMPLATES,
        ),
        Rule(
            "APCV-FACTURE",
            "error",
            "Facture de signerVitale : NIRAssure et une empreinte DonneeFSE ou DonneeDRE",
            R_TEMPLATES,
        ),
    ]
)


def check_request(f: Findings, req: wire.Request, assertion_facturation: str | None) -> None:
    _lps(f, req.lps)
    expected = wire.action(req.operation, req.version)
    if not req.wsa_action:
        f.add(
            "APCV-ACTION",
            "warning",
            f"wsa:Action absent ({expected} attendu)",
            R_TEMPLATES,
            "/soap:Header/wsa:Action",
        )
    elif req.wsa_action != expected:
        f.add(
            "APCV-ACTION",
            "warning",
            f"wsa:Action « {req.wsa_action} » ne correspond pas au corps ({expected} attendu)",
            R_TEMPLATES,
            "/soap:Header/wsa:Action",
        )
    if not req.message_id:
        f.add("APCV-MESSAGEID", "warning", "wsa:MessageID absent", R_TEMPLATES, "/soap:Header/wsa:MessageID")
    if req.version_attr != req.version:
        f.add(
            "APCV-VERSION",
            "warning",
            f"version=« {req.version_attr} » sur un corps de l'espace {req.namespace} ({req.version} attendu)",
            R_TEMPLATES,
            "/soap:Body/*/@version",
        )
    if req.operation == wire.OP_AUTH:
        _ps(f, req.facturation, req.specialite, assertion_facturation)
    if req.operation == wire.OP_SIGNER:
        inv = req.invoice
        if not inv.nir_assure:
            f.add(
                "APCV-FACTURE",
                "error",
                "Facture/NIRAssure absent",
                R_TEMPLATES,
                "/soap:Body/SignerVitaleReq/Facture",
            )
        if not (inv.donnee_fse or inv.donnee_dre):
            f.add(
                "APCV-FACTURE",
                "error",
                "ni DonneeFSE ni DonneeDRE : l'empreinte de la facture à signer est absente",
                R_TEMPLATES,
                "/soap:Body/SignerVitaleReq/Facture",
            )


def _ps(f: Findings, facturation: str | None, specialite: str | None, from_assertion: str | None) -> None:
    loc = "/soap:Body/AuthentifierUtilisateurProximiteReq/ProfessionnelSante"
    if not facturation or not FACTURATION.match(facturation):
        f.add(
            "APCV-PS",
            "warning",
            f"IdentifiantFacturation « {facturation or ''} » : n° de facturation du PS et sa clé (9 chiffres) attendus",
            R_TEMPLATES,
            loc + "/IdentifiantFacturation",
        )
    elif from_assertion and from_assertion != facturation:
        f.add(
            "APCV-PS",
            "warning",
            f"IdentifiantFacturation « {facturation} » différent de l'attribut identifiantFacturation de l'assertion ({from_assertion})",
            R_TEMPLATES,
            loc + "/IdentifiantFacturation",
        )
    if not specialite or not SPECIALITE.match(specialite):
        f.add(
            "APCV-PS",
            "warning",
            f"CodeSpecialiteAMO « {specialite or ''} » : code spécialité AMO sur 2 chiffres attendu",
            R_TEMPLATES,
            loc + "/CodeSpecialiteAMO",
        )


def _lps(f: Findings, lps: wire.Lps) -> None:
    loc = "/soap:Header/ctxlps:ContexteLPS"
    if not lps.present:
        f.add("APCV-LPS", "error", "en-tête ctxlps:ContexteLPS absent", R_LPS, loc)
        return
    if lps.version != "01_00":
        f.add(
            "APCV-LPS",
            "warning",
            f"ContexteLPS/@Version « {lps.version} » : 01_00 attendu",
            R_LPS,
            loc + "/@Version",
        )
    for name, value in (("Id", lps.id), ("Temps", lps.temps), ("Emetteur", lps.emetteur)):
        if not value:
            f.add("APCV-LPS", "error", f"ContexteLPS/{name} absent ou vide", R_LPS, f"{loc}/ctxlps:{name}")
    if not lps.has_lps:
        f.add("APCV-LPS", "error", "ContexteLPS/LPS absent", R_LPS, loc + "/ctxlps:LPS")
        return
    if not lps.idam:
        f.add(
            "APCV-LPS",
            "error",
            "LPS/IDAM absent (numéro d'autorisation CNDA)",
            R_LPS,
            loc + "/ctxlps:LPS/ctxlps:IDAM",
        )
    elif lps.idam_r != "4":
        f.add(
            "APCV-LPS",
            "warning",
            f"LPS/IDAM/@R « {lps.idam_r} » : 4 attendu",
            R_LPS,
            loc + "/ctxlps:LPS/ctxlps:IDAM",
        )
    for name, value in (("Version", lps.lps_version), ("Instance", lps.instance), ("Nom", lps.nom)):
        if not value:
            f.add("APCV-LPS", "error", f"LPS/{name} absent ou vide", R_LPS, f"{loc}/ctxlps:LPS/ctxlps:{name}")
    if lps.nom and not lps.nom.startswith("urn:lps:"):
        f.add(
            "APCV-LPS",
            "warning",
            f"LPS/Nom « {lps.nom} » : forme urn:lps:<nom>:<version> attendue",
            R_LPS,
            loc + "/ctxlps:LPS/ctxlps:Nom",
        )


def refusal(f: Findings) -> str:
    """The text of the strict-mode refusal: the first error finding."""
    first = f.errors[0] if f.errors else None
    return f"Requête non conforme : {first.message}" if first else "Requête non conforme"
