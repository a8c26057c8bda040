"""The control API mounted by the kernel's control app at /_sandbox/pki (Flask test client over
the real app: its error handlers, its tenant handling)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import pkcs12
from flask.testing import FlaskClient

from mocks.control.app import create_app
from mocks.pki import Pki, Professional, Structure

from .support import PkiEnv

P = "/_sandbox/pki"


@pytest.fixture(scope="module")
def client(pki_env: PkiEnv) -> Iterator[FlaskClient]:
    app = create_app(pki_env.sandbox)
    with app.test_client() as c:
        yield c


def test_index_lists_the_nine_cas_and_the_publication_urls(client: FlaskClient, pki: Pki) -> None:
    body = client.get(f"{P}/").get_json()
    assert [ca["short"] for ca in body["cas"]][:3] == ["ACR-EL-TEST", "ACI-EL-PP-TEST", "ACI-EL-ORG-TEST"]
    assert len(body["cas"]) == 9
    assert body["ocsp"] == pki.urls.ocsp
    assert body["cas"][2]["crl"].endswith("/CRL/ACI-EL-ORG-TEST.crl")


def test_persona_downloads_with_real_file_names(client: FlaskClient, structure: Structure) -> None:
    info = client.get(f"{P}/personas/{structure.id_nat}/insi_auto").get_json()
    assert info["subject"].startswith("CN=INSI-AUTO,OU=" + structure.id_nat)
    assert info["status"] == "valid"
    assert info["issuer_cn"] == "TEST AC IGC-SANTE ELEMENTAIRE ORGANISATIONS"
    p12 = client.get(
        f"{P}/personas/{structure.id_nat}/insi_auto", query_string={"format": "p12", "password": "pw"}
    )
    assert p12.status_code == 200
    assert p12.mimetype == "application/x-pkcs12"
    disposition = p12.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="asip-p12-EL-TEST-ORG-AUTH_CLI-')
    assert disposition.endswith('-AUTO.p12"')
    loaded = pkcs12.load_pkcs12(p12.data, b"pw")
    assert loaded.cert is not None and format(loaded.cert.certificate.serial_number, "x") == info["serial"]
    # the same certificate again (issued once, kept), and the PEM pieces
    cert = client.get(f"{P}/personas/{structure.id_nat}/insi_auto", query_string={"format": "cert"})
    assert format(x509.load_pem_x509_certificate(cert.data).serial_number, "x") == info["serial"]
    key = client.get(f"{P}/personas/{structure.id_nat}/insi_auto", query_string={"format": "key"})
    assert key.data.startswith(b"-----BEGIN PRIVATE KEY-----")
    chain = client.get(f"{P}/personas/{structure.id_nat}/insi_auto", query_string={"format": "chain"})
    assert chain.data.count(b"BEGIN CERTIFICATE") == 2


def test_the_kernel_client_download_shapes(client: FlaskClient, professional: Professional) -> None:
    """mocks.client.Tenant.credentials asks format cert / key / chain / p12 with a password."""
    for fmt in ("cert", "key", "chain", "p12"):
        r = client.get(
            f"{P}/personas/{professional.id_nat}/cps_auth", query_string={"format": fmt, "password": "test"}
        )
        assert r.status_code == 200, (fmt, r.data)


def test_unknown_persona_is_a_404_naming_it(client: FlaskClient, pki: Pki) -> None:
    before = len(pki.issued())
    r = client.get(f"{P}/personas/19999999999/org_auth_cli")
    assert r.status_code == 404
    assert r.get_json()["persona"] == "19999999999"
    assert "19999999999" in r.get_json()["error"]
    assert len(pki.issued()) == before


def test_bad_kind_and_format_are_400(client: FlaskClient, structure: Structure) -> None:
    r = client.get(f"{P}/personas/{structure.id_nat}/cps_sign")
    assert r.status_code == 404  # a structure is not a professional
    r = client.get(f"{P}/personas/{structure.id_nat}/banana")
    assert r.status_code == 400 and "banana" in r.get_json()["error"]
    r = client.get(f"{P}/personas/{structure.id_nat}/org_sign", query_string={"format": "docx"})
    assert r.status_code == 400 and "docx" in r.get_json()["error"]
    r = client.get(f"{P}/personas/{structure.id_nat}/org_sign", query_string={"format": "p12"})
    assert r.status_code == 400 and "password" in r.get_json()["error"]


def test_revoke_unrevoke_and_status(client: FlaskClient, structure: Structure) -> None:
    serial = client.get(f"{P}/personas/{structure.id_nat}/org_auth_cli").get_json()["serial"]
    r = client.post(f"{P}/certificates/{serial}/revoke", json={"reason": "key_compromise"})
    assert r.status_code == 200 and r.get_json()["revoked_at"]
    assert client.get(f"{P}/certificates/{serial}").get_json()["status"] == "revoked"
    assert client.post(f"{P}/certificates/{serial}/unrevoke").status_code == 200
    assert client.get(f"{P}/certificates/{serial}").get_json()["status"] == "valid"
    r = client.post(f"{P}/personas/{structure.id_nat}/org_auth_cli/revoke", json={})
    assert r.get_json()["serial"] == serial and r.get_json()["revoked_at"]


def test_revocation_errors_write_nothing(client: FlaskClient, pki: Pki, structure: Structure) -> None:
    root = format(pki.ca("ACR-EL-TEST").cert.serial_number, "x")
    r = client.post(f"{P}/certificates/{root}/revoke", json={})
    assert r.status_code == 400 and "CA" in r.get_json()["error"]
    r = client.post(f"{P}/certificates/deadbeef/revoke", json={})
    assert r.status_code == 400 and "deadbeef" in r.get_json()["error"]
    serial = pki.credentials(structure, "org_sign").serial
    r = client.post(f"{P}/certificates/{serial}/revoke", json={"reason": "because"})
    assert r.status_code == 400 and "because" in r.get_json()["error"]
    r = client.post(f"{P}/certificates/{serial}/revoke", json={"reason": "superseded", "extra": 1})
    assert r.status_code == 400
    assert pki.certificate(serial).revoked_at is None
    assert client.get(f"{P}/certificates/deadbeef").status_code == 404


def test_issue_expired_and_renew(client: FlaskClient, structure: Structure) -> None:
    r = client.post(f"{P}/personas/{structure.id_nat}/insi_manu/issue", json={"validity": "expired"})
    assert r.status_code == 200 and r.get_json()["status"] == "expired"
    # downloads now give the expired one (it is the current certificate)
    assert (
        client.get(f"{P}/personas/{structure.id_nat}/insi_manu").get_json()["serial"]
        == r.get_json()["serial"]
    )
    r = client.post(f"{P}/personas/{structure.id_nat}/insi_manu/issue", json={"validity": "not_yet_valid"})
    assert r.get_json()["status"] == "not_yet_valid"
    renewed = client.post(f"{P}/personas/{structure.id_nat}/insi_manu/renew").get_json()
    assert client.get(f"{P}/personas/{structure.id_nat}/insi_manu").get_json() | {
        "status": None
    } == renewed | {"status": None}
    bad = client.post(f"{P}/personas/{structure.id_nat}/insi_manu/issue", json={"validity": "forever"})
    assert bad.status_code == 400
    listed = client.get(f"{P}/personas/{structure.id_nat}").get_json()
    assert sum(1 for row in listed if row["kind"] == "insi_manu" and row["current"]) == 1


def test_status_on_the_tenant_clock(client: FlaskClient, pki_env: PkiEnv, structure: Structure) -> None:
    creds = pki_env.pki.credentials(structure, "org_auth_cli")
    tenant = "ctl-" + structure.id_nat
    pki_env.sandbox.tenants.create(tenant)
    client.put(
        "/_sandbox/clock",
        json={"mode": "frozen", "at": "2099-01-01T00:00:00Z"},
        headers={"X-Sandbox-Tenant": tenant},
    )
    assert client.get("/_sandbox/clock", headers={"X-Sandbox-Tenant": tenant}).get_json()["mode"] == "frozen"
    r = client.get(f"{P}/certificates/{creds.serial}", headers={"X-Sandbox-Tenant": tenant})
    assert r.get_json()["status"] == "expired"
    assert client.get(f"{P}/certificates/{creds.serial}", query_string={"tenant": "nope"}).status_code == 404


def test_bundle_and_ca_downloads(client: FlaskClient, pki: Pki) -> None:
    roots = client.get(f"{P}/bundle")
    assert roots.data == pki.trust_bundle()
    assert len(x509.load_pem_x509_certificates(roots.data)) == 3
    every = client.get(f"{P}/bundle", query_string={"all": "1", "format": "p7b"})
    assert "Chaine_de_certification-IGC-Sante-TEST.p7b" in every.headers["Content-Disposition"]
    from cryptography.hazmat.primitives.serialization import pkcs7

    assert len(pkcs7.load_der_pkcs7_certificates(every.data)) == 9
    der = client.get(f"{P}/cas/ACI-FO-PP-TEST", query_string={"format": "der"})
    assert der.data == pki.ca("ACI-FO-PP-TEST").der
    missing = client.get(f"{P}/cas/ACI-XX-TEST")
    assert missing.status_code == 404 and "ACI-XX-TEST" in missing.get_json()["error"]


def test_identify_endpoint(client: FlaskClient, structure: Structure, pki: Pki) -> None:
    creds = pki.credentials(structure, "org_auth_cli")
    body = client.post(f"{P}/identify", data=creds.cert_pem).get_json()
    assert (body["kind"], body["status"], body["persona"]) == ("org_auth_cli", "valid", structure.id_nat)
    assert client.post(f"{P}/identify", data=b"").get_json()["status"] == "absent"


def test_pki_routes_are_in_the_control_plane_openapi(client: FlaskClient) -> None:
    client.get(f"{P}/")
    paths = client.get("/_sandbox/openapi.json").get_json()["paths"]
    assert "get" in paths["/_sandbox/pki/personas/{persona}/{kind}"]
    assert paths["/_sandbox/pki/certificates/{serial}/revoke"]["post"]["requestBody"]
    assert sum(1 for p in paths if p.startswith("/_sandbox/pki")) == 13


def test_issue_with_explicit_dates(client: FlaskClient, structure: Structure) -> None:
    r = client.post(
        f"{P}/personas/{structure.id_nat}/org_auth_cli/issue",
        json={"not_before": "2030-01-01T00:00:00", "not_after": "2030-06-01T12:00:00Z"},
    )
    body = r.get_json()
    assert (body["not_before"], body["not_after"]) == ("2030-01-01T00:00:00Z", "2030-06-01T12:00:00Z")
    assert body["status"] == "not_yet_valid"
    bad = client.post(
        f"{P}/personas/{structure.id_nat}/org_auth_cli/issue",
        json={"not_before": "2030-01-01T00:00:00Z", "not_after": "2029-01-01T00:00:00Z"},
    )
    assert bad.status_code == 400
    assert client.get(f"{P}/personas/{structure.id_nat}/org_auth_cli").get_json()["serial"] == body["serial"]
