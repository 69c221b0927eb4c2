"""The alarm book: active alarms, acknowledgements, latches and audio pauses rebuilt from events.

The engine keeps its alarms in an AlarmBook and changes it only by applying the events it
emits; the live state applies the same events; after a crash the station replays the log into
a new book. One ``apply`` for all three is what makes "restored from the log" mean "the same".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from monitor.alarms.model import Alarm, AlarmEvent, Kind, Priority, Transition
from monitor.storage.schema import AlarmEventRow, from_ms

DEVICE = "device"  # the `vital` of a technical alarm about the link to the monitor
SERIAL = "serial"  # the `vital` of a technical alarm about data errors on the line
AUDIO = "audio"  # the `vital` of an audio pause's events (its id is the pause's, not an alarm's)

_ENDED = (Transition.CLEARED, Transition.LATCHED_CLEARED, Transition.AUDIO_RESUMED)
_PRIORITIES = {p.word: p for p in Priority}


@dataclass(slots=True)
class Entry:
    """An active alarm with what its lifecycle needs to remember."""

    alarm: Alarm
    slot: str  # which condition owns it in its room: "hr:high", "device", "invalid:spo2"
    high_since: datetime | None = None  # when it last became high priority (escalation)
    peak: Alarm | None = None  # its latest high-priority form not yet acknowledged (latching)
    sounded: datetime | None = None  # acknowledged or last reminded (the reminder counts on)


@dataclass(frozen=True, slots=True)
class AudioPause:
    """A room's audio paused by a user until a time, unless a new or higher alarm comes."""

    room: str
    id: str
    by_user: str | None
    since: datetime
    until: datetime
    ceiling: Priority  # the most urgent alarm active when paused; above it breaks through

    def seconds_left(self, now: datetime) -> float:
        return max(0.0, (self.until - now).total_seconds())


def slot_of(event: AlarmEvent) -> str:
    """The condition an alarm belongs to, from the event that raised it.

    A raising value always meets its rule, so value against limit tells a low-side alarm
    ("HR 45 < 50") from a high-side one ("HR 135 > 130", "SBP 150 >= baseline + 40").
    """
    if event.kind is Kind.TECHNICAL:
        if event.vital in (DEVICE, SERIAL, AUDIO):
            return event.vital
        return f"invalid:{event.vital}"
    if event.kind is Kind.PHYSIOLOGICAL:
        low = event.value is not None and event.limit is not None and event.value < event.limit
        return f"{event.vital}:{'low' if low else 'high'}"
    return f"{event.kind}:{event.alarm_id}"  # session reminders: each one its own


