"""What a start makes: the issuing CAs before `Ready.`, the others in the background, and the CA
keys shared between processes through the key folder (the pytest plugin's, for xdist workers)."""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from mocks.kernel import Sandbox
from mocks.pki.names import CAS
from mocks.testing import make_config


def _public(ca_cert: x509.Certificate) -> bytes:
    return ca_cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _make(data_dir: str, key_folder: str, queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    from mocks.pki import authority

    os.environ[authority.KEY_CACHE_ENV] = key_folder
    authority.CA_KEY_BITS = 1024  # about sharing, not the key size: keep it quick
    sandbox = Sandbox(make_config(data_dir, pki_port=4603))
    cas = {s: sandbox.pki.ca(s) for s in sandbox.pki.issuing_cas()}
    queue.put({s: (_public(ca.cert), ca.cert.serial_number) for s, ca in cas.items()})


def test_two_processes_share_the_ca_keys_of_the_key_folder(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    folder = str(tmp_path / "keys")
    procs = [ctx.Process(target=_make, args=(str(tmp_path / f"d{i}"), folder, queue)) for i in range(2)]
    for p in procs:
        p.start()
    first, second = queue.get(timeout=120), queue.get(timeout=120)
    for p in procs:
        p.join(30)
        assert p.exitcode == 0
    assert set(first) == {"ACR-EL-TEST", "ACI-EL-ORG-TEST", "ACR-FO-TEST", "ACI-FO-PP-TEST"}
    for short in first:
        assert first[short][0] == second[short][0]  # one key, made once
        assert first[short][1] != second[short][1]  # each data folder signs its own certificate
    assert sorted(p.name for p in Path(folder).glob("*.pem")) == sorted(f"rsa1024-{s}.pem" for s in first)


def test_a_request_during_the_background_generation_sees_a_whole_hierarchy(tmp_path: Path) -> None:
    sandbox = Sandbox(make_config(tmp_path))
    pki = sandbox.pki
    pki.ensure(pki.issuing_cas())
    assert set(pki.existing_cas()) == set(pki.issuing_cas())  # what a listener needs, no more
    thread = pki.warm_up()  # the five others, as after `Ready.`
    bundle = pki.ca_bundle()  # asked meanwhile: waits for them rather than seeing a part
    thread.join(120)
    certs = x509.load_pem_x509_certificates(bundle)
    assert len({c.serial_number for c in certs}) == len(CAS) == 9
    by_subject = {c.subject: c for c in certs}
    for cert in certs:  # every one chains to a root of the same bundle
        by_subject[cert.issuer].public_key()
        cert.verify_directly_issued_by(by_subject[cert.issuer])
    again = Sandbox(sandbox.config).pki  # and what was stored is that same hierarchy
    assert {s: ca.der for s, ca in again.cas.items()} == {c: pki.ca(c).der for c in CAS}
