"""The wallet listener: the authorization endpoint (`/auth`) and the login pages a professional
sees (e-CPS push with a simulated phone, CPS card by TLS client certificate or simulated PIN).

An unknown client or redirect URI shows an error page (never a redirect), worded like Keycloak;
every other refusal goes back to the client's redirect URI as `error=...&state=...`."""

from __future__ import annotations

import re
import secrets
from typing import TYPE_CHECKING, Any

from flask import Flask, Response, render_template_string, request

from mocks.tenants import UnknownTenant
from psc import login_pages as pages
from psc.errors import PageError, rule_error
from psc.rules import GRANT_CODE, Realm, Session

if TYPE_CHECKING:
    from mocks.kernel import Exchange, Sandbox
    from psc.wire import Wire

NAME = "psc"
SESSION_COOKIE = "PSC_WALLET_SESSION"
CHALLENGE = re.compile(r"^[A-Za-z0-9._~-]{43,128}$")
STATUS_FR = {
    "approved": "validée",
    "refused": "refusée",
    "expired": "expirée",
    "consumed": "traitée",
    "done": "traitée",
}


def _with_query(uri: str, params: dict[str, str]) -> str:
    from urllib.parse import urlencode

    return uri + ("&" if "?" in uri else "?") + urlencode(params)


FORM_POST = """<HTML><HEAD><TITLE>Submit This Form</TITLE></HEAD><BODY Onload="javascript:document.forms[0].submit()">\
<FORM METHOD="POST" ACTION="{{ uri }}">{% for k, v in params.items() %}<INPUT TYPE="HIDDEN" NAME="{{ k }}" VALUE="{{ v }}"/>\
{% endfor %}<NOSCRIPT><P>JavaScript is disabled. Click Submit to continue.</P><INPUT name="continue" TYPE="SUBMIT" VALUE="Submit"/>\
</NOSCRIPT></FORM></BODY></HTML>"""
RESPONSE_MODES = ("query", "fragment", "form_post")


def deliver(uri: str, params: dict[str, str], mode: str = "query") -> Response:
    """The authorization response: a redirect with a query or a fragment, or an auto-submitted
    form (response_mode=form_post, as Keycloak renders it)."""
    from urllib.parse import urlencode

    if mode == "form_post":
        html = render_template_string(FORM_POST, uri=uri, params=params)
        return Response(html, 200, {"Cache-Control": "no-store"}, mimetype="text/html")
    if mode == "fragment":
        return _redirect(uri + "#" + urlencode(params), 302)
    return _redirect(_with_query(uri, params), 302)


def _redirect(location: str, status: int = 302) -> Response:
    return Response("", status, {"Location": location, "Cache-Control": "no-store"})


