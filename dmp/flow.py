"""The DMP request pipeline, behind the kernel harness (tenant, body cap, journal):

    path -> endpoint (dmp.endpoints: one module per WSDL service)
    body -> soap.read_request (garbage, DOCTYPE, not SOAP: CXF faults) -> the body element names
    the operation (CXF dispatches doc/literal on it; an action naming another operation is CXF's
    "does not match an operation") -> the operation's handler, which calls
    `ctx.secure(td, ins)`: VIHF (dmp.vihf) -> caller (dmp.auth, TLS certificate vs VIHF) ->
    findings (dmp.checks) -> TD0.1 on the TLS session's first authenticated call -> patient state
    (dmp.state) -> rights (dmp.rights) -> fault rules -> returns a `Secured` the handler answers from.

Part 2 (registry / repository) uses the same `Context.secure`.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from dmp import auth, checks, errors, rights, vihf
from dmp.protocol import KEY, DmpProtocol, ErrorAnswer
from dmp.state import PatientState, States
from mocks import soap
from mocks.harness import Refused, Reply, request_body

if TYPE_CHECKING:
    from lxml import etree

    from dmp.endpoints import Endpoint, Operation
    from mocks.kernel import Exchange, Sandbox

BASE = "/si-dmp-server/v2/services/"
# [inferred] the DMP's limit is not public: a 20 MiB CDA (the CDA engine's cap) with its XAdES and
# metadata, in MTOM; the harness answers 413 above it before reading the body
MAX_BODY = 32 * 1024 * 1024
INS_OIDS = {"test": "1.2.250.1.213.1.4.10", "production": "1.2.250.1.213.1.4.8"}
DOCUMENT_TDS = frozenset({"TD0.9", "TD2.1", "TD2.2", "TD3.1", "TD3.2", "TD3.3"})


@dataclass(frozen=True)
class Secured:
    """What `Context.secure` established: who calls, about whom, with which right."""

    vihf: vihf.Vihf
    caller: auth.Caller
    actor: rights.Actor
    access: rights.Access
    decision: rights.Decision
    ins: str  # "" for TD0.4 / TD0.5
    state: PatientState | None


class Context:
    """One request being served: the exchange, the SOAP request, the operation."""

    def __init__(
        self,
        sandbox: Sandbox,
        protocol: DmpProtocol,
        ex: Exchange,
        environ: dict[str, Any],
        req: soap.SoapRequest,
        operation: Operation,
        sessions: weakref.WeakSet[Any],
    ):
        self.sandbox, self.protocol, self.ex, self.environ, self.req = sandbox, protocol, ex, environ, req
        self.operation = operation
        self.states = States(sandbox)
        self._sessions = sessions
        payload = req.envelope.payload
        assert payload is not None
        self.payload: etree._Element = payload

    @property
    def config(self) -> Any:
        return self.sandbox.config

    @property
    def ins_oid(self) -> str:
        return INS_OIDS.get(str(self.config.get("dmp_ins_oid_family") or "test"), INS_OIDS["test"])

    def on_error(self, builder: ErrorAnswer) -> None:
        """The operation's answer for its HL7 / WS-status catalogue errors (dmp.protocol)."""
        self.environ[KEY] = builder

    def answer(self, payload: str) -> Reply:
        return self.protocol.answer_ns(self.ex, payload, self.operation.response_action, self.operation.ns1)

    def creation(self) -> str:
        return self.ex.now().strftime("%Y%m%d%H%M%S")

    # -- security ------------------------------------------------------------------------------
    def secure(
        self, td: str, ins: str = "", body_oid: str = "", *, row: str | None = None, acte: str = ""
    ) -> Secured:
        ex, sandbox = self.ex, self.sandbox
        ex.operation = td
        security = soap.read_security(self.req.envelope, pki=sandbox.pki, tenant=ex.tenant)
        lifetime = timedelta(seconds=int(self.config.get("dmp_vihf_lifetime") or 3600))
        token = vihf.read(
            security, now=ex.now(), lifetime=lifetime, require_patient=bool(ins) or td == "TD0.3"
        )
        ex.details["vihf"] = {
            "mode": token.mode,
            "name_id": token.name_id,
            "structure": token.structure,
            "secteur": token.secteur,
            "purpose": token.purpose,
            "signer": token.signer.kind if token.signer else None,
        }
        checks.check_vihf(ex.findings, token)
        self._homologation(token)
        caller = auth.authenticate(sandbox, self.environ.get("segur.peercert"), ex.tenant, token, acte or td)
        ex.caller = caller.identity
        self._session(caller)
        if ins:
            assert token.patient is not None
            if token.patient.ins != ins or (body_oid and token.patient.oid != body_oid):
                errors.fail(
                    "vihf_patient_mismatch",
                    what=f"{token.patient.ins} ({token.patient.oid}) / {ins} ({body_oid or '-'})",
                )
        patient_ins = ins or (token.patient.ins if token.patient else "")
        if patient_ins:
            checks.check_patient(
                ex.findings,
                sandbox,
                ex.tenant,
                str(self.config.get("dmp_ins_oid_family") or "test"),
                token.patient.oid if token.patient else "",
                body_oid,
                patient_ins,
            )
        state = self.states.get(ex.tenant, patient_ins, ex.now().date()) if patient_ins else None
        actor: rights.Actor = caller.actor_base
        if actor == "medecin" and state is not None and state.is_mt(caller.ps):
            actor = "mt"
        access: rights.Access = token.purpose
        ex.persona = patient_ins
        if ex.findings.refuse:
            first = ex.findings.errors[0]
            errors.fail("vihf_invalid", "refused (strict)", what=f"{first.rule} : {first.message}")
        decision = rights.require(row or td, actor, access, caller.air)
        ex.details["rights"] = {
            "row": decision.row,
            "actor": actor,
            "access": access,
            "air": caller.air,
            "note": decision.note,
        }
        if state is not None and state.dmp == "open":
            self._access_state(state, caller, access)
        ex.fault(patient_ins or caller.ps)
        if patient_ins and td in DOCUMENT_TDS:  # the documents fed before the LGC came
            from dmp import seed  # imported on first use: the letter and PDF kit stay off start-up

            seed.ensure_for(sandbox, ex.tenant, patient_ins)
        return Secured(token, caller, actor, access, decision, patient_ins, state)

    def require_not_blocked(self, s: Secured) -> None:
        """A patient's block stops every access of that PS (or structure)."""
        if s.state is not None and s.state.authorization(s.caller.holder) == "INTERDIT":
            errors.fail("refus_bloque")

    def require_authorization(self, s: Secured) -> None:
        """For consultation (part 2, TD3.x): a VALIDE authorisation, except in bris de glace and
        centre 15 access, which need none (and record one)."""
        self.require_not_blocked(s)
        if s.state is None or s.access != "normal":
            return
        status = s.state.authorization(s.caller.holder)
        if status != "VALIDE":
            errors.fail("refus_autorisation", autorisation=status)

    def _homologation(self, token: vihf.Vihf) -> None:
        known = [x.strip() for x in str(self.config.get("dmp_homologation") or "").split(",") if x.strip()]
        if not token.homologation:
            errors.fail("lps_homologation", what="attribut LPS_ID_HOMOLOGATION_DMP absent")
        if known and token.homologation not in known:
            errors.fail("lps_homologation", what=f"« {token.homologation} » n'est pas un numéro connu")

    def _access_state(self, state: PatientState, caller: auth.Caller, access: rights.Access) -> None:
        if access == "bris_de_glace" and state.opposition_bris_de_glace:
            errors.fail("refus_bris_de_glace")
        if access == "centre_15" and state.opposition_acces_urgence:
            errors.fail("refus_urgence")

    def _session(self, caller: auth.Caller) -> None:
        """TD0.1 "Authentification sur le DMP" has no message of its own: the first authenticated
        call of a TLS connection is journaled as TD0.1 too."""
        sock = self.environ.get("segur.socket")
        if sock is None:
            return
        try:
            if sock in self._sessions:
                return
            self._sessions.add(sock)
        except TypeError:
            return
        with self.sandbox.exchange("dmp", "TD0.1", self.ex.tenant, None) as first:
            first.caller = caller.identity
            first.outcome = "OK"
            first.details = {
                "mode": caller.mode,
                "certificate": caller.certificate.subject,
                "tls": self.environ.get("segur.tls"),
            }


