"""Path validation by an independent validator (pyhanko-certvalidator), which fetches what the
certificates point at — the intermediate (AIA caIssuers), CRLs and OCSP — from the sandbox's
publication listener, over a real socket, with revocation checks required."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from mocks.pki import Pki, Structure

from .support import PkiEnv

pytest.importorskip("pyhanko_certvalidator")
from pyhanko_certvalidator import CertificateValidator, ValidationContext  # noqa: E402
from pyhanko_certvalidator.errors import RevokedError  # noqa: E402
from pyhanko_certvalidator.fetchers.requests_fetchers import RequestsFetcherBackend  # noqa: E402
from pyhanko_certvalidator.policy_decl import (  # noqa: E402
    CertRevTrustPolicy,
    RevocationCheckingPolicy,
    RevocationCheckingRule,
)


def _validate(pki: Pki, pem: bytes, rule: RevocationCheckingRule) -> Any:
    roots = [asn1_x509.Certificate.load(pki.ca(s).der) for s in ("ACR-EL-TEST", "ACR-ST-TEST", "ACR-FO-TEST")]
    policy = CertRevTrustPolicy(
        RevocationCheckingPolicy(
            ee_certificate_rule=rule, intermediate_ca_cert_rule=RevocationCheckingRule.CRL_REQUIRED
        )
    )
    # the requests backend: no event-loop-bound session to leak between asyncio.run calls
    context = ValidationContext(
        trust_roots=roots,
        allow_fetching=True,
        revinfo_policy=policy,
        fetcher_backend=RequestsFetcherBackend(),
    )
    leaf = asn1_x509.Certificate.load(
        x509.load_pem_x509_certificate(pem).public_bytes(serialization.Encoding.DER)
    )
    # the leaf alone: the validator must fetch the intermediate through AIA caIssuers
    validator = CertificateValidator(leaf, validation_context=context)
    return asyncio.run(validator.async_validate_usage({"digital_signature"}))


@pytest.mark.parametrize("rule", [RevocationCheckingRule.CRL_REQUIRED, RevocationCheckingRule.OCSP_REQUIRED])
def test_valid_then_revoked(pki_env: PkiEnv, structure: Structure, rule: RevocationCheckingRule) -> None:
    pki = pki_env.pki
    creds = pki.issue(structure, "org_auth_cli")
    path = _validate(pki, creds.cert_pem, rule)
    assert path.pkix_len == 2  # intermediate and leaf, below the trust anchor
    assert path.first.subject.native["common_name"] == "TEST AC RACINE IGC-SANTE ELEMENTAIRE"
    pki.revoke(creds.serial, "key_compromise")
    with pytest.raises(RevokedError):
        _validate(pki, creds.cert_pem, rule)
