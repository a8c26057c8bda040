"""Settings of the Ségur scoreboard (env `SEGUR_SCOREBOARD_*`, flags `--scoreboard-*`), merged into
every process's configuration through `mocks.registry.COMPONENT_SETTINGS`.

The balance thresholds' defaults are the conditions of the balance payment ("paiement du solde")
of the Médecins de ville vague 1 funding, as the ANS webinar on the DSR/AF Médecins de ville
states them (slide "Modalités de versement du financement — zoom paiement du solde"; AF-MDV-LGC-Va1
§6.2): ten documents fed to the DMP with a qualified INS, ten documents sent by MSSanté to
professionals with a qualified INS, one message to the citizen test address
(research cda-segur.md §B.4).
"""

from __future__ import annotations

from mocks.config import Setting

SETTINGS = [
    Setting(
        "scoreboard_catalogue",
        "",
        "requirement catalogue of the scoreboard (default: data/segur/requirements.yaml)",
    ),
    Setting(
        "scoreboard_dmp_threshold",
        10,
        "balance: documents fed to the DMP with a qualified INS (ANS webinar DSR/AF MDV, paiement du solde)",
        "int",
    ),
    Setting(
        "scoreboard_mss_threshold",
        10,
        "balance: documents sent by MSSanté to professionals with a qualified INS (same source)",
        "int",
    ),
    Setting(
        "scoreboard_citizen_threshold",
        1,
        "balance: messages sent by MSSanté to the citizen test address (same source)",
        "int",
    ),
    Setting("scoreboard_window_minutes", 15, "default time window of a scenario run, minutes", "int"),
    Setting(
        "scoreboard_not_applicable",
        "",
        "requirement ids the editor declares not applicable to its software (comma separated)",
    ),
]
