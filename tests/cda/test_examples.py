"""Every official example relevant to an LGC gives zero errors under XSD + StrucMin + its volet
(issue 12, "Tests"), through the real worker process and the official ANS data."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from mocks.cda import Context
from mocks.cda.engine import CdaEngine

# example -> (volet it must be judged by, volet forced or None for the templateId dispatch)
EXAMPLES = {
    "DOC_NON_STRUCTURE_CDA-R2-N1.xml": (None, None),
    "IMG_CR_IMG_2024.01_CDA-R2-Niveau-1.xml": (None, None),
    "TLM-CR_2022.01.xml": ("TLM-CR_2022.01", None),
    "VSM_1.4_2022.01.xml": ("VSM_1.4_2022.01", None),
    "LDL-SES_2022.01.xml": ("LDL-SES_2022.01", None),
    "LDL-EES_2022.01.xml": ("LDL-EES_2022.01", None),
    "IPS-FR_2024.01.xml": ("IPS-FR_2024.01", None),
    # the TSH examples carry templateId …1.1.1.55 without extension (their <?oxygen?> names 2024.01)
    "BIO-CR-BIO_2024.01_TSH_1.xml": ("BIO-CR-BIO_2024.01", "BIO-CR-BIO_2024.01"),
    "BIO-CR-BIO_2024.01_TSH_2.xml": ("BIO-CR-BIO_2024.01", "BIO-CR-BIO_2024.01"),
    "BIO-CR-BIO_2024.01_Microbiologie_V1.xml": ("BIO-CR-BIO_2024.01", None),
    "BIO-CR-BIO_2024.01_Microbiologie_V2.xml": ("BIO-CR-BIO_2024.01", None),
    "eP-MED-DM_2024.01_PosoStruct.xml": ("EP-MED-DM_2024.01", None),
    "eP-MED-DM_2024.01_PosoNonStruct.xml": ("EP-MED-DM_2024.01", None),
    "BIO-CR-BIO_2021.01_Auto-Presentable.xml": ("BIO-CR-BIO_2021.01", None),  # xsl:stylesheet wrapper
}


@pytest.mark.slow
@pytest.mark.parametrize("name", list(EXAMPLES))
def test_official_example_has_no_error(
    engine: CdaEngine, qualified_tenant: str, example: Callable[[str], bytes], name: str
) -> None:
    volet, forced = EXAMPLES[name]
    report = engine.validate(
        example(name), Context(tenant=qualified_tenant, volet=forced, name=name), timeout=180
    )
    assert report.state == "done"
    assert report.profiles == ["StrucMin", *([volet] if volet else [])]
    assert report.volet == volet
    errors = [f"{f.rule} {f.pattern} {f.location}: {f.message}" for f in report.errors]
    assert errors == []
    assert "CDA-ENGINE" not in {f.rule for f in report.findings if f.severity != "info"}
    svrl = engine.svrl(report.id or 0)
    assert set(svrl) == set(report.profiles)
    assert all("schematron-output" in text for text in svrl.values())


@pytest.mark.slow
def test_tsh_example_by_the_ans_table_is_judged_by_2021(engine: CdaEngine, qualified_tenant: str,
                                                       example: Callable[[str], bytes]) -> None:  # fmt: skip
    """Without a forced volet, the ANS table sends a …55 without extension to CR-BIO 2021.01, whose
    section list the 2024 example breaks: said, with an info finding explaining the choice."""
    report = engine.validate(
        example("BIO-CR-BIO_2024.01_TSH_1.xml"), Context(tenant=qualified_tenant), timeout=180
    )
    assert report.volet == "BIO-CR-BIO_2021.01"
    assert [f.rule for f in report.errors] == ["CDA-VOLET"]
    assert any(
        f.rule == "CDA-VOLET" and f.severity == "info" and "sans extension" in f.message
        for f in report.findings
    )
