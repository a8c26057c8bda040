"""The contract between the console and a service's pages (docs/console.md, "Service pages").

A service contributes pages from its own package's `pages` module (`<package>/pages/`, found
through the registry: `ServiceEntry.part("pages")`); the kernel names no service. The module
exposes:

    blueprint: flask.Blueprint      mounted at /<service> on the console listener; its templates
                                    extend "console/base.html" and are rendered with
                                    mocks.console.page(template, title=..., **context)
    NAV: list[NavEntry]             its navigation entries (path relative to /<service>)
    persona_panels(kind, persona)   optional: Panels added to a persona's page (kind is
      -> list[Panel]                "patient", "professional" or "structure"; persona is the
                                    control API's JSON of that persona)
    lgc_urls(service) -> list[(label, url)]
                                    optional: what an LGC configures, shown on Accueil (service
                                    is /_sandbox/info's entry: state, urls by listener)

While the service is disabled (not run by any process), its entries show "service désactivé"
and its pages answer a French page saying so (503), without calling the service's view.
Pages read and change state through mocks.console.control() (the control API, in-process) only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint
from markupsafe import Markup

from mocks.registry import ServiceEntry

PersonaPanels = Callable[[str, dict[str, Any]], list["Panel"]]
LgcUrls = Callable[[dict[str, Any]], list[tuple[str, str]]]


@dataclass(frozen=True)
class NavEntry:
    """One navigation link: `path` relative to the service's prefix ("" is /<service>)."""

    path: str
    label: str  # French
    label_en: str = ""


@dataclass(frozen=True)
class Panel:
    """A block on a persona's page, rendered by the service (HTML, already escaped)."""

    title: str  # French
    html: Markup
    title_en: str = ""
    id: str = ""  # anchor and test hook, e.g. "insi-attendu"


@dataclass(frozen=True)
class ServicePages:
    service: str
    title: str
    blueprint: Blueprint
    nav: list[NavEntry] = field(default_factory=list)
    persona_panels: PersonaPanels | None = None
    lgc_urls: LgcUrls | None = None

    @property
    def prefix(self) -> str:
        return "/" + self.service


def discover(services: Mapping[str, ServiceEntry]) -> list[ServicePages]:
    """The pages of every service that has a `pages` module, in registry order."""
    found: list[ServicePages] = []
    for name, entry in services.items():
        module = entry.part("pages")
        if module is None:
            continue
        blueprint = getattr(module, "blueprint", None)
        if not isinstance(blueprint, Blueprint):
            raise TypeError(f"{module.__name__}: `blueprint` must be a flask.Blueprint")
        nav = list(getattr(module, "NAV", []))
        if not all(isinstance(n, NavEntry) for n in nav):
            raise TypeError(f"{module.__name__}: NAV must be a list of mocks.console.NavEntry")
        panels = getattr(module, "persona_panels", None)
        urls = getattr(module, "lgc_urls", None)
        found.append(ServicePages(name, entry.title, blueprint, nav, panels, urls))
    return found
