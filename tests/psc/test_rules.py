"""The realm's pure rules: PKCE as Keycloak words its refusals, claims with the duplicated-acr
quirk, client validation, and the UserInfo of every professional of the synthetic world."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import pytest
from pydantic import ValidationError

from mocks.errors import ServiceError
from mocks.runner import Runner
from psc import claims
from psc.clients import Client
from psc.sessions import check_pkce
from psc.tokens import pairs_json as _json


def _s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def test_pkce() -> None:
    verifier = "v" * 43
    check_pkce(_s256(verifier), "S256", verifier)
    check_pkce(verifier, "plain", verifier)
    check_pkce(verifier, None, verifier)  # no method: plain (RFC 7636 4.3)
    check_pkce(None, None, None)
    cases = [
        ((_s256(verifier), "S256", None), "PKCE code verifier not specified"),
        ((_s256(verifier), "S256", "w" * 43), "PKCE verification failed: Code mismatch"),
        ((_s256(verifier), "S256", "short"), "PKCE verification failed: Invalid code verifier"),
        ((None, None, verifier), "PKCE code verifier specified but challenge not present in authorization"),
        ((verifier, "S256", verifier), "PKCE verification failed: Code mismatch"),
    ]
    for args, description in cases:
        with pytest.raises(ServiceError) as caught:
            check_pkce(*args)
        assert (caught.value.error.name, caught.value.text) == ("invalid_grant", description)


def test_acr_quirks_render() -> None:
    pairs: list[tuple[str, Any]] = [("sub", "x"), ("acr", None), ("sid", "s")]
    assert _json(claims.with_acr(pairs, "eidas1", "default")) == '{"sub":"x","acr":"eidas1","sid":"s"}'
    assert _json(claims.with_acr(pairs, None, "missing")) == '{"sub":"x","sid":"s"}'
    raw = _json(claims.with_acr(pairs, "eidas3", "duplicate"))
    assert raw == '{"sub":"x","acr":"1","acr":"eidas3","sid":"s"}'
    assert json.loads(raw)["acr"] == "eidas3"  # a JSON parser keeps the last one
    assert claims.acr_for("MOBILE", "default", "eidas3") == "eidas1"
    assert claims.acr_for("CARD", "default", "eidas2") == "eidas2"
    assert claims.acr_for("MOBILE", "missing", "eidas3") is None


def test_client_validation() -> None:
    ok = Client(client_id="a", secret="s", redirect_uris=["https://x.example/cb", "com.editeur.lgc:/oauth"])
    assert ok.auth_method == "client_secret_basic"
    for bad in (
        {"client_id": "a", "secret": ""},
        {"client_id": "a b", "secret": "s"},
        {"client_id": "a", "secret": "s", "redirect_uris": ["https://x.example/cb#frag"]},
        {"client_id": "a", "auth_method": "tls_client_auth"},
        {"client_id": "a", "secret": "s", "grant_types": ["implicit"]},
    ):
        with pytest.raises(ValidationError):
            Client.model_validate(bad)


# research psc.md 2.6, SubjectRefPro.exercices[].activities[] (real BAS samples)
ACTIVITY_FIELDS = set(
    [
        "codeModeExercice",
        "codeSecteurDactivite",
        "codeSectionPharmacien",
        "codeRole",
        "codeGenreActivite",
        "numeroSiretSite",
        "numeroSirenSite",
        "numeroFinessSite",
        "numeroFinessetablissementJuridique",
        "identifiantTechniqueDeLaStructure",
        "raisonSocialeSite",
        "enseigneCommercialeSite",
        "complementDestinataire",
        "complementPointGeographique",
        "numeroVoie",
        "indiceRepetitionVoie",
        "codeTypeDeVoie",
        "libelleVoie",
        "mentionDistribution",
        "bureauCedex",
        "codePostal",
        "codeCommune",
        "codePays",
        "telephone",
        "telephone2",
        "telecopie",
        "adresseEMail",
        "codeDepartement",
        "ancienIdentifiantDeLaStructure",
        "autoriteDenregistrement",
    ]
)


def _strings_never_null(value: Any, path: str = "$") -> None:
    assert value is not None, path
    if isinstance(value, dict):
        for k, v in value.items():
            _strings_never_null(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _strings_never_null(v, f"{path}[{i}]")


def test_userinfo_of_every_professional(running_sandbox: Runner) -> None:
    population = running_sandbox.sandbox.population
    pros = population.professionals()
    assert len(pros) > 50
    fields = None
    for pro in pros:
        info = claims.userinfo(population, pro, "MOBILE")
        _strings_never_null(info)
        assert info["SubjectNameID"] == pro.id_nat and info["sub"].endswith(":" + pro.id_nat)
        activities = info["SubjectRefPro"]["exercices"][0]["activities"]
        assert len(activities) == len(pro.activities)
        for activity in activities:
            assert all(isinstance(v, str) for v in activity.values())
            fields = fields or set(activity)
            assert set(activity) == fields  # every activity carries every field
        if activities:
            assert info["SubjectOrganization"] == activities[0]["raisonSocialeSite"] != ""
    assert fields == ACTIVITY_FIELDS
