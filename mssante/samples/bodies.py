"""The bodies of the generated documents, shaped like the ANS examples of each volet:

crbio(results, pdf)   CR-BIO 2024.01 (N3): a "Biochimie" section (IHE XD-LAB specialty and
                      report-item sections, 1.3.6.1.4.1.19376.1.3.3.2.1 / .2.2) with its
                      narrative table and one battery entry per result, then the "Copie du
                      document" section (1.2.250.1.213.1.1.2.243) carrying the PDF
n1(pdf)               an N1: nonXMLBody, application/pdf, base64
vsm(lines)            VSM 1.4 (N3): the three sections the volet requires — pathologies,
                      antecedents, allergies and risk factors (1.2.250.1.213.1.1.2.29), results
                      (1.3.6.1.4.1.19376.1.5.3.1.3.27), long-term treatment (1.2.250.1.213.1.1.2.32)
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

from mssante.samples.cda import LOINC, oid, q, t


@dataclass(frozen=True)
class Result:
    loinc: str
    label: str  # LOINC displayName (French linguistic variant)
    shown: str  # the narrative's analysis name
    value: str
    unit: str
    low: str
    high: str
    interpretation: str = "N"  # HL7 ObservationInterpretation: N, H, L


INTERPRETATION = {"N": "Normal", "H": "Haut", "L": "Bas"}


def _b64(data: bytes) -> str:
    text = base64.b64encode(data).decode()
    return "\n".join(text[i : i + 76] for i in range(0, len(text), 76))


def crbio(results: list[Result], pdf: bytes, when: str) -> str:
    rows = "".join(
        f'<tr><td align="left"><content ID="res{i}">{t(r.shown)}</content></td><td align="left">{t(r.value)} {t(r.unit)}</td>'
        f'<td align="left">({t(r.low)} - {t(r.high)})</td><td align="left">{t(INTERPRETATION[r.interpretation])}</td></tr>'
        for i, r in enumerate(results, start=1)
    )
    observations = "".join(
        '<entryRelationship typeCode="COMP"><observation classCode="OBS" moodCode="EVN">'
        '<templateId root="1.3.6.1.4.1.19376.1.3.1.6"/><templateId root="1.2.250.1.213.1.1.3.80"/>'
        f'<code code="{r.loinc}" displayName={q(r.label)} codeSystem="{LOINC}" codeSystemName="LOINC">'
        f'<originalText><reference value="#res{i}"/></originalText></code>'
        f'<statusCode code="completed"/><effectiveTime value="{when}"/>'
        f'<value xsi:type="PQ" value="{r.value}" unit="{r.unit}"/>'
        f'<interpretationCode code="{r.interpretation}" displayName="{INTERPRETATION[r.interpretation]}" codeSystem="2.16.840.1.113883.5.83"/>'
        '<referenceRange typeCode="REFV"><observationRange classCode="OBS" moodCode="EVN.CRT">'
        f'<value xsi:type="IVL_PQ"><low value="{r.low}" unit="{r.unit}"/><high value="{r.high}" unit="{r.unit}"/></value>'
        '<interpretationCode code="N" displayName="Normal" codeSystem="2.16.840.1.113883.5.83"/>'
        "</observationRange></referenceRange></observation></entryRelationship>"
        for i, r in enumerate(results, start=1)
    )
    biochemistry = (
        f'<code code="18719-5" displayName="Biochimie" codeSystem="{LOINC}" codeSystemName="LOINC"/>'
    )
    return (
        "<component><structuredBody>"
        '<component><section><templateId root="1.3.6.1.4.1.19376.1.3.3.2.1"/><templateId root="1.2.250.1.213.1.1.2.70"/>'
        f"{biochemistry}<title>BIOCHIMIE</title>"
        '<component><section><templateId root="1.3.6.1.4.1.19376.1.3.3.2.2"/><templateId root="1.2.250.1.213.1.1.2.71"/>'
        f"{biochemistry}"
        '<text><table border="0"><thead><tr><th>Analyse</th><th>Résultat</th><th>Valeurs de référence</th><th>Interprétation</th></tr></thead>'
        f"<tbody>{rows}</tbody></table></text>"
        '<entry typeCode="DRIV"><templateId root="1.3.6.1.4.1.19376.1.3.1"/><templateId root="1.2.250.1.213.1.1.3.21"/>'
        f'<act classCode="ACT" moodCode="EVN">{biochemistry}<statusCode code="completed"/>{observations}</act></entry>'
        "</section></component></section></component>"
        f'<component><section><templateId root="1.2.250.1.213.1.1.2.243"/><id root="{oid()}"/>'
        f'<code code="55108-5" displayName="Copie du document" codeSystem="{LOINC}" codeSystemName="LOINC"/>'
        '<title>Copie du document</title><text><table border="0"><tbody><tr><td><renderMultiMedia referencedObject="doc-1"/></td></tr></tbody></table></text>'
        f'<entry><organizer classCode="CLUSTER" moodCode="EVN"><templateId root="1.2.250.1.213.1.1.3.18"/><id root="{oid()}"/>'
        f'<code code="55107-7" displayName="Document attaché" codeSystem="{LOINC}" codeSystemName="LOINC"/><statusCode code="completed"/>'
        '<component><observation classCode="OBS" moodCode="EVN"><templateId root="1.3.6.1.4.1.19376.1.5.3.1.4.13"/>'
        '<templateId root="1.2.250.1.213.1.1.3.48"/><templateId root="1.2.250.1.213.1.1.3.48.18"/>'
        f'<id root="{oid()}"/><code code="69764-9" displayName="Type de document" codeSystem="{LOINC}" codeSystemName="LOINC"/>'
        '<statusCode code="completed"/><effectiveTime nullFlavor="NA"/>'
        f'<value xsi:type="CD" code="55108-5" displayName="Copie du document" codeSystem="{LOINC}" codeSystemName="LOINC"/>'
        "</observation></component>"
        f'<component><observationMedia classCode="OBS" moodCode="EVN" ID="doc-1"><value mediaType="application/pdf" representation="B64">{_b64(pdf)}</value></observationMedia></component>'
        "</organizer></entry></section></component>"
        "</structuredBody></component></ClinicalDocument>\n"
    )  # fmt: skip


def n1(pdf: bytes) -> str:
    return (
        f'<component><nonXMLBody><text mediaType="application/pdf" representation="B64">{_b64(pdf)}</text></nonXMLBody></component>'
        "</ClinicalDocument>\n"
    )


def _section(templates: list[str], code: tuple[str, str], title: str, text: str) -> str:
    ids = "".join(f'<templateId root="{r}"/>' for r in templates)
    return (
        f'<component><section>{ids}<id root="{oid()}"/><code code="{code[0]}" displayName={q(code[1])} codeSystem="{LOINC}" codeSystemName="LOINC"/>'
        f"<title>{t(title)}</title><text>{text}</text></section></component>"
    )


def _list(lines: list[str]) -> str:
    return "<list>" + "".join(f"<item>{t(line)}</item>" for line in lines) + "</list>"


def vsm(problems: list[str], vigilance: list[str], treatments: list[str]) -> str:
    return (
        "<component><structuredBody>"
        + _section(["1.2.250.1.213.1.1.2.29"], ("46612-8", "Conclusions de synthèse"),
                   "Pathologies en cours, antécédents, allergies et facteurs de risque", _list(problems))
        + _section(["1.3.6.1.4.1.19376.1.5.3.1.3.27", "1.2.250.1.213.1.1.2.150"], ("30954-2", "Résultats d'examens"),
                   "Points de vigilance", _list(vigilance))
        + _section(["1.2.250.1.213.1.1.2.32"], ("18776-5", "Plan de traitement"), "Traitement au long cours", _list(treatments))
        + "</structuredBody></component></ClinicalDocument>\n"
    )  # fmt: skip
