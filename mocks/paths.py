"""Where the project's own files are (the data files live beside the packages, in `data/`)."""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_FILES = PROJECT_ROOT / "data"
