"""Who calls the DMP: the TLS client certificate against the VIHF (research dmp.md §1.2-1.3, §3.1).

    caller = authenticate(sandbox, tenant, der, vihf, acte="un test d'existence")
    caller.mode, caller.actor_base ("ps" | "medecin" | "cpe" | "indirect"), caller.ps, caller.structure,
    caller.holder (whom an authorisation belongs to: "PS:<idNat>" or, in indirect modes, "ST:<idNat_Struct>")

- DIRECTE: the TLS certificate is a CPS/CPE *authentication* certificate (`cps_auth`) of the
  professional named by the VIHF NameID; `Identifiant_Structure` and `Secteur_Activite` come from
  the same situation d'exercice of that professional in the population: an unknown structure is
  "Structure introuvable ou Inactive", a structure or sector the professional does not work in is
  "PS et Structure non liés" (both [seen] texts).
- INDIRECTE / INDIRECTE_RENFORCEE: the TLS certificate is the structure's ORG AUTH_CLI; a PS
  certificate is refused; `Identifiant_Structure` must be the certificate's structure, else
  "Erreur d'authentification de la personne morale" ([seen], DevBox FAQ: FINESS EJ/EG).
The médecin traitant column of the rights matrix depends on the patient: dmp.flow asks the state.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from dmp import errors
from dmp.vihf import Vihf, require_specialty
from mocks.pki.model import CallerCertificate

if TYPE_CHECKING:
    from mocks.kernel import Sandbox

BaseActor = Literal["ps", "medecin", "cpe", "indirect"]


@dataclass(frozen=True)
class Caller:
    mode: str  # DIRECTE | INDIRECTE | INDIRECTE_RENFORCEE
    certificate: CallerCertificate
    ps: str  # the VIHF NameID (idNat_PS in direct mode; a local id or RPPS in indirect)
    structure: str  # Identifiant_Structure
    secteur: str
    profession: str
    card_type: int = 0  # 0 CPS, 1 CPF, 2 CPE, 3 CPA (direct mode)
    first_name: str = ""
    last_name: str = ""
    structure_name: str = ""

    @property
    def air(self) -> bool:
        return self.mode == "INDIRECTE_RENFORCEE"

    @property
    def actor_base(self) -> BaseActor:
        if self.mode != "DIRECTE":
            # AIR has its own matrix whose columns are the PS's (PDT-INF-606): the person counts
            if self.air:
                return "cpe" if self.card_type == 2 else ("medecin" if self.profession == "10" else "ps")
            return "indirect"
        if self.card_type == 2:
            return "cpe"
        return "medecin" if self.profession == "10" else "ps"

    @property
    def holder(self) -> str:
        """Who holds an authorisation: the PS in direct and AIR modes, the structure in indirect
        mode (PDT-INF-526 note (1): "l'autorisation est donnée à la structure")."""
        return f"ST:{self.structure}" if self.mode == "INDIRECTE" else f"PS:{self.ps}"

    @property
    def identity(self) -> str:
        who = self.ps if self.mode == "DIRECTE" else f"{self.structure}/{self.ps}"
        return f"{self.mode} {who}"


def _find(sandbox: Sandbox, kind: str, ident: str) -> Any:
    try:
        population = sandbox.population
    except ImportError:
        return None
    return population.professional(ident) if kind == "professional" else population.structure(ident)


def authenticate(sandbox: Sandbox, der: bytes | None, tenant: str, vihf: Vihf, acte: str) -> Caller:
    cert = sandbox.pki.identify(der, tenant)
    if cert.status == "absent":
        errors.fail("auth_ps", what="aucun certificat client TLS")
    if not cert.ok:
        errors.fail("auth_ps", what=f"certificat d'authentification {cert.status} ({cert.subject})")
    if vihf.mode == "DIRECTE":
        return _direct(sandbox, cert, vihf, acte)
    return _indirect(sandbox, cert, vihf, acte)


def _direct(sandbox: Sandbox, cert: CallerCertificate, vihf: Vihf, acte: str) -> Caller:
    if cert.kind != "cps_auth":
        errors.fail(
            "auth_ps", what=f"authentification directe avec un certificat {cert.kind} : carte CPx attendue"
        )
    if vihf.name_id != cert.persona:
        errors.fail("auth_ps", what=f"NameID {vihf.name_id} différent du porteur de la carte {cert.persona}")
    signer = vihf.signer
    if signer is not None and signer.persona != cert.persona:
        errors.fail("DMPInvalidCertificate")
    pro = _find(sandbox, "professional", cert.persona)
    card_type = int(getattr(pro, "card_type", 0) or 0)
    require_specialty(vihf, card_type)
    structure = _find(sandbox, "structure", vihf.structure)
    if structure is None:
        errors.fail("structure_inconnue", acte=acte)
    activities = getattr(pro, "activities", ()) if pro is not None else ()
    if pro is not None and not any(
        a.structure_id == vihf.structure and a.secteur == vihf.secteur for a in activities
    ):
        errors.fail("ps_structure", acte=acte)
    return Caller(
        mode="DIRECTE",
        certificate=cert,
        ps=vihf.name_id,
        structure=vihf.structure,
        secteur=vihf.secteur,
        profession=str(getattr(pro, "profession", "") or (vihf.profession.code if vihf.profession else "")),
        card_type=card_type,
        first_name=str(getattr(pro, "first_name", "")),
        last_name=str(getattr(pro, "last_name", "")),
        structure_name=str(getattr(structure, "name", "")),
    )


def _indirect(sandbox: Sandbox, cert: CallerCertificate, vihf: Vihf, acte: str) -> Caller:
    if cert.kind != "org_auth_cli":
        errors.fail(
            "auth_ps",
            what=f"authentification indirecte avec un certificat {cert.kind} : ORG AUTH_CLI attendu",
        )
    if vihf.structure != cert.persona:
        errors.fail("auth_personne_morale")
    signer = vihf.signer
    if signer is not None and signer.persona != cert.persona:
        errors.fail("auth_personne_morale")
    structure = _find(sandbox, "structure", vihf.structure)
    pro = _find(sandbox, "professional", vihf.name_id)
    card_type = int(getattr(pro, "card_type", 0) or 0)
    require_specialty(vihf, card_type)
    if (
        pro is not None
        and structure is not None
        and not any(a.structure_id == vihf.structure for a in pro.activities)
    ):
        errors.fail("ps_structure", acte=acte)
    return Caller(
        mode=vihf.mode,
        certificate=cert,
        ps=vihf.name_id,
        structure=vihf.structure,
        secteur=vihf.secteur,
        profession=str(getattr(pro, "profession", "") or (vihf.profession.code if vihf.profession else "")),
        card_type=card_type,
        first_name=str(getattr(pro, "first_name", "")),
        last_name=str(getattr(pro, "last_name", "")),
        structure_name=str(getattr(structure, "name", "")),
    )
