"""The ApCV request pipeline, behind the kernel harness (tenant, body cap, journal):

    path /apcv (GET ?wsdl: our WSDL)  ->  SOAP kit read (SOAP 1.1: VERSION_SOAP; garbage:
    REQUETE_INVALIDE)  ->  apcv.wire.parse  ->  ContexteLPS present  ->  caller (apcv.auth; none:
    61441)  ->  findings (apcv.checks; strict refusal)  ->  the operation below  ->  the answer
    in the request's namespace version, with WS-Addressing headers (mocks.soap protocol).

Operations (research A1.3-A1.6): `authentifierUtilisateurProximite` (QR `Donnees` or the NFC
slot -> a context bound to the PS + the Vitale data; `ins.qualified` evidence `via: apcv`,
channel `AV`, for each beneficiary whose INS it carries), `restituerContexteApCV`,
`detruireContexteApCV`, `signerVitale` (our Ed25519 signature, docs/services/apcv.md).
"""

from __future__ import annotations

import base64
from datetime import datetime
from importlib import resources
from typing import TYPE_CHECKING, Any

from apcv import auth, checks, qr, vitale, wire
from apcv.errors import ERRORS
from apcv.keys import Keys
from apcv.rules import Context, Contexts, Nfc, usable
from mocks import soap
from mocks.errors import ServiceError
from mocks.harness import Refused, Reply, request_body

if TYPE_CHECKING:
    from apcv.protocol import ApcvProtocol
    from mocks.kernel import Exchange, Sandbox
    from mocks.population import CarteVitale

CHANNEL = "AV"  # identity collection channel of ApCV (research A1.6, FR Core)


def wsdl_bytes() -> bytes:
    return resources.files("apcv").joinpath("wsdl/ApCV.wsdl").read_bytes()


def signed_string(ctx_id: str, inv: wire.Invoice, at: str) -> bytes:
    """What signerVitale signs (docs/services/apcv.md, "signerVitale")."""
    fields = [
        "APCV-SIGN-1", ctx_id, (inv.nir_assure or "") + (inv.nir_assure_cle or ""), inv.nir_certifie or "",
        inv.type or "", inv.donnee_fse or "", inv.donnee_dre or "", inv.facturation or "", at,
    ]  # fmt: skip
    return "|".join(fields).encode("utf-8")


