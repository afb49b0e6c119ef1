"""From a fresh clone, after `bash deploy.sh --local`, every command the tool prints runs when pasted.

A copy of the working tree (no .local-cloud; the .venv that deploy.sh would create is linked in) and a
shell whose only Python is Debian's bare /usr/bin/python3. In it: the README's walkthrough, then the
commands printed by deploy.sh, by AMI_CREATE and its --wait summary, by the QA team's notification,
by the operators' notifications and by the approval, each extracted from the output and run as is.
The same run proves the operator experience around it: no ERROR or WARNING line in the local cloud's
log, each function logging under its own service name, and one notification per event outcome per
target, addressed to real addresses.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
BARE_PYTHON = Path("/usr/bin/python3")
STEP_TIMEOUT = 240
# A command at the start of a line or after a label ("Follow it:     python3 cli/api-cli.py ...").
PRINTED = re.compile(r"(?:^[ \t]*|:[ \t]+)((?:(?:python3 cli/api-cli\.py|python3 api-cli\.py|api-cli) --|"
                     r"bash client/get_ami\.sh )[^\n]*)", re.M)

pytestmark = pytest.mark.slow


class Clone:
    def __init__(self, root: Path, home: Path) -> None:
        self.root, self.home = root, home
        # Nothing from the test process: no AWS_* and no AMI_LC_*; the tools find the cloud themselves.
        self.env = {"PATH": f"{home}/.local/bin:/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8"}

    def sh(self, script: str, *, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(["bash", "-c", "set -euo pipefail\n" + script], cwd=self.root, env=self.env,
                              capture_output=True, text=True, timeout=STEP_TIMEOUT)
        if check and done.returncode != 0:
            raise AssertionError(f"exit {done.returncode}: {script}\nstdout: {done.stdout[-4000:]}\n"
                                 f"stderr: {done.stderr[-4000:]}")
        return done

    def notifications(self) -> list[dict[str, Any]]:
        path = self.root / ".local-cloud" / "notifications.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    def log(self) -> str:
        return (self.root / ".local-cloud" / "server.log").read_text()


@pytest.fixture
def clone(tmp_path: Path) -> Any:
    if not BARE_PYTHON.exists():
        pytest.skip("needs Debian's /usr/bin/python3")
    root, home = tmp_path / "clone", tmp_path / "home"
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=REPO, check=True,
                            capture_output=True, text=True).stdout.splitlines()
    for name in listed:
        source = REPO / name
        if source.is_file():  # a file deleted in the working tree is still in the index
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, root / name)
    (root / ".venv").symlink_to(REPO / ".venv")
    home.mkdir()
    cloud = Clone(root, home)
    try:
        yield cloud
    finally:
        cloud.sh("bash deploy.sh --local --stop", check=False)


def _printed(text: str) -> list[str]:
    """The commands in a tool's output (continuation lines joined)."""
    return [match.strip() for match in PRINTED.findall(text.replace("\\\n", " "))]


def _one(commands: list[str], operation: str) -> str:
    [command] = [command for command in commands if f"--operation {operation} " in f"{command} "]
    return command


def _readme_walkthrough() -> str:
    readme = (REPO / "README.md").read_text()
    section = readme.split("\n## Using it\n", 1)[1].split("\n## ", 1)[0]
    [block] = [block for block in re.findall(r"```bash\n(.*?)```", section, re.S) if "AMI_CREATE" in block]
    # Another agent's local cloud may hold the default port: the same command on a free one.
    return block.replace("bash deploy.sh --local --background", "bash deploy.sh --local --background --port 0")


def _notified(clone: Clone, lifecycle_id: str, event: str, status: str, audience: str = "operators") -> dict:
    [note] = [note for note in clone.notifications() if note["attributes"]["lifecycle_id"] == lifecycle_id
              and note["attributes"]["event"] == event and note["attributes"]["status"] == status
              and note["attributes"]["audience"] == audience]
    return note


