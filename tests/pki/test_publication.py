"""The publication listener at the real path shapes: AIA CA certificates, the p7b chain, the
index, OCSP over GET, and every exchange in the journal."""

from __future__ import annotations

import base64

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509 import ocsp

from mocks.pki import Structure

from .support import PkiEnv


def test_aia_ca_issuers_url_serves_the_issuer(pki_env: PkiEnv, structure: Structure) -> None:
    cert = x509.load_pem_x509_certificate(pki_env.pki.credentials(structure, "org_auth_cli").cert_pem)
    aia = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    url = next(
        d.access_location.value
        for d in aia
        if d.access_method == x509.oid.AuthorityInformationAccessOID.CA_ISSUERS
    )
    assert url.endswith("/AC%20TEST/ACI-EL-ORG-TEST.cer")
    r = httpx.get(url)
    assert r.status_code == 200 and r.headers["content-type"] == "application/pkix-cert"
    cert.verify_directly_issued_by(x509.load_der_x509_certificate(r.content))


def test_chain_p7b_and_index(pki_env: PkiEnv) -> None:
    r = httpx.get(f"{pki_env.base_url}/AC%20TEST/Chaine_de_certification-IGC-Sante-TEST.p7b")
    assert len(pkcs7.load_der_pkcs7_certificates(r.content)) == 9
    index = httpx.get(f"{pki_env.base_url}/PC%20TEST").text
    assert "ACI-FO-PP-TEST.crl" in index and "TEST AC RACINE IGC-SANTE FORT" in index
    assert httpx.get(f"{pki_env.base_url}/AC%20TEST/nothing.cer").status_code == 404


def test_ocsp_over_get_and_journal(pki_env: PkiEnv, structure: Structure) -> None:
    pki = pki_env.pki
    creds = pki.credentials(structure, "org_sign")
    cert = x509.load_pem_x509_certificate(creds.cert_pem)
    request = (
        ocsp.OCSPRequestBuilder().add_certificate(cert, pki.ca(creds.issuer).cert, hashes.SHA1()).build()
    )
    encoded = base64.b64encode(request.public_bytes(serialization.Encoding.DER)).decode()
    r = httpx.get(f"{pki_env.base_url}/{encoded.replace('/', '%2F')}")
    answer = ocsp.load_der_ocsp_response(r.content)
    assert r.headers["content-type"] == "application/ocsp-response"
    assert answer.certificate_status == ocsp.OCSPCertStatus.GOOD
    assert answer.serial_number == cert.serial_number
    entries = pki_env.sandbox.journal.find({"service": "pki", "operation": "ocsp"})
    assert entries and entries[0]["outcome"] == "good"
    assert entries[0]["details"]["serial"] == creds.serial


def test_malformed_ocsp_request_is_answered_malformed(pki_env: PkiEnv) -> None:
    r = httpx.post(
        pki_env.base_url,
        content=b"\x30\x03\x02\x01\x00",
        headers={"Content-Type": "application/ocsp-request"},
    )
    assert ocsp.load_der_ocsp_response(r.content).response_status == ocsp.OCSPResponseStatus.MALFORMED_REQUEST


def test_ocsp_answers_good_for_an_intermediate_asked_of_its_root(pki_env: PkiEnv) -> None:
    pki = pki_env.pki
    intermediate, root = pki.ca("ACI-EL-ORG-TEST").cert, pki.ca("ACR-EL-TEST").cert
    request = ocsp.OCSPRequestBuilder().add_certificate(intermediate, root, hashes.SHA256()).build()
    answer = ocsp.load_der_ocsp_response(pki.ocsp(request.public_bytes(serialization.Encoding.DER)))
    assert answer.certificate_status == ocsp.OCSPCertStatus.GOOD
    # signed by the root itself
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    root_key = root.public_key()
    assert isinstance(root_key, rsa.RSAPublicKey) and answer.signature_hash_algorithm is not None
    root_key.verify(
        answer.signature, answer.tbs_response_bytes, padding.PKCS1v15(), answer.signature_hash_algorithm
    )


