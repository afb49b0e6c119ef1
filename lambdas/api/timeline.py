"""The timeline page: self-contained HTML (no CDN, no script), every value escaped."""

from __future__ import annotations

from html import escape
from typing import Any

from lambdas.domain.events import EventStatus
from lambdas.domain.models import EventState, LifecycleRecord

# Nothing loads from elsewhere and nothing runs: the strictest policy the page works with.
TIMELINE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

_COLOURS = {
    EventStatus.COMPLETED: "#1b7f3b",
    EventStatus.IN_PROGRESS: "#1f5fbf",
    EventStatus.FAILED: "#b3261e",
    EventStatus.ERROR: "#b3261e",
    EventStatus.NOT_STARTED: "#6b6b6b",
}
_STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#1d1d1f;background:#fafafa}
h1{font-size:1.4rem}table{border-collapse:collapse}td,th{padding:.25rem .75rem;text-align:left;vertical-align:top}
.header td:first-child{font-weight:600}.events{list-style:none;padding:0}
.event{border-left:6px solid;padding:.5rem 1rem;margin:.5rem 0;background:#fff}
.status{font-weight:700}.muted{color:#6b6b6b}pre{white-space:pre-wrap;margin:.25rem 0}
"""


def _rows(values: dict[str, Any]) -> str:
    return "".join(f"<tr><td>{escape(str(key))}</td><td>{escape(str(value))}</td></tr>" for key, value in values.items())


def _event_html(state: EventState) -> str:
    colour = _COLOURS[state.status]
    details: dict[str, Any] = {}
    if state.attempt:
        details["attempt"] = state.attempt
    if state.reason:
        details["reason"] = state.reason
    details |= state.properties
    details |= {key: value for key, value in state.outputs.items() if not isinstance(value, (dict, list))}
    for key, value in state.outputs.items():
        if isinstance(value, dict):
            details |= {f"{key}.{inner}": inner_value for inner, inner_value in value.items()}
    enabled = "" if state.enabled else ' <span class="muted">(not requested)</span>'
    return (
        f'<li class="event" data-event="{escape(state.name.value)}" style="border-color:{colour}">'
        f'<div><b>{escape(state.name.value)}</b>{enabled} — '
        f'<span class="status" style="color:{colour}">{escape(state.status.value)}</span> '
        f'<span class="muted">{escape(state.status_date or "")}</span></div>'
        f"<table>{_rows(details)}</table></li>"
    )


def render_timeline(record: LifecycleRecord) -> str:
    running = record.event_in_progress
    header = {
        "Lifecycle id": record.lifecycle_id,
        "Lifecycle type": record.lifecycle_type.value + (f" (patch run {record.patch_number})" if record.patch_number else ""),
        "Stack tag": record.stack_tag,
        "Product": f"{record.product_name} {record.product_ver}",
        "Commit": record.commit_ref,
        "Semver": record.semver,
        "AMI": record.ami.ami_id if record.ami else "not built yet",
        "Stage reached": record.stage.slug,
        "Event in progress": running.name.value if running else "none",
        "Last update": record.updated_at,
    }
    if record.parent_ami:
        header["Parent AMI"] = f"{record.parent_ami.ami_id} ({record.parent_ami.semver})"
    events = "".join(_event_html(state) for state in record.events)
    return (
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>AMI lifecycle {escape(record.lifecycle_id)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>AMI lifecycle timeline</h1><table class=\"header\">{_rows(header)}</table>"
        f"<ol class=\"events\">{events}</ol></body></html>"
    )
