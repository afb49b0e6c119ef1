"""Options -> one HTTP request, checked before anything is sent.

`plan` validates the request body with the API's own request models (lambdas/domain/requests.py),
so a request the API would refuse for its shape is refused here with exit code 2 and nothing sent.
`with_defaults` fills what the operator need not type: the stack tag (cli-config.json, else the
deployment's), the owner and notifications of cli-config.json.
"""

from __future__ import annotations

import getpass
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from client.deployment import git_head
from lambdas.domain.requests import (
    ApproveRequest,
    CertifyRequest,
    CreateLifecycleRequest,
    CreatePatchRequest,
    LifecycleId,
    StackTag,
    UpdateLifecycleRequest,
    UpdatePatchRequest,
)

from .component import Component, load_component
from .config import config_notifications, config_text, load_config
from .errors import UsageError
from .options import (
    Options,
    creation_events,
    parse_notification,
    parse_properties,
    patch_events,
    update_events,
    validation_message,
)

OPERATOR, QA, APPROVER = "operator", "qa", "approver"
CREATION, PATCH = "ami-creation", "ami-patch"
FLAGS = {
    "stack_tag": "--stackTag",
    "lifecycle_id": "--lifecycleId",
    "owner": "--owner",
    "product_ver": "--productVer",
    "product_name": "--productName",
    "commit_ref": "--commitRef",
    "notifications": "--notifications",
    "properties": "--properties",
    "events": "--events",
    "certification_status": "--certificationStatus",
    "approval_status_creation": "--approvalStatusAmiCreation",
    "approval_status_patch": "--approvalStatusAmiPatch",
    "approver": "--approver",
    "patch_component": "--patchComponent",
    "patch_component_url": "--patchComponent",
    "patch_change_description": "--patchChangeDescription",
    "semver_bump_type": "--semverBumpType",
}
STATUS_PAGE_LIMIT = 100
WAITABLE = frozenset({
    "AMI_CREATE", "AMI_CREATE_UPDATE", "AMI_PATCH", "AMI_PATCH_UPDATE", "AMI_APPROVAL_CREATE", "AMI_APPROVAL_PATCH",
    "AMI_QA_CERTIFICATION", "AMI_GET_STATUS_BY_LIFECYCLE_ID",
})
LINKS = {"AMI_TIMELINE_CREATE": "Timeline", "AMI_TIMELINE_PATCH": "Timeline", "AMI_DASHBOARD": "Dashboard"}
# Until the bucket is known (execute asks the deployment), a name that passes the URL pattern.
_PLACEHOLDER_BUCKET = "ami-lc-bucket-checked-later"
_IDENTIFY = ("lifecycle_id", "stack_tag")  # what a verdict names
_LIFECYCLE_ID = TypeAdapter(LifecycleId)
_STACK_TAG = TypeAdapter(StackTag)


@dataclass
class Plan:
    operation: str
    method: str
    path: str
    role: str
    body: dict[str, Any] | None = None
    query: dict[str, str] | None = None
    kind: str = CREATION  # the lifecycle type --wait follows
    lifecycle_id: str | None = None
    component: Component | None = None
    notes: list[str] = field(default_factory=list)


# ----- defaults ------------------------------------------------------------------------------------


def with_defaults(options: Options, config: Mapping[str, Any], deployed_tag: Callable[[], str]) -> Options:
    """`options` with cli-config.json's owner, notifications and stack tag, else the deployment's tag
    (`deployed_tag` is asked only when needed: it may read the local cloud profile)."""
    return options.copy(
        stack_tag=options.stack_tag or config_text(config, "stackTag") or deployed_tag(),
        owner=options.owner or (None if options.operation == "AMI_PATCH" else config_text(config, "owner")),
        notifications=options.notifications or (
            [] if options.operation == "AMI_PATCH" else config_notifications(config)),
    )


def default_approver(options: Options, env: Mapping[str, str], cwd: Path) -> str:
    if options.approver:
        return options.approver
    owner = config_text(load_config(options.config, cwd), "owner")
    if owner:
        return owner
    name = env.get("USER") or env.get("USERNAME")
    if not name:
        try:
            name = getpass.getuser()
        except (KeyError, OSError):
            name = ""
    if not name:
        raise UsageError(f"{options.operation} needs --approver (no cli-config.json owner and no $USER)")
    return name


