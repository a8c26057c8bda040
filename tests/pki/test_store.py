"""The PKI survives restarts and several processes starting together on one data folder."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

from mocks.kernel import Sandbox
from mocks.pki import Structure
from mocks.testing import make_config

from .support import PkiEnv


def test_hierarchy_and_credentials_are_kept_across_restarts(pki_env: PkiEnv, structure: Structure) -> None:
    creds = pki_env.pki.credentials(structure, "insi_auto")
    again = Sandbox(pki_env.sandbox.config)  # a new process would build exactly this
    assert again.pki.ca("ACR-EL-TEST").der == pki_env.pki.ca("ACR-EL-TEST").der
    assert again.pki.credentials(structure.id_nat, "insi_auto").serial == creds.serial
    assert again.pki.credentials(structure.id_nat, "insi_auto").key_pem == creds.key_pem


def _start(data_dir: str, queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    from mocks.pki import authority

    authority.CA_KEY_BITS = 1024  # this test is about the race, not the key size: keep it quick
    sandbox = Sandbox(make_config(data_dir, pki_port=4603))
    # one process asks for a single intermediate first, the others for everything
    if multiprocessing.current_process().name.endswith("-0"):
        sandbox.pki.ca("ACI-FO-PP-TEST")
    sandbox.pki.ensure()
    queue.put(tuple(sorted((s, format(ca.cert.serial_number, "x")) for s, ca in sandbox.pki.cas.items())))


def test_processes_starting_together_agree_on_one_hierarchy(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_start, args=(str(tmp_path), queue), name=f"pki-{i}") for i in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    seen = {queue.get(timeout=5) for _ in procs}
    assert len(seen) == 1
    pki = Sandbox(make_config(tmp_path)).pki
    assert len(pki.store.query("SELECT name FROM pki_cas")) == 9
    for short, ca in pki.cas.items():  # every intermediate chains to the root that was kept
        if short.startswith("ACI-"):
            ca.cert.verify_directly_issued_by(
                pki.ca(short.replace("ACI-", "ACR-").rsplit("-", 2)[0] + "-TEST").cert
            )


def test_lazy_issuance_gives_everybody_the_same_certificate(pki_env: PkiEnv, structure: Structure) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=6) as pool:
        serials = set(
            pool.map(lambda _: pki_env.pki.credentials(structure.id_nat, "org_auth_cli").serial, range(6))
        )
    assert len(serials) == 1
    current = [r for r in pki_env.pki.issued(structure.id_nat, "org_auth_cli") if r["current"]]
    assert [r["serial"] for r in current] == list(serials)


def test_magic_personas_get_their_first_certificate_in_their_state(
    pki_env: PkiEnv, structure: Structure
) -> None:
    from dataclasses import replace

    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    pki = pki_env.pki
    for index, state in enumerate(("expired", "not_yet_valid", "revoked", "valid")):
        magic = replace(structure, id_nat=f"{structure.id_nat}{index}", certificate_state=state)
        pki.register(magic)
        creds = pki.credentials(magic.id_nat, "insi_auto")
        der = x509.load_pem_x509_certificate(creds.cert_pem).public_bytes(serialization.Encoding.DER)
        assert pki.identify(der).status == state
        # the state only shapes the first certificate: a renewal is valid
        renewed = pki.renew(magic.id_nat, "insi_auto")
        assert renewed.revoked_at is None and renewed.not_after > renewed.not_before
