"""What a persona downloads: PEM files and PKCS#12 bundles.

PKCS#12 default: PBES2 / PBKDF2-SHA256 / AES-256-CBC with a SHA-256 MAC, which OpenSSL 3 reads
with its default provider, as do Java keytool (8u301+) and node-forge. "3des" gives the older
PBE-SHA1-3DES with a SHA-1 MAC for older readers; never RC2-40 (needs OpenSSL's legacy provider).
"""

from __future__ import annotations

from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs7, pkcs12

from mocks.pki.model import BadRequest, Credentials

P12Algorithm = Literal["aes", "3des"]


def pkcs12_bytes(creds: Credentials, password: str, algorithm: P12Algorithm = "aes") -> bytes:
    if not password:
        raise BadRequest("a PKCS#12 needs a non-empty password")
    key = serialization.load_pem_private_key(
        creds.key_pem, password=None, unsafe_skip_rsa_key_validation=True
    )
    cert = x509.load_pem_x509_certificate(creds.cert_pem)
    chain = x509.load_pem_x509_certificates(creds.chain_pem)
    builder = serialization.PrivateFormat.PKCS12.encryption_builder().kdf_rounds(2048)
    if algorithm == "aes":
        builder = builder.key_cert_algorithm(pkcs12.PBES.PBESv2SHA256AndAES256CBC).hmac_hash(hashes.SHA256())
    elif algorithm == "3des":
        builder = builder.key_cert_algorithm(pkcs12.PBES.PBESv1SHA1And3KeyTripleDESCBC).hmac_hash(
            hashes.SHA1()
        )
    else:
        raise BadRequest(f"unknown PKCS#12 algorithm: {algorithm} (aes or 3des)")
    name = creds.file_stem.encode()
    return pkcs12.serialize_key_and_certificates(
        name,
        key,  # type: ignore[arg-type]
        cert,
        chain,
        builder.build(password.encode()),
    )


def p7b(certs: list[x509.Certificate]) -> bytes:
    """A degenerate PKCS#7 (certificates only), like Chaine_de_certification-IGC-Sante-TEST.p7b."""
    return pkcs7.serialize_certificates(certs, serialization.Encoding.DER)


FORMATS = {
    # format -> (file suffix, media type)
    "cert": (".pem", "application/x-pem-file"),
    "key": (".key.pem", "application/x-pem-file"),
    "chain": (".chain.pem", "application/x-pem-file"),
    "fullchain": (".fullchain.pem", "application/x-pem-file"),
    "der": (".cer", "application/pkix-cert"),
    "p12": (".p12", "application/x-pkcs12"),
}


def render(
    creds: Credentials, fmt: str, password: str = "", algorithm: P12Algorithm = "aes"
) -> tuple[bytes, str, str]:
    """(content, file name, media type) of one download format."""
    if fmt not in FORMATS:
        raise BadRequest(f"unknown format: {fmt} (one of {', '.join(FORMATS)})")
    suffix, media = FORMATS[fmt]
    if fmt == "cert":
        data = creds.cert_pem
    elif fmt == "key":
        data = creds.key_pem
    elif fmt == "chain":
        data = creds.chain_pem
    elif fmt == "fullchain":
        data = creds.fullchain_pem
    elif fmt == "der":
        data = x509.load_pem_x509_certificate(creds.cert_pem).public_bytes(serialization.Encoding.DER)
    else:
        data = pkcs12_bytes(creds, password, algorithm)
    return data, creds.file_stem + suffix, media
