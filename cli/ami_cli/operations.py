"""The operations: check the input, then (and only then) call the API and print the result.

`plan` turns options into one HTTP request, validated with the API's own request models
(lambdas/domain/requests.py), so a request the API would refuse for its shape is refused here with
exit code 2 and nothing sent. `execute` uploads the patch component if there is one, sends the request
and prints the result; `--wait` then follows the lifecycle (wait.py).
"""

from __future__ import annotations

import getpass
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

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
from .errors import CliError, UsageError
from .http import ApiClient
from .options import (
    Options,
    creation_events,
    parse_notification,
    parse_properties,
    patch_events,
    update_events,
    validation_message,
)
from .target import Target

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
MAX_STATUS_PAGES = 100
_PLACEHOLDER_BUCKET = "ami-lc-bucket-checked-later"
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


@dataclass
class Session:
    """What operations share during one run (one API client, the keys read once)."""

    target: Target
    out: TextIO
    err: TextIO
    env: Mapping[str, str] = field(default_factory=lambda: os.environ)
    cwd: Path = field(default_factory=Path.cwd)
    sleep: Callable[[float], None] | None = None
    clock: Callable[[], float] | None = None
    _api: ApiClient | None = None

    @property
    def api(self) -> ApiClient:
        if self._api is None:
            self._api = ApiClient(self.target.endpoint())
        return self._api

    def note(self, message: str) -> None:
        print(f"api-cli: {message}", file=self.err)


# ----- configuration file (defaults for UI mode and the approver name) ---------------------------