def handle(
    sandbox: Sandbox,
    protocol: DmpProtocol,
    endpoints: dict[str, Endpoint],
    sessions: weakref.WeakSet[Any],
    ex: Exchange,
    environ: dict[str, Any],
) -> Reply:
    path = environ.get("PATH_INFO") or "/"
    name = path[len(BASE) :].strip("/") if path.startswith(BASE) else None
    endpoint = endpoints.get(name or "") if name is not None else None
    if endpoint is None:
        raise Refused(404, "No service was found.")
    ex.operation = endpoint.name
    if environ.get("REQUEST_METHOD") != "POST":
        raise Refused(405, "Method Not Allowed", [("Allow", "POST")])
    try:
        req = soap.read_request(
            request_body(environ),
            environ.get("CONTENT_TYPE"),
            soap_action=environ.get("HTTP_SOAPACTION"),
            max_size=MAX_BODY,
        )
    except soap.InvalidMessage as exc:
        ex.details["invalid"] = exc.reason
        if exc.reason == "envelope":
            ns, local = _root_name(request_body(environ))
            errors.fail("version_mismatch", f"malformed ({exc.reason})", ns=ns, local=local)
        errors.fail("malformed", f"malformed ({exc.reason})")
    soap.remember(ex, req)
    checks.check_transport(ex.findings, req)
    payload = req.envelope.payload
    if payload is None:
        errors.fail("malformed", "malformed (empty body)")
    operation = endpoint.operation(payload)
    action = (req.action.value or "").strip()
    if operation is None:
        ex.operation = endpoint.retired.get(_clark(payload), ex.operation)
        errors.fail("unknown_operation", "unknown operation", part=_clark(payload))
    ex.details["action"] = action
    if action and action not in operation.actions:
        if any(action in op.actions for op in endpoint.operations.values()):
            errors.fail("action_mismatch", "action mismatch", given=action)
        ex.findings.add(
            "DMP-WSA-ACTION",
            "warning",
            f"action « {action} » : {operation.actions[0]} attendue pour {operation.name}",
            location="wsa:Action",
        )
    if not action:
        ex.findings.add(
            "DMP-WSA-ACTION",
            "warning",
            f"pas d'action : {operation.actions[0]} attendue",
            location="wsa:Action",
        )
    ctx = Context(sandbox, protocol, ex, environ, req, operation, sessions)
    return operation.handler(ctx)


def _clark(element: etree._Element) -> str:
    from lxml import etree as et

    q = et.QName(element)
    return f"{{{q.namespace}}}{q.localname}" if q.namespace else q.localname


def _root_name(body: bytes) -> tuple[str, str]:
    from lxml import etree as et

    try:
        root = et.fromstring(body, et.XMLParser(resolve_entities=False, no_network=True))
    except et.XMLSyntaxError:
        return "", ""
    q = et.QName(root)
    return q.namespace or "", q.localname