def test_every_printed_command_runs_as_pasted_from_a_fresh_clone(clone: Clone) -> None:
    assert "pydantic" in clone.sh("/usr/bin/python3 -c 'import pydantic' 2>&1 || true").stdout  # bare: no packages

    # ---- the README's walkthrough, verbatim (a creation, its approval, a patch and its approval)
    walkthrough = clone.sh(_readme_walkthrough())
    started = walkthrough.stdout.split("The local cloud is running", 1)[1].split("\nStop: ", 1)[0]
    assert "api-cli: error" not in walkthrough.stderr, walkthrough.stderr
    assert "Dashboard: http://127.0.0.1:" in walkthrough.stdout

    # ---- what deploy.sh printed: the AMI_CREATE it suggests, and what that prints
    suggested = _printed(started)
    created = clone.sh(_one(suggested, "AMI_CREATE"))
    lifecycle_id = re.match(r"Lifecycle ([0-9a-f-]{36}) ", created.stdout).group(1)
    printed = _printed(created.stdout)
    assert printed[0].endswith("--wait") and "AMI_GET_STATUS_BY_LIFECYCLE_ID" in printed[0]
    assert clone.sh(printed[0]).stdout.startswith(f"Lifecycle {lifecycle_id} (stack tag main)")
    link = clone.sh(_one(printed, "AMI_TIMELINE_CREATE")).stdout.split("\n")[0].removeprefix("Timeline: ")
    with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(link, timeout=30) as page:
        assert page.status == 200 and "text/html" in page.headers["Content-Type"]
    assert _one(printed, "AMI_QA_CERTIFICATION").endswith("--certificationStatus CERTIFIED")

    # ---- the QA team's message: the export link and the verdict
    qa = _printed(_notified(clone, lifecycle_id, "QA_CERTIFICATION_REQUEST", "COMPLETED", "qa")["message"])
    assert clone.sh(_one(qa, "AMI_QA_EXPORT_LINK")).stdout.startswith("Download: http")
    certify = [command for command in qa if "AMI_QA_CERTIFICATION" in command]
    assert [command.rsplit(" ", 1)[1] for command in certify] == ["CERTIFIED", "FAILED"]
    approve_printed = _printed(clone.sh(certify[0]).stdout)

    # ---- the operators' message asks for the approval; the approval says how to follow it
    approve = _one(_printed(_notified(clone, lifecycle_id, "QA_CERTIFICATION_RESPONSE", "COMPLETED")["message"]),
                   "AMI_APPROVAL_CREATE")
    assert approve_printed == [approve]
    follow = _printed(clone.sh(approve).stdout)
    assert clone.sh(_one(follow, "AMI_GET_STATUS_BY_LIFECYCLE_ID")).returncode == 0
    done = _printed(_notified(clone, lifecycle_id, "MARK_FOR_PRODUCTION_CREATE", "COMPLETED")["message"])
    ami = clone.sh(next(command for command in done if command.startswith("bash client/get_ami.sh"))).stdout.strip()
    assert re.fullmatch(r"ami-[0-9a-f]+", ami)
    for command in suggested:
        if "AMI_CREATE" not in command:
            clone.sh(command)  # the dashboard link, get_ami.sh

    # ---- api-cli on PATH, in the one step deploy.sh prints; its hints then say api-cli
    [step] = re.findall(r"one step\): (.*)$", started, re.M)
    clone.sh(step)
    hints = _printed(clone.sh("api-cli --operation AMI_CREATE --owner me --productName on-path --productVer 1.0.0 "
                              "--notifications EMAIL::me@example.com --events AMI_BUILD_ONLY").stdout)
    assert len(hints) == 2 and all(hint.startswith("api-cli --operation ") for hint in hints), hints
    clone.sh(hints[0])  # Follow it: api-cli ... --wait
    assert _printed(clone.sh(f"cd cli && python3 api-cli.py --operation AMI_TIMELINE_CREATE --lifecycleId "
                             f"{lifecycle_id}").stdout) == []

    _assert_quiet_log(clone.log())
    _assert_one_notification_per_outcome(clone.notifications())

    # ---- after --stop the CLI says so, instead of asking for an AWS region
    clone.sh("bash deploy.sh --local --stop")
    stopped = clone.sh("python3 cli/api-cli.py --operation AMI_GET_STATUSES", check=False)
    assert stopped.returncode == 1
    assert stopped.stderr.startswith("api-cli: error: the local cloud is not running; start it with: "
                                     "bash deploy.sh --local --background"), stopped.stderr


def _assert_quiet_log(log: str) -> None:
    alarming = [line for line in log.splitlines()
                if re.search(r" (ERROR|WARNING) |\"level\":\"(ERROR|WARNING)\"|Warning: ", line)]
    assert alarming == [], alarming[:5]
    services = set(re.findall(r'"service":"([a-z-]+)"', log))
    assert {"api-lifecycles", "api-approve", "creation-receiver", "patch-receiver"} <= services, services
    assert "reconciliation done" not in log and "garbage collection done" not in log  # nothing to do: DEBUG


def _assert_one_notification_per_outcome(notes: list[dict[str, Any]]) -> None:
    sent = Counter((address, note["attributes"]["lifecycle_id"], note["attributes"]["event"],
                    note["attributes"]["status"]) for note in notes for address in note["to"])
    assert sent and max(sent.values()) == 1, sent.most_common(3)
    assert all(status != "IN_PROGRESS" for _, _, _, status in sent)  # starts are not sent by default
    assert {address for address, *_ in sent} >= {"me@example.com"}  # real addresses, not hashed ids