def load_config(path: str | None, cwd: Path) -> dict[str, Any]:
    """cli-config.json: {"owner", "notifications", "properties", "stackTag"}; notifications are
    {"method", "target"} objects or "METHOD::TARGET" strings."""
    config_path = Path(path).expanduser() if path else cwd / "cli-config.json"
    if not path and not config_path.is_file():
        return {}
    try:
        data = json.loads(config_path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"--config {config_path}: cannot read the file: {exc.strerror or exc}") from exc
    except ValueError as exc:
        raise UsageError(f"--config {config_path}: not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise UsageError(f"--config {config_path}: must be a JSON object")
    return data


def config_notifications(config: Mapping[str, Any]) -> list[str]:
    result = []
    for item in config.get("notifications") or []:
        if isinstance(item, dict):
            result.append(f"{item.get('method', '')}::{item.get('target', '')}")
        else:
            result.append(str(item))
    return result


def config_properties(config: Mapping[str, Any]) -> list[str]:
    properties = config.get("properties") or {}
    return [f"{key}::{value}" for key, value in properties.items()] if isinstance(properties, dict) else []


# ----- planning (no I/O but reading the component file and git) ------------------------------------


def _require(options: Options, *names: str) -> None:
    missing = [FLAGS[name] for name in names if not getattr(options, name)]
    if missing:
        raise UsageError(f"{options.operation} needs {', '.join(missing)}")


def lifecycle_id_of(options: Options) -> str:
    value = (options.lifecycle_id or "").strip().lower()
    try:
        return _LIFECYCLE_ID.validate_python(value)
    except ValidationError as exc:
        raise UsageError(
            f"--lifecycleId '{options.lifecycle_id}' is not a lifecycle id (a UUID such as "
            "2b4c443f-44fe-442f-a233-32fb5dac5e2c)"
        ) from exc


def _validated(model: type[BaseModel], body: dict[str, Any]) -> dict[str, Any]:
    try:
        request = model.model_validate(body)
    except ValidationError as exc:
        error = exc.errors()[0]
        location = [str(part) for part in error.get("loc", ())]
        flag = FLAGS.get(location[0], location[0]) if location else "request"
        raise UsageError(f"{flag}: {validation_message(exc)}") from exc
    return request.model_dump(mode="json", exclude_none=True)


def _commit_ref(options: Options, cwd: Path) -> str | None:
    return options.commit_ref if options.commit_ref else git_head(cwd)


def _approval(options: Options, value: str | None, notes: list[str], flag: str) -> str:
    if value == "FAILED":
        notes.append(f"{flag} FAILED is the original CLI's word for NOT_APPROVED: sending NOT_APPROVED")
        return "NOT_APPROVED"
    return value or ""


def default_approver(options: Options, env: Mapping[str, str], cwd: Path) -> str:
    if options.approver:
        return options.approver
    owner = load_config(options.config, cwd).get("owner")
    if isinstance(owner, str) and owner.strip():
        return owner.strip()
    name = env.get("USER") or env.get("USERNAME")
    if not name:
        try:
            name = getpass.getuser()
        except (KeyError, OSError):
            name = ""
    if not name:
        raise UsageError(f"{options.operation} needs --approver (no cli-config.json owner and no $USER)")
    return name


def plan(options: Options, *, env: Mapping[str, str], cwd: Path) -> Plan:
    """Check everything that can be checked here; UsageError when the input is wrong (nothing is sent)."""
    operation = options.operation
    if operation is None:
        raise UsageError("BATCH mode needs --operation")
    notes: list[str] = []
    properties = parse_properties(options.properties)
    if options.wait and operation not in WAITABLE:
        raise UsageError(f"--wait does not apply to {operation}")

    if operation == "AMI_CREATE":
        _require(options, "stack_tag", "owner", "product_name", "product_ver", "notifications", "events")
        events = creation_events(options.events)
        body = {
            "stack_tag": options.stack_tag,
            "owner": options.owner,
            "product_name": options.product_name,
            "product_ver": options.product_ver,
            "commit_ref": _commit_ref(options, cwd),
            "notifications": [parse_notification(item) for item in options.notifications],
            "events": events,
            "properties": properties,
        }
        return Plan(operation, "POST", "/ami-creation/lifecycles", OPERATOR, _validated(CreateLifecycleRequest, body),
                    notes=notes)

    if operation in ("AMI_CREATE_UPDATE", "AMI_PATCH_UPDATE"):
        _require(options, "lifecycle_id", "stack_tag")
        lifecycle_id = lifecycle_id_of(options)
        body = {
            "lifecycle_id": lifecycle_id,
            "stack_tag": options.stack_tag,
            "owner": options.owner,
            "notifications": [parse_notification(item) for item in options.notifications] or None,
            "events": update_events(operation, options.events),
            "properties": properties,
        }
        creation = operation == "AMI_CREATE_UPDATE"
        model = UpdateLifecycleRequest if creation else UpdatePatchRequest
        return Plan(operation, "PUT", f"/{CREATION if creation else PATCH}/lifecycles", OPERATOR,
                    _validated(model, body), kind=CREATION if creation else PATCH, lifecycle_id=lifecycle_id,
                    notes=notes)

    if operation == "AMI_PATCH":
        _require(options, "lifecycle_id", "stack_tag", "owner", "notifications", "events", "patch_component",
                 "patch_change_description", "semver_bump_type")
        lifecycle_id = lifecycle_id_of(options)
        events = patch_events(options.events)
        notifications = [parse_notification(item) for item in options.notifications]
        component = load_component(options.patch_component or "")
        body = {
            "lifecycle_id": lifecycle_id,
            "stack_tag": options.stack_tag,
            "owner": options.owner,
            "commit_ref": _commit_ref(options, cwd),
            "notifications": notifications,
            "events": events,
            "patch_component_url": f"s3://{_PLACEHOLDER_BUCKET}/{component.s3_key(lifecycle_id)}",
            "patch_change_description": options.patch_change_description,
            "semver_bump_type": options.semver_bump_type,
            "properties": properties,
        }
        return Plan(operation, "POST", "/ami-patch/lifecycles", OPERATOR, _validated(CreatePatchRequest, body),
                    kind=PATCH, lifecycle_id=lifecycle_id, component=component, notes=notes)

    if operation == "AMI_GET_STATUS_BY_LIFECYCLE_ID":
        _require(options, "lifecycle_id")
        lifecycle_id = lifecycle_id_of(options)
        return Plan(operation, "GET", f"/{options.lifecycle_type}/lifecycles/{lifecycle_id}/status", OPERATOR,
                    kind=options.lifecycle_type, lifecycle_id=lifecycle_id, notes=notes)

    if operation == "AMI_GET_STATUSES":
        _require(options, "stack_tag")
        try:
            stack_tag = _STACK_TAG.validate_python(options.stack_tag)
        except ValidationError as exc:
            raise UsageError(f"--stackTag: {validation_message(exc)}") from exc
        return Plan(operation, "GET", f"/{options.lifecycle_type}/lifecycles/status", OPERATOR,
                    query={"stack_tag": stack_tag, "limit": str(STATUS_PAGE_LIMIT)}, notes=notes)

    if operation in ("AMI_TIMELINE_CREATE", "AMI_TIMELINE_PATCH"):
        _require(options, "lifecycle_id")
        prefix = CREATION if operation == "AMI_TIMELINE_CREATE" else PATCH
        return Plan(operation, "GET", f"/{prefix}/lifecycles/{lifecycle_id_of(options)}/timeline-link", OPERATOR,
                    notes=notes)

    if operation == "AMI_QA_EXPORT_LINK":
        _require(options, "lifecycle_id")
        path = f"/ami-creation/lifecycles/{lifecycle_id_of(options)}/export-link"
        return Plan(operation, "GET", path, QA, notes=notes)

    if operation == "AMI_QA_CERTIFICATION":
        _require(options, "lifecycle_id", "stack_tag", "certification_status")
        lifecycle_id = lifecycle_id_of(options)
        body = {
            "lifecycle_id": lifecycle_id,
            "stack_tag": options.stack_tag,
            "certification_status": options.certification_status,
            "properties": properties,
        }
        return Plan(operation, "POST", f"/ami-creation/lifecycles/{lifecycle_id}/certify", QA,
                    _validated(CertifyRequest, body), lifecycle_id=lifecycle_id, notes=notes)

    if operation in ("AMI_APPROVAL_CREATE", "AMI_APPROVAL_PATCH"):
        creation = operation == "AMI_APPROVAL_CREATE"
        status_field = "approval_status_creation" if creation else "approval_status_patch"
        _require(options, "lifecycle_id", "stack_tag", status_field)
        lifecycle_id = lifecycle_id_of(options)
        body = {
            "lifecycle_id": lifecycle_id,
            "stack_tag": options.stack_tag,
            "approval_status": _approval(options, getattr(options, status_field), notes, FLAGS[status_field]),
            "approver": default_approver(options, env, cwd),
            "properties": properties,
        }
        kind = CREATION if creation else PATCH
        return Plan(operation, "POST", f"/{kind}/lifecycles/{lifecycle_id}/approve", APPROVER,
                    _validated(ApproveRequest, body), kind=kind, lifecycle_id=lifecycle_id, notes=notes)

    raise UsageError(f"unknown operation '{operation}'")


WAITABLE = frozenset({
    "AMI_CREATE", "AMI_CREATE_UPDATE", "AMI_PATCH", "AMI_PATCH_UPDATE", "AMI_APPROVAL_CREATE", "AMI_APPROVAL_PATCH",
    "AMI_QA_CERTIFICATION", "AMI_GET_STATUS_BY_LIFECYCLE_ID",
})


# ----- execution -----------------------------------------------------------------------------------


def _upload(session: Session, plan_: Plan) -> None:
    from botocore.exceptions import BotoCoreError, ClientError

    component = plan_.component
    assert component is not None and plan_.body is not None and plan_.lifecycle_id is not None
    bucket = session.target.patch_bucket()
    key = component.s3_key(plan_.lifecycle_id)
    try:
        session.target.client("s3").put_object(
            Bucket=bucket, Key=key, Body=component.data, ContentType="application/x-yaml"
        )
    except (BotoCoreError, ClientError) as exc:
        raise CliError(f"cannot upload {component.path} to s3://{bucket}/{key}: {exc}") from exc
    plan_.body = _validated(CreatePatchRequest, {**plan_.body, "patch_component_url": f"s3://{bucket}/{key}"})
    session.note(f"uploaded {component.path} to s3://{bucket}/{key}")


def _statuses(session: Session, plan_: Plan, key: str) -> dict[str, Any]:
    items: list[Any] = []
    query = dict(plan_.query or {})
    for _ in range(MAX_STATUS_PAGES):
        page = session.api.call("GET", plan_.path, key=key, query=query).body
        items.extend(page.get("items") or [])
        token = page.get("next_token")
        if not token:
            return {"items": items, "next_token": None}
        query["next_token"] = token
    session.note(f"stopped after {MAX_STATUS_PAGES} pages; pass the next_token to read more")
    return {"items": items, "next_token": query.get("next_token")}


def execute(options: Options, session: Session) -> int:
    """Run one operation; returns the exit code (raises CliError for failures)."""
    from .wait import follow

    plan_ = plan(options, env=session.env, cwd=session.cwd)
    for message in plan_.notes:
        session.note(message)
    key = session.target.key(plan_.role)
    session.api  # resolve the endpoint before anything is uploaded  # noqa: B018
    if plan_.component is not None:
        _upload(session, plan_)
    if plan_.operation == "AMI_GET_STATUSES":
        result: Any = _statuses(session, plan_, key)
    else:
        result = session.api.call(plan_.method, plan_.path, key=key, body=plan_.body, query=plan_.query).body

    if options.wait:
        lifecycle_id = plan_.lifecycle_id or (result or {}).get("lifecycle_id")
        patch_number = (result or {}).get("patch_number") if plan_.operation == "AMI_PATCH" else None
        if options.output == "text":
            _print_result(session, plan_, result)
        return follow(session, lifecycle_id, plan_.kind, timeout=options.timeout, patch_number=patch_number,
                      output=options.output, operator_key=session.target.key(OPERATOR))
    if options.output == "json":
        print(json.dumps(_json_result(session, plan_, result), indent=2), file=session.out)
    else:
        _print_result(session, plan_, result)
    return 0


def _link(session: Session, result: Any) -> dict[str, Any]:
    path = result.get("path") if isinstance(result, dict) else None
    if not isinstance(path, str) or not path.startswith("/"):
        raise CliError(f"unexpected timeline-link response: {json.dumps(result)[:200]}")
    return {"url": session.api.endpoint + path, "expires_at": result.get("expires_at")}


def _json_result(session: Session, plan_: Plan, result: Any) -> Any:
    if plan_.operation in ("AMI_TIMELINE_CREATE", "AMI_TIMELINE_PATCH"):
        return _link(session, result)
    return result


def _print_result(session: Session, plan_: Plan, result: Any) -> None:
    out = session.out
    operation = plan_.operation
    if operation in ("AMI_TIMELINE_CREATE", "AMI_TIMELINE_PATCH"):
        link = _link(session, result)
        print(f"Timeline: {link['url']}", file=out)
        print(f"Expires:  {link['expires_at']}", file=out)
    elif operation == "AMI_QA_EXPORT_LINK" and isinstance(result, dict) and isinstance(result.get("url"), str):
        print(f"Download: {result['url']}", file=out)
        if result.get("expires_at"):
            print(f"Expires:  {result['expires_at']}", file=out)
    elif operation in ("AMI_CREATE", "AMI_CREATE_UPDATE", "AMI_PATCH", "AMI_PATCH_UPDATE") and isinstance(result, dict):
        run = f" patch run {result['patch_number']}" if result.get("patch_number") else ""
        started = f"{result['event_started']} started" if result.get("event_started") else "no event started"
        print(f"Lifecycle {result.get('lifecycle_id')}{run} ({result.get('lifecycle_type')}, semver "
              f"{result.get('semver')}): {started}.", file=out)
        kind = " --lifecycleType ami-patch" if result.get("lifecycle_type") == PATCH else ""
        print(f"Follow it: api-cli --operation AMI_GET_STATUS_BY_LIFECYCLE_ID --lifecycleId "
              f"{result.get('lifecycle_id')}{kind} --wait", file=out)
    elif operation in ("AMI_QA_CERTIFICATION", "AMI_APPROVAL_CREATE", "AMI_APPROVAL_PATCH") and isinstance(
            result, dict):
        date = f" ({result['status_date']})" if result.get("status_date") else ""
        print(f"Lifecycle {result.get('lifecycle_id')}: {result.get('event')} {result.get('status')}{date}.", file=out)
    else:
        print(json.dumps(result, indent=2) if not isinstance(result, str) else result, file=out)
