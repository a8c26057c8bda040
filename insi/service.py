"""INSi téléservice, as mounted in the sandbox: two listeners like the real platform.

- `insi`     (port `insi_port`, 4601): mutual TLS, organisation certificate `CN=INSI-AUTO|INSI-MANU`
             (the `qualiflps-services-ps-tlsm.ameli.fr` host);
- `insi-cpx` (port `insi_cpx_port`, 4602): server TLS only, signed SAML assertion PS in
             `wsse:Security` (the `qualiflps.services-ps.ameli.fr` host).

Both answer `POST /lps` with SOAP 1.2. The request flow: tenant -> parse (insi.wire) -> caller
(insi.auth) -> IDAM -> findings (insi.checks) -> strict refusal -> matching (insi.matching) ->
fault rules and magic personas -> the exact answer (insi.wire).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from insi import auth, checks, matching, wire
from insi.directory import directory_for
from insi.errors import ERRORS, fault_spec
from mocks.config import ConfigError, Setting
from mocks.http import DropConnection
from mocks.service import Listener, Service, TlsPolicy
from mocks.tenants import UnknownTenant

if TYPE_CHECKING:
    from mocks.kernel import Exchange, Sandbox

log = logging.getLogger("segur.insi")

NAME = "insi"
TITLE = "INSi (téléservice INS de l'Assurance Maladie)"
PATH = "/lps"
IDAM_FORM = re.compile(r"^[A-Z0-9]{12}$")

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
__all__ = ["ERRORS", "NAME", "SETTINGS", "TITLE", "create"]


class Refusal(Exception):
    """Answer with a catalogue error."""

    def __init__(self, error: str, text: str | None = None, outcome: str = ""):
        super().__init__(error)
        self.error, self.text, self.outcome = error, text, outcome


class Insi(Service):
    name = NAME
    title = TITLE

    def listeners(self) -> list[Listener]:
        return [
            Listener(
                name="insi",
                port_setting="insi_port",
                scheme="https",
                app=self.mtls_app,
                tls=TlsPolicy(client_auth="required"),
                description="INSi, authentification par certificat d'organisation (mTLS)",
                paths=[PATH],
            ),
            Listener(
                name="insi-cpx",
                port_setting="insi_cpx_port",
                scheme="https",
                app=self.cpx_app,
                tls=TlsPolicy(client_auth="none"),
                description="INSi, authentification par carte CPx (assertion PS signée)",
                paths=[PATH],
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

    # -- WSGI ---------------------------------------------------------------------------------
    def mtls_app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        return self.handle(environ, start_response, "mtls")

    def cpx_app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        return self.handle(environ, start_response, "cpx")

    @property
    def era(self) -> str:
        return str(self.sandbox.config.get("insi_serialisation") or "live")

    def handle(
        self, environ: dict[str, Any], start_response: Callable[..., Any], mode: str
    ) -> Iterable[bytes]:
        sandbox = self.sandbox
        if (environ.get("PATH_INFO") or "/") != PATH:
            return _plain(start_response, "404 Not Found", "Not Found")
        if environ.get("REQUEST_METHOD") != "POST":
            return _plain(start_response, "405 Method Not Allowed", "Method Not Allowed", [("Allow", "POST")])
        der = environ.get("segur.peercert") if mode == "mtls" else None
        try:
            tenant = sandbox.resolve_tenant(environ, auth.presented_keys(der))
        except UnknownTenant as exc:
            return _plain(start_response, "404 Not Found", str(exc))
        body = _read(environ)
        if body is None:
            return _plain(start_response, "413 Payload Too Large", "Payload Too Large")
        content_type = environ.get("CONTENT_TYPE")
        try:
            req = wire.parse_request(body, content_type)
        except wire.MalformedRequest as exc:
            return self._malformed(environ, start_response, tenant, body, exc)
        with sandbox.exchange(NAME, req.operation, tenant, environ) as ex:
            ex.request_body = body.decode("utf-8", "replace")
            ex.details.update(_journal_details(req, mode))
            try:
                status, answer = self._answer(ex, req, mode, der, content_type)
            except Refusal as refusal:
                status = 500
                spec = fault_spec(ERRORS[refusal.error], self.era, req.message_id, refusal.text)
                answer = wire.fault_response(spec, self.era)
                ex.outcome = refusal.outcome or f"fault {spec.code}"
            except DropConnection:
                raise
            except Exception as exc:  # noqa: BLE001 - a bug of ours answers like a platform outage
                log.exception("INSi %s failed", req.operation)
                status = 500
                answer = wire.fault_response(
                    fault_spec(ERRORS["desir_1020"], self.era, req.message_id), self.era
                )
                ex.outcome = f"internal error: {type(exc).__name__}"
            ex.status = status
            ex.response_body = answer.decode("utf-8")
        return _soap(start_response, status, answer)

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
            raise Refusal(caller.error, caller.error_text)
        # 2. the software's CNDA authorisation
        if not self._idam_known(req.lps.idam):
            raise Refusal("desir_550")
        # 3. what the LGC sent
        checks.check_request(ex.findings, req, content_type, caller.emitter)
        if ex.findings.refuse:
            name, text = checks.refusal(ex.findings)
            raise Refusal(name, text or None, outcome="refused (strict)")
        # 4. the business answer
        directory = directory_for(sandbox, ex.tenant)
        family = str(cfg["insi_oid_family"])
        if req.operation == wire.OP_VERIF:
            assert req.verification is not None
            ver = req.verification
            ex.persona = (ver.ins.num or "") if ver.ins else ""
            self._faults(ex)
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
        self._faults(ex)
        if ident is not None and ident.outcome:
            raise Refusal(ident.outcome)
        ex.outcome = f"CR={match.code}"
        return 200, wire.result_response(matching.resultat(match, family), self.era)

    def _faults(self, ex: Exchange) -> None:
        error = ex.fault(ex.persona)
        if error is not None:
            raise Refusal(error.name, outcome=f"fault rule {error.name}")

    def _idam_known(self, idam: str | None) -> bool:
        if not idam:
            return False
        known = [x.strip() for x in str(self.sandbox.config.get("insi_idam") or "").split(",") if x.strip()]
        return idam in known if known else bool(IDAM_FORM.match(idam))

    def _malformed(
        self,
        environ: dict[str, Any],
        start_response: Callable[..., Any],
        tenant: str,
        body: bytes,
        exc: wire.MalformedRequest,
    ) -> Iterable[bytes]:
        with self.sandbox.exchange(NAME, "invalid", tenant, environ) as ex:
            ex.request_body = body.decode("utf-8", "replace")
            ex.findings.add("INSI-MESSAGE", "error", str(exc), "SOAP 1.2 / WSDL", "/")
            if exc.reason == "soap11":
                spec = wire.FaultSpec("VersionMismatch", None, str(exc), "conformite", "erreur", str(exc))
            else:
                spec = fault_spec(ERRORS["conformite"], self.era, None, str(exc))
            answer = wire.fault_response(spec, self.era)
            ex.status, ex.outcome = 500, f"malformed ({exc.reason})"
            ex.response_body = answer.decode("utf-8")
        return _soap(start_response, 500, answer)


def _journal_details(req: wire.Request, mode: str) -> dict[str, Any]:
    return {
        "mode": mode,
        "message_id": req.message_id,
        "idam": req.lps.idam,
        "lps": {"nom": req.lps.nom, "version": req.lps.lps_version, "instance": req.lps.instance},
        "emetteur": {"lps": req.lps.emetteur, "bam": req.bam.emetteur},
        "bam": {"version": req.bam.version, "id": req.bam.id},
    }


MAX_BODY = 4 * 1024 * 1024


def _read(environ: dict[str, Any]) -> bytes | None:
    """The request body (None when larger than MAX_BODY)."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_BODY:
        return None
    stream = environ["wsgi.input"]
    data = bytes(stream.read(length) if length > 0 else stream.read(MAX_BODY + 1))
    return None if len(data) > MAX_BODY else data


def _soap(start_response: Callable[..., Any], status: int, body: bytes) -> list[bytes]:
    reason = "OK" if status == 200 else "Internal Server Error"
    start_response(
        f"{status} {reason}", [("Content-Type", wire.CONTENT_TYPE), ("Content-Length", str(len(body)))]
    )
    return [body]


def _plain(
    start_response: Callable[..., Any], status: str, text: str, extra: list[tuple[str, str]] | None = None
) -> list[bytes]:
    data = text.encode("utf-8")
    start_response(
        status,
        [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(data))), *(extra or [])],
    )
    return [data]


def create(sandbox: Sandbox) -> Insi:
    return Insi(sandbox)
