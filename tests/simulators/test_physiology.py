"""The seeded physiology model and its scenarios, and the ``sim://`` port that serves them."""

from __future__ import annotations

import re
import statistics
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import serial

from devices.transport import register_url_handlers
from monitor.alarms import AlarmEngine, Priority, Transition, profile
from monitor.reading import Reading
from simulators.physiology import INFUSION_START, SessionModel, effect
from simulators.scenarios import SCENARIOS, scenario
from simulators.urlhandler.protocol_sim import parse_sim_url

START = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
SEEDS = range(20)


def samples(name: str, seed: int, seconds: float, **kwargs: object) -> list:  # type: ignore[type-arg]
    return list(SessionModel(name, seed, start=START, **kwargs).run(seconds))  # type: ignore[arg-type]


def cuffs(name: str, seed: int, seconds: float) -> Iterator[tuple[float, tuple]]:  # type: ignore[type-arg]
    for sample in SessionModel(name, seed, start=START).run(seconds):
        if sample.nibp is not None:
            yield sample.elapsed, sample.nibp


# -- determinism -----------------------------------------------------------------------------


def test_the_same_seed_gives_the_same_session_bit_for_bit() -> None:
    a = samples("normal", 7, 2 * 3600)
    b = samples("normal", 7, 2 * 3600)
    assert len(a) == 7200
    assert a == b
    assert repr(a) == repr(b)


def test_a_different_seed_gives_a_different_session() -> None:
    a = samples("normal", 7, 600)
    b = samples("normal", 8, 600)
    assert [s.values for s in a] != [s.values for s in b]
    assert [s.nibp for s in a] != [s.nibp for s in b]


def test_every_scenario_is_deterministic() -> None:
    for name in SCENARIOS:
        assert samples(name, 3, 900) == samples(name, 3, 900), name


def test_samples_are_one_second_apart_from_the_start() -> None:
    run = samples("normal", 0, 5)
    assert [s.elapsed for s in run] == [0, 1, 2, 3, 4]
    assert [s.time for s in run] == [START + timedelta(seconds=i) for i in range(5)]
    assert set(run[0].values) == {"hr", "pr", "spo2", "rr"}


def test_values_are_within_the_vitals_bounds() -> None:
    for name in SCENARIOS:
        for s in samples(name, 11, 1800):
            assert 20 <= s.values.get("hr", 70) <= 220
            assert 50 <= s.values.get("spo2", 97) <= 100
            assert 4 <= s.values.get("rr", 14) <= 40


# -- NIBP comes per cuff cycle -------------------------------------------------------------


def test_nibp_comes_only_at_the_start_and_then_every_300_seconds() -> None:
    run = samples("normal", 1, 3600)
    times = [s.elapsed for s in run if s.nibp is not None]
    assert times == [300.0 * i for i in range(12)]
    for s in run:
        if s.nibp is not None:
            sys, dia, mean = s.nibp
            assert sys > mean > dia


def test_with_an_offset_the_first_cuff_is_at_the_offset() -> None:
    run = samples("normal", 1, 900, offset=1000)
    assert run[0].elapsed == 1000
    assert [s.elapsed for s in run if s.nibp is not None] == [1000, 1300, 1600]


def test_the_cuff_cycle_is_configurable() -> None:
    run = samples("normal", 1, 1200, nibp_cycle=600)
    assert [s.elapsed for s in run if s.nibp is not None] == [0, 600]


# -- the scenarios -------------------------------------------------------------------------


def test_the_effect_peaks_about_40_minutes_into_the_infusion() -> None:
    assert effect(0) == 0 and effect(INFUSION_START) == 0
    peak = max(range(0, 7200, 10), key=effect)
    assert abs(peak - (INFUSION_START + 40 * 60)) <= 60
    assert effect(peak + 3600) < 0.2


def test_normal_sbp_rises_plausibly_at_40_minutes() -> None:
    # The cuff nearest 40 min into the infusion (2 min baseline + 40 min = 2520 s) is at 2400 s.
    rises = []
    for seed in SEEDS:
        by_time = dict(cuffs("normal", seed, 2401))
        rises.append(by_time[2400][0] - by_time[0][0])
    mean = statistics.fmean(rises)
    assert 5 <= mean <= 35, rises  # CLINICAL.md: mean rise +16 mmHg systolic


def test_normal_never_reaches_the_high_sbp_limit_on_average() -> None:
    peaks = [max(nibp[0] for _, nibp in cuffs("normal", seed, 5400)) for seed in SEEDS]
    assert statistics.fmean(peaks) < 180


@pytest.mark.parametrize("seed", SEEDS)
def test_hypertension_crosses_180_within_90_minutes(seed: int) -> None:
    assert any(nibp[0] > 180 for _, nibp in cuffs("hypertension", seed, 90 * 60))


@pytest.mark.parametrize("seed", [0, 4, 13])
def test_the_alarm_engine_raises_sbp_above_180_on_the_hypertension_scenario(seed: int) -> None:
    engine = AlarmEngine(profile("iv-ketamine"))
    events = []
    for sample in SessionModel("hypertension", seed, start=START).run(90 * 60):
        if sample.nibp is None:
            continue
        for code, value in zip(("nibp_sys", "nibp_dia", "nibp_mean"), sample.nibp,
                               strict=True):
            events += engine.on_reading(Reading("r4", "r4-sim", code, value, sample.time))
    high = [e for e in events if e.priority is Priority.HIGH and e.vital == "nibp_sys"
            and e.transition in (Transition.RAISED, Transition.PRIORITY_CHANGED)]
    assert high, events
    assert re.fullmatch(r"SBP \d+ > 180", high[0].message)
    assert engine.baseline("r4")["nibp_sys"] < 180  # the first cuff was the baseline


