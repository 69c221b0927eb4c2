"""What happens to an alarm over its life: raised, changed, latched, acknowledged, escalated,
reminded, cleared, and a room's audio pause; pure functions from the book to new events.

The functions never change the book: the engine applies each event they return, so the same
``AlarmBook.apply`` decides the state live, in the screens and when the log is replayed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from monitor.alarms.log import AUDIO, AlarmBook, Entry
from monitor.alarms.model import Alarm, AlarmEvent, Kind, Priority, Transition
from monitor.alarms.settings import AlarmSettings
from monitor.errors import AlarmNotFound


@dataclass(frozen=True, slots=True)
class Finding:
    """What the conditions say one slot's alarm should be now."""

    vital: str
    kind: Kind
    priority: Priority
    message: str
    value: float | None = None
    limit: float | None = None


def new_id() -> str:
    return uuid.uuid4().hex[:16]


def event(alarm: Alarm, transition: Transition, at: datetime, *, value: float | None = None,
          by_user: str | None = None, note: str | None = None) -> AlarmEvent:
    return AlarmEvent(alarm_id=alarm.id, room=alarm.room, vital=alarm.vital, kind=alarm.kind,
                      priority=alarm.priority, transition=transition, message=alarm.message,
                      at=at, value=alarm.value if value is None else value, limit=alarm.limit,
                      by_user=by_user, note=note)


def _from(finding: Finding, alarm_id: str, room: str, transition: Transition,
          at: datetime) -> AlarmEvent:
    return AlarmEvent(alarm_id=alarm_id, room=room, vital=finding.vital, kind=finding.kind,
                      priority=finding.priority, transition=transition,
                      message=finding.message, at=at, value=finding.value,
                      limit=finding.limit)


def settle(book: AlarmBook, room: str, slot: str, finding: Finding | None, at: datetime, *,
           latching: bool, news: bool = False,
           last_value: float | None = None) -> list[AlarmEvent]:
    """The event that brings a slot's alarm in line with its condition, if any.

    ``news`` says the finding's text is worth an UPDATED when only it changed (a new cuff
    measurement, a changed limit, a new link detail); a streamed value changing by one beat
    is not. ``last_value`` is the value that ended the condition, for the log.
    """
    entry = book.in_slot(room, slot)
    if finding is None:
        if entry is None or entry.alarm.latched:
            return []
        alarm = entry.alarm
        if latching and entry.peak is not None and not alarm.acknowledged:
            # Shown as what it latched for: its high-priority form, not a milder later one.
            return [event(entry.peak, Transition.LATCHED, at)]
        return [event(alarm, Transition.CLEARED, at, value=last_value)]
    if entry is None:
        return [_from(finding, new_id(), room, Transition.RAISED, at)]
    alarm = entry.alarm
    if alarm.priority != finding.priority:
        return [_from(finding, alarm.id, room, Transition.PRIORITY_CHANGED, at)]
    if alarm.latched or (news and (finding.message, finding.value, finding.limit)
                         != (alarm.message, alarm.value, alarm.limit)):
        # The condition is back (or it is news): the same alarm, active again, new facts.
        return [_from(finding, alarm.id, room, Transition.UPDATED, at)]
    return []


def acknowledge(book: AlarmBook, alarm_id: str, user: str, at: datetime,
                note: str | None = None) -> list[AlarmEvent]:
    """ACKNOWLEDGED (or LATCHED_CLEARED for a latched alarm); nothing if already acknowledged."""
    entry = book.get(alarm_id)
    if entry is None:
        raise AlarmNotFound(alarm_id)
    if entry.alarm.latched:
        return [event(entry.alarm, Transition.LATCHED_CLEARED, at, by_user=user, note=note)]
    if entry.alarm.acknowledged:
        return []
    return [event(entry.alarm, Transition.ACKNOWLEDGED, at, by_user=user, note=note)]


def pause_audio(book: AlarmBook, room: str, user: str, at: datetime,
                seconds: float) -> list[AlarmEvent]:
    """AUDIO_PAUSED for a room; a pause already running ends first, so each pause has an end."""
    events = []
    old = book.audio(room)
    if old is not None:
        events.append(_audio(old.id, room, old.ceiling, Transition.AUDIO_RESUMED, at,
                             "Audio pause replaced by a new one", note="replaced"))
    ceiling = max((a.priority for a in book.active(room)), default=Priority.NONE)
    events.append(_audio(new_id(), room, ceiling, Transition.AUDIO_PAUSED, at,
                         f"Audio paused for {seconds:g} s by {user}", value=seconds,
                         by_user=user))
    return events


def _audio(pause_id: str, room: str, ceiling: Priority, transition: Transition, at: datetime,
           message: str, *, value: float | None = None, by_user: str | None = None,
           note: str | None = None) -> AlarmEvent:
    return AlarmEvent(alarm_id=pause_id, room=room, vital=AUDIO, kind=Kind.TECHNICAL,
                      priority=ceiling, transition=transition, message=message, at=at,
                      value=value, by_user=by_user, note=note)


def break_through(book: AlarmBook, happened: AlarmEvent) -> list[AlarmEvent]:
    """AUDIO_RESUMED when an event is a new alarm, or a priority above the paused ones."""
    pause = book.audio(happened.room)
    if pause is None or happened.vital == AUDIO:
        return []
    new = happened.transition is Transition.RAISED
    higher = happened.transition is Transition.PRIORITY_CHANGED \
        and happened.priority > pause.ceiling
    if not (new or higher):
        return []
    return [_audio(pause.id, happened.room, pause.ceiling, Transition.AUDIO_RESUMED,
                   happened.at, "Audio on again: a new or higher alarm",
                   note=f"break-through: {happened.message}")]


def due(book: AlarmBook, now: datetime, settings: AlarmSettings) -> list[AlarmEvent]:
    """What time alone brings: pauses running out, escalations and reminders."""
    events = [_audio(p.id, p.room, p.ceiling, Transition.AUDIO_RESUMED, now,
                     "Audio on again: the pause ran out", note="the pause ran out")
              for p in book.pauses() if p.until <= now]
    paused = {p.room for p in book.pauses() if p.until > now}
    for entry in book.entries():
        alarm = entry.alarm
        if _escalates(entry, now, settings):
            events.append(event(alarm, Transition.ESCALATED, now))
        elif alarm.acknowledged and entry.sounded is not None and alarm.room not in paused \
                and (now - entry.sounded).total_seconds() >= settings.reminder_seconds:
            events.append(event(alarm, Transition.REMINDER, now))
    return events


def _escalates(entry: Entry, now: datetime, settings: AlarmSettings) -> bool:
    alarm = entry.alarm
    return (alarm.priority is Priority.HIGH and not alarm.acknowledged and not alarm.escalated
            and entry.high_since is not None
            and (now - entry.high_since).total_seconds() >= settings.escalation_seconds)
