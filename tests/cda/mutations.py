"""Mutations of the official examples, each meant to fire one rule (issue 12, "Tests")."""

from __future__ import annotations

import base64
from collections.abc import Callable

from lxml import etree

H = "urn:hl7-org:v3"
NS = {"h": H}


def edit(document: bytes, change: Callable[[etree._Element], None]) -> bytes:
    root = etree.fromstring(document, etree.XMLParser(huge_tree=True, resolve_entities=False))
    change(root)
    return etree.tostring(root, encoding="utf-8", xml_declaration=True)


def one(root: etree._Element, path: str) -> etree._Element:
    found = root.find(path, NS)
    assert found is not None, path
    return found


def no_realm(root: etree._Element) -> None:
    root.remove(one(root, "h:realmCode"))


def type_code_outside_j07(root: etree._Element) -> None:
    one(root, "h:code").set("code", "99999-9")


def fourth_template(root: etree._Element) -> None:
    last = root.findall("h:templateId", NS)[-1]
    last.addnext(etree.Element(f"{{{H}}}templateId", root="1.2.250.1.213.1.1.1.45", extension="2024.01"))


def media_png(root: etree._Element) -> None:
    one(root, "h:component/h:nonXMLBody/h:text").set("mediaType", "image/png")


def bad_base64(root: etree._Element) -> None:
    text = one(root, "h:component/h:nonXMLBody/h:text")
    text.text = "JVBERi0x!!!not base64***"


def production_oid(root: etree._Element) -> None:
    for pid in root.findall("h:recordTarget/h:patientRole/h:id", NS):
        if pid.get("root") == "1.2.250.1.213.1.4.10":
            pid.set("root", "1.2.250.1.213.1.4.8")


def no_birthplace(root: etree._Element) -> None:
    patient = one(root, "h:recordTarget/h:patientRole/h:patient")
    patient.remove(one(patient, "h:birthplace"))


def facility_outside_j02(root: etree._Element) -> None:
    one(root, "h:componentOf/h:encompassingEncounter/h:location/h:healthCareFacility/h:code").set(
        "code", "ZZ99"
    )


def signature_not_s(root: etree._Element) -> None:
    one(root, "h:legalAuthenticator/h:signatureCode").set("code", "X")


def xsd_unknown_element(root: etree._Element) -> None:
    one(root, "h:title").addnext(etree.Element(f"{{{H}}}nonsense"))


def vsm_no_long_term_treatment(root: etree._Element) -> None:
    body = one(root, "h:component/h:structuredBody")
    for comp in body.findall("h:component", NS):
        if comp.find("h:section/h:templateId[@root='1.2.250.1.213.1.1.2.32']", NS) is not None:
            body.remove(comp)


def n1_pdf(document: bytes) -> bytes:
    root = etree.fromstring(document, etree.XMLParser(huge_tree=True))
    return base64.b64decode("".join((one(root, "h:component/h:nonXMLBody/h:text").text or "").split()))


def one_byte_off(pdf: bytes) -> bytes:
    middle = len(pdf) // 2
    return pdf[:middle] + bytes([pdf[middle] ^ 0x01]) + pdf[middle + 1 :]