def test_crl_and_ocsp_are_dated_on_the_asking_tenants_clock(pki_env: PkiEnv, structure: Structure) -> None:
    from datetime import UTC, datetime, timedelta

    sandbox, pki = pki_env.sandbox, pki_env.pki
    tenant = "dates-" + structure.id_nat
    sandbox.tenants.create(tenant)
    future = datetime(2031, 3, 1, 12, 0, tzinfo=UTC)
    sandbox.clock.set_time(tenant, future, frozen=True)
    headers = {"X-Sandbox-Tenant": tenant}
    crl = x509.load_der_x509_crl(
        httpx.get(f"{pki_env.base_url}/CRL/ACI-EL-ORG-TEST.crl", headers=headers).content
    )
    assert crl.last_update_utc == future
    assert crl.next_update_utc == future + timedelta(days=7)
    # the same tenant a week later: a new CRL with a greater number
    sandbox.clock.advance(tenant, 7 * 86400)
    later = x509.load_der_x509_crl(
        httpx.get(f"{pki_env.base_url}/_t/{tenant}/CRL/ACI-EL-ORG-TEST.crl").content
    )
    assert later.last_update_utc == future + timedelta(days=7)
    number = lambda c: c.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number  # noqa: E731
    assert number(later) > number(crl)
    cert = x509.load_pem_x509_certificate(pki.credentials(structure, "insi_auto").cert_pem)
    request = (
        ocsp.OCSPRequestBuilder().add_certificate(cert, pki.ca("ACI-EL-ORG-TEST").cert, hashes.SHA1()).build()
    )
    answer = ocsp.load_der_ocsp_response(
        httpx.post(
            pki_env.base_url,
            content=request.public_bytes(serialization.Encoding.DER),
            headers={**headers, "Content-Type": "application/ocsp-request"},
        ).content
    )
    assert answer.this_update_utc == future + timedelta(days=7)
    # an unknown tenant is refused, not silently served with the default clock
    assert (
        httpx.get(
            f"{pki_env.base_url}/CRL/ACI-EL-ORG-TEST.crl", headers={"X-Sandbox-Tenant": "nope"}
        ).status_code
        == 404
    )


def test_fault_rules_make_ocsp_and_crl_misbehave(pki_env: PkiEnv, structure: Structure) -> None:
    from mocks.faults import FaultRule

    sandbox, pki = pki_env.sandbox, pki_env.pki
    tenant = "faults-" + structure.id_nat
    sandbox.tenants.create(tenant)
    headers = {"X-Sandbox-Tenant": tenant}
    creds = pki.credentials(structure, "org_auth_cli")
    cert = x509.load_pem_x509_certificate(creds.cert_pem)
    body = ocsp.OCSPRequestBuilder().add_certificate(cert, pki.ca(creds.issuer).cert, hashes.SHA1()).build()
    der = body.public_bytes(serialization.Encoding.DER)

    def ask() -> httpx.Response:
        return httpx.post(
            pki_env.base_url, content=der, headers={**headers, "Content-Type": "application/ocsp-request"}
        )

    # only this structure's certificates, once
    sandbox.faults.add(
        tenant,
        FaultRule.model_validate(
            {
                "service": "pki",
                "operation": "ocsp",
                "persona": structure.id_nat,
                "error": "ocsp_try_later",
                "times": 1,
            }
        ),
    )
    assert ocsp.load_der_ocsp_response(ask().content).response_status == ocsp.OCSPResponseStatus.TRY_LATER
    assert ocsp.load_der_ocsp_response(ask().content).certificate_status == ocsp.OCSPCertStatus.GOOD
    sandbox.faults.add(
        tenant, FaultRule.model_validate({"service": "pki", "operation": "crl", "error": "crl_unavailable"})
    )
    assert httpx.get(f"{pki_env.base_url}/CRL/{creds.issuer}.crl", headers=headers).status_code == 503
    assert httpx.get(f"{pki_env.base_url}/CRL/{creds.issuer}.crl").status_code == 200  # other tenants
    entry = sandbox.journal.find({"tenant": tenant, "operation": "crl"})[0]
    assert (entry["status"], entry["outcome"]) == (503, "crl_unavailable")
