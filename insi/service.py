"""INSi téléservice, as mounted in the sandbox: two listeners like the real platform.

- `insi`     (port `insi_port`, 4601): mutual TLS, organisation certificate `CN=INSI-AUTO|INSI-MANU`
             (the `qualiflps-services-ps-tlsm.ameli.fr` host);
- `insi-cpx` (port `insi_cpx_port`, 4602): server TLS only, signed SAML assertion PS in
             `wsse:Security` (the `qualiflps.services-ps.ameli.fr` host).

Both answer `POST /lps` with SOAP 1.2. The request flow, behind the kernel harness (tenant, body
cap, journal): parse (insi.wire) -> caller (insi.auth) -> IDAM -> findings (insi.checks) -> strict
refusal -> matching (insi.matching) -> fault rules and magic personas -> the exact answer
(insi.wire), and the evidence `ins.qualified` on every CR 00. Errors are catalogue entries
(insi.errors) that `InsiProtocol` writes as the platform does.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from typing import TYPE_CHECKING, Any

from insi import auth, checks, matching, wire
from insi.checks import RULES
from insi.directory import directory_for
from insi.errors import ERRORS, InsiFault, fault_spec
from mocks.config import ConfigError, Setting
from mocks.errors import ServiceError
from mocks.harness import Protocol, Refused, Reply, endpoint, request_body
from mocks.service import Listener, Service, TlsPolicy

if TYPE_CHECKING:
    from mocks.kernel import Exchange, Sandbox

log = logging.getLogger("segur.insi")

NAME = "insi"
TITLE = "INSi (téléservice INS de l'Assurance Maladie)"
PATH = "/lps"
IDAM_FORM = re.compile(r"^[A-Z0-9]{12}$")
MAX_BODY = 4 * 1024 * 1024  # an INSi request is a few kB
# the journal's operation names (fault rules name these); "invalid": a request naming no operation
OPERATIONS = [*wire.OPERATIONS, "invalid"]

SETTINGS = [
    Setting("insi_port", 4601, "INSi mTLS listener (organisation certificate INSI-AUTO / INSI-MANU)", "port"),
    Setting("insi_cpx_port", 4602, "INSi CPx listener (server TLS, signed assertion PS)", "port"),
    Setting(
        "insi_idam",
        "",
        "known IDAM (CNDA authorisation numbers), comma separated; empty: any 12-character A-Z0-9 "
        "number (FAKE-IDAM and the like get the real desir_550 fault)",
    ),
    Setting(
        "insi_oid_family",
        "production",
        "OIDs in answers: production (.8/.9, like the real test platform), test (.10), demo (.11)",
    ),
    Setting(
        "insi_serialisation",
        "live",
        "answer serialisation: live (2022-11 onwards), 2022 (ns2 prefixes), cnda (CNDA files)",
    ),
    Setting(
        "insi_assertion_lifetime",
        3600,
        "CPx: seconds an assertion PS stays valid after its IssueInstant",
        "int",
    ),
]
__all__ = ["ERRORS", "NAME", "RULES", "SETTINGS", "TITLE", "create"]


class InsiProtocol(Protocol):
    """INSi answers everything in SOAP 1.2, in the configured serialisation era: catalogue errors
    as the platform writes them, refusals and crashes as platform faults (HTTP 500 or the
    refusal's status)."""

    def __init__(self, insi: Insi):
        self.insi = insi

    def render(self, ex: Exchange, error: ServiceError) -> Reply:
        era = self.insi.era
        entry = error.error
        assert isinstance(entry, InsiFault), f"INSi renders its own catalogue only, not {entry.name}"
        spec = fault_spec(entry, era, ex.details.get("message_id"), error.text)
        if not error.outcome.startswith(("fault rule", "refused")):
            error.outcome = f"fault {spec.code}"
        ex.outcome = error.outcome
        return _soap(500, wire.fault_response(spec, era))

    def refusal(self, ex: Exchange, status: int, message: str) -> Reply:
        # [inferred] what the platform's gateway answers off /lps is not public: a SOAP fault
        spec = fault_spec(_fault("conformite"), self.insi.era, None, message)
        return _soap(status, wire.fault_response(spec, self.insi.era))

    def crash(self, ex: Exchange) -> Reply:
        # a bug of ours answers like a platform outage
        spec = fault_spec(_fault("desir_1020"), self.insi.era, ex.details.get("message_id"))
        return _soap(500, wire.fault_response(spec, self.insi.era))


class Insi(Service):
    name = NAME
    title = TITLE

    def __init__(self, sandbox: Sandbox):
        super().__init__(sandbox)
        self.protocol = InsiProtocol(self)
        self.apps = {"mtls": endpoint(self.mtls), "cpx": endpoint(self.cpx)}

    def listeners(self) -> list[Listener]:
        return [
            Listener(
                name="insi",
                port_setting="insi_port",
                scheme="https",
                app=self.apps["mtls"],
                tls=TlsPolicy(client_auth="required"),
                description="INSi, authentification par certificat d'organisation (mTLS)",
                paths=[PATH],
                protocol=self.protocol,
                max_body=MAX_BODY,
            ),
            Listener(
                name="insi-cpx",
                port_setting="insi_cpx_port",
                scheme="https",
                app=self.apps["cpx"],
                tls=TlsPolicy(client_auth="none"),
                description="INSi, authentification par carte CPx (assertion PS signée)",
                paths=[PATH],
                protocol=self.protocol,
                max_body=MAX_BODY,
            ),
        ]

    def start(self) -> None:
        cfg = self.sandbox.config
        if cfg["insi_serialisation"] not in wire.ERAS:
            raise ConfigError(f"insi_serialisation: one of {', '.join(wire.ERAS)}")
        if cfg["insi_oid_family"] not in matching.OID_FAMILIES:
            raise ConfigError(f"insi_oid_family: one of {', '.join(matching.OID_FAMILIES)}")
        # build or load the référentiel now, without delaying "Ready." (a request waits for it)
        threading.Thread(target=self._warm, name="insi-warm", daemon=True).start()

    def _warm(self) -> None:
        try:
            directory_for(self.sandbox, "default").by_matricule("0000000000000")
        except Exception:  # noqa: BLE001 - the first request will report it
            log.exception("INSi: loading the référentiel failed")

    @property
    def era(self) -> str:
        return str(self.sandbox.config.get("insi_serialisation") or "live")

    # -- the request pipeline (behind the kernel harness) ---------------------------------------
    def mtls(self, ex: Exchange, environ: dict[str, Any]) -> Reply:
        return self.handle(ex, environ, "mtls")

    def cpx(self, ex: Exchange, environ: dict[str, Any]) -> Reply:
        return self.handle(ex, environ, "cpx")

    def handle(self, ex: Exchange, environ: dict[str, Any], mode: str) -> Reply:
        if (environ.get("PATH_INFO") or "/") != PATH:
            raise Refused(404, "Not Found")
        if environ.get("REQUEST_METHOD") != "POST":
            raise Refused(405, "Method Not Allowed", [("Allow", "POST")])
        body = request_body(environ)
        content_type = environ.get("CONTENT_TYPE")
        try:
            req = wire.parse_request(body, content_type)
        except wire.MalformedRequest as exc:
            return self._malformed(ex, exc)
        ex.operation = req.operation
        ex.details.update(_journal_details(req, mode))
        der = environ.get("segur.peercert") if mode == "mtls" else None
        status, answer = self._answer(ex, req, mode, der, content_type)
        return _soap(status, answer)

    def _answer(
        self, ex: Exchange, req: wire.Request, mode: str, der: bytes | None, content_type: str | None
    ) -> tuple[int, bytes]:
        sandbox, cfg = self.sandbox, self.sandbox.config
        # 1. who calls
        if mode == "mtls":
            caller = auth.check_mtls(sandbox, der, ex.tenant)
        else:
            caller = auth.check_assertion(
                sandbox, req.assertion, ex.tenant, ex.findings, int(cfg["insi_assertion_lifetime"])
            )
        ex.caller = caller.identity
        ex.details["caller"] = {"mode": mode, **caller.details}
        if caller.error:
            ERRORS.fail(caller.error, caller.error_text)
        # 2. the software's CNDA authorisation
        if not self._idam_known(req.lps.idam):
            ERRORS.fail("desir_550")
        # 3. what the LGC sent
        checks.check_request(ex.findings, req, content_type, caller.emitter)
        if ex.findings.refuse:
            name, text = checks.refusal(ex.findings)
            ERRORS.fail(name, text or None, outcome="refused (strict)")
        # 4. the business answer
        directory = directory_for(sandbox, ex.tenant)
        family = str(cfg["insi_oid_family"])
        if req.operation == wire.OP_VERIF:
            assert req.verification is not None
            ver = req.verification
            ex.persona = (ver.ins.num or "") if ver.ins else ""
            ex.fault(ex.persona)
            code, label = matching.verify(directory, ex.persona, ver.traits)
            ex.outcome = f"CR={code}"
            return 200, wire.verification_response(code, label, self.era)
        if req.operation == wire.OP_TRAITS:
            assert req.traits is not None
            match = matching.search_traits(directory, req.traits)
            fallback = (req.traits.nom or "").strip().upper()
        else:
            assert req.carte is not None
            match = matching.search_card(directory, req.carte)
            od = req.carte.matricule_od
            fallback = (od.num or "") if od else ""
        ident = match.identity
        ex.persona = ident.matricule if ident else fallback
        ex.details["candidates"] = [i.matricule for i in match.identities]
        ex.fault(ex.persona)
        if ident is not None and ident.outcome:
            ERRORS.fail(ident.outcome)
        ex.outcome = f"CR={match.code}"
        result = matching.resultat(match, family)
        if match.code == "00" and result.actif is not None:
            self._qualified(ex, req, caller, result)
        return 200, wire.result_response(result, self.era)

    def _qualified(self, ex: Exchange, req: wire.Request, caller: auth.Caller, result: wire.Resultat) -> None:
        """Evidence `ins.qualified`: the INS and its OID, a hash of the returned traits (so a
        later document can be checked against them), the authentication mode and the caller."""
        assert result.actif is not None
        tiq = result.tiq
        traits = "|".join(
            [tiq.nom, " ".join(tiq.prenoms), tiq.sexe, tiq.date_naissance, tiq.lieu_naissance or ""]
            if tiq
            else []
        )
        self.sandbox.evidence.append(
            ex.tenant,
            "ins.qualified",
            subject=result.actif.matricule,
            data={
                "ins": result.actif.matricule,
                "oid": result.actif.oid,
                "traits_hash": hashlib.sha256(traits.encode()).hexdigest(),
                "auth_mode": caller.mode,
                "caller": caller.identity,
                "operation": req.operation,
                "via": "insi",
            },
            exchange=ex,
        )

    def _idam_known(self, idam: str | None) -> bool:
        if not idam:
            return False
        known = [x.strip() for x in str(self.sandbox.config.get("insi_idam") or "").split(",") if x.strip()]
        return idam in known if known else bool(IDAM_FORM.match(idam))

    def _malformed(self, ex: Exchange, exc: wire.MalformedRequest) -> Reply:
        ex.operation = "invalid"
        ex.findings.add("INSI-MESSAGE", "error", str(exc), "SOAP 1.2 / WSDL", "/")
        if exc.reason == "soap11":
            spec = wire.FaultSpec("VersionMismatch", None, str(exc), "conformite", "erreur", str(exc))
        else:
            spec = fault_spec(_fault("conformite"), self.era, None, str(exc))
        ex.outcome = f"malformed ({exc.reason})"
        return _soap(500, wire.fault_response(spec, self.era))


def _journal_details(req: wire.Request, mode: str) -> dict[str, Any]:
    return {
        "mode": mode,
        "message_id": req.message_id,
        "idam": req.lps.idam,
        "lps": {"nom": req.lps.nom, "version": req.lps.lps_version, "instance": req.lps.instance},
        "emetteur": {"lps": req.lps.emetteur, "bam": req.bam.emetteur},
        "bam": {"version": req.bam.version, "id": req.bam.id},
    }


def _fault(name: str) -> InsiFault:
    entry = ERRORS[name]
    assert isinstance(entry, InsiFault)
    return entry


def _soap(status: int, body: bytes) -> Reply:
    return Reply(status, body, wire.CONTENT_TYPE)


def create(sandbox: Sandbox) -> Insi:
    return Insi(sandbox)