# ----- checks --------------------------------------------------------------------------------------


def _require(options: Options, *names: str) -> None:
    missing = [FLAGS[name] for name in names if not getattr(options, name)]
    if missing:
        raise UsageError(f"{options.operation} needs {', '.join(missing)}")


def lifecycle_id_of(options: Options) -> str:
    value = (options.lifecycle_id or "").strip().lower()
    try:
        return _LIFECYCLE_ID.validate_python(value)
    except ValidationError as exc:
        raise UsageError(f"--lifecycleId: {validation_message(exc)}") from exc


def stack_tag_of(options: Options) -> str:
    try:
        return _STACK_TAG.validate_python(options.stack_tag)
    except ValidationError as exc:
        raise UsageError(f"--stackTag: {validation_message(exc)}") from exc


def validated(model: type[BaseModel], body: dict[str, Any]) -> dict[str, Any]:
    try:
        request = model.model_validate(body)
    except ValidationError as exc:
        error = exc.errors()[0]
        location = [str(part) for part in error.get("loc", ())]
        flag = FLAGS.get(location[0], location[0]) if location else "request"
        raise UsageError(f"{flag}: {validation_message(exc)}") from exc
    return request.model_dump(mode="json", exclude_none=True)


def _notifications(options: Options) -> list[dict[str, Any]] | None:
    return [parse_notification(item) for item in options.notifications] or None


def _approval(value: str | None, notes: list[str], flag: str) -> str:
    if value == "FAILED":
        notes.append(f"{flag} FAILED is the original CLI's word for NOT_APPROVED: sending NOT_APPROVED")
        return "NOT_APPROVED"
    return value or ""


# ----- the plans -----------------------------------------------------------------------------------


def _create(options: Options, cwd: Path) -> Plan:
    _require(options, "stack_tag", "owner", "product_name", "product_ver", "notifications", "events")
    body = {
        "stack_tag": options.stack_tag, "owner": options.owner, "product_name": options.product_name,
        "product_ver": options.product_ver, "commit_ref": options.commit_ref or git_head(cwd),
        "notifications": _notifications(options), "events": creation_events(options.events),
        "properties": parse_properties(options.properties),
    }
    return Plan("AMI_CREATE", "POST", "/ami-creation/lifecycles", OPERATOR, validated(CreateLifecycleRequest, body))


def _update(options: Options) -> Plan:
    _require(options, "lifecycle_id", "stack_tag")
    creation = options.operation == "AMI_CREATE_UPDATE"
    body = {
        "lifecycle_id": lifecycle_id_of(options), "stack_tag": options.stack_tag, "owner": options.owner,
        "notifications": _notifications(options), "events": update_events(options.operation or "", options.events),
        "properties": parse_properties(options.properties),
    }
    model = UpdateLifecycleRequest if creation else UpdatePatchRequest
    kind = CREATION if creation else PATCH
    return Plan(options.operation or "", "PUT", f"/{kind}/lifecycles", OPERATOR, validated(model, body), kind=kind,
                lifecycle_id=body["lifecycle_id"])


def _patch(options: Options, cwd: Path) -> Plan:
    _require(options, "lifecycle_id", "stack_tag", "events", "patch_component", "patch_change_description",
             "semver_bump_type")
    lifecycle_id = lifecycle_id_of(options)
    events = patch_events(options.events)
    component = load_component(options.patch_component or "")
    body = {
        "lifecycle_id": lifecycle_id, "stack_tag": options.stack_tag, "owner": options.owner,
        "commit_ref": options.commit_ref or git_head(cwd), "notifications": _notifications(options), "events": events,
        "patch_component_url": f"s3://{_PLACEHOLDER_BUCKET}/{component.s3_key(lifecycle_id)}",
        "patch_change_description": options.patch_change_description, "semver_bump_type": options.semver_bump_type,
        "properties": parse_properties(options.properties),
    }
    return Plan("AMI_PATCH", "POST", "/ami-patch/lifecycles", OPERATOR, validated(CreatePatchRequest, body),
                kind=PATCH, lifecycle_id=lifecycle_id, component=component)


