"""Where the project's own files are: the data files (`data/` at the repository root in a checkout
or an editable install; `mocks/_data` inside an installed wheel, put there by setup.py)."""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
_INSTALLED = Path(__file__).resolve().parent / "_data"
DATA_FILES = _INSTALLED if _INSTALLED.is_dir() else PROJECT_ROOT / "data"
