"""Tests of the GE/Datex S/5 DRI codec and emulator against vendor vectors and real captures."""

from __future__ import annotations

import csv
import itertools
import math
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.codecs.base import MAX_BUFFER, Measurement
from devices.codecs.datex import (
    SERIAL_SETTINGS,
    DatexCodec,
    Deframer,
    checksum,
    displayed_values_request,
    frame,
)
from devices.codecs.datex_records import (
    DATA_INVALID,
    DRI_MT_PHDB,
    DRI_MT_WAVE,
    DRI_PH_60S_TREND,
    DRI_PH_DISPL,
    NIBP_MEASURING,
    NIBP_OLD_DATA,
    Group,
    build_basic,
    build_phdb,
    build_record,
    parse_header,
    parse_request,
    phdb_subrecords,
    read_group,
)
from monitor.reading import Quality
from simulators.emulators.datex import DatexEmulator
from simulators.sample import VitalsSample

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "datex"
ON = 0x3
T0 = datetime(2025, 3, 4, 9, 0, tzinfo=UTC)


def unframe(wire: bytes) -> bytes:
    """The record inside exactly one frame, its checksum checked."""
    bodies = Deframer().feed(wire)
    assert len(bodies) == 1
    body = bodies[0]
    assert checksum(body[:-1]) == body[-1]
    return body[:-1]


def record_frame(groups: dict[str, Group], r_time: int = 1_700_000_000) -> bytes:
    """A framed displayed-values record holding the given basic groups."""
    phdb = build_phdb(r_time, build_basic(groups))
    return frame(build_record(DRI_MT_PHDB, [(DRI_PH_DISPL, phdb)], r_time=r_time))


def by_code(measurements: list[Measurement]) -> dict[str, float]:
    return {m.code: m.value for m in measurements}


def nibp_frame(label: int, triple: tuple[int, int, int] | None, r_time: int) -> bytes:
    values = (*(triple or (DATA_INVALID,) * 3), DATA_INVALID)
    return record_frame({"nibp": Group(ON, label, values)}, r_time)


# --- GE spec Appendix A -------------------------------------------------------------------

def appendix_vectors() -> list[tuple[str, bytes]]:
    vectors, name = [], None
    text = (FIXTURES / "ge_s5_computer_interface_appendixA_vectors.txt").read_text()
    for line in text.splitlines():
        if line.startswith("name:"):
            name = line.removeprefix("name:").strip()
        elif line.startswith("hex:"):
            vectors.append((name, bytes.fromhex(line.removeprefix("hex:"))))
    return vectors


VECTORS = appendix_vectors()


def test_appendix_has_six_vectors() -> None:
    assert len(VECTORS) == 6


@pytest.mark.parametrize(("name", "wire"), VECTORS, ids=[n for n, _ in VECTORS])
def test_appendix_vector_framing_and_checksum(name: str, wire: bytes) -> None:
    record = unframe(wire)
    header = parse_header(record)  # also checks r_len against the record's length
    assert header.r_len == len(record)
    assert frame(record) == wire  # our framing, escaping included, reproduces GE's bytes
    expected_type = DRI_MT_WAVE if name.startswith("waveform") else DRI_MT_PHDB
    assert header.maintype == expected_type


def test_appendix_requests_decode_to_their_fields() -> None:
    requests = {name: parse_request(unframe(wire)) for name, wire in VECTORS}
    start = requests["DRI_PH_DISPL request, tx_ival=10 s, classes BASIC|EXT1|EXT2|EXT3 "
                     "(phdb_class_bf=0x0E)"]
    assert (start.record_type, start.interval_s, start.classes) == (DRI_PH_DISPL, 10, 0x0E)
    trend = requests["DRI_PH_60S_TREND request, tx_ival=60 s (checksum 0x7D goes out escaped "
                     "as 7d 5d)"]
    assert (trend.record_type, trend.interval_s) == (DRI_PH_60S_TREND, 60)
    assert requests["waveform stop WF_REQ_CONT_STOP, type[0]=0xFF"] is None


