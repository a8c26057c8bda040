"""Mutations of the official examples, each firing its expected rule and only on the mutated
document (the unmutated one is clean: test_examples.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from mocks.cda import Context
from mocks.cda.engine import CdaEngine
from tests.cda import mutations as m
from tests.cda.conftest import unique

N1 = "DOC_NON_STRUCTURE_CDA-R2-N1.xml"
VSM = "VSM_1.4_2022.01.xml"

# (example, mutation, rule that must fire, words its message or location must hold)
CASES = {
    "no realmCode": (N1, m.no_realm, "CDA-STRUCMIN", "realmCode"),
    "code outside JDV_J07": (N1, m.type_code_outside_j07, "CDA-STRUCMIN", "1.2.250.1.213.1.1.5.471"),
    "N1 with a fourth templateId": (N1, m.fourth_template, "CDA-STRUCMIN", "templateId"),
    "mediaType image/png": (N1, m.media_png, "CDA-N1-MEDIATYPE", "image/png"),
    "bad base64": (N1, m.bad_base64, "CDA-N1-BASE64", "base64"),
    "production INS OID": (N1, m.production_oid, "CDA-INS-OID", "1.2.250.1.213.1.4.8"),
    "missing birthplace with an INS": (N1, m.no_birthplace, "CDA-STRUCMIN", "lieu de naissance"),
    "facility code outside J02": (N1, m.facility_outside_j02, "CDA-STRUCMIN", "healthCareFacility"),
    "signatureCode not S": (N1, m.signature_not_s, "CDA-STRUCMIN", "signatureCode"),
    "element unknown to the XSD": (N1, m.xsd_unknown_element, "CDA-XSD", "nonsense"),
    "VSM without long-term treatment section": (VSM, m.vsm_no_long_term_treatment, "CDA-VOLET", "1.2.250.1.213.1.1.2.32"),
}  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("case", list(CASES))
def test_mutation_fires_its_rule(
    engine: CdaEngine, qualified_tenant: str, example: Callable[[str], bytes], case: str
) -> None:
    name, mutate, rule, words = CASES[case]
    report = engine.validate(
        unique(m.edit(example(name), mutate)), Context(tenant=qualified_tenant), timeout=180
    )
    assert report.state == "done"
    fired = [f for f in report.errors if f.rule == rule]
    assert fired, f"{rule} not fired; errors: {[(f.rule, f.message[:120]) for f in report.errors]}"
    assert any(words in f.message + f.location + f.pattern for f in fired), [f.message for f in fired]
    if rule in ("CDA-STRUCMIN", "CDA-VOLET"):  # the pattern/assert id and the release are named
        assert all(f.pattern and f.version and ".sch" in f.reference for f in fired)


def test_non_qualified_ins(engine: CdaEngine, cda_runner, example: Callable[[str], bytes]) -> None:  # type: ignore[no-untyped-def]
    """The same example in a tenant where INSi never qualified its INS (no evidence)."""
    report = engine.submit(example(N1), Context(tenant="default"))
    fired = [f for f in report.findings if f.rule == "CDA-INS-NOT-QUALIFIED"]
    assert len(fired) == 1 and "279035121518989" in fired[0].message
    assert (
        fired[0].location == "/ClinicalDocument/recordTarget/patientRole/id[1]"
        or "patientRole/id" in fired[0].location
    )


def test_xds_type_code_mismatch(
    engine: CdaEngine, qualified_tenant: str, example: Callable[[str], bytes]
) -> None:
    doc = example(N1)
    good = engine.submit(
        doc,
        Context(
            tenant=qualified_tenant, xds={"typeCode": {"code": "11502-2", "scheme": "2.16.840.1.113883.6.1"}}
        ),
    )
    assert "CDA-XDS-TYPECODE" not in good.rules()
    bad = engine.submit(
        doc,
        Context(
            tenant=qualified_tenant, xds={"typeCode": {"code": "11490-0", "scheme": "2.16.840.1.113883.6.1"}}
        ),
    )
    fired = [f for f in bad.findings if f.rule == "CDA-XDS-TYPECODE"]
    assert len(fired) == 1 and "11490-0" in fired[0].message and "11502-2" in fired[0].message


def test_twin_pdf_one_byte_off(
    engine: CdaEngine, qualified_tenant: str, example: Callable[[str], bytes]
) -> None:
    doc = example(N1)
    pdf = m.n1_pdf(doc)
    same = engine.submit(doc, Context(tenant=qualified_tenant, twin_pdf=pdf))
    assert "CDA-N1-TWIN-PDF" not in same.rules()
    off = engine.submit(doc, Context(tenant=qualified_tenant, twin_pdf=m.one_byte_off(pdf)))
    fired = [f for f in off.findings if f.rule == "CDA-N1-TWIN-PDF"]
    assert len(fired) == 1 and f"premier écart à l'octet {len(pdf) // 2}" in fired[0].message
