"""The realm's metadata: the discovery document (both paths), Keycloak's realm document and the
JWKS. The discovery document is the BAS one (research psc.md 2.1, the ANS mock copied from the
BAS realm: ansforge/psc-edc-proxy-esante mock_discovery_response.json), its members and lists in
the captured order, with this sandbox's URLs: the authorization endpoint on the wallet listener,
every URL with the `/_t/<tenant>` prefix the document was fetched through.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives import serialization
from flask import Response, request

from mocks.harness import current_exchange
from psc import wire
from psc.clients import GRANT_EXCHANGE

if TYPE_CHECKING:
    from psc.realm import Realm

ALGS = [
    "PS384",
    "RS384",
    "EdDSA",
    "ES384",
    "HS256",
    "HS512",
    "ES256",
    "RS256",
    "HS384",
    "ES512",
    "PS256",
    "PS512",
    "RS512",
]
CIBA_ALGS = ["PS384", "RS384", "EdDSA", "ES384", "ES256", "RS256", "ES512", "PS256", "PS512", "RS512"]
ENC_ALGS = ["RSA-OAEP", "RSA-OAEP-256", "RSA1_5"]
ENC_VALUES = ["A256GCM", "A192GCM", "A128GCM", "A128CBC-HS256", "A192CBC-HS384", "A256CBC-HS512"]
AUTH_METHODS = [
    "private_key_jwt",
    "client_secret_basic",
    "client_secret_post",
    "tls_client_auth",
    "client_secret_jwt",
]
SCOPES = [
    "openid", "microprofile-jwt", "rpps", "referentiel", "web-origins", "basic", "identity", "acr",
    "offline_access", "eidas1", "profile", "roles", "email", "scope_all", "phone", "interop", "scope_1",
    "address", "scope_2", "eidas2",
]  # fmt: skip


def document(realm: Realm, prefix: str) -> dict[str, Any]:
    iss = realm.issuer(prefix)
    oidc = iss + "/protocol/openid-connect"
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
        "authorization_endpoint": realm.wallet(prefix, "/auth"),
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
        "acr_values_supported": ["0", "0"],  # sic: the BAS capture
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
        "id_token_signing_alg_values_supported": ALGS,
        "id_token_encryption_alg_values_supported": ENC_ALGS,
        "id_token_encryption_enc_values_supported": ENC_VALUES,
        "userinfo_signing_alg_values_supported": [*ALGS, "none"],
        "userinfo_encryption_alg_values_supported": ENC_ALGS,
        "userinfo_encryption_enc_values_supported": ENC_VALUES,
        "request_object_signing_alg_values_supported": [*ALGS, "none"],
        "request_object_encryption_alg_values_supported": ENC_ALGS,
        "request_object_encryption_enc_values_supported": ENC_VALUES,
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
        "token_endpoint_auth_methods_supported": AUTH_METHODS,
        "token_endpoint_auth_signing_alg_values_supported": ALGS,
        "introspection_endpoint_auth_methods_supported": AUTH_METHODS,
        "introspection_endpoint_auth_signing_alg_values_supported": ALGS,
        "authorization_signing_alg_values_supported": ALGS,
        "authorization_encryption_alg_values_supported": ENC_ALGS,
        "authorization_encryption_enc_values_supported": ENC_VALUES,
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
        "scopes_supported": SCOPES,
        "request_parameter_supported": True,
        "request_uri_parameter_supported": True,
        "require_request_uri_registration": True,
        "code_challenge_methods_supported": ["plain", "S256"],
        "tls_client_certificate_bound_access_tokens": True,
        "revocation_endpoint": endpoints["revocation_endpoint"],
        "revocation_endpoint_auth_methods_supported": AUTH_METHODS,
        "revocation_endpoint_auth_signing_alg_values_supported": ALGS,
        "backchannel_logout_supported": True,
        "backchannel_logout_session_supported": True,
        "device_authorization_endpoint": endpoints["device_authorization_endpoint"],
        "backchannel_token_delivery_modes_supported": ["poll", "ping"],
        "backchannel_authentication_endpoint": endpoints["backchannel_authentication_endpoint"],
        "backchannel_authentication_request_signing_alg_values_supported": CIBA_ALGS,
        "require_pushed_authorization_requests": False,
        "pushed_authorization_request_endpoint": endpoints["pushed_authorization_request_endpoint"],
        "mtls_endpoint_aliases": endpoints,
        "authorization_response_iss_parameter_supported": True,
    }


def realm_document(realm: Realm, prefix: str) -> dict[str, Any]:
    """Keycloak's realm document (`GET /auth/realms/<realm>`), read by some Keycloak adapters."""
    public = realm.keys.key("realm").private_key.public_key()
    der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    iss = realm.issuer(prefix)
    return {
        "realm": "esante-wallet",
        "public_key": base64.b64encode(der).decode(),
        "token-service": iss + "/protocol/openid-connect",
        "account-service": iss + "/account",
        "tokens-not-before": 0,
    }


def _metadata(operation: str, produce: Callable[[], dict[str, Any]]) -> Response:
    ex = current_exchange(request.environ)
    ex.operation = operation
    ex.fault()
    ex.outcome = "ok"
    return wire.json_response(produce(), headers={"Cache-Control": "no-cache"})


def discovery(realm: Realm) -> Response:
    return _metadata("discovery", lambda: document(realm, request.script_root))


def realm_info(realm: Realm) -> Response:
    return _metadata("realm", lambda: realm_document(realm, request.script_root))


def certs(realm: Realm) -> Response:
    return _metadata("certs", lambda: realm.keys.jwks("realm"))


def exchange_discovery(realm: Realm) -> Response:
    """The token-exchange AS's metadata (its own realm, `signsessiondata`)."""

    def produce() -> dict[str, Any]:
        iss = realm.exchange_issuer(request.script_root)
        return {
            "issuer": iss,
            "token_endpoint": iss + "/protocol/openid-connect/token",
            "jwks_uri": iss + "/protocol/openid-connect/certs",
            "grant_types_supported": [GRANT_EXCHANGE],
            "token_endpoint_auth_methods_supported": ["tls_client_auth"],
            "tls_client_certificate_bound_access_tokens": True,
        }

    return _metadata("discovery", produce)


def exchange_certs(realm: Realm) -> Response:
    """The AS's JWKS: public, served without a client certificate, as a Keycloak realm's."""
    return _metadata("certs", lambda: realm.keys.jwks("exchange"))
