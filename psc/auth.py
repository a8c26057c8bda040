"""Who calls a back-channel endpoint: client authentication as Keycloak's client authenticators
answer it (research psc.md 1.4, 3), and what a request presents for tenant bindings.

- `client_secret_basic` / `client_secret_post` (either form accepted, as Keycloak's "client id
  and secret" authenticator): 401 `invalid_client` for an unknown client, 401
  `unauthorized_client` for a bad secret;
- `tls_client_auth`: a valid IGC-Santé ORG AUTH_CLI certificate whose subject maps the client;
- `private_key_jwt` / `client_secret_jwt` (RFC 7523, Keycloak's JWTClientAuthenticator and
  JWTClientSecretAuthenticator): `client_assertion_type` jwt-bearer and a `client_assertion`
  whose `iss` = `sub` = the client id, signed with a key of the client's JWKS (asymmetric) or its
  secret (HMAC), `aud` the issuer or the endpoint, active on the tenant's clock, with a `jti`
  that serves once. Refusals: 400 `unauthorized_client` "Client authentication with signed JWT
  failed: <reason>", in Keycloak's words.
"""

from __future__ import annotations

import json
import secrets
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from joserfc import jws, jwt
from joserfc.jwk import KeySet, OctKey

from mocks.harness import request_body
from mocks.pki.identify import presented_keys
from psc import wire
from psc.errors import ERRORS

if TYPE_CHECKING:
    from mocks.kernel import Exchange
    from mocks.pki.model import CallerCertificate
    from psc.clients import Client
    from psc.realm import Realm

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASYMMETRIC = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
HMAC = ("HS256", "HS384", "HS512")
JWT_FAILED = "Client authentication with signed JWT failed: "
BAD_CREDENTIALS = "Invalid client or Invalid client credentials"


def presented(environ: dict[str, Any]) -> Sequence[str | None]:
    """What an issuer / exchange request offers for tenant bindings: the client id (HTTP Basic,
    form, query) and the client certificate's subject and serial."""
    pairs = wire.form_pairs(request_body(environ), environ.get("CONTENT_TYPE"))
    form = wire.first_values(pairs)
    query = wire.first_values(wire.parse_qsl_query(environ.get("QUERY_STRING") or ""))
    return [
        wire.basic_client_id(environ.get("HTTP_AUTHORIZATION")),
        form.get("client_id"),
        _assertion_subject(form.get("client_assertion")),
        query.get("client_id"),
        *presented_keys(environ.get("segur.peercert")),
    ]


def _assertion_subject(assertion: str | None) -> str | None:
    """The client id a JWT assertion claims (unverified: it only routes to a tenant; the
    signature is checked when the client authenticates)."""
    if not assertion:
        return None
    try:
        sub = json.loads(jws.extract_compact(assertion.encode("ascii")).payload).get("sub")
    except Exception:  # noqa: BLE001 - an unreadable assertion routes nowhere
        return None
    return sub if isinstance(sub, str) else None


def presented_client(environ: dict[str, Any]) -> Sequence[str | None]:
    """The wallet: the client id of the authorization request."""
    pairs = wire.form_pairs(request_body(environ), environ.get("CONTENT_TYPE"))
    query = wire.first_values(wire.parse_qsl_query(environ.get("QUERY_STRING") or ""))
    return [query.get("client_id"), wire.first_values(pairs).get("client_id")]


def authenticate(
    realm: Realm,
    ex: Exchange,
    form: dict[str, str],
    authorization: str | None,
    caller: CallerCertificate | None,
    audiences: Sequence[str],
) -> tuple[Client, str]:
    """The client of a back-channel request and how it authenticated."""
    try:
        basic = wire.basic_credentials(authorization)
    except ValueError:
        ERRORS.fail("invalid_client", BAD_CREDENTIALS)
    if basic is None and ("client_assertion" in form or "client_assertion_type" in form):
        return _assertion(realm, ex, form, audiences)
    basic_id, basic_secret = basic or (None, None)
    client_id = basic_id or form.get("client_id")
    if not client_id and caller is not None and caller.status != "absent":
        found = realm.clients.for_certificate(ex.tenant, caller)
        client_id = found.client_id if found else None
    if not client_id:
        ERRORS.fail("invalid_client", "Missing client_id parameter")
    client = realm.clients.get(ex.tenant, client_id)
    if client is None:
        ERRORS.fail("invalid_client", BAD_CREDENTIALS)
    if client.auth_method == "tls_client_auth":
        if caller is None or caller.status != "valid" or caller.kind != "org_auth_cli":
            ERRORS.fail("unauthorized_client", "Client certificate missing, or its subject DN not valid")
        if not client.matches_certificate(caller):
            ERRORS.fail("unauthorized_client", "Certificate's SubjectDN does not match the client's")
        return client, "tls_client_auth"
    if client.auth_method in ("private_key_jwt", "client_secret_jwt"):
        # Keycloak runs the client's own authenticator only: a secret does not stand for a JWT
        ERRORS.fail("unauthorized_client", BAD_CREDENTIALS)
    secret = basic_secret if basic_id else form.get("client_secret")
    if secret is None or not secrets.compare_digest(secret.encode(), client.secret.encode()):
        ERRORS.fail("unauthorized_client", BAD_CREDENTIALS)
    return client, "client_secret_basic" if basic_id else "client_secret_post"


