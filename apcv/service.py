"""ApCV (application carte Vitale) as mounted in the sandbox: one HTTPS listener `apcv` (port
`apcv_port`, 4650; server TLS from the sandbox IGC-Santé, no client certificate: the professional
is the CPS assertion's) answering SOAP 1.2 on `apcv_path` (`/apcv`, inferred: the real URL is not
public, research A4), plus our WSDL at `?wsdl` (apcv/wsdl/ApCV.wsdl, inferred).

Operations (research apcv-sesam-vitale-igc-sante.md A1.3): ApCV_AUTH
`authentifierUtilisateurProximite`, `restituerContexteApCV`, `detruireContexteApCV` (namespaces
`http://www.sesam-vitale.fr/apcv/auth/1/0` and `/2/0`), ApCV_SIGN `signerVitale`
(`.../apcv/sign/1/0`). Flow: apcv.flow; state: apcv.rules; QR codes: apcv.qr; the patient's
phone and the test hooks: apcv.control (`/_sandbox/apcv/`). See docs/services/apcv.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from apcv import keys, rules, wire
from apcv.checks import RULES
from apcv.errors import ERRORS
from apcv.flow import Flow
from apcv.protocol import ApcvProtocol
from mocks.config import Setting
from mocks.harness import endpoint
from mocks.service import Listener, Service, TlsPolicy
from mocks.store import Migration

if TYPE_CHECKING:
    from mocks.kernel import Sandbox

NAME = "apcv"
TITLE = "ApCV (application carte Vitale : ApCV_AUTH, ApCV_SIGN)"
SETTINGS = [
    Setting("apcv_port", 4650, "ApCV listener (SOAP 1.2, server TLS, CPS assertion)", "port"),
    Setting("apcv_path", "/apcv", "path of the ApCV SOAP endpoint (the real one is not public)"),
    Setting("apcv_context_lifetime", 1800, "seconds an ApCV context lives (DateFinValidite)", "int"),
    Setting("apcv_qr_lifetime", 120, "seconds a QR code of the patient's phone stays valid", "int"),
    Setting("apcv_nfc_lifetime", 60, "seconds an NFC reading waits for the professional's call", "int"),
    Setting(
        "apcv_assertion_lifetime", 3600, "seconds a CPS assertion stays valid after its IssueInstant", "int"
    ),
]
# every operation the journal names (ex.operation)
OPERATIONS = [*wire.SOAP_OPERATIONS, "wsdl", "invalid"]
__all__ = ["ERRORS", "NAME", "OPERATIONS", "RULES", "SETTINGS", "TITLE", "create"]


class Apcv(Service):
    name = NAME
    title = TITLE

    def __init__(self, sandbox: Sandbox):
        super().__init__(sandbox)
        self.protocol = ApcvProtocol()
        self.flow = Flow(sandbox, self.protocol)
        self.app = endpoint(self.flow.handle)

    def migrations(self) -> Sequence[Migration]:
        return [*keys.MIGRATIONS, *rules.MIGRATIONS]

    def listeners(self) -> list[Listener]:
        return [
            Listener(
                name="apcv",
                port_setting="apcv_port",
                scheme="https",
                app=self.app,
                tls=TlsPolicy(client_auth="none"),
                description="ApCV : authentification de l'assuré par l'application carte Vitale (QR code, NFC)",
                paths=[str(self.sandbox.config["apcv_path"])],
                protocol=self.protocol,
                max_body=1024 * 1024,
            )
        ]


def create(sandbox: Sandbox) -> Apcv:
    return Apcv(sandbox)
