"""The in-process bus (order, publishing during delivery, a failing listener) and the live state
the screens read (latest values, staleness by a manual clock, alarms, trends)."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

import pytest

from monitor.alarms import AlarmEvent, Kind, Priority, Transition
from monitor.bus import Bus, CallbackListener
from monitor.clock import ManualClock
from monitor.live import LiveState
from monitor.messages import DeviceStatus, LinkState, SessionStarted
from monitor.reading import Quality, Reading
from monitor.storage.schema import to_ms

# -- the bus -------------------------------------------------------------------------------


class Recording:
    def __init__(self, name: str, log: list[tuple[str, object]]) -> None:
        self.name, self.log = name, log

    def on_message(self, message: object, bus: Bus) -> None:
        self.log.append((self.name, message))


def test_every_listener_gets_every_message_in_order() -> None:
    bus, log = Bus(), []
    bus.add_listener(Recording("a", log))
    bus.add_listener(Recording("b", log))
    for i in range(3):
        bus.publish(i)
    assert bus.drain() == 3
    assert log == [("a", 0), ("b", 0), ("a", 1), ("b", 1), ("a", 2), ("b", 2)]
    assert bus.delivered == 3 and bus.errors == 0


def test_a_message_published_during_delivery_comes_after_it() -> None:
    bus, log = Bus(), []

    def reply(message: object, bus: Bus) -> None:
        if message == "reading":
            bus.publish("alarm")

    bus.add_listener(CallbackListener(reply))
    bus.add_listener(Recording("last", log))
    bus.publish("reading")
    bus.publish("next reading")
    bus.drain()
    # "alarm" reaches every listener after "reading" has reached all of them, and after what
    # was already queued.
    assert log == [("last", "reading"), ("last", "next reading"), ("last", "alarm")]


def test_a_failing_listener_does_not_stop_the_others(caplog: pytest.LogCaptureFixture) -> None:
    bus, log = Bus(), []

    def broken(message: object, bus: Bus) -> None:
        raise RuntimeError("listener bug")

    bus.add_listener(CallbackListener(broken))
    bus.add_listener(Recording("after", log))
    bus.publish(1)
    bus.publish(2)
    with caplog.at_level(logging.ERROR, logger="monitor.bus"):
        bus.drain()
    assert log == [("after", 1), ("after", 2)]
    assert bus.errors == 2 and bus.delivered == 2
    assert "listener CallbackListener failed on int" in caplog.text


def test_the_bus_thread_delivers_in_order_and_stops() -> None:
    bus, log = Bus(), []
    done = threading.Event()

    def last(message: object, bus: Bus) -> None:
        log.append(message)
        if message == 99:
            done.set()

    bus.add_listener(CallbackListener(last))
    bus.start()
    try:
        for i in range(100):
            bus.publish(i)
        assert done.wait(10)
    finally:
        bus.stop()
    assert log == list(range(100))
    bus.publish("after stop")
    assert bus.drain() == 1 and log[-1] == "after stop"


# -- live state ------------------------------------------------------------------------------


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def live() -> LiveState:
    return LiveState({"r1": "Room 1", "r2": "Room 2"})


def send(live: LiveState, *messages: object) -> None:
    for message in messages:
        live.on_message(message, Bus())


def reading(clock: ManualClock, code: str, value: float, room: str = "r1",
            quality: Quality = Quality.VALID) -> Reading:
    return Reading(room, f"{room}-monitor", code, value, clock.now(), quality=quality)


def view(live: LiveState, clock: ManualClock, room: str = "r1"):  # type: ignore[no-untyped-def]
    [room_view] = live.snapshot(clock.now(), [room])
    return room_view


def test_rooms_come_from_the_config_in_order(live: LiveState, clock: ManualClock) -> None:
    assert live.room_ids() == ["r1", "r2"]
    views = live.snapshot(clock.now())
    assert [(v.room, v.name, v.link) for v in views] == [
        ("r1", "Room 1", LinkState.CONNECTING), ("r2", "Room 2", LinkState.CONNECTING)]
    assert views[0].vitals == {} and views[0].top_alarm is None


def test_the_latest_value_is_shown(live: LiveState, clock: ManualClock) -> None:
    send(live, reading(clock, "hr", 72))
    clock.advance(1)
    send(live, reading(clock, "hr", 75), reading(clock, "spo2", 97))
    vitals = view(live, clock).vitals
    assert vitals["hr"].value == 75 and vitals["spo2"].value == 97
    assert not vitals["hr"].stale and vitals["hr"].age_seconds == 0
    assert vitals["hr"].quality == "valid"


def test_a_streamed_value_is_stale_after_10_seconds(live: LiveState, clock: ManualClock) -> None:
    send(live, reading(clock, "hr", 72))
    clock.advance(10)
    assert not view(live, clock).vitals["hr"].stale
    clock.advance(1)
    hr = view(live, clock).vitals["hr"]
    assert hr.stale and hr.age_seconds == 11
    assert hr.value == 72  # kept, but marked stale for the screen to show it as old


def test_nibp_is_stale_only_after_600_seconds(live: LiveState, clock: ManualClock) -> None:
    send(live, reading(clock, "nibp_sys", 128))
    clock.advance(599)
    assert not view(live, clock).vitals["nibp_sys"].stale
    clock.advance(2)
    assert view(live, clock).vitals["nibp_sys"].stale


def test_an_invalid_reading_shows_no_value_and_leaves_no_trend_point(
        live: LiveState, clock: ManualClock) -> None:
    send(live, reading(clock, "spo2", 97))
    clock.advance(1)
    send(live, reading(clock, "spo2", 0, quality=Quality.INVALID))
    spo2 = view(live, clock).vitals["spo2"]
    assert spo2.value is None and spo2.quality == "invalid"
    assert [v for _, v in live.trend("r1", "spo2", clock.now() - timedelta(minutes=5))] == [97]


def test_a_reading_for_an_unknown_room_adds_it(live: LiveState, clock: ManualClock) -> None:
    send(live, reading(clock, "hr", 80, room="r9"))
    assert live.room_ids() == ["r1", "r2", "r9"]
    assert view(live, clock, "r9").name == "r9"


def test_link_and_session_are_shown(live: LiveState, clock: ManualClock) -> None:
    send(live, DeviceStatus("r1", "r1-monitor", LinkState.SILENT, clock.now(), "No data for 10 s"),
         SessionStarted("r1", 7, clock.now(), "first infusion"))
    r1 = view(live, clock)
    assert (r1.link, r1.link_detail) == (LinkState.SILENT, "No data for 10 s")
    assert (r1.session_id, r1.session_started) == (7, clock.now())


def event(clock: ManualClock, transition: Transition, priority: Priority = Priority.MEDIUM,
          alarm_id: str = "a1", message: str = "HR 135 > 130",
          room: str = "r1") -> AlarmEvent:
    return AlarmEvent(alarm_id, room, "hr", Kind.PHYSIOLOGICAL, priority, transition, message,
                      clock.now(), 135, 130)


def test_alarms_follow_their_events(live: LiveState, clock: ManualClock) -> None:
    calls: list[int] = []
    live.watch_alarms(lambda: calls.append(live.alarm_version))
    raised_at = clock.now()
    send(live, event(clock, Transition.RAISED))
    [alarm] = view(live, clock).alarms
    assert (alarm.id, alarm.priority, alarm.since) == ("a1", Priority.MEDIUM, raised_at)
    clock.advance(10)
    send(live, event(clock, Transition.PRIORITY_CHANGED, Priority.HIGH,
                     message="HR 155 > 150"))
    [alarm] = view(live, clock).alarms
    assert (alarm.priority, alarm.message, alarm.since) == (Priority.HIGH, "HR 155 > 150",
                                                            raised_at)
    send(live, event(clock, Transition.CLEARED, Priority.HIGH))
    assert view(live, clock).alarms == ()
    assert calls == [1, 2, 3]


def test_the_top_alarm_is_the_most_urgent(live: LiveState, clock: ManualClock) -> None:
    send(live, event(clock, Transition.RAISED, Priority.MEDIUM, "m"))
    clock.advance(1)
    send(live, event(clock, Transition.RAISED, Priority.HIGH, "h"))
    clock.advance(1)
    send(live, event(clock, Transition.RAISED, Priority.LOW, "l"))
    r1 = view(live, clock)
    assert [a.id for a in r1.alarms] == ["h", "m", "l"]
    assert r1.top_alarm is not None and r1.top_alarm.id == "h"


def test_take_changed_names_each_changed_room_once(live: LiveState, clock: ManualClock) -> None:
    assert live.take_changed() == set()
    send(live, reading(clock, "hr", 72), reading(clock, "hr", 73, room="r2"),
         reading(clock, "spo2", 97))
    assert live.take_changed() == {"r1", "r2"}
    assert live.take_changed() == set()
    send(live, event(clock, Transition.RAISED, room="r2"))
    assert live.take_changed() == {"r2"}
    send(live, DeviceStatus("r1", "d", LinkState.OK, clock.now()))
    assert live.take_changed() == {"r1"}


def test_trend_returns_points_from_since_on(live: LiveState, clock: ManualClock) -> None:
    start = clock.now()
    for value in range(60, 70):
        send(live, reading(clock, "hr", value))
        clock.advance(1)
    points = live.trend("r1", "hr", start + timedelta(seconds=5))
    assert points == [(to_ms(start + timedelta(seconds=s)), 60 + s) for s in range(5, 10)]
    assert live.trend("r1", "rr", start) == []
    assert live.trend("r7", "hr", start) == []


def test_the_trend_keeps_about_an_hour(live: LiveState, clock: ManualClock) -> None:
    start = clock.now()
    for _ in range(2 * 3600):
        send(live, reading(clock, "hr", 70))
        clock.advance(1)
    points = live.trend("r1", "hr", start)
    assert 3600 <= len(points) < 2 * 3600
    assert points[-1][0] == to_ms(clock.now() - timedelta(seconds=1))


def test_sparkline_is_one_mean_per_step_with_gaps(live: LiveState, clock: ManualClock) -> None:
    # 10 min window, 5 s steps -> 120 slots; data only in the last 20 s.
    clock.advance(600)
    for value in (60, 62, 64, 66, 68, 70, 72, 74, 76, 78, 80, 82, 84, 86, 88, 90, 92, 94, 96, 98):
        send(live, reading(clock, "hr", value))
        clock.advance(1)
    line = live.sparkline("r1", "hr", clock.now())
    assert len(line) == 120
    assert line[:116] == [None] * 116
    assert line[116:] == [64.0, 74.0, 84.0, 94.0]
    assert live.sparkline("r1", "hr", clock.now(), minutes=1, step_seconds=10)[-2:] == [
        pytest.approx(69.0), pytest.approx(89.0)]
    assert live.sparkline("r1", "temp", clock.now()) == [None] * 120
