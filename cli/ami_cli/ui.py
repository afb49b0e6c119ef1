"""UI mode: numbered menus and prompts on stdin/stdout (no terminal library), defaults from cli-config.json.

Every menu action fills the same `Options` as BATCH mode and runs the same `execute`, so both modes
check input and call the API identically. A field the API would refuse is asked again with the reason;
an API error is shown. Each result stays on screen until Enter brings the menu back (results are a
few lines, menus fit a 24-line terminal). The last lifecycle created or looked at is the default of
the next lifecycle prompt. End of input (Ctrl-D, or the end of a script piped to stdin) quits. The
exit code is that of the last operation run (0 if none).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TextIO

from pydantic import TypeAdapter, ValidationError

from lambdas.domain.requests import StackTag
from lambdas.domain.semver import is_semver

from .component import load_component
from .config import config_notifications, config_properties, config_text, load_config
from .errors import CliError, UsageError
from .operations import Session, execute
from .options import Options, parse_notification, validation_message
from .plan import lifecycle_id_of

_STACK_TAG = TypeAdapter(StackTag)


class EndOfInput(Exception):
    pass


class Prompter:
    def __init__(self, stdin: TextIO, out: TextIO) -> None:
        self._in, self._out = stdin, out

    def say(self, text: str = "") -> None:
        print(text, file=self._out)

    def line(self, prompt: str) -> str:
        print(prompt, end="", file=self._out, flush=True)
        answer = self._in.readline()
        if answer == "":
            raise EndOfInput
        return answer.strip()

    def choose(self, title: str, choices: list[str]) -> int:
        """The 0-based index of the chosen entry."""
        self.say()
        self.say(title)
        for number, text in enumerate(choices, start=1):
            self.say(f"  {number}) {text}")
        while True:
            answer = self.line(f"Choose [1-{len(choices)}]: ")
            if answer.isdigit() and 1 <= int(answer) <= len(choices):
                return int(answer) - 1
            self.say(f"Enter a number from 1 to {len(choices)}.")

    def ask(self, label: str, default: str | None = None, *, required: bool = True,
            check: Callable[[str], Any] | None = None) -> str | None:
        suffix = f" [{default}]" if default else ""
        while True:
            answer = self.line(f"{label}{suffix}: ") or (default or "")
            if not answer:
                if not required:
                    return None
                self.say("A value is required.")
                continue
            if check is not None:
                try:
                    check(answer)
                except (UsageError, ValueError) as exc:
                    self.say(f"Invalid: {getattr(exc, 'message', exc)}")
                    continue
            return answer

    def confirm(self, question: str, default: bool = False) -> bool:
        hint = "Y/n" if default else "y/N"
        while True:
            answer = self.line(f"{question} [{hint}]: ").lower()
            if not answer:
                return default
            if answer in ("y", "yes"):
                return True
            if answer in ("n", "no"):
                return False
            self.say("Answer y or n.")


def _check_semver(value: str) -> None:
    if not is_semver(value):
        raise UsageError("must be a semantic version MAJOR.MINOR.PATCH, e.g. 1.0.0")


def _check_stack_tag(value: str) -> None:
    try:
        _STACK_TAG.validate_python(value)
    except ValidationError as exc:
        raise UsageError(validation_message(exc)) from exc


def _check_lifecycle_id(value: str) -> None:
    lifecycle_id_of(Options(lifecycle_id=value))


def _split_notifications(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def _check_notifications(value: str) -> None:
    items = _split_notifications(value)
    if not items:
        raise UsageError("give at least one METHOD::TARGET")
    for item in items:
        parse_notification(item)


def _check_component(value: str) -> None:
    load_component(value)


class Ui:
    def __init__(self, base: Options, session: Session, stdin: TextIO) -> None:
        self.base = base
        self.session = session
        self.prompt = Prompter(stdin, session.out)
        self.config = load_config(base.config, session.cwd)
        self.stack_tag = config_text(self.config, "stackTag") or session.target.default_stack_tag()
        self.owner = config_text(self.config, "owner") or session.env.get("USER") or None
        self.notifications = ", ".join(config_notifications(self.config)) or None
        self.properties = config_properties(self.config)
        self.last_code = 0

    # ----- shared prompts -------------------------------------------------------------------------

    def _stack_tag(self) -> str:
        return self.prompt.ask("Stack tag", self.stack_tag, check=self._check_stack_tag) or ""

    def _check_stack_tag(self, value: str) -> None:
        _check_stack_tag(value)
        self.session.target.check_stack_tag(value)

    def _lifecycle(self) -> str:
        return (self.prompt.ask("Lifecycle id", self.session.last_lifecycle, check=_check_lifecycle_id) or "").lower()

    def _owner(self, inherited: bool = False) -> str | None:
        if inherited:
            return self.prompt.ask("Owner (Enter: the lifecycle's)", required=False)
        return self.prompt.ask("Owner", self.owner) or ""

    def _notifications(self, inherited: bool = False) -> list[str]:
        label = "Notifications (METHOD::TARGET[::IN_PROGRESS], comma-separated)"
        if inherited:
            answer = self.prompt.ask(f"{label} (Enter: the lifecycle's)", required=False, check=_check_notifications)
        else:
            answer = self.prompt.ask(label, self.notifications, check=_check_notifications)
        return _split_notifications(answer or "")

    def _run(self, options: Options, *, ask_wait: bool = False) -> None:
        if ask_wait and self.prompt.confirm("Wait until the events finish?"):
            options.wait = True
        if options.operation not in ("AMI_GET_STATUS_BY_LIFECYCLE_ID", "AMI_GET_STATUSES", "AMI_TIMELINE_CREATE",
                                     "AMI_TIMELINE_PATCH", "AMI_QA_EXPORT_LINK", "AMI_DASHBOARD") and not self.prompt.confirm(
                f"Send {options.operation}?", default=True):
            self.prompt.say("Cancelled.")
            return
        try:
            self.last_code = execute(options, self.session)
        except CliError as exc:
            print(f"api-cli: error: {exc.message}", file=self.session.err)
            self.last_code = exc.exit_code
        self.prompt.line("Press Enter for the menu. ")

    def _options(self, operation: str, **values: Any) -> Options:
        return self.base.copy(mode="UI", operation=operation, output="text", wait=False, **values)

    # ----- menus ----------------------------------------------------------------------------------

    def run(self) -> int:
        self.prompt.say(f"AMI lifecycle orchestrator ({self.session.target.describe()})")
        actions = [self.create, self.update, self.patch, self.continue_patch, self.utils]
        try:
            while True:
                choice = self.prompt.choose("Main menu", [
                    "Create AMI",
                    "Update AMI (run more events, or retry a FAILED/ERROR event)",
                    "Patch a production AMI",
                    "Continue AMI patching",
                    "Utils (status, timeline, QA certification, approval)",
                    "Quit",
                ])
                if choice == len(actions):
                    return self.last_code
                actions[choice]()
        except EndOfInput:
            self.prompt.say()
            return self.last_code

    def create(self) -> None:
        plans = [["AMI_BUILD_ONLY"], ["SMOKE_TESTS"], ["SMOKE_TESTS", "VULNERABILITY_SCANS"],
                 ["SMOKE_TESTS", "VULNERABILITY_SCANS", "QA_CERTIFICATION_REQUEST"]]
        choice = self.prompt.choose("Create AMI: which events?", [
            "AMI build only",
            "Build, smoke tests",
            "Build, smoke tests, vulnerability scans",
            "Build, smoke tests, vulnerability scans, QA certification request",
            "Back",
        ])
        if choice == len(plans):
            return
        options = self._options(
            "AMI_CREATE",
            events=plans[choice],
            product_name=self.prompt.ask("Product name"),
            product_ver=self.prompt.ask("Product version", check=_check_semver),
            owner=self._owner(),
            stack_tag=self._stack_tag(),
            notifications=self._notifications(),
            properties=list(self.properties),
        )
        self._run(options, ask_wait=True)

    def update(self) -> None:
        plans = [["SMOKE_TESTS"], ["SMOKE_TESTS", "VULNERABILITY_SCANS"],
                 ["SMOKE_TESTS", "VULNERABILITY_SCANS", "QA_CERTIFICATION_REQUEST"], []]
        choice = self.prompt.choose("Update AMI: run up to which event?", [
            "Smoke tests",
            "Smoke tests, vulnerability scans",
            "Smoke tests, vulnerability scans, QA certification request",
            "No new event: retry the FAILED/ERROR event",
            "Back",
        ])
        if choice == len(plans):
            return
        options = self._options("AMI_CREATE_UPDATE", events=plans[choice], lifecycle_id=self._lifecycle(),
                                stack_tag=self._stack_tag())
        self._run(options, ask_wait=True)

    def patch(self) -> None:
        plans = [["AMI_PATCH_ONLY"], ["SMOKE_TESTS"], ["SMOKE_TESTS", "VULNERABILITY_SCANS"]]
        choice = self.prompt.choose("Patch a production AMI: which events?", [
            "AMI patch only",
            "Patch, smoke tests",
            "Patch, smoke tests, vulnerability scans",
            "Back",
        ])
        if choice == len(plans):
            return
        lifecycle_id = self._lifecycle()
        stack_tag = self._stack_tag()
        component = self.prompt.ask("Patch component file (local AWSTOE .yml/.yaml document)", check=_check_component)
        description = self.prompt.ask("Change description")
        bump = ["MINOR", "PATCH"][self.prompt.choose("Semver bump", ["MINOR", "PATCH"])]
        options = self._options(
            "AMI_PATCH",
            events=plans[choice],
            lifecycle_id=lifecycle_id,
            stack_tag=stack_tag,
            owner=self._owner(inherited=True),
            notifications=self._notifications(inherited=True),
            patch_component=component,
            patch_change_description=description,
            semver_bump_type=bump,
            properties=list(self.properties),
        )
        self._run(options, ask_wait=True)

    def continue_patch(self) -> None:
        plans = [["SMOKE_TESTS"], ["SMOKE_TESTS", "VULNERABILITY_SCANS"], []]
        choice = self.prompt.choose("Continue AMI patching: run up to which event?", [
            "Smoke tests",
            "Smoke tests, vulnerability scans",
            "No new event: retry the FAILED/ERROR event",
            "Back",
        ])
        if choice == len(plans):
            return
        options = self._options("AMI_PATCH_UPDATE", events=plans[choice], lifecycle_id=self._lifecycle(),
                                stack_tag=self._stack_tag())
        self._run(options, ask_wait=True)

    def utils(self) -> None:
        choice = self.prompt.choose("Utils", [
            "Lifecycle status",
            "Lifecycle statuses of a stack tag",
            "Timeline link (creation)",
            "Timeline link (patch)",
            "QA certification (QA key)",
            "Approve or reject an AMI (creation; approver key)",
            "Approve or reject an AMI (patch; approver key)",
            "QA export download link (QA key)",
            "Follow a lifecycle until its events finish",
            "Fleet dashboard link (every product of a stack tag)",
            "Back",
        ])
        if choice == 0:
            self._run(self._options("AMI_GET_STATUS_BY_LIFECYCLE_ID", lifecycle_id=self._lifecycle(),
                                    lifecycle_type=self._lifecycle_type()))
        elif choice == 1:
            self._run(self._options("AMI_GET_STATUSES", stack_tag=self._stack_tag(),
                                    lifecycle_type=self._lifecycle_type()))
        elif choice in (2, 3):
            operation = "AMI_TIMELINE_CREATE" if choice == 2 else "AMI_TIMELINE_PATCH"
            self._run(self._options(operation, lifecycle_id=self._lifecycle()))
        elif choice == 4:
            lifecycle_id, stack_tag = self._lifecycle(), self._stack_tag()
            verdict = ["CERTIFIED", "FAILED"][self.prompt.choose("Certification", ["CERTIFIED", "FAILED"])]
            self._run(self._options("AMI_QA_CERTIFICATION", lifecycle_id=lifecycle_id, stack_tag=stack_tag,
                                    certification_status=verdict))
        elif choice in (5, 6):
            lifecycle_id, stack_tag = self._lifecycle(), self._stack_tag()
            verdict = ["APPROVED", "NOT_APPROVED"][self.prompt.choose("Decision", ["APPROVED", "NOT_APPROVED"])]
            approver = self.prompt.ask("Approver", self.base.approver or self.owner)
            field = "approval_status_creation" if choice == 5 else "approval_status_patch"
            operation = "AMI_APPROVAL_CREATE" if choice == 5 else "AMI_APPROVAL_PATCH"
            self._run(self._options(operation, lifecycle_id=lifecycle_id, stack_tag=stack_tag, approver=approver,
                                    **{field: verdict}), ask_wait=verdict == "APPROVED")
        elif choice == 7:
            self._run(self._options("AMI_QA_EXPORT_LINK", lifecycle_id=self._lifecycle()))
        elif choice == 8:
            options = self._options("AMI_GET_STATUS_BY_LIFECYCLE_ID", lifecycle_id=self._lifecycle(),
                                    lifecycle_type=self._lifecycle_type())
            options.wait = True
            self._run(options)
        elif choice == 9:
            self._run(self._options("AMI_DASHBOARD", stack_tag=self._stack_tag()))

    def _lifecycle_type(self) -> str:
        return ["ami-creation", "ami-patch"][self.prompt.choose("Lifecycle type", ["ami-creation", "ami-patch"])]


def run_ui(options: Options, session: Session, stdin: TextIO) -> int:
    return Ui(options, session, stdin).run()
