"""The alarm system wired in a running station: commands through the bus that return once
logged, restore from the log on start, session limits, settings and the webhook; and a
device adapter reporting its checksum errors."""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import select

from devices.base import Device
from devices.codecs.base import Codec, Measurement
from monitor.alarms import AlarmEngine, AlarmEvent, Kind, Priority, Transition, profile
from monitor.alarms.listener import AlarmListener
from monitor.alarms.rules import Condition, Rule
from monitor.alarms.settings import AlarmSettings
from monitor.bus import Bus, CallbackListener
from monitor.clock import ManualClock, ScaledClock
from monitor.commands import Acknowledge, CommandDone
from monitor.config import Config, RoomConfig
from monitor.errors import AlarmNotFound, AlarmRulesError, IvmonError
from monitor.live import LiveState
from monitor.messages import DeviceErrors, DeviceStatus, LinkState
from monitor.reading import Reading
from monitor.service import Station
from monitor.storage.schema import AlarmEventRow, LimitOverrideRow
from tests.monitor.alarm_helpers import T0
from tests.servers import wait_until

ROOMS = (RoomConfig("r1", "Room 1"), RoomConfig("r2", "Room 2"))


def make_station(data_dir: Path, clock: ManualClock) -> Station:
    return Station(Config(data_dir=data_dir, rooms=ROOMS), clock=clock)


@pytest.fixture
def station(tmp_path: Path, manual_clock: ManualClock) -> Iterator[Station]:
    st = make_station(tmp_path, manual_clock)
    st.start()
    yield st
    st.stop()


def send_hr(station: Station, values: list[float], room: str = "r1") -> None:
    """One HR a second on the station's clock, published as a device would."""
    clock = station.clock
    for value in values:
        station.bus.publish(Reading(room, f"{room}-monitor", "hr", value, clock.now()))
        clock.advance(1)  # type: ignore[attr-defined]


def shown(station: Station, room: str = "r1"):  # type: ignore[no-untyped-def]
    [view] = station.live.snapshot(station.clock.now(), [room])
    return view


def logged(station: Station, alarm_id: str) -> list[str]:
    with station.db.connect() as conn:
        return list(conn.execute(select(AlarmEventRow.transition)
                                 .where(AlarmEventRow.alarm_id == alarm_id)
                                 .order_by(AlarmEventRow.id)).scalars())


def test_acknowledge_returns_once_logged_and_every_screen_shows_it(station: Station) -> None:
    send_hr(station, [140] * 12)
    wait_until(lambda: shown(station).alarms, 10, what="the HR alarm on screen")
    [alarm] = shown(station).alarms
    events = station.acknowledge(alarm.id, "nurse1", "anxious, repeat in 5 min")
    assert [e.transition for e in events] == [Transition.ACKNOWLEDGED]
    # Durably logged before submit returned, and shown as acknowledged.
    assert logged(station, alarm.id) == ["raised", "acknowledged"]
    [seen] = shown(station).alarms
    assert (seen.acknowledged_by, seen.acknowledged_at) == ("nurse1", events[0].at)
    assert station.acknowledge(alarm.id, "nurse2") == []  # already acknowledged


def test_a_refused_command_raises_its_error_to_the_caller(station: Station) -> None:
    with pytest.raises(AlarmNotFound):
        station.submit(Acknowledge("nope", "nurse1", station.clock.now()))
    with pytest.raises(AlarmRulesError, match="has no session"):
        station.override_limits("r1", (), "nurse1", "why")


def test_audio_pause_is_shown_with_its_countdown(station: Station,
                                                 manual_clock: ManualClock) -> None:
    [paused] = station.pause_audio("r2", "nurse1", seconds=90)
    audio = shown(station, "r2").audio
    assert audio is not None and audio.by_user == "nurse1" and audio.id == paused.alarm_id
    manual_clock.advance(30)
    assert shown(station, "r2").audio_seconds_left(manual_clock.now()) == 60
    assert station.alarms.audio("r2") == audio