def _verdict(options: Options, env: Mapping[str, str], cwd: Path) -> Plan:
    if options.operation == "AMI_QA_CERTIFICATION":
        _require(options, *_IDENTIFY, "certification_status")
        lifecycle_id = lifecycle_id_of(options)
        body = {"lifecycle_id": lifecycle_id, "stack_tag": options.stack_tag,
                "certification_status": options.certification_status,
                "properties": parse_properties(options.properties)}
        return Plan("AMI_QA_CERTIFICATION", "POST", f"/ami-creation/lifecycles/{lifecycle_id}/certify", QA,
                    validated(CertifyRequest, body), lifecycle_id=lifecycle_id)
    creation = options.operation == "AMI_APPROVAL_CREATE"
    status_field = "approval_status_creation" if creation else "approval_status_patch"
    _require(options, *_IDENTIFY, status_field)
    lifecycle_id, notes = lifecycle_id_of(options), []
    body = {
        "lifecycle_id": lifecycle_id, "stack_tag": options.stack_tag,
        "approval_status": _approval(getattr(options, status_field), notes, FLAGS[status_field]),
        "approver": default_approver(options, env, cwd), "properties": parse_properties(options.properties),
    }
    kind = CREATION if creation else PATCH
    return Plan(options.operation or "", "POST", f"/{kind}/lifecycles/{lifecycle_id}/approve", APPROVER,
                validated(ApproveRequest, body), kind=kind, lifecycle_id=lifecycle_id, notes=notes)


def _read(options: Options) -> Plan:
    operation = options.operation or ""
    if operation == "AMI_GET_STATUS_BY_LIFECYCLE_ID":
        _require(options, "lifecycle_id")
        lifecycle_id = lifecycle_id_of(options)
        return Plan(operation, "GET", f"/{options.lifecycle_type}/lifecycles/{lifecycle_id}/status", OPERATOR,
                    kind=options.lifecycle_type, lifecycle_id=lifecycle_id)
    if operation == "AMI_GET_STATUSES":
        _require(options, "stack_tag")
        return Plan(operation, "GET", f"/{options.lifecycle_type}/lifecycles/status", OPERATOR, kind=options.lifecycle_type,
                    query={"stack_tag": stack_tag_of(options), "limit": str(STATUS_PAGE_LIMIT)})
    if operation == "AMI_DASHBOARD":
        _require(options, "stack_tag")
        return Plan(operation, "GET", f"/ami-fleet/{stack_tag_of(options)}/dashboard-link", OPERATOR)
    _require(options, "lifecycle_id")
    lifecycle_id = lifecycle_id_of(options)
    if operation == "AMI_QA_EXPORT_LINK":
        return Plan(operation, "GET", f"/ami-creation/lifecycles/{lifecycle_id}/export-link", QA,
                    lifecycle_id=lifecycle_id)
    kind = CREATION if operation == "AMI_TIMELINE_CREATE" else PATCH
    return Plan(operation, "GET", f"/{kind}/lifecycles/{lifecycle_id}/timeline-link", OPERATOR, kind=kind,
                lifecycle_id=lifecycle_id)


def plan(options: Options, *, env: Mapping[str, str], cwd: Path) -> Plan:
    """Check everything that can be checked here; UsageError when the input is wrong (nothing is sent)."""
    operation = options.operation
    if operation is None:
        raise UsageError("BATCH mode needs --operation")
    if options.wait and operation not in WAITABLE:
        raise UsageError(f"--wait does not apply to {operation}")
    if operation == "AMI_CREATE":
        return _create(options, cwd)
    if operation in ("AMI_CREATE_UPDATE", "AMI_PATCH_UPDATE"):
        return _update(options)
    if operation == "AMI_PATCH":
        return _patch(options, cwd)
    if operation in ("AMI_QA_CERTIFICATION", "AMI_APPROVAL_CREATE", "AMI_APPROVAL_PATCH"):
        return _verdict(options, env, cwd)
    return _read(options)
