"""Browser fixtures: Debian's Chromium driven by chromedriver through Selenium."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from tests.conftest import require_service
from tests.servers import DemoServer


def _chrome(width: int = 1920, height: int = 1080):  # type: ignore[no-untyped-def]
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not chromium or not driver:
        require_service("Chromium", "chromium and chromedriver are not installed "
                        "(make test installs Debian's chromium and chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync",
                 f"--window-size={width},{height}"):
        options.add_argument(flag)
    # Console messages, so tests can check the page broke no content-security rule.
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(driver), options=options)


@pytest.fixture
def browser() -> Iterator[object]:
    drv = _chrome()
    drv.set_page_load_timeout(30)
    yield drv
    drv.quit()


def sign_in(browser, server: DemoServer, user: str = "nurse", path: str = "/") -> None:
    """Sign in through the real form, then open ``path``."""
    from selenium.webdriver.common.by import By

    from tests.servers import wait_until

    browser.get(server.url + path)
    wait_until(lambda: browser.find_elements(By.NAME, "password"), 20, what="the sign-in form")
    browser.find_element(By.NAME, "name").send_keys(user)
    browser.find_element(By.NAME, "password").send_keys(server.password)
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait_until(lambda: "/login" not in browser.current_url, 20, what="signing in")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    """Eight simulated rooms at ten times real time."""
    server = DemoServer(tmp_path_factory.mktemp("demo"), rooms=8, speed=10).start()
    yield server
    server.stop()
