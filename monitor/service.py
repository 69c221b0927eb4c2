"""The station service: wires bus, alarm engine, recorder, live state, devices and sessions."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from sqlalchemy import Engine, insert

from monitor.alarms import AlarmEngine, profile
from monitor.alarms.listener import AlarmListener
from monitor.bus import Bus
from monitor.clock import Clock, SystemClock
from monitor.config import Config
from monitor.errors import ConfigError
from monitor.live import LiveState
from monitor.messages import SessionStarted, Tick
from monitor.recorder import Recorder
from monitor.storage.database import migrate, open_database
from monitor.storage.schema import SessionRow, to_ms

log = logging.getLogger(__name__)


class DeviceRunner(Protocol):
    """What the service needs of a device adapter (``devices.base.Device`` is one)."""

    room: str
    id: str

    def run(self, publish: Callable[[object], None], stop: threading.Event) -> None: ...


@dataclass(frozen=True, slots=True)
class SessionPlan:
    """How a room's session starts: a label and how far in it already is (the demo staggers)."""

    label: str = ""
    elapsed_seconds: float = 0.0


class Station:
    """One central station: everything between the device adapters and the screens.

    Devices are handed in (built by the CLI from the device registry), so this package
    never imports an adapter.
    """

    def __init__(self, config: Config, devices: list[DeviceRunner] | None = None,
                 clock: Clock | None = None, engine: Engine | None = None) -> None:
        self.config = config
        self.clock = clock or SystemClock()
        try:
            alarm_profile = profile(config.alarm_profile)
        except KeyError as exc:
            raise ConfigError(config.source, "alarms.profile", str(exc.args[0])) from None
        self.db = engine or open_database(config.database_url)
        migrate(self.db)
        self.bus = Bus()
        self.alarms = AlarmListener(AlarmEngine(alarm_profile))
        self.recorder = Recorder(self.db)
        self.live = LiveState({r.id: r.name for r in config.rooms})
        # Order matters: the recorder commits an alarm event before the live state shows it.
        self.bus.add_listener(self.alarms)
        self.bus.add_listener(self.recorder)
        self.bus.add_listener(self.live)
        self.devices = list(devices or [])
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.started = False

    @property
    def rooms(self) -> dict[str, str]:
        return {r.id: r.name for r in self.config.rooms}

    def start_session(self, room: str, plan: SessionPlan | None = None) -> int:
        """Open a session in a room and return its id."""
        plan = plan or SessionPlan()
        started = self.clock.now() - timedelta(seconds=plan.elapsed_seconds)
        with self.db.begin() as conn:
            session_id = conn.execute(insert(SessionRow).values(
                room=room, label=plan.label, protocol="iv-ketamine",
                profile=self.config.alarm_profile, started_ms=to_ms(started),
            )).inserted_primary_key[0]
        self.recorder.set_session(room, session_id)
        self.bus.publish(SessionStarted(room, session_id, started, plan.label))
        return int(session_id)

    def start(self, sessions: dict[str, SessionPlan] | None = None) -> None:
        """Start the bus, the recorder, the tick and every device."""
        self.bus.start()
        self.recorder.start()
        for room, plan in (sessions or {}).items():
            self.start_session(room, plan)
        self._spawn("ivmon-tick", self._tick)
        for device in self.devices:
            self._spawn(f"ivmon-device-{device.room}", device.run, self.bus.publish, self._stop)
        self.started = True
        log.info("station started: %d rooms, %d devices", len(self.config.rooms),
                 len(self.devices))

    def _spawn(self, name: str, target: Callable[..., None], *args: object) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _tick(self) -> None:
        interval = min(1.0, 1.0 / self.clock.speed)
        while not self._stop.wait(interval):
            self.bus.publish(Tick(self.clock.now()))

    def stop(self) -> None:
        """Stop devices, deliver what is queued, and write everything to the database."""
        self._stop.set()
        for thread in self._threads:
            thread.join(5)
        self.bus.stop()
        self.bus.drain()
        self.recorder.stop()
        self.started = False
        log.info("station stopped; %d readings and %d alarm events written",
                 self.recorder.readings_written, self.recorder.alarm_events_written)
