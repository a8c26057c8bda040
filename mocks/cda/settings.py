"""Settings of the CDA engine (env `SEGUR_CDA_*`, flags `--cda-*`), merged into every process's
configuration through `mocks.registry.service_settings` (the engine is a kernel component, not a
service)."""

from __future__ import annotations

from mocks.config import Setting

SETTINGS = [
    Setting(
        "cda_data",
        "",
        "folder of the ANS validator data TestContenuCDA-3-0 (default: <data_dir>/cda/TestContenuCDA-3-0, "
        "written by `segur-sandbox cda install`)",
    ),
    Setting(
        "cda_max_profiles", 4, "schematron profiles kept compiled in memory (LRU; StrucMin counts)", "int"
    ),
    Setting(
        "cda_worker",
        "auto",
        "run the Saxon worker process here: auto (when this process runs every service, or none: the "
        "console container), on, off",
    ),
    Setting(
        "cda_precompile",
        "auto",
        "profiles compiled in the background after Ready: auto (StrucMin, then the volets used lately), "
        "none, or a comma-separated list of volet names (e.g. VSM_1.4_2022.01)",
    ),
    Setting("cda_timeout", 60, "seconds a strict-mode service waits for a CDA verdict", "int"),
    Setting("cda_max_bytes", 20 * 1024 * 1024, "largest CDA document accepted (bytes)", "int"),
    Setting(
        "cda_ins_oids",
        "test",
        "INS OID family the sandbox expects in documents: test (1.2.250.1.213.1.4.10/.11) or production (.8/.9)",
    ),
    Setting(
        "cda_max_findings",
        200,
        "findings of one document attached to a journal entry (the report keeps all)",
        "int",
    ),
]
