"""The INSi error catalogue (research insi.md 3.2), by the names fault rules use.

Each entry is an `InsiFault`: the SOAP role (`code`), the `siram_NNN` subcode and the reason, plus
the `siram:Erreur` detail — its code, severity and text, whether the platform echoes the
MessageID, and the attribute order seen on the wire. `legacy` overrides them for the older eras
(`2022`, `cnda`), where the application faults were `S:Receiver`, `severite="fatal"`, no messageID.

Aliases: `siram_100` is `desir_550` and `siram_40` is `insi_102` (a fault rule may name either
the subcode or the detail code).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from insi.wire import FaultSpec
from mocks.errors import Catalogue, SoapFault

REASON_ACCESS = (
    "L'accès par ce progiciel au service n'est pas autorisé. Contactez l'éditeur du progiciel ou votre "
    "responsable informatique."
)
REASON_UNAVAILABLE = (
    "Le service est temporairement inaccessible. Veuillez renouveler votre demande ultérieurement. "
    "Si le problème persiste, contactez l'éditeur du progiciel ou votre responsable informatique."
)
TEXT_TRAITS_TECH = "L'appel au service de recherche avec les traits d'identité renvoie une erreur technique."
TEXT_DROITS = "Vous ne disposez pas des droits suffisants pour accéder à ce service"


@dataclass(frozen=True, kw_only=True)
class InsiFault(SoapFault):
    siram_code: str  # siram:Erreur/@code, e.g. "desir_550"
    severite: str
    text: str
    message_id: bool  # the platform echoes the request's MessageID in siram:Erreur/@messageID
    order: tuple[str, ...]  # attribute order of siram:Erreur
    legacy: Mapping[str, Any] = field(default_factory=dict)  # overrides for the 2022 and cnda eras


def _def(name: str, description: str, *, role: str, code: str, **data: Any) -> InsiFault:
    return InsiFault(name=name, description=description, http_status=500, code=role, siram_code=code, **data)


_DEFS = [
    _def(
        "desir_550",
        "IDAM (numéro d'autorisation CNDA) inconnu [seen: padoa, live 2026]",
        role="Sender",
        subcode="siram_100",
        reason=REASON_ACCESS,
        code="desir_550",
        severite="erreur",
        text="Numéro d'autorisation du logiciel inconnu.",
        message_id=True,
        order=("code", "messageID", "severite"),
        legacy={"order": ("code", "messageID", "severite")},
    ),
    _def(
        "insi_102",
        "erreur technique de la recherche par traits (ce que la plateforme de test répond souvent pour "
        "un CR01 attendu) [seen: SAPA 2023, padoa]",
        role="Sender",
        subcode="siram_40",
        reason=REASON_UNAVAILABLE,
        code="insi_102",
        severite="fatale",
        text=TEXT_TRAITS_TECH,
        message_id=True,
        order=("code", "severite", "messageID"),
        legacy={"role": "Receiver", "severite": "fatal", "message_id": False, "order": ("severite", "code")},
    ),
    _def(
        "desir_1020",
        "service appelé temporairement indisponible (passerelle DESIR) [seen: padoa 2023-2025]",
        role="Sender",
        subcode="siram_40",
        reason=REASON_UNAVAILABLE,
        code="desir_1020",
        severite="fatale",
        text="Le service appelé est temporairement indisponible",
        message_id=True,
        order=("code", "severite", "messageID"),
        legacy={"role": "Receiver"},
    ),
    _def(
        "DESIR_560",
        "niveau d'accès insuffisant : certificat dont le CN n'est ni INSI-AUTO ni INSI-MANU, assertion PS "
        "refusée [seen: message only; subcode and severity inferred]",
        role="Sender",
        subcode="siram_100",
        reason="Niveau d'accès insuffisant",
        code="DESIR_560",
        severite="erreur",
        text=TEXT_DROITS,
        message_id=True,
        order=("code", "messageID", "severite"),
        legacy={},
    ),
    _def(
        "certificat_inconnu",
        "certificat client inconnu, expiré ou révoqué [seen: text only; wire format inferred]",
        role="Sender",
        subcode="siram_100",
        reason=REASON_ACCESS,
        code="DESIR_500",
        severite="erreur",
        text="Client SOAP certificat inconnu",
        message_id=True,
        order=("code", "messageID", "severite"),
        legacy={},
    ),
    _def(
        "insi_19",
        "nom de naissance absent [seen: ABAK test fixture only, unverified]",
        role="Sender",
        subcode="siram_10",
        reason="Le champ nom de naissance est obligatoire",
        code="insi_19",
        severite="erreur",
        text="Le champ nom de naissance est obligatoire",
        message_id=True,
        order=("code", "severite", "messageID"),
        legacy={"message_id": False, "order": ("severite", "code")},
    ),
    _def(
        "insi_111",
        "indisponibilité des téléservices [seen: ABAK test fixture only, unverified]",
        role="Receiver",
        subcode="siram_40",
        reason=REASON_UNAVAILABLE,
        code="insi_111",
        severite="fatale",
        text="Indisponibilité des téléservices",
        message_id=True,
        order=("code", "severite", "messageID"),
        legacy={"severite": "fatal", "message_id": False, "order": ("severite", "code")},
    ),
    _def(
        "conformite",
        "refus du mode strict de la sandbox (message non conforme) : le texte est celui du constat "
        "[sandbox-specific]",
        role="Sender",
        subcode="siram_10",
        reason="Requête non conforme",
        code="conformite",
        severite="erreur",
        text="Requête non conforme",
        message_id=True,
        order=("code", "severite", "messageID"),
        legacy={},
    ),
]

# aliases by subcode, for fault rules written with the SOAP subcode
ERRORS = Catalogue(_DEFS, aliases={"siram_100": "desir_550", "siram_40": "insi_102"})


def fault_spec(error: InsiFault, era: str, message_id: str | None, text: str | None = None) -> FaultSpec:
    """How `error` is written on the wire in `era`, echoing `message_id` where the platform does."""
    data: dict[str, Any] = {
        "role": error.code,
        "subcode": error.subcode,
        "reason": error.reason,
        "code": error.siram_code,
        "severite": error.severite,
        "text": error.text,
        "message_id": error.message_id,
        "order": error.order,
    }
    if era != "live":
        data.update(error.legacy)
    echo = message_id if data.get("message_id") else None
    return FaultSpec(
        role=str(data["role"]),
        subcode=data.get("subcode"),
        reason=str(data["reason"]),
        code=str(data["code"]),
        severite=str(data["severite"]),
        text=text if text is not None else str(data["text"]),
        message_id=echo,
        attribute_order=tuple(data["order"]),
    )
