"""Runtime settings, read once per cold start from the environment the CDK stack sets.

Every name here is a contract with `stacks/` (which sets them) and `local/` (which reproduces them).
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class SettingsError(RuntimeError):
    """The function was deployed without a setting it needs."""


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    deployment_tag: str = Field(alias="DEPLOYMENT_TAG", description="Slug of the deployment's stack tag.")
    lifecycle_table: str = Field(default="", alias="LIFECYCLE_TABLE")
    lookup_table: str = Field(default="", alias="LOOKUP_TABLE")
    semver_seed_table: str = Field(default="", alias="SEMVER_SEED_TABLE")
    notification_topic_arn: str = Field(default="", alias="NOTIFICATION_TOPIC_ARN")
    patch_component_bucket: str = Field(default="", alias="PATCH_COMPONENT_BUCKET")
    # JSON object: workflow name (events.WORKFLOWS) -> state machine ARN.
    state_machine_arns: dict[str, str] = Field(default_factory=dict, alias="STATE_MACHINE_ARNS")
    # JSON object: role ("operator" | "qa" | "approver") -> API Gateway API key *id* (never the value).
    api_key_ids: dict[str, str] = Field(default_factory=dict, alias="API_KEY_IDS")
    export_bucket: str = Field(default="", alias="EXPORT_BUCKET")
    qa_download_link_minutes: int = Field(default=60, alias="QA_DOWNLOAD_LINK_MINUTES", ge=1, le=12 * 60)
    timeline_signing_secret_arn: str = Field(default="", alias="TIMELINE_SIGNING_SECRET_ARN")
    timeline_link_minutes: int = Field(default=60, alias="TIMELINE_LINK_MINUTES", ge=1, le=24 * 60)
    timeline_refresh_seconds: int = Field(default=5, alias="TIMELINE_REFRESH_SECONDS", ge=1, le=300)
    reconciler_grace_minutes: int = Field(default=30, alias="RECONCILER_GRACE_MINUTES")
    gc_max_instance_hours: int = Field(default=6, alias="GC_MAX_INSTANCE_HOURS")
    status_page_size: int = Field(default=25, alias="STATUS_PAGE_SIZE")

    def state_machine_arn(self, workflow: str) -> str:
        try:
            return self.state_machine_arns[workflow]
        except KeyError as exc:
            raise SettingsError(f"STATE_MACHINE_ARNS has no '{workflow}' entry") from exc


_JSON_SETTINGS = ("STATE_MACHINE_ARNS", "API_KEY_IDS")


def settings_from(environ: dict[str, str]) -> Settings:
    # An empty variable means unset (the local cloud blanks the variables of other functions).
    raw: dict[str, Any] = {name: value for name, value in environ.items() if value != ""}
    for name in _JSON_SETTINGS:
        if name in raw:
            try:
                raw[name] = json.loads(raw[name])
            except json.JSONDecodeError as exc:
                raise SettingsError(f"{name} is not valid JSON") from exc
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        raise SettingsError(f"invalid function settings: {exc}") from exc


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return settings_from(dict(os.environ))
