"""Who plays in the demo: the demo personas of the synthetic world (docs/personas.md).

Dr Camille LEMAIRE (`810100000016`, GP SM54, e-CPS) consults at the CENTRE DE SANTE DES LILAS
(`1750000010`, FINESS 750000010, secteur SA05), whose software holds the structure's certificates
(ORG AUTH_CLI, ORG SIGN, INSI-AUTO) and the applicative mailbox `lgc@cds-lilas.mssante.fr`. Her
patient Sophie GIRARD (INS `284057505641289`, open DMP, médecin traitant Dr LEMAIRE) shows the
application carte Vitale, which carries her twins too. The letter goes to Dr Hugo FONTAINE
(`810100000032`, hospital physician), found in the Annuaire Santé.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Cast:
    professional: str = "810100000016"  # idNat_PS = 8 + RPPS
    billing_id: str = "101000016"  # identifiant de facturation (ApCV)
    structure: str = "1750000010"  # idNat_Struct = 1 + FINESS
    secteur: str = "SA05"  # TRE_R02 secteur d'activité of the structure
    specialty: str = "SM54"  # TRE_R38 savoir-faire
    profession: str = "10"  # TRE_G15 Médecin
    patient: str = "demo-girard-sophie"  # persona id (the ApCV phone)
    recipient_rpps: str = "10100000032"  # Dr Hugo FONTAINE, searched in the Annuaire
    idam: str = "TESTSGIE0000"  # CNDA authorisation number placeholder (INSi)
    lps_name: str = "SEGUR-DEMO"
    lps_version: str = "1.0.0"
    homologation: str = "DEMO-CNDA-0001"  # LPS_ID_HOMOLOGATION_DMP
    nil: str = "DEV935997"  # X-MSS-NIL product reference (the ANS example value)
    psc_client: str = "segur-demo"
    psc_secret: str = "segur-demo-secret"
    redirect_uri: str = "http://localhost:8080/segur-demo/callback"

    @property
    def rpps(self) -> str:
        return self.professional[1:]
