"""The national services the sandbox knows, by name. The only place the kernel names them."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from types import ModuleType

from mocks.config import Setting
from mocks.errors import ErrorDef
from mocks.findings import Rule

# name -> module exposing NAME, TITLE, SETTINGS, ERRORS, OPERATIONS, RULES, create(sandbox)
SERVICES: dict[str, str] = {
    "pki": "mocks.pki.service",
    "insi": "insi.service",
    "psc": "psc.service",
    "annuaire": "annuaire.service",
    "mss": "mssante.service",
    "dmp": "dmp.service",
    "apcv": "apcv.service",
}


@dataclass(frozen=True)
class ServiceEntry:
    name: str
    module: ModuleType

    @property
    def title(self) -> str:
        return str(getattr(self.module, "TITLE", self.name))

    @property
    def settings(self) -> list[Setting]:
        return list(getattr(self.module, "SETTINGS", []))

    @property
    def errors(self) -> dict[str, ErrorDef]:
        return dict(getattr(self.module, "ERRORS", {}))

    @property
    def operations(self) -> list[str] | None:
        """The operation names its journal entries and fault rules use (None: the service declares
        none, and fault rules naming an operation are accepted unchecked, with a warning)."""
        declared = getattr(self.module, "OPERATIONS", None)
        return None if declared is None else [str(op) for op in declared]

    @property
    def rules(self) -> Mapping[str, Rule] | None:
        """The findings rule catalogue (None: the service declares none, findings are not checked)."""
        return getattr(self.module, "RULES", None)

    @property
    def package(self) -> str:
        """The Python package of the service (`psc` for `psc.service`, `mocks.pki` for the PKI)."""
        return self.module.__name__.rpartition(".")[0]

    def part(self, name: str) -> ModuleType | None:
        """An optional module of the service's package: `control` (its /_sandbox/<name> routes),
        `pages` (its console pages)."""
        return optional_module(f"{self.package}.{name}") if self.package else None


def optional_module(path: str) -> ModuleType | None:
    """The module at `path`, or None when it (or its package) is not part of this build; an
    import error inside an existing module is raised, not hidden."""
    try:
        return importlib.import_module(path)
    except ModuleNotFoundError as exc:
        if exc.name and (path == exc.name or path.startswith(exc.name + ".")):
            return None
        raise


@cache
def available() -> dict[str, ServiceEntry]:
    """Services whose module is present (a service not yet built is simply absent)."""
    found: dict[str, ServiceEntry] = {}
    for name, path in SERVICES.items():
        module = optional_module(path)
        if module is not None:
            found[name] = ServiceEntry(name, module)
    return found


# kernel components that declare settings (module exposing SETTINGS)
COMPONENT_SETTINGS = ["mocks.cda.settings", "mocks.scoreboard.settings"]


def service_settings() -> list[Setting]:
    settings: list[Setting] = []
    for path in COMPONENT_SETTINGS:
        module = optional_module(path)
        settings.extend(getattr(module, "SETTINGS", []) if module else [])
    for entry in available().values():
        settings.extend(entry.settings)
        settings.append(
            Setting(f"{entry.name}_validation", "", f"validation mode of {entry.name} (default: validation)")
        )
    return settings
