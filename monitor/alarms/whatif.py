"""What-if limits: run readings through the real engine under a candidate profile and set the
alarms it would have raised beside those actually logged, to tune limits against fatigue."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from monitor.alarms.engine import AlarmEngine
from monitor.alarms.log import AUDIO, event_from_row
from monitor.alarms.model import AlarmEvent, Kind, Priority, Transition
from monitor.alarms.rules import Profile
from monitor.alarms.settings import AlarmSettings
from monitor.errors import IvmonError
from monitor.messages import DeviceStatus
from monitor.reading import Quality, Reading
from monitor.storage.schema import AlarmEventRow, ReadingRow, SessionRow, from_ms

# An alarm's condition ends here; a latched alarm stays on screen longer, but that is not
# what a change of limits changes.
_ENDS = (Transition.CLEARED, Transition.LATCHED, Transition.LATCHED_CLEARED)


@dataclass(frozen=True, slots=True)
class Span:
    """One alarm from start to the end of its condition (None: still on at the data's end),
    at the highest priority it reached, with the text it had then."""

    alarm_id: str
    room: str
    vital: str
    kind: Kind
    priority: Priority
    message: str
    start: datetime
    end: datetime | None


def spans(events: Iterable[AlarmEvent]) -> list[Span]:
    """The alarms in a list of events (audio pauses and session reminders left out)."""
    found: dict[str, Span] = {}
    for e in events:
        if e.vital == AUDIO or e.kind is Kind.REMINDER:
            continue
        span = found.get(e.alarm_id)
        if e.transition is Transition.RAISED or span is None:
            if e.transition is Transition.RAISED:
                found[e.alarm_id] = Span(e.alarm_id, e.room, e.vital, e.kind, e.priority,
                                         e.message, e.at, None)
            continue
        if span.end is not None:
            continue
        if e.transition in _ENDS:
            found[e.alarm_id] = replace(span, end=e.at)
        elif e.priority > span.priority:
            found[e.alarm_id] = replace(span, priority=e.priority,
                                       message=e.message)
    return sorted(found.values(), key=lambda s: (s.start, s.room, s.vital))


def counts(alarms: Iterable[Span], kind: Kind | None = Kind.PHYSIOLOGICAL) -> dict[str, int]:
    """How many alarms per priority word (high, medium, low), of one kind (None: all)."""
    result = {"high": 0, "medium": 0, "low": 0}
    for span in alarms:
        if kind is None or span.kind is kind:
            result[span.priority.word] = result.get(span.priority.word, 0) + 1
    return result


def simulate(messages: Iterable[Reading | DeviceStatus], profile: Profile, *,
             settings: AlarmSettings | None = None, baseline: Mapping[str, float] | None = None,
             tick_seconds: float = 1.0) -> list[AlarmEvent]:
    """Every event the engine makes from time-ordered readings (and link states), with a tick
    every ``tick_seconds`` in the gaps so condition delays complete as they would live."""
    engine = AlarmEngine(profile, settings)
    events: list[AlarmEvent] = []
    rooms: set[str] = set()
    step = timedelta(seconds=tick_seconds)
    clock: datetime | None = None
    for message in messages:
        at = message.received if isinstance(message, Reading) else message.at
        if message.room not in rooms:
            rooms.add(message.room)
            for code, value in (baseline or {}).items():
                engine.set_baseline(message.room, code, value)
        if clock is not None:
            tick = clock + step
            while tick < at:
                events += engine.tick(tick)
                tick += step
        clock = at if clock is None else max(clock, at)
        events += engine.on_reading(message) if isinstance(message, Reading) \
            else engine.on_status(message)
    return events


@dataclass(frozen=True, slots=True)
class WhatIf:
    """The alarms actually logged for a session beside those a candidate profile would raise.

    ``*_counts`` count physiological alarms only: technical ones (a lost link, data errors)
    come from the equipment, not from limits, and stored readings cannot replay them.
    """

    profile: str
    actual: tuple[Span, ...]
    candidate: tuple[Span, ...]

    @property
    def actual_counts(self) -> dict[str, int]:
        return counts(self.actual)

    @property
    def candidate_counts(self) -> dict[str, int]:
        return counts(self.candidate)


def compare(readings: Iterable[Reading], actual: Iterable[AlarmEvent], candidate: Profile,
            baseline: Mapping[str, float] | None = None) -> WhatIf:
    """Pure: the candidate's alarms over ``readings`` beside the ``actual`` events' alarms."""
    ordered = sorted(readings, key=lambda r: r.received)
    return WhatIf(candidate.name, tuple(spans(actual)),
                  tuple(spans(simulate(ordered, candidate, baseline=baseline))))


# -- a stored session -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StoredSession:
    room: str
    readings: list[Reading]
    events: list[AlarmEvent]
    baseline: dict[str, float]


def load_session(db: Engine, session_id: int) -> StoredSession:
    """A session's readings (invalid ones as such), logged alarm events and baseline."""
    with Session(db) as session:
        info = session.get(SessionRow, session_id)
        if info is None:
            raise IvmonError(f"There is no session {session_id}.")
        rows = session.scalars(select(ReadingRow).where(ReadingRow.session_id == session_id)
                               .order_by(ReadingRow.received_ms, ReadingRow.id)).all()
        readings = [Reading(r.room, r.device, r.code,
                            math.nan if r.value is None else r.value, from_ms(r.received_ms),
                            quality=Quality(r.quality) if r.value is not None
                            else Quality.INVALID, seq=r.seq) for r in rows]
        events = [event_from_row(r) for r in session.scalars(
            select(AlarmEventRow).where(AlarmEventRow.session_id == session_id)
            .order_by(AlarmEventRow.id))]
        baseline = {code: value for code, value in (("nibp_sys", info.baseline_sys),
                                                    ("nibp_dia", info.baseline_dia))
                    if value is not None}
        return StoredSession(info.room, readings, events, baseline)


def what_if(db: Engine, session_id: int, candidate: Profile) -> WhatIf:
    """Re-run a stored session under ``candidate``; the alarms next to those it really had."""
    stored = load_session(db, session_id)
    return compare(stored.readings, stored.events, candidate, stored.baseline)
