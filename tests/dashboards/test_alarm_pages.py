"""The alarm history, profiles, settings and what-if pages and their JSON API, against a real
`ivmon demo` (two rooms at twenty times real time; room r2 is the hypertension scenario)."""

from __future__ import annotations

import csv
import io
import json
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine

from monitor.alarms.history import CSV_HEADER
from monitor.audit import AuditLog
from tests.dashboards.conftest import sign_in
from tests.servers import DemoServer, wait_until

HYPERTENSION_ROOM, NORMAL_ROOM = "r2", "r1"
PROFILE = "/api/profiles/iv-ketamine"  # the demo's profile


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    srv = DemoServer(tmp_path_factory.mktemp("alarm-pages"), rooms=2, speed=20).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def admin(server: DemoServer) -> urllib.request.OpenerDirector:
    return server.sign_in("admin")


@pytest.fixture(scope="module")
def viewer(server: DemoServer) -> urllib.request.OpenerDirector:
    return server.sign_in("viewer")


def call(opener: urllib.request.OpenerDirector, server: DemoServer, method: str, path: str,
         body: Any = None, raw: bytes | None = None) -> tuple[int, Any]:
    """A request as our own pages make it; the status and the JSON (or text) answer."""
    data = raw if raw is not None else None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(server.url + path, data=data, method=method, headers={
        "Content-Type": "application/json", "Origin": server.url})
    try:
        with opener.open(request, timeout=30) as response:
            status, text, kind = response.status, response.read(), response.headers
    except urllib.error.HTTPError as exc:
        status, text, kind = exc.code, exc.read(), exc.headers
    if "json" in kind.get("content-type", ""):
        return status, json.loads(text)
    return status, text.decode()


def audit_entries(server: DemoServer) -> list[dict[str, Any]]:
    engine = create_engine(f"sqlite:///{server.data_dir / 'ivmon.db'}")
    try:
        return AuditLog(engine).entries(1000)
    finally:
        engine.dispose()


def logged(server: DemoServer, actor: str, action: str, target: str) -> bool:
    return any(e["actor"] == actor and e["action"] == action and e["target"] == target
               for e in audit_entries(server))


def session_of(server: DemoServer, opener, room: str) -> int:  # type: ignore[no-untyped-def]
    _, found = call(opener, server, "GET", f"/api/sessions?room={room}")
    return found[0]["id"]


@pytest.fixture(scope="module")
def alarmed(server: DemoServer, admin) -> None:  # type: ignore[no-untyped-def]
    """The hypertension room has raised a high-priority alarm (within seconds at speed 20)."""
    wait_until(lambda: call(admin, server, "GET", "/api/alarms/history?room=r2&priority=high"
                            )[1]["total"] > 0, 120, what="a high alarm in room r2's log")


# -- the JSON API ---------------------------------------------------------------------------


def test_history_api_filters(server: DemoServer, admin, alarmed) -> None:  # type: ignore[no-untyped-def]
    status, everything = call(admin, server, "GET", "/api/alarms/history?limit=1000")
    assert status == 200
    assert everything["total"] >= len(everything["rows"]) > 0
    _, high = call(admin, server, "GET", "/api/alarms/history?room=r2&priority=high")
    assert high["rows"]
    assert {(r["room"], r["priority"]) for r in high["rows"]} == {("r2", "high")}
    _, sbp = call(admin, server, "GET", "/api/alarms/history?vital=nibp_sys")
    assert sbp["rows"] and {r["vital"] for r in sbp["rows"]} == {"nibp_sys"}
    assert any(re.fullmatch(r"SBP \d+ > 180", r["message"]) for r in sbp["rows"])
    # Paging, over a range that can no longer grow while the demo runs.
    until = everything["rows"][0]["time"]
    _, whole = call(admin, server, "GET", f"/api/alarms/history?until={until}&limit=1000")
    _, second = call(admin, server, "GET", f"/api/alarms/history?until={until}&limit=1&offset=1")
    assert whole["total"] >= 2 and second["total"] == whole["total"]
    assert [r["id"] for r in second["rows"]] == [whole["rows"][1]["id"]]
    _, future = call(admin, server, "GET", "/api/alarms/history?since=2999-01-01T00:00:00Z")
    assert future == {"total": 0, "offset": 0, "limit": 100, "rows": []}
    _, open_ones = call(admin, server, "GET", "/api/alarms/history?unacknowledged=true")
    assert open_ones["rows"]
    assert not {"acknowledged", "latched_cleared"} & {r["transition"] for r in open_ones["rows"]}
    # A bad filter is refused in words.
    status, bad = call(admin, server, "GET", "/api/alarms/history?priority=urgent")
    assert status == 400 and "must be one of high, medium or low" in bad["detail"]
    status, bad = call(admin, server, "GET",
                       "/api/alarms/history?since=2030-01-02T00:00:00Z&until=2030-01-01")
    assert status == 400 and bad["detail"] == "The start of the date range must be before its end."


