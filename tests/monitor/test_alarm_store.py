"""On SQLite and PostgreSQL: the profile, settings and override store; the alarm log's
restore, history filters and CSV; what-if over a stored session."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator
from dataclasses import replace

import pytest
from sqlalchemy import Engine, delete, insert

from monitor.alarms import AlarmEngine, Priority, Transition, profile
from monitor.alarms.history import HistoryFilter, count, query, write_csv
from monitor.alarms.log import restore, unfinished
from monitor.alarms.rules import Condition, Rule
from monitor.alarms.settings import AlarmSettings
from monitor.alarms.store import AlarmStore
from monitor.alarms.whatif import compare, spans, what_if
from monitor.bus import Bus
from monitor.commands import OverrideLimits
from monitor.errors import AlarmRulesError, IvmonError
from monitor.reading import Quality
from monitor.recorder import Recorder
from monitor.storage.database import migrate, open_database
from monitor.storage.schema import ProfileRow, SessionRow, SettingRow, to_ms
from tests.monitor.alarm_helpers import CLINIC, PROFILE, at, feed, reading


@pytest.fixture
def db(database_url: str) -> Iterator[Engine]:
    engine = open_database(database_url)
    migrate(engine)
    # PostgreSQL keeps one schema for the whole run: start each test from the defaults.
    keys = list(AlarmSettings().to_dict())
    with engine.begin() as conn:
        conn.execute(delete(SettingRow).where(SettingRow.key.in_(keys)))
        conn.execute(delete(ProfileRow).where(ProfileRow.name.in_(["iv-ketamine", "spravato"])))
    yield engine
    with engine.begin() as conn:
        conn.execute(delete(SettingRow).where(SettingRow.key.in_(keys)))
        conn.execute(delete(ProfileRow).where(ProfileRow.name.in_(["iv-ketamine", "spravato"])))
    engine.dispose()


@pytest.fixture
def room() -> str:
    return f"r-{uuid.uuid4().hex[:8]}"


# -- the store ----------------------------------------------------------------------------


def test_built_in_profiles_are_used_while_the_clinic_has_none(db: Engine) -> None:
    store = AlarmStore(db)
    assert store.profile("iv-ketamine") == profile("iv-ketamine")
    assert {"iv-ketamine", "spravato"} <= set(store.profiles())
    with pytest.raises(KeyError, match="unknown alarm profile 'x'; expected one of"):
        store.profile("x")


def test_a_clinics_profile_replaces_the_built_in_and_can_be_undone(db: Engine) -> None:
    store = AlarmStore(db)
    edited = replace(PROFILE, rules=PROFILE.with_rules(
        (Rule("spo2", Condition.BELOW, 90, Priority.MEDIUM, delay=20),)).rules)
    store.save_profile(edited, "admin", at(0))
    assert store.profile("iv-ketamine") == edited
    name = f"p-{uuid.uuid4().hex[:8]}"
    store.save_profile(replace(edited, name=name, title="Our own"), "admin", at(1))
    assert store.profile(name).title == "Our own"
    assert store.delete_profile("iv-ketamine") and store.delete_profile(name)
    assert store.profile("iv-ketamine") == PROFILE


def test_an_invalid_profile_is_refused_with_its_problems(db: Engine) -> None:
    bad = replace(PROFILE, rules=(Rule("hr", Condition.ABOVE, 400, Priority.HIGH),))
    with pytest.raises(AlarmRulesError) as err:
        AlarmStore(db).save_profile(bad, "admin", at(0))
    assert err.value.problems == ("HR high limit 400 is outside 0-350 /min.",)


def test_settings_default_then_saved_and_read_back(db: Engine) -> None:
    store = AlarmStore(db)
    assert store.settings() == AlarmSettings()
    chosen = AlarmSettings(latching_high=False, escalation_seconds=90,
                           audio_pause_seconds=60, reminder_seconds=120,
                           webhook_url="https://hooks.example.org/ivmon")
    store.save_settings(chosen, "admin", at(0))
    assert store.settings() == chosen
    with pytest.raises(AlarmRulesError, match="escalation time 1 s"):
        store.save_settings(AlarmSettings(escalation_seconds=1), "admin", at(1))
    assert store.settings() == chosen


def test_a_session_override_keeps_who_and_why(db: Engine) -> None:
    store = AlarmStore(db)
    session_id = 900_000 + int(uuid.uuid4().int % 100_000)
    rules = (Rule("hr", Condition.ABOVE, 140, Priority.MEDIUM, delay=10, hysteresis=2),)
    store.record(OverrideLimits("r1", session_id, rules, "nurse1", "athlete, HR 135 at rest",
                                at(5)))
    [override] = store.overrides(session_id)
    assert (override.rules, override.by_user, override.reason, override.at) == (
        rules, "nurse1", "athlete, HR 135 at rest", at(5))
    with pytest.raises(AlarmRulesError, match="needs a reason"):
        store.save_override(session_id, rules, "nurse1", " ", at(6))


# -- the log: restore and history ----------------------------------------------------------


def _log(db: Engine, events: list) -> None:  # type: ignore[type-arg]
    recorder = Recorder(db)
    for event in events:
        recorder.on_message(event, Bus())


def test_restore_rebuilds_active_latched_and_acknowledged_alarms(db: Engine, room: str) -> None:
    engine = AlarmEngine(PROFILE, CLINIC)
    log = []
    log += engine.on_reading(reading("nibp_sys", 150, 0, room=room))
    log += engine.on_reading(reading("nibp_sys", 186, 300, room=room))  # high
    log += engine.on_reading(reading("nibp_sys", 150, 600, room=room))  # latched
    log += feed(engine, "hr", [140] * 11, start=600, room=room)  # medium
    hr = engine.active(room)[-1]
    log += engine.acknowledge(hr.id, "nurse1", at(620), "watching")
    log += feed(engine, "spo2", [90] * 16, start=600, room=room)
    log += feed(engine, "spo2", [97], start=630, room=room)  # cleared: not restored
    log += engine.pause_audio(room, "nurse1", at(640))
    _log(db, log)
    book = restore(db)
    assert book.active(room) == engine.active(room)
    assert [a.latched for a in book.active(room)] == [True, False]
    assert book.active(room)[1].acknowledged_by == "nurse1"
    assert book.audio(room) == engine.audio(room)
    assert not any(e.vital == "spo2" and e.room == room for e in unfinished(db))


def test_history_filters_and_csv(db: Engine, room: str) -> None:
    engine = AlarmEngine(PROFILE, CLINIC)
    log = feed(engine, "hr", [140] * 11, room=room)  # medium, t 10
    log += feed(engine, "hr", [160] * 11, start=11, room=room)  # high, t 21
    first = log[0].alarm_id
    log += engine.acknowledge(first, "nurse1", at(30), "seen")
    log += feed(engine, "hr", [80], start=40, room=room)  # cleared (acknowledged)
    log += feed(engine, "spo2", [90] * 16, start=100, room=room)  # never acknowledged
    _log(db, log)
    everything = query(db, HistoryFilter(room=room))
    assert [r.event.transition for r in everything][:2] == [Transition.RAISED,
                                                             Transition.CLEARED]  # newest first
    assert count(db, HistoryFilter(room=room)) == len(log) == len(everything)
    high = query(db, HistoryFilter(room=room, priority="high", oldest_first=True))
    assert [str(r.event.transition) for r in high] == ["priority_changed", "acknowledged",
                                                       "cleared"]
    assert {r.event.alarm_id for r in query(db, HistoryFilter(room=room, unacknowledged=True))
            } == {log[-1].alarm_id}
    assert [r.event.vital for r in query(db, HistoryFilter(room=room, vital="spo2"))] == ["spo2"]
    window = query(db, HistoryFilter(room=room, since=at(11), until=at(41)))
    assert {str(r.event.transition) for r in window} == {"priority_changed", "acknowledged",
                                                         "cleared"}
    assert len(query(db, HistoryFilter(room=room, limit=2, offset=1))) == 2
    out = io.StringIO()
    assert write_csv(query(db, HistoryFilter(room=room, oldest_first=True)), out) == len(log)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert rows[0]["time"] == "2026-01-01T09:00:10.000Z" and rows[0]["transition"] == "raised"
    ack = next(r for r in rows if r["transition"] == "acknowledged")
    assert (ack["by_user"], ack["note"], ack["priority"]) == ("nurse1", "seen", "high")
    with pytest.raises(IvmonError, match="priority 'urgent'"):
        HistoryFilter(priority="urgent")


# -- what-if -------------------------------------------------------------------------------


def test_what_if_sets_a_candidates_alarms_beside_those_logged(db: Engine, room: str) -> None:
    with db.begin() as conn:
        session_id = conn.execute(insert(SessionRow).values(
            room=room, label="what-if", started_ms=to_ms(at(0)), baseline_sys=110,
            baseline_dia=70)).inserted_primary_key[0]
    recorder = Recorder(db)
    recorder.set_session(room, session_id)
    engine = AlarmEngine(PROFILE, CLINIC)
    engine.set_baseline(room, "nibp_sys", 110)  # as the session records it
    hr = [72] * 30 + [135] * 40 + [72] * 30 + [95] * 20
    readings = [reading("hr", v, i, room=room) for i, v in enumerate(hr)]
    readings += [reading("nibp_sys", 152, 60, room=room),
                 reading("spo2", 0, 61, room=room, quality=Quality.INVALID)]
    for r in sorted(readings, key=lambda r: r.received):
        recorder.on_message(r, Bus())
        for event in engine.on_reading(r):
            recorder.on_message(event, Bus())
    recorder.flush()
    # The candidate: HR high at 90 only (tighter), SBP rise at 50 (looser).
    kept = tuple(r for r in PROFILE.rules if (r.vital, r.side) != ("hr", "high")
                 and (r.vital, r.condition) != ("nibp_sys", Condition.RISE))
    candidate = replace(PROFILE, name="trial", rules=(
        *kept, Rule("hr", Condition.ABOVE, 90, Priority.MEDIUM, delay=10),
        Rule("nibp_sys", Condition.RISE, 50, Priority.MEDIUM)))
    result = what_if(db, session_id, candidate)
    assert result.actual_counts == {"high": 0, "medium": 2, "low": 0}  # HR 135, SBP rise 42
    assert result.candidate_counts == {"high": 0, "medium": 2, "low": 0}  # HR twice
    actual = {(s.vital, s.message) for s in result.actual}
    assert actual == {("hr", "HR 135 > 130"), ("nibp_sys", "SBP 152 ≥ 150 (baseline 110 + 40)")}
    candidate_spans = [(s.vital, s.message, s.start, s.end) for s in result.candidate]
    assert candidate_spans == [("hr", "HR 135 > 90", at(40), at(70)),
                               ("hr", "HR 95 > 90", at(110), None)]
    with pytest.raises(IvmonError, match="no session"):
        what_if(db, 10**9, candidate)


def test_compare_is_a_pure_function_of_lists() -> None:
    readings = [reading("spo2", 86, s) for s in range(20)]
    actual = AlarmEngine(PROFILE).on_reading(readings[0])  # nothing logged
    result = compare(readings, actual, PROFILE)
    assert result.actual == () and result.candidate_counts["high"] == 1
    [span] = result.candidate
    assert (span.message, span.start, span.end, span.priority) == (
        "SpO2 86 < 88", at(15), None, Priority.HIGH)
    assert spans([]) == []
