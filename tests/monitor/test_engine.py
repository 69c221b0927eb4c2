"""The alarm engine, with explicit times: each rule of the IV ketamine profile (CLINICAL.md),
delays, hysteresis, technical alarms, and properties over generated sequences."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.alarms import AlarmEngine, AlarmEvent, Kind, Priority, Transition, profile
from monitor.alarms.engine import DEVICE
from monitor.alarms.rules import Condition
from monitor.messages import DeviceStatus, LinkState
from monitor.reading import Quality, Reading

T0 = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
PROFILE = profile("iv-ketamine")


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def reading(code: str, value: float, seconds: float, *, room: str = "r1",
            quality: Quality = Quality.VALID) -> Reading:
    return Reading(room, f"{room}-monitor", code, value, at(seconds), quality=quality)


@pytest.fixture
def engine() -> AlarmEngine:
    return AlarmEngine(PROFILE)


def feed(engine: AlarmEngine, code: str, values: list[float], start: float = 0,
         room: str = "r1") -> list[AlarmEvent]:
    """One reading a second from ``start``; all the events they made."""
    events: list[AlarmEvent] = []
    for i, value in enumerate(values):
        events += engine.on_reading(reading(code, value, start + i, room=room))
    return events


def nibp(engine: AlarmEngine, sys: float | None, dia: float | None, seconds: float,
         room: str = "r1") -> list[AlarmEvent]:
    events: list[AlarmEvent] = []
    if sys is not None:
        events += engine.on_reading(reading("nibp_sys", sys, seconds, room=room))
    if dia is not None:
        events += engine.on_reading(reading("nibp_dia", dia, seconds, room=room))
    return events


def only(events: list[AlarmEvent]) -> AlarmEvent:
    assert len(events) == 1, events
    return events[0]


# -- the profile as data ------------------------------------------------------------------


def test_the_profile_is_the_clinical_table() -> None:
    rules = {(r.vital, r.condition, r.limit): (r.priority, r.delay) for r in PROFILE.rules}
    A, B, R = Condition.ABOVE, Condition.BELOW, Condition.RISE
    H, M = Priority.HIGH, Priority.MEDIUM
    assert rules == {
        ("nibp_sys", A, 180): (H, 0), ("nibp_dia", A, 110): (H, 0),
        ("nibp_sys", A, 160): (M, 0), ("nibp_sys", R, 40): (M, 0),
        ("nibp_dia", R, 25): (M, 0), ("nibp_sys", B, 90): (H, 0),
        ("hr", A, 130): (M, 10), ("hr", A, 150): (H, 10),
        ("hr", B, 50): (M, 10), ("hr", B, 40): (H, 10),
        ("spo2", B, 92): (M, 15), ("spo2", B, 88): (H, 15),
        ("rr", B, 10): (M, 15), ("rr", A, 30): (M, 15),
    }
    assert PROFILE.silence_seconds == 10 and PROFILE.silence_priority is Priority.MEDIUM


def test_an_unknown_profile_lists_the_known_ones() -> None:
    with pytest.raises(KeyError, match="expected one of iv-ketamine"):
        profile("ketamine")


# -- NIBP, judged per measurement ----------------------------------------------------------


def test_sbp_above_180_is_high_and_names_value_and_limit(engine: AlarmEngine) -> None:
    nibp(engine, 150, 90, 0)
    event = only(nibp(engine, 186, None, 300))
    assert event.transition is Transition.RAISED
    assert event.priority is Priority.HIGH and event.kind is Kind.PHYSIOLOGICAL
    assert event.message == "SBP 186 > 180"
    assert (event.vital, event.value, event.limit, event.at) == ("nibp_sys", 186, 180, at(300))


def test_sbp_above_160_is_medium(engine: AlarmEngine) -> None:
    nibp(engine, 140, 80, 0)
    event = only(nibp(engine, 165, None, 300))
    assert event.priority is Priority.MEDIUM and event.message == "SBP 165 > 160"


def test_sbp_40_above_baseline_is_medium_and_names_the_baseline(engine: AlarmEngine) -> None:
    nibp(engine, 110, 70, 0)
    assert nibp(engine, 149, None, 300) == []
    event = only(nibp(engine, 150, None, 600))
    assert event.priority is Priority.MEDIUM
    assert event.message == "SBP 150 ≥ 150 (baseline 110 + 40)"
    assert event.limit == 150


def test_dbp_above_110_is_high(engine: AlarmEngine) -> None:
    nibp(engine, 140, 95, 0)
    event = only(nibp(engine, None, 115, 300))
    assert event.priority is Priority.HIGH and event.message == "DBP 115 > 110"


def test_dbp_25_above_baseline_is_medium(engine: AlarmEngine) -> None:
    nibp(engine, 120, 70, 0)
    assert nibp(engine, None, 94, 300) == []
    event = only(nibp(engine, None, 96, 600))
    assert event.priority is Priority.MEDIUM
    assert event.message == "DBP 96 ≥ 95 (baseline 70 + 25)"


def test_sbp_below_90_is_high(engine: AlarmEngine) -> None:
    nibp(engine, 120, 70, 0)
    event = only(nibp(engine, 85, None, 300))
    assert event.priority is Priority.HIGH and event.message == "SBP 85 < 90"


def test_the_first_nibp_becomes_the_baseline(engine: AlarmEngine) -> None:
    assert engine.baseline("r1") == {}
    nibp(engine, 128, 82, 0)
    nibp(engine, 140, 90, 300)
    assert engine.baseline("r1") == {"nibp_sys": 128, "nibp_dia": 82}
    # The baseline is per room.
    nibp(engine, 100, 60, 0, room="r2")
    assert engine.baseline("r2") == {"nibp_sys": 100, "nibp_dia": 60}


def test_an_explicit_baseline_replaces_the_first_measurement(engine: AlarmEngine) -> None:
    engine.set_baseline("r1", "nibp_sys", 100)
    nibp(engine, 130, None, 0)
    assert engine.baseline("r1")["nibp_sys"] == 100
    event = only(nibp(engine, 140, None, 300))
    assert event.message == "SBP 140 ≥ 140 (baseline 100 + 40)"


def test_a_first_measurement_above_180_alarms_at_once(engine: AlarmEngine) -> None:
    assert only(nibp(engine, 190, None, 0)).message == "SBP 190 > 180"


def test_nibp_is_raised_at_once_and_cleared_by_the_next_normal_measurement(
        engine: AlarmEngine) -> None:
    nibp(engine, 150, 90, 0)
    raised = only(nibp(engine, 186, None, 300))
    # Time alone never clears a cuff alarm: the measurement stands until the next one (an
    # hour's wait only escalates it, being high and unacknowledged).
    assert [e.transition for e in engine.tick(at(3000))] == [Transition.ESCALATED]
    assert [a.id for a in engine.active()] == [raised.alarm_id]
    cleared = only(nibp(engine, 150, None, 3300))
    assert cleared.transition is Transition.CLEARED
    assert cleared.alarm_id == raised.alarm_id and cleared.at == at(3300)
    assert engine.active() == []


def test_a_lower_next_measurement_lowers_the_same_alarm(engine: AlarmEngine) -> None:
    nibp(engine, 150, 90, 0)
    raised = only(nibp(engine, 186, None, 300))
    lowered = only(nibp(engine, 165, None, 600))
    assert lowered.transition is Transition.PRIORITY_CHANGED
    assert lowered.alarm_id == raised.alarm_id
    assert lowered.priority is Priority.MEDIUM and lowered.message == "SBP 165 > 160"


def test_a_new_measurement_at_the_same_priority_updates_the_alarm_text(
        engine: AlarmEngine) -> None:
    nibp(engine, 150, 90, 0)
    raised = only(nibp(engine, 186, None, 300))
    updated = only(nibp(engine, 195, None, 600))
    assert updated.transition is Transition.UPDATED
    assert updated.alarm_id == raised.alarm_id and updated.priority is Priority.HIGH
    assert updated.message == "SBP 195 > 180" and updated.value == 195
    [active] = engine.active()
    assert active.message == "SBP 195 > 180" and active.since == at(300)
    assert nibp(engine, 195, None, 900) == []  # the same value is no news


def test_nibp_mean_has_no_rules(engine: AlarmEngine) -> None:
    assert engine.on_reading(reading("nibp_mean", 160, 0)) == []


# -- HR: delay, priority change, hysteresis ------------------------------------------------


def test_hr_above_130_alarms_only_after_10_seconds_held(engine: AlarmEngine) -> None:
    assert feed(engine, "hr", [135] * 10) == []  # t = 0 .. 9 s
    event = only(engine.on_reading(reading("hr", 135, 10)))
    assert event.transition is Transition.RAISED
    assert event.priority is Priority.MEDIUM and event.message == "HR 135 > 130"
    assert event.at == at(10) and event.kind is Kind.PHYSIOLOGICAL


def test_hr_above_150_raises_the_same_alarms_priority_and_back(engine: AlarmEngine) -> None:
    raised = only(feed(engine, "hr", [135] * 11))
    assert feed(engine, "hr", [155] * 10, start=11) == []  # > 150 for 9 s
    up = only(engine.on_reading(reading("hr", 155, 21)))
    assert up.transition is Transition.PRIORITY_CHANGED
    assert up.alarm_id == raised.alarm_id
    assert up.priority is Priority.HIGH and up.message == "HR 155 > 150"
    assert up.at == at(21)
    down = only(engine.on_reading(reading("hr", 140, 22)))
    assert down.transition is Transition.PRIORITY_CHANGED
    assert down.alarm_id == raised.alarm_id
    assert down.priority is Priority.MEDIUM and down.message == "HR 140 > 130"
    [active] = engine.active()
    assert active.id == raised.alarm_id and active.since == at(10)


def test_hr_above_150_from_the_start_is_one_high_alarm(engine: AlarmEngine) -> None:
    event = only(feed(engine, "hr", [160] * 11))
    assert event.transition is Transition.RAISED and event.priority is Priority.HIGH
    assert event.message == "HR 160 > 150"


def test_hysteresis_keeps_the_alarm_until_2_below_the_limit(engine: AlarmEngine) -> None:
    raised = only(feed(engine, "hr", [131] * 11))
    assert feed(engine, "hr", [129, 130, 129], start=11) == []
    assert [a.id for a in engine.active()] == [raised.alarm_id]
    cleared = only(engine.on_reading(reading("hr", 127, 14)))
    assert cleared.transition is Transition.CLEARED and cleared.alarm_id == raised.alarm_id
    assert cleared.value == 127
    assert engine.active() == []


def test_a_dip_below_the_limit_before_the_delay_restarts_it(engine: AlarmEngine) -> None:
    # 135 for 6 s, one second at 129 (inside the hysteresis band, but nothing was met yet).
    assert feed(engine, "hr", [135] * 6 + [129] + [135] * 10) == []  # up to t = 16
    event = only(engine.on_reading(reading("hr", 135, 17)))
    assert event.at == at(17)  # 10 s after the condition began again at 7 s


def test_hr_below_50_then_below_40(engine: AlarmEngine) -> None:
    raised = only(feed(engine, "hr", [45] * 11))
    assert raised.priority is Priority.MEDIUM and raised.message == "HR 45 < 50"
    up = only(feed(engine, "hr", [38] * 11, start=11))
    assert up.transition is Transition.PRIORITY_CHANGED and up.alarm_id == raised.alarm_id
    assert up.priority is Priority.HIGH and up.message == "HR 38 < 40"
    # 51 is clear of "< 40" but inside "< 50"'s hysteresis: back to medium, same alarm.
    down = only(feed(engine, "hr", [51], start=22))
    assert down.transition is Transition.PRIORITY_CHANGED and down.alarm_id == raised.alarm_id
    assert down.priority is Priority.MEDIUM
    assert only(feed(engine, "hr", [52], start=23)).transition is Transition.CLEARED


def test_a_high_and_a_low_hr_alarm_are_different_alarms(engine: AlarmEngine) -> None:
    high = only(feed(engine, "hr", [140] * 11))
    events = feed(engine, "hr", [45] * 11, start=11)
    assert events[0].transition is Transition.CLEARED and events[0].alarm_id == high.alarm_id
    assert events[-1].transition is Transition.RAISED and events[-1].alarm_id != high.alarm_id


# -- SpO2 and RR ---------------------------------------------------------------------------


def test_spo2_below_92_after_15_seconds(engine: AlarmEngine) -> None:
    assert feed(engine, "spo2", [90] * 15) == []
    event = only(engine.on_reading(reading("spo2", 90, 15)))
    assert event.priority is Priority.MEDIUM and event.message == "SpO2 90 < 92"


def test_spo2_below_88_is_high(engine: AlarmEngine) -> None:
    event = only(feed(engine, "spo2", [86] * 16))
    assert event.priority is Priority.HIGH and event.message == "SpO2 86 < 88"
    # Hysteresis 1: 89 clears "< 88", 92 still holds "< 92", 93 clears it.
    events = feed(engine, "spo2", [89, 92, 93], start=16)
    assert [e.transition for e in events] == [Transition.PRIORITY_CHANGED, Transition.CLEARED]
    assert events[0].priority is Priority.MEDIUM


@pytest.mark.parametrize(("value", "message"), [(8, "RR 8 < 10"), (34, "RR 34 > 30")])
def test_rr_out_of_range_after_15_seconds(engine: AlarmEngine, value: float,
                                         message: str) -> None:
    assert feed(engine, "rr", [value] * 15) == []
    event = only(engine.on_reading(reading("rr", value, 15)))
    assert event.priority is Priority.MEDIUM and event.message == message


# -- tick ----------------------------------------------------------------------------------


def test_tick_completes_a_delay_with_no_new_reading(engine: AlarmEngine) -> None:
    assert feed(engine, "hr", [140] * 5) == []  # 0 .. 4 s
    assert engine.tick(at(9.5)) == []
    event = only(engine.tick(at(10)))
    assert event.transition is Transition.RAISED and event.at == at(10)
    assert engine.tick(at(11)) == []  # nothing twice


def test_tick_with_nothing_pending_does_nothing(engine: AlarmEngine) -> None:
    assert engine.tick(at(0)) == []
    feed(engine, "hr", [72] * 3)
    assert engine.tick(at(100)) == []


# -- technical alarms ----------------------------------------------------------------------


@pytest.mark.parametrize("state", [LinkState.SILENT, LinkState.LOST])
def test_a_silent_or_lost_device_is_a_medium_technical_alarm(engine: AlarmEngine,
                                                             state: LinkState) -> None:
    raised = only(engine.on_status(DeviceStatus("r1", "r1-monitor", state, at(5))))
    assert raised.kind is Kind.TECHNICAL and raised.priority is Priority.MEDIUM
    assert raised.vital == DEVICE and raised.transition is Transition.RAISED
    assert raised.message == "No data from the monitor for 10 s"
    # The same state again changes nothing.
    assert engine.on_status(DeviceStatus("r1", "r1-monitor", state, at(6))) == []
    cleared = only(engine.on_status(DeviceStatus("r1", "r1-monitor", LinkState.OK, at(30))))
    assert cleared.transition is Transition.CLEARED and cleared.alarm_id == raised.alarm_id
    assert engine.active() == []


def test_a_device_status_detail_becomes_the_message(engine: AlarmEngine) -> None:
    status = DeviceStatus("r1", "d", LinkState.LOST, at(0), "Cannot open the port /dev/ttyUSB0")
    assert only(engine.on_status(status)).message == "Cannot open the port /dev/ttyUSB0"


def test_connecting_and_ok_without_an_alarm_do_nothing(engine: AlarmEngine) -> None:
    assert engine.on_status(DeviceStatus("r1", "d", LinkState.CONNECTING, at(0))) == []
    assert engine.on_status(DeviceStatus("r1", "d", LinkState.OK, at(1))) == []


def test_invalid_readings_for_10_seconds_raise_a_low_technical_alarm(
        engine: AlarmEngine) -> None:
    for s in range(10):
        assert engine.on_reading(reading("spo2", 0, s, quality=Quality.INVALID)) == []
    raised = only(engine.on_reading(reading("spo2", 0, 10, quality=Quality.INVALID)))
    assert raised.kind is Kind.TECHNICAL and raised.priority is Priority.LOW
    assert raised.message.startswith("SpO2 no valid signal")
    assert raised.vital == "spo2"
    assert engine.on_reading(reading("spo2", 0, 11, quality=Quality.INVALID)) == []
    cleared = only(engine.on_reading(reading("spo2", 97, 12)))
    assert cleared.transition is Transition.CLEARED and cleared.alarm_id == raised.alarm_id


def test_the_invalid_signal_timer_runs_on_tick(engine: AlarmEngine) -> None:
    engine.on_reading(reading("spo2", 0, 0, quality=Quality.INVALID))
    assert engine.tick(at(9)) == []
    assert only(engine.tick(at(10))).message.startswith("SpO2 no valid signal")


def test_a_valid_reading_restarts_the_invalid_timer(engine: AlarmEngine) -> None:
    for s in range(8):
        engine.on_reading(reading("spo2", 0, s, quality=Quality.INVALID))
    engine.on_reading(reading("spo2", 97, 8))
    for s in range(9, 18):
        assert engine.on_reading(reading("spo2", 0, s, quality=Quality.INVALID)) == []


def test_invalid_readings_never_raise_physiological_alarms(engine: AlarmEngine) -> None:
    events: list[AlarmEvent] = []
    for s in range(60):
        events += engine.on_reading(reading("hr", 20, s, quality=Quality.INVALID))
        events += engine.tick(at(s + 0.5))
    assert {e.kind for e in events} == {Kind.TECHNICAL}


@pytest.mark.parametrize("resume", ["tick", "valid-reading"])
def test_a_probe_off_stretch_does_not_count_towards_a_delay(engine: AlarmEngine,
                                                            resume: str) -> None:
    # SpO2 85 for 6 s, then the probe comes off: nothing has held for 15 s yet.
    events = feed(engine, "spo2", [85] * 6)
    for s in range(6, 15):
        events += engine.on_reading(reading("spo2", 0, s, quality=Quality.INVALID))
        events += engine.tick(at(s + 0.5))
    if resume == "tick":
        events += engine.on_reading(reading("spo2", 0, 15, quality=Quality.INVALID))
        events += engine.tick(at(15.5))
    else:
        events += engine.on_reading(reading("spo2", 85, 15))
    assert [e for e in events if e.kind is Kind.PHYSIOLOGICAL] == []


# -- queries and sessions --------------------------------------------------------------------


def test_active_is_most_urgent_first_then_oldest(engine: AlarmEngine) -> None:
    engine.on_status(DeviceStatus("r2", "d", LinkState.SILENT, at(0)))  # medium, t 0
    nibp(engine, 120, 70, 0)
    nibp(engine, 165, None, 100)  # medium, t 100
    feed(engine, "hr", [160] * 11, start=200)  # high, t 210
    nibp(engine, 120, 70, 0, room="r3")
    nibp(engine, 80, None, 300, room="r3")  # high, t 300
    assert [(a.room, a.priority, a.since) for a in engine.active()] == [
        ("r1", Priority.HIGH, at(210)), ("r3", Priority.HIGH, at(300)),
        ("r2", Priority.MEDIUM, at(0)), ("r1", Priority.MEDIUM, at(100)),
    ]
    assert [a.room for a in engine.active("r3")] == ["r3"]
    assert engine.active("r9") == []


def test_reset_room_clears_its_alarms_and_baseline(engine: AlarmEngine) -> None:
    nibp(engine, 120, 70, 0)
    sbp = only(nibp(engine, 186, None, 300))
    hr = only(feed(engine, "hr", [140] * 11, start=300))
    dev = only(engine.on_status(DeviceStatus("r1", "d", LinkState.SILENT, at(400))))
    feed(engine, "hr", [140] * 11, room="r2")
    events = engine.reset_room("r1", at(600))
    assert {e.alarm_id for e in events} == {sbp.alarm_id, hr.alarm_id, dev.alarm_id}
    assert {e.transition for e in events} == {Transition.CLEARED}
    assert [a.room for a in engine.active()] == ["r2"]
    assert engine.baseline("r1") == {}
    assert engine.reset_room("r1", at(600)) == []
    # A new session's first cuff is its baseline, and delays start again.
    nibp(engine, 150, 90, 1000)
    assert engine.baseline("r1")["nibp_sys"] == 150


def test_reset_room_stamps_the_clear_with_the_reset_time(engine: AlarmEngine) -> None:
    raised = only(feed(engine, "hr", [140] * 11))
    events = engine.reset_room("r1", at(600))
    assert only(events).at == at(600) and raised.at == at(10)


# -- properties ----------------------------------------------------------------------------

HR_RULES = PROFILE.rules_for("hr")

# HR in runs: a run of a few seconds at one value, so conditions hold long enough to alarm.
hr_runs = st.lists(st.tuples(st.integers(30, 170), st.integers(1, 25)), min_size=1,
                   max_size=12)


def _expand(runs: list[tuple[int, int]]) -> list[int]:
    return [value for value, length in runs for _ in range(length)]


def _rule_of(event: AlarmEvent):  # type: ignore[no-untyped-def]
    [rule] = [r for r in HR_RULES if r.priority is event.priority and r.limit == event.limit]
    return rule


@settings(max_examples=300, deadline=None)
@given(runs=hr_runs)
def test_no_alarm_without_its_condition_held_for_its_delay(runs: list[tuple[int, int]]) -> None:
    engine = AlarmEngine(PROFILE)
    values = _expand(runs)
    priority: dict[str, Priority] = {}  # alarm id -> priority
    for t, value in enumerate(values):
        events = engine.on_reading(reading("hr", value, t))
        events += engine.tick(at(t + 0.5))
        for event in events:
            before = priority.get(event.alarm_id, Priority.NONE)
            if event.transition is Transition.CLEARED:
                priority.pop(event.alarm_id)
                continue
            priority[event.alarm_id] = event.priority
            if event.priority <= before:
                continue  # lowering an alarm needs no delay
            # Raised, or raised in priority: that rule held at every reading of its delay.
            rule = _rule_of(event)
            start = int((event.at - T0).total_seconds() - rule.delay)
            assert start >= 0, (event, values)
            held = values[start:int((event.at - T0).total_seconds()) + 1]
            assert all(rule.satisfied(v) for v in held), (event, held)


@settings(max_examples=300, deadline=None)
@given(runs=hr_runs)
def test_after_a_clear_nothing_stays_active_for_that_vital_and_side(
        runs: list[tuple[int, int]]) -> None:
    engine = AlarmEngine(PROFILE)
    side = {}  # alarm id -> "high" / "low"
    for t, value in enumerate(_expand(runs)):
        for event in engine.on_reading(reading("hr", value, t)):
            if event.transition is Transition.RAISED:
                side[event.alarm_id] = _rule_of(event).side
            elif event.transition is Transition.CLEARED:
                cleared_side = side[event.alarm_id]
                still = [a for a in engine.active("r1") if side.get(a.id) == cleared_side]
                assert still == []
                assert event.alarm_id not in {a.id for a in engine.active()}


# Any message the engine takes, in any order, over two rooms.
_ops = st.one_of(
    st.tuples(st.just("hr"), st.integers(30, 170)),
    st.tuples(st.just("spo2"), st.integers(80, 100)),
    st.tuples(st.just("spo2-invalid"), st.just(0)),
    st.tuples(st.just("rr"), st.integers(5, 35)),
    st.tuples(st.just("nibp_sys"), st.integers(70, 210)),
    st.tuples(st.just("nibp_dia"), st.integers(40, 130)),
    st.tuples(st.sampled_from(["silent", "lost", "ok"]), st.just(0)),
    st.tuples(st.just("tick"), st.just(0)),
)
_steps = st.lists(st.tuples(st.sampled_from(["r1", "r2"]), _ops, st.integers(1, 8)),
                  max_size=80)


@settings(max_examples=200, deadline=None)
@given(steps=_steps)
def test_replaying_the_events_rebuilds_the_active_alarms(steps) -> None:  # type: ignore[no-untyped-def]
    engine = AlarmEngine(PROFILE)
    log: list[AlarmEvent] = []
    t = 0.0
    for room, (op, value), repeat in steps:
        for _ in range(repeat):
            t += 1
            if op == "tick":
                log += engine.tick(at(t))
            elif op in ("silent", "lost", "ok"):
                log += engine.on_status(DeviceStatus(room, "d", LinkState(op), at(t)))
            elif op == "spo2-invalid":
                log += engine.on_reading(reading("spo2", 0, t, room=room,
                                                 quality=Quality.INVALID))
            else:
                log += engine.on_reading(reading(op, value, t, room=room))
    replayed: dict[str, tuple] = {}
    for e in log:
        if e.transition is Transition.RAISED:
            assert e.alarm_id not in replayed
            replayed[e.alarm_id] = (e.room, e.vital, e.kind, e.priority, e.message, e.at,
                                    e.value, e.limit)
        elif e.transition is Transition.CLEARED:
            del replayed[e.alarm_id]
        else:  # PRIORITY_CHANGED, or UPDATED by a new cuff measurement: same alarm, new facts
            since = replayed[e.alarm_id][5]
            replayed[e.alarm_id] = (e.room, e.vital, e.kind, e.priority, e.message, since,
                                    e.value, e.limit)
    active = {a.id: (a.room, a.vital, a.kind, a.priority, a.message, a.since, a.value, a.limit)
              for a in engine.active()}
    assert replayed == active
    assert [e.at for e in log] == sorted(e.at for e in log)
