"""The fake IGC-Santé PKI (TEST hierarchy, per-persona credentials, CRL, OCSP, TLS, XML-DSig).

    sandbox.pki                                    a Pki (mocks.pki.authority)
    pki.server_context(policy, hostnames)          ssl.SSLContext for an HTTPS listener
    pki.identify(der, tenant)                      CallerCertificate (kind, status, persona, ...)
    pki.credentials(persona, kind)                 Credentials (cert / key / chain PEM), issued lazily
    pki.verify_xml_signature(xml, tenant)          XmlSignature(caller, signed element)
    pki.revoke / unrevoke / renew / issue(...)     revocation and validity control
    mocks.pki.export.pkcs12(credentials, password) PKCS#12 readable by OpenSSL 3 without legacy

See docs/pki.md.
"""

from mocks.pki.authority import Pki
from mocks.pki.model import (
    BadRequest,
    CallerCertificate,
    Credentials,
    PkiError,
    Professional,
    Structure,
    UnknownCertificate,
    UnknownPersona,
)

__all__ = [
    "BadRequest",
    "CallerCertificate",
    "Credentials",
    "Pki",
    "PkiError",
    "Professional",
    "Structure",
    "UnknownCertificate",
    "UnknownPersona",
]
