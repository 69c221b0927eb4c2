"""A history snapshot turned into the live RoomView, so a replay draws the very same tile."""

from __future__ import annotations

from datetime import datetime, timedelta

from monitor.alarms.model import Alarm, Kind, Priority
from monitor.history import SessionInfo, Snapshot
from monitor.live import RoomView, VitalView
from monitor.messages import LinkState


def room_view(info: SessionInfo, name: str, snap: Snapshot) -> RoomView:
    vitals = {code: VitalView(code=code, value=value, received=when,
                              stale=code in snap.stale, quality="valid",
                              age_seconds=(snap.at - when).total_seconds())
              for code, (value, when) in snap.values.items()}
    alarms = []
    for span in snap.alarms:
        acks = [a for a in span.acknowledgements if a.at <= snap.at]
        kind = Kind(span.kind) if span.kind in Kind._value2member_map_ else Kind.TECHNICAL
        alarms.append(Alarm(
            id=span.alarm_id, room=span.room, vital=span.vital, kind=kind,
            priority=Priority[span.priority.upper()], message=span.last_message or span.message,
            since=span.raised, value=span.peak_value, limit=span.limit,
            acknowledged_by=acks[-1].by_user if acks else None,
            acknowledged_at=acks[-1].at if acks else None))
    alarms.sort(key=lambda a: (-a.priority, a.since))
    silent = any(a.kind is Kind.TECHNICAL and a.vital == "device" for a in alarms)
    return RoomView(room=info.room, name=name, vitals=vitals, alarms=tuple(alarms),
                    link=LinkState.SILENT if silent else LinkState.OK, link_detail="",
                    session_id=info.id, session_started=info.started)


def at_offset(info: SessionInfo, seconds: float) -> datetime:
    return info.started + timedelta(seconds=seconds)
