"""`segur-sandbox pki ...` through the real CLI entry point, on the session PKI's data folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import pkcs12

from mocks import cli
from mocks.pki import Structure

from .support import PkiEnv


def run(pki_env: PkiEnv, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    data_dir = str(pki_env.sandbox.config.data_dir)
    code = cli.main(["pki", *args, "--data-dir", data_dir, "--log-level", "warning"])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_export_writes_real_like_files(
    pki_env: PkiEnv, structure: Structure, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        pki_env,
        capsys,
        "export",
        structure.id_nat,
        "insi_auto",
        "--out",
        str(tmp_path),
        "--password",
        "secret",
    )
    assert code == 0
    names = sorted(p.name for p in tmp_path.iterdir())
    assert len(names) == 4
    p12 = next(p for p in tmp_path.iterdir() if p.suffix == ".p12")
    assert p12.name.startswith("asip-p12-EL-TEST-ORG-AUTH_CLI-") and p12.name.endswith("-AUTO.p12")
    loaded = pkcs12.load_pkcs12(p12.read_bytes(), b"secret")
    assert loaded.cert is not None
    assert "CN=INSI-AUTO" in loaded.cert.certificate.subject.rfc4514_string()
    assert str(p12) in out


def test_list_show_revoke(pki_env: PkiEnv, structure: Structure, capsys: pytest.CaptureFixture[str]) -> None:
    serial = pki_env.pki.credentials(structure, "org_sign").serial
    code, out, _ = run(pki_env, capsys, "list", "--persona", structure.id_nat, "--json")
    assert code == 0 and [r["serial"] for r in json.loads(out)] == [serial]
    code, out, _ = run(pki_env, capsys, "show", serial)
    shown = json.loads(out)
    assert shown["status"] == "valid" and shown["kind"] == "org_sign"
    assert x509.load_pem_x509_certificate(shown["certificate"].encode()).serial_number == int(serial, 16)
    code, out, _ = run(pki_env, capsys, "revoke", serial, "--reason", "key_compromise")
    assert code == 0 and "revoked" in out
    assert json.loads(run(pki_env, capsys, "show", serial)[1])["status"] == "revoked"
    code, out, _ = run(pki_env, capsys, "list", "--persona", structure.id_nat)
    assert "REVOKED" in out


def test_errors_are_reported_with_an_exit_code(pki_env: PkiEnv, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(pki_env, capsys, "revoke", "deadbeef")
    assert code == 2 and "deadbeef" in err
    code, _, err = run(pki_env, capsys, "export", "19999999999", "org_auth_cli")
    assert code == 1 and "19999999999" in err
    code, _, err = run(pki_env, capsys, "show")
    assert code == 2 and "usage" in err


def test_bundle_to_stdout(pki_env: PkiEnv, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(pki_env, capsys, "bundle")
    assert code == 0
    assert len(x509.load_pem_x509_certificates(out.encode())) == 3
