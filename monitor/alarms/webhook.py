"""The escalation webhook: each ESCALATED event is POSTed as JSON from a background thread,
retried with backoff; how it went is kept as a sentence an admin can read."""

from __future__ import annotations

import json
import logging
import queue
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import urlsplit

from monitor.alarms.model import AlarmEvent, Transition
from monitor.bus import Bus

log = logging.getLogger(__name__)

_STOP = object()


def payload(event: AlarmEvent, station: str) -> dict[str, object]:
    """What the receiver gets: the alarm's facts, never a patient's identity."""
    return {"event": "alarm_escalated", "station": station, "alarm_id": event.alarm_id,
            "room": event.room, "vital": event.vital, "kind": str(event.kind),
            "priority": event.priority.word, "message": event.message,
            "value": event.value, "limit": event.limit,
            "at": event.at.astimezone(UTC).isoformat().replace("+00:00", "Z")}


def shown(url: str) -> str:
    """The URL without its path and query: webhook paths often hold a secret token."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/…" if parts.path not in ("", "/") \
        else f"{parts.scheme}://{parts.netloc}/"


class WebhookNotifier:
    """A bus listener (registered after the recorder) that sends escalations to a URL.

    Sending never blocks the bus: events wait in a queue for the sender thread. ``status``
    is None until something was sent, then a sentence saying how the last one went.
    """

    def __init__(self, url: Callable[[], str | None], station: str = "ivmon", *,
                 attempts: int = 4, backoff: float = 2.0, timeout: float = 5.0,
                 now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._url = url  # read at send time, so a changed setting applies at once
        self.station = station
        self.attempts, self.backoff, self.timeout = attempts, backoff, timeout
        self._now = now
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.status: str | None = None
        self.ok = True
        self.sent = 0
        self.failed = 0

    def on_message(self, message: object, bus: Bus) -> None:
        if isinstance(message, AlarmEvent) and message.transition is Transition.ESCALATED \
                and self._url():
            self._queue.put(message)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="ivmon-webhook", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._queue.put(_STOP)
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP or self._stop.is_set():
                return
            assert isinstance(item, AlarmEvent)
            self.send(item)

    def send(self, event: AlarmEvent) -> bool:
        """POST one escalation, retrying with doubling waits; True once the receiver took it."""
        url = self._url()
        if not url:
            return False
        body = json.dumps(payload(event, self.station)).encode()
        wait, problem = self.backoff, ""
        for attempt in range(1, self.attempts + 1):
            problem = self._post(url, body)
            if not problem:
                self.sent += 1
                self._report(True, f"The escalation of {event.room}'s alarm "
                                   f"({event.message}) was sent to {shown(url)} at "
                                   f"{self._clock()}.")
                return True
            if attempt < self.attempts and self._stop.wait(wait):
                break  # the station is stopping
            wait *= 2
        self.failed += 1
        self._report(False, f"The escalation webhook at {shown(url)} failed {attempt} "
                            f"time{'s' if attempt != 1 else ''} ({problem}); the last try "
                            f"was at {self._clock()}. The alarm stays escalated on screen.")
        return False

    def _post(self, url: str, body: bytes) -> str:
        """Empty when the receiver answered 2xx; else why not, in a few words."""
        request = urllib.request.Request(url, data=body, method="POST", headers={
            "Content-Type": "application/json", "User-Agent": "ivmon"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                response.read()
                return ""
        except urllib.error.HTTPError as exc:
            return f"HTTP {exc.code} {exc.reason}"
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            return f"no answer: {reason}"

    def _clock(self) -> str:
        return self._now().astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")

    def _report(self, ok: bool, status: str) -> None:
        if not ok and self.ok:
            log.error("%s", status)
        self.ok, self.status = ok, status
