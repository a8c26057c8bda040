"""The documents the sandbox generates for injection, judged by the official ANS engine (XSD,
structuration minimale, their volet: CR-BIO 2024.01, VSM 1.4; the N1 against StrucMin and our N1
rules with its twin PDF), and our METADATA.XML compared with what the ANS stylesheet
CDAHeaderToXDM.xsl derives from the same header (read from ../shared/specs; the product writes
its own)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from lxml import etree

from mocks.cda import Context
from mocks.cda.engine import CdaEngine
from mocks.runner import Runner
from mssante import metadata, xdm, xdm_build
from mssante.samples import KINDS, Actor, Recipient, generate
from tests.cda.conftest import cda_runner, engine  # noqa: F401 - the CDA tests' session fixtures

XSL = (
    Path(__file__).resolve().parents[2].parent
    / "shared"
    / "specs"
    / "cda"
    / "TestContenuCDA-3-0"
    / "FeuilleDeStyle"
    / "CDAHeaderToXDM.xsl"
)
RECIPIENT = "camille.lemaire@medecin.mssante.fr"


@pytest.fixture(scope="module")
def docs(cda_runner: Runner) -> dict[str, object]:  # noqa: F811
    pop = cda_runner.sandbox.population
    author = Actor.of(pop.professional("810100000032"), pop.structure("1370000028"))
    now = datetime.now().astimezone().replace(microsecond=0)
    return {
        kind: generate(
            kind,
            patient=pop.patient("demo-girard-sophie"),
            author=author,
            recipients=[Recipient(RECIPIENT, "LEMAIRE Camille", "810100000016")],
            now=now,
        )  # fmt: skip
        for kind in KINDS
    }


@pytest.fixture
def qualified(cda_runner: Runner) -> Iterator[str]:  # noqa: F811
    sandbox = cda_runner.sandbox
    name = "mss-samples-" + uuid.uuid4().hex[:8]
    sandbox.tenants.create(name, "", [])
    sandbox.evidence.append(name, "ins.qualified", "2840575056412", {"via": "insi"})  # as INSi records it
    yield name
    sandbox.tenants.delete(name)


@pytest.mark.parametrize(
    ("kind", "volet"), [("crbio", "BIO-CR-BIO_2024.01"), ("ldl", None), ("vsm", "VSM_1.4_2022.01")]
)
def test_generated_documents_pass_the_official_engine(
    engine: CdaEngine,  # noqa: F811
    docs: dict[str, object],
    qualified: str,
    kind: str,
    volet: str | None,
) -> None:
    doc = docs[kind]
    ctx = Context(tenant=qualified, recipients=[RECIPIENT], twin_pdf=doc.pdf if kind == "ldl" else None)  # type: ignore[attr-defined]
    report = engine.validate(doc.cda, ctx, timeout=600)  # type: ignore[attr-defined]
    assert report.state == "done" and report.volet == volet
    assert "StrucMin" in report.profiles and (volet is None or volet in report.profiles)
    assert not [f for f in report.findings if f.severity in ("error", "warning")], [
        f.as_dict() for f in report.findings
    ]


def _ans_metadata(cda: bytes) -> etree._Element:
    """CDAHeaderToXDM.xsl run by Saxon on the header (the stylesheet expects no namespace)."""
    saxonche = pytest.importorskip("saxonche")
    root = etree.fromstring(cda)
    for el in root.iter():
        if isinstance(el.tag, str) and el.tag.startswith("{"):
            el.tag = el.tag.split("}", 1)[1]
    plain = re.sub(r' xmlns(:(?!xsi)\w+)?="[^"]*"', "", etree.tostring(root).decode())
    with saxonche.PySaxonProcessor(license=False) as proc:
        compiled = proc.new_xslt30_processor().compile_stylesheet(stylesheet_file=str(XSL))
        out = compiled.transform_to_string(xdm_node=proc.parse_xml(xml_text=plain))
    return etree.fromstring(out.encode())


def _slot(el: etree._Element, name: str) -> str:
    found = el.xpath(
        f".//*[local-name()='Slot'][@name='{name}']/*[local-name()='ValueList']/*[local-name()='Value']"
    )
    return " ".join((found[0].text or "").split()) if found else ""


def _node(el: etree._Element, scheme: str) -> str:
    found = el.xpath(f".//*[local-name()='Classification'][@classificationScheme='urn:uuid:{scheme}']")
    return str(found[0].get("nodeRepresentation")) if found else ""


@pytest.mark.parametrize("kind", list(KINDS))
def test_metadata_agrees_with_the_ans_stylesheet(docs: dict[str, object], kind: str) -> None:
    doc = docs[kind]
    zipped = xdm_build.archive([(doc.cda, doc.header)], sender=xdm_build.Sender("CH de Tours", "sil@ch-tours-sandbox.mssante.fr"),  # type: ignore[attr-defined]
                               recipients=[RECIPIENT], now=datetime.now().astimezone())  # fmt: skip
    ours_xml = xdm.read(zipped).file("IHE_XDM/SUBSET01/METADATA.XML")
    assert ours_xml is not None
    ours = metadata.parse(ours_xml).entries[0]
    ans = _ans_metadata(doc.cda)  # type: ignore[attr-defined]
    extrinsic = ans.xpath("//*[local-name()='ExtrinsicObject']")[0]
    assert ours.code("typeCode").code == _node(extrinsic, "f0306f51-975f-434e-a61c-c59651d33983")  # type: ignore[union-attr]
    assert ours.confidentiality[0] == _node(extrinsic, "f4f85eac-e6cb-4883-b524-f2705394840f")
    assert ours.code("healthcareFacilityTypeCode").code == _node(
        extrinsic, "f33fb8ac-18af-42cc-ae0e-ed0b0bdb91e1"
    )  # type: ignore[union-attr]
    assert ours.code("practiceSettingCode").code == _node(extrinsic, "cccf5598-8b07-4b77-a05e-ae952c785ead")  # type: ignore[union-attr]
    ans_format = ans.xpath("//*[local-name()='Classification'][@id='formatCode']")[0].get(
        "nodeRepresentation"
    )
    if kind != "ldl":  # the stylesheet's table has no N1 (XDS-SD) row: it answers "hors profils"
        assert ours.code("formatCode").code == ans_format  # type: ignore[union-attr]
    else:
        assert ours.code("formatCode").code == "urn:ihe:iti:xds-sd:pdf:2008"  # type: ignore[union-attr]
    assert ours.slot("languageCode") == _slot(extrinsic, "languageCode")
    assert (
        ours.title == extrinsic.xpath("./*[local-name()='Name']/*[local-name()='LocalizedString']/@value")[0]
    )
    ans_unique = ans.xpath(
        "//*[local-name()='ExtrinsicObject']//*[local-name()='ExternalIdentifier'][@id='uniqueId']/@value"
    )[0]
    assert ours.unique_id == ans_unique
    # the header times: the stylesheet copies the TS, we write it in UTC (XDS DTM)
    assert _slot(extrinsic, "creationTime").startswith(ours.slot("creationTime")[:8])
    info = dict(v.split("|", 1) for v in ours.slots["sourcePatientInfo"])
    ans_info = [
        " ".join((v.text or "").split())
        for v in extrinsic.xpath(
            ".//*[local-name()='Slot'][@name='SourcePatientInfo']//*[local-name()='Value']"
        )
    ]
    assert f"PID-7|{info['PID-7']}" in ans_info and f"PID-8|{info['PID-8']}" in ans_info
    assert ans_info[0].startswith(f"PID-5|{info['PID-5'].split('^')[0]}")  # it joins every family element
    author = [v for a in ours.authors for v in a["authorPerson"]][0]
    assert _slot(extrinsic, "authorPerson").split("^")[:3] == author.split("^")[:3]
    ans_org = _slot(extrinsic, "authorInstitution").split("^")
    ours_org = [v for a in ours.authors for v in a["authorInstitution"]][0].split("^")
    assert (ans_org[0], ans_org[-1]) == (ours_org[0], ours_org[-1])
    assert _slot(extrinsic, "authorSpecialty") == [v for a in ours.authors for v in a["authorSpecialty"]][0]