class Flow:
    def __init__(self, sandbox: Sandbox, protocol: ApcvProtocol):
        self.sandbox = sandbox
        self.protocol = protocol
        self.keys = Keys(sandbox.store)
        self.contexts = Contexts(sandbox.store)
        self.nfc = Nfc(sandbox.store)

    def setting(self, name: str) -> Any:
        return self.sandbox.config[name]

    # -- the pipeline ----------------------------------------------------------------------------
    def handle(self, ex: Exchange, environ: dict[str, Any]) -> Reply:
        if (environ.get("PATH_INFO") or "/") != str(self.setting("apcv_path")):
            raise Refused(404, "Not Found")
        method = environ.get("REQUEST_METHOD")
        if method == "GET" and environ.get("QUERY_STRING", "").lower() == "wsdl":
            ex.operation, ex.outcome = "wsdl", "OK"
            ex.journal = False
            return Reply(200, wsdl_bytes(), "text/xml;charset=UTF-8")
        if method != "POST":
            raise Refused(405, "Method Not Allowed", [("Allow", "POST")])
        try:
            request = soap.read_request(request_body(environ), environ.get("CONTENT_TYPE"))
        except soap.InvalidMessage as exc:
            ex.operation = "invalid"
            ex.findings.add("APCV-MESSAGE", "error", exc.message, checks.R_TEMPLATES, "/")
            ERRORS.fail("REQUETE_INVALIDE", f"Requête non conforme : {exc.message}")
        if request.version == "1.1":
            ex.operation = "invalid"
            ex.findings.add(
                "APCV-MESSAGE", "error", "enveloppe SOAP 1.1 : SOAP 1.2 attendu", checks.R_TEMPLATES, "/"
            )
            ERRORS.fail("VERSION_SOAP")
        soap.remember(ex, request)
        try:
            req = wire.parse(request)
        except wire.Malformed as exc:
            ex.operation = "invalid"
            ex.findings.add("APCV-MESSAGE", "error", str(exc), checks.R_TEMPLATES, "/soap:Body")
            ERRORS.fail("REQUETE_INVALIDE", f"Requête non conforme : {exc}")
        ex.operation = req.operation
        ex.details.update(
            {"message_id": req.message_id, "version": req.version, "idam": req.lps.idam, "lps": req.lps.nom}
        )
        now = ex.now()
        caller = auth.caller(
            self.sandbox, request, ex.tenant, now, ex.findings, int(self.setting("apcv_assertion_lifetime"))
        )
        checks.check_request(ex.findings, req, caller.facturation if caller else None)
        if not req.lps.present:
            ERRORS.fail("REQUETE_INVALIDE", "Requête non conforme : en-tête ctxlps:ContexteLPS absent")
        if ex.findings.refuse:
            ERRORS.fail("REQUETE_INVALIDE", checks.refusal(ex.findings), outcome="refused (strict)")
        if caller is not None:
            ex.caller = caller.ps
            ex.details["caller"] = caller.details
        payload = self.operation(ex, req, caller, now)
        return self.protocol.answer(ex, payload, wire.action(req.operation, req.version) + "Response")

    def operation(self, ex: Exchange, req: wire.Request, caller: auth.Caller | None, now: datetime) -> str:
        if req.operation == wire.OP_AUTH:
            return self.authentifier(ex, req, caller, now)
        if caller is None:
            ex.fault()
            ERRORS.fail("61441")
        if req.operation == wire.OP_RESTITUER:
            ctx = usable(self.contexts.latest(ex.tenant, caller.ps), caller.ps, now)
            ex.persona = ctx.nir_od
            ex.fault(ctx.nir_od)
            ex.outcome = f"context {ctx.id}"
            return wire.donnees_rep(
                req.operation, req.version, self._data(ex, ctx.nir_od, ctx.patient_id), _out(ctx)
            )
        assert req.identifiant is not None
        ctx = usable(self.contexts.get(ex.tenant, req.identifiant), caller.ps, now)
        ex.persona = ctx.nir_od
        ex.fault(ctx.nir_od)
        if req.operation == wire.OP_DETRUIRE:
            self.contexts.destroy(ex.tenant, ctx.id, now)
            ex.outcome = f"destroyed {ctx.id}"
            return wire.detruire_rep(req.version, ctx.id)
        return self.signer(ex, req, ctx, now)

    # -- authentifierUtilisateurProximite ------------------------------------------------------------
    def authentifier(self, ex: Exchange, req: wire.Request, caller: auth.Caller | None, now: datetime) -> str:
        ps = caller.ps if caller else ""
        nonce, mode = "", "qr"
        if req.donnees:
            try:
                token = qr.read(self.keys, req.donnees, now)
            except qr.QrError as exc:
                if exc.kind == "expired":
                    ERRORS.fail("QR_EXPIRE", exc.message)
                ERRORS.fail("QR_INVALIDE", exc.message)
            if token.tenant != ex.tenant:
                ERRORS.fail(
                    "QR_INVALIDE", f"QR code émis pour un autre environnement de test (tenant {token.tenant})"
                )
            nir_od, patient_id, nonce = token.nir_od, token.patient_id, token.nonce
        else:
            slot = self.nfc.take(ex.tenant, ps, now) if caller is not None else None
            if slot is None:
                ERRORS.fail(
                    "QR_INVALIDE", "Donnees vide et aucune lecture NFC en attente pour ce professionnel"
                )
            nir_od, patient_id, mode = slot.nir_od, slot.patient_id, "nfc"
        card = self.sandbox.population.card(nir_od)
        if card is None:
            ERRORS.fail("QR_INVALIDE", "carte Vitale inconnue de la sandbox")
        ex.persona = card.nir_od
        ex.details["mode"] = mode
        try:
            ex.fault(card.nir_od)
            if caller is None:
                ERRORS.fail("61441")
        except ServiceError as err:
            if err.error.name != "61441":
                raise
            ex.outcome = "61441 (administrative data only)"
            entry = ERRORS["61441"]
            data = self._data(ex, card.nir_od, patient_id)
            return wire.donnees_rep(
                req.operation, req.version, data, None, ("61441", getattr(entry, "reason", ""))
            )
        assert caller is not None
        self._usable_card(card)
        ctx = self._context(ex, req, caller, card, patient_id, nonce, mode, now)
        data = self._data(ex, card.nir_od, patient_id)
        self._evidence(ex, caller, data)
        ex.outcome = f"context {ctx.id}"
        return wire.donnees_rep(req.operation, req.version, data, _out(ctx))

    @staticmethod
    def _usable_card(card: CarteVitale) -> None:
        if card.opposed:
            ERRORS.fail("CARTE_OPPOSEE")
        if not card.apcv:
            ERRORS.fail("QR_INVALIDE", "l'application carte Vitale de ce patient n'est pas activée")

    def _context(
        self, ex: Exchange, req: wire.Request, caller: auth.Caller, card: CarteVitale, patient_id: str,
        nonce: str, mode: str, now: datetime,
    ) -> Context:  # fmt: skip
        if nonce:
            used = self.contexts.by_nonce(ex.tenant, nonce)
            if used is not None:
                if used.ps == caller.ps and used.alive(now):
                    return used  # the same PS scanning the same QR again: its context
                ERRORS.fail("QR_DEJA_UTILISE")
        return self.contexts.create(
            ex.tenant, caller.ps, req.facturation or "", card.nir_od, patient_id,
            nonce=nonce, mode=mode, version=req.version, now=now,
            lifetime_s=int(self.setting("apcv_context_lifetime")),
        )  # fmt: skip

    def _data(self, ex: Exchange, nir_od: str, patient_id: str) -> vitale.DonneesVitale:
        card = self.sandbox.population.card(nir_od)
        if card is None:
            ERRORS.fail(
                "CONTEXTE_INCONNU", "la carte de ce contexte n'existe plus dans le monde de la sandbox"
            )
        family = str(self.sandbox.config.get("insi_oid_family") or "production")
        return vitale.donnees(self.sandbox.population, card, patient_id, family)

    def _evidence(self, ex: Exchange, caller: auth.Caller, data: vitale.DonneesVitale) -> None:
        """`ins.qualified` for each INS the answer carries: RNIV exempts ApCV identities from the
        INSi call (research A1.6), channel AV."""
        for b in data.beneficiaires:
            if b.ins is None:
                continue
            self.sandbox.evidence.append(
                ex.tenant,
                "ins.qualified",
                subject=b.ins.matricule,
                data={
                    "ins": b.ins.matricule,
                    "oid": b.ins.oid,
                    "traits_hash": b.ins.traits_hash,
                    "auth_mode": "cpx",
                    "caller": caller.ps,
                    "operation": wire.OP_AUTH,
                    "via": "apcv",
                    "channel": CHANNEL,
                    "rniv_exemption": True,
                    "patient": b.patient_id,
                },
                exchange=ex,
            )

    # -- signerVitale ----------------------------------------------------------------------------------
    def signer(self, ex: Exchange, req: wire.Request, ctx: Context, now: datetime) -> str:
        inv = req.invoice
        if not inv.nir_assure or not (inv.donnee_fse or inv.donnee_dre):
            ERRORS.fail(
                "REQUETE_INVALIDE",
                "Requête non conforme : Facture/NIRAssure et DonneeFSE ou DonneeDRE attendus",
            )
        if inv.nir_assure[:13] != ctx.nir_od:
            ERRORS.fail("BENEFICIAIRE_ABSENT", f"L'assuré {inv.nir_assure} n'est pas celui du contexte ApCV.")
        data = self._data(ex, ctx.nir_od, ctx.patient_id)
        if data.beneficiaire(inv.nir_certifie, inv.nom_famille, inv.prenom) is None:
            who = inv.nir_certifie or f"{inv.nom_famille or ''} {inv.prenom or ''}".strip()
            ERRORS.fail("BENEFICIAIRE_ABSENT", f"Le bénéficiaire {who} n'est pas porté par le contexte ApCV.")
        at = wire.instant(now)
        signature = base64.b64encode(self.keys.sign(signed_string(ctx.id, inv, at))).decode()
        ex.outcome = "signed"
        return wire.signer_rep(ctx.id, signature, now)


def _out(ctx: Context) -> wire.Contexte:
    return wire.Contexte(ctx.id, ctx.expires_at)
