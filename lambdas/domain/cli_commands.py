"""The operator CLI commands that messages, pages and the CLI itself print: one way to write them.

Every printed command must run when pasted. The CLI is not installed anywhere by default, so the
printed program is `python3 cli/api-cli.py`, which works from the root of a checkout with a bare
Python (it re-executes itself with the repository's .venv); whoever linked `api-cli` onto their PATH
sees `api-cli` in the CLI's own hints instead (cli/ami_cli/main.py passes the program it was run as).
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from lambdas.domain.events import EventName

CLI_PROGRAM = "python3 cli/api-cli.py"
FROM_A_CHECKOUT = "from the root of a checkout of the orchestrator repository"
# The CLI's --events words of the events an update can switch on (the original CLI's vocabulary).
UPDATE_EVENT_WORDS: dict[EventName, str] = {
    EventName.SMOKE_TESTS_AMI_CREATE: "SMOKE_TESTS",
    EventName.VULNERABILITY_SCANS_AMI_CREATE: "VULNERABILITY_SCANS",
    EventName.QA_CERTIFICATION_REQUEST: "QA_CERTIFICATION_REQUEST",
    EventName.SMOKE_TESTS_AMI_PATCH: "SMOKE_TESTS",
    EventName.VULNERABILITY_SCANS_AMI_PATCH: "VULNERABILITY_SCANS",
}


def cli_command(operation: str, *, program: str = CLI_PROGRAM, **flags: str | int | bool | None) -> str:
    """`<program> --operation OPERATION --flag value ...`; a True flag is a switch, None is left out.

    Flags are given by their CLI names without dashes (`lifecycleId="…"`), in the order printed.
    """
    words = [program, "--operation", operation]
    for name, value in flags.items():
        if value is None or value is False:
            continue
        words.append(f"--{name}")
        if value is not True:
            words.append(shlex.quote(str(value)))
    return " ".join(words)


@dataclass(frozen=True)
class LifecycleCommands:
    """The commands about one lifecycle (or its latest patch run), written for `program`."""

    stack_tag: str | None  # None: the CLI's default, the deployment's own tag
    lifecycle_id: str
    patch: bool = False
    program: str = CLI_PROGRAM

    def _run(self, operation: str, **flags: str | None) -> str:
        return cli_command(operation, program=self.program, stackTag=self.stack_tag, lifecycleId=self.lifecycle_id,
                           **flags)

    def status(self) -> str:
        return self._run("AMI_GET_STATUS_BY_LIFECYCLE_ID", lifecycleType="ami-patch" if self.patch else None)

    def timeline(self) -> str:
        return self._run("AMI_TIMELINE_PATCH" if self.patch else "AMI_TIMELINE_CREATE")

    def approve(self) -> str:
        if self.patch:
            return self._run("AMI_APPROVAL_PATCH", approvalStatusAmiPatch="APPROVED")
        return self._run("AMI_APPROVAL_CREATE", approvalStatusAmiCreation="APPROVED")

    def export_link(self) -> str:
        return self._run("AMI_QA_EXPORT_LINK")

    def certify(self, verdict: str = "CERTIFIED") -> str:
        return self._run("AMI_QA_CERTIFICATION", certificationStatus=verdict)

    def update(self, event: EventName | None = None) -> str:
        """Run `event` next (it was not requested), or, with no event, retry the FAILED/ERROR one."""
        operation = "AMI_PATCH_UPDATE" if self.patch else "AMI_CREATE_UPDATE"
        return self._run(operation, events=UPDATE_EVENT_WORDS.get(event) if event else None)
