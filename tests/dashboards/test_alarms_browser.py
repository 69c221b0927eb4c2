"""Alarms as nurses meet them, in two real browsers against a real server."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator

import pytest
from selenium.webdriver.common.by import By

from tests.dashboards.conftest import _chrome, sign_in
from tests.servers import DemoServer, wait_until

pytestmark = pytest.mark.browser

HYPERTENSION, DISCONNECT = "r2", "r6"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    srv = DemoServer(tmp_path_factory.mktemp("alarms"), rooms=6, speed=5).start()
    yield srv
    srv.stop()


@pytest.fixture
def two() -> Iterator[tuple[object, object]]:
    first, second = _chrome(), _chrome()
    yield first, second
    first.quit()
    second.quit()


def tile(browser, room: str):  # type: ignore[no-untyped-def]
    return browser.find_element(By.CSS_SELECTOR, f'.tile[data-room="{room}"]')


def press(browser, room: str, action: str) -> None:  # type: ignore[no-untyped-def]
    """Point at a tile, as a nurse would, then press one of its buttons."""
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(browser).move_to_element(tile(browser, room)).perform()
    button = tile(browser, room).find_element(By.CSS_SELECTOR, f'[data-action="{action}"]')
    wait_until(button.is_displayed, 5, what=f"the {action} button")
    button.click()


def animation(browser, room: str) -> str:
    return browser.execute_script(
        "var s = getComputedStyle(document.querySelector("
        f"'.tile[data-room=\"{room}\"] .alarm'));"
        "return s.animationName + ' ' + s.animationDuration;")


def test_acknowledged_in_one_browser_turns_steady_in_the_other(server: DemoServer,
                                                               two) -> None:
    nurse, viewer = two
    sign_in(nurse, server, "nurse")
    sign_in(viewer, server, "viewer")
    for b in (nurse, viewer):
        wait_until(lambda b=b: tile(b, HYPERTENSION).get_attribute("data-priority") == "high",
                   60, what="the high SBP alarm")
        wait_until(lambda b=b: tile(b, HYPERTENSION).get_attribute("data-acknowledged")
                   == "false", 10)
        # Unacknowledged high: red, flashing at about 2 Hz.
        assert animation(b, HYPERTENSION) == "ivmon-flash 0.5s"
        assert "SBP" in tile(b, HYPERTENSION).find_element(By.CLASS_NAME, "alarm").text
    # The viewer may not acknowledge: the server refuses and the screen says why.
    press(viewer, HYPERTENSION, "ack")
    toast = wait_until(lambda: viewer.find_element(By.ID, "toast"), 10, what="a refusal")
    wait_until(lambda: "nurse role" in toast.text, 10, what="the refusal in words")
    assert tile(viewer, HYPERTENSION).get_attribute("data-acknowledged") == "false"
    # The nurse acknowledges; both screens turn steady.
    press(nurse, HYPERTENSION, "ack")
    for b in (nurse, viewer):
        wait_until(lambda b=b: animation(b, HYPERTENSION).startswith("none"), 20,
                   what="a steady (acknowledged) alarm on every screen")
    alarms = server.get("/api/rooms")
    acked = [a for r in alarms if r["id"] == HYPERTENSION for a in r["alarms"]
             if a["acknowledged_by"] == "nurse"]
    assert acked, alarms


def test_sound_off_warning_and_what_sounds(server: DemoServer, browser) -> None:
    sign_in(browser, server, "nurse")
    warning = wait_until(lambda: browser.find_element(By.ID, "sound-warning"), 20)
    wait_until(lambda: warning.is_displayed(), 10, what="the sound-off warning")
    assert "SOUND OFF" in warning.text
    browser.find_element(By.ID, "sound-toggle").click()
    wait_until(lambda: not warning.is_displayed(), 10, what="the warning to go")
    assert browser.execute_script("return window.ivmonSound.enabled") is True
    # Some room has an unacknowledged alarm in this demo: the screen plays its pattern.
    wait_until(lambda: browser.execute_script("return window.ivmonSound.playing") != "none",
               60, what="an alarm pattern playing")
    assert browser.execute_script("return window.ivmonSound.bursts") >= 1


def post(server: DemoServer, user: str, path: str, body: dict) -> dict:
    opener = server.sign_in(user)
    request = urllib.request.Request(server.url + path, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json",
                                              "Origin": server.url})
    with opener.open(request, timeout=10) as response:
        return json.loads(response.read())


def test_audio_pause_counts_down_and_a_new_alarm_breaks_through(server: DemoServer,
                                                                 two) -> None:
    nurse, viewer = two
    sign_in(nurse, server, "nurse")
    sign_in(viewer, server, "viewer")
    # The disconnect room falls silent every 5 simulated minutes for 45 s: pause it while it
    # is quiet, and its next technical alarm is a new alarm that must break through.
    wait_until(lambda: tile(nurse, DISCONNECT).get_attribute("data-link") == "ok", 60)
    wait_until(lambda: tile(nurse, DISCONNECT).get_attribute("data-priority") == "none", 120,
               what="a quiet moment in the disconnect room")
    paused = post(server, "nurse", f"/api/rooms/{DISCONNECT}/audio-pause", {})
    assert paused["paused_s"] > 0
    for b in (nurse, viewer):
        wait_until(lambda b=b: tile(b, DISCONNECT).get_attribute("data-audio-paused") == "true",
                   10, what="the pause on every screen")
    button = tile(viewer, DISCONNECT).find_element(By.CSS_SELECTOR, '[data-field="pause"]')
    first = wait_until(lambda: button.text.startswith("Paused") and button.text, 10)
    wait_until(lambda: button.text != first, 10, what="the countdown to move")
    wait_until(lambda: tile(viewer, DISCONNECT).get_attribute("data-priority") != "none", 120,
               what="the next technical alarm")
    wait_until(lambda: tile(viewer, DISCONNECT).get_attribute("data-audio-paused") == "false",
               20, what="the new alarm to break through the pause")
