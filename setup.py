"""Only what pyproject.toml cannot say: the wheel carries the repository's `data/` folder (personas,
nomenclatures) inside the `mocks` package, as `mocks/_data`, where mocks.paths finds it once
installed. The folder stays at the repository root for development (an editable install and a
source checkout read it there); the sdist carries it through MANIFEST.in."""

from __future__ import annotations

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

DATA = Path(__file__).resolve().parent / "data"


class BuildPy(build_py):
    def run(self) -> None:
        super().run()
        if DATA.is_dir():
            self.copy_tree(str(DATA), str(Path(self.build_lib) / "mocks" / "_data"))


setup(cmdclass={"build_py": BuildPy})
