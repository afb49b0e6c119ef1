"""Command-line options: the original CLI's flags verbatim, plus --output, --wait and target selection.

Also the parsers of the repeatable values (METHOD::TARGET, KEY::VALUE) and the mapping of the
original `--events` words to the API's event switches.

--events rule: the API runs the automatic events of a lifecycle in order (build, smoke tests,
vulnerability scans, QA certification request) and refuses a gap, which would stall the chain. The
CLI refuses a gap too, before anything is sent, and names the missing earlier event: it does not
silently add events the user did not ask for (scans and the QA export take time and cost money).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field, fields
from typing import Any

from pydantic import ValidationError

from lambdas.domain.cli_commands import UPDATE_EVENT_WORDS
from lambdas.domain.events import AUTOMATIC_CREATION_EVENTS, AUTOMATIC_PATCH_EVENTS, EventName
from lambdas.domain.models import NotificationMethod, NotificationTarget
from lambdas.domain.requests import explain

from .errors import UsageError

OPERATIONS: tuple[str, ...] = (
    "AMI_CREATE",
    "AMI_CREATE_UPDATE",
    "AMI_GET_STATUS_BY_LIFECYCLE_ID",
    "AMI_GET_STATUSES",
    "AMI_TIMELINE_CREATE",
    "AMI_QA_CERTIFICATION",
    "AMI_APPROVAL_CREATE",
    "AMI_PATCH",
    "AMI_PATCH_UPDATE",
    "AMI_TIMELINE_PATCH",
    "AMI_APPROVAL_PATCH",
    "AMI_QA_EXPORT_LINK",
    "AMI_DASHBOARD",
)
CLI_EVENTS: tuple[str, ...] = (
    "AMI_BUILD_ONLY",
    "AMI_PATCH_ONLY",
    "SMOKE_TESTS",
    "VULNERABILITY_SCANS",
    "QA_CERTIFICATION_REQUEST",
)
CREATION_LATER: dict[str, EventName] = {
    UPDATE_EVENT_WORDS[name]: name for name in AUTOMATIC_CREATION_EVENTS if name in UPDATE_EVENT_WORDS
}
PATCH_LATER: dict[str, EventName] = {
    UPDATE_EVENT_WORDS[name]: name for name in AUTOMATIC_PATCH_EVENTS if name in UPDATE_EVENT_WORDS
}
DEFAULT_WAIT_TIMEOUT = 3600.0


@dataclass
class Options:
    """Everything an operation needs; BATCH fills it from argv, UI from prompts."""

    mode: str = "BATCH"
    operation: str | None = None
    events: list[str] = field(default_factory=list)
    stack_tag: str | None = None
    lifecycle_id: str | None = None
    owner: str | None = None
    product_ver: str | None = None
    product_name: str | None = None
    commit_ref: str | None = None
    notifications: list[str] = field(default_factory=list)
    properties: list[str] = field(default_factory=list)
    certification_status: str | None = None
    approval_status_creation: str | None = None
    approval_status_patch: str | None = None
    approver: str | None = None
    patch_component: str | None = None
    patch_change_description: str | None = None
    semver_bump_type: str | None = None
    lifecycle_type: str = "ami-creation"
    output: str = "text"
    wait: bool = False
    timeout: float = DEFAULT_WAIT_TIMEOUT
    endpoint: str | None = None
    deployment_tag: str | None = None
    region: str | None = None
    config: str | None = None

    def copy(self, **changes: Any) -> Options:
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(changes)
        return Options(**values)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, no usage dump, exit code 2
        raise UsageError(f"{message} (see --help)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="api-cli",
        allow_abbrev=False,
        description="Operate AMI lifecycles through the orchestrator API (BATCH: one operation from flags; "
        "UI: interactive menus).",
        epilog="Exit codes: 0 ok, 1 API or lifecycle failure, 2 usage error (nothing sent). The endpoint and "
        "keys come from --endpoint/AMI_LC_ENDPOINT and AMI_LC_OPERATOR_KEY/AMI_LC_QA_KEY/AMI_LC_APPROVER_KEY, "
        "else the local cloud profile (AMI_LC_PROFILE or .local-cloud/profile.json), else the deployed stack "
        "AmiLifecycle-<deployment tag> and Secrets Manager.",
    )
    upper = str.upper
    parser.add_argument("--mode", type=upper, choices=("BATCH", "UI"), default="BATCH")
    parser.add_argument("--operation", type=upper, metavar="OPERATION", help=", ".join(OPERATIONS))
    parser.add_argument("--events", type=upper, action="append", default=[], metavar="EVENT",
                        help="repeatable: " + ", ".join(CLI_EVENTS))
    parser.add_argument("--stackTag", dest="stack_tag",
                        help="default: cli-config.json's stackTag, else the deployment's (the local cloud's, or "
                        "--deploymentTag's); a tag no deployment serves is refused")
    parser.add_argument("--lifecycleId", dest="lifecycle_id")
    parser.add_argument("--owner", help="default: cli-config.json's owner (AMI_PATCH: the lifecycle's owner)")
    parser.add_argument("--productVer", dest="product_ver")
    parser.add_argument("--productName", dest="product_name")
    parser.add_argument("--commitRef", dest="commit_ref",
                        help="default for AMI_CREATE/AMI_PATCH: `git rev-parse HEAD` of the current directory")
    parser.add_argument("--notifications", action="append", default=[], metavar="METHOD::TARGET",
                        help="repeatable, e.g. EMAIL::user@example.com or HTTPS::https://hooks.example.com/ami; "
                        "each target gets every event's outcome; add ::IN_PROGRESS to also get each start. "
                        "AMI_PATCH default: the lifecycle's targets")
    parser.add_argument("--properties", action="append", default=[], metavar="KEY::VALUE", help="repeatable")
    parser.add_argument("--certificationStatus", dest="certification_status", type=upper,
                        choices=("CERTIFIED", "FAILED"))
    parser.add_argument("--approvalStatusAmiCreation", dest="approval_status_creation", type=upper,
                        choices=("APPROVED", "NOT_APPROVED", "FAILED"), help="FAILED is read as NOT_APPROVED")
    parser.add_argument("--approvalStatusAmiPatch", dest="approval_status_patch", type=upper,
                        choices=("APPROVED", "NOT_APPROVED", "FAILED"), help="FAILED is read as NOT_APPROVED")
    parser.add_argument("--approver", help="default: owner in cli-config.json, else $USER")
    parser.add_argument("--patchComponent", dest="patch_component", metavar="FILE",
                        help="local AWSTOE component document (.yml/.yaml), uploaded to the patch bucket")
    parser.add_argument("--patchChangeDescription", dest="patch_change_description")
    parser.add_argument("--semverBumpType", dest="semver_bump_type", type=upper, choices=("MINOR", "PATCH"))
    parser.add_argument("--lifecycleType", dest="lifecycle_type", type=str.lower, default="ami-creation",
                        choices=("ami-creation", "ami-patch"),
                        help="for AMI_GET_STATUS_BY_LIFECYCLE_ID and AMI_GET_STATUSES (default: ami-creation)")
    parser.add_argument("--output", type=str.lower, choices=("text", "json", "id"), default="text",
                        help="text: a summary with the next command; json: one JSON document on stdout and "
                        "nothing else; id: only the lifecycle id, e.g. ID=$(api-cli ... --output id)")
    parser.add_argument("--wait", action="store_true",
                        help="follow the lifecycle until its started events finish (progress on stderr)")
    parser.add_argument("--timeout", type=float, default=DEFAULT_WAIT_TIMEOUT, metavar="SECONDS",
                        help=f"overall limit of --wait (default {DEFAULT_WAIT_TIMEOUT:.0f})")
    parser.add_argument("--endpoint", help="API stage URL (default: AMI_LC_ENDPOINT, the profile or the stack)")
    parser.add_argument("--deploymentTag", dest="deployment_tag",
                        help="use the deployed stack AmiLifecycle-<tag> (default: the local cloud profile if "
                        "present, else $STACK_TAG or cdk.json's stackTag)")
    parser.add_argument("--region", help="AWS region of the deployment (default: AWS_REGION or the profile's)")
    parser.add_argument("--config", metavar="PATH", help="cli-config.json with defaults (default: ./cli-config.json)")
    return parser


def parse_args(argv: list[str]) -> Options:
    namespace = build_parser().parse_args(argv)
    options = Options(**vars(namespace))
    if options.operation is not None and options.operation not in OPERATIONS:
        raise UsageError(f"unknown operation '{options.operation}'; expected one of: {', '.join(OPERATIONS)}")
    for event in options.events:
        if event not in CLI_EVENTS:
            raise UsageError(f"--events: unknown event '{event}'; expected one of: {', '.join(CLI_EVENTS)}")
    if not options.timeout > 0:
        raise UsageError("--timeout must be a positive number of seconds")
    return options


# ----- values ------------------------------------------------------------------------------------


def validation_message(exc: ValidationError) -> str:
    return explain(exc.errors()[0])


IN_PROGRESS_OPTION = "IN_PROGRESS"


def parse_notification(text: str) -> dict[str, Any]:
    """METHOD::TARGET, or METHOD::TARGET::IN_PROGRESS to be told when each event starts, too."""
    method, separator, rest = text.partition("::")
    target, _, option = rest.partition("::")
    method, target, option = method.strip().upper(), target.strip(), option.strip().upper()
    if not separator or not method or not target:
        raise UsageError(f"--notifications '{text}': expected METHOD::TARGET, e.g. EMAIL::user@example.com")
    allowed = [item.value for item in NotificationMethod]
    if method not in allowed:
        raise UsageError(f"--notifications '{text}': unknown method '{method}'; expected {' or '.join(allowed)}")
    if option not in ("", IN_PROGRESS_OPTION):
        raise UsageError(f"--notifications '{text}': unknown option '{option}'; the only option is "
                         f"{IN_PROGRESS_OPTION} (also notify when each event starts)")
    try:
        NotificationTarget(method=NotificationMethod(method), target=target)
    except (ValidationError, ValueError) as exc:
        detail = validation_message(exc) if isinstance(exc, ValidationError) else str(exc)
        raise UsageError(f"--notifications '{text}': {detail}") from exc
    return {"method": method, "target": target, **({"in_progress": True} if option else {})}


def parse_properties(values: list[str]) -> dict[str, str]:
    properties: dict[str, str] = {}
    for text in values:
        key, separator, value = text.partition("::")
        key = key.strip()
        if not separator or not key:
            raise UsageError(f"--properties '{text}': expected KEY::VALUE, e.g. ticket::OPS-42")
        if key in properties:
            raise UsageError(f"--properties: key '{key}' is given twice")
        properties[key] = value.strip()
    return properties


# ----- events --------------------------------------------------------------------------------------


def _refuse_foreign(operation: str, chosen: list[str], allowed: tuple[str, ...]) -> None:
    for event in chosen:
        if event not in allowed:
            hint = {
                "AMI_BUILD_ONLY": "it belongs to AMI_CREATE",
                "AMI_PATCH_ONLY": "it belongs to AMI_PATCH",
                "QA_CERTIFICATION_REQUEST": "a patch run has no QA certification (it goes from scans to approval)",
            }.get(event, "")
            raise UsageError(
                f"--events {event} is not valid for {operation}" + (f": {hint}" if hint else "")
                + f"; expected {', '.join(allowed)}"
            )


def _check_prefix(first: str, chosen: set[str], later: dict[str, EventName]) -> None:
    order = list(later)
    for index, event in enumerate(order):
        if event in chosen:
            for earlier in order[:index]:
                if earlier not in chosen:
                    raise UsageError(
                        f"--events {event} needs --events {earlier} too: events run in order "
                        f"({', '.join([first, *order])}) and the API refuses a gap"
                    )


def _switches(first: EventName | None, chosen: set[str], later: dict[str, EventName]) -> list[dict[str, Any]]:
    switches = [{"name": first.value, "enabled": True}] if first else []
    return switches + [{"name": name.value, "enabled": word in chosen} for word, name in later.items()]


def creation_events(chosen: list[str]) -> list[dict[str, Any]]:
    """AMI_CREATE: BUILD_AMI always, plus the later events asked for (a prefix of the sequence)."""
    if not chosen:
        raise UsageError(
            "AMI_CREATE needs --events: AMI_BUILD_ONLY, or the events to run after the build "
            f"({', '.join(CREATION_LATER)})"
        )
    _refuse_foreign("AMI_CREATE", chosen, ("AMI_BUILD_ONLY", *CREATION_LATER))
    words = set(chosen)
    if "AMI_BUILD_ONLY" in words and len(words) > 1:
        raise UsageError("--events AMI_BUILD_ONLY cannot be combined with other events (the build always runs: "
                         "list only the events to run after it)")
    _check_prefix("build", words, CREATION_LATER)
    return _switches(EventName.BUILD_AMI, words, CREATION_LATER)


def patch_events(chosen: list[str]) -> list[dict[str, Any]]:
    """AMI_PATCH: PATCH_AMI always, plus the later events asked for (a prefix of the sequence)."""
    if not chosen:
        raise UsageError(
            f"AMI_PATCH needs --events: AMI_PATCH_ONLY, or the events to run after the patch ({', '.join(PATCH_LATER)})"
        )
    _refuse_foreign("AMI_PATCH", chosen, ("AMI_PATCH_ONLY", *PATCH_LATER))
    words = set(chosen)
    if "AMI_PATCH_ONLY" in words and len(words) > 1:
        raise UsageError("--events AMI_PATCH_ONLY cannot be combined with other events (the patch always runs: "
                         "list only the events to run after it)")
    _check_prefix("patch", words, PATCH_LATER)
    return _switches(EventName.PATCH_AMI, words, PATCH_LATER)


def update_events(operation: str, chosen: list[str]) -> list[dict[str, Any]]:
    """AMI_CREATE_UPDATE / AMI_PATCH_UPDATE: switch on the named events (none: retry a FAILED/ERROR one).

    Only the named events are sent (enabled): events enabled earlier stay as they are, and whether the
    result leaves a gap depends on the lifecycle's state, which the API checks.
    """
    later = CREATION_LATER if operation == "AMI_CREATE_UPDATE" else PATCH_LATER
    for event in chosen:
        if event in ("AMI_BUILD_ONLY", "AMI_PATCH_ONLY"):
            raise UsageError(
                f"--events {event} is not valid for {operation}: the "
                f"{'build' if event == 'AMI_BUILD_ONLY' else 'patch'} already ran; to retry a FAILED or ERROR "
                "event, run the update without --events"
            )
    _refuse_foreign(operation, chosen, tuple(later))
    words = set(chosen)
    return [{"name": name.value, "enabled": True} for word, name in later.items() if word in words]
