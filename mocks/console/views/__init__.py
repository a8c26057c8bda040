"""The kernel's console pages, each a module of views on `mocks.console.site.bp`."""

from mocks.console.views import clock, faults, home, journal, personas, pki, scoreboard, tenants

__all__ = ["clock", "faults", "home", "journal", "personas", "pki", "scoreboard", "tenants"]
