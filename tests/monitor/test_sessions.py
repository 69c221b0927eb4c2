"""Sessions on SQLite and PostgreSQL: lifecycle, phases, BP-check reminders, discharge check."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine, select

from monitor.alarms.model import AlarmEvent, Kind, Priority, Transition
from monitor.bus import Bus
from monitor.clock import ManualClock
from monitor.history import alarm_spans, session_events
from monitor.messages import SessionStarted, Tick
from monitor.reading import Reading
from monitor.recorder import Recorder
from monitor.session_rules import parse_bp
from monitor.sessions import SessionError, SessionManager
from monitor.storage.schema import SessionRow


class Ward:
    """A manager with a manual clock, keeping what it publishes."""

    def __init__(self, db: Engine, clock: ManualClock, room: str) -> None:
        self.clock, self.room = clock, room
        self.published: list[object] = []
        self.tagged: list[tuple[str, int | None]] = []
        self.manager = SessionManager(db, self.published.append, clock,
                                      on_room_session=lambda r, s: self.tagged.append((r, s)))
        self.start = clock.now()

    def at(self, minutes: float) -> datetime:
        return self.start + timedelta(minutes=minutes)

    def run_to(self, minutes: float) -> None:
        """Tick every 30 s up to ``minutes`` after the start."""
        while self.clock.now() < self.at(minutes):
            self.clock.advance(30)
            self.manager.on_message(Tick(self.clock.now()))

    def cuff(self, room: str, sys: float, dia: float) -> None:
        now = self.clock.now()
        for code, value in (("nibp_sys", sys), ("nibp_dia", dia),
                            ("nibp_mean", (sys + 2 * dia) / 3)):
            self.manager.on_message(Reading(room, "m1", code, value, now))

    def reminders(self) -> list[AlarmEvent]:
        # PostgreSQL's schema is shared by the suite: other tests' open sessions are seen too.
        return [m for m in self.published if isinstance(m, AlarmEvent) and m.room == self.room]

    def shown(self) -> dict[str, str]:
        """Reminder id -> message for those raised and not cleared."""
        out: dict[str, str] = {}
        for e in self.reminders():
            if e.transition is Transition.CLEARED:
                out.pop(e.alarm_id, None)
            else:
                out[e.alarm_id] = e.message
        return out


@pytest.fixture
def ward(db: Engine, manual_clock: ManualClock, room: str) -> Ward:
    return Ward(db, manual_clock, room)


def test_start_writes_the_session_and_publishes(db: Engine, ward: Ward, room: str) -> None:
    sid = ward.manager.start(room, "J.D.", mrn="123", protocol="spravato", weight_kg=70,
                             dose_mg_per_kg=0.5, duration_min=40, profile="iv-ketamine",
                             user="nurse1")
    started = [m for m in ward.published if isinstance(m, SessionStarted)]
    assert started == [SessionStarted(room, sid, ward.start, "J.D.")]
    assert ward.tagged[-1] == (room, sid)
    with db.connect() as conn:
        row = conn.execute(select(SessionRow.__table__).where(SessionRow.id == sid)).one()
    assert (row.label, row.mrn, row.protocol, row.weight_kg, row.started_by, row.source) == (
        "J.D.", "123", "spravato", 70, "nurse1", "live")
    info = ward.manager.active(room)
    assert info is not None and info.id == sid and info.dose_mg == 35
    with pytest.raises(SessionError, match="already has session"):
        ward.manager.start(room, "X")
    with pytest.raises(SessionError, match="Unknown protocol"):
        ward.manager.start(f"{room}b", "X", protocol="oral")
    with pytest.raises(SessionError, match="Unknown event"):
        ward.manager.event(sid, "party")


def test_iv_phases_events_and_discharge(db: Engine, ward: Ward, room: str) -> None:
    m = ward.manager
    sid = m.start(room, "AB", user="n1")
    assert m.status(sid).phase == "pre-infusion"
    ward.cuff(room, 120, 80)
    assert m.active(room).baseline_sys == 120  # type: ignore[union-attr]
    ward.clock.advance(300)
    m.event(sid, "infusion_started", "0.5 mg/kg over 40 min", "n1")
    assert m.status(sid).phase == "infusion"
    ward.clock.advance(40 * 60)
    m.event(sid, "infusion_stopped", "", "n1")
    status = m.status(sid)
    assert status.phase == "observation" and status.observation_left_s == 30 * 60
    assert status.elapsed_s == 45 * 60

    check = m.check_discharge(sid)
    assert not check.ok and not check.observation_done
    assert any("Observation 30 min: 0:30 left" in r for r in check.reasons)
    refused = m.discharge(sid, "n1")
    assert not refused.discharged and m.active(room) is not None

    ward.clock.advance(30 * 60)
    ward.cuff(room, 170, 104)  # high, and far above baseline
    check = m.check_discharge(sid)
    assert check.observation_done and not check.vitals_ok
    assert any("not back near baseline (baseline 120/80)" in r for r in check.reasons)
    ward.clock.advance(300)
    ward.cuff(room, 135, 88)
    for code, value in (("hr", 88), ("spo2", 97)):
        m.on_message(Reading(room, "m1", code, value, ward.clock.now()))
    done = m.discharge(sid, "n2")
    assert done.ok and done.discharged and done.reasons == ()
    assert "BP 135/88" in " ".join(done.facts)
    assert m.active(room) is None and ward.tagged[-1] == (room, None)
    assert m.status(sid).phase == "discharged"
    kinds = [(e.kind, e.by_user) for e in session_events(db, sid)]
    assert kinds == [("session_started", "n1"), ("infusion_started", "n1"),
                     ("infusion_stopped", "n1"), ("discharged", "n2")]
    with pytest.raises(SessionError, match="has ended"):
        m.event(sid, "note", "late")


def test_discharge_override_records_the_reason(ward: Ward, room: str, db: Engine) -> None:
    sid = ward.manager.start(room, "AB")
    check = ward.manager.discharge(sid, "dr1", override="transferred to ED")
    assert check.discharged and not check.ok
    detail = session_events(db, sid)[-1].detail
    assert detail.startswith("override: transferred to ED (not met: No infusion end")


def test_iv_reminders_follow_the_clinical_schedule(ward: Ward, room: str) -> None:
    m = ward.manager
    sid = m.start(room, "AB")
    ward.run_to(1)
    assert list(ward.shown().values()) == ["BP before dosing"]
    ward.cuff(room, 118, 76)
    ward.run_to(2)
    assert ward.shown() == {}
    m.event(sid, "infusion_started")  # at 2 min
    ward.run_to(13)  # no cuff for 11 min during the infusion
    assert ward.shown() == {f"rem{sid}-bp_cycle": "BP check due: none for 10 min during "
                                                  "the infusion"}
    for minute in range(13, 42, 5):  # cuff every 5 min from 13 to 38
        ward.run_to(minute)
        ward.cuff(room, 130, 85)
    ward.run_to(41.5)
    assert ward.shown() == {}  # the 38-min cuff counts for the check 40 min after the start
    ward.run_to(44)
    m.event(sid, "infusion_stopped")  # at 44 min, last BP at 38 min
    ward.run_to(44.5)
    assert list(ward.shown().values()) == ["BP at end of infusion",
                                           "Observation 30 min: 0:30 left"]
    ward.cuff(room, 126, 82)
    ward.run_to(62)
    assert list(ward.shown().values()) == ["Observation 30 min: 0:12 left"]
    ward.run_to(75)
    assert list(ward.shown().values()) == ["BP before discharge"]
    cleared = [e for e in ward.reminders() if e.transition is Transition.CLEARED]
    assert cleared[-1].message == "Observation 30 min: done"
    m.event(sid, "bp_check", "manual 124/80")
    ward.run_to(76)
    assert ward.shown() == {}
    events = ward.reminders()
    assert {(e.kind, e.priority, e.room) for e in events} == {(Kind.REMINDER, Priority.LOW, room)}
    raised = [e.message for e in events if e.transition is Transition.RAISED]
    assert raised.count("BP before dosing") == 1
    assert "BP check due: 40 min after start" not in raised


def test_spravato_observation_timer_and_40_minute_check(ward: Ward, room: str) -> None:
    m = ward.manager
    sid = m.start(room, "CD", protocol="spravato")
    m.event(sid, "bp_check", "132/84")
    assert m.active(room).baseline_dia == 84  # type: ignore[union-attr]
    ward.run_to(5)
    m.event(sid, "dose_given", "56 mg")
    assert m.status(sid).phase == "observation"
    ward.run_to(45.5)
    assert list(ward.shown().values()) == ["Observation 2 h: 1:20 left",
                                           "BP check due: 40 min after start"]
    ward.cuff(room, 150, 95)
    ward.run_to(53)
    assert list(ward.shown().values()) == ["Observation 2 h: 1:12 left"]
    updates = [e for e in ward.reminders() if e.transition is Transition.UPDATED]
    assert updates and all(e.alarm_id == f"rem{sid}-observation" for e in updates)
    ward.run_to(125.5)
    assert list(ward.shown().values()) == ["BP before discharge"]
    assert not m.check_discharge(sid).vitals_ok  # the last BP is an hour old
    m.end(sid, "n1")
    assert ward.shown() == {} and m.active(room) is None
    assert m.status(sid).phase == "ended"


def test_a_session_started_elsewhere_is_picked_up(db: Engine, ward: Ward, room: str) -> None:
    other = SessionManager(db, lambda _m: None, ward.clock)  # the CLI in another process
    sid = other.start(room, "EF")
    other.event(sid, "infusion_started")
    ward.manager.on_message(Tick(ward.clock.advance(5)))
    assert ward.manager.active(room) is None  # the database is read at most every 10 s
    ward.run_to(1)
    assert ward.manager.active(room).id == sid  # type: ignore[union-attr]
    assert ward.manager.status(sid).phase == "infusion"
    assert (room, sid) in ward.tagged
    other.end(sid, "n1")
    ward.run_to(2)
    assert ward.manager.active(room) is None and ward.tagged[-1] == (room, None)


def test_reminders_reach_the_alarm_log(db: Engine, manual_clock: ManualClock, room: str) -> None:
    bus = Bus()
    recorder = Recorder(db)
    manager = SessionManager(db, bus.publish, manual_clock,
                             on_room_session=recorder.set_session)
    bus.add_listener(manager)
    bus.add_listener(recorder)
    sid = manager.start(room, "GH", user="n1")
    bus.publish(Tick(manual_clock.advance(1)))
    bus.drain()
    bus.publish(Reading(room, "m1", "nibp_sys", 120, manual_clock.advance(60)))
    bus.publish(Reading(room, "m1", "nibp_dia", 80, manual_clock.now()))
    bus.publish(Tick(manual_clock.advance(1)))
    bus.drain()
    recorder.flush()
    spans = alarm_spans(db, sid)
    assert [(s.message, s.kind, s.priority) for s in spans] == [
        ("BP before dosing", "reminder", "low")]
    assert spans[0].cleared is not None and spans[0].last_message == "BP before dosing: done"


def test_parse_bp() -> None:
    assert parse_bp("manual 124/80 left arm") == (124, 80)
    assert parse_bp("patient calm") is None