def test_our_requests_equal_the_spec_examples() -> None:
    wires = dict(VECTORS)
    assert displayed_values_request(10, classes=0x0E) == wires[
        "DRI_PH_DISPL request, tx_ival=10 s, classes BASIC|EXT1|EXT2|EXT3 (phdb_class_bf=0x0E)"]
    assert displayed_values_request(0) == wires["DRI_PH_DISPL stop (tx_ival=0, phdb_class_bf=0)"]
    assert DatexCodec().closing() == displayed_values_request(0)


def test_request_frames_fed_to_the_codec_give_nothing() -> None:
    codec = DatexCodec()
    assert codec.feed(b"".join(wire for _, wire in VECTORS)) == []
    assert codec.stats.frames == 6
    assert codec.stats.checksum_errors == codec.stats.dropped == codec.stats.resyncs == 0


def test_serial_settings() -> None:
    assert SERIAL_SETTINGS == {"baudrate": 19200, "bytesize": 8, "parity": "E", "stopbits": 1,
                               "rtscts": True}


# --- LNhealth unframed records ------------------------------------------------------------

def lnhealth(n: int) -> bytes:
    return bytes.fromhex((FIXTURES / f"lnhealth_s5parser_test_record{n}.hex").read_text().strip())


def test_lnhealth_record1_phdb_fields() -> None:
    record = lnhealth(1)
    header = parse_header(record)
    assert (header.r_len, header.plug_id, header.maintype) == (1152, 35588, DRI_MT_PHDB)
    subs = phdb_subrecords(record, header)
    assert [s.phdb_class for s in subs] == [0, 1, 2, 3]
    basic = subs[0]
    assert basic.time == 1251973827
    assert basic.marker == 2
    ecg = read_group(basic.data, "ecg")
    assert ecg.value(0) == 0  # hr 0
    assert (ecg.label >> 8) & 0x0F == 2  # ECG1 lead label "II"
    p1 = read_group(basic.data, "p1")
    assert (p1.label, p1.value(0)) == (1, 900)  # "ART", 9.00 mmHg
    assert read_group(basic.data, "o2").value(1) / 100 == pytest.approx(29.43)


def test_lnhealth_record1_through_the_codec() -> None:
    codec = DatexCodec()
    got = codec.feed(frame(lnhealth(1)))
    assert by_code(got) == {"hr": 0.0, "rr": 0.0, "etco2": 0.0, "temp": 18.0}
    assert {m.device_time for m in got} == {datetime.fromtimestamp(1251973827, UTC)}


def test_lnhealth_record0_is_a_waveform_record() -> None:
    record = lnhealth(0)
    header = parse_header(record)
    assert (header.r_len, header.plug_id, header.maintype) == (648, 35537, DRI_MT_WAVE)
    assert [t for _, t in header.subrecords] == [1, 2, 3, 4, 5, 6, 7, 8]
    codec = DatexCodec()
    assert codec.feed(frame(record)) == []
    assert codec.stats.frames == 1 and codec.stats.dropped == 0


# --- the real capture ---------------------------------------------------------------------

