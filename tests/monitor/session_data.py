"""A recorded session written straight to the database, for history and export tests."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, insert

from monitor.storage.schema import (
    AlarmEventRow,
    ReadingRow,
    SessionEventRow,
    SessionRow,
    to_ms,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Recorded:
    id: int
    room: str
    start: datetime
    minutes: int

    def at(self, minutes: float) -> datetime:
        return self.start + timedelta(minutes=minutes)


def hr_at(second: int) -> float:
    """HR with a slow wave and one 20-second spike to 150 at minute 30."""
    if 1800 <= second < 1820:
        return 150.0
    return float(round(75 + 10 * math.sin(second / 600)))


def record_session(db: Engine, room: str, *, minutes: int = 90, start: datetime = T0,
                   label: str = "J.D.", protocol: str = "spravato", mrn: str | None = "M42",
                   alarm: bool = True) -> Recorded:
    """A session with HR, PR, SpO2 and RR at 1 Hz, a cuff every 5 min, events and an alarm."""
    end = start + timedelta(minutes=minutes)
    with db.begin() as conn:
        sid = int(conn.execute(insert(SessionRow).values(
            room=room, label=label, protocol=protocol, profile="iv-ketamine",
            started_ms=to_ms(start), ended_ms=to_ms(end), discharged_ms=to_ms(end), mrn=mrn,
            weight_kg=80.0, dose_mg_per_kg=0.5, duration_min=40.0, baseline_sys=120.0,
            baseline_dia=80.0, started_by="nurse1", source="live")).inserted_primary_key[0])
        rows = []
        seq = 0
        for s in range(minutes * 60):
            t = to_ms(start) + s * 1000
            values = {"hr": hr_at(s), "pr": hr_at(s) - 1, "spo2": 97.0, "rr": 14.0}
            if s % 300 == 60:  # a cuff cycle a minute in, then every 5 min
                rise = 30 if 40 * 60 <= s < 60 * 60 else 0
                values.update(nibp_sys=120.0 + rise, nibp_dia=80.0 + rise / 2,
                              nibp_mean=93.0 + rise / 2)
            for code, value in values.items():
                seq += 1
                rows.append({"room": room, "device": "m1", "seq": seq, "code": code,
                             "value": value, "quality": "valid", "received_ms": t,
                             "device_ms": None, "session_id": sid})
        # An invalid reading is stored with no value: never exported or charted.
        rows.append({"room": room, "device": "m1", "seq": seq + 1, "code": "spo2",
                     "value": None, "quality": "invalid", "received_ms": to_ms(start) + 500,
                     "device_ms": None, "session_id": sid})
        conn.execute(insert(ReadingRow), rows)
        events = [(0, "session_started", "spravato in room", "nurse1"),
                  (1, "bp_check", "120/80", "nurse1"), (5, "dose_given", "56 mg", "nurse1"),
                  (min(50, minutes // 2), "note", "patient | calm ^ resting", "nurse2"),
                  (minutes, "discharged", "", "dr1")]
        conn.execute(insert(SessionEventRow), [
            {"session_id": sid, "at_ms": to_ms(start + timedelta(minutes=m)), "kind": k,
             "detail": d, "by_user": u} for m, k, d, u in events])
        if alarm:
            base = {"alarm_id": f"a{sid}-hr", "room": room, "vital": "hr",
                    "kind": "physiological", "limit_value": 130.0, "session_id": sid}
            log = [("raised", "medium", "HR 150 > 130", 150.0, 1810, None, None),
                   ("acknowledged", "medium", "HR 150 > 130", 150.0, 1815, "nurse2", "seen"),
                   ("cleared", "medium", "HR 150 > 130", None, 1825, None, None)]
            conn.execute(insert(AlarmEventRow), [
                {**base, "transition": tr, "priority": p, "message": msg, "value": v,
                 "at_ms": to_ms(start) + sec * 1000, "by_user": who, "note": note}
                for tr, p, msg, v, sec, who, note in log])
    return Recorded(sid, room, start, minutes)
