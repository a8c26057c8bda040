"""PKI figures (printed, not asserted): time to make the CAs a first start needs and the others,
lazy issuance of a persona's certificate, identify() per TLS request, OCSP answers, CRL after a
revocation, PKCS#12 export.

    .venv/bin/python benchmarks/bench_pki.py
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp

from mocks.kernel import Sandbox
from mocks.pki import Structure
from mocks.pki.export import pkcs12_bytes
from mocks.testing import make_config


def timed(fn: Callable[[], object], n: int = 1) -> float:
    started = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - started) / n


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        sandbox = Sandbox(make_config(Path(tmp), pki_port=4603))
        pki = sandbox.pki
        first = timed(lambda: pki.ensure(["ACI-EL-ORG-TEST"]))
        rest = timed(pki.ensure)
        structures = [Structure(f"1{i:09d}", f"STRUCTURE {i}") for i in range(10)]
        started = time.perf_counter()
        for structure in structures:
            pki.credentials(structure, "insi_auto")
        issue = (time.perf_counter() - started) / len(structures)
        creds = pki.credentials(structures[0], "insi_auto")
        cert = x509.load_pem_x509_certificate(creds.cert_pem)
        der = cert.public_bytes(serialization.Encoding.DER)
        ident = timed(lambda: pki.identify(der), 200)
        request = (
            ocsp.OCSPRequestBuilder().add_certificate(cert, pki.ca(creds.issuer).cert, hashes.SHA1()).build()
        )
        request_der = request.public_bytes(serialization.Encoding.DER)
        answer = timed(lambda: pki.ocsp(request_der), 50)
        pki.revoke(creds.serial)
        crl = timed(lambda: pki.crl(creds.issuer))
        cached = timed(lambda: pki.crl(creds.issuer), 50)
        p12 = timed(lambda: pkcs12_bytes(creds, "test"), 10)
    print(f"CAs for a first start (ACR-EL, ACI-EL-ORG): {first:.2f} s; the seven others: {rest:.2f} s")
    print(f"lazy issuance of a persona certificate: {issue * 1000:.0f} ms")
    print(f"identify() of a TLS client certificate: {ident * 1000:.2f} ms")
    print(
        f"OCSP answer: {answer * 1000:.2f} ms; CRL after a revocation: {crl * 1000:.1f} ms, then {cached * 1000:.2f} ms"
    )
    print(f"PKCS#12 export: {p12 * 1000:.1f} ms")


if __name__ == "__main__":
    main()