def test_capture_matches_expected_csv() -> None:
    raw = (FIXTURES / "pycollect_notebook_raw.raw").read_bytes()
    codec = DatexCodec()
    got: dict[datetime, dict[str, float]] = {}
    for m in codec.feed(raw):
        got.setdefault(m.device_time, {})[m.code] = m.value
    assert codec.stats.frames == 21
    assert codec.stats.checksum_errors == codec.stats.dropped == 0

    ambient = 759.8  # the capture's co2.amb_press, 7598 in 1/10 mmHg; the CSV leaves it out
    with (FIXTURES / "pycollect_notebook_raw.expected.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(got) == 11
    for i, row in enumerate(rows):
        when = datetime.fromtimestamp(int(row["r_time"]), UTC)
        values = got[when]
        assert values["hr"] == float(row["hr"])
        assert values["spo2"] == pytest.approx(float(row["spo2"]))
        assert values["pr"] == float(row["spo2_pr"])
        assert values["rr"] == float(row["co2_rr"])  # capnograph rate wins over impedance
        assert values["etco2"] == pytest.approx(float(row["co2_et_pct"]) / 100 * ambient,
                                                abs=0.01)
        assert "temp" not in values  # t1 absent, blank in the CSV
        # Deliberate difference: the CSV repeats the last cuff result on every row; we
        # report it once, in the first record, since it never changes in the capture.
        nibp = (values.get("nibp_sys"), values.get("nibp_dia"), values.get("nibp_mean"))
        if i == 0:
            assert nibp == (float(row["nibp_sys"]), float(row["nibp_dia"]),
                            float(row["nibp_mean"]))
        else:
            assert nibp == (None, None, None)


def test_capture_fed_byte_by_byte_decodes_the_same() -> None:
    raw = (FIXTURES / "pycollect_notebook_raw.raw").read_bytes()
    whole = DatexCodec().feed(raw)
    codec = DatexCodec()
    pieces = [m for i in range(len(raw)) for m in codec.feed(raw[i:i + 1])]
    assert pieces == whole


# --- NIBP: one event per cuff measurement -------------------------------------------------

def test_nibp_repeated_in_every_record_is_reported_once() -> None:
    codec = DatexCodec()
    sent = [codec.feed(nibp_frame(0, (12000, 8000, 9300), 100 + i)) for i in range(5)]
    assert [len(m) for m in sent] == [3, 0, 0, 0, 0]
    assert by_code(sent[0]) == {"nibp_sys": 120.0, "nibp_dia": 80.0, "nibp_mean": 93.0}


def test_nibp_new_value_after_a_cuff_cycle_even_when_equal() -> None:
    codec = DatexCodec()
    triple = (12000, 8000, 9300)
    assert len(codec.feed(nibp_frame(0, triple, 100))) == 3
    assert codec.feed(nibp_frame(NIBP_MEASURING, triple, 105)) == []
    assert len(codec.feed(nibp_frame(0, triple, 110))) == 3  # same numbers, new cycle
    assert codec.feed(nibp_frame(0, triple, 115)) == []
    assert codec.feed(nibp_frame(0, (11000, 7000, 8300), 120)) != []  # a different result


def test_nibp_old_result_is_not_new_but_a_fresh_equal_one_is() -> None:
    codec = DatexCodec()
    triple = (12000, 8000, 9300)
    # A station that connects late sees a result already older than 60 s: not reported.
    assert codec.feed(nibp_frame(NIBP_OLD_DATA, triple, 100)) == []
    assert codec.feed(nibp_frame(NIBP_OLD_DATA, triple, 105)) == []
    assert len(codec.feed(nibp_frame(0, triple, 400))) == 3  # the old flag cleared: new
    assert codec.feed(nibp_frame(0, triple, 405)) == []


def test_nibp_invalid_values_give_nothing_and_rearm() -> None:
    codec = DatexCodec()
    triple = (12000, 8000, 9300)
    assert len(codec.feed(nibp_frame(0, triple, 100))) == 3
    assert codec.feed(nibp_frame(0, None, 105)) == []
    assert len(codec.feed(nibp_frame(0, triple, 110))) == 3


def sample(i: float, values: dict[str, float] | None = None, **kw: object) -> VitalsSample:
    base = {"hr": 72, "pr": 71, "spo2": 97.4, "rr": 14, "etco2": 38.2, "temp": 36.7}
    return VitalsSample(T0 + timedelta(seconds=i), float(i), base if values is None else values,
                        **kw)


def run(emulator: DatexEmulator, codec: DatexCodec, samples: list[VitalsSample]
        ) -> list[Measurement]:
    out: list[Measurement] = []
    for s in samples:
        out += codec.feed(emulator.emit(s))
    return out


def test_emulated_cuff_cycles_give_one_event_each() -> None:
    emulator, codec = DatexEmulator(), DatexCodec()
    emulator.receive(codec.opening())
    cuffs = {30: (121, 79, 93), 330: (135, 88, 104), 345: (135, 88, 104), 630: (135, 88, 104)}
    got = run(emulator, codec, [sample(i, nibp=cuffs.get(i)) for i in range(900)])
    systolic = [m for m in got if m.code == "nibp_sys"]
    # 345 repeats 330 within 60 s and 630 repeats it after: both are still new cuff cycles.
    assert [m.value for m in systolic] == [121.0, 135.0, 135.0, 135.0]
    times = [(m.device_time - T0).total_seconds() for m in systolic]
    assert times[0] >= 30 and all(b - a >= 5 for a, b in itertools.pairwise(times))


# --- bad bytes ----------------------------------------------------------------------------

def test_corrupted_checksum_is_counted_dropped_and_the_next_frame_decodes() -> None:
    good = record_frame({"ecg": Group(ON, 0, (72, 0, 0, 0, 15))})
    bad = bytearray(good)
    bad[-2] ^= 0x01  # the checksum byte (never a flag or escape here)
    codec = DatexCodec()
    assert codec.feed(bytes(bad)) == []
    assert codec.stats.checksum_errors == 1
    assert by_code(codec.feed(good)) == {"hr": 72.0, "rr": 15.0}
    assert codec.stats.frames == 2


def test_wrong_length_is_dropped_not_a_checksum_error() -> None:
    record = bytearray(unframe(record_frame({"ecg": Group(ON, 0, (72, 0, 0, 0, 15))})))
    record[0] += 1  # r_len now disagrees with the record
    codec = DatexCodec()
    assert codec.feed(frame(bytes(record))) == []
    assert (codec.stats.dropped, codec.stats.checksum_errors) == (1, 0)


def test_subrecord_pointing_past_the_record_is_dropped() -> None:
    phdb = build_phdb(1, build_basic({"ecg": Group(ON, 0, (72, 0, 0, 0, 15))}))
    record = build_record(DRI_MT_PHDB, [(DRI_PH_DISPL, phdb[:100])])
    codec = DatexCodec()
    assert codec.feed(frame(record)) == []
    assert codec.stats.dropped == 1


def test_garbage_never_measures_and_the_buffer_stays_bounded() -> None:
    rng = random.Random(7)
    codec = DatexCodec()
    for _ in range(50):
        chunk = bytes(rng.getrandbits(8) for _ in range(4096))
        assert codec.feed(chunk) == []
        assert codec.buffered <= MAX_BUFFER
    # A start flag followed by a long run without an end flag must not grow without bound.
    assert codec.feed(b"\x7e" + b"\x00" * (3 * MAX_BUFFER)) == []
    assert codec.buffered <= MAX_BUFFER
    assert codec.stats.resyncs > 0
    assert codec.stats.measurements == 0
    good = record_frame({"ecg": Group(ON, 0, (72, 0, 0, 0, 15))})
    assert by_code(codec.feed(b"\x7e" + good)) == {"hr": 72.0, "rr": 15.0}


def test_skipped_bytes_before_a_frame_count_as_one_resync() -> None:
    good = record_frame({"ecg": Group(ON, 0, (72, 0, 0, 0, 15))})
    codec = DatexCodec()
    assert by_code(codec.feed(b"\x01\x02\x03" + good)) == {"hr": 72.0, "rr": 15.0}
    assert codec.stats.resyncs == 1


def test_escaped_bytes_inside_a_record_round_trip() -> None:
    phdb = build_phdb(1, build_basic({"ecg": Group(ON, 0, (0x7E7D, 0, 0, 0, 0x7D7E))}))
    record = build_record(DRI_MT_PHDB, [(DRI_PH_DISPL, phdb)], plug_id=0x7D7E, r_time=0x7E7E7D7D)
    wire = frame(record)
    assert wire.count(0x7E) == 2
    assert unframe(wire) == record


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=600), max_size=8))
def test_feed_never_raises_on_arbitrary_bytes(chunks: list[bytes]) -> None:
    codec = DatexCodec()
    for chunk in chunks:
        codec.feed(chunk)
        assert codec.buffered <= MAX_BUFFER