class AlarmBook:
    """Active alarms and audio pauses, changed only by ``apply``. Not thread-safe by itself."""

    def __init__(self) -> None:
        self._entries: dict[str, Entry] = {}
        self._slots: dict[tuple[str, str], str] = {}
        self._pauses: dict[str, AudioPause] = {}

    def apply(self, event: AlarmEvent) -> None:
        if event.vital == AUDIO:
            self._apply_audio(event)
            return
        t = event.transition
        entry = self._entries.get(event.alarm_id)
        if t is Transition.RAISED:
            alarm = Alarm(id=event.alarm_id, room=event.room, vital=event.vital,
                          kind=event.kind, priority=event.priority, message=event.message,
                          since=event.at, value=event.value, limit=event.limit)
            high = event.priority is Priority.HIGH
            entry = Entry(alarm, slot_of(event), high_since=event.at if high else None,
                          peak=alarm if high else None)
            self._entries[alarm.id] = entry
            self._slots[(alarm.room, entry.slot)] = alarm.id
            return
        if entry is None:
            return  # the log's start was trimmed, or an event of an alarm never raised here
        old = entry.alarm
        if t in (Transition.PRIORITY_CHANGED, Transition.UPDATED):
            alarm = replace(old, priority=event.priority, message=event.message,
                            value=event.value, limit=event.limit, latched=False)
            if event.priority > old.priority and not old.latched:
                # A higher priority is a new alarm condition for whoever acknowledged it.
                alarm = replace(alarm, acknowledged_by=None, acknowledged_at=None)
                entry.sounded = None
            if event.priority is Priority.HIGH:
                if old.priority is not Priority.HIGH or old.latched:
                    entry.high_since = event.at
                if not alarm.acknowledged:
                    entry.peak = alarm
            else:
                entry.high_since = None
            entry.alarm = alarm
        elif t is Transition.ACKNOWLEDGED:
            entry.alarm = replace(old, acknowledged_by=event.by_user, acknowledged_at=event.at)
            entry.peak, entry.sounded = None, event.at
        elif t is Transition.REMINDER:
            entry.sounded = event.at
        elif t is Transition.ESCALATED:
            entry.alarm = replace(old, escalated=True)
        elif t is Transition.LATCHED:
            entry.alarm = replace(old, priority=event.priority, message=event.message,
                                  value=event.value, limit=event.limit, latched=True)
        elif t in _ENDED:
            del self._entries[event.alarm_id]
            if self._slots.get((old.room, entry.slot)) == old.id:
                del self._slots[(old.room, entry.slot)]

    def _apply_audio(self, event: AlarmEvent) -> None:
        if event.transition is Transition.AUDIO_PAUSED:
            self._pauses[event.room] = AudioPause(
                event.room, event.alarm_id, event.by_user, event.at,
                event.at + timedelta(seconds=event.value or 0), event.priority)
        elif event.transition is Transition.AUDIO_RESUMED:
            pause = self._pauses.get(event.room)
            if pause is not None and pause.id == event.alarm_id:
                del self._pauses[event.room]

    # -- queries --------------------------------------------------------------------------

    def get(self, alarm_id: str) -> Entry | None:
        return self._entries.get(alarm_id)

    def in_slot(self, room: str, slot: str) -> Entry | None:
        alarm_id = self._slots.get((room, slot))
        return None if alarm_id is None else self._entries[alarm_id]

    def entries(self, room: str | None = None) -> list[Entry]:
        return [e for e in self._entries.values() if room in (None, e.alarm.room)]

    def active(self, room: str | None = None) -> list[Alarm]:
        """Active alarms (latched ones too), most urgent first, then oldest."""
        return sorted((e.alarm for e in self.entries(room)), key=lambda a: (-a.priority, a.since))

    def audio(self, room: str) -> AudioPause | None:
        return self._pauses.get(room)

    def pauses(self) -> list[AudioPause]:
        return list(self._pauses.values())

    def rooms(self) -> set[str]:
        return {e.alarm.room for e in self._entries.values()} | set(self._pauses)


def replay(events: Iterable[AlarmEvent]) -> AlarmBook:
    """The book the events leave behind, in log order."""
    book = AlarmBook()
    for event in events:
        book.apply(event)
    return book


# -- the log in the database ----------------------------------------------------------------


def event_from_row(row: AlarmEventRow) -> AlarmEvent:
    return AlarmEvent(alarm_id=row.alarm_id, room=row.room, vital=row.vital,
                      kind=Kind(row.kind), priority=_PRIORITIES[row.priority],
                      transition=Transition(row.transition), message=row.message,
                      at=from_ms(row.at_ms), value=row.value, limit=row.limit,
                      by_user=row.by_user, note=row.note)


def unfinished(db: Engine) -> list[AlarmEvent]:
    """Every logged event of the alarms and audio pauses that have not ended, in log order.

    A session's reminders are left to the session manager, which raises again what is due
    (their ids repeat from one raising to the next, so "not ended" cannot be told by id).
    """
    ended = select(AlarmEventRow.alarm_id).where(
        AlarmEventRow.transition.in_([str(t) for t in _ENDED]))
    query = (select(AlarmEventRow).where(AlarmEventRow.alarm_id.not_in(ended),
                                         AlarmEventRow.kind != str(Kind.REMINDER))
             .order_by(AlarmEventRow.id))
    with Session(db) as session:
        return [event_from_row(row) for row in session.scalars(query)]


def restore(db: Engine) -> AlarmBook:
    """The book as the log left it: what was active before a crash is active again."""
    return replay(unfinished(db))
