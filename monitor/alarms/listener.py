"""The alarm engine as a bus listener: readings, device status, ticks and commands in, events
published; and the receipts that let an API call wait until its events are in the log."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from monitor.alarms.engine import AlarmEngine
from monitor.alarms.log import AudioPause
from monitor.alarms.model import Alarm, AlarmEvent, Kind, Transition
from monitor.alarms.profiles import profile_problems, rules_problems
from monitor.alarms.rules import Profile
from monitor.alarms.settings import AlarmSettings
from monitor.bus import Bus
from monitor.commands import (
    Acknowledge,
    ChangeProfile,
    ChangeSettings,
    CommandDone,
    OverrideLimits,
    PauseAudio,
)
from monitor.errors import AlarmRulesError, IvmonError
from monitor.messages import DeviceErrors, DeviceStatus, SessionStarted, Tick
from monitor.reading import Reading

log = logging.getLogger(__name__)

_FOREIGN = (Transition.RAISED, Transition.UPDATED, Transition.PRIORITY_CHANGED,
            Transition.CLEARED)
COMMANDS = (Acknowledge, PauseAudio, OverrideLimits, ChangeProfile, ChangeSettings)


class AlarmListener:
    """Runs the engine on the bus thread and publishes every transition it makes.

    A command's events are followed on the bus by a CommandDone carrying them (or the
    error that refused the command), so a receipt can tell its submitter.
    """

    def __init__(self, engine: AlarmEngine,
                 record: Callable[[object], None] | None = None) -> None:
        self.engine = engine
        # Keeps an accepted change of limits, profile or settings (AlarmStore.record) before
        # it is applied; if it raises, the change is refused.
        self._record = record
        self._lock = threading.Lock()  # queries come from web threads

    def on_message(self, message: object, bus: Bus) -> None:
        if isinstance(message, COMMANDS):
            self._command(message, bus)
            return
        with self._lock:
            if isinstance(message, Reading):
                events = self.engine.on_reading(message)
            elif isinstance(message, DeviceStatus):
                events = self.engine.on_status(message)
            elif isinstance(message, DeviceErrors):
                events = self.engine.on_errors(message)
            elif isinstance(message, Tick):
                events = self.engine.tick(message.at)
            elif isinstance(message, SessionStarted):
                events = self.engine.on_session(message.room, message.session_id, message.at)
            elif isinstance(message, AlarmEvent) and message.kind is Kind.REMINDER \
                    and message.transition in _FOREIGN:
                # A session's reminder (raised by the session manager) is acknowledged and
                # re-sounded like any alarm, so the engine's book must know it.
                self.engine.book.apply(message)
                return
            else:
                return
        for event in events:
            bus.publish(event)

    def _command(self, command: object, bus: Bus) -> None:
        events: list[AlarmEvent] = []
        error: Exception | None = None
        try:
            with self._lock:
                events = self._run(command)
        except IvmonError as exc:
            error = exc
            log.info("%s refused: %s", type(command).__name__, exc)
        except Exception as exc:  # a bug must not leave the submitter waiting
            log.exception("%s failed", type(command).__name__)
            error = IvmonError(f"The alarm system could not carry out the "
                               f"{type(command).__name__} (an internal error; it is logged).")
            error.__cause__ = exc
        for event in events:
            bus.publish(event)
        bus.publish(CommandDone(command, tuple(events), error))

    def _run(self, command: object) -> list[AlarmEvent]:
        engine = self.engine
        if isinstance(command, Acknowledge):
            return engine.acknowledge(command.alarm_id, command.user, command.at, command.note)
        if isinstance(command, PauseAudio):
            return engine.pause_audio(command.room, command.user, command.at, command.seconds)
        if isinstance(command, OverrideLimits):
            problems = rules_problems(command.rules)
            if not command.reason.strip():
                problems.append("A change of limits needs a reason, for the record.")
            if problems:
                raise AlarmRulesError(problems)
            self._keep(command)
            return engine.set_rules(command.room, command.rules or None, command.at,
                                    command.session_id)
        if isinstance(command, ChangeProfile):
            problems = profile_problems(command.profile)
            if problems:
                raise AlarmRulesError(problems)
            self._keep(command)
            if command.profile.name != engine.profile.name:
                return []  # saved for later use; this station runs another profile
            return engine.set_profile(command.profile, command.at)
        if isinstance(command, ChangeSettings):
            command.settings.validated()
            self._keep(command)
            engine.settings = command.settings
            return []
        return []

    def _keep(self, command: object) -> None:
        if self._record is not None:
            self._record(command)

    # -- queries from any thread ------------------------------------------------------

    def active(self, room: str | None = None) -> list[Alarm]:
        with self._lock:
            return self.engine.active(room)

    def audio(self, room: str) -> AudioPause | None:
        with self._lock:
            return self.engine.audio(room)

    def profile_for(self, room: str) -> Profile:
        with self._lock:
            return self.engine.profile_for(room)

    def baseline(self, room: str) -> dict[str, float]:
        with self._lock:
            return self.engine.baseline(room)

    @property
    def settings(self) -> AlarmSettings:
        return self.engine.settings


@dataclass(slots=True)
class _Waiter:
    command: object
    done: threading.Event = field(default_factory=threading.Event)
    events: tuple[AlarmEvent, ...] = ()
    error: Exception | None = None


class Receipts:
    """Registered last on the bus, it wakes whoever submitted a command once the command's
    events have passed every listener before it, the recorder included: committed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting: dict[int, _Waiter] = {}

    def submit(self, bus: Bus, command: object, timeout: float = 10.0) -> list[AlarmEvent]:
        """Publish ``command`` and return its events once they are logged; raise its error."""
        waiter = _Waiter(command)  # holds the command, so its id stays unique while waiting
        with self._lock:
            self._waiting[id(command)] = waiter
        bus.publish(command)
        if not waiter.done.wait(timeout):
            with self._lock:
                self._waiting.pop(id(command), None)
            raise IvmonError(f"The station did not confirm the {type(command).__name__} "
                             f"within {timeout:g} s; it may still be applied, so check the "
                             f"alarm log before trying again.")
        if waiter.error is not None:
            raise waiter.error
        return list(waiter.events)

    def on_message(self, message: object, bus: Bus) -> None:
        if not isinstance(message, CommandDone):
            return
        with self._lock:
            waiter = self._waiting.get(id(message.command))
            if waiter is None or waiter.command is not message.command:
                return
            del self._waiting[id(message.command)]
        waiter.events, waiter.error = message.events, message.error
        waiter.done.set()