def test_csv_export_has_a_header_and_rows_and_is_audited(  # type: ignore[no-untyped-def]
        server: DemoServer, viewer, alarmed) -> None:
    with viewer.open(server.url + "/api/alarms/history.csv?room=r2&priority=high",
                     timeout=30) as response:
        assert response.headers["content-type"].startswith("text/csv")
        assert "attachment" in response.headers["content-disposition"]
        rows = list(csv.reader(io.StringIO(response.read().decode())))
    assert tuple(rows[0]) == CSV_HEADER
    assert rows[1:]
    room, priority = CSV_HEADER.index("room"), CSV_HEADER.index("priority")
    assert {(r[room], r[priority]) for r in rows[1:]} == {("r2", "high")}
    assert logged(server, "viewer", "exported", "alarm history")


def test_a_viewer_cannot_change_profiles_or_settings(  # type: ignore[no-untyped-def]
        server: DemoServer, viewer) -> None:
    status, body = call(viewer, server, "PUT", PROFILE, {"title": "Mine"})
    assert status == 403 and "admin" in body["detail"]
    status, _ = call(viewer, server, "PUT", "/api/settings", {"escalation_seconds": 30})
    assert status == 403
    assert logged(server, "viewer", "forbidden", PROFILE)
    assert logged(server, "viewer", "forbidden", "/api/settings")
    # Reading is allowed; the webhook's status is for administrators.
    status, profiles = call(viewer, server, "GET", "/api/profiles")
    assert status == 200
    assert [p["name"] for p in profiles if p["in_use"]] == ["iv-ketamine"]
    status, settings = call(viewer, server, "GET", "/api/settings")
    assert status == 200 and settings["escalation_seconds"] == 60 and "webhook" not in settings


def test_an_invalid_edit_gets_its_problems_in_words(  # type: ignore[no-untyped-def]
        server: DemoServer, admin) -> None:
    _, before = call(admin, server, "GET", "/api/profiles")
    status, body = call(admin, server, "PUT", PROFILE, {"rules": [
        {"vital": "hr", "condition": ">", "limit": 999, "priority": "high", "delay": 10},
        {"vital": "spo2", "condition": "<", "limit": 92, "priority": "urgent"},
    ]})
    assert status == 400
    assert "HR high limit 999 is outside 0-350 /min." in body["problems"]
    assert "Rule 2 priority 'urgent' must be low, medium or high." in body["problems"]
    assert body["detail"] == " ".join(body["problems"])
    status, body = call(admin, server, "PUT", PROFILE, [1, 2])
    assert status == 400 and body["problems"] == [
        "The profile must be a JSON object with a title and rules."]
    status, body = call(admin, server, "PUT", PROFILE, raw=b"{not json")
    assert status == 400 and body["problems"][0].startswith("The request body is not valid JSON")
    status, body = call(admin, server, "PUT", "/api/settings",
                        {"escalation_seconds": 5, "webhook_url": "ftp://pager"})
    assert status == 400 and len(body["problems"]) == 2
    assert "The escalation time 5 s must be from 10 to 3600 s." in body["problems"]
    _, after = call(admin, server, "GET", "/api/profiles")
    assert after == before  # nothing was saved