class Wallet:
    def __init__(self, sandbox: Sandbox, realm: Realm, wire: Wire):
        self.sandbox, self.realm, self.wire = sandbox, realm, wire

    def page(
        self, title: str, body: str, status: int = 200, error: str = "", refresh: int = 0, **values: Any
    ) -> Response:
        inner = render_template_string(body, **values)
        html = render_template_string(pages.LAYOUT, title=title, body=inner, error=error, refresh=refresh)
        return Response(html, status, {"Cache-Control": "no-store"}, mimetype="text/html")

    def keycloak_error(self, message: str, status: int = 400) -> Response:
        return Response(
            render_template_string(pages.KEYCLOAK_ERROR, message=message), status, mimetype="text/html"
        )

    def app(self) -> Flask:
        app = Flask("psc-wallet")

        @app.errorhandler(UnknownTenant)
        def _unknown_tenant(exc: UnknownTenant) -> Response:
            return self.keycloak_error(f"Tenant inconnu : {exc.tenant}", 404)

        @app.errorhandler(PageError)
        def _page_error(exc: PageError) -> Response:
            return self.keycloak_error(exc.message, exc.status)

        @app.get("/")
        def home() -> Response:
            return self.page(
                "Portail e-CPS",
                "<p>Portail e-CPS du bac à sable. Les services vous y envoient pour vous identifier.</p>",
            )

        @app.route("/auth", methods=["GET", "POST"])
        def authorize() -> Response:
            return self.authorize()

        @app.post("/auth/login")
        def login() -> Response:
            return self.login()

        @app.get("/auth/attente/<rid>")
        def wait(rid: str) -> Response:
            return self.wait(rid)

        @app.route("/auth/telephone/<rid>", methods=["GET", "POST"])
        def phone(rid: str) -> Response:
            return self.phone(rid)

        @app.post("/auth/pin/<rid>")
        def pin(rid: str) -> Response:
            return self.pin(rid)

        return app

    # -- /auth ----------------------------------------------------------------------------------
    def authorize(self) -> Response:
        values = {**request.args.to_dict(), **request.form.to_dict()}
        client_id = values.get("client_id", "")
        tenant = self.wire.tenant([client_id])
        with self.sandbox.exchange(NAME, "authorize", tenant, request.environ, caller=client_id) as ex:
            ex.request_body = request.query_string.decode("utf-8", "replace")
            response = self._authorize(ex, values)
            ex.status = response.status_code
            return response

    def _authorize(self, ex: Exchange, v: dict[str, str]) -> Response:
        realm = self.realm
        client = realm.client(ex.tenant, v.get("client_id"))
        if client is None:
            ex.outcome = "client not found (error page)"
            return self.keycloak_error("Client not found.")
        redirect_uri = v.get("redirect_uri", "")
        if not redirect_uri or redirect_uri not in client.redirect_uris:
            ex.outcome = "invalid redirect_uri (error page)"
            ex.findings.add(
                "PSC-REDIRECT-URI",
                "error",
                f"redirect_uri {redirect_uri!r} n'est pas déclarée pour {client.client_id} (comparaison exacte) ; "
                "PSC affiche une page d'erreur au lieu de revenir vers le logiciel.",
                "ANS PSC, déclaration des URL de redirection",
                "redirect_uri",
            )
            return self.keycloak_error("Invalid parameter: redirect_uri")
        state = v.get("state")
        mode = v.get("response_mode") or "query"

        def back(error: str, description: str) -> Response:
            params = {"error": error, "error_description": description}
            if state:
                params["state"] = state
            ex.outcome = f"redirect {error}"
            return deliver(redirect_uri, params, mode if mode in RESPONSE_MODES else "query")

        if mode not in RESPONSE_MODES:
            return back("invalid_request", "Invalid parameter: response_mode")

        if GRANT_CODE not in client.grant_types:
            return back(
                "unauthorized_client",
                "Client is not allowed to initiate browser login with given response_type. Standard flow is disabled for the client.",
            )
        if v.get("response_type") != "code":
            return back(
                "unsupported_response_type",
                "Client is not allowed to initiate browser login with given response_type. Implicit flow is disabled for the client.",
            )
        method = v.get("code_challenge_method")
        challenge = v.get("code_challenge")
        if challenge:
            method = method or "plain"
            if method not in ("plain", "S256"):
                return back(
                    "invalid_request", "Invalid parameter: code challenge method is not configured one"
                )
            if not CHALLENGE.match(challenge):
                return back("invalid_request", "Invalid parameter: code_challenge")
        self.check(ex, v, redirect_uri)
        if ex.findings.refuse:
            return back("invalid_request", ex.findings.errors[0].message)
        err = rule_error(ex)
        if err is not None:
            ex.outcome = f"fault rule {err.name}"
            if "html" in err.data:
                return Response(str(err.data["html"]), err.http_status, mimetype="text/html")
            return back(str(err.data["error"]), str(err.data["error_description"]))
        params = {
            "client_id": client.client_id,
            "redirect_uri": redirect_uri,
            "state": state or "",
            "nonce": v.get("nonce", ""),
            "scope": v.get("scope", ""),
            "code_challenge": challenge or "",
            "code_challenge_method": method or "",
            "response_mode": mode,
        }
        prompt = v.get("prompt", "")
        session = realm.session(request.cookies.get(SESSION_COOKIE), ex.tenant)
        if session is not None and "login" not in prompt.split():
            ex.persona = session.national_id
            ex.outcome = "SSO session: code issued"
            realm.touch(session)
            return self.finish(ex.tenant, params, session)
        if "none" in prompt.split():
            return back("login_required", "User not logged in")
        rid = realm.new_request(ex.tenant, "auth", client.client_id, params)
        ex.details["request"] = rid
        ex.outcome = "login page"
        return self.login_page(rid, client.client_id)

    def check(self, ex: Exchange, v: dict[str, str], redirect_uri: str) -> None:
        """What PSC integrators get wrong in the authorization request (findings, in French)."""
        f = ex.findings
        scopes = v.get("scope", "").split()
        if "scope_all" not in scopes:
            f.add(
                "PSC-SCOPE-ALL",
                "warning",
                f"PSC attend scope=openid scope_all (reçu {v.get('scope', '')!r}).",
                "research psc.md 1.5",
                "scope",
            )
        if "openid" not in scopes:
            f.add(
                "PSC-SCOPE-OPENID",
                "warning",
                "Sans le scope openid, aucun id_token n'est délivré (toléré : scope_all seul).",
                "OpenID Connect Core 3.1.2.1",
                "scope",
            )
        if not v.get("state"):
            f.add(
                "PSC-STATE",
                "error",
                "Le paramètre state est obligatoire pour PSC (protection CSRF).",
                "IG sécurisation API, PSC",
                "state",
            )
        if not v.get("nonce"):
            f.add(
                "PSC-NONCE",
                "warning",
                "Envoyez un nonce aléatoire et vérifiez-le dans l'id_token.",
                "OpenID Connect Core 3.1.2.1",
                "nonce",
            )
        if "acr" in v and "acr_values" not in v:
            f.add(
                "PSC-ACR-PARAM",
                "warning",
                "Le paramètre s'appelle acr_values (acr=... est ignoré).",
                "OpenID Connect Core 3.1.2.1",
                "acr",
            )
        elif v.get("acr_values") != "eidas1":
            f.add(
                "PSC-ACR",
                "info",
                f"PSC attend acr_values=eidas1 (reçu {v.get('acr_values', '')!r}).",
                "research psc.md 1.5",
                "acr_values",
            )
        if not v.get("code_challenge"):
            f.add(
                "PSC-PKCE", "info", "PKCE (code_challenge S256) est recommandé.", "RFC 7636", "code_challenge"
            )
        elif v.get("code_challenge_method", "plain") == "plain":
            f.add(
                "PSC-PKCE-PLAIN",
                "info",
                "Préférez code_challenge_method=S256 à plain.",
                "RFC 7636 4.2",
                "code_challenge_method",
            )

    def login_page(
        self, rid: str, client_id: str, error: str = "", national_id: str = "", status: int = 200
    ) -> Response:
        pros = self.sandbox.population.personas()["professionals"]
        personas = [
            {
                "id_nat": p.id_nat,
                "label": f"{p.civilite_exercice or p.civilite} {' '.join(p.prenoms)} {p.nom} — {p.id_nat} ({p.note})",
            }
            for p in pros
        ]
        return self.page(
            "Identifiez-vous",
            pages.LOGIN,
            status,
            error=error,
            client_id=client_id,
            rid=rid,
            personas=personas,
            national_id=national_id,
            action=request.script_root + "/auth/login",
        )

    def finish(
        self, tenant: str, params: dict[str, Any], session: Session, rid: str | None = None
    ) -> Response:
        """Code issued: back to the client with state, session_state, iss and code (Keycloak's order)."""
        code = self.realm.new_code(tenant, params["client_id"], session, params)
        if rid:
            self.realm.update_request(rid, status="done", session_id=session.id)
        query = {}
        if params.get("state"):
            query["state"] = params["state"]
        query.update({"session_state": session.id, "iss": self.realm.issuer(), "code": code})
        response = deliver(params["redirect_uri"], query, params.get("response_mode") or "query")
        response.set_cookie(
            SESSION_COOKIE,
            session.id,
            httponly=True,
            secure=True,
            samesite="None",
            path=request.script_root or "/",
        )
        return response

    def _request(self, rid: str) -> dict[str, Any]:
        req = self.realm.request(rid)
        if req is None or req["kind"] != "auth":
            raise PageError("Demande d'authentification inconnue ou expirée.", 400)
        return req

    # -- /auth/login ------------------------------------------------------------------------------
    def login(self) -> Response:
        rid = request.form.get("request", "")
        req = self._request(rid)
        nid = (request.form.get("national_id") or request.form.get("persona") or "").strip()
        if request.form.get("persona") and not request.form.get("national_id"):
            nid = request.form["persona"]
        method = request.form.get("method", "ecps")
        tenant = req["tenant"]
        with self.sandbox.exchange(
            NAME, "login", tenant, request.environ, caller=req["client_id"], persona=nid
        ) as ex:
            ex.details.update({"request": rid, "method": method})
            response = self._login(ex, req, nid, method)
            ex.status = response.status_code
            return response

    def _login(self, ex: Exchange, req: dict[str, Any], nid: str, method: str) -> Response:
        realm, rid = self.realm, req["id"]
        if req["status"] not in ("login", "expired"):
            ex.outcome = f"request already {req['status']}"
            return self.page(
                "Demande déjà traitée",
                pages.MESSAGE,
                400,
                message="Cette demande d'authentification a déjà été traitée.",
            )
        if not nid:
            ex.outcome = "no identifier"
            return self.login_page(
                rid,
                req["client_id"],
                "Saisissez votre identifiant national ou choisissez un professionnel.",
                status=400,
            )
        pro = self.sandbox.population.professional(nid)
        if pro is None:
            ex.outcome = "unknown identifier"
            return self.login_page(rid, req["client_id"], f"Identifiant inconnu : {nid}", nid, status=400)
        err = rule_error(ex, nid)
        if err is not None:
            ex.outcome = f"fault rule {err.name}"
            return self.refuse_back(
                req,
                str(err.data.get("error", "server_error")),
                str(err.data.get("error_description", "")),
                err.http_status,
                err.data.get("html"),
            )
        name = f"{' '.join(pro.prenoms)} {pro.nom}"
        if method == "card":
            return self.card(ex, req, pro, name)
        if not pro.ecps:
            ex.outcome = "no e-CPS"
            return self.page(
                "Pas d'e-CPS",
                pages.MESSAGE,
                200,
                message=f"{name} n'a pas activé d'e-CPS. Connectez-vous avec votre carte CPS ou activez votre e-CPS.",
                retry=request.script_root + "/auth/login",
                rid=rid,
                national_id=nid,
                method="card",
            )
        binding = f"{secrets.randbelow(100):02d}"
        realm.push(rid, ex.tenant, nid, "MOBILE", int(self.sandbox.config["psc_ecps_timeout"]))
        params = {**req["params"], "binding_message": binding}
        import json

        realm.update_request(rid, params=json.dumps(params))
        ex.outcome = "e-CPS push sent"
        return _redirect(request.script_root + f"/auth/attente/{rid}", 303)

    def card(self, ex: Exchange, req: dict[str, Any], pro: Any, name: str) -> Response:
        realm, rid = self.realm, req["id"]
        if not pro.cps_card:
            ex.outcome = "no CPS card"
            return self.page(
                "Pas de carte CPS", pages.MESSAGE, 200, message=f"Aucune carte CPS n'est associée à {name}."
            )
        der = request.environ.get("segur.peercert")
        caller = self.sandbox.pki.identify(der, ex.tenant) if der else None
        if caller is not None and caller.kind == "cps_auth" and caller.persona == pro.id_nat:
            if caller.status != "valid":
                ex.outcome = f"CPS certificate {caller.status}"
                return self.page(
                    "Carte refusée",
                    pages.MESSAGE,
                    403,
                    message=f"Le certificat d'authentification de la carte CPS est refusé ({caller.status}).",
                )
            ex.outcome = "CPS card (TLS client certificate)"
            session = realm.new_session(ex.tenant, pro.id_nat, "CARD")
            return self.finish(ex.tenant, req["params"], session, rid)
        if pro.certificate_state in ("revoked", "expired"):
            ex.outcome = f"CPS card {pro.certificate_state}"
            state = "révoquée" if pro.certificate_state == "revoked" else "expirée"
            return self.page(
                "Carte refusée", pages.MESSAGE, 403, message=f"La carte CPS de {name} est {state}."
            )
        realm.push(rid, ex.tenant, pro.id_nat, "CARD", int(self.sandbox.config["psc_ecps_timeout"]))
        ex.outcome = "PIN prompt"
        return self.page(
            "Code porteur", pages.PIN, name=name, action=request.script_root + f"/auth/pin/{rid}"
        )

    def refuse_back(
        self, req: dict[str, Any], error: str, description: str, status: int, html: Any = None
    ) -> Response:
        if html:
            return Response(str(html), status, mimetype="text/html")
        params = {"error": error, "error_description": description}
        if req["params"].get("state"):
            params["state"] = req["params"]["state"]
        return deliver(req["params"]["redirect_uri"], params, req["params"].get("response_mode") or "query")

    # -- /auth/pin --------------------------------------------------------------------------------
    def pin(self, rid: str) -> Response:
        req = self._request(rid)
        with self.sandbox.exchange(
            NAME,
            "card-pin",
            req["tenant"],
            request.environ,
            caller=req["client_id"],
            persona=req["national_id"],
        ) as ex:
            if req["status"] not in ("pending", "approved") or req["channel"] != "CARD":
                ex.status, ex.outcome = 400, f"request {req['status']}"
                return self.page(
                    "Demande expirée",
                    pages.MESSAGE,
                    400,
                    message="Le délai de saisie du code porteur est dépassé.",
                )
            pro = self.sandbox.population.professional(req["national_id"])
            if request.form.get("pin", "") != str(self.sandbox.config["psc_card_pin"]):
                tries = int(req["params"].get("pin_tries", 0)) + 1
                import json

                self.realm.update_request(rid, params=json.dumps({**req["params"], "pin_tries": tries}))
                if tries >= 3:
                    self.realm.resolve(rid, "refused", "card blocked")
                    ex.status, ex.outcome = 403, "card blocked (3 wrong PINs)"
                    return self.page(
                        "Carte bloquée",
                        pages.MESSAGE,
                        403,
                        message="Code porteur faux trois fois : la carte est bloquée.",
                    )
                ex.status, ex.outcome = 400, "wrong PIN"
                return self.page(
                    "Code porteur",
                    pages.PIN,
                    400,
                    error=f"Code porteur incorrect ({3 - tries} essai(s) restant(s)).",
                    name=f"{' '.join(pro.prenoms)} {pro.nom}" if pro else "",
                    action=request.script_root + f"/auth/pin/{rid}",
                )
            self.realm.resolve(rid, "approved", "PIN")
            session = self.realm.new_session(req["tenant"], req["national_id"], "CARD")
            ex.outcome = "CPS card (PIN)"
            response = self.finish(req["tenant"], req["params"], session, rid)
            ex.status = response.status_code
            return response

    # -- e-CPS: waiting page and simulated phone --------------------------------------------------
    def wait(self, rid: str) -> Response:
        req = self._request(rid)
        status = req["status"]
        if status == "approved":
            with self.sandbox.exchange(
                NAME,
                "ecps-approved",
                req["tenant"],
                request.environ,
                caller=req["client_id"],
                persona=req["national_id"],
            ) as ex:
                session = self.realm.new_session(req["tenant"], req["national_id"], "MOBILE")
                response = self.finish(req["tenant"], req["params"], session, rid)
                ex.status, ex.outcome = response.status_code, f"e-CPS validated ({req['reason'] or 'phone'})"
                return response
        if status == "refused":
            with self.sandbox.exchange(
                NAME,
                "ecps-refused",
                req["tenant"],
                request.environ,
                caller=req["client_id"],
                persona=req["national_id"],
            ) as ex:
                self.realm.update_request(rid, status="done")
                ex.status, ex.outcome = 302, f"access_denied ({req['reason']})"
                return self.refuse_back(
                    req, "access_denied", "Authentification refusée par l'utilisateur", 302
                )
        if status == "expired":
            return self.page(
                "Délai dépassé",
                pages.MESSAGE,
                200,
                message="La demande n'a pas été validée à temps sur votre téléphone.",
                retry=request.script_root + "/auth/login",
                rid=rid,
                national_id=req["national_id"],
                method="ecps",
            )
        if status != "pending":
            return self.page(
                "Demande déjà traitée",
                pages.MESSAGE,
                400,
                message="Cette demande d'authentification a déjà été traitée.",
            )
        pro = self.sandbox.population.professional(req["national_id"])
        remaining = max(0, int((req["expires_at"] or 0) - self.realm.now(req["tenant"])))
        return self.page(
            "Validez sur votre téléphone",
            pages.WAIT,
            refresh=2,
            name=f"{' '.join(pro.prenoms)} {pro.nom}" if pro else "",
            binding=req["params"].get("binding_message", ""),
            remaining=remaining,
            phone=request.script_root + f"/auth/telephone/{rid}",
        )

    def phone(self, rid: str) -> Response:
        req = self.realm.request(rid)
        if req is None:
            raise PageError("Demande inconnue.", 404)
        if request.method == "POST":
            decision = request.form.get("decision")
            if decision not in ("approve", "refuse"):
                raise PageError("decision: approve ou refuse", 400)
            self.realm.resolve(rid, "approved" if decision == "approve" else "refused", "phone")
            req = self.realm.request(rid) or req
        pro = self.sandbox.population.professional(req["national_id"])
        return self.page(
            "e-CPS",
            pages.PHONE,
            name=f"{' '.join(pro.prenoms)} {pro.nom}" if pro else "",
            national_id=req["national_id"],
            client_id=req["client_id"],
            channel=req["channel"],
            binding=req["params"].get("binding_message", ""),
            state=req["status"],
            status_fr=STATUS_FR.get(req["status"], req["status"]),
        )
