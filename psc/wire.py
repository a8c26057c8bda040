"""The HTTP surface of PSC: three WSGI apps, each the exact paths, JSON shapes and error bodies
of the real platform (research psc.md 1.2, 2.1-2.9, 3). The rules live in psc.rules.

- issuer  (`psc`):          /auth/realms/esante-wallet/... discovery, JWKS, token, userinfo,
                             introspection, revocation, logout, CIBA;
- wallet  (`psc-wallet`):   /auth and the login pages (e-CPS push, CPS card);
- exchange (`psc-exchange`): /realms/signsessiondata/... the RFC 8693 token-exchange AS (mTLS).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from flask import Flask, Response, render_template_string, request

from mocks.errors import ErrorDef
from mocks.tenants import UnknownTenant
from psc import claims as claims_mod
from psc import login_pages as pages
from psc.errors import ERRORS, OAuthError, rule_error
from psc.rules import GRANT_CIBA, GRANT_CODE, GRANT_EXCHANGE, GRANT_REFRESH, Client, Realm

if TYPE_CHECKING:
    from mocks.kernel import Exchange, Sandbox
    from mocks.pki.model import CallerCertificate

log = logging.getLogger("segur.psc")

REALM = "/auth/realms/esante-wallet"
OIDC = REALM + "/protocol/openid-connect"
EXCHANGE_REALM = "/realms/signsessiondata"
SESSION_COOKIE = "PSC_WALLET_SESSION"
NAME = "psc"
TOKEN_TYPES = ("urn:ietf:params:oauth:token-type:access_token", "urn:ietf:params:oauth:token-type:jwt")
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
SECRET_FIELDS = ("client_secret", "code_verifier", "pin")


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return Response(body, status, {**NO_STORE, **(headers or {})}, mimetype="application/json")


def _oauth(err: OAuthError) -> Response:
    return _json(err.body, err.status, err.headers)


def _fault(err: ErrorDef) -> Response:
    if "html" in err.data:
        return Response(str(err.data["html"]), err.http_status, mimetype="text/html")
    return _json(
        {"error": err.data["error"], "error_description": err.data["error_description"]}, err.http_status
    )


def _form() -> dict[str, str]:
    return {k: v for k, v in request.form.items()}


def _form_refusal(ex: Exchange) -> Response | None:
    """Keycloak's back-channel endpoints consume `application/x-www-form-urlencoded` only (415
    otherwise) and refuse a parameter sent twice."""
    if request.mimetype != "application/x-www-form-urlencoded":
        ex.findings.add(
            "PSC-FORM",
            "error",
            f"Les points d'accès PSC attendent application/x-www-form-urlencoded (reçu {request.mimetype or 'aucun'!r}).",
            "RFC 6749 3.2",
            "Content-Type",
        )
        ex.status, ex.outcome = 415, "unsupported media type"
        return _json({"error": "HTTP 415 Unsupported Media Type"}, 415)
    for key, values in request.form.lists():
        if len(values) > 1:
            ex.status, ex.outcome = 400, f"duplicated parameter {key}"
            return _json({"error": "invalid_request", "error_description": "duplicated parameter"}, 400)
    return None


def _journal_form(form: dict[str, str]) -> str:
    return urlencode({k: ("***" if k in SECRET_FIELDS else v) for k, v in form.items()})


def _with_query(uri: str, params: dict[str, str]) -> str:
    return uri + ("&" if "?" in uri else "?") + urlencode(params)


def _redirect(location: str, status: int = 302) -> Response:
    return Response("", status, {"Location": location, "Cache-Control": "no-store"})


class Wire:
    def __init__(self, sandbox: Sandbox, realm: Realm):
        self.sandbox = sandbox
        self.realm = realm

    # -- shared -----------------------------------------------------------------------------------
    def tenant(self, presented: list[str | None]) -> str:
        return self.sandbox.resolve_tenant(request.environ, presented)

    def caller(self, tenant: str) -> CallerCertificate | None:
        der = request.environ.get("segur.peercert")
        return self.sandbox.pki.identify(der, tenant) if der else None

    def basic_client_id(self) -> str | None:
        auth = request.headers.get("Authorization", "")
        if auth.lower().startswith("basic "):
            import base64
            from urllib.parse import unquote

            try:
                return unquote(base64.b64decode(auth[6:].strip()).decode().partition(":")[0])
            except (ValueError, UnicodeDecodeError):
                return None
        return None

    def cert_subject(self) -> str | None:
        der = request.environ.get("segur.peercert")
        if not der:
            return None
        caller = self.sandbox.pki.identify(der)
        return caller.subject or None

    def discovery(self) -> dict[str, Any]:
        """The BAS discovery document's fields (research 2.1), URLs of this sandbox; the
        authorization endpoint is on the wallet listener, as on the real platform."""
        iss = self.realm.issuer()
        oidc = iss + "/protocol/openid-connect"
        algs = [
            "PS384",
            "ES384",
            "RS384",
            "HS256",
            "HS512",
            "ES256",
            "RS256",
            "HS384",
            "ES512",
            "PS256",
            "PS512",
            "RS512",
            "EdDSA",
        ]
        auth_methods = [
            "private_key_jwt",
            "client_secret_basic",
            "client_secret_post",
            "tls_client_auth",
            "client_secret_jwt",
        ]
        endpoints = {
            "token_endpoint": oidc + "/token",
            "revocation_endpoint": oidc + "/revoke",
            "introspection_endpoint": oidc + "/token/introspect",
            "device_authorization_endpoint": oidc + "/auth/device",
            "registration_endpoint": iss + "/clients-registrations/openid-connect",
            "userinfo_endpoint": oidc + "/userinfo",
            "pushed_authorization_request_endpoint": oidc + "/ext/par/request",
            "backchannel_authentication_endpoint": oidc + "/ext/ciba/auth",
        }
        return {
            "issuer": iss,
            "authorization_endpoint": self.sandbox.url("psc-wallet", "/auth"),
            "token_endpoint": endpoints["token_endpoint"],
            "introspection_endpoint": endpoints["introspection_endpoint"],
            "userinfo_endpoint": endpoints["userinfo_endpoint"],
            "end_session_endpoint": oidc + "/logout",
            "frontchannel_logout_session_supported": True,
            "frontchannel_logout_supported": True,
            "jwks_uri": oidc + "/certs",
            "check_session_iframe": oidc + "/login-status-iframe.html",
            "grant_types_supported": [
                "authorization_code",
                "implicit",
                "refresh_token",
                "password",
                "client_credentials",
                "urn:openid:params:grant-type:ciba",
                "urn:ietf:params:oauth:grant-type:device_code",
            ],
            "acr_values_supported": ["0", "0"],  # sic: the BAS capture (research 2.1)
            "response_types_supported": [
                "code",
                "none",
                "id_token",
                "token",
                "id_token token",
                "code id_token",
                "code token",
                "code id_token token",
            ],
            "subject_types_supported": ["public", "pairwise"],
            "id_token_signing_alg_values_supported": algs,
            "id_token_encryption_alg_values_supported": ["RSA-OAEP", "RSA-OAEP-256", "RSA1_5"],
            "id_token_encryption_enc_values_supported": [
                "A256GCM",
                "A192GCM",
                "A128GCM",
                "A128CBC-HS256",
                "A192CBC-HS384",
                "A256CBC-HS512",
            ],
            "userinfo_signing_alg_values_supported": [*algs, "none"],
            "request_object_signing_alg_values_supported": [*algs, "none"],
            "response_modes_supported": [
                "query",
                "fragment",
                "form_post",
                "query.jwt",
                "fragment.jwt",
                "form_post.jwt",
                "jwt",
            ],
            "registration_endpoint": endpoints["registration_endpoint"],
            "token_endpoint_auth_methods_supported": auth_methods,
            "token_endpoint_auth_signing_alg_values_supported": algs,
            "introspection_endpoint_auth_methods_supported": auth_methods,
            "introspection_endpoint_auth_signing_alg_values_supported": algs,
            "claims_supported": [
                "aud",
                "sub",
                "iss",
                "auth_time",
                "name",
                "given_name",
                "family_name",
                "preferred_username",
                "email",
                "acr",
            ],
            "claim_types_supported": ["normal"],
            "claims_parameter_supported": True,
            "scopes_supported": [
                "openid",
                "microprofile-jwt",
                "rpps",
                "referentiel",
                "web-origins",
                "basic",
                "identity",
                "acr",
                "offline_access",
                "eidas1",
                "profile",
                "roles",
                "email",
                "scope_all",
                "phone",
                "interop",
                "scope_1",
                "address",
                "scope_2",
                "eidas2",
            ],
            "request_parameter_supported": True,
            "request_uri_parameter_supported": True,
            "require_request_uri_registration": True,
            "code_challenge_methods_supported": ["plain", "S256"],
            "tls_client_certificate_bound_access_tokens": True,
            "revocation_endpoint": endpoints["revocation_endpoint"],
            "revocation_endpoint_auth_methods_supported": auth_methods,
            "revocation_endpoint_auth_signing_alg_values_supported": algs,
            "backchannel_logout_supported": True,
            "backchannel_logout_session_supported": True,
            "device_authorization_endpoint": endpoints["device_authorization_endpoint"],
            "backchannel_token_delivery_modes_supported": ["poll", "ping"],
            "backchannel_authentication_endpoint": endpoints["backchannel_authentication_endpoint"],
            "backchannel_authentication_request_signing_alg_values_supported": [
                "PS384",
                "ES384",
                "RS384",
                "ES256",
                "RS256",
                "ES512",
                "PS256",
                "PS512",
                "RS512",
            ],
            "require_pushed_authorization_requests": False,
            "pushed_authorization_request_endpoint": endpoints["pushed_authorization_request_endpoint"],
            "mtls_endpoint_aliases": endpoints,
            "authorization_response_iss_parameter_supported": True,
        }

    def realm_info(self) -> dict[str, Any]:
        """Keycloak's realm document (`GET /auth/realms/<realm>`), read by some Keycloak adapters."""
        import base64

        from cryptography.hazmat.primitives import serialization

        public = self.realm.keys.key("realm").private_key.public_key()
        der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        iss = self.realm.issuer()
        return {
            "realm": "esante-wallet",
            "public_key": base64.b64encode(der).decode(),
            "token-service": iss + "/protocol/openid-connect",
            "account-service": iss + "/account",
            "tokens-not-before": 0,
        }

    # =============================================================================================
    # issuer listener
    # =============================================================================================
    def issuer_app(self) -> Flask:
        app = Flask("psc-issuer")
        app.json.sort_keys = False  # type: ignore[attr-defined]

        @app.errorhandler(UnknownTenant)
        def _unknown_tenant(exc: UnknownTenant) -> Response:
            return _json(
                {"error": "invalid_request", "error_description": f"unknown tenant: {exc.tenant}"}, 404
            )

        @app.errorhandler(404)
        def _not_found(_: Any) -> Response:
            return _json({"error": "Unable to find matching target resource method"}, 404)

        @app.errorhandler(405)
        def _not_allowed(_: Any) -> Response:
            return _json({"error": "HTTP 405 Method Not Allowed"}, 405)

        @app.get(REALM + "/.well-known/wallet-openid-configuration")
        @app.get(REALM + "/.well-known/openid-configuration")
        def discovery() -> Response:
            return self.simple("discovery", lambda: self.discovery())

        @app.get(REALM)
        def realm_info() -> Response:
            return self.simple("realm", self.realm_info)

        @app.get(OIDC + "/certs")
        def certs() -> Response:
            return self.simple("certs", lambda: self.realm.keys.jwks("realm"))

        @app.post(OIDC + "/token")
        def token() -> Response:
            return self.token()

        @app.route(OIDC + "/userinfo", methods=["GET", "POST"])
        def userinfo() -> Response:
            return self.userinfo()

        @app.post(OIDC + "/token/introspect")
        def introspect() -> Response:
            return self.introspect()

        @app.post(OIDC + "/revoke")
        def revoke() -> Response:
            return self.revoke()

        @app.route(OIDC + "/logout", methods=["GET", "POST"])
        def logout() -> Response:
            return self.logout()

        @app.post(OIDC + "/ext/ciba/auth")
        def ciba() -> Response:
            return self.ciba_auth()

        return app

    def simple(self, operation: str, produce: Callable[[], dict[str, Any]]) -> Response:
        tenant = self.tenant([])
        with self.sandbox.exchange(NAME, operation, tenant, request.environ) as ex:
            err = rule_error(ex)
            if err is not None:
                ex.status, ex.outcome = err.http_status, f"fault rule {err.name}"
                return _fault(err)
            return _json(produce(), headers={"Cache-Control": "no-cache"})

    def _backchannel(
        self, operation: str, handle: Callable[[Exchange, Client, str, dict[str, str]], Response]
    ) -> Response:
        """Client authentication, tenant, journal and fault rules around a back-channel endpoint."""
        form = _form()
        client_hint = self.basic_client_id() or form.get("client_id")
        tenant = self.tenant([client_hint, self.cert_subject()])
        with self.sandbox.exchange(NAME, operation, tenant, request.environ, caller=client_hint or "") as ex:
            ex.request_body = _journal_form(form)
            refused = _form_refusal(ex)
            if refused is not None:
                return refused
            try:
                client, method = self.realm.authenticate(
                    tenant, form, request.headers.get("Authorization"), self.caller(tenant)
                )
                ex.caller = client.client_id
                ex.details["client_auth"] = method
                if method != client.auth_method and client.auth_method != "tls_client_auth":
                    ex.findings.add(
                        "PSC-CLIENT-AUTH",
                        "info",
                        f"Client authentifié par {method} alors qu'il est déclaré en {client.auth_method} "
                        "(accepté, comme Keycloak, qui accepte les deux formes du secret).",
                        "RFC 6749 2.3.1",
                        "Authorization",
                    )
                response = handle(ex, client, method, form)
            except OAuthError as exc:
                response = _oauth(exc)
                ex.outcome = ex.outcome or f"{exc.error}: {exc.description}"
            except _HtmlFault as fault:
                response = _fault(fault.err)
            ex.status = response.status_code
            ex.response_body = response.get_data(as_text=True)[:20000]
            ex.outcome = ex.outcome or "ok"
            return response

    def _fault_check(self, ex: Exchange, persona: str | None) -> None:
        err = rule_error(ex, persona)
        if err is not None:
            ex.outcome = f"fault rule {err.name}"
            if "html" in err.data:
                raise _HtmlFault(err)
            raise OAuthError(str(err.data["error"]), str(err.data["error_description"]), err.http_status)

    # -- token endpoint ---------------------------------------------------------------------------
    def token(self) -> Response:
        return self._backchannel("token", self._token)

    def _token(self, ex: Exchange, client: Client, method: str, form: dict[str, str]) -> Response:
        realm = self.realm
        grant = form.get("grant_type", "")
        ex.details["grant_type"] = grant
        if not grant:
            raise OAuthError("invalid_request", "Missing form parameter: grant_type")
        if grant == GRANT_CODE:
            if GRANT_CODE not in client.grant_types:
                raise OAuthError("unauthorized_client", "Client not allowed to exchange code")
            code = form.get("code")
            if not code:
                raise OAuthError("invalid_request", "Missing parameter: code")
            ex.persona = self._code_persona(code)
            self._fault_check(ex, ex.persona)
            session, params = realm.redeem(
                ex.tenant, client, code, form.get("redirect_uri"), form.get("code_verifier")
            )
            scope = params.get("scope", "")
            body = realm.mint(
                session, client.client_id, scope, params.get("nonce"), "openid" in scope.split()
            )
            ex.outcome = "tokens (code)"
            return _json(body)
        if grant == GRANT_REFRESH:
            token = form.get("refresh_token")
            if not token:
                raise OAuthError("invalid_request", "Missing form parameter: refresh_token")
            found = realm.keys.verify("refresh", token) or {}
            ex.persona = str(found.get("sub", "")).rpartition(":")[2]
            self._fault_check(ex, ex.persona)
            session, rt = realm.refresh(ex.tenant, client, token)
            scope = str(rt.get("scope", ""))
            body = realm.mint(session, client.client_id, scope, rt.get("nonce"), "openid" in scope.split())
            ex.outcome = "tokens (refresh)"
            return _json(body)
        if grant == GRANT_CIBA:
            return self._ciba_poll(ex, client, form)
        raise OAuthError("unsupported_grant_type", "Unsupported grant_type")

    def _code_persona(self, code: str) -> str:
        row = self.sandbox.store.one(
            "SELECT s.national_id FROM psc_codes c JOIN psc_sessions s ON s.id = c.session_id WHERE c.code = ?",
            (code,),
        )
        return str(row["national_id"]) if row else ""

    def _ciba_poll(self, ex: Exchange, client: Client, form: dict[str, str]) -> Response:
        realm = self.realm
        if GRANT_CIBA not in client.grant_types:
            raise OAuthError("unauthorized_client", "Client not allowed OIDC CIBA Grant")
        rid = form.get("auth_req_id", "")
        req = realm.request(rid) if rid else None
        if (
            req is None
            or req["kind"] != "ciba"
            or req["client_id"] != client.client_id
            or req["tenant"] != ex.tenant
        ):
            raise OAuthError("invalid_grant", "Invalid Auth Req ID")
        ex.persona = req["national_id"]
        ex.details["auth_req_id"] = rid
        self._fault_check(ex, ex.persona)
        now = realm.now(ex.tenant)
        status = req["status"]
        if status == "expired":
            realm.update_request(rid, status="consumed")
            raise OAuthError("expired_token", "authentication timed out")
        if status == "pending" and req["last_poll"] is not None and now - req["last_poll"] < req["interval"]:
            realm.update_request(rid, last_poll=now)
            raise OAuthError("slow_down", "too early to access")
        if status == "refused":
            realm.update_request(rid, status="consumed")
            raise OAuthError("access_denied", "not authorized")
        if status == "pending":
            realm.update_request(rid, last_poll=now)
            raise OAuthError(
                "authorization_pending", ERRORS["authorization_pending"].data["error_description"]
            )
        if status != "approved":
            raise OAuthError("invalid_grant", "Invalid Auth Req ID")
        realm.update_request(rid, status="consumed")
        session = realm.new_session(ex.tenant, req["national_id"], req["channel"] or "MOBILE")
        scope = str(req["params"].get("scope", "openid"))
        ex.outcome = "tokens (ciba)"
        return _json(realm.mint(session, client.client_id, scope, None, True))

    # -- CIBA backchannel authentication ----------------------------------------------------------
    def ciba_auth(self) -> Response:
        return self._backchannel("ciba", self._ciba_auth)

    def _ciba_auth(self, ex: Exchange, client: Client, method: str, form: dict[str, str]) -> Response:
        realm, cfg = self.realm, self.sandbox.config
        if GRANT_CIBA not in client.grant_types:
            raise OAuthError("unauthorized_client", "Client not allowed OIDC CIBA Grant")
        scope = form.get("scope")
        if not scope:
            raise OAuthError("invalid_request", "missing parameter : scope")
        hint = form.get("login_hint")
        if not hint:
            raise OAuthError("invalid_request", "missing parameter : login_hint")
        ex.persona = hint
        pro = self.sandbox.population.professional(hint)
        if pro is None:
            raise OAuthError("unknown_user_id", "no user found")
        binding = form.get("binding_message", "")
        if not re.fullmatch(r"\d{2}", binding):
            ex.findings.add(
                "PSC-CIBA-BINDING",
                "warning",
                f"binding_message doit être un code à 2 chiffres affiché sur les deux appareils (reçu {binding!r}).",
                "ANS CIBA ; API-Proxy-eSante.json",
                "binding_message",
            )
        channel = form.get("channel", "")
        if channel not in ("CARD", "MOBILE"):
            ex.findings.add(
                "PSC-CIBA-CHANNEL",
                "warning",
                f"Le paramètre PSC channel vaut CARD ou MOBILE (reçu {channel!r}) ; MOBILE est supposé.",
                "ANS CIBA",
                "channel",
            )
            channel = "MOBILE"
        if "openid" not in scope.split() or "scope_all" not in scope.split():
            ex.findings.add(
                "PSC-SCOPE",
                "warning",
                f"PSC attend scope=openid scope_all (reçu {scope!r}).",
                "research psc.md 2.8",
                "scope",
            )
        if ex.findings.refuse:
            raise OAuthError("invalid_request", ex.findings.errors[0].message)
        self._fault_check(ex, hint)
        lifetime = int(cfg["psc_ciba_expires_in"])
        interval = int(cfg["psc_ciba_interval"])
        rid = realm.new_request(
            ex.tenant,
            "ciba",
            client.client_id,
            {"scope": scope, "binding_message": binding, "acr_values": form.get("acr_values", "")},
            interval=interval,
        )
        realm.push(rid, ex.tenant, hint, channel, lifetime)
        refusal = self.credential_refusal(pro, channel)
        if refusal:
            realm.resolve(rid, "refused", refusal)
            ex.details["refusal"] = refusal
        ex.details["auth_req_id"] = rid
        ex.outcome = "auth_req_id issued" + (f" (will be refused: {refusal})" if refusal else "")
        return _json({"auth_req_id": rid, "expires_in": lifetime, "interval": interval})

    def credential_refusal(self, pro: Any, channel: str) -> str:
        """Why a professional cannot validate with this channel ("" when they can)."""
        if channel == "MOBILE" and not pro.ecps:
            return "no e-CPS"
        if channel == "CARD":
            if not pro.cps_card:
                return "no CPS card"
            if pro.certificate_state in ("revoked", "expired"):
                return f"CPS card {pro.certificate_state}"
        return ""

    # -- userinfo, introspection, revocation ------------------------------------------------------
    def userinfo(self) -> Response:
        auth = request.headers.get("Authorization", "")
        token = (
            auth[7:].strip()
            if auth.lower().startswith("bearer ")
            else (request.form.get("access_token") or "")
        )
        row = self.realm.token_row(token) if token else None
        tenant = row["tenant"] if row else self.tenant([])
        with self.sandbox.exchange(NAME, "userinfo", tenant, request.environ) as ex:
            active = self.realm.active_token(token) if token else None
            if active is None or active[1]["kind"] != "access":
                description = "Token verification failed" if token else "Missing token"
                error = "invalid_token" if token else "invalid_request"
                header = f'Bearer realm="esante-wallet", error="{error}", error_description="{description}"'
                ex.status, ex.outcome = 401, f"{error}: {description}"
                return _json(
                    {"error": error, "error_description": description}, 401, {"WWW-Authenticate": header}
                )
            claims, trow = active
            ex.caller, ex.persona = trow["client_id"], str(claims.get("SubjectNameID", ""))
            err = rule_error(ex, ex.persona)
            if err is not None:
                ex.status, ex.outcome = err.http_status, f"fault rule {err.name}"
                return _fault(err)
            session = self.realm.session(trow["session_id"], tenant)
            pro = self.sandbox.population.professional(ex.persona)
            if pro is None or session is None:
                ex.status, ex.outcome = 401, "invalid_token: user gone"
                return _json({"error": "invalid_token", "error_description": "User not found"}, 401)
            ex.outcome = "userinfo"
            return _json(claims_mod.userinfo(self.sandbox.population, pro, session.auth_mode))

    def introspect(self) -> Response:
        return self._backchannel("introspect", self._introspect)

    def _introspect(self, ex: Exchange, client: Client, method: str, form: dict[str, str]) -> Response:
        token = form.get("token")
        if not token:
            raise OAuthError("invalid_request", "Token not provided.")
        self._fault_check(ex, None)
        active = self.realm.active_token(token) or self._active_refresh(token)
        if active is None or active[1]["tenant"] != ex.tenant:
            ex.outcome = "inactive"
            return _json({"active": False})
        claims, row = active
        ex.persona = str(claims.get("preferred_username", ""))
        ex.outcome = f"active ({row['kind']})"
        return _json(
            {
                **claims,
                "client_id": row["client_id"],
                "username": claims.get("preferred_username", ""),
                "active": True,
            }
        )

    def _active_refresh(self, token: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
        found = self.realm.active_token(token, "refresh")
        if found is None or self.realm.session(found[1]["session_id"], found[1]["tenant"]) is None:
            return None
        return found

    def revoke(self) -> Response:
        return self._backchannel("revoke", self._revoke)

    def _revoke(self, ex: Exchange, client: Client, method: str, form: dict[str, str]) -> Response:
        token = form.get("token")
        if not token:
            raise OAuthError("invalid_request", "Token not provided")
        self._fault_check(ex, None)
        self.realm.revoke(token, client.client_id)
        ex.outcome = "revoked"
        return Response("", 200, NO_STORE)

    # -- RP-initiated logout ----------------------------------------------------------------------
    def logout(self) -> Response:
        values = {**request.args.to_dict(), **_form()}
        hint = values.get("id_token_hint", "")
        claims = self.realm.keys.verify("realm", hint) if hint else None
        row = self.realm.token_row(hint) if claims else None
        client_id = values.get("client_id") or (str(claims.get("azp", "")) if claims else "")
        tenant = row["tenant"] if row else self.tenant([client_id])
        with self.sandbox.exchange(NAME, "logout", tenant, request.environ, caller=client_id) as ex:
            ex.request_body = urlencode(values)

            def page(message: str, status: int) -> Response:
                ex.status, ex.outcome = status, message
                return Response(
                    render_template_string(pages.KEYCLOAK_ERROR, message=message),
                    status,
                    mimetype="text/html",
                )

            if hint and claims is None:
                return page("Invalid parameter: id_token_hint", 400)
            err = rule_error(ex, str(claims.get("SubjectNameID", "")) if claims else None)
            if err is not None:
                ex.status, ex.outcome = err.http_status, f"fault rule {err.name}"
                return _fault(err)
            target = values.get("post_logout_redirect_uri", "")
            client = self.realm.client(tenant, client_id) if client_id else None
            if target:
                if not hint and not client_id:
                    return page("Missing parameters: id_token_hint", 400)
                if client is None or target not in client.post_logout_redirect_uris:
                    return page("Invalid redirect uri", 400)
            if claims is not None:
                ex.persona = str(claims.get("SubjectNameID", ""))
                self.realm.end_session(str(claims.get("sid", "")))
            elif not client_id:
                ex.findings.add(
                    "PSC-LOGOUT-HINT",
                    "warning",
                    "Déconnexion sans id_token_hint : aucune session PSC n'est désignée, elle reste ouverte.",
                    "OpenID Connect RP-Initiated Logout 1.0",
                    "id_token_hint",
                )
            if target:
                ex.status, ex.outcome = 302, "logged out, redirected"
                state = values.get("state")
                return _redirect(_with_query(target, {"state": state}) if state else target, 302)
            ex.outcome = "logged out"
            return Response(
                render_template_string(
                    pages.LOGGED_OUT, message="Vous êtes déconnecté de Pro Santé Connect."
                ),
                200,
                mimetype="text/html",
            )

    # =============================================================================================
    # exchange listener (token exchange AS)
    # =============================================================================================
    def exchange_issuer(self) -> str:
        return self.sandbox.url("psc-exchange", EXCHANGE_REALM)

    def exchange_app(self) -> Flask:
        app = Flask("psc-exchange")

        @app.errorhandler(UnknownTenant)
        def _unknown_tenant(exc: UnknownTenant) -> Response:
            return _json(
                {"error": "invalid_request", "error_description": f"unknown tenant: {exc.tenant}"}, 404
            )

        @app.errorhandler(404)
        def _not_found(_: Any) -> Response:
            return _json({"error": "Unable to find matching target resource method"}, 404)

        @app.get(EXCHANGE_REALM + "/.well-known/openid-configuration")
        def ex_discovery() -> Response:
            iss = self.exchange_issuer()
            return self.simple(
                "discovery",
                lambda: {
                    "issuer": iss,
                    "token_endpoint": iss + "/protocol/openid-connect/token",
                    "jwks_uri": iss + "/protocol/openid-connect/certs",
                    "grant_types_supported": [GRANT_EXCHANGE],
                    "token_endpoint_auth_methods_supported": ["tls_client_auth"],
                    "tls_client_certificate_bound_access_tokens": True,
                },
            )

        @app.get(EXCHANGE_REALM + "/protocol/openid-connect/certs")
        def ex_certs() -> Response:
            return self.simple("certs", lambda: self.realm.keys.jwks("exchange"))

        @app.post(EXCHANGE_REALM + "/protocol/openid-connect/token")
        def ex_token() -> Response:
            return self.token_exchange()

        return app

    def token_exchange(self) -> Response:
        form = _form()
        der = request.environ.get("segur.peercert")
        pre = self.sandbox.pki.identify(der) if der else None
        tenant = self.tenant([form.get("client_id"), pre.subject if pre else None])
        with self.sandbox.exchange(
            NAME, "token-exchange", tenant, request.environ, caller=form.get("client_id", "")
        ) as ex:
            ex.request_body = _journal_form(
                {k: (v[:16] + "..." if k == "subject_token" else v) for k, v in form.items()}
            )
            refused = _form_refusal(ex)
            if refused is not None:
                return refused
            try:
                response = self._token_exchange(ex, form)
            except OAuthError as exc:
                response = _oauth(exc)
                ex.outcome = ex.outcome or f"{exc.error}: {exc.description}"
            except _HtmlFault as fault:
                response = _fault(fault.err)
            ex.status = response.status_code
            ex.response_body = response.get_data(as_text=True)[:20000]
            return response

    def _token_exchange(self, ex: Exchange, form: dict[str, str]) -> Response:
        realm = self.realm
        caller = self.caller(ex.tenant)
        if caller is None or caller.kind != "org_auth_cli" or caller.status != "valid":
            state = "absent" if caller is None else f"{caller.kind}, {caller.status}"
            ex.details["certificate"] = state
            raise OAuthError(
                "unauthorized_client",
                f"Client certificate missing, or its subject DN not valid ({state})",
                401,
            )
        ex.caller = caller.subject
        client = realm.client_for_certificate(ex.tenant, caller)
        wanted = form.get("client_id")
        if wanted:
            named = realm.client(ex.tenant, wanted)
            client = named if named is not None and named.matches_certificate(caller) else None
        if client is None:
            raise OAuthError("invalid_client", "Client certificate not mapped to a registered client", 401)
        ex.caller = client.client_id
        if form.get("grant_type") != GRANT_EXCHANGE:
            raise OAuthError("unsupported_grant_type", "Unsupported grant_type")
        if GRANT_EXCHANGE not in client.grant_types:
            raise OAuthError("unauthorized_client", "Client not allowed to exchange")
        subject_token = form.get("subject_token")
        if not subject_token:
            raise OAuthError("invalid_request", "subject_token parameter required")
        token_type = form.get("subject_token_type", TOKEN_TYPES[0])
        if token_type not in TOKEN_TYPES:
            raise OAuthError("invalid_request", "Invalid token type, must be access token")
        active = realm.active_token(subject_token)
        if active is None or active[1]["kind"] != "access" or active[1]["tenant"] != ex.tenant:
            raise OAuthError("invalid_token", "Invalid token")
        psc_claims, row = active
        ex.persona = str(psc_claims.get("SubjectNameID", ""))
        self._fault_check(ex, ex.persona)
        pro = self.sandbox.population.professional(ex.persona)
        now = int(realm.now(ex.tenant))
        life = int(self.sandbox.config["psc_exchange_lifetime"])
        import uuid

        jti = str(uuid.uuid4())
        scope = form.get("scope") or "openid"
        given, family = (pro.first_name, pro.nom) if pro else ("", "")
        claims = {
            "exp": now + life,
            "iat": now,
            "jti": jti,
            "iss": self.exchange_issuer(),
            **({"aud": form["audience"]} if form.get("audience") else {}),
            "sub": psc_claims.get("sub"),
            "typ": "Bearer",
            "azp": client.client_id,
            "session_state": row["session_id"],
            "acr": "1",
            "scope": scope,
            "sid": row["session_id"],
            "cnf": {"x5t#S256": caller.x5t_s256},
            "SubjectNameID": ex.persona,
            "name": f"{given} {family}".strip(),
            "preferred_username": ex.persona,
            "given_name": given,
            "family_name": family,
        }
        token = realm.keys.sign("exchange", claims)
        self.sandbox.store.execute(
            "INSERT INTO psc_tokens(jti, tenant, kind, client_id, session_id, expires_at) VALUES (?, ?, 'exchange', ?, ?, ?)",
            (jti, ex.tenant, client.client_id, row["session_id"], now + life),
        )
        ex.outcome = "token exchanged (cnf bound)"
        return _json(
            {
                "access_token": token,
                "expires_in": life,
                "refresh_expires_in": 0,
                "token_type": "Bearer",
                "issued_token_type": TOKEN_TYPES[0],
                "not-before-policy": 0,
                "session_state": row["session_id"],
                "scope": scope,
            }
        )


class _HtmlFault(Exception):
    def __init__(self, err: ErrorDef):
        super().__init__(err.name)
        self.err = err