def test_a_valid_edit_changes_the_running_engine(  # type: ignore[no-untyped-def]
        server: DemoServer, admin) -> None:
    _, profiles = call(admin, server, "GET", "/api/profiles")
    original = next(p for p in profiles if p["name"] == "iv-ketamine")

    def heart_rate() -> float | None:
        rooms = call(admin, server, "GET", "/api/rooms")[1]
        room = next(r for r in rooms if r["id"] == NORMAL_ROOM)
        return next((v["value"] for v in room["vitals"] if v["code"] == "hr" and not v["stale"]),
                    None)

    hr = wait_until(heart_rate, 30, what="room r1's heart rate")
    limit = max(55, int(hr) - 20)  # below the patient's rate, above the low limit of 50
    rules = [{**r, "limit": limit} if (r["vital"], r["condition"], r["limit"]) == ("hr", ">", 130)
             else r for r in original["rules"]]
    try:
        status, saved = call(admin, server, "PUT", PROFILE, {"rules": rules})
        assert status == 200, saved
        assert saved["message"] == "Saved profile 'iv-ketamine'; the station uses it now."

        def hr_alarm() -> list[str]:
            rooms = call(admin, server, "GET", "/api/rooms")[1]
            room = next(r for r in rooms if r["id"] == NORMAL_ROOM)
            return [a["message"] for a in room["alarms"]
                    if re.fullmatch(rf"HR \d+ > {limit}", a["message"])]

        wait_until(hr_alarm, 30, what=f"an HR > {limit} alarm in room r1")
        assert logged(server, "admin", "limits changed", "profile iv-ketamine")
        status, _ = call(admin, server, "PUT", "/api/settings", {"reminder_seconds": 240})
        assert status == 200
        assert call(admin, server, "GET", "/api/settings")[1]["reminder_seconds"] == 240
        assert logged(server, "admin", "alarm settings changed", "clinic")
    finally:
        call(admin, server, "PUT", PROFILE, {"rules": original["rules"]})
        call(admin, server, "PUT", "/api/settings", {"reminder_seconds": 180})


def test_whatif_api_counts_a_demo_session(  # type: ignore[no-untyped-def]
        server: DemoServer, viewer, alarmed) -> None:
    session = session_of(server, viewer, HYPERTENSION_ROOM)

    def compared() -> dict[str, Any] | None:
        status, body = call(viewer, server, "GET", f"/api/whatif?session_id={session}")
        assert status == 200, body
        both = body["actual"]["counts"]["high"] >= 1 and body["candidate"]["counts"]["high"] >= 1
        return body if both else None

    body = wait_until(compared, 60, what="the session's high alarms, actual and re-run")
    assert body["profile"] == "iv-ketamine" and body["room"] == HYPERTENSION_ROOM
    assert set(body["actual"]["counts"]) == set(body["candidate"]["counts"]) == {
        "high", "medium", "low"}
    assert any(re.fullmatch(r"SBP \d+ > 180", a["message"]) for a in body["candidate"]["alarms"])
    status, other = call(viewer, server, "GET",
                         f"/api/whatif?session_id={session}&profile=spravato")
    assert status == 200 and other["profile"] == "spravato"
    status, body = call(viewer, server, "GET", f"/api/whatif?session_id={session}&profile=nope")
    assert status == 400 and "nope" in body["problems"][0]
    status, _ = call(viewer, server, "GET", "/api/whatif?session_id=999999")
    assert status == 404


# -- the pages in Chromium ------------------------------------------------------------------


def _click(browser, element) -> None:  # type: ignore[no-untyped-def]
    # A banner fixed to the bottom of the screen may cover a button below the fold.
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    element.click()


def _type(element, text: str) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.keys import Keys

    element.send_keys(Keys.CONTROL, "a")
    element.send_keys(text)


def _choose(browser, dropdown_id: str, label: str) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By

    _click(browser, browser.find_element(By.ID, dropdown_id))
    options = wait_until(lambda: [o for o in browser.find_elements(
        By.CSS_SELECTOR, '[role="option"]') if o.text.strip() == label], 10,
        what=f"the option {label!r}")
    options[0].click()


@pytest.mark.browser
def test_history_page_filters_and_colours_rows(  # type: ignore[no-untyped-def]
        browser, server: DemoServer, alarmed) -> None:
    from selenium.webdriver.common.by import By

    def rows() -> list[Any]:
        return browser.find_elements(By.CSS_SELECTOR, ".history-table tr[data-priority]")

    sign_in(browser, server, "viewer", "/alarms?room=r2")
    wait_until(rows, 30, what="the alarm history rows")
    assert {r.find_elements(By.TAG_NAME, "td")[1].text for r in rows()} == {"Room 2"}
    _choose(browser, "history-priority", "High")
    wait_until(lambda: rows() and {r.get_attribute("data-priority") for r in rows()} == {"high"},
               20, what="only high-priority rows")
    cell = browser.find_element(By.CSS_SELECTOR, '.history-table td.priority[data-priority="high"]')
    assert cell.text == "HIGH"
    colour = browser.execute_script("return getComputedStyle(arguments[0]).backgroundColor", cell)
    assert colour == "rgb(224, 38, 43)"  # IEC 60601-1-8 red, as on the central screen
    assert any(re.fullmatch(r"SBP \d+ > 180", r.find_elements(By.TAG_NAME, "td")[5].text)
               for r in rows())
    assert re.fullmatch(r"1–\d+ of \d+", browser.find_element(By.ID, "history-summary").text)
    export = browser.find_element(By.ID, "history-export")
    wait_until(lambda: "priority=high" in export.get_attribute("href"), 10, what="export href")
    assert "room=r2" in export.get_attribute("href")
    _click(browser, browser.find_element(By.CSS_SELECTOR, "#history-unacknowledged input"))
    wait_until(lambda: "unacknowledged=true" in export.get_attribute("href"), 10,
               what="the export link to carry the unacknowledged filter")