def test_session_limits_are_logged_with_who_and_why(station: Station) -> None:
    session_id = station.start_session("r1")
    wait_until(lambda: shown(station).session_id == session_id, 10, what="the session")
    rules = (Rule("hr", Condition.ABOVE, 145, Priority.MEDIUM, delay=10, hysteresis=2),)
    station.override_limits("r1", rules, "nurse1", "athlete, resting HR 138")
    with station.db.connect() as conn:
        row = conn.execute(select(LimitOverrideRow)).one()
    assert (row.session_id, row.by_user, row.reason) == (session_id, "nurse1",
                                                         "athlete, resting HR 138")
    assert 145 in {r.limit for r in station.alarms.profile_for("r1").rules_for("hr")}
    send_hr(station, [140] * 15)
    station.bus.publish(DeviceStatus("r2", "d", LinkState.OK, station.clock.now()))
    wait_until(lambda: station.bus.delivered > 16, 10, what="the readings")
    assert shown(station).alarms == ()
    with pytest.raises(AlarmRulesError, match="HR high limit 500"):
        station.override_limits("r1", (Rule("hr", Condition.ABOVE, 500, Priority.HIGH),),
                                "nurse1", "typo")


def test_changed_settings_are_kept_and_used(station: Station, tmp_path: Path,
                                            manual_clock: ManualClock) -> None:
    chosen = AlarmSettings(latching_high=False, escalation_seconds=30)
    station.change_settings(chosen, "admin")
    assert station.alarms.settings == chosen == station.store.settings()
    with pytest.raises(AlarmRulesError, match="escalation time 1 s"):
        station.change_settings(AlarmSettings(escalation_seconds=1), "admin")
    assert station.store.settings() == chosen


def test_a_station_restarted_carries_on_with_the_logged_alarms(
        tmp_path: Path, manual_clock: ManualClock) -> None:
    first = make_station(tmp_path, manual_clock)
    first.start()
    send_hr(first, [160] * 12)  # high HR in r1
    first.bus.publish(DeviceStatus("r2", "r2-monitor", LinkState.LOST, manual_clock.now(),
                                   "Cannot open the port"))
    wait_until(lambda: len(first.alarms.active()) == 2, 10, what="two alarms")
    hr = next(a for a in first.alarms.active() if a.vital == "hr")
    first.acknowledge(hr.id, "nurse1", "on it")
    first.pause_audio("r2", "nurse1")
    before = [(v.alarms, v.audio) for v in first.live.snapshot(manual_clock.now())]
    # No orderly stop of the bus: what was committed is all the next station gets.
    first._stop.set()
    first.bus.stop()
    first.webhook.stop()

    second = make_station(tmp_path, manual_clock)
    second.start()
    try:
        # Alarms (acknowledged by whom, when) and the audio pause, as the screens showed them.
        assert [(v.alarms, v.audio) for v in second.live.snapshot(manual_clock.now())] == before
        assert second.alarms.active() == first.alarms.active()
        # The condition still holds: the same alarm carries on, never raised anew.
        send_hr(second, [160] * 15)
        second.bus.publish(DeviceStatus("r2", "r2-monitor", LinkState.OK, manual_clock.now()))
        wait_until(lambda: not shown(second, "r2").alarms, 10, what="r2's link alarm to clear")
        assert [a.id for a in shown(second).alarms] == [hr.id]
        assert logged(second, hr.id).count("raised") == 1
    finally:
        second.stop()


@pytest.fixture
def receiver() -> Iterator[list[dict]]:  # type: ignore[type-arg]
    bodies: list[dict] = []  # type: ignore[type-arg]

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    bodies.append({"url": f"http://127.0.0.1:{server.server_address[1]}/escalations"})
    yield bodies
    server.shutdown()
    server.server_close()


def test_an_unacknowledged_high_alarm_escalates_to_the_webhook(
        station: Station, manual_clock: ManualClock, receiver: list[dict]) -> None:  # type: ignore[type-arg]
    url = receiver.pop(0)["url"]
    station.change_settings(AlarmSettings(escalation_seconds=60, webhook_url=url), "admin")
    send_hr(station, [160] * 12)
    wait_until(lambda: shown(station).alarms, 10, what="the HR alarm")
    manual_clock.advance(60)
    # The station's own tick (about once a second) notices; the webhook thread posts.
    wait_until(lambda: receiver, 15, what="the escalation at the receiver")
    [body] = receiver
    assert body["event"] == "alarm_escalated" and body["room"] == "r1"
    assert body["priority"] == "high" and body["message"] == "HR 160 > 150"
    assert shown(station).alarms[0].escalated
    wait_until(lambda: station.webhook.status, 5, what="the webhook status")
    assert station.webhook.ok


