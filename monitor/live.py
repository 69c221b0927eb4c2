"""Live state: each room's latest values, 60-minute trends, active alarms and link, in memory."""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from monitor.alarms.log import AlarmBook, AudioPause
from monitor.alarms.model import Alarm, AlarmEvent, Transition
from monitor.bus import Bus
from monitor.messages import DeviceStatus, LinkState, SessionEnded, SessionStarted
from monitor.reading import Quality, Reading
from monitor.storage.schema import to_ms
from monitor.vitals import BY_CODE

TREND_SECONDS = 60 * 60


@dataclass(slots=True)
class Latest:
    """The newest reading of one vital in one room."""

    value: float
    received: datetime
    quality: Quality


@dataclass(slots=True)
class RoomLive:
    """Everything the screens need about one room, kept in ring buffers."""

    room: str
    name: str
    latest: dict[str, Latest] = field(default_factory=dict)
    # (ms, value) pairs, oldest first; a deque bounded to 60 min at 1 Hz plus margin.
    trends: dict[str, deque[tuple[int, float]]] = field(default_factory=dict)
    link: LinkState = LinkState.CONNECTING
    link_detail: str = ""
    session_id: int | None = None
    session_started: datetime | None = None


@dataclass(frozen=True, slots=True)
class VitalView:
    """A vital as a screen should show it now."""

    code: str
    value: float | None
    received: datetime | None
    stale: bool
    quality: str
    age_seconds: float | None


@dataclass(frozen=True, slots=True)
class RoomView:
    """A consistent snapshot of one room at one moment."""

    room: str
    name: str
    vitals: dict[str, VitalView]
    alarms: tuple[Alarm, ...]
    link: LinkState
    link_detail: str
    session_id: int | None
    session_started: datetime | None
    audio: AudioPause | None = None  # the room's audio pause: until when, by whom
    reminders: int = 0  # how many reminders have sounded: screens re-sound on each new one

    @property
    def top_alarm(self) -> Alarm | None:
        return self.alarms[0] if self.alarms else None

    def audio_seconds_left(self, now: datetime) -> float:
        """The pause countdown a screen shows (0 when audio is on)."""
        return 0.0 if self.audio is None else self.audio.seconds_left(now)


class LiveState:
    """A bus listener that keeps what the screens show; safe to read from any thread."""

    def __init__(self, rooms: dict[str, str]) -> None:
        self._lock = threading.Lock()
        self._rooms = {rid: RoomLive(rid, name) for rid, name in rooms.items()}
        # Alarms and audio pauses, built by the same events (and code) as the engine's.
        self._book = AlarmBook()
        self._watchers: list[Callable[[], None]] = []
        self._reminders: dict[str, int] = {}
        self._dirty: set[str] = set()
        self.alarm_version = 0

    def watch_alarms(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` (from the bus thread) whenever an alarm changes."""
        self._watchers.append(callback)

    def on_message(self, message: object, bus: Bus) -> None:
        if isinstance(message, Reading):
            self._on_reading(message)
            return
        elif isinstance(message, AlarmEvent):
            self._on_alarm(message)
        elif isinstance(message, DeviceStatus):
            with self._lock:
                room = self._room(message.room)
                room.link, room.link_detail = message.state, message.detail
                self._dirty.add(message.room)
        elif isinstance(message, SessionStarted):
            with self._lock:
                room = self._room(message.room)
                room.session_id, room.session_started = message.session_id, message.at
                self._dirty.add(message.room)
        elif isinstance(message, SessionEnded):
            with self._lock:
                room = self._room(message.room)
                if room.session_id == message.session_id:
                    room.session_id, room.session_started = None, None
                    self._dirty.add(message.room)

    def _room(self, room_id: str) -> RoomLive:
        room = self._rooms.get(room_id)
        if room is None:
            room = self._rooms[room_id] = RoomLive(room_id, room_id)
        return room

    def _on_reading(self, reading: Reading) -> None:
        with self._lock:
            room = self._room(reading.room)
            self._dirty.add(reading.room)
            room.latest[reading.code] = Latest(reading.value, reading.received, reading.quality)
            if reading.usable:
                trend = room.trends.get(reading.code)
                if trend is None:
                    trend = room.trends[reading.code] = deque(maxlen=TREND_SECONDS + 600)
                trend.append((to_ms(reading.received), reading.value))

    def _on_alarm(self, event: AlarmEvent) -> None:
        with self._lock:
            self._room(event.room)
            self._dirty.add(event.room)
            self._book.apply(event)
            if event.transition is Transition.REMINDER:
                self._reminders[event.room] = self._reminders.get(event.room, 0) + 1
            self.alarm_version += 1
        for callback in self._watchers:
            callback()

    def restore(self, book: AlarmBook) -> None:
        """Start from the alarms and pauses replayed from the log (after a restart)."""
        with self._lock:
            self._book = book
            for room in book.rooms():
                self._room(room)
                self._dirty.add(room)
            self.alarm_version += 1
        for callback in self._watchers:
            callback()

    # -- reading the state ------------------------------------------------------------

    def take_changed(self) -> set[str]:
        """Rooms changed since the last call: the live push sends only those between full frames."""
        with self._lock:
            changed, self._dirty = self._dirty, set()
            return changed

    def room_ids(self) -> list[str]:
        with self._lock:
            return list(self._rooms)

    def snapshot(self, now: datetime, rooms: list[str] | None = None) -> list[RoomView]:
        """What every screen should show at ``now``; values past their freshness are stale."""
        with self._lock:
            return [self._view(r, now) for rid, r in self._rooms.items()
                    if rooms is None or rid in rooms]

    def _view(self, room: RoomLive, now: datetime) -> RoomView:
        vitals: dict[str, VitalView] = {}
        for code, latest in room.latest.items():
            age = (now - latest.received).total_seconds()
            vitals[code] = VitalView(
                code=code,
                value=latest.value if latest.quality is not Quality.INVALID else None,
                received=latest.received, quality=str(latest.quality),
                stale=age > BY_CODE[code].fresh_seconds, age_seconds=max(0.0, age))
        return RoomView(room.room, room.name, vitals, tuple(self._book.active(room.room)),
                        room.link, room.link_detail, room.session_id, room.session_started,
                        self._book.audio(room.room), self._reminders.get(room.room, 0))

    def trend(self, room: str, code: str, since: datetime) -> list[tuple[int, float]]:
        """The (ms, value) points of a vital from ``since`` on."""
        with self._lock:
            points = self._rooms.get(room, RoomLive(room, room)).trends.get(code)
            if not points:
                return []
            data = list(points)
        start = bisect_left(data, (to_ms(since), float("-inf")))
        return data[start:]

    def sparkline(self, room: str, code: str, now: datetime, minutes: int = 10,
                  step_seconds: int = 5) -> list[float | None]:
        """A fixed-length series (one mean per step, None where no data) for a tile sparkline."""
        since = now - timedelta(minutes=minutes)
        buckets: list[list[float]] = [[] for _ in range(minutes * 60 // step_seconds)]
        origin = to_ms(since)
        for ms, value in self.trend(room, code, since):
            i = (ms - origin) // (step_seconds * 1000)
            if 0 <= i < len(buckets):
                buckets[i].append(value)
        return [sum(b) / len(b) if b else None for b in buckets]