@pytest.mark.browser
def test_profiles_page_refuses_a_viewer_in_words_and_takes_an_admins_edit(  # type: ignore[no-untyped-def]
        browser, server: DemoServer, admin) -> None:
    from selenium.webdriver.common.by import By

    _, profiles = call(admin, server, "GET", "/api/profiles")
    original = next(p for p in profiles if p["name"] == "iv-ketamine")
    rr_row = 1 + next(i for i, r in enumerate(original["rules"])
                      if (r["vital"], r["condition"]) == ("rr", ">"))

    def limit_input():  # type: ignore[no-untyped-def]
        return browser.find_element(
            By.CSS_SELECTOR, f'.rules-table tr[data-row="{rr_row}"] .rule-number input')

    def message() -> str:
        return browser.find_element(By.ID, "profile-message").text

    sign_in(browser, server, "viewer", "/profiles")
    notice = wait_until(lambda: browser.find_elements(By.CSS_SELECTOR, ".read-only"), 20)
    assert "read-only" in notice[0].text
    assert not limit_input().is_enabled()
    _click(browser, browser.find_element(By.ID, "profile-save"))
    wait_until(lambda: message().startswith("Only an administrator may change alarm profiles"),
               20, what="the refusal in words")
    _click(browser, browser.find_element(By.ID, "settings-save"))
    wait_until(lambda: browser.find_element(By.ID, "settings-message").text.startswith(
        "Only an administrator may change the clinic's alarm settings"), 20)

    browser.delete_all_cookies()
    sign_in(browser, server, "admin", "/profiles")
    wait_until(lambda: browser.find_elements(By.CSS_SELECTOR, ".rules-table"), 20)
    assert not browser.find_elements(By.CSS_SELECTOR, ".read-only")
    status = browser.find_element(By.ID, "settings-webhook-status").text
    assert status == "No webhook is set: escalations show on every screen only."
    try:
        _type(limit_input(), "fast")
        _click(browser, browser.find_element(By.ID, "profile-save"))
        wait_until(lambda: f"Rule {rr_row} limit 'fast' must be a number." in message(), 20,
                   what="the problem in words")
        _type(limit_input(), "32")
        _click(browser, browser.find_element(By.ID, "profile-save"))
        wait_until(lambda: message() == "Saved profile 'iv-ketamine'; the station uses it now.",
                   20, what="the saved profile")
        _, profiles = call(admin, server, "GET", "/api/profiles")
        saved = next(p for p in profiles if p["name"] == "iv-ketamine")
        assert saved["rules"][rr_row - 1]["limit"] == 32
    finally:
        call(admin, server, "PUT", PROFILE, {"rules": original["rules"]})


@pytest.mark.browser
def test_whatif_page_shows_actual_and_candidate_counts(  # type: ignore[no-untyped-def]
        browser, server: DemoServer, viewer, alarmed) -> None:
    from selenium.webdriver.common.by import By

    session = session_of(server, viewer, HYPERTENSION_ROOM)

    def count(column: str) -> int:
        return int(browser.find_element(
            By.CSS_SELECTOR, f'.whatif-counts tr[data-priority="high"] td[data-column="{column}"]'
        ).text)

    sign_in(browser, server, "viewer", f"/whatif?session={session}")
    wait_until(lambda: count("actual") >= 1 and count("candidate") >= 0, 30,
               what="the counts, actual and candidate")
    traces = "var g=document.querySelector('#whatif-graph .js-plotly-plot');" \
             "return g && g.data ? g.data.length : 0;"
    wait_until(lambda: browser.execute_script(traces) >= 2, 20, what="the timeline's bars")
    sbp = browser.find_element(
        By.CSS_SELECTOR, '.rules-table tr[data-vital="nibp_sys"] .rule-number input')
    _type(sbp, "250")
    _click(browser, browser.find_element(By.ID, "whatif-run"))
    wait_until(lambda: "edited" in browser.find_element(By.CSS_SELECTOR, ".whatif-counts").text,
               30, what="the edited candidate's counts")
    assert "with the edited limits" in browser.find_element(By.ID, "whatif-message").text
    assert count("actual") >= 1
