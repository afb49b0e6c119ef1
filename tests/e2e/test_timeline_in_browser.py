"""A real headless Chromium opens timeline pages through the local API gateway, as a person would,
and reads what the page shows: in flight (updating live, without a reload), failed and retried,
in production, and a patch run. A screenshot of each is saved (conftest.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from local.api_gateway import ApiGateway
from tests.support.aws import API_KEY_IDS, API_KEY_VALUES
from tests.support.calls import call_api
from tests.support.flow import Flow

pytestmark = pytest.mark.slow

TIME = r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}"
PYTHON_LITERALS = re.compile(r"\b(True|False|None)\b|\[\]|\{\}|\{'|': ")


@pytest.fixture
def gateway(deployment: Any) -> Iterator[ApiGateway]:
    key_ids = {API_KEY_VALUES[role]: key_id for role, key_id in API_KEY_IDS.items()}
    with ApiGateway(key_ids=key_ids) as running:
        yield running


def _open(browser: Any, gateway: ApiGateway, lifecycle_id: str, kind: str = "ami-creation") -> None:
    link = call_api("GET", f"/{kind}/lifecycles/{lifecycle_id}/timeline-link").json()["path"]
    browser.get(f"{gateway.url}{link}")


def _text(browser: Any, css: str = "#app") -> str:
    from selenium.webdriver.common.by import By

    return browser.find_element(By.CSS_SELECTOR, css).text


def _event(browser: Any, name: str) -> Any:
    from selenium.webdriver.common.by import By

    return browser.find_element(By.CSS_SELECTOR, f'[data-event="{name}"]')


def _assert_reads_like_a_person_wrote_it(text: str) -> None:
    assert not PYTHON_LITERALS.search(text), PYTHON_LITERALS.search(text)
    assert "image_builder." not in text and "+00:00" not in text and not re.search(r"\d\.\d{6}", text)
    assert "Times are shown in America/New_York (UTC-05:00)." in text
    for stamp in re.findall(r"\d{4}-\d{2}-\d{2}[ T][\d:.]+\S*", text):
        assert re.fullmatch(TIME, stamp.strip()), f"a time not in the page's one format: {stamp!r}"


def test_a_lifecycle_in_flight_shows_progress_and_durations_and_updates_live(
        deployment, gateway, browser, screenshot, console_errors) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    flow = Flow(deployment)
    lifecycle_id = flow.create(("BUILD_AMI", "SMOKE_TESTS_AMI_CREATE", "VULNERABILITY_SCANS_AMI_CREATE",
                                "QA_CERTIFICATION_REQUEST"))["lifecycle_id"]
    flow.finish(lifecycle_id)
    flow.finish(lifecycle_id)
    _open(browser, gateway, lifecycle_id)

    text = _text(browser)
    assert "My Product Name 1.0.0: creation lifecycle" in text
    assert "Running: Vulnerability scans (VULNERABILITY_SCANS_AMI_CREATE)" in text
    assert "2 of 6 events done" in text
    steps = _text(browser, ".steps").splitlines()
    assert steps[:4] == ["\u2713", "Build", steps[2], "\u2713"] and steps[2].startswith("done \u00b7 ")
    build = _event(browser, "BUILD_AMI").text
    assert re.search(rf"Started {TIME}\nEnded {TIME}\nDuration (<1 s|\d+ s)\n", build), build
    assert "\nAMI ami-" in build and "Image Builder image x/1.0.0/1" in build
    assert "Components hardening, cloudwatch-agent" in build
    assert "Checks 1 of 1 passed" in _event(browser, "SMOKE_TESTS_AMI_CREATE").text
    assert re.search(r"Duration (<1 s|\d+ s) so far", _event(browser, "VULNERABILITY_SCANS_AMI_CREATE").text)
    assert "not started" in _event(browser, "QA_CERTIFICATION_RESPONSE").text
    _assert_reads_like_a_person_wrote_it(text)
    browser.execute_script("window.__sameDocument = true;")  # gone if the page reloads

    with gateway.exclusive():
        flow.finish(lifecycle_id)  # the scans workflow reports its result

    WebDriverWait(browser, 20, poll_frequency=0.2).until(lambda _: "3 of 6 events done" in _text(browser))
    assert browser.execute_script("return window.__sameDocument === true;"), "the page reloaded"
    assert _event(browser, "VULNERABILITY_SCANS_AMI_CREATE").get_attribute("data-status") == "COMPLETED"
    assert "Findings 1 high" in _event(browser, "VULNERABILITY_SCANS_AMI_CREATE").text
    assert "Running: QA export (QA_CERTIFICATION_REQUEST)" in _text(browser)
    assert "Live: updated" in _text(browser, "#live")
    live = _text(browser)
    _assert_reads_like_a_person_wrote_it(live)
    screenshot("timeline-in-flight")

    # A fresh load draws exactly what the live update drew (only the running time moves on).
    _open(browser, gateway, lifecycle_id)
    fresh = _text(browser)
    assert _without_running_time(fresh) == _without_running_time(live)
    assert console_errors() == []  # the strict CSP let the page's own script run and nothing else


def _without_running_time(text: str) -> str:
    return re.sub(r"(<1 s|\d+ (s|min))( \d+ s)? so far", "…", text)


def test_a_failed_and_retried_event_shows_each_attempt_and_the_retry_command(
        deployment, gateway, browser, screenshot) -> None:
    flow = Flow(deployment)
    lifecycle_id = flow.create(("BUILD_AMI", "SMOKE_TESTS_AMI_CREATE"))["lifecycle_id"]
    flow.finish(lifecycle_id)
    flow.finish(lifecycle_id, status="FAILED", reason="check sshd: root login is allowed")
    flow.update(lifecycle_id)  # retry
    flow.finish(lifecycle_id, status="ERROR", reason="Lambda.Unknown: the instance did not register with SSM")
    _open(browser, gateway, lifecycle_id)

    text = _text(browser)
    assert "ERROR: Smoke tests (SMOKE_TESTS_AMI_CREATE)" in text
    smoke = _event(browser, "SMOKE_TESTS_AMI_CREATE").text
    assert "Attempt 2 (1 earlier)" in smoke
    assert "Reason States.TaskFailed: Lambda.Unknown: the instance did not register with SSM" in smoke
    assert re.search(rf"Attempt 1: FAILED, {TIME} to {TIME} \((<1 s|\d+ s)\): check sshd: root login is allowed",
                     smoke), smoke
    next_step = _text(browser, ".next")
    assert next_step.splitlines()[-1] == (
        f"python3 cli/api-cli.py --operation AMI_CREATE_UPDATE --stackTag main --lifecycleId {lifecycle_id}")
    assert "1 of 6 events done" in text
    _assert_reads_like_a_person_wrote_it(text)
    screenshot("timeline-failed")


def test_production_compares_the_version_with_the_same_product_only(deployment, gateway, browser, screenshot) -> None:
    flow = Flow(deployment)
    lifecycle_id = flow.in_production()
    other = Flow(deployment, product_name="Other Product")
    other.built()
    other.built()  # Other Product 2.0.0 is hardened: it is not a newer "My Product Name"
    _open(browser, gateway, lifecycle_id)

    text = _text(browser)
    assert "Done: every event is completed" in text and "6 of 6 events done" in text
    assert _text(browser, '[data-field="semver"]') == (
        "1.0.0, the latest My Product Name AMI of stack tag main; in production: 1.0.0")
    assert _text(browser, '[data-field="stage"]') == "production"
    approval = _event(browser, "MARK_FOR_PRODUCTION_CREATE").text
    assert "Decision APPROVED by ana@example.com" in approval
    assert "Verdict CERTIFIED" in _event(browser, "QA_CERTIFICATION_RESPONSE").text
    assert "bash client/get_ami.sh --stackTag main --minStage production" in _text(browser, ".next")
    _assert_reads_like_a_person_wrote_it(text)
    screenshot("timeline-production")


def test_a_patch_run_shows_its_change_bump_component_and_parent(deployment, gateway, browser, screenshot) -> None:
    flow = Flow(deployment)
    lifecycle_id = flow.patched(events=("PATCH_AMI", "SMOKE_TESTS_AMI_PATCH"))
    parent = flow.status(lifecycle_id)["ami"]["ami_id"]
    flow.finish(lifecycle_id, kind="patch")
    _open(browser, gateway, lifecycle_id, "ami-patch")

    text = _text(browser)
    assert "My Product Name 1.1.0: patch run 1" in text
    patch = _text(browser, ".patch")
    assert "Change openssl CVE fix" in patch
    assert "Version bump MINOR (1.0.0 to 1.1.0)" in patch
    assert f"Component openssl.yml (s3://{deployment.patch_bucket}/patches/openssl.yml)" in patch
    assert _text(browser, '[data-field="parent_ami"]') == f"{parent} (1.0.0)"
    assert "Running: Smoke tests (SMOKE_TESTS_AMI_PATCH)" in text and "1 of 4 events done" in text
    assert "BUILD_AMI" not in text
    _assert_reads_like_a_person_wrote_it(text)
    screenshot("timeline-patch")
