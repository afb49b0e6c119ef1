"""UI mode driven by a script on stdin: numbered menus, prompts with cli-config.json defaults."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.support.flow import complete_current as advance
from tests.support.flow import status


def _config(workdir: Path) -> None:
    (workdir / "cli-config.json").write_text(json.dumps({
        "owner": "cfg-owner",
        "notifications": [{"method": "EMAIL", "target": "team@example.com"}, "HTTPS::https://hooks.example.com/ami"],
        "properties": {"team": "platform"},
        "stackTag": "main",
    }))


def _lifecycle_id(out: str) -> str:
    [lifecycle_id] = re.findall(r"Lifecycle ([0-9a-f-]{36}) \(ami-creation, semver 1\.0\.0\): BUILD_AMI started\.", out)
    return lifecycle_id


def test_ui_creates_a_lifecycle_with_config_defaults_and_remembers_it(cli, workdir: Path):
    _config(workdir)
    script = "\n".join([
        "1",            # main menu: Create AMI
        "2",            # build + smoke tests
        "My Product",   # product name
        "1.0",          # product version: refused, asked again
        "1.0.0",
        "",             # owner [cfg-owner]
        "",             # stack tag [main]
        "",             # notifications [from the config]
        "n",            # wait? no
        "",             # send? [Y/n]
        "",             # press Enter for the menu
        "5", "1",       # Utils: lifecycle status
        "",             # lifecycle id [the one just created]
        "1",            # ami-creation
        "",             # press Enter for the menu
        "6",            # quit
    ]) + "\n"
    run = cli("--mode", "UI", stdin=script)
    assert run.code == 0, run.err
    assert "Invalid: must be a semantic version MAJOR.MINOR.PATCH, e.g. 1.0.0" in run.out
    assert "Owner [cfg-owner]: " in run.out and "Stack tag [main]: " in run.out
    lifecycle_id = _lifecycle_id(run.out)
    assert f"Lifecycle id [{lifecycle_id}]: " in run.out
    assert f"Lifecycle {lifecycle_id} (stack tag main)\n  Product: My Product 1.0.0 (product version 1.0.0), " \
           "owner cfg-owner\n" in run.out
    assert run.out.count("Press Enter for the menu. ") == 2
    record = status(lifecycle_id)
    assert (record["owner"], record["product_name"], record["stack_tag"]) == ("cfg-owner", "My Product", "main")
    assert record["notifications"] == [{"method": "EMAIL", "target": "team@example.com", "in_progress": False},
                                       {"method": "HTTPS", "target": "https://hooks.example.com/ami",
                                        "in_progress": False}]
    assert record["properties"] == {"team": "platform"}
    assert [e["name"] for e in record["events"] if e["enabled"]][:2] == ["BUILD_AMI", "SMOKE_TESTS_AMI_CREATE"]
    assert [(r.method, r.path) for r in run.requests] == [
        ("POST", "/api/ami-creation/lifecycles"), ("GET", f"/api/ami-creation/lifecycles/{lifecycle_id}/status")]


def test_ui_screens_fit_a_terminal(cli, deployment, workdir: Path):
    """A status screen and the menu after it fit 24 lines: the result stays in view until Enter."""
    _config(workdir)
    created = cli("--operation", "AMI_CREATE", "--productVer", "1.0.0", "--productName", "p", "--events",
                  "SMOKE_TESTS", "--events", "VULNERABILITY_SCANS", "--events", "QA_CERTIFICATION_REQUEST")
    assert created.code == 0, created.err
    lifecycle_id = _lifecycle_id(created.out)
    for _ in range(4):
        advance(deployment, lifecycle_id)
    run = cli("--mode", "UI", stdin=f"5\n1\n{lifecycle_id}\n1\n\n6\n")
    screen = run.out.split("Lifecycle type")[1].split("Press Enter for the menu.")[0].splitlines()[4:]
    assert 12 <= len(screen) <= 22, screen
    assert screen[-1].startswith("  python3 cli/api-cli.py --operation AMI_QA_CERTIFICATION --stackTag main")


def test_ui_utils_status_update_and_errors_return_to_the_menu(cli, deployment, workdir: Path):
    _config(workdir)
    created = cli("--operation", "AMI_CREATE", "--stackTag", "main", "--owner", "o", "--productVer", "1.0.0",
                  "--productName", "p", "--notifications", "EMAIL::a@example.com", "--events", "AMI_BUILD_ONLY",
                  "--output", "json")
    lifecycle_id = created.json()["lifecycle_id"]
    advance(deployment, lifecycle_id)
    unknown = "0b4c443f-44fe-442f-a233-32fb5dac5e2c"
    script = "\n".join([
        "9", "5",                           # out of range, then Utils
        "1", "zzz", lifecycle_id, "1", "",  # status: bad id asked again; ami-creation; Enter
        "2",                                # main: update AMI
        "1", "", "", "n", "", "",           # smoke tests, lifecycle [remembered], stack tag [main], no wait, send
        "5", "1", unknown, "1", "",         # status of an unknown lifecycle: API error, back to the menu
        "6",
    ]) + "\n"
    run = cli("--mode", "UI", stdin=script)
    assert run.code == 1  # the last operation's exit code
    assert "Enter a number from 1 to 6." in run.out
    assert "Invalid: --lifecycleId: 'zzz' is not a lifecycle id: a lower-case UUID such as " in run.out
    assert f"Lifecycle {lifecycle_id} (stack tag main)\n" in run.out
    assert f"Lifecycle {lifecycle_id} (ami-creation, semver 1.0.0): SMOKE_TESTS_AMI_CREATE started." in run.out
    assert run.error_lines == [f"api-cli: error: API error 404 NotFound: lifecycle {unknown} does not exist"]
    assert [(r.method, r.status) for r in run.requests] == [("GET", 200), ("PUT", 200), ("GET", 404)]


def test_ui_cancel_and_end_of_input_send_nothing(cli, workdir: Path):
    _config(workdir)
    cancelled = cli("--mode", "UI", stdin="1\n1\nP\n1.0.0\n\n\n\nn\nn\n")  # ... send? n, then end of input
    assert cancelled.code == 0 and "Cancelled." in cancelled.out
    assert cancelled.requests == []


def test_ui_with_a_broken_config_is_a_usage_error(cli, workdir: Path):
    (workdir / "cli-config.json").write_text("{not json")
    run = cli("--mode", "UI", stdin="6\n")
    assert run.code == 2 and run.requests == []
    assert run.error_lines[0].startswith(f"api-cli: error: {workdir / 'cli-config.json'}: not valid JSON")
