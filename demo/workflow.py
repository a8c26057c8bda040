"""The whole Ségur workflow of an LGC, in order (issue 21), and the `--fail` presets.

Each step is one function of the service modules; `STEPS` says which services it needs (a
disabled one skips it) and which earlier results (a missing one skips it too).
"""

from __future__ import annotations

from dataclasses import dataclass

from demo import annuaire, balance, dmp, document, identity, mssante, pki, psc
from demo.run import Step

STEPS = [
    Step("1", pki.step_credentials, ("pki",)),
    Step("2", psc.step_login, ("psc",), ("creds",)),
    Step("3.1", identity.step_apcv, ("apcv",), ("creds",)),
    Step("3.2", identity.step_insi, ("insi",), ("creds",)),
    Step("4", annuaire.step_annuaire, ("annuaire",), ("creds",)),
    Step("5", document.step_document, (), ("patient",)),
    Step("6.1", dmp.step_td02, ("dmp",), ("creds", "patient")),
    Step("6.2", dmp.step_td03, ("dmp",), ("dmp_authorisation",)),
    Step("6.3", dmp.step_td21, ("dmp",), ("letter", "dmp_authorisation")),
    Step("6.4", dmp.step_td31, ("dmp",), ("dmp_fed",)),
    Step("6.5", dmp.step_td32, ("dmp",), ("dmp_entry",)),
    Step("6.6", dmp.step_td33a, ("dmp",), ("dmp_entry",)),
    Step("6.7", dmp.step_td21_rplc, ("dmp",), ("dmp_entry",)),
    Step("6.8", dmp.step_td33c, ("dmp",), ("dmp_entry",)),
    Step("7.1", mssante.step_app, ("mss",), ("letter", "recipient")),
    Step("7.2", mssante.step_per, ("mss",), ("letter", "psc_tokens")),
    Step("7.3", mssante.step_imap, ("mss",), ("psc_tokens", "mss_per")),
    Step("8.1", balance.step_rounds, (), ("letter", "recipient", "patient")),
    Step("8.2", balance.step_scoreboard, ()),
]


@dataclass(frozen=True)
class Preset:
    name: str
    step: str  # the step whose answer shows the error; the run stops after it
    what: str  # French, for the trainer


PRESETS = {
    p.name: p
    for p in (
        Preset(
            "vihf-cle-auth",
            "6.1",
            "VIHF signé avec la clé d'authentification de la CPS → faute DMPInvalidCertificate",
        ),
        Preset(
            "ins-non-qualifie",
            "6.3",
            "document pour un INS jamais qualifié par l'INSi → constat CDA-INS-NOT-QUALIFIED ; le DMP l'accepte, le solde ne le compte pas",
        ),
        Preset("xdm-casse", "7.1", "IHE_XDM dont METADATA.XML porte un hash faux → constat MSS-XDM-HASH"),
        Preset("xades-absente", "6.3", "lot ITI-41 sans signature XAdES → refus du DMP"),
        Preset("ecps-refusee", "2", "notification e-CPS refusée sur le téléphone → error=access_denied"),
    )
}


def steps_for(preset: str | None) -> list[Step]:
    if preset is None:
        return list(STEPS)
    target = PRESETS[preset].step
    ids = [s.id for s in STEPS]
    return STEPS[: ids.index(target) + 1]
