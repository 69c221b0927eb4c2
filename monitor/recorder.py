"""The recorder: a bus listener that writes readings in batches and alarm events at once."""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from typing import Any

from sqlalchemy import Engine, insert
from sqlalchemy.exc import SQLAlchemyError

from monitor.alarms.model import AlarmEvent
from monitor.bus import Bus
from monitor.reading import Reading
from monitor.storage.database import safe_url
from monitor.storage.schema import AlarmEventRow, ReadingRow, to_ms

log = logging.getLogger(__name__)

# Readings kept in memory while the database is away: about 4 h of 32 rooms at 4 vitals/s.
MAX_BACKLOG = 2_000_000


class Recorder:
    """Stores every reading (batched about once a second) and every alarm event (at once).

    When the database is unreachable nothing already received is dropped: readings and alarm
    events wait in memory and are written when it answers again, and ``problem`` says why in
    a sentence the health page and the screens show.
    """

    def __init__(self, engine: Engine, flush_interval: float = 1.0) -> None:
        self._engine = engine
        self._interval = flush_interval
        self._readings: deque[dict[str, Any]] = deque()
        self._alarms: deque[dict[str, Any]] = deque()
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._sessions: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.problem: str | None = None
        self.readings_written = 0
        self.alarm_events_written = 0
        self.readings_dropped = 0

    def set_session(self, room: str, session_id: int | None) -> None:
        with self._lock:
            if session_id is None:
                self._sessions.pop(room, None)
            else:
                self._sessions[room] = session_id

    def on_message(self, message: object, bus: Bus) -> None:
        if isinstance(message, Reading):
            row = {
                "room": message.room, "device": message.device, "seq": message.seq,
                "code": message.code,
                "value": message.value
                if message.usable and math.isfinite(message.value) else None,
                "quality": str(message.quality),
                "received_ms": to_ms(message.received),
                "device_ms": to_ms(message.device_time) if message.device_time else None,
                "session_id": self._sessions.get(message.room),
            }
            with self._lock:
                if len(self._readings) >= MAX_BACKLOG:
                    self._readings.popleft()
                    self.readings_dropped += 1
                self._readings.append(row)
        elif isinstance(message, AlarmEvent):
            with self._lock:
                self._alarms.append(self._alarm_row(message))
            # Written before the live state (the next listener) can show it.
            self._write_alarms()

    def _alarm_row(self, event: AlarmEvent) -> dict[str, Any]:
        return {
            "alarm_id": event.alarm_id, "room": event.room, "vital": event.vital,
            "kind": str(event.kind), "priority": event.priority.word,
            "transition": str(event.transition), "message": event.message,
            "value": event.value, "limit_value": event.limit, "at_ms": to_ms(event.at),
            "by_user": event.by_user, "note": event.note,
            "session_id": self._sessions.get(event.room),
        }

    def _write_alarms(self) -> bool:
        with self._write_lock:
            with self._lock:
                rows = list(self._alarms)
            if not rows:
                return True
            try:
                with self._engine.begin() as conn:
                    conn.execute(insert(AlarmEventRow), rows)
            except SQLAlchemyError as exc:
                self._failed(exc)
                return False
            with self._lock:
                for _ in rows:
                    self._alarms.popleft()
            self.alarm_events_written += len(rows)
            self._recovered()
            return True

    def flush(self) -> bool:
        """Write everything waiting; return False (keeping it) when the database refuses."""
        if not self._write_alarms():
            return False
        with self._write_lock:
            with self._lock:
                rows = list(self._readings)
            if not rows:
                return True
            try:
                with self._engine.begin() as conn:
                    conn.execute(insert(ReadingRow), rows)
            except SQLAlchemyError as exc:
                self._failed(exc)
                return False
            with self._lock:
                for _ in rows:
                    self._readings.popleft()
            self.readings_written += len(rows)
            self._recovered()
            return True

    @property
    def backlog(self) -> int:
        with self._lock:
            return len(self._readings) + len(self._alarms)

    def _failed(self, exc: SQLAlchemyError) -> None:
        problem = (f"The database at {safe_url(str(self._engine.url))} is not accepting data; "
                   f"{self.backlog} records are held in memory and will be written when it "
                   f"returns.")
        if self.problem is None:
            log.error("%s (%s)", problem, exc.__class__.__name__)
        self.problem = problem

    def _recovered(self) -> None:
        if self.problem is not None:
            log.warning("The database is accepting data again; the backlog was written.")
            self.problem = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="ivmon-recorder", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            self.flush()
            self._stop.wait(max(0.05, self._interval - (time.monotonic() - started)))

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        self.flush()
