"""The web console, in French, at the console listener's root (`http://localhost:4600/`), for
LGC developers and trainers: Accueil, Personas, Journal, Défauts, Horloge, Tenants, PKI, plus the
pages each service contributes from its own `pages/` package (docs/console.md).

It reads and changes the sandbox only through the control API (`/_sandbox/`, called in-process:
mocks.console.control), so a person and a test see the same state. Server-rendered Jinja
templates, one stylesheet shared with the PSC login pages' look, small progressive JavaScript
(live journal over server-sent events, copy buttons, folding); no CDN, works offline.

For a service's pages (see mocks.console.contract):

    from mocks.console import NavEntry, Panel, control, page, tenant
"""

from mocks.console.contract import NavEntry, Panel
from mocks.console.control import ControlError
from mocks.console.site import PageNotFound, control, done, lang, mount, page, tenant

__all__ = [
    "ControlError",
    "NavEntry",
    "PageNotFound",
    "Panel",
    "control",
    "done",
    "lang",
    "mount",
    "page",
    "tenant",
]
