"""The whole station over simulated minutes at high speed: devices, engine, recorder, database."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from monitor.cli_station import build_devices, demo_config
from monitor.clock import ScaledClock
from monitor.config import Config
from monitor.service import Station
from monitor.storage.schema import AlarmEventRow, ReadingRow, SessionRow
from tests.servers import wait_until

pytestmark = pytest.mark.slow

SPEED = 60.0


@pytest.fixture(scope="module")
def finished_station(tmp_path_factory: pytest.TempPathFactory) -> Station:
    """Six rooms, one scenario each, run for about 15 simulated minutes."""
    data_dir: Path = tmp_path_factory.mktemp("integration")
    config, plans = demo_config(Config(data_dir=data_dir), rooms=6, speed=SPEED, protocol="sim")
    clock = ScaledClock(SPEED)
    station = Station(config, build_devices(config, clock), clock=clock)
    station.start(plans)
    started = clock.now()
    # Run until the simulated session has covered the disconnect room's silence and return
    # (120-165 s after its start, which is 60 s in) and a few cuff cycles: 15 simulated min.
    wait_until(lambda: (clock.now() - started).total_seconds() >= 15 * 60, timeout=120,
               interval=0.5, what="15 simulated minutes")
    station.stop()
    return station


def rows(station: Station, statement):  # type: ignore[no-untyped-def]
    with station.db.connect() as conn:
        return conn.execute(statement).all()


def test_every_room_has_a_session_and_continuous_readings(finished_station: Station) -> None:
    sessions = rows(finished_station, select(SessionRow.room, SessionRow.label))
    assert sorted(r.room for r in sessions) == [f"r{i}" for i in range(1, 7)]
    counts = dict(rows(finished_station, select(ReadingRow.room, func.count())
                       .where(ReadingRow.code == "hr").group_by(ReadingRow.room)))
    for room in ("r1", "r2", "r3", "r4", "r5"):
        # One HR a simulated second; allow for start-up and scheduling on a busy machine.
        assert counts[room] >= 0.5 * 15 * 60, (room, counts)
    # The disconnected room lost 45 s of data, but still recorded the rest.
    assert counts["r6"] >= 0.4 * 15 * 60
    assert finished_station.recorder.backlog == 0
    assert finished_station.recorder.problem is None


def test_readings_carry_session_and_nibp_is_per_cuff_cycle(finished_station: Station) -> None:
    nibp = rows(finished_station, select(ReadingRow.room, func.count())
                .where(ReadingRow.code == "nibp_sys").group_by(ReadingRow.room))
    for room, count in nibp:
        # A cuff measurement at the start and one every 5 min: 3 or 4 in 15 min, never one
        # per second (the monitor's last value is not repeated as new).
        assert 2 <= count <= 5, (room, count)
    missing = rows(finished_station, select(func.count()).select_from(ReadingRow)
                   .where(ReadingRow.session_id.is_(None)))
    assert missing[0][0] == 0


def test_scenarios_leave_their_alarms_in_the_log(finished_station: Station) -> None:
    events = rows(finished_station, select(AlarmEventRow.room, AlarmEventRow.vital,
                                           AlarmEventRow.priority, AlarmEventRow.transition,
                                           AlarmEventRow.message, AlarmEventRow.kind))
    by_room: dict[str, list] = {}
    for e in events:
        by_room.setdefault(e.room, []).append(e)
    # r2 hypertension: SBP above 180, high priority, with value and limit in the text.
    assert any(e.vital == "nibp_sys" and e.priority == "high" and e.transition == "raised"
               and e.message.startswith("SBP ") and e.message.endswith("> 180")
               for e in by_room["r2"]), by_room.get("r2")
    # r3 bradycardia: HR below 50.
    assert any(e.vital == "hr" and e.transition == "raised"
               and ("< 50" in e.message or "< 40" in e.message)
               for e in by_room["r3"]), by_room.get("r3")
    # r4 desaturation: SpO2 below 88 (high) at some point.
    assert any(e.vital == "spo2" and e.priority == "high" for e in by_room["r4"])
    # r5 probe off: a technical alarm about SpO2, no physiological SpO2 alarm.
    assert any(e.kind == "technical" and "SpO2 no valid signal" in e.message
               for e in by_room["r5"])
    assert not any(e.kind == "physiological" and e.vital == "spo2" for e in by_room["r5"])
    # r6 disconnect: the technical alarm was raised and cleared when data returned.
    transitions = Counter((e.kind, e.transition) for e in by_room["r6"])
    assert transitions[("technical", "raised")] >= 1
    assert transitions[("technical", "cleared")] >= 1
    # r1 normal: nothing physiological at high priority.
    assert not any(e.priority == "high" for e in by_room.get("r1", []))


def test_invalid_readings_are_kept_without_a_value(finished_station: Station) -> None:
    invalid = rows(finished_station, select(ReadingRow.value, ReadingRow.quality)
                   .where(ReadingRow.room == "r5", ReadingRow.quality == "invalid"))
    assert invalid, "the probe-off room stored its invalid SpO2 readings"
    assert all(r.value is None for r in invalid)

