"""`segur-sandbox cda install [--from DIR|ARCHIVE]`: put a checked copy of the ANS validator data
in `<data_dir>/cda/TestContenuCDA-3-0` (the default of the `cda_data` setting).

Without --from, the pinned release is downloaded from its public source (GitHub archive of the
ANS repository; needs the network). With --from, a folder or a .zip / .tar.gz / .tgz archive
holding it (anywhere inside: the folder that has `schematrons/profils/structurationMinimale/`).
Only what the engine reads is copied (schematrons without the Java engine `moteur/`, value sets,
the CDA XSD, the display stylesheets without the 88 MB FOP bundle). A copy whose StrucMin
includes or doc() targets do not all resolve is refused, naming the missing files.
"""

from __future__ import annotations

import json
import shutil
import tarfile
import tempfile
import time
import urllib.request
import zipfile
from pathlib import Path

from mocks.cda.data import PIN_FILE, STRUCMIN, DataError, DataSet

# The successor repository of ansforge/TestContenuCDA-3-0, at the commit that restored the StrucMin
# value set voc-1.2.250.1.213.1.1.5.471 (specs/README.md); the archive's top folder is skipped.
PINNED_RELEASE = "ansforge/interop-outil-cda-testcontenucda3.0-outil-validation-documents-cda@58fffa68"
PINNED_URL = (
    "https://codeload.github.com/ansforge/interop-outil-cda-testcontenucda3.0-outil-validation-documents-cda"
    "/tar.gz/58fffa68"
)
COPIED = ("schematrons", "jeuxDeValeurs", "infrastructure", "FeuilleDeStyle", "README.md")
SKIPPED = {"moteur", "FOP", "rapports"}


class InstallError(Exception):
    pass


def find_root(folder: Path) -> Path:
    """The folder holding `schematrons/profils/structurationMinimale/…StrucMin.sch`."""
    if (folder / STRUCMIN).is_file():
        return folder
    for candidate in sorted(folder.glob("*/" + STRUCMIN)) + sorted(folder.glob("*/*/" + STRUCMIN)):
        return candidate.parents[len(Path(STRUCMIN).parts) - 1]
    raise InstallError(f"{folder}: no {STRUCMIN} inside (not the ANS TestContenuCDA-3-0 data)")


def _extract(archive: Path, into: Path) -> None:
    name = archive.name.lower()
    if name.endswith(".zip"):
        with zipfile.ZipFile(archive) as z:
            for info in z.infolist():
                target = (into / info.filename).resolve()
                if not target.is_relative_to(into.resolve()):
                    raise InstallError(f"{archive}: entry {info.filename!r} escapes the folder")
            z.extractall(into)
    elif name.endswith((".tar.gz", ".tgz", ".tar")):
        with tarfile.open(archive) as t:
            t.extractall(into, filter="data")  # refuses absolute paths, '..', links out of `into`
    else:
        raise InstallError(f"{archive}: expected a folder, a .zip, .tar.gz or .tgz archive")


def _copy(root: Path, dest: Path) -> None:
    def ignore(folder: str, names: list[str]) -> set[str]:
        return {n for n in names if n in SKIPPED}

    for item in COPIED:
        source = root / item
        if source.is_dir():
            shutil.copytree(source, dest / item, ignore=ignore)
        elif source.is_file():
            shutil.copy2(source, dest / item)


def install(dest: Path, source: str | None = None, release: str = "") -> DataSet:
    """Install into `dest` (replacing a previous copy only once the new one is checked)."""
    dest = dest.resolve()
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest.parent, prefix=".cda-install-") as tmp:
        work = Path(tmp)
        if source is None:
            archive = work / "release.tar.gz"
            try:
                with urllib.request.urlopen(PINNED_URL, timeout=120) as resp, open(archive, "wb") as out:
                    shutil.copyfileobj(resp, out)
            except OSError as exc:
                raise InstallError(
                    f"cannot download {PINNED_URL}: {exc}. Offline: segur-sandbox cda install --from DIR|ARCHIVE"
                ) from None
            origin, release = PINNED_URL, release or PINNED_RELEASE
        else:
            archive = Path(source).expanduser()
            origin = str(archive.resolve())
            if not archive.exists():
                raise InstallError(f"{archive}: no such file or folder")
        if archive.is_dir():
            root = find_root(archive)
        else:
            _extract(archive, work / "x")
            root = find_root(work / "x")
        staged = work / "staged"
        staged.mkdir()
        _copy(root, staged)
        data = DataSet(staged)
        try:
            data.require()
        except DataError as exc:
            raise InstallError(f"refused: {exc}") from None
        pin = {
            "release": release or f"{root.name} (from {origin})",
            "source": origin,
            "installed_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "digest": data.digest,
        }
        (staged / PIN_FILE).write_text(json.dumps(pin, indent=1, ensure_ascii=False), encoding="utf-8")
        if dest.exists():
            old = work / "old"
            dest.rename(old)
        staged.rename(dest)
    return DataSet(dest)
