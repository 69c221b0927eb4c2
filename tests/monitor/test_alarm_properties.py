"""Properties of the alarm engine over generated sessions with users acting at random:
delays hold, acknowledgement never hides a present condition, a clear leaves nothing behind,
and replaying the log rebuilds the same state (acknowledged, latched, escalated, paused)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.alarms import AlarmEngine, AlarmEvent, Kind, Priority, Transition
from monitor.alarms.log import replay
from monitor.alarms.settings import AlarmSettings
from monitor.messages import DeviceErrors, DeviceStatus, LinkState
from monitor.reading import Quality
from tests.monitor.alarm_helpers import PROFILE, T0, at, reading

SETTINGS = AlarmSettings(escalation_seconds=20, reminder_seconds=30, audio_pause_seconds=25)
STREAMED = ("hr", "spo2", "rr")

# One step: (room, operation, value, how many seconds it repeats).
_ops = st.one_of(
    st.tuples(st.just("hr"), st.integers(30, 170)),
    st.tuples(st.just("spo2"), st.integers(80, 100)),
    st.tuples(st.just("rr"), st.integers(5, 35)),
    st.tuples(st.just("spo2-invalid"), st.just(0)),
    st.tuples(st.just("nibp_sys"), st.integers(70, 210)),
    st.tuples(st.just("nibp_dia"), st.integers(40, 130)),
    st.tuples(st.sampled_from(["silent", "lost", "ok"]), st.just(0)),
    st.tuples(st.just("errors"), st.integers(0, 4)),
    st.tuples(st.just("ack"), st.integers(0, 5)),
    st.tuples(st.just("pause"), st.integers(5, 60)),
    st.tuples(st.just("tick"), st.just(0)),
)
_steps = st.lists(st.tuples(st.sampled_from(["r1", "r2"]), _ops, st.integers(1, 12)),
                  max_size=60)


def run(steps, settings: AlarmSettings = SETTINGS):  # type: ignore[no-untyped-def]
    """Run steps one second apart; return the engine, the log and the values fed per vital."""
    engine = AlarmEngine(PROFILE, settings)
    log: list[AlarmEvent] = []
    values: dict[tuple[str, str], dict[float, float]] = {}  # (room, vital) -> t -> value
    errors = {"r1": 0, "r2": 0}
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
                values.setdefault((room, "spo2"), {})[t] = float("nan")
            elif op == "errors":
                errors[room] += value
                log += engine.on_errors(DeviceErrors(room, "d", at(t), errors[room]))
            elif op == "ack":
                active = engine.active(room)
                if active:
                    log += engine.acknowledge(active[value % len(active)].id, "nurse", at(t))
            elif op == "pause":
                log += engine.pause_audio(room, "nurse", at(t), value)
            else:
                log += engine.on_reading(reading(op, value, t, room=room))
                values.setdefault((room, op), {})[t] = value
            log += engine.tick(at(t + 0.5))
    return engine, log, values


def _seconds(event: AlarmEvent) -> float:
    return (event.at - T0).total_seconds()


def _rule_of(event: AlarmEvent):  # type: ignore[no-untyped-def]
    rise = "baseline" in event.message
    [rule] = [r for r in PROFILE.rules_for(event.vital) if r.priority is event.priority
              and (r.condition.value == "rise") == rise and (rise or r.limit == event.limit)]
    return rule


def _low(message: str) -> bool:
    return " < " in message


@settings(max_examples=200, deadline=None)
@given(steps=_steps)
def test_no_alarm_unless_its_condition_held_for_its_delay(steps) -> None:  # type: ignore[no-untyped-def]
    _engine, log, values = run(steps)
    held: dict[str, Priority] = {}  # alarm id -> priority of the condition now met
    for e in log:
        if e.kind is not Kind.PHYSIOLOGICAL:
            continue
        if e.transition in (Transition.LATCHED, Transition.CLEARED,
                            Transition.LATCHED_CLEARED):
            held[e.alarm_id] = Priority.NONE
            continue
        if e.transition not in (Transition.RAISED, Transition.PRIORITY_CHANGED,
                                Transition.UPDATED):
            continue
        before = held.get(e.alarm_id, Priority.NONE)
        held[e.alarm_id] = e.priority
        if e.priority <= before:
            continue  # a lower or equal condition needs no new delay
        rule = _rule_of(e)
        series = values[(e.room, e.vital)]
        end = _seconds(e)
        # The condition began at a reading no later than end - delay, and every reading from
        # then to the event met the rule (a value stands until the next one, while fresh).
        starts = [t for t in series if t <= end - rule.delay]
        assert starts, (e, series)
        window = [v for t, v in series.items() if max(starts) <= t <= end]
        baseline = e.limit - rule.limit if rule.condition.value == "rise" else None
        assert all(rule.satisfied(v, baseline) for v in window), (e, window)
        latest = max(t for t in series if t <= end)
        assert rule.episodic or end - latest <= 10, (e, series)


@settings(max_examples=200, deadline=None)
@given(steps=_steps, acknowledge_at=st.integers(0, 40))
def test_an_acknowledged_alarm_stays_shown_while_its_condition_holds(  # type: ignore[no-untyped-def]
        steps, acknowledge_at) -> None:
    engine, log, _values = run(steps)
    for alarm in engine.active():
        engine.acknowledge(alarm.id, "nurse", at(10_000 + acknowledge_at))
        if not alarm.latched:
            # Acknowledging never removes an alarm whose condition is still there.
            assert alarm.id in {a.id for a in engine.active()}
            assert next(a for a in engine.active() if a.id == alarm.id).acknowledged
    # And an alarm leaves the screen only when its condition went (or, latched, by a user).
    for e in log:
        if e.transition is Transition.CLEARED and e.kind is Kind.PHYSIOLOGICAL \
                and not PROFILE.rules_for(e.vital)[0].episodic:
            side = [r for r in PROFILE.rules_for(e.vital) if (r.side == "low") == _low(e.message)]
            assert all(r.cleared(e.value) for r in side), e


@settings(max_examples=200, deadline=None)
@given(steps=_steps)
def test_a_cleared_non_latching_alarm_leaves_nothing_active(steps) -> None:  # type: ignore[no-untyped-def]
    _engine, log, _values = run(steps, AlarmSettings(latching_high=False))
    assert not any(e.transition is Transition.LATCHED for e in log)
    book = replay([])
    for e in log:
        book.apply(e)
        if e.transition is Transition.CLEARED:
            # Nothing is left of it, nor of its condition (same room, vital and side).
            assert e.alarm_id not in {a.id for a in book.active()}
            left = [a for a in book.active(e.room) if a.vital == e.vital and a.kind is e.kind
                    and _low(a.message) == _low(e.message)]
            assert left == [], (e, left)


@settings(max_examples=300, deadline=None)
@given(steps=_steps)
def test_replaying_the_log_rebuilds_the_same_state(steps) -> None:  # type: ignore[no-untyped-def]
    engine, log, _values = run(steps)
    book = replay(log)
    assert book.active() == engine.active()  # ids, priorities, texts, ack, latched, escalated
    for room in ("r1", "r2"):
        assert book.audio(room) == engine.audio(room)
    assert [e.at for e in log] == sorted(e.at for e in log)
    # Ids are never reused: one RAISED per alarm.
    raised = [e.alarm_id for e in log if e.transition is Transition.RAISED]
    assert len(raised) == len(set(raised))


@settings(max_examples=100, deadline=None)
@given(first=_steps, second=_steps)
def test_an_engine_restored_from_the_log_carries_on_with_the_same_alarms(  # type: ignore[no-untyped-def]
        first, second) -> None:
    engine, log, _values = run(first)
    restored = AlarmEngine(PROFILE, SETTINGS, replay(log))
    assert restored.active() == engine.active()
    before = {a.id for a in engine.active()}
    # Whatever comes next, an alarm restored is never raised again under a new id while it
    # stays on: it is continued (or ended) by its own id.
    t = 10_000.0
    for room, (op, value), repeat in second:
        if op not in STREAMED:
            continue
        for _ in range(repeat):
            t += 1
            for e in restored.on_reading(reading(op, value, t, room=room)):
                if e.transition is Transition.RAISED:
                    same_slot = [a for a in restored.active(room) if a.id in before
                                 and a.vital == e.vital and not a.latched
                                 and _low(a.message) == _low(e.message)]
                    assert same_slot == [], (e, same_slot)