def test_bradycardia_falls_below_50_in_its_window() -> None:
    for seed in (0, 1, 2):
        run = samples("bradycardia", seed, 900)
        inside = [s.values["hr"] for s in run if 300 <= s.elapsed < 600]
        before = [s.values["hr"] for s in run if s.elapsed < 240]
        assert statistics.fmean(inside) < 50 and max(inside) < 55
        assert min(before) > 50


def test_desaturation_falls_below_88_with_slow_breathing() -> None:
    for seed in (0, 1, 2):
        run = samples("desaturation", seed, 900)
        inside = [s for s in run if 360 <= s.elapsed < 600]
        assert max(s.values["spo2"] for s in inside) < 88
        assert statistics.fmean(s.values["rr"] for s in inside) < 10
        assert min(s.values["spo2"] for s in run if s.elapsed < 300) >= 92


def test_probe_off_is_invalid_then_absent_then_back() -> None:
    run = samples("probe_off", 5, 600)
    for s in run:
        t = s.elapsed
        if 120 <= t < 240:
            assert "spo2" in s.invalid and "spo2" in s.values
        elif 240 <= t < 300:
            assert "spo2" not in s.values and "pr" not in s.values
        else:
            assert "spo2" in s.values and "spo2" not in s.invalid
        assert "hr" in s.values


def test_disconnect_is_silent_then_not() -> None:
    run = samples("disconnect", 5, 600)
    silent = [s.elapsed for s in run if s.silent]
    assert silent == [float(t) for t in [*range(120, 165), *range(420, 465)]]


def test_an_unknown_scenario_names_the_known_ones() -> None:
    with pytest.raises(ValueError, match="unknown scenario 'hypotension'; expected one of "
                                         "normal, hypertension"):
        scenario("hypotension")


# -- the sim:// port -----------------------------------------------------------------------


@pytest.fixture(scope="module", autouse=True)
def _handlers() -> None:
    register_url_handlers()


def read_lines(port: serial.SerialBase, want: int) -> list[bytes]:
    """Up to ``want`` whole lines, bounded by the number of reads rather than by time."""
    data = b""
    for _ in range(200):
        data += port.read(4096)
        if data.count(b"\r\n") >= want:
            break
    return data.split(b"\r\n")[:-1]


def test_the_sim_port_speaks_the_line_protocol() -> None:
    port = serial.serial_for_url("sim://ketamine?scenario=normal&seed=1&speed=200", timeout=0.5)
    try:
        assert port.is_open
        lines = read_lines(port, 5)
    finally:
        port.close()
    assert len(lines) >= 5
    assert any(line.startswith(b"VITALS ") for line in lines)
    for line in lines:
        assert line.startswith((b"VITALS ", b"NIBP ")), line
        assert re.fullmatch(rb"(VITALS|NIBP)( [A-Z0-9]+=(\d+(\.\d+)?|---))+", line), line


def test_the_sim_port_sends_what_the_model_makes() -> None:
    from simulators.emulators.simline import SimLineEmulator

    # Slow enough that a stalled test machine never makes the port skip ahead.
    port = serial.serial_for_url("sim://ketamine?scenario=hypertension&seed=3&speed=20",
                                 timeout=0.5)
    try:
        lines = read_lines(port, 4)
    finally:
        port.close()
    emulator = SimLineEmulator()
    expected = b"".join(emulator.emit(s) for s in samples("hypertension", 3, 10))
    assert lines[:4] == expected.split(b"\r\n")[:4]
    assert lines[0].startswith(b"VITALS HR=") and lines[1].startswith(b"NIBP SYS=")


@pytest.mark.parametrize(("url", "problem"), [
    ("sim://ketamine?scenaro=normal", "unknown option 'scenaro'"),
    ("sim://ketamine?scenario=hypotension", "unknown scenario 'hypotension'"),
    ("sim://ketamine?seed=one", "option seed='one' is not a number"),
    ("sim://ketamine?speed=0", "speed must be positive"),
    ("sim://horse", "unknown simulator 'horse'"),
    ("sim://ketamine?protocol=hl7", "unknown protocol 'hl7'"),
])
def test_a_bad_sim_url_quotes_the_grammar(url: str, problem: str) -> None:
    with pytest.raises(ValueError, match=re.escape(problem)) as parsed:
        parse_sim_url(url)
    assert "expected sim://ketamine?scenario=NAME&seed=N" in str(parsed.value)
    with pytest.raises((serial.SerialException, ValueError)) as opened:
        serial.serial_for_url(url, timeout=0.1)
    assert problem in str(opened.value)
    assert "expected sim://ketamine?scenario=NAME&seed=N" in str(opened.value)


def test_a_sim_url_names_its_settings() -> None:
    assert parse_sim_url("sim://ketamine") == {"scenario": "normal", "seed": 0, "speed": 1.0,
                                               "offset": 0.0, "protocol": "sim"}
    assert parse_sim_url("sim://datex?scenario=desaturation&seed=2&offset=60") == {
        "scenario": "desaturation", "seed": 2, "speed": 1.0, "offset": 60.0,
        "protocol": "datex"}
