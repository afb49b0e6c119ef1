"""The timeline page: one self-contained HTML document that keeps itself up to date.

Nothing loads from elsewhere. The only script and style are inline and allowed by their SHA-256 in
the Content-Security-Policy, so no other script can run on the page. The script polls
`timeline/data` (same signed link, same origin) and rewrites the changed text in place; every value
reaches the DOM through textContent, and every server-rendered value is HTML-escaped.
"""

from __future__ import annotations

import base64
import hashlib
from html import escape
from typing import Any

from lambdas.domain.models import EventState, LifecycleRecord
from lambdas.domain.semver import Version

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#1d1d1f;background:#fafafa}
h1{font-size:1.4rem}table{border-collapse:collapse}td{padding:.2rem .75rem;text-align:left;vertical-align:top}
.header td:first-child,.details td:first-child{font-weight:600}.events{list-style:none;padding:0}
.event{border-left:6px solid #6b6b6b;padding:.5rem 1rem;margin:.5rem 0;background:#fff}
.status{font-weight:700}.muted,#live{color:#6b6b6b}
.s-COMPLETED{border-color:#1b7f3b}.s-COMPLETED .status{color:#1b7f3b}
.s-IN_PROGRESS{border-color:#1f5fbf}.s-IN_PROGRESS .status{color:#1f5fbf}
.s-FAILED,.s-ERROR{border-color:#b3261e}.s-FAILED .status,.s-ERROR .status{color:#b3261e}
""".strip()

_SCRIPT = """
(function () {
  var token = new URLSearchParams(location.search).get('token') || '';
  var dataUrl = location.pathname.replace(/\\/timeline$/, '/timeline/data') + '?token=' + encodeURIComponent(token);
  var live = document.getElementById('live');
  var every = parseInt(document.body.getAttribute('data-refresh-ms'), 10) || 5000;
  function rows(details) {
    return Object.keys(details).map(function (key) {
      var tr = document.createElement('tr'), k = document.createElement('td'), v = document.createElement('td');
      k.textContent = key; v.textContent = String(details[key]); tr.appendChild(k); tr.appendChild(v); return tr;
    });
  }
  function apply(view) {
    Object.keys(view.header).forEach(function (key) {
      var cell = document.querySelector('[data-field="' + key + '"]');
      if (cell) { cell.textContent = view.header[key]; }
    });
    view.events.forEach(function (event) {
      var item = document.querySelector('[data-event="' + event.name + '"]');
      if (!item) { return; }
      item.className = 'event s-' + event.status;
      item.setAttribute('data-status', event.status);
      item.querySelector('.status').textContent = event.status;
      item.querySelector('.date').textContent = event.status_date || '';
      item.querySelector('table').replaceChildren.apply(item.querySelector('table'), rows(event.details));
    });
  }
  function refresh() {
    fetch(dataUrl, {cache: 'no-store', credentials: 'omit'}).then(function (response) {
      if (response.status === 401) { live.textContent = 'This link has expired: ask for a new one.'; return null; }
      if (!response.ok) { throw new Error('HTTP ' + response.status); }
      return response.json();
    }).then(function (view) {
      if (view === null) { return; }
      apply(view);
      live.textContent = 'Live: updated ' + new Date().toLocaleTimeString();
      setTimeout(refresh, every);
    }).catch(function (error) {
      live.textContent = 'Live updates paused (' + error.message + '); retrying.';
      setTimeout(refresh, every * 2);
    });
  }
  setTimeout(refresh, every);
})();
""".strip()


def _csp_hash(source: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(source.encode()).digest()).decode() + "'"


TIMELINE_HEADERS = {
    "Content-Security-Policy": (
        f"default-src 'none'; script-src {_csp_hash(_SCRIPT)}; style-src {_csp_hash(_STYLE)}; "
        "connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # the link's token must not leak to any other site
    "Cache-Control": "no-store",
}


def _details(state: EventState) -> dict[str, Any]:
    details: dict[str, Any] = {}
    if state.attempt:
        details["attempt"] = state.attempt
    if state.reason:
        details["reason"] = state.reason
    details |= state.properties
    for key, value in state.outputs.items():
        if isinstance(value, dict):
            details |= {f"{key}.{inner}": inner_value for inner, inner_value in value.items()}
        elif isinstance(value, list):
            details[key] = ", ".join(
                f"{item.get('name')}: {'passed' if item.get('passed') else 'FAILED'}" if isinstance(item, dict) else str(item)
                for item in value
            )
        else:
            details[key] = value
    return details


def _compare(semver: str, latest: str | None) -> str:
    if latest is None:
        return "no AMI of this stack tag is selectable yet"
    mine, theirs = Version.parse(semver), Version.parse(latest)
    relation = "equal to" if mine == theirs else ("behind" if mine < theirs else "ahead of")
    return f"{semver} is {relation} the stack tag's latest {latest}"


def timeline_view(record: LifecycleRecord, latest_semver: str | None) -> dict[str, Any]:
    """What the page shows, as data: rendered into HTML once, then served as JSON to keep it live."""
    running = record.event_in_progress
    header = {
        "lifecycle_id": record.lifecycle_id,
        "lifecycle_type": record.lifecycle_type.value + (f" (patch run {record.patch_number})" if record.patch_number else ""),
        "stack_tag": record.stack_tag,
        "product": f"{record.product_name} {record.product_ver}",
        "commit_ref": record.commit_ref,
        "semver": _compare(record.semver, latest_semver),
        "ami": record.ami.ami_id if record.ami else "not built yet",
        "parent_ami": f"{record.parent_ami.ami_id} ({record.parent_ami.semver})" if record.parent_ami else "none",
        "stage": record.stage.slug,
        "event_in_progress": running.name.value if running else "none",
        "updated_at": record.updated_at,
    }
    events = [
        {
            "name": state.name.value,
            "enabled": state.enabled,
            "status": state.status.value,
            "status_date": state.status_date,
            "details": _details(state),
        }
        for state in record.events
    ]
    return {"header": header, "events": events}


_LABELS = {
    "lifecycle_id": "Lifecycle id", "lifecycle_type": "Lifecycle type", "stack_tag": "Stack tag", "product": "Product",
    "commit_ref": "Commit", "semver": "Semver", "ami": "AMI", "parent_ami": "Parent AMI", "stage": "Stage reached",
    "event_in_progress": "Event in progress", "updated_at": "Last update",
}


def _rows(values: dict[str, Any], *, fields: bool = False) -> str:
    return "".join(
        f"<tr><td>{escape(_LABELS.get(key, key) if fields else str(key))}</td>"
        f"<td{f' data-field={chr(34)}{escape(key)}{chr(34)}' if fields else ''}>{escape(str(value))}</td></tr>"
        for key, value in values.items()
    )


def _event_html(event: dict[str, Any]) -> str:
    requested = "" if event["enabled"] else ' <span class="muted">(not requested)</span>'
    return (
        f'<li class="event s-{escape(event["status"])}" data-event="{escape(event["name"])}" '
        f'data-status="{escape(event["status"])}"><div><b>{escape(event["name"])}</b>{requested} — '
        f'<span class="status">{escape(event["status"])}</span> '
        f'<span class="date muted">{escape(event["status_date"] or "")}</span></div>'
        f'<table class="details">{_rows(event["details"])}</table></li>'
    )


def render_timeline(view: dict[str, Any], *, refresh_ms: int) -> str:
    title = escape(view["header"]["lifecycle_id"])
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>AMI lifecycle {title}</title><style>{_STYLE}</style></head>"
        f'<body data-refresh-ms="{int(refresh_ms)}"><h1>AMI lifecycle timeline</h1>'
        f'<p id="live">Live updates every {int(refresh_ms) // 1000 or 1} s.</p>'
        f'<table class="header">{_rows(view["header"], fields=True)}</table>'
        f'<ol class="events">{"".join(_event_html(event) for event in view["events"])}</ol>'
        f"<script>{_SCRIPT}</script></body></html>"
    )

