"""The central station in a real Chromium against a real `ivmon demo` server."""

from __future__ import annotations

import re

import pytest
from selenium.webdriver.common.by import By

from tests.dashboards.conftest import sign_in
from tests.servers import DemoServer, wait_until

pytestmark = pytest.mark.browser

# The demo's scenarios in turn: r2 is hypertension, r6 is disconnect (monitor/cli_station.py).
HYPERTENSION_ROOM, DISCONNECT_ROOM = "r2", "r6"


def tile_attr(browser, room: str, name: str) -> str:
    return browser.find_element(By.CSS_SELECTOR, f'.tile[data-room="{room}"]').get_attribute(name)


def vital_text(browser, room: str, code: str) -> str:
    return browser.find_element(
        By.CSS_SELECTOR, f'.tile[data-room="{room}"] [data-vital="{code}"] .value').text


def hr_values(browser) -> dict[str, str]:
    return {t.get_attribute("data-room"): t.find_element(
        By.CSS_SELECTOR, '[data-vital="hr"] .value').text
        for t in browser.find_elements(By.CSS_SELECTOR, ".tile[data-room]")}


def test_eight_tiles_whose_numbers_change(browser, demo: DemoServer) -> None:
    sign_in(browser, demo)
    tiles = wait_until(lambda: browser.find_elements(By.CSS_SELECTOR, ".tile[data-room]"),
                       20, what="the tiles")
    assert len(tiles) == 8
    first = wait_until(lambda: (v := hr_values(browser)) and all(
        re.fullmatch(r"\d+", x) for r, x in v.items() if r != DISCONNECT_ROOM) and v,
        30, what="every tile to show a heart rate")
    changed = wait_until(
        lambda: [r for r, x in hr_values(browser).items() if x != first[r]], 30,
        what="heart rates to change")
    # Noise moves HR every simulated second; most rooms must have changed within seconds.
    wait_until(lambda: len([r for r, x in hr_values(browser).items() if x != first[r]]) >= 6,
               30, what="six of eight rooms to update")
    assert changed
    for tile in browser.find_elements(By.CSS_SELECTOR, ".tile[data-room]"):
        assert tile.get_attribute("data-priority") in {"none", "low", "medium", "high"}
        for code in ("hr", "spo2", "rr", "nibp_sys", "nibp_dia", "nibp_mean"):
            assert tile.find_elements(By.CSS_SELECTOR, f'[data-vital="{code}"]')


def test_hypertension_room_turns_red_with_value_and_limit(browser, demo: DemoServer) -> None:
    sign_in(browser, demo, "viewer")
    wait_until(lambda: tile_attr(browser, HYPERTENSION_ROOM, "data-priority") == "high", 90,
               what="the hypertension room to raise a high-priority alarm")
    alarm = browser.find_element(
        By.CSS_SELECTOR, f'.tile[data-room="{HYPERTENSION_ROOM}"] [data-field="alarm"]').text
    match = re.fullmatch(r"SBP (\d+) > 180 · \d\d:\d\d", alarm)
    assert match, alarm
    assert int(match.group(1)) > 180
    colour = browser.execute_script(
        "return getComputedStyle(document.querySelector('.tile[data-room=\"r2\"]')).borderTopColor")
    assert colour == "rgb(224, 38, 43)"  # IEC 60601-1-8 red, from the theme


def test_disconnected_room_turns_stale_then_recovers(browser, demo: DemoServer) -> None:
    sign_in(browser, demo)
    room = DISCONNECT_ROOM
    wait_until(lambda: tile_attr(browser, room, "data-link") == "ok", 30, what="data")
    wait_until(lambda: tile_attr(browser, room, "data-link") == "silent", 120,
               what="the disconnect room to fall silent")
    hr = browser.find_element(By.CSS_SELECTOR, f'.tile[data-room="{room}"] [data-vital="hr"]')
    assert hr.get_attribute("data-stale") == "true"  # shown as old, never as current
    alarm = browser.find_element(By.CSS_SELECTOR, f'.tile[data-room="{room}"] [data-field="alarm"]')
    assert "No data from the monitor" in alarm.text
    assert tile_attr(browser, room, "data-priority") == "medium"
    assert tile_attr(browser, room, "data-alarm-kind") == "technical"
    wait_until(lambda: tile_attr(browser, room, "data-link") == "ok", 120,
               what="the monitor to come back")
    wait_until(lambda: hr.get_attribute("data-stale") == "false", 20, what="fresh values")
    wait_until(lambda: "No data" not in alarm.text, 20, what="the technical alarm to clear")


