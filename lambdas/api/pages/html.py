"""The shell shared by the timeline page and the fleet dashboard: one self-contained HTML document.

Nothing loads from elsewhere. The only script and style are inline and allowed by their SHA-256 in
the Content-Security-Policy, so no other script can run on the page. The view (display-ready data,
see timeline_view.py / dashboard_view.py) travels HTML-escaped in a data attribute; the script draws
the page from it with textContent only, then polls `…/data` (same signed link, same origin) and draws
each new view with the same code, so the first load and every live update look the same.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from html import escape
from pathlib import Path
from typing import Any

_ASSETS = Path(__file__).parent / "assets"
DATA_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def _csp_hash(source: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(source.encode()).digest()).decode() + "'"


@dataclass(frozen=True)
class Page:
    """One kind of page: its inline style and script (read once per cold start)."""

    style: str
    script: str

    @property
    def headers(self) -> dict[str, str]:
        return {
            "Content-Security-Policy": (
                f"default-src 'none'; script-src {_csp_hash(self.script)}; style-src {_csp_hash(self.style)}; "
                "connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
            ),
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",  # the link's token must not leak to any other site
            "Cache-Control": "no-store",
        }

    def render(self, *, title: str, view: dict[str, Any], refresh_ms: int) -> str:
        data = escape(json.dumps(view, separators=(",", ":")), quote=True)
        return (
            '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(title)}</title><style>{self.style}</style></head>"
            f'<body data-refresh-ms="{int(refresh_ms)}"><main id="app" data-view="{data}">'
            "<noscript>This page draws itself with JavaScript; allow scripts for this page to see it.</noscript>"
            f'</main><p id="live" class="muted">Live updates every {max(int(refresh_ms) // 1000, 1)} s.</p>'
            f"<script>{self.script}</script></body></html>"
        )


@lru_cache(maxsize=None)
def page(name: str) -> Page:
    """`timeline` or `dashboard`: pages.css, and common.js followed by <name>.js."""
    read = lambda file: (_ASSETS / file).read_text(encoding="utf-8").strip()  # noqa: E731
    return Page(style=read("pages.css"), script=read("common.js") + "\n" + read(f"{name}.js"))
