"""Step 2: the professional logs in with Pro Santé Connect — OpenID Connect authorisation code
with PKCE S256, the e-CPS push validated on her phone (here: the control API's approval, what the
trainer's phone does), the ID token verified against the JWKS with joserfc, UserInfo read.
docs/services/psc.md; research psc.md §2.1–2.4.

The access token (120 s in the sandbox, 4–5 min in production) is what MSSanté's XOAUTH2 wants;
`fresh_token` refreshes it with the refresh token, as an LGC must before each mail session.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import time
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
from joserfc import jwt
from joserfc.jwk import KeySet

from demo.run import Failed, Run

REALM = "/auth/realms/esante-wallet"


def _client(run: Run, **kwargs: Any) -> httpx.Client:
    return httpx.Client(
        verify=run.tls(), headers={"X-Sandbox-Tenant": run.sandbox.tenant}, timeout=30, **kwargs
    )


def register_client(run: Run) -> None:
    """Declare the LGC as a PSC client of the tenant (what the ANS does when an editor subscribes)."""
    cast = run.cast
    answer = run.sandbox.put(
        f"/psc/clients/{cast.psc_client}",
        json={
            "secret": cast.psc_secret,
            "redirect_uris": [cast.redirect_uri],
            "grant_types": ["authorization_code", "refresh_token"],
            "auth_method": "client_secret_basic",
        },
    )
    if answer.status_code not in (200, 201):
        raise Failed(f"déclaration du client PSC : HTTP {answer.status_code} {answer.text[:200]}")


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def _approve(run: Run, national_id: str, refuse: bool = False) -> str:
    """The professional's phone: find the pending e-CPS push of this login and decide it."""
    for _ in range(50):
        pending = run.sandbox.get("/psc/pending").json()
        mine = [
            p for p in pending if p["national_id"] == national_id and p["client_id"] == run.cast.psc_client
        ]
        if mine:
            decision = "refuse" if refuse else "approve"
            run.sandbox.post(f"/psc/pending/{mine[-1]['id']}/{decision}").raise_for_status()
            return str(mine[-1]["id"])
        time.sleep(0.1)
    raise Failed("aucune notification e-CPS en attente pour ce login")


def step_login(run: Run) -> None:
    """Se connecter avec Pro Santé Connect (code d'autorisation + PKCE, e-CPS validée)

    docs/services/psc.md; research psc.md §2 (BAS esante-wallet, Keycloak): /auth du wallet,
    notification e-CPS approuvée par POST /_sandbox/psc/pending/<id>/approve, jeton, UserInfo.
    """
    cast = run.cast
    register_client(run)
    issuer = run.sandbox.url("psc") + REALM
    with _client(run) as browser:
        meta = browser.get(issuer + "/.well-known/wallet-openid-configuration").json()
        verifier, challenge = _pkce()
        state, nonce = secrets.token_urlsafe(12), secrets.token_urlsafe(12)
        page = browser.get(
            meta["authorization_endpoint"],
            params={
                "response_type": "code",
                "client_id": cast.psc_client,
                "redirect_uri": cast.redirect_uri,
                "scope": "openid scope_all",
                "acr_values": "eidas1",
                "state": state,
                "nonce": nonce,
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            },
        )
        found = re.search(r'name="request" value="([^"]+)"', page.text)
        if page.status_code != 200 or not found:
            raise Failed(f"page de connexion PSC : HTTP {page.status_code}")
        login = browser.post(
            urljoin(meta["authorization_endpoint"], "/auth/login"),
            data={"request": found.group(1), "national_id": cast.professional, "method": "ecps"},
        )
        waiting = urljoin(str(login.url), login.headers.get("location", ""))
        run.say(f"notification e-CPS envoyée au téléphone de {cast.professional}")
        refuse = run.preset == "ecps-refusee"
        push = _approve(run, cast.professional, refuse=refuse)
        run.say(
            f"notification {push} {'refusée' if refuse else 'validée'} sur le téléphone (API de contrôle)"
        )
        back = browser.get(waiting)
        location = back.headers.get("location", "")
        query = parse_qs(urlsplit(location).query)
        if refuse:
            if query.get("error") == ["access_denied"]:
                run.expect(f"retour au LGC avec error=access_denied ({location[:80]}…)")
                return
            raise Failed(f"refus e-CPS : retour inattendu {location[:200]}")
        if query.get("state") != [state] or "code" not in query:
            raise Failed(f"retour d'autorisation inattendu : {location[:200]}")
    with _client(run, auth=(cast.psc_client, cast.psc_secret)) as client:
        token = client.post(
            meta["token_endpoint"],
            data={
                "grant_type": "authorization_code",
                "code": query["code"][0],
                "redirect_uri": cast.redirect_uri,
                "code_verifier": verifier,
            },
        )
        if token.status_code != 200:
            raise Failed(f"jeton PSC : HTTP {token.status_code} {token.text[:200]}")
        tokens = token.json()
        keys = KeySet.import_key_set(client.get(meta["jwks_uri"]).json())
        claims = jwt.decode(tokens["id_token"], keys, algorithms=["RS256"]).claims
        if (
            claims.get("nonce") != nonce
            or claims.get("iss") != meta["issuer"]
            or claims.get("aud")
            not in (
                cast.psc_client,
                [cast.psc_client],
            )
        ):
            raise Failed(f"ID token incohérent : iss={claims.get('iss')} aud={claims.get('aud')}")
    with _client(run) as api:  # the resource call carries the bearer token only
        info = api.get(
            meta["userinfo_endpoint"], headers={"Authorization": f"Bearer {tokens['access_token']}"}
        ).json()
    run.say(f"UserInfo : {info.get('SubjectOrganization')}, secteur {info.get('Secteur_Activite')}")
    run.say(
        f"connectée : {claims.get('given_name')} {claims.get('family_name')} ({claims['SubjectNameID']}), "
        f"acr={claims.get('acr')}, authMode={claims.get('authMode')}"
    )
    run.say(f"jeton d'accès {tokens['expires_in']} s, rafraîchissement {tokens['refresh_expires_in']} s")
    run.keep(psc_meta=meta, psc_tokens={**tokens, "obtained": time.monotonic()})


def fresh_token(run: Run) -> str:
    """A valid PSC access token: refreshed when the current one is (nearly) expired."""
    tokens = run.psc_tokens
    if time.monotonic() - tokens["obtained"] < int(tokens["expires_in"]) - 20:
        return str(tokens["access_token"])
    with _client(run, auth=(run.cast.psc_client, run.cast.psc_secret)) as client:
        answer = client.post(
            run.psc_meta["token_endpoint"],
            data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        )
    if answer.status_code != 200:
        raise Failed(f"rafraîchissement du jeton PSC : HTTP {answer.status_code} {answer.text[:200]}")
    run.keep(psc_tokens={**answer.json(), "obtained": time.monotonic()})
    run.say("jeton PSC rafraîchi (grant_type=refresh_token)")
    return str(run.psc_tokens["access_token"])