VALID = record_frame({
    "ecg": Group(ON, 0, (72, 0, 0, 0, 15)),
    "spo2": Group(ON, 0, (9700, 71, 0, 0)),
    "nibp": Group(ON, 0, (12000, 8000, 9300, DATA_INVALID)),
})


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(VALID) - 1), st.integers(0, 255),
                          st.sampled_from(["set", "insert", "delete"])), max_size=6),
       st.integers(1, 64))
def test_feed_never_raises_on_mutated_frames(edits: list[tuple[int, int, str]],
                                             split: int) -> None:
    wire = bytearray(VALID)
    for pos, value, kind in edits:
        pos = min(pos, len(wire) - 1)
        if kind == "set":
            wire[pos] = value
        elif kind == "insert":
            wire.insert(pos, value)
        elif len(wire) > 1:
            del wire[pos]
    codec = DatexCodec()
    data = bytes(wire) * 2
    for i in range(0, len(data), split):
        for m in codec.feed(data[i:i + split]):
            assert m.quality is Quality.INVALID or not math.isnan(m.value)


# --- codec details ------------------------------------------------------------------------

def test_rr_falls_back_to_impedance_only_without_a_capnograph_rate() -> None:
    co2_rr_invalid = Group(ON, 0, (500, 0, DATA_INVALID, 7600))
    got = DatexCodec().feed(record_frame({"ecg": Group(ON, 0, (72, 0, 0, 0, 18)),
                                          "co2": co2_rr_invalid}))
    assert by_code(got)["rr"] == 18.0
    got = DatexCodec().feed(record_frame({"ecg": Group(ON, 0, (72, 0, 0, 0, 18)),
                                          "co2": Group(ON, 0, (500, 0, 12, 7600))}))
    assert by_code(got)["rr"] == 12.0