def test_room_page_trends_grow_live(browser, demo: DemoServer) -> None:
    sign_in(browser, demo)
    wait_until(lambda: browser.find_elements(By.CSS_SELECTOR, ".tile[data-room] .tile-head"), 20)
    room_link = f'.tile[data-room="{HYPERTENSION_ROOM}"] .tile-head'
    browser.find_element(By.CSS_SELECTOR, room_link).click()
    wait_until(lambda: browser.current_url.endswith(f"/room/{HYPERTENSION_ROOM}"), 10)
    count = ("var gd=document.querySelector('#room-trend .js-plotly-plot');"
             "return gd && gd.data ? gd.data[0].x.length : -1;")
    first = wait_until(lambda: (n := browser.execute_script(count)) > 0 and n, 30,
                       what="the HR trend")
    wait_until(lambda: browser.execute_script(count) > first + 5, 30,
               what="the HR trend to grow live")
    shapes = browser.execute_script(
        "return document.querySelector('#room-trend .js-plotly-plot').layout.shapes.length")
    assert shapes >= 10  # the profile's limit lines
    alarms = browser.find_element(By.ID, "room-alarms")
    wait_until(lambda: "SBP" in alarms.text, 90, what="the room's alarm in its list")


def issue_kiosk_link(data_dir) -> str:
    import contextlib
    import io

    from monitor.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["kiosk", "add", "test wall", "--data-dir", str(data_dir)]) == 0
    return out.getvalue().strip().splitlines()[-1].rsplit("/", 1)[-1]


def test_dropped_link_is_shown_and_reconnects(browser, tmp_path) -> None:
    server = DemoServer(tmp_path, rooms=2, speed=5).start()
    try:
        # A kiosk link: wall screens are exactly the screens that must come back by themselves.
        token = issue_kiosk_link(tmp_path)
        browser.get(f"{server.url}/kiosk/{token}")
        wait_until(lambda: browser.execute_script("return window.ivmonLive.frames") > 1, 20)
        banner = wait_until(lambda: browser.find_element(By.ID, "link-banner"), 20,
                            what="the page to render")
        server.stop()
        wait_until(lambda: banner.get_attribute("data-state") == "lost", 15,
                   what="the lost-link banner")
        assert "NOT live" in banner.text
        server.start()
        wait_until(lambda: banner.get_attribute("data-state") == "ok", 30,
                   what="the screen to reconnect by itself")
        frames = browser.execute_script("return window.ivmonLive.frames")
        wait_until(lambda: browser.execute_script("return window.ivmonLive.frames") > frames, 10)
    finally:
        server.stop()


def test_sign_in_work_sign_out_then_refused(browser, demo: DemoServer) -> None:
    browser.get(demo.url + "/room/r1")
    wait_until(lambda: "/login" in browser.current_url, 20, what="the sign-in page")
    sign_in(browser, demo, "nurse", path="/room/r1")
    # Sent back to where the nurse was going, with live data under the strict CSP.
    wait_until(lambda: browser.current_url.endswith("/room/r1"), 20)
    wait_until(lambda: browser.execute_script("return window.ivmonLive.frames") > 2, 20)
    wait_until(lambda: "nurse (nurse)" in browser.find_element(By.CLASS_NAME, "topbar").text,
               20, what="the top bar naming who is signed in")
    console = [e["message"] for e in browser.get_log("browser")]
    assert not [m for m in console if "Content Security Policy" in m], console
    browser.find_element(By.CLASS_NAME, "signout").click()
    wait_until(lambda: "/login" in browser.current_url, 20, what="the sign-in page")
    browser.get(demo.url + "/")
    wait_until(lambda: "/login" in browser.current_url, 20, what="refusal after signing out")
    status = browser.execute_script(
        "return fetch('/api/rooms', {credentials: 'same-origin'}).then(r => r.status);")
    assert status == 401


def test_kiosk_screen_is_read_only(browser, tmp_path) -> None:
    server = DemoServer(tmp_path, rooms=2, speed=5).start()
    try:
        browser.get(f"{server.url}/kiosk/{issue_kiosk_link(tmp_path)}")
        wait_until(lambda: browser.execute_script(
            "return window.ivmonLive && window.ivmonLive.frames") > 1, 20)
        wait_until(lambda: "(kiosk)" in browser.find_element(By.CLASS_NAME, "topbar").text, 20,
                   what="the kiosk named in the top bar")
        status = browser.execute_script(
            "return fetch('/api/kiosk', {method: 'POST', credentials: 'same-origin', "
            "headers: {'Content-Type': 'application/json'}, body: '{\"label\": \"x\"}'})"
            ".then(r => r.status);")
        assert status == 403
    finally:
        server.stop()