def test_commands_on_the_bus_and_a_sessions_reminder_acknowledged() -> None:
    # The session manager raises reminders itself; the engine must know them to acknowledge.
    engine = AlarmEngine(profile("iv-ketamine"), AlarmSettings())
    bus, seen = Bus(), []
    bus.add_listener(AlarmListener(engine))
    bus.add_listener(CallbackListener(lambda m, b: seen.append(m)))
    reminder = AlarmEvent("rem7-bp40", "r1", "nibp_sys", Kind.REMINDER, Priority.LOW,
                          Transition.RAISED, "BP check due (40 min)", T0)
    bus.publish(reminder)
    bus.publish(Acknowledge("rem7-bp40", "nurse1", T0, "cuff on"))
    bus.publish(Acknowledge("gone", "nurse1", T0))
    bus.drain()
    acked = [m for m in seen if isinstance(m, AlarmEvent)
             and m.transition is Transition.ACKNOWLEDGED]
    assert [(e.alarm_id, e.by_user, e.note) for e in acked] == [("rem7-bp40", "nurse1",
                                                                  "cuff on")]
    done = [m for m in seen if isinstance(m, CommandDone)]
    assert done[0].events == tuple(acked)
    assert isinstance(done[1].error, AlarmNotFound) and done[1].events == ()


def test_submit_needs_a_running_station(tmp_path: Path, manual_clock: ManualClock) -> None:
    idle = make_station(tmp_path, manual_clock)
    with pytest.raises(IvmonError, match="not running"):
        idle.acknowledge("x", "nurse1")


# -- a device adapter reports its checksum errors --------------------------------------------


class NoisyCodec(Codec):
    """Each "X" is a frame that failed its checksum, each "1" an HR of 70; it keeps asking
    (through the loop:// port) for more of both."""

    name = "noisy"

    def opening(self) -> bytes:
        return b"XX1"

    def tick(self, now: float, silent_for: float) -> bytes:
        return b"X1"

    def feed(self, data: bytes) -> list[Measurement]:
        self.stats.checksum_errors += data.count(b"X")
        return [Measurement("hr", 70.0) for _ in range(data.count(b"1"))]


class NoisyDevice(Device):
    protocol = "noisy"

    def make_codec(self) -> Codec:
        return NoisyCodec()


def test_a_device_publishes_its_checksum_error_total_at_most_once_a_second() -> None:
    clock = ScaledClock(50)
    device = NoisyDevice("r1", "r1-monitor", "loop://", clock=clock)
    messages: list[object] = []
    stop = threading.Event()
    worker = threading.Thread(target=device.run, args=(messages.append, stop), daemon=True)
    worker.start()
    try:
        wait_until(lambda: sum(isinstance(m, DeviceErrors) for m in messages) >= 5, 20,
                   what="five error reports")
    finally:
        stop.set()
        worker.join(10)
    reports = [m for m in messages if isinstance(m, DeviceErrors)]
    totals = [r.checksum_errors_total for r in reports]
    assert totals == sorted(set(totals))  # only when it changed
    assert all((b.at - a.at) >= timedelta(seconds=0.99)  # one station second apart at least
               for a, b in itertools.pairwise(reports))
    assert {(r.room, r.device) for r in reports} == {("r1", "r1-monitor")}


def test_the_screens_show_latched_escalated_and_paused_as_the_engine_has_them() -> None:
    engine = AlarmEngine(profile("iv-ketamine"), AlarmSettings())
    live = LiveState({"r1": "Room 1"})
    live.take_changed()
    events = engine.on_reading(Reading("r1", "d", "nibp_sys", 186, T0))
    events += engine.tick(T0 + timedelta(seconds=60))  # escalated
    events += engine.on_reading(Reading("r1", "d", "nibp_sys", 150, T0 + timedelta(seconds=300)))
    events += engine.pause_audio("r1", "nurse1", T0 + timedelta(seconds=301))
    for event in events:
        live.on_message(event, Bus())
    [view] = live.snapshot(T0 + timedelta(seconds=331))
    [alarm] = view.alarms
    assert alarm.latched and alarm.escalated and not alarm.acknowledged
    assert view.alarms == tuple(engine.active())
    assert view.audio == engine.audio("r1") and view.audio_seconds_left(
        T0 + timedelta(seconds=331)) == 90
    assert live.take_changed() == {"r1"}