def test_etco2_uses_ambient_pressure_or_760() -> None:
    got = DatexCodec().feed(record_frame({"co2": Group(ON, 0, (500, 0, 12, 7000))}))
    assert by_code(got)["etco2"] == pytest.approx(35.0)  # 5.00 % of 700.0 mmHg
    got = DatexCodec().feed(record_frame({"co2": Group(ON, 0, (500, 0, 12, DATA_INVALID))}))
    assert by_code(got)["etco2"] == pytest.approx(38.0)  # 5.00 % of 760 mmHg


def test_sentinels_and_inactive_groups_give_no_measurement() -> None:
    got = DatexCodec().feed(record_frame({
        "ecg": Group(ON, 0, (-32001, 0, 0, 0, -32766)),
        "spo2": Group(0x1, 0, (9700, 71, 0, 0)),  # exists but not active
        "t1": Group(ON, 0, (3700,)),
    }))
    assert by_code(got) == {"temp": 37.0}


def test_out_of_range_values_are_counted_and_dropped() -> None:
    codec = DatexCodec()
    got = codec.feed(record_frame({
        "t1": Group(ON, 0, (9000,)),  # 90 degC
        "spo2": Group(ON, 0, (10500, 400, 0, 0)),  # 105 %, pr 400
        "ecg": Group(ON, 0, (-5, 0, 0, 0, 15)),  # hr -5, rr 15
        "nibp": Group(ON, 0, (12000, -100, 9300, DATA_INVALID)),  # dia -1 mmHg
    }))
    assert [(m.code, m.value, m.quality) for m in got] == [
        ("rr", 15.0, Quality.VALID), ("nibp_sys", 120.0, Quality.VALID),
        ("nibp_mean", 93.0, Quality.VALID)]
    assert codec.stats.dropped == 5 and codec.stats.checksum_errors == 0
    assert codec.stats.measurements == 3


def test_sentinels_are_neither_reported_nor_counted_as_dropped() -> None:
    codec = DatexCodec()
    got = codec.feed(record_frame({"t1": Group(ON, 0, (-32001,)),
                                   "spo2": Group(ON, 0, (DATA_INVALID, 70, 0, 0))}))
    assert by_code(got) == {"pr": 70.0}
    assert codec.stats.dropped == 0


