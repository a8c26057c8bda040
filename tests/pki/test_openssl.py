"""The sandbox's certificates as OpenSSL 3 sees them: chains, OCSP over a real socket, CRLs,
PKCS#12 with the default provider."""

from __future__ import annotations

import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from mocks.pki import Pki, Professional, Structure
from mocks.pki.export import pkcs12_bytes

from .support import PkiEnv

PURPOSE = {
    "cps_auth": "sslclient",
    "cps_sign": "smimesign",
    "org_auth_cli": "sslclient",
    "insi_auto": "sslclient",
    "insi_manu": "sslclient",
    "org_sign": "smimesign",
}


def run(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("kind", sorted(PURPOSE))
def test_every_profile_verifies_against_the_root_bundle(
    pki_env: PkiEnv, openssl: str, professional: Professional, structure: Structure, kind: str
) -> None:
    persona = professional if kind.startswith("cps") else structure
    creds = pki_env.pki.credentials(persona, kind)
    bundle = pki_env.write("roots.pem", pki_env.pki.trust_bundle())
    chain = pki_env.write(f"{kind}-chain.pem", creds.chain_pem)
    leaf = pki_env.write(f"{kind}.pem", creds.cert_pem)
    result = run(openssl, "verify", "-CAfile", bundle, "-untrusted", chain, "-purpose", PURPOSE[kind], leaf)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith(": OK")
    # the roots alone are not enough: the intermediate really is in the path
    alone = run(openssl, "verify", "-CAfile", bundle, leaf)
    assert alone.returncode != 0


def test_server_certificate_verifies_for_its_host_names(pki_env: PkiEnv, openssl: str) -> None:
    creds = pki_env.pki.server_credentials(["localhost", "insi.sandbox.test"])
    bundle = pki_env.write("roots.pem", pki_env.pki.trust_bundle())
    chain = pki_env.write("server-chain.pem", creds.chain_pem)
    leaf = pki_env.write("server.pem", creds.cert_pem)
    ok = run(
        openssl,
        "verify",
        "-CAfile",
        bundle,
        "-untrusted",
        chain,
        "-purpose",
        "sslserver",
        "-verify_hostname",
        "insi.sandbox.test",
        leaf,
    )
    assert ok.returncode == 0, ok.stderr
    wrong = run(
        openssl, "verify", "-CAfile", bundle, "-untrusted", chain, "-verify_hostname", "other.test", leaf
    )
    assert wrong.returncode != 0


def _ocsp(pki_env: PkiEnv, openssl: str, leaf_pem: bytes, issuer_pem: bytes) -> str:
    leaf = pki_env.write("ocsp-leaf.pem", leaf_pem)
    issuer = pki_env.write("ocsp-issuer.pem", issuer_pem)
    bundle = pki_env.write("all-cas.pem", pki_env.pki.ca_bundle())
    result = run(
        openssl,
        "ocsp",
        "-issuer",
        issuer,
        "-cert",
        leaf,
        "-url",
        pki_env.base_url,
        "-CAfile",
        bundle,
        "-resp_text",
    )
    assert result.returncode == 0, result.stderr
    assert "Response verify OK" in result.stderr + result.stdout
    assert "WARNING: no nonce" not in result.stderr + result.stdout
    return result.stdout


def test_openssl_ocsp_good_then_revoked(pki_env: PkiEnv, openssl: str, structure: Structure) -> None:
    pki = pki_env.pki
    creds = pki.credentials(structure, "insi_auto")
    issuer = pki.ca(creds.issuer).pem
    out = _ocsp(pki_env, openssl, creds.cert_pem, issuer)
    assert "ocsp-leaf.pem: good" in out
    pki.revoke(creds.serial, "key_compromise")
    out = _ocsp(pki_env, openssl, creds.cert_pem, issuer)
    assert "ocsp-leaf.pem: revoked" in out
    assert "Reason: keyCompromise" in out
    pki.unrevoke(creds.serial)
    assert "ocsp-leaf.pem: good" in _ocsp(pki_env, openssl, creds.cert_pem, issuer)


def test_openssl_ocsp_unknown_for_a_certificate_we_never_issued(
    pki_env: PkiEnv, openssl: str, structure: Structure
) -> None:
    pki = pki_env.pki
    creds = pki.credentials(structure, "org_auth_cli")
    # same issuer, serial never issued: sign a twin with another serial using the CA key
    original = x509.load_pem_x509_certificate(creds.cert_pem)
    ca = pki.ca(creds.issuer)
    twin = (
        x509.CertificateBuilder()
        .subject_name(original.subject)
        .issuer_name(original.issuer)
        .public_key(original.public_key())
        .serial_number(original.serial_number + 1)
        .not_valid_before(original.not_valid_before_utc)
        .not_valid_after(original.not_valid_after_utc)
        .sign(ca.key, hashes.SHA256())
    )
    out = _ocsp(pki_env, openssl, twin.public_bytes(serialization.Encoding.PEM), ca.pem)
    assert "ocsp-leaf.pem: unknown" in out


def test_crl_lists_revoked_certificates_after_revocation(
    pki_env: PkiEnv, openssl: str, structure: Structure
) -> None:
    import httpx

    pki = pki_env.pki
    creds = pki.issue(structure, "org_sign")
    url = f"{pki_env.base_url}/CRL/{creds.issuer}.crl"
    before = x509.load_der_x509_crl(httpx.get(url).content)
    assert before.get_revoked_certificate_by_serial_number(int(creds.serial, 16)) is None
    pki.revoke(creds.serial, "superseded")
    response = httpx.get(url)
    assert response.headers["content-type"] == "application/pkix-crl"
    after = x509.load_der_x509_crl(response.content)
    entry = after.get_revoked_certificate_by_serial_number(int(creds.serial, 16))
    assert entry is not None
    assert (
        entry.extensions.get_extension_for_class(x509.CRLReason).value.reason == x509.ReasonFlags.superseded
    )
    number = lambda crl: crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number  # noqa: E731
    assert number(after) > number(before)
    assert after.is_signature_valid(pki.ca(creds.issuer).key.public_key())
    # OpenSSL agrees: the chain with CRL checking fails for the revoked certificate
    crl_pem = pki_env.write("crl.pem", after.public_bytes(serialization.Encoding.PEM))
    chain = pki_env.write("crl-chain.pem", creds.chain_pem)
    leaf = pki_env.write("crl-leaf.pem", creds.cert_pem)
    bundle = pki_env.write("roots.pem", pki.trust_bundle())
    result = run(
        openssl, "verify", "-crl_check", "-CRLfile", crl_pem, "-CAfile", bundle, "-untrusted", chain, leaf
    )
    assert result.returncode != 0
    assert "certificate revoked" in result.stdout + result.stderr


def test_crl_of_an_unknown_ca_is_404(pki_env: PkiEnv) -> None:
    import httpx

    assert httpx.get(f"{pki_env.base_url}/CRL/ACI-XX-TEST.crl").status_code == 404


@pytest.mark.parametrize("algorithm", ["aes", "3des"])
def test_pkcs12_reads_with_openssl3_default_provider(
    pki_env: PkiEnv, openssl: str, structure: Structure, algorithm: str
) -> None:
    creds = pki_env.pki.credentials(structure, "insi_manu")
    p12 = pki_env.write(f"insi-{algorithm}.p12", pkcs12_bytes(creds, "s3cret", algorithm))  # type: ignore[arg-type]
    ok = run(openssl, "pkcs12", "-in", p12, "-passin", "pass:s3cret", "-nodes", "-info")
    assert ok.returncode == 0, ok.stderr
    assert "CN=INSI-MANU" in ok.stdout.replace(" = ", "=")
    assert ok.stdout.count("BEGIN CERTIFICATE") == 3  # leaf, intermediate, root
    assert "BEGIN PRIVATE KEY" in ok.stdout
    if algorithm == "aes":
        assert "AES-256-CBC" in ok.stderr
    bad = run(openssl, "pkcs12", "-in", p12, "-passin", "pass:wrong", "-nodes")
    assert bad.returncode != 0
    assert "mac verify failure" in bad.stderr.lower() or "invalid password" in bad.stderr.lower()


def test_pkcs12_reads_with_cryptography(pki: Pki, structure: Structure) -> None:
    from cryptography.hazmat.primitives.serialization import pkcs12

    creds = pki.credentials(structure, "org_auth_cli")
    bundle = pkcs12.load_pkcs12(pkcs12_bytes(creds, "pw"), b"pw")
    assert bundle.cert is not None and bundle.key is not None
    assert format(bundle.cert.certificate.serial_number, "x") == creds.serial
    assert bundle.cert.friendly_name == creds.file_stem.encode()
    assert [c.certificate.subject.rfc4514_string() for c in bundle.additional_certs] == [
        pki.ca(creds.issuer).cert.subject.rfc4514_string(),
        pki.ca("ACR-EL-TEST").cert.subject.rfc4514_string(),
    ]
    with pytest.raises(ValueError):
        pkcs12.load_pkcs12(pkcs12_bytes(creds, "pw"), b"other")


@pytest.mark.parametrize("algorithm", ["aes", "3des"])
def test_pkcs12_reads_with_java_keytool(pki_env: PkiEnv, structure: Structure, algorithm: str) -> None:
    import shutil

    keytool = shutil.which("keytool")
    if keytool is None:
        pytest.skip("Java keytool not installed")
    creds = pki_env.pki.credentials(structure, "org_auth_cli")
    p12 = pki_env.write(f"java-{algorithm}.p12", pkcs12_bytes(creds, "changeit", algorithm))  # type: ignore[arg-type]
    result = run(keytool, "-list", "-v", "-keystore", p12, "-storetype", "PKCS12", "-storepass", "changeit")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "PrivateKeyEntry" in result.stdout
    assert "Certificate chain length: 3" in result.stdout
    assert f"OU={structure.id_nat}" in result.stdout
