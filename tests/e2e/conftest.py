"""A real headless Chromium (Debian's chromium + chromedriver) for the page tests, and their pictures.

Each screenshot is saved under the session's pytest tmp dir (`screenshots/`) and copied to
`test-artifacts/` (what CI keeps).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage", "--window-size=1400,1600")
# The viewer's time zone is not the server's (UTC): the pages must show times in the viewer's.
VIEWER_TIME_ZONE = "America/New_York"


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
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
    service = Service(executable_path=driver, env={**os.environ, "TZ": VIEWER_TIME_ZONE})
    session = webdriver.Chrome(service=service, options=options)
    session.set_page_load_timeout(30)
    try:
        yield session
    finally:
        session.quit()


@pytest.fixture
def screenshot(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """screenshot(name) -> the saved PNG of the whole page (also copied to test-artifacts/)."""
    folder = tmp_path_factory.getbasetemp() / "screenshots"

    def take(name: str) -> Path:
        folder.mkdir(exist_ok=True)
        height = browser.execute_script("return document.documentElement.scrollHeight")
        browser.set_window_size(1400, max(900, min(int(height) + 40, 6000)))
        path = folder / f"{name}.png"
        browser.save_screenshot(str(path))
        ARTIFACTS.mkdir(exist_ok=True)
        shutil.copy(path, ARTIFACTS / path.name)
        return path

    return take


@pytest.fixture
def console_errors(browser: Any) -> Callable[[], list[dict[str, Any]]]:
    """console_errors() -> the SEVERE browser console entries so far (a CSP violation would be one)."""
    return lambda: [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
