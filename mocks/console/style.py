"""The sandbox's one stylesheet (static/segur.css), for pages served off the console listener:
the PSC wallet's login pages inline it (they live on another origin, port 4611)."""

from __future__ import annotations

from pathlib import Path

SHARED_CSS = (Path(__file__).with_name("static") / "segur.css").read_text(encoding="utf-8")
