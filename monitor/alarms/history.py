"""The alarm log as a clinic reviews it: filtered by room, priority, vital, dates and
acknowledgement, and exported as CSV."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TextIO

from sqlalchemy import Engine, Select, func, select
from sqlalchemy.orm import Session

from monitor.alarms.log import AUDIO, event_from_row
from monitor.alarms.model import AlarmEvent, Priority, Transition
from monitor.errors import IvmonError
from monitor.storage.schema import AlarmEventRow, to_ms

CSV_HEADER = ("time", "room", "alarm_id", "transition", "priority", "kind", "vital",
              "message", "value", "limit", "by_user", "note", "session_id")
PRIORITY_WORDS = tuple(p.word for p in Priority)
_ACKNOWLEDGING = (str(Transition.ACKNOWLEDGED), str(Transition.LATCHED_CLEARED))


@dataclass(frozen=True, slots=True)
class HistoryFilter:
    """Which rows of the log to show; every field left as None matches everything."""

    room: str | None = None
    priority: str | None = None  # high, medium, low (the priority each row was logged at)
    vital: str | None = None  # a vital code, "device", "serial" or "audio"
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive
    unacknowledged: bool = False  # only alarms nobody acknowledged (audio pauses left out)
    oldest_first: bool = False
    limit: int | None = None
    offset: int = 0

    def __post_init__(self) -> None:
        if self.priority is not None and self.priority not in PRIORITY_WORDS:
            raise IvmonError(f"The priority {self.priority!r} must be one of high, medium "
                             f"or low.")
        if self.since and self.until and self.since >= self.until:
            raise IvmonError("The start of the date range must be before its end.")


@dataclass(frozen=True, slots=True)
class LoggedEvent:
    """One row of the alarm log."""

    id: int
    event: AlarmEvent
    session_id: int | None


def _where(query: Select, f: HistoryFilter) -> Select:  # type: ignore[type-arg]
    row = AlarmEventRow
    if f.room is not None:
        query = query.where(row.room == f.room)
    if f.priority is not None:
        query = query.where(row.priority == f.priority)
    if f.vital is not None:
        query = query.where(row.vital == f.vital)
    if f.since is not None:
        query = query.where(row.at_ms >= to_ms(f.since))
    if f.until is not None:
        query = query.where(row.at_ms < to_ms(f.until))
    if f.unacknowledged:
        acknowledged = select(row.alarm_id).where(row.transition.in_(_ACKNOWLEDGING))
        query = query.where(row.alarm_id.not_in(acknowledged), row.vital != AUDIO)
    return query


def query(db: Engine, f: HistoryFilter | None = None) -> list[LoggedEvent]:
    """The rows that match, newest first unless ``oldest_first``."""
    f = f or HistoryFilter()
    order = (AlarmEventRow.at_ms, AlarmEventRow.id) if f.oldest_first \
        else (AlarmEventRow.at_ms.desc(), AlarmEventRow.id.desc())
    statement = _where(select(AlarmEventRow), f).order_by(*order).offset(f.offset)
    if f.limit is not None:
        statement = statement.limit(f.limit)
    with Session(db) as session:
        return [LoggedEvent(r.id, event_from_row(r), r.session_id)
                for r in session.scalars(statement)]


def count(db: Engine, f: HistoryFilter | None = None) -> int:
    """How many rows match (for a page's "1-50 of N")."""
    statement = _where(select(func.count()).select_from(AlarmEventRow), f or HistoryFilter())
    with db.connect() as conn:
        return int(conn.execute(statement).scalar_one())


def iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def write_csv(rows: Iterable[LoggedEvent], out: TextIO) -> int:
    """Write rows as CSV (times ISO 8601 UTC); return how many were written."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    written = 0
    for row in rows:
        e = row.event
        writer.writerow((iso(e.at), e.room, e.alarm_id, str(e.transition), e.priority.word,
                         str(e.kind), e.vital, e.message, _num(e.value), _num(e.limit),
                         e.by_user or "", e.note or "",
                         "" if row.session_id is None else row.session_id))
        written += 1
    return written


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:g}"
