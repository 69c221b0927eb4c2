"""The escalation webhook against a real HTTP server on 127.0.0.1: the JSON it posts, retries
with backoff, a failure kept as a sentence for admins, and only escalations are sent."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from monitor.alarms import AlarmEvent, Kind, Priority, Transition
from monitor.alarms.webhook import WebhookNotifier, shown
from monitor.bus import Bus
from tests.monitor.alarm_helpers import at
from tests.servers import free_port, wait_until


class Receiver(ThreadingHTTPServer):
    """Answers each POST with the next status of ``answers`` (then 200) and keeps the bodies."""

    def __init__(self, answers: list[int]) -> None:
        self.answers = list(answers)
        self.bodies: list[dict] = []  # type: ignore[type-arg]
        self.paths: list[str] = []
        super().__init__(("127.0.0.1", 0), _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        self.server.bodies.append(json.loads(self.rfile.read(length)))
        self.server.paths.append(self.path)
        status = self.server.answers.pop(0) if self.server.answers else 200
        self.send_response(status)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def receiver(request: pytest.FixtureRequest) -> Iterator[Receiver]:
    server = Receiver(getattr(request, "param", []))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def url(server: Receiver) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}/hooks/secret-token"


def escalation(transition: Transition = Transition.ESCALATED) -> AlarmEvent:
    return AlarmEvent("a1", "r2", "nibp_sys", Kind.PHYSIOLOGICAL, Priority.HIGH, transition,
                      "SBP 186 > 180", at(70), 186, 180)


def notifier(target: str | None, **kw: object) -> WebhookNotifier:
    return WebhookNotifier(lambda: target, "Clinic A", backoff=0.01, now=lambda: at(80),
                           **kw)  # type: ignore[arg-type]


def test_an_escalation_is_posted_as_json(receiver: Receiver) -> None:
    hook = notifier(url(receiver))
    hook.start()
    try:
        hook.on_message(escalation(Transition.RAISED), Bus())  # not an escalation: not sent
        hook.on_message(escalation(), Bus())
        wait_until(lambda: hook.sent == 1, 10, what="the webhook to be sent")
    finally:
        hook.stop()
    assert receiver.bodies == [{
        "event": "alarm_escalated", "station": "Clinic A", "alarm_id": "a1", "room": "r2",
        "vital": "nibp_sys", "kind": "physiological", "priority": "high",
        "message": "SBP 186 > 180", "value": 186, "limit": 180, "at": "2026-01-01T09:01:10Z"}]
    assert receiver.paths == ["/hooks/secret-token"]
    assert hook.ok and hook.status is not None
    assert hook.status.startswith("The escalation of r2's alarm (SBP 186 > 180) was sent to ")
    assert "secret-token" not in hook.status  # a webhook path is often a secret


@pytest.mark.parametrize("receiver", [[500, 503]], indirect=True)
def test_a_refused_post_is_retried_until_it_is_taken(receiver: Receiver) -> None:
    hook = notifier(url(receiver))
    assert hook.send(escalation()) is True
    assert len(receiver.bodies) == 3 and hook.ok and hook.sent == 1


@pytest.mark.parametrize("receiver", [[500] * 10], indirect=True)
def test_a_failing_receiver_is_reported_to_admins(receiver: Receiver) -> None:
    hook = notifier(url(receiver), attempts=3)
    assert hook.send(escalation()) is False
    assert len(receiver.bodies) == 3 and not hook.ok and hook.failed == 1
    host = f"http://127.0.0.1:{receiver.server_address[1]}/…"
    assert hook.status == (f"The escalation webhook at {host} failed 3 times (HTTP 500 "
                           f"Internal Server Error); the last try was at 2026-01-01 09:01:20 "
                           f"UTC. The alarm stays escalated on screen.")


def test_an_unreachable_receiver_is_reported_too() -> None:
    hook = notifier(f"http://127.0.0.1:{free_port()}/x", attempts=2)
    assert hook.send(escalation()) is False
    assert hook.status is not None and "failed 2 times (no answer:" in hook.status


def test_without_a_url_nothing_is_queued_or_sent() -> None:
    hook = notifier(None)
    hook.on_message(escalation(), Bus())
    assert hook.send(escalation()) is False and hook.status is None


def test_the_shown_url_hides_the_path() -> None:
    assert shown("https://hooks.example.org/T0/B1/secret?x=1") == "https://hooks.example.org/…"
    assert shown("http://10.0.0.5:8080") == "http://10.0.0.5:8080/"
