"""A real headless Chromium opens the timeline page of a lifecycle in flight through the local API
gateway and sees an event change state without a reload."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from local.api_gateway import ApiGateway
from tests.support.aws import API_KEY_IDS, API_KEY_VALUES
from tests.support.calls import call_api
from tests.support.flow import complete_current, create

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage", "--window-size=1200,1400")

pytestmark = pytest.mark.slow


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[object]:
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver):
        if os.environ.get("CI"):
            pytest.fail("CI must have Debian's chromium and chromium-driver (tests/run.sh installs them)")
        pytest.skip("chromium/chromedriver not installed (tests/run.sh installs them when run as root)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'profile'}")
    session = webdriver.Chrome(service=Service(executable_path=driver), options=options)
    session.set_page_load_timeout(30)
    try:
        yield session
    finally:
        session.quit()


def test_the_timeline_updates_live_in_a_real_browser(deployment, browser) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    lifecycle_id = create(deployment)
    key_ids = {API_KEY_VALUES[role]: key_id for role, key_id in API_KEY_IDS.items()}
    with ApiGateway(key_ids=key_ids) as gateway:
        link = call_api("GET", f"/ami-creation/lifecycles/{lifecycle_id}/timeline-link").json()["path"]
        browser.get(f"{gateway.url}{link}")

        def build_status() -> str:
            return browser.find_element(By.CSS_SELECTOR, '[data-event="BUILD_AMI"]').get_attribute("data-status")

        assert build_status() == "IN_PROGRESS"
        browser.execute_script("window.__sameDocument = true;")  # gone if the page reloads

        with gateway.exclusive():
            complete_current(deployment, lifecycle_id)  # the build workflow reports its result

        WebDriverWait(browser, 20, poll_frequency=0.2).until(lambda _: build_status() == "COMPLETED")
        smoke = browser.find_element(By.CSS_SELECTOR, '[data-event="SMOKE_TESTS_AMI_CREATE"]')
        assert smoke.get_attribute("data-status") == "IN_PROGRESS"
        assert browser.execute_script("return window.__sameDocument === true;"), "the page reloaded"
        ami = browser.find_element(By.CSS_SELECTOR, '[data-field="ami"]').text
        assert ami.startswith("ami-")
        assert "Live: updated" in browser.find_element(By.ID, "live").text
        # The strict CSP let the page's own script run and nothing else: no console errors.
        errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
        assert errors == [], errors

        ARTIFACTS.mkdir(exist_ok=True)
        screenshot = ARTIFACTS / "timeline-live-update.png"
        browser.save_screenshot(str(screenshot))
        assert screenshot.stat().st_size > 10_000
