"""The alarm engine as a bus listener: readings, device status and ticks in, events published."""

from __future__ import annotations

import threading

from monitor.alarms.engine import AlarmEngine
from monitor.alarms.model import Alarm
from monitor.bus import Bus
from monitor.messages import DeviceStatus, Tick
from monitor.reading import Reading


class AlarmListener:
    """Runs the engine on the bus thread and publishes every transition it makes."""

    def __init__(self, engine: AlarmEngine) -> None:
        self.engine = engine
        self._lock = threading.Lock()  # queries come from web threads

    def on_message(self, message: object, bus: Bus) -> None:
        with self._lock:
            if isinstance(message, Reading):
                events = self.engine.on_reading(message)
            elif isinstance(message, DeviceStatus):
                events = self.engine.on_status(message)
            elif isinstance(message, Tick):
                events = self.engine.tick(message.at)
            else:
                return
        for event in events:
            bus.publish(event)

    def active(self, room: str | None = None) -> list[Alarm]:
        with self._lock:
            return self.engine.active(room)
