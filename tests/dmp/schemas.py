"""The contract's schemas (v2.01.04) as lxml validators: HL7v3 NE2008 / NE2009 message schemas and
the inline XSDs of the web-service WSDLs."""

from __future__ import annotations

from functools import cache

from lxml import etree

from tests.dmp.support import SPECS

CONTRACT = SPECS / "contract"
XS = "http://www.w3.org/2001/XMLSchema"


@cache
def hl7(interaction: str, edition: str = "NE2009") -> etree.XMLSchema:
    path = CONTRACT / "schema" / "HL7V3" / edition / "multicacheschemas" / f"{interaction}.xsd"
    return etree.XMLSchema(etree.parse(str(path)))


@cache
def wsdl(name: str) -> etree.XMLSchema:
    """The first inline xs:schema of a WSDL (Habilitations, PatientsSpecific)."""
    doc = etree.parse(str(CONTRACT / "wsdl" / name))
    schema = doc.find(f".//{{{XS}}}schema")
    assert schema is not None
    return etree.XMLSchema(etree.fromstring(etree.tostring(schema)))


def validate(schema: etree.XMLSchema, element: etree._Element) -> None:
    doc = etree.fromstring(etree.tostring(element))
    if not schema.validate(doc):
        raise AssertionError(f"{etree.QName(element).localname}: {schema.error_log}")
