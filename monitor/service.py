"""The station service: wires bus, alarm engine, recorder, live state, devices and sessions."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Protocol

from sqlalchemy import Engine

from monitor.alarms import AlarmEngine
from monitor.alarms.listener import AlarmListener, Receipts
from monitor.alarms.log import replay, unfinished
from monitor.alarms.model import AlarmEvent
from monitor.alarms.rules import PROFILES, Profile, Rule
from monitor.alarms.settings import AlarmSettings
from monitor.alarms.store import AlarmStore
from monitor.alarms.webhook import WebhookNotifier
from monitor.bus import Bus
from monitor.clock import Clock, SystemClock
from monitor.commands import (
    Acknowledge,
    ChangeProfile,
    ChangeSettings,
    Command,
    OverrideLimits,
    PauseAudio,
)
from monitor.config import Config
from monitor.errors import AlarmRulesError, ConfigError, IvmonError, StorageError
from monitor.live import LiveState
from monitor.messages import SessionStarted, Tick
from monitor.recorder import Recorder
from monitor.sessions import SessionManager
from monitor.storage.database import migrate, open_database

log = logging.getLogger(__name__)


def _database_exists(url: str) -> bool:
    """False only for an SQLite file not created yet; a server database is taken to exist."""
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        return Path(url.removeprefix("sqlite:///")).expanduser().exists()
    return True


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
    source: str = "demo"


class Station:
    """One central station: everything between the device adapters and the screens.

    Devices are handed in (built by the CLI from the device registry), so this package
    never imports an adapter.
    """

    def __init__(self, config: Config, devices: list[DeviceRunner] | None = None,
                 clock: Clock | None = None, engine: Engine | None = None) -> None:
        self.config = config
        self.clock = clock or SystemClock()
        if engine is None and config.alarm_profile not in PROFILES \
                and not _database_exists(config.database_url):
            # A clinic's own profile lives in its database: with none yet, the name can only
            # be a mistake, and a mistake must not leave an empty database behind.
            raise ConfigError(config.source, "alarms.profile",
                              f"one of {', '.join(PROFILES)} (or a profile the clinic saved)",
                              config.alarm_profile)
        self.db = engine or open_database(config.database_url)
        migrate(self.db)
        # The clinic's profiles and settings (as its admins edited them) over the built-ins.
        self.store = AlarmStore(self.db)
        try:
            alarm_profile = self.store.profile(config.alarm_profile)
        except KeyError as exc:
            raise ConfigError(config.source, "alarms.profile", str(exc.args[0])) from None
        self.bus = Bus()
        self.alarms = AlarmListener(AlarmEngine(alarm_profile, self.store.settings()),
                                    record=self.store.record)
        self.recorder = Recorder(self.db)
        self.live = LiveState({r.id: r.name for r in config.rooms})
        self.webhook = WebhookNotifier(lambda: self.alarms.settings.webhook_url,
                                       config.station_name, now=self.clock.now)
        self.receipts = Receipts()
        self.sessions = SessionManager(self.db, self.bus.publish, self.clock,
                                       on_room_session=self.recorder.set_session)
        # Order matters: the recorder commits an alarm event before the live state shows it
        # or the webhook sends it, and a command's receipt comes last of all.
        self.bus.add_listener(self.alarms)
        self.bus.add_listener(self.sessions)  # reminders on ticks; cuff readings as BP checks
        self.bus.add_listener(self.recorder)
        self.bus.add_listener(self.live)
        self.bus.add_listener(self.webhook)
        self.bus.add_listener(self.receipts)
        self.devices = list(devices or [])
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.started = False

    @property
    def rooms(self) -> dict[str, str]:
        return {r.id: r.name for r in self.config.rooms}

    def start_session(self, room: str, plan: SessionPlan | None = None) -> int:
        """Open a planned session in a room (the demo's simulated patients); return its id.

        A session the room still has open (the station restarted, perhaps after a crash)
        carries on instead: its alarms were restored from the log and must not start over."""
        plan = plan or SessionPlan()
        open_session = self.sessions.active(room)
        if open_session is not None:
            return open_session.id
        started = self.clock.now() - timedelta(seconds=plan.elapsed_seconds)
        return self.sessions.start(room, plan.label, at=started, source=plan.source,
                                   profile=self.config.alarm_profile, user="ivmon")

    def _resume_sessions(self) -> None:
        """Sessions still open from before a restart go on: tag readings, tell the screens."""
        for room, info in self.sessions.active_sessions().items():
            self.recorder.set_session(room, info.id)
            self.bus.publish(SessionStarted(room, info.id, info.started, info.label))

    def start(self, sessions: dict[str, SessionPlan] | None = None) -> None:
        """Restore the alarms the log left active, then start the bus, the recorder, the
        webhook, the tick and every device."""
        self.restore_alarms()
        self.bus.start()
        self.recorder.start()
        self.webhook.start()
        self._resume_sessions()
        for room, plan in (sessions or {}).items():
            self.start_session(room, plan)
        self._spawn("ivmon-tick", self._tick)
        for device in self.devices:
            self._spawn(f"ivmon-device-{device.room}", device.run, self.bus.publish, self._stop)
        self.started = True
        log.info("station started: %d rooms, %d devices", len(self.config.rooms),
                 len(self.devices))

    def restore_alarms(self) -> int:
        """Make active again what the alarm log says was active (after a restart or a crash),
        with its acknowledgement, latch and escalation; return how many alarms that is."""
        events = unfinished(self.db)
        # Two books from one replay: the engine's and the screens' must not share state.
        self.alarms.engine.restore(replay(events))
        self.live.restore(replay(events))
        # A session's reminders showing before the restart go on, not raised a second time.
        self.sessions.restore_reminders(self.alarms.active())
        count = len(self.alarms.active())
        if count:
            log.info("restored %d active alarms from the alarm log", count)
        return count

    # -- commands (screens and the API) ---------------------------------------------------

    def submit(self, command: Command, timeout: float = 10.0) -> list[AlarmEvent]:
        """Carry out a command through the bus; return its events once they are committed to
        the alarm log, or raise the IvmonError that refused it (AlarmNotFound, ...)."""
        if not self.started:
            raise IvmonError("The station is not running, so it cannot take commands.")
        events = self.receipts.submit(self.bus, command, timeout)
        if events and self.recorder.problem is not None:
            raise StorageError(f"Done, but not yet in the alarm log: {self.recorder.problem}")
        return events

    def acknowledge(self, alarm_id: str, user: str, note: str | None = None) -> list[AlarmEvent]:
        return self.submit(Acknowledge(alarm_id, user, self.clock.now(), note or None))

    def pause_audio(self, room: str, user: str, seconds: float | None = None
                    ) -> list[AlarmEvent]:
        return self.submit(PauseAudio(room, user, self.clock.now(), seconds))

    def override_limits(self, room: str, rules: tuple[Rule, ...], user: str,
                        reason: str) -> list[AlarmEvent]:
        """A nurse's limits for the room's current session (an empty tuple undoes them)."""
        views = self.live.snapshot(self.clock.now(), [room])
        session_id = views[0].session_id if views else None
        if session_id is None:
            raise AlarmRulesError([f"Room {room} has no session, so its limits cannot be "
                                   f"changed for one."])
        return self.submit(OverrideLimits(room, session_id, rules, user, reason,
                                          self.clock.now()))

    def change_profile(self, profile: Profile, user: str) -> list[AlarmEvent]:
        return self.submit(ChangeProfile(profile, user, self.clock.now()))

    def change_settings(self, settings: AlarmSettings, user: str) -> list[AlarmEvent]:
        return self.submit(ChangeSettings(settings, user, self.clock.now()))

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
        self.webhook.stop()
        self.started = False
        log.info("station stopped; %d readings and %d alarm events written",
                 self.recorder.readings_written, self.recorder.alarm_events_written)
