"""CSV export: the readings in wide form with units in the header, plus alarms and events.

``FILE`` gets one row per moment readings arrived (a monitor's frame), one column per vital
with its UCUM unit in the header: ``time,hr [/min],spo2 [%],nibp_sys [mm[Hg]],...``; a blank
cell means not measured then (a cuff value appears only on the row of its measurement).
``time`` is ISO 8601 UTC. Beside it, ``FILE.alarms.csv`` holds one row per alarm (raised,
cleared, priority, message, who acknowledged and when) and ``FILE.events.csv`` the session's
events with who recorded them. ``ivmon import csv`` reads the readings file back.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import Engine

from monitor.exports import ExportError, iso_time, number
from monitor.history import (
    alarm_spans,
    get_session,
    readings,
    session_events,
    session_vitals,
)
from monitor.storage.schema import from_ms
from monitor.vitals import BY_CODE

ALARM_HEADER = ("raised", "cleared", "priority", "kind", "vital", "message", "last_message",
                "peak_value", "limit", "acknowledged_by", "acknowledged_at", "ack_note")
EVENT_HEADER = ("time", "kind", "detail", "by")


def column(code: str) -> str:
    """A vital's column title: its code and UCUM unit, e.g. ``spo2 [%]``."""
    return f"{code} [{BY_CODE[code].unit}]"


def sibling(out: Path, part: str) -> Path:
    """``report.csv`` -> ``report.alarms.csv``."""
    return out.with_name(f"{out.stem}.{part}{out.suffix or '.csv'}")


def write_csv(engine: Engine, session_id: int, out: Path) -> list[Path]:
    """Write the readings, alarms and events files; return their paths."""
    if get_session(engine, session_id) is None:
        raise ExportError(f"There is no session {session_id}.")
    codes = session_vitals(engine, session_id)
    with out.open("w", newline="", encoding="utf-8") as f:
        write_readings(f, codes, ((ms, code, value) for ms, code, value, _ in
                                  readings(engine, session_id, codes)))
    alarms_path, events_path = sibling(out, "alarms"), sibling(out, "events")
    with alarms_path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(ALARM_HEADER)
        for span in alarm_spans(engine, session_id):
            acks = span.acknowledgements
            writer.writerow((
                iso_time(span.raised), iso_time(span.cleared) if span.cleared else "",
                span.priority, span.kind, span.vital, span.message, span.last_message,
                number(span.peak_value) if span.peak_value is not None else "",
                number(span.limit) if span.limit is not None else "",
                "; ".join(a.by_user for a in acks), "; ".join(iso_time(a.at) for a in acks),
                "; ".join(a.note or "" for a in acks)))
    with events_path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(EVENT_HEADER)
        for event in session_events(engine, session_id):
            writer.writerow((iso_time(event.at), event.kind, event.detail, event.by_user))
    return [out, alarms_path, events_path]


def write_readings(f: object, codes: list[str], rows: Iterable[tuple[int, str, float]]) -> int:
    """Write time-ordered (ms, code, value) rows in wide form to ``f``; return the rows."""
    writer = csv.writer(f, lineterminator="\n")  # type: ignore[arg-type]
    writer.writerow(("time", *(column(c) for c in codes)))
    index = {c: i for i, c in enumerate(codes)}
    count = 0
    current: list[str] | None = None
    current_ms = -1
    for ms, code, value in rows:
        # A new moment, or the same vital twice at one moment (two devices): a new row.
        if current is None or ms != current_ms or current[index[code] + 1]:
            if current is not None:
                writer.writerow(current)
                count += 1
            current = [iso_time(from_ms(ms))] + [""] * len(codes)
            current_ms = ms
        current[index[code] + 1] = number(value)
    if current is not None:
        writer.writerow(current)
        count += 1
    return count
