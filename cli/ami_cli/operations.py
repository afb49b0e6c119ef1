"""The operations: check the input, then (and only then) call the API and print the result.

`plan` (plan.py) turns options into one request and refuses what the API would refuse for its shape;
a stack tag no deployment serves is refused too. AMI_PATCH asks the API first (a dry run) and
uploads the component only when the patch would be accepted; if the real request is refused anyway
(a race), the upload is removed again. `--wait` then follows the lifecycle (wait.py).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from lambdas.domain.cli_commands import CLI_PROGRAM
from lambdas.domain.requests import CreatePatchRequest

from . import render
from .config import load_config
from .errors import ApiError, CliError, UsageError
from .http import ApiClient
from .options import Options
from .plan import LINKS, OPERATOR, Plan, plan, stack_tag_of, validated, with_defaults
from .target import Target

MAX_STATUS_PAGES = 100
VERDICTS = ("AMI_QA_CERTIFICATION", "AMI_APPROVAL_CREATE", "AMI_APPROVAL_PATCH")
ACCEPTED = ("AMI_CREATE", "AMI_CREATE_UPDATE", "AMI_PATCH", "AMI_PATCH_UPDATE")
NEEDS_STACK_TAG = frozenset({*ACCEPTED, *VERDICTS, "AMI_GET_STATUSES", "AMI_DASHBOARD"})


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
    program: str = CLI_PROGRAM  # how printed commands name this CLI (main.py)
    last_lifecycle: str | None = None  # the lifecycle the last operation named or created (UI default)
    _api: ApiClient | None = None

    @property
    def api(self) -> ApiClient:
        if self._api is None:
            self._api = ApiClient(self.target.endpoint())
        return self._api

    def note(self, message: str) -> None:
        print(f"api-cli: {message}", file=self.err)

    def show(self, lines: list[str]) -> None:
        print("\n".join(lines), file=self.out)


def prepare(options: Options, session: Session) -> tuple[Options, Plan]:
    """Defaults filled in, the request planned and its stack tag checked: nothing is sent yet."""
    if options.operation in NEEDS_STACK_TAG:
        options = with_defaults(options, load_config(options.config, session.cwd), session.target.default_stack_tag)
    planned = plan(options, env=session.env, cwd=session.cwd)
    if options.operation in NEEDS_STACK_TAG:
        session.target.check_stack_tag(stack_tag_of(options))
    return options, planned


def execute(options: Options, session: Session) -> int:
    """Run one operation; returns the exit code (raises CliError for failures)."""
    from .wait import follow

    options, plan_ = prepare(options, session)
    if options.output == "id" and plan_.operation in ("AMI_GET_STATUSES", "AMI_DASHBOARD"):
        raise UsageError(f"--output id applies to operations on one lifecycle, not {plan_.operation}")
    for message in plan_.notes:
        session.note(message)
    key = session.target.key(plan_.role)
    session.api  # resolve the endpoint before anything is uploaded  # noqa: B018
    if plan_.component is not None:
        result: Any = _patch(session, plan_, key)
    elif plan_.operation == "AMI_GET_STATUSES":
        result = _statuses(session, plan_, key)
    else:
        result = session.api.call(plan_.method, plan_.path, key=key, body=plan_.body, query=plan_.query).body

    session.last_lifecycle = plan_.lifecycle_id or (result.get("lifecycle_id") if isinstance(result, dict) else None)
    if options.output == "id":
        print(session.last_lifecycle, file=session.out)  # before --wait: a script has it even on failure
    elif options.output == "json" and not options.wait:
        print(json.dumps(_json_result(session, plan_, result), indent=2), file=session.out)
    elif options.output == "text" and (lines := _text(session, options, plan_, result)):
        session.show(lines)
    if options.wait:
        patch_number = (result or {}).get("patch_number") if plan_.operation == "AMI_PATCH" else None
        return follow(session, session.last_lifecycle, plan_.kind, timeout=options.timeout, patch_number=patch_number,
                      output=options.output, operator_key=session.target.key(OPERATOR))
    return 0


# ----- AMI_PATCH: ask, upload, create (and clean up a refused upload) --------------------------------


def _patch(session: Session, plan_: Plan, key: str) -> Any:
    from botocore.exceptions import BotoCoreError, ClientError

    component, lifecycle_id = plan_.component, plan_.lifecycle_id
    assert component is not None and plan_.body is not None and lifecycle_id is not None
    bucket, object_key = session.target.patch_bucket(), component.s3_key(lifecycle_id)
    url = f"s3://{bucket}/{object_key}"
    body = validated(CreatePatchRequest, {**plan_.body, "patch_component_url": url})
    # Refused here (404, 409, 400...) means nothing was uploaded.
    session.api.call("POST", plan_.path, key=key, body=body, query={"dry_run": "true"})
    s3 = session.target.client("s3")
    try:
        uploaded = not _exists(s3, bucket, object_key)
        if uploaded:
            s3.put_object(Bucket=bucket, Key=object_key, Body=component.data, ContentType="application/x-yaml")
    except (BotoCoreError, ClientError) as exc:
        raise CliError(f"cannot upload {component.path} to {url}: {exc}") from exc
    session.note(f"uploaded {component.path} to {url}" if uploaded else f"{url} holds this document already")
    try:
        return session.api.call("POST", plan_.path, key=key, body=body).body
    except ApiError:
        if uploaded:
            s3.delete_object(Bucket=bucket, Key=object_key)
            session.note(f"the patch was refused: removed {url} again")
        raise


def _exists(s3: Any, bucket: str, key: str) -> bool:
    from botocore.exceptions import ClientError

    try:
        s3.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return False
        raise
    return True


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


# ----- output ----------------------------------------------------------------------------------------


def _link(session: Session, result: Any) -> dict[str, Any]:
    path = result.get("path") if isinstance(result, dict) else None
    if not isinstance(path, str) or not path.startswith("/"):
        raise CliError(f"unexpected link response: {json.dumps(result)[:200]}")
    return {"url": session.api.endpoint + path, "expires_at": result.get("expires_at")}


def _json_result(session: Session, plan_: Plan, result: Any) -> Any:
    return _link(session, result) if plan_.operation in LINKS else result


def _text(session: Session, options: Options, plan_: Plan, result: Any) -> list[str]:
    operation, program, tag = plan_.operation, session.program, options.stack_tag or ""
    if operation in LINKS:
        link = _link(session, result)
        return render.link_lines(LINKS[operation], link["url"], link["expires_at"])
    if not isinstance(result, dict):
        return [str(result)]
    if operation == "AMI_QA_EXPORT_LINK":
        return render.link_lines("Download", str(result.get("url")), result.get("expires_at"))
    if operation in ACCEPTED:
        return render.accepted_lines(result, tag, program)
    if operation in VERDICTS:
        return render.verdict_lines(result, tag, plan_.kind, program)
    if operation == "AMI_GET_STATUSES":
        return render.list_lines(result.get("items") or [], tag, options.lifecycle_type)
    if options.wait:
        return []  # the wait prints the lifecycle when it ends
    return render.status_lines(result, plan_.kind, program)
