"""A nurse's commands over the API on a real server: roles, validation, the logs."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from tests.dashboards.test_security import audit_lines
from tests.servers import DemoServer


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    srv = DemoServer(tmp_path_factory.mktemp("commands"), rooms=2, speed=10).start()
    yield srv
    srv.stop()


def post(server: DemoServer, user: str, path: str, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(server.url + path, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json",
                                              "Origin": server.url})
    try:
        with server.sign_in(user).open(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


RULE = {"vital": "nibp_sys", "condition": ">", "limit": 200, "priority": "high"}


def test_a_nurse_changes_limits_for_one_session_with_a_reason(server: DemoServer) -> None:
    status, body = post(server, "nurse", "/api/rooms/r2/limits",
                        {"rules": [RULE], "reason": "known hypertensive, cleared by Dr K"})
    assert status == 200, body
    assert re.search(r"nurse\s+session limits changed\s+r2", audit_lines(server))


def test_a_viewer_cannot_change_limits(server: DemoServer) -> None:
    status, _ = post(server, "viewer", "/api/rooms/r2/limits",
                     {"rules": [RULE], "reason": "trying"})
    assert status == 403


def test_impossible_limits_are_refused_in_words(server: DemoServer) -> None:
    status, body = post(server, "nurse", "/api/rooms/r2/limits",
                        {"rules": [{**RULE, "limit": 900}], "reason": "typo"})
    assert status == 400
    problems = body["detail"]["problems"]
    assert problems and all(isinstance(p, str) and p for p in problems)
    assert any("900" in p for p in problems), problems


def test_acknowledging_an_unknown_alarm_says_so(server: DemoServer) -> None:
    status, body = post(server, "nurse", "/api/alarms/no-such-alarm/acknowledge", {})
    assert status == 404
    assert "no-such-alarm" in body["detail"]
