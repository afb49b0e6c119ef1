"""A real headless Chromium opens the fleet dashboard of a stack tag through the local API gateway and
reads it as a person would: every product's versions by stage, what is in flight, recent failures and
findings per version; it follows a change live, without a reload. A screenshot is saved."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from local.api_gateway import ApiGateway
from tests.support.aws import API_KEY_IDS, API_KEY_VALUES
from tests.support.calls import call_api
from tests.support.flow import Flow, outputs_for

pytestmark = pytest.mark.slow


@pytest.fixture
def gateway(deployment: Any) -> Iterator[ApiGateway]:
    key_ids = {API_KEY_VALUES[role]: key_id for role, key_id in API_KEY_IDS.items()}
    with ApiGateway(key_ids=key_ids) as running:
        yield running


def _text(browser: Any, css: str) -> str:
    from selenium.webdriver.common.by import By

    return browser.find_element(By.CSS_SELECTOR, css).text


def _fleet(deployment: Any) -> dict[str, str]:
    web = Flow(deployment, product_name="Web Server")
    first = web.patched(events=("PATCH_AMI", "SMOKE_TESTS_AMI_PATCH", "VULNERABILITY_SCANS_AMI_PATCH"))
    web.run_chain(first, "patch")
    web.approve(first, kind="patch")
    web.finish(first, kind="patch")  # 1.0.0 and its patch 1.1.0, both in production
    second = web.create(("BUILD_AMI", "SMOKE_TESTS_AMI_CREATE", "VULNERABILITY_SCANS_AMI_CREATE"))["lifecycle_id"]
    web.finish(second)
    web.finish(second)
    critical = {**outputs_for("VULNERABILITY_SCANS_AMI_CREATE"), "findings": {"CRITICAL": 1, "HIGH": 3},
                "gate_passed": False}
    web.finish(second, status="FAILED", outputs=critical, reason="1 CRITICAL finding (the gate allows 0)")
    database = Flow(deployment, product_name="Database").qa_requested()
    cache = Flow(deployment, product_name="Cache").create()["lifecycle_id"]
    Flow(deployment, stack_tag="release", product_name="Elsewhere").built()  # another stack tag: not shown
    return {"web": first, "web-2": second, "database": database, "cache": cache}


def test_the_fleet_dashboard_shows_every_product_by_stage_and_follows_changes(
        deployment, gateway, browser, screenshot, console_errors) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    lifecycles = _fleet(deployment)
    link = call_api("GET", "/ami-fleet/main/dashboard-link")
    assert link.status == 200, link.text
    browser.get(f"{gateway.url}{link.json()['path']}")

    assert _text(browser, "h1") == "Fleet dashboard: stack tag main"
    assert _text(browser, ".tiles").split("\n") == [
        "3", "Products", "5", "Versions", "1", "In flight", "2", "In production", "1", "Failed or rejected"]
    assert "Times are shown in America/New_York (UTC-05:00)." in _text(browser, "#app")
    web = '[data-product="Web Server"]'
    production = _text(browser, f'{web} [data-column="production"]').split("\n")
    assert production[::3] == ["1.1.0", "1.0.0"] and production[2::3] == ["patch run 1", "creation"]
    assert all(line.startswith("ami-") for line in production[1::3])
    failed = _text(browser, f'{web} [data-column="failed"]')
    assert failed.startswith("2.0.0") and "creation, failed at vulnerability scans" in failed
    assert _text(browser, f"{web} .trend") == (
        "1.0.0: 1 high \u2192 1.1.0: 1 high \u2192 2.0.0: 1 critical, 3 high")
    assert _text(browser, '[data-product="Database"] [data-column="qa"]').startswith("1.0.0")
    assert "creation, running build" in _text(browser, '[data-product="Cache"] [data-column="building"]')
    assert "Elsewhere" not in _text(browser, "#app")
    in_flight = _text(browser, ".in-flight")
    assert "Cache 1.0.0 creation Build (BUILD_AMI) 1" in in_flight
    failures = _text(browser, ".failures")
    assert "Web Server 2.0.0 (creation) Vulnerability scans (VULNERABILITY_SCANS_AMI_CREATE) FAILED " \
           "1 CRITICAL finding (the gate allows 0)" in failures
    screenshot("dashboard")
    browser.execute_script("window.__sameDocument = true;")

    with gateway.exclusive():
        Flow(deployment, product_name="Cache").finish(lifecycles["cache"])  # the build reports its result
    WebDriverWait(browser, 20, poll_frequency=0.2).until(
        lambda _: _text(browser, ".in-flight").endswith("Nothing is running."))
    assert browser.execute_script("return window.__sameDocument === true;"), "the page reloaded"
    assert _text(browser, '[data-product="Cache"] [data-column="hardened"]').startswith("1.0.0")
    assert console_errors() == []
