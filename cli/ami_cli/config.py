"""cli-config.json: the operator's defaults (examples/cli-config.json is a documented example).

    {"owner": "...", "stackTag": "...", "notifications": [{"method": "EMAIL", "target": "..."}],
     "properties": {"team": "..."}}

Read from `--config PATH`, else `./cli-config.json` when it exists. A flag always wins over the file.
Notifications may also be written "METHOD::TARGET[::IN_PROGRESS]", as on the command line.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .errors import UsageError

FILE_NAME = "cli-config.json"
KEYS = ("owner", "stackTag", "notifications", "properties")


def load_config(path: str | None, cwd: Path) -> dict[str, Any]:
    config_path = Path(path).expanduser() if path else cwd / FILE_NAME
    if not path and not config_path.is_file():
        return {}
    where = f"--config {config_path}" if path else str(config_path)
    try:
        data = json.loads(config_path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"{where}: cannot read the file: {exc.strerror or exc}") from exc
    except ValueError as exc:
        raise UsageError(f"{where}: not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise UsageError(f"{where}: must be a JSON object with some of: {', '.join(KEYS)}")
    unknown = sorted(set(data) - set(KEYS))
    if unknown:
        raise UsageError(f"{where}: unknown key {unknown[0]!r}; expected some of: {', '.join(KEYS)}")
    return data


def config_text(config: Mapping[str, Any], key: str) -> str | None:
    value = config.get(key)
    return value.strip() if isinstance(value, str) and value.strip() else None


def config_notifications(config: Mapping[str, Any]) -> list[str]:
    result = []
    for item in config.get("notifications") or []:
        if isinstance(item, dict):
            option = "::IN_PROGRESS" if item.get("in_progress") else ""
            result.append(f"{item.get('method', '')}::{item.get('target', '')}{option}")
        else:
            result.append(str(item))
    return result


def config_properties(config: Mapping[str, Any]) -> list[str]:
    properties = config.get("properties") or {}
    return [f"{key}::{value}" for key, value in properties.items()] if isinstance(properties, dict) else []
