"""Commands from screens and the API; they travel the bus like readings and are logged.

A screen never changes an alarm itself: it submits a command, the alarm listener turns it
into events, the recorder commits them, and only then does any screen show the result.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from monitor.alarms.model import AlarmEvent
from monitor.alarms.rules import Profile, Rule
from monitor.alarms.settings import AlarmSettings


@dataclass(frozen=True, slots=True)
class Acknowledge:
    """A signed-in user acknowledges one alarm, with an optional note."""

    alarm_id: str
    user: str
    at: datetime
    note: str | None = None


@dataclass(frozen=True, slots=True)
class PauseAudio:
    """A user pauses a room's audio; ``seconds`` None means the clinic's audio pause."""

    room: str
    user: str
    at: datetime
    seconds: float | None = None


@dataclass(frozen=True, slots=True)
class OverrideLimits:
    """A nurse's limits for one session in one room, replacing the rules of each vital and
    side they cover (an empty tuple returns the room to the profile); logged with who and
    why."""

    room: str
    session_id: int
    rules: tuple[Rule, ...]
    user: str
    reason: str
    at: datetime


@dataclass(frozen=True, slots=True)
class ChangeProfile:
    """An admin saves an alarm profile; the station uses it when it is the configured one."""

    profile: Profile
    user: str
    at: datetime


@dataclass(frozen=True, slots=True)
class ChangeSettings:
    """An admin changes the clinic-wide alarm settings."""

    settings: AlarmSettings
    user: str
    at: datetime


Command = Acknowledge | PauseAudio | OverrideLimits | ChangeProfile | ChangeSettings


@dataclass(frozen=True, slots=True)
class CommandDone:
    """Published after a command's events, so it reaches each listener after they have: when a
    listener registered after the recorder sees it, the events are committed to the log."""

    command: object
    events: tuple[AlarmEvent, ...]
    error: Exception | None = None
