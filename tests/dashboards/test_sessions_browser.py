"""A whole session in the browser: a nurse runs it, a clinician replays and exports it."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By

from tests.dashboards.conftest import sign_in
from tests.servers import DemoServer, wait_until

pytestmark = pytest.mark.browser


def panel(browser):  # type: ignore[no-untyped-def]
    return browser.find_element(By.CSS_SELECTOR, "[data-session-room]")


def click(browser, action: str, kind: str | None = None) -> None:  # type: ignore[no-untyped-def]
    selector = f'[data-session-room] [data-action="{action}"]'
    if kind:
        selector += f'[data-kind="{kind}"]'
    browser.find_element(By.CSS_SELECTOR, selector).click()


def test_run_a_session_then_replay_and_export_it(tmp_path, browser) -> None:
    server = DemoServer(tmp_path, rooms=2, speed=20).start()
    try:
        sign_in(browser, server, "nurse", path="/room/r1")
        wait_until(lambda: panel(browser).get_attribute("data-session-id"), 30,
                   what="the demo's session in room 1")
        click(browser, "session-end")
        wait_until(lambda: panel(browser).get_attribute("data-session-id") == "", 20,
                   what="the room to be free")
        browser.find_element(By.ID, "session-label").send_keys("J.D.")
        browser.find_element(By.ID, "session-mrn").send_keys("MRN-55501")
        browser.find_element(By.CSS_SELECTOR, '#session-protocol input[value="spravato"]').click()
        browser.find_element(By.ID, "session-weight").send_keys("70")
        click(browser, "session-start")
        session_id = wait_until(lambda: panel(browser).get_attribute("data-session-id"), 20,
                                what="the new session")
        wait_until(lambda: panel(browser).find_element(
            By.CSS_SELECTOR, '[data-field="phase"]').text, 20, what="the phase")
        browser.find_element(By.ID, "session-note").send_keys("126/82")
        click(browser, "session-event", "bp_check")
        click(browser, "session-event", "infusion_started")
        click(browser, "discharge-check")
        result = browser.find_element(By.CSS_SELECTOR, '[data-field="discharge"]')
        # Spravato asks for at least 2 h of observation: not ready minutes after the start.
        wait_until(lambda: "Not ready" in result.text, 20, what="the discharge check")
        tile_phase = browser.find_element(By.CSS_SELECTOR, '.tile[data-room="r1"] .phase')
        assert tile_phase.text  # the tile shows the session's phase too

        # A clinician finds it by the patient's label and replays it.
        browser.find_element(By.CLASS_NAME, "signout").click()
        wait_until(lambda: "/login" in browser.current_url, 20, what="signing out")
        sign_in(browser, server, "viewer", path="/sessions")
        browser.find_element(By.ID, "find-label").send_keys("J.D.\n")
        def open_replay() -> bool:
            # The results redraw as the filters settle; click whichever link is there now.
            browser.find_element(By.CSS_SELECTOR, f'a[href="/replay/{session_id}"]').click()
            return browser.current_url.endswith(f"/replay/{session_id}")

        wait_until(open_replay, 20, what="the session in the search results")
        wait_until(lambda: browser.find_elements(By.CSS_SELECTOR, "#replay-tile .tile"), 30,
                   what="the tile of the past moment")
        shapes = wait_until(lambda: browser.execute_script(
            "var gd = document.querySelector('#replay-graph .js-plotly-plot');"
            "return gd && gd.layout ? gd.layout.shapes.length : 0;"), 30, what="the timeline")
        assert shapes >= 3  # limit lines, event lines, the cursor
        clock = browser.find_element(By.ID, "replay-time")
        before = clock.text
        browser.find_element(By.ID, "replay-play").click()
        wait_until(lambda: clock.text != before, 20, what="playback to move the time")
        for fmt, media in (("pdf", "application/pdf"), ("csv", "application/zip"),
                           ("hl7", "application/hl7-v2")):
            got = browser.execute_script(
                f"return fetch('/api/sessions/{session_id}/export?format={fmt}', "
                "{credentials: 'same-origin'}).then(r => [r.status, "
                "r.headers.get('content-type')]);")
            assert got[0] == 200 and got[1].startswith(media), (fmt, got)
    finally:
        server.stop()
