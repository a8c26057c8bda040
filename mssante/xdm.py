"""Reading an IHE_XDM.ZIP safely (research mssante.md §2.2; IHE ITI TF-1 §16, TF-3 §4.2.4):

    IHE_XDM.ZIP
    ├─ INDEX.HTM                 entry page (sender, link to README.TXT)
    ├─ README.TXT                sender, sending application, instructions
    └─ IHE_XDM/
       └─ SUBSET01/
          ├─ METADATA.XML        ebRIM 3.0 lcm:SubmitObjectsRequest (mssante.metadata)
          └─ DOC0001.XML ...     the CDA documents (ISO 9660 level 1 names: 8.3, upper case)

    archive = read(zip_bytes)    never raises: what could not be read is a `Problem`

Limits (each a Problem with its finding rule, the rest of the archive still read when it can
be): a corrupt or encrypted archive (MSS-XDM-ZIP); more than MAX_ENTRIES entries (only the
first ones are looked at, MSS-XDM-TOO-MANY); an entry whose path leaves the archive — absolute,
`..`, a drive letter, a backslash, a NUL (zip-slip, MSS-XDM-PATH: never read); a ZIP bomb —
more than MAX_EXPANDED bytes expanded in all, or an expansion ratio over MAX_RATIO once past
RATIO_FLOOR bytes (MSS-XDM-BOMB: reading stops there). Sizes are counted while inflating: the
sizes an archive declares are not trusted.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from dataclasses import dataclass, field

MAX_ENTRIES = 1000  # [inferred] an XDM carries a handful of files; 1,000 is generous
MAX_EXPANDED = 100 * 1024 * 1024  # 100 MiB in all
MAX_RATIO = 100  # expanded / compressed
RATIO_FLOOR = 1024 * 1024  # the ratio is judged past 1 MiB expanded (tiny files compress a lot)
CHUNK = 1024 * 1024  # large reads: inflating in small chunks costs more than the bookkeeping saves
NAME_83 = re.compile(r"^[A-Z0-9_]{1,8}(\.[A-Z0-9_]{1,3})?$")
SUBSET = re.compile(r"^IHE_XDM/([^/]+)/$", re.IGNORECASE)


@dataclass(frozen=True)
class Problem:
    rule: str  # a finding rule of mssante.checks
    message: str  # French
    location: str = ""


@dataclass
class Archive:
    names: list[str] = field(default_factory=list)  # every entry name, in archive order
    files: dict[str, bytes] = field(default_factory=dict)  # what was read safely (not directories)
    problems: list[Problem] = field(default_factory=list)
    readable: bool = True  # False: not a ZIP at all (or corrupt from the start)
    expanded: int = 0
    compressed: int = 0

    def file(self, name: str) -> bytes | None:
        """An entry by name, case-insensitively (the case itself is checked by MSS-XDM-NAME-83)."""
        if name in self.files:
            return self.files[name]
        lower = name.lower()
        return next((data for n, data in self.files.items() if n.lower() == lower), None)

    def subsets(self) -> list[str]:
        """The IHE_XDM/<subset>/ folders (as named in the archive), in order."""
        found: list[str] = []
        for name in self.names:
            parts = name.split("/")
            if len(parts) >= 3 and parts[0].upper() == "IHE_XDM" and parts[1]:
                folder = f"{parts[0]}/{parts[1]}/"
                if folder not in found:
                    found.append(folder)
        return found


def unsafe_path(name: str) -> str:
    """Why an entry name would escape the archive ("" when it is safe)."""
    if "\x00" in name:
        return "caractère NUL"
    if "\\" in name:
        return "barre oblique inverse"
    if name.startswith("/"):
        return "chemin absolu"
    if re.match(r"^[A-Za-z]:", name):
        return "lettre de lecteur"
    if any(part == ".." for part in name.split("/")):
        return "composant .."
    return ""


def read(data: bytes) -> Archive:
    archive = Archive()
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        ValueError,
        OSError,
        EOFError,
        NotImplementedError,
    ) as exc:
        archive.readable = False
        archive.problems.append(Problem("MSS-XDM-ZIP", f"IHE_XDM.ZIP illisible : {_why(exc)}", "IHE_XDM.ZIP"))
        return archive
    with zf:
        if len(infos) > MAX_ENTRIES:
            archive.problems.append(
                Problem(
                    "MSS-XDM-TOO-MANY",
                    f"{len(infos)} entrées dans l'archive (au plus {MAX_ENTRIES} examinées)",
                    "IHE_XDM.ZIP",
                )
            )
            infos = infos[:MAX_ENTRIES]
        archive.names = [i.filename for i in infos]
        for info in infos:
            why = unsafe_path(info.filename)
            if why:
                archive.problems.append(
                    Problem(
                        "MSS-XDM-PATH",
                        f"entrée {info.filename!r} hors de l'archive ({why}) : non lue",
                        info.filename,
                    )
                )
                continue
            if info.is_dir():
                continue
            if not _read_entry(zf, info, archive):
                break
    return archive


def _read_entry(zf: zipfile.ZipFile, info: zipfile.ZipInfo, archive: Archive) -> bool:
    """Inflate one entry within the limits; False when reading must stop (a bomb)."""
    chunks: list[bytes] = []
    archive.compressed += info.compress_size
    try:
        with zf.open(info) as stream:
            while True:
                chunk = stream.read(CHUNK)
                if not chunk:
                    break
                chunks.append(chunk)
                archive.expanded += len(chunk)
                if archive.expanded > MAX_EXPANDED or (
                    archive.expanded > RATIO_FLOOR
                    and archive.expanded > MAX_RATIO * max(archive.compressed, 1)
                ):
                    archive.problems.append(
                        Problem(
                            "MSS-XDM-BOMB",
                            f"bombe ZIP : plus de {archive.expanded // 1024} Kio décompressés pour "
                            f"{archive.compressed // 1024} Kio compressés (limites : {MAX_EXPANDED // 2**20} Mio, "
                            f"rapport {MAX_RATIO}) ; lecture arrêtée à {info.filename!r}",
                            info.filename,
                        )
                    )
                    return False
    except (
        zipfile.BadZipFile,
        zlib.error,
        EOFError,
        OSError,
        RuntimeError,
        NotImplementedError,
        ValueError,
    ) as exc:
        archive.problems.append(
            Problem("MSS-XDM-ZIP", f"entrée {info.filename!r} illisible : {_why(exc)}", info.filename)
        )
        return True
    archive.files[info.filename] = b"".join(chunks)
    return True


def _why(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    if "encrypted" in text or "password" in text:
        return "archive chiffrée (mot de passe)"
    return text[:200]


def not_83(name: str) -> list[str]:
    """The components of a path that are not ISO 9660 level-1 names (8.3, upper case)."""
    return [part for part in name.rstrip("/").split("/") if part and not NAME_83.match(part)]
