"""Alarm priorities, active alarms and the events that make up the alarm log."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime


class Priority(enum.IntEnum):
    """IEC 60601-1-8 priorities; the value orders them (higher is more urgent)."""

    NONE = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3

    @property
    def word(self) -> str:
        return self.name.lower()


class Kind(enum.StrEnum):
    """Physiological alarms are about the patient; technical ones about the equipment."""

    PHYSIOLOGICAL = "physiological"
    TECHNICAL = "technical"
    REMINDER = "reminder"  # a session's due BP check or observation time, shown as low


class Transition(enum.StrEnum):
    """What happened to an alarm; each one is a row in the alarm log."""

    RAISED = "raised"
    PRIORITY_CHANGED = "priority_changed"
    UPDATED = "updated"  # a new cuff measurement kept the alarm: new value, same priority
    ACKNOWLEDGED = "acknowledged"  # by a signed-in user (by_user), with an optional note
    AUDIO_PAUSED = "audio_paused"  # for the alarm's room, by a user, for a time
    AUDIO_RESUMED = "audio_resumed"  # the pause ran out or a new/higher alarm broke through
    REMINDER = "reminder"  # an acknowledged alarm still present re-sounds
    ESCALATED = "escalated"  # a high alarm left unacknowledged too long
    LATCHED = "latched"  # a latching alarm's condition ended; it stays until acknowledged
    CLEARED = "cleared"
    LATCHED_CLEARED = "latched_cleared"  # a latched alarm acknowledged, and so ended


@dataclass(frozen=True, slots=True)
class Alarm:
    """An alarm that is active now."""

    id: str
    room: str
    vital: str  # a vital code, or "device" for the link to the monitor
    kind: Kind
    priority: Priority
    message: str
    since: datetime
    value: float | None = None
    limit: float | None = None
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    latched: bool = False  # its condition ended, but it stays until acknowledged
    escalated: bool = False  # left unacknowledged at high priority too long

    @property
    def acknowledged(self) -> bool:
        return self.acknowledged_by is not None


@dataclass(frozen=True, slots=True)
class AlarmEvent:
    """One transition of one alarm, as written to the alarm log."""

    alarm_id: str
    room: str
    vital: str
    kind: Kind
    priority: Priority
    transition: Transition
    message: str
    at: datetime
    value: float | None = None
    limit: float | None = None
    by_user: str | None = None
    note: str | None = None
