"""The namespaces and fixed URIs the SOAP kit reads and writes."""

from __future__ import annotations

from typing import Literal

SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
WSA = "http://www.w3.org/2005/08/addressing"
WSA_ANONYMOUS = "http://www.w3.org/2005/08/addressing/anonymous"
WSA_NONE = "http://www.w3.org/2005/08/addressing/none"
WSA_FAULT_ACTION = "http://www.w3.org/2005/08/addressing/soap/fault"  # CXF's default fault action
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
SAML2 = "urn:oasis:names:tc:SAML:2.0:assertion"
DS = "http://www.w3.org/2000/09/xmldsig#"
XOP = "http://www.w3.org/2004/08/xop/include"
XML = "http://www.w3.org/XML/1998/namespace"
XSI = "http://www.w3.org/2001/XMLSchema-instance"

SoapVersion = Literal["1.1", "1.2"]
ENVELOPE_NS: dict[SoapVersion, str] = {"1.1": SOAP11, "1.2": SOAP12}
VERSION_OF_NS: dict[str, SoapVersion] = {SOAP11: "1.1", SOAP12: "1.2"}
# the media type of each version's envelope (SOAP 1.1: text/xml; SOAP 1.2: RFC 3902)
MEDIA_TYPE: dict[SoapVersion, str] = {"1.1": "text/xml", "1.2": "application/soap+xml"}