def test_tick_asks_again_after_silence_at_most_every_ten_seconds() -> None:
    codec = DatexCodec()
    request = codec.opening()
    assert request == displayed_values_request(5)
    assert codec.tick(now=105.0, silent_for=9.0) == b""
    assert codec.tick(now=106.0, silent_for=10.0) == request
    assert codec.tick(now=110.0, silent_for=14.0) == b""
    assert codec.tick(now=116.0, silent_for=20.0) == request


def test_codec_rejects_a_nonsense_interval() -> None:
    with pytest.raises(ValueError, match="interval_s"):
        DatexCodec(interval_s=0)


# --- emulator and round trip --------------------------------------------------------------

def test_emulator_is_silent_until_asked_then_streams_and_stops() -> None:
    emulator, codec = DatexEmulator(), DatexCodec()
    assert all(emulator.emit(sample(i)) == b"" for i in range(10))
    assert emulator.receive(b"\x7e\x00garbage\x7e" + frame(b"\x01" * 40)) == b""
    assert emulator.emit(sample(10)) == b""  # neither is a displayed-values request
    emulator.receive(codec.opening())
    sent = [i for i in range(10, 31) if emulator.emit(sample(i))]
    assert sent == [10, 15, 20, 25, 30]
    emulator.receive(codec.closing())
    assert all(emulator.emit(sample(i)) == b"" for i in range(31, 50))


def test_emulator_follows_the_requested_interval_and_silence() -> None:
    emulator = DatexEmulator()
    emulator.receive(displayed_values_request(10))
    sent = [i for i in range(0, 41)
            if emulator.emit(sample(i, silent=20 <= i < 30))]
    assert sent == [0, 10, 30, 40]


def test_round_trip_through_emulator_and_codec() -> None:
    emulator, codec = DatexEmulator(plug_id=0x1234), DatexCodec()
    emulator.receive(codec.opening())
    values = {"hr": 88.4, "pr": 87, "spo2": 95.63, "rr": 17.2, "etco2": 41.3, "temp": 37.46}
    got = codec.feed(emulator.emit(sample(0, values, nibp=(142.0, 91.0, 108.0))))
    decoded = by_code(got)
    tolerance = {"hr": 0.5, "pr": 0.5, "rr": 0.5, "spo2": 0.01, "temp": 0.01, "etco2": 0.08}
    for code, value in values.items():
        assert decoded[code] == pytest.approx(value, abs=tolerance[code]), code
    assert (decoded["nibp_sys"], decoded["nibp_dia"], decoded["nibp_mean"]) == (142, 91, 108)
    assert {m.device_time for m in got} == {T0}
    assert {m.quality for m in got} == {Quality.VALID}


def test_round_trip_invalid_and_missing_vitals() -> None:
    emulator, codec = DatexEmulator(), DatexCodec()
    emulator.receive(codec.opening())
    values = {"hr": 70, "pr": 70, "spo2": 98, "rr": 12}
    got = codec.feed(emulator.emit(sample(0, values, invalid=frozenset({"spo2"}))))
    # No capnograph in the model: rr arrives through the impedance path.
    assert by_code(got) == {"hr": 70.0, "pr": 70.0, "rr": 12.0}


def test_emulator_survives_absurd_model_values() -> None:
    emulator, codec = DatexEmulator(), DatexCodec()
    emulator.receive(codec.opening())
    values = {"hr": float("nan"), "spo2": 1e9, "temp": -1e9, "etco2": float("inf")}
    wire = emulator.emit(sample(0, values, nibp=(1e6, 120.0, 90.0)))
    # Numbers the record cannot hold go out as the monitor's "no value", never clamped.
    assert codec.feed(wire) == []
    assert codec.stats.frames == 1 and codec.stats.dropped == 0
    # -300 degC fits the record but no body: dropped and counted, not shown even as invalid.
    assert codec.feed(emulator.emit(sample(5, {"temp": -300.0}))) == []
    assert codec.stats.dropped == 1
