"""History queries on SQLite and PostgreSQL: finding sessions, downsampling, alarm spans."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import Engine, insert

from monitor.history import (
    alarm_spans,
    downsample,
    find_sessions,
    get_session,
    group_nibp,
    nibp_measurements,
    readings,
    session_events,
    session_span,
    session_vitals,
    snapshot,
)
from monitor.storage.schema import AlarmEventRow, to_ms
from tests.monitor.session_data import T0, hr_at, record_session


def test_find_sessions_by_room_date_label_and_alarms(db: Engine, room: str) -> None:
    tag = uuid.uuid4().hex[:6]
    quiet = record_session(db, room, minutes=10, label=f"Quiet {tag}", alarm=False)
    busy = record_session(db, room, minutes=10, label=f"Busy {tag}",
                          start=T0 + timedelta(days=1))
    other = record_session(db, f"{room}x", minutes=10, label=f"Other {tag}")
    found = find_sessions(db, room=room)
    assert [s.session.id for s in found] == [busy.id, quiet.id]  # newest first
    assert (found[0].alarms, found[0].high_alarms, found[0].events) == (1, 0, 5)
    assert found[1].alarms == 0
    assert [s.session.id for s in find_sessions(db, room=room, with_alarms=True)] == [busy.id]
    assert [s.session.id for s in find_sessions(db, room=room, with_alarms=False)] == [quiet.id]
    day = find_sessions(db, since=T0, until=T0 + timedelta(days=1), label=tag)
    assert {s.session.id for s in day} == {quiet.id, other.id}
    assert [s.session.id for s in find_sessions(db, label=f"busy {tag}")] == [busy.id]
    assert find_sessions(db, label=f"%{tag}") == []  # a % in the search is a plain character


def test_session_facts_vitals_and_events(db: Engine, room: str) -> None:
    rec = record_session(db, room, minutes=20)
    info = get_session(db, rec.id)
    assert info is not None and info.label == "J.D." and info.dose_mg == 40
    assert session_span(info) == (to_ms(T0), to_ms(rec.at(20)))
    assert session_vitals(db, rec.id) == ["hr", "pr", "spo2", "nibp_sys", "nibp_dia",
                                          "nibp_mean", "rr"]
    assert [e.kind for e in session_events(db, rec.id)] == [
        "session_started", "bp_check", "dose_given", "note", "discharged"]
    assert get_session(db, 10**9) is None


def test_downsample_keeps_the_peak_and_every_cuff_value(db: Engine, room: str) -> None:
    rec = record_session(db, room, minutes=60)
    start, end = to_ms(T0), to_ms(rec.at(60)) - 1
    series = downsample(db, rec.id, ["hr", "nibp_sys", "spo2"], start, end, buckets=100)
    hr = series["hr"]
    assert not hr.raw and len(hr.times_ms) == 100 and sum(hr.count) == 3600
    assert max(hr.hi) == 150  # the 20-second spike survives 36-second buckets
    assert min(hr.lo) == min(hr_at(s) for s in range(3600))
    assert all(lo <= m <= hi for lo, m, hi in zip(hr.lo, hr.mean, hr.hi, strict=True))
    assert series["nibp_sys"].raw and len(series["nibp_sys"].times_ms) == 12
    zoom = downsample(db, rec.id, ["hr"], start + 1_800_000, start + 1_860_000 - 1, 1000)
    assert zoom["hr"].raw and len(zoom["hr"].times_ms) == 60  # fewer readings than buckets
    assert zoom["hr"].lo[:20] == [150.0] * 20


def test_readings_come_in_time_order_across_pages(db: Engine, room: str) -> None:
    rec = record_session(db, room, minutes=5)
    rows = list(readings(db, rec.id, batch=7))
    assert len(rows) == 5 * 60 * 4 + 3  # four streams at 1 Hz and one cuff cycle
    assert rows == sorted(rows, key=lambda r: (r[0], r[1]))
    assert len({(r[0], r[1]) for r in rows}) == len(rows)


def test_cuff_cycles_are_grouped(db: Engine, room: str) -> None:
    rec = record_session(db, room, minutes=60)
    cycles = nibp_measurements(db, rec.id)
    assert len(cycles) == 12
    assert (cycles[0].at, cycles[0].sys, cycles[0].dia, cycles[0].mean) == (
        rec.at(1), 120, 80, 93)
    split = group_nibp([(0, "nibp_sys", 120), (0, "nibp_sys", 121), (60_000, "nibp_dia", 80)])
    assert [(m.sys, m.dia) for m in split] == [(120, None), (121, None), (None, 80)]


def test_alarm_spans_fold_the_log(db: Engine, room: str) -> None:
    rec = record_session(db, room, minutes=40)
    with db.begin() as conn:  # an alarm logged before the recorder knew the session
        conn.execute(insert(AlarmEventRow), [
            {"alarm_id": "dev1", "room": room, "vital": "device", "kind": "technical",
             "priority": "medium", "transition": tr, "message": "No data for 10 s",
             "value": None, "limit_value": None, "at_ms": to_ms(rec.at(m)), "by_user": None,
             "note": None, "session_id": None} for tr, m in (("raised", 2), ("cleared", 3))])
    spans = alarm_spans(db, rec.id)
    assert [(s.vital, s.priority) for s in spans] == [("device", "medium"), ("hr", "medium")]
    hr = spans[1]
    assert hr.raised == T0 + timedelta(seconds=1810)
    assert hr.cleared == T0 + timedelta(seconds=1825)
    assert [(a.by_user, a.note, a.at) for a in hr.acknowledgements] == [
        ("nurse2", "seen", T0 + timedelta(seconds=1815))]
    assert hr.peak_value == 150 and hr.limit == 130


def test_snapshot_is_the_tile_at_a_moment(db: Engine, room: str) -> None:
    rec = record_session(db, room, minutes=40)
    snap = snapshot(db, rec.id, T0 + timedelta(seconds=1812))
    assert snap.values["hr"] == (150.0, T0 + timedelta(seconds=1812))
    assert snap.values["nibp_sys"][1] == rec.at(26)
    assert snap.stale == frozenset()
    assert [a.message for a in snap.alarms] == ["HR 150 > 130"]
    later = snapshot(db, rec.id, rec.at(60))  # after the session: every value is old
    assert "hr" in later.stale and "nibp_sys" in later.stale and later.alarms == []