def _assertion(
    realm: Realm, ex: Exchange, form: dict[str, str], audiences: Sequence[str]
) -> tuple[Client, str]:
    kind = form.get("client_assertion_type")
    if kind is None:
        ERRORS.fail("client_assertion_malformed", "Parameter client_assertion_type is missing")
    if kind != JWT_BEARER:
        ERRORS.fail(
            "client_assertion_malformed",
            f"Parameter client_assertion_type has value '{kind}' but expected is '{JWT_BEARER}'",
        )
    assertion = form.get("client_assertion")
    if not assertion:
        ERRORS.fail("client_assertion_malformed", "client_assertion parameter missing")
    try:
        compact = jws.extract_compact(assertion.encode("ascii"))
        header = compact.headers()
        claims = json.loads(compact.payload)
        if not isinstance(claims, dict):
            raise ValueError("not a JSON object")
    except Exception:  # noqa: BLE001 - whatever is not a compact JWS is refused the same way
        ERRORS.fail("client_assertion_refused", JWT_FAILED + "Failed to parse JWT")
    client_id = claims.get("sub")
    if not client_id:
        ERRORS.fail(
            "client_assertion_refused", JWT_FAILED + "Can't identify client. Subject missing on JWT token"
        )
    if claims.get("iss") != client_id:
        ERRORS.fail(
            "client_assertion_refused", JWT_FAILED + "Issuer mismatch. The issuer should match the subject"
        )
    ex.caller = str(client_id)
    client = realm.clients.get(ex.tenant, str(client_id))
    if client is None:
        ERRORS.fail("invalid_client", BAD_CREDENTIALS)
    if client.auth_method not in ("private_key_jwt", "client_secret_jwt"):
        ERRORS.fail("unauthorized_client", BAD_CREDENTIALS)
    alg = str(header.get("alg") or "")
    if not alg or alg == "none":
        ERRORS.fail("client_assertion_malformed", "invalid signature algorithm")
    if not _signed_by(client, assertion, alg):
        ERRORS.fail("client_assertion_refused", JWT_FAILED + "Signature on JWT token failed validation")
    audience = claims.get("aud")
    given = audience if isinstance(audience, list) else [audience]
    if not any(a in audiences for a in given):
        shown = ", ".join(str(a) for a in given)
        ERRORS.fail(
            "client_assertion_refused",
            JWT_FAILED + f"Token audience doesn't match domain. Expected audiences are any of "
            f"[{', '.join(audiences)}] but audience from token is '[{shown}]'",
        )
    now = int(ex.now().timestamp())
    exp, iat, nbf = (_int(claims.get(k)) for k in ("exp", "iat", "nbf"))
    if (exp and now > exp) or (nbf and now < nbf) or (not exp and iat + 10 < now):
        ERRORS.fail("client_assertion_refused", JWT_FAILED + "Token is not active")
    jti = claims.get("jti")
    if not jti:
        ERRORS.fail("client_assertion_refused", JWT_FAILED + "Missing ID on the token")
    if not realm.remember_assertion(ex.tenant, client.client_id, str(jti), max(exp - now, 10)):
        ERRORS.fail("client_assertion_refused", JWT_FAILED + "Token reuse detected")
    return client, client.auth_method


def _signed_by(client: Client, assertion: str, alg: str) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # joserfc warns on short HMAC secrets: the client's choice
            if client.auth_method == "private_key_jwt":
                if alg not in ASYMMETRIC or not client.jwks:
                    return False
                jwt.decode(assertion, KeySet.import_key_set(client.jwks), algorithms=[alg])  # type: ignore[arg-type]
            else:
                if alg not in HMAC:
                    return False
                jwt.decode(assertion, OctKey.import_key(client.secret), algorithms=[alg])
    except Exception:  # noqa: BLE001 - every failure of the signature is the same refusal
        return False
    return True


def _int(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0
