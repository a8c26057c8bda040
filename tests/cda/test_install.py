"""`segur-sandbox cda install --from DIR|ARCHIVE` and `cda check`, through the real CLI."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from tests.cda.conftest import DATA


def cli(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mocks.cli", *args, "--data-dir", str(data_dir), "--log-level", "warning"],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


def _partial(tmp: Path) -> Path:
    src = tmp / "release" / "TestContenuCDA-3-0"
    for part in ("schematrons", "jeuxDeValeurs", "infrastructure"):
        shutil.copytree(DATA / part, src / part)
    for path in src.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    return src


def test_install_from_a_zip_then_check(tmp_path: Path) -> None:
    src = _partial(tmp_path)
    archive = tmp_path / "release.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as z:
        for path in src.rglob("*"):
            z.write(path, "TestContenuCDA-3-0-main/" + str(path.relative_to(src)))
    done = cli("cda", "install", "--from", str(archive), data_dir=tmp_path / "sb")
    assert done.returncode == 0, done.stderr
    target = tmp_path / "sb" / "cda" / "TestContenuCDA-3-0"
    assert (target / "schematrons/profils/structurationMinimale/ASIP-STRUCT-MIN-StrucMin.sch").is_file()
    assert not (target / "schematrons" / "moteur").exists()
    pin = json.loads((target / ".segur-cda.json").read_text())
    assert pin["source"] == str(archive.resolve()) and len(pin["digest"]) == 64
    check = cli("cda", "check", "--json", data_dir=tmp_path / "sb")
    out = json.loads(check.stdout)
    assert check.returncode == 0 and out["state"] == "installed"
    assert any(
        "Entete_CR-BIO.sch" in p for p in out["problems"]["CI-SIS_BIO-CR-BIO_2023.01"]
    )  # the known gap
    assert any(p.startswith("case:") for p in out["problems"]["CI-SIS_CSE-CS8_2024.01"])  # the case quirk


def test_install_refuses_an_incomplete_strucmin(tmp_path: Path) -> None:
    src = _partial(tmp_path)
    (
        src / "schematrons/profils/structurationMinimale/include/voc-1.2.250.1.213.1.1.5.471-DYNAMIC.xml"
    ).unlink()
    done = cli("cda", "install", "--from", str(src.parent), data_dir=tmp_path / "sb")
    assert done.returncode == 1
    assert "refused" in done.stderr and "voc-1.2.250.1.213.1.1.5.471-DYNAMIC.xml" in done.stderr
    assert not (tmp_path / "sb" / "cda" / "TestContenuCDA-3-0").exists()
    missing = cli("cda", "check", data_dir=tmp_path / "sb")
    assert missing.returncode == 1 and missing.stdout.startswith("not installed")
