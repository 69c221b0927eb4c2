"""Tests of the IntelliVue Data Export codec, its framing and PDUs, and the monitor emulator."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.codecs import intellivue_pdu as pdu
from devices.codecs.base import MAX_BUFFER, CodecStats, Measurement
from devices.codecs.intellivue import (
    SERIAL_SETTINGS,
    IntellivueCodec,
    Link,
    decode_float,
    encode_float,
    fcs,
    frame,
)
from devices.codecs.intellivue_framing import Deframer, escape, frame_message, user_data
from devices.codecs.intellivue_messages import (
    CMD_CONFIRMED_ACTION,
    CMD_CONFIRMED_EVENT_REPORT,
    ROIV,
    RORS,
    association_request,
    association_response,
    mds_create_event,
    parse_event_report,
    parse_operation,
    parse_poll_request,
    poll_result,
    release_request,
    release_response,
)
from monitor.reading import Quality
from simulators.emulators.intellivue import IntellivueEmulator
from simulators.sample import VitalsSample

VECTORS = (Path(__file__).resolve().parents[1] / "fixtures" / "intellivue"
           / "intellivue_vectors.txt").read_text()
T0 = datetime(2025, 3, 1, 9, 30, 0, tzinfo=UTC)
T0_BCD = pdu.encode_abs_time(T0.replace(tzinfo=None))


def _hex(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", ""))


# --- the published vectors --------------------------------------------------------------

FCS_VECTORS = re.findall(r"payload ((?:[0-9a-f]{2} )+)\s*-> wire: ((?:[0-9a-f]{2} ?)+)", VECTORS)
FLOAT_VECTORS = re.findall(r"#\s+0x([0-9A-F]{8}) -> (-?[\d.]+)", VECTORS)
SPECIAL_MANTISSAS = re.findall(r"0x([0-9A-F]{6}) (?:NaN|NRes|\+INF|-INF)", VECTORS)
RESERVED_MANTISSAS = re.findall(r"0x([0-9A-F]{6})/0x([0-9A-F]{6}) reserved", VECTORS)


def test_vectors_were_found():
    assert len(FCS_VECTORS) == 2
    assert len(FLOAT_VECTORS) == 5
    assert len(SPECIAL_MANTISSAS) == 4
    assert len(RESERVED_MANTISSAS) == 1


@pytest.mark.parametrize(("payload", "wire"), FCS_VECTORS)
def test_fcs_vectors(payload, wire):
    payload, wire = _hex(payload), _hex(wire)
    assert frame(payload) == wire
    stats = CodecStats()
    assert Deframer(stats).feed(wire) == [payload]
    assert stats.frames == 1 and stats.checksum_errors == 0


def test_fcs_check_value():
    text, value = re.search(r'check\("(\w+)"\) = 0x([0-9A-F]{4})', VECTORS).groups()
    assert fcs(text.encode()) == int(value, 16)


@pytest.mark.parametrize(("raw", "value"), FLOAT_VECTORS)
def test_float_vectors(raw, value):
    assert decode_float(int(raw, 16)) == pytest.approx(float(value), abs=0)
    assert decode_float(encode_float(float(value))) == float(value)


@pytest.mark.parametrize("mantissa", SPECIAL_MANTISSAS + list(RESERVED_MANTISSAS[0]))
@pytest.mark.parametrize("exponent", [0x00, 0x01, 0xFE])
def test_special_floats_are_no_number(mantissa, exponent):
    assert decode_float((exponent << 24) | int(mantissa, 16)) is None


def test_nu_obs_value_vector():
    raw, value = re.search(r"einstein test: ((?:[0-9a-f]{2} )+)-> value ([\d.]+)", VECTORS).groups()
    assert pdu.NuObsValue.read(pdu.Reader(_hex(raw))).value == float(value)


def test_physio_ids_and_state_bits_match_the_vectors():
    named = dict((name, int(code, 16)) for code, name in re.findall(r"0x([0-9A-F]{4}) (NOM_\w+)",
                                                                    VECTORS))
    for name in ("NOM_ECG_CARD_BEAT_RATE", "NOM_PLETH_PULS_RATE", "NOM_PULS_OXIM_SAT_O2",
                 "NOM_RESP_RATE", "NOM_AWAY_RESP_RATE"):
        assert getattr(pdu, name) == named[name]
    nbp = re.search(r"0x(\w{4})/0x(\w{4})/0x(\w{4}) NOM_PRESS_BLD_NONINV_SYS/DIA/MEAN", VECTORS)
    assert [int(x, 16) for x in nbp.groups()] == [
        pdu.NOM_PRESS_BLD_NONINV_SYS, pdu.NOM_PRESS_BLD_NONINV_DIA, pdu.NOM_PRESS_BLD_NONINV_MEAN]
    for bit, name in re.findall(r"0x([0-9A-F]{4}) (INVALID|QUESTIONABLE|UNAVAILABLE|"
                                r"CALIBRATION_ONGOING|TEST_DATA|DEMO_DATA)", VECTORS):
        assert getattr(pdu, f"MS_{name}") == int(bit, 16)


def test_serial_settings():
    assert dict(SERIAL_SETTINGS) == {"baudrate": 115200, "bytesize": 8, "parity": "N",
                                     "stopbits": 1, "xonxoff": False, "rtscts": False,
                                     "dsrdtr": False}


# --- framing ----------------------------------------------------------------------------

@given(st.binary(max_size=300))
def test_frame_round_trip_and_transparency(payload):
    wire = frame(payload)
    assert not {0xC0, 0xC1} & set(wire[1:-1])  # delimiters only at the ends
    assert Deframer(CodecStats()).feed(wire) == [payload]


def test_transparency_escapes_each_special_byte():
    assert escape(b"\xc0\xc1\x7d\x01") == b"\x7d\xe0\x7d\xe1\x7d\x5d\x01"


@given(st.binary(max_size=200), st.integers(min_value=1, max_value=50))
def test_frames_survive_any_chunking(message, chunk):
    wire = frame_message(message) * 3
    deframer = Deframer(CodecStats())
    out = []
    for i in range(0, len(wire), chunk):
        out += deframer.feed(wire[i:i + chunk])
    assert [user_data(p) for p in out] == [message] * 3


def test_header_is_checked():
    assert user_data(frame_message(b"abc")[1:-3]) == b"abc"
    assert user_data(b"\x11\x01\x00\x05abc") is None  # length disagrees
    assert user_data(b"\x12\x01\x00\x03abc") is None  # not the Data Export protocol


def test_abort_sequence_drops_the_frame():
    stats = CodecStats()
    assert Deframer(stats).feed(b"\xc0\x11\x01\x7d\xc1" + frame(b"ok")) == [b"ok"]
    assert stats.dropped == 1


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 1000])
def test_deframer_counters_hold_for_any_chunking(chunk):
    special = frame(b"\xc0\x7d\xc1\x7d\x7d")  # every byte of the payload escaped
    wire = (b"noise" + frame(b"x" * 40)[:20] + special  # a frame cut short by a BOF
            + b"\x01\x02" + b"\xc0" + b"y" * 30 + b"\xc1"  # oversized for max_frame=16
            + b"zz" + frame(b"ok") + b"\xc0ab\x7d\xc1" + frame(b"ok")[:-3] + b"\x00\x00\xc1")
    stats = CodecStats()
    deframer = Deframer(stats, max_frame=16)
    out = []
    for i in range(0, len(wire), chunk):
        out += deframer.feed(wire[i:i + chunk])
    assert out == [b"\xc0\x7d\xc1\x7d\x7d", b"ok"]
    # noise, the cut frame, the noise before the oversized frame, the oversized frame and
    # what follows it up to the next BOF: four runs of skipped bytes.
    assert (stats.frames, stats.resyncs, stats.dropped, stats.checksum_errors) == (2, 4, 1, 1)


# --- PDUs -------------------------------------------------------------------------------

def test_association_request_layout():
    request = association_request()
    assert request[0] == 0x0D and request[1] == len(request) - 2
    presentation = request.index(b"\xc1", 2)
    assert request[presentation + 1] == len(request) - presentation - 2
    assert request.endswith(bytes(16))
    assert association_response()[0] == 0x0E
    assert release_request()[0] == 0x09 and release_response()[0] == 0x0A


@given(st.floats(min_value=1e-20, max_value=1e20), st.booleans())
def test_float_round_trip_within_resolution(value, negative):
    value = -value if negative else value
    assert decode_float(encode_float(value)) == pytest.approx(value, rel=1e-6)


def test_float_extremes():
    assert decode_float(encode_float(float("nan"))) is None
    assert decode_float(encode_float(float("inf"))) is None
    assert decode_float(encode_float(-1e300)) is None
    assert encode_float(0.0) == 0


def test_abs_time_round_trip_and_unset():
    when = datetime(2024, 12, 31, 23, 59, 58, 470000)
    assert pdu.decode_abs_time(pdu.encode_abs_time(when)) == when
    assert pdu.decode_abs_time(pdu.UNSET_ABS_TIME) is None
    assert pdu.decode_abs_time(bytes.fromhex("2024133200000000")) is None  # month 13


# --- hand-built poll replies into the codec ----------------------------------------------

def nu(physio, value, unit, state=0):
    return pdu.NuObsValue(physio, state, unit, encode_float(value))


def numeric(physio, value, unit, state=0):
    return (pdu.NOM_ATTR_NU_VAL_OBS, nu(physio, value, unit, state).encode())


def nibp(values, *, stamp=None, rel=None, state=0):
    parts = [nu(p, v, pdu.NOM_DIM_MMHG, state) for p, v in zip(
        (pdu.NOM_PRESS_BLD_NONINV_SYS, pdu.NOM_PRESS_BLD_NONINV_DIA,
         pdu.NOM_PRESS_BLD_NONINV_MEAN), values, strict=True)]
    attrs = [(pdu.NOM_ATTR_NU_CMPD_VAL_OBS, pdu.encode_compound(parts))]
    if stamp is not None:
        attrs.append((pdu.NOM_ATTR_TIME_STAMP_ABS, pdu.encode_abs_time(stamp)))
    if rel is not None:
        attrs.append((pdu.NOM_ATTR_TIME_STAMP_REL, pdu.u32(rel)))
    return attrs


def reply_message(*observations, abs_time=T0_BCD):
    return poll_result(1, 1, 0, abs_time,
                       [(0x100 + i, list(o)) for i, o in enumerate(observations)])


def reply(*observations, abs_time=T0_BCD):
    return frame_message(reply_message(*observations, abs_time=abs_time))


def decode(*observations, codec=None, **kwargs):
    return (codec or IntellivueCodec()).feed(reply(*observations, **kwargs))


@pytest.mark.parametrize(("state", "quality"), [
    (0, Quality.VALID),
    (pdu.MS_QUESTIONABLE, Quality.QUESTIONABLE),
    (pdu.MS_CALIBRATION_ONGOING, Quality.QUESTIONABLE),
    (pdu.MS_DEMO_DATA, Quality.QUESTIONABLE),
    (pdu.MS_INVALID, Quality.INVALID),
    (pdu.MS_UNAVAILABLE, Quality.INVALID),
    (pdu.MS_INVALID | pdu.MS_QUESTIONABLE, Quality.INVALID),
])
def test_measurement_state_sets_quality(state, quality):
    [m] = decode([numeric(pdu.NOM_PULS_OXIM_SAT_O2, 96, pdu.NOM_DIM_PERCENT, state)])
    assert (m.code, m.quality) == ("spo2", quality)
    if quality is Quality.INVALID:
        assert math.isnan(m.value)  # an invalid measurement carries no number to mistake
    else:
        assert m.value == 96.0


def test_invalid_state_carries_nan_whatever_number_came_with_it():
    codec = IntellivueCodec()
    ms = decode([numeric(pdu.NOM_ECG_CARD_BEAT_RATE, 72, pdu.NOM_DIM_BEAT_PER_MIN,
                         pdu.MS_UNAVAILABLE)],
                [numeric(pdu.NOM_PULS_OXIM_SAT_O2, 9.6e65, pdu.NOM_DIM_PERCENT, pdu.MS_INVALID)],
                codec=codec)
    assert [(m.code, m.quality) for m in ms] == [("hr", Quality.INVALID),
                                                  ("spo2", Quality.INVALID)]
    assert all(math.isnan(m.value) for m in ms)
    assert codec.stats.dropped == 0


@pytest.mark.parametrize(("physio", "value", "unit", "state"), [
    (pdu.NOM_PULS_OXIM_SAT_O2, 9.6e65, pdu.NOM_DIM_PERCENT, 0),  # a damaged exponent
    (pdu.NOM_PULS_OXIM_SAT_O2, 101, pdu.NOM_DIM_PERCENT, 0),
    (pdu.NOM_ECG_CARD_BEAT_RATE, -5, pdu.NOM_DIM_BEAT_PER_MIN, 0),
    (pdu.NOM_ECG_CARD_BEAT_RATE, 400, pdu.NOM_DIM_BEAT_PER_MIN, pdu.MS_QUESTIONABLE),
    (pdu.NOM_TEMP, 200, pdu.NOM_DIM_FAHR, 0),  # 93 degC once converted
    (pdu.NOM_AWAY_CO2_ET, 25, pdu.NOM_DIM_KILO_PASCAL, 0),  # 188 mmHg once converted
])
def test_values_outside_the_bounds_are_counted_and_dropped(physio, value, unit, state):
    codec = IntellivueCodec()
    ms = decode([numeric(physio, value, unit, state)],
                [numeric(pdu.NOM_PLETH_PULS_RATE, 71, pdu.NOM_DIM_BEAT_PER_MIN)], codec=codec)
    assert [(m.code, m.value) for m in ms] == [("pr", 71.0)]  # the good value still comes
    assert codec.stats.dropped == 1 and codec.stats.checksum_errors == 0
    assert codec.stats.measurements == 1


def test_nibp_part_outside_the_bounds_is_dropped():
    codec = IntellivueCodec()
    ms = decode(nibp((420, 80, 93), stamp=T0, rel=1), codec=codec)
    assert nibp_codes(ms) == [("nibp_dia", 80), ("nibp_mean", 93)]
    assert codec.stats.dropped == 1


@pytest.mark.parametrize("raw", [pdu.FLOAT_NAN, pdu.FLOAT_NRES, pdu.FLOAT_POS_INF,
                                 pdu.FLOAT_NEG_INF])
def test_special_values_give_no_measurement(raw):
    value = pdu.NuObsValue(pdu.NOM_ECG_CARD_BEAT_RATE, 0, pdu.NOM_DIM_BEAT_PER_MIN, raw)
    assert decode([(pdu.NOM_ATTR_NU_VAL_OBS, value.encode())]) == []


@pytest.mark.parametrize(("physio", "value", "unit", "code", "expected"), [
    (pdu.NOM_AWAY_CO2_ET, 5.0, pdu.NOM_DIM_KILO_PASCAL, "etco2", 37.503),
    (pdu.NOM_AWAY_CO2_ET, 38, pdu.NOM_DIM_MMHG, "etco2", 38.0),
    (pdu.NOM_TEMP, 98.6, pdu.NOM_DIM_FAHR, "temp", 37.0),
    (pdu.NOM_TEMP, 36.4, pdu.NOM_DIM_DEGC, "temp", 36.4),
    (pdu.NOM_AWAY_RESP_RATE, 12, pdu.NOM_DIM_RESP_PER_MIN, "rr", 12.0),
    (pdu.NOM_RESP_RATE, 15, pdu.NOM_DIM_RESP_PER_MIN, "rr", 15.0),
    (pdu.NOM_PLETH_PULS_RATE, 71, pdu.NOM_DIM_BEAT_PER_MIN, "pr", 71.0),
])
def test_units_are_converted(physio, value, unit, code, expected):
    [m] = decode([numeric(physio, value, unit)])
    assert m.code == code and m.value == pytest.approx(expected, abs=1e-3)


def test_unknown_units_and_ids_give_nothing():
    assert decode([numeric(pdu.NOM_AWAY_CO2_ET, 5.0, pdu.NOM_DIM_PERCENT)],
                  [numeric(pdu.NOM_ECG_CARD_BEAT_RATE, 60, pdu.NOM_DIM_MMHG)],
                  [numeric(0x1234, 60, pdu.NOM_DIM_BEAT_PER_MIN)]) == []


def test_device_time_comes_from_the_poll_reply_or_is_none():
    hr = [numeric(pdu.NOM_ECG_CARD_BEAT_RATE, 60, pdu.NOM_DIM_BEAT_PER_MIN)]
    assert decode(hr)[0].device_time == T0.replace(tzinfo=None)
    assert decode(hr, abs_time=pdu.UNSET_ABS_TIME)[0].device_time is None


def nibp_codes(measurements):
    return [(m.code, m.value) for m in measurements if m.code.startswith("nibp")]


def test_nibp_only_on_a_new_cuff_measurement():
    codec = IntellivueCodec()
    cuff = T0 - timedelta(minutes=3)
    first = decode(nibp((120, 80, 93), stamp=cuff, rel=8000), codec=codec)
    assert nibp_codes(first) == [("nibp_sys", 120), ("nibp_dia", 80), ("nibp_mean", 93)]
    assert first[0].device_time == cuff.replace(tzinfo=None)  # the cuff's time, not the poll's
    assert decode(nibp((120, 80, 93), stamp=cuff, rel=8000), codec=codec) == []
    # Same numbers, later cuff: a new measurement.
    later = cuff + timedelta(minutes=5)
    assert len(decode(nibp((120, 80, 93), stamp=later, rel=9000), codec=codec)) == 3
    assert decode(nibp((120, 80, 93), stamp=later, rel=9000), codec=codec) == []


def test_nibp_without_time_stamps_is_new_when_its_values_change():
    codec = IntellivueCodec()
    assert len(decode(nibp((110, 70, 83)), codec=codec)) == 3
    assert decode(nibp((110, 70, 83)), codec=codec) == []
    assert nibp_codes(decode(nibp((111, 70, 83)), codec=codec))[0] == ("nibp_sys", 111)


def test_nibp_invalid_parts_keep_their_state():
    ms = decode(nibp((110, 70, 83), state=pdu.MS_INVALID))
    assert {m.quality for m in ms} == {Quality.INVALID}


def test_linked_results_decode_like_plain_ones():
    data = reply_message([numeric(pdu.NOM_ECG_CARD_BEAT_RATE, 64, pdu.NOM_DIM_BEAT_PER_MIN)])
    apdu = data[8:]
    linked = data[:4] + pdu.u16(5) + pdu.u16(len(apdu) + 2) + b"\x01\x01" + apdu
    assert [m.value for m in IntellivueCodec().feed(frame_message(linked))] == [64.0]


# --- robustness -------------------------------------------------------------------------

GOOD_MESSAGE = reply_message([numeric(pdu.NOM_ECG_CARD_BEAT_RATE, 77, pdu.NOM_DIM_BEAT_PER_MIN)])
GOOD = frame_message(GOOD_MESSAGE)


def test_bad_fcs_is_counted_and_dropped_and_the_next_frame_decodes():
    payload = b"\x11\x01" + pdu.u16(len(GOOD_MESSAGE)) + GOOD_MESSAGE
    broken = bytes((0xC0,)) + escape(payload + pdu.u16(fcs(payload) ^ 0x0101)) + b"\xc1"
    codec = IntellivueCodec()
    assert [m.value for m in codec.feed(broken + GOOD)] == [77.0]
    assert codec.stats.checksum_errors == 1 and codec.stats.frames == 1


def test_garbage_yields_nothing_and_buffers_stay_bounded():
    codec = IntellivueCodec()
    assert codec.feed(bytes(range(0x80)) * 10) == []
    assert codec.stats.resyncs >= 1
    codec.feed(b"\xc0")
    for _ in range(4):
        assert codec.feed(b"\x00" * MAX_BUFFER) == []
        assert len(codec._deframer._frame) <= MAX_BUFFER
    assert [m.value for m in codec.feed(GOOD)] == [77.0]
    for _ in range(5000):  # a flood of event reports while nobody drains the outbox
        codec.feed(frame_message(mds_create_event(1, 0, [])))
    assert len(codec.pending_output()) <= MAX_BUFFER


def test_truncated_message_is_dropped_whole():
    codec = IntellivueCodec()
    assert codec.feed(frame_message(GOOD_MESSAGE[:-3])) == []
    assert codec.stats.dropped == 1


@settings(max_examples=300)
@given(st.lists(st.binary(max_size=400), max_size=8))
def test_feed_never_raises_on_arbitrary_bytes(chunks):
    codec = IntellivueCodec()
    for chunk in chunks:
        assert all(isinstance(m, Measurement) for m in codec.feed(chunk))
    codec.pending_output()


VALID_MESSAGES = [
    GOOD_MESSAGE,
    reply_message(nibp((120, 80, 93), stamp=T0, rel=1),
                  [numeric(pdu.NOM_TEMP, 36.6, pdu.NOM_DIM_DEGC)]),
    mds_create_event(3, 1234, [(pdu.NOM_ATTR_TIME_ABS, T0_BCD)]),
    association_response(),
    release_request(),
]


@settings(max_examples=400)
@given(st.sampled_from(VALID_MESSAGES), st.booleans(),
       st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255),
                          st.sampled_from(["flip", "insert", "delete"])), min_size=1, max_size=6))
def test_feed_never_raises_on_mutated_frames(message, after_fcs, mutations):
    # Mutating before the FCS is computed reaches the parsers; after it, the framing.
    data = bytearray(message if not after_fcs else frame_message(message))
    for position, byte, op in mutations:
        i = position % (len(data) + 1)
        if op == "insert":
            data.insert(i, byte)
        elif data and op == "flip":
            data[i % len(data)] ^= byte or 1
        elif data:
            del data[i % len(data)]
    codec = IntellivueCodec()
    wire = bytes(data) if after_fcs else frame_message(bytes(data))
    assert all(isinstance(m, Measurement) for m in codec.feed(wire))


# --- the dialogue with the emulator ------------------------------------------------------

class Bench:
    """Codec and emulator wired back to back, as the sim:// port and device layer do."""

    def __init__(self, emulator: IntellivueEmulator | None = None) -> None:
        self.codec = IntellivueCodec()
        self.monitor = emulator or IntellivueEmulator()
        self.now = 0.0
        self.last_heard = 0.0

    def to_host(self, data: bytes) -> list[Measurement]:
        out: list[Measurement] = []
        while data:
            self.last_heard = self.now
            out += self.codec.feed(data)
            owed = self.codec.pending_output()
            data = self.monitor.receive(owed) if owed else b""
        return out

    def to_monitor(self, data: bytes) -> list[Measurement]:
        return self.to_host(self.monitor.receive(data)) if data else []

    def open(self) -> list[Measurement]:
        return self.to_monitor(self.codec.opening())

    def second(self, sample: VitalsSample) -> list[Measurement]:
        self.now += 1.0
        out = self.to_host(self.monitor.emit(sample))
        return out + self.to_monitor(self.codec.tick(self.now, self.now - self.last_heard))


def sample(i, *, nibp=None, invalid=(), silent=False, **values):
    base = {"hr": 70 + i % 7, "pr": 69 + i % 5, "spo2": 97.5 - (i % 3) * 0.5, "rr": 14,
            "etco2": 37.2, "temp": 36.6}
    base.update(values)
    base = {k: v for k, v in base.items() if v is not None}
    return VitalsSample(time=T0 + timedelta(seconds=i, milliseconds=250), elapsed=float(i),
                        values=base, invalid=frozenset(invalid), nibp=nibp, silent=silent)


def by_code(measurements):
    return {m.code: m for m in measurements}


@pytest.mark.parametrize("etco2_unit", ["mmHg", "kPa"])
def test_dialogue_reports_what_the_samples_hold(etco2_unit):
    bench = Bench(IntellivueEmulator(etco2_unit=etco2_unit))
    assert bench.open() == []
    assert bench.codec.link is Link.POLLING
    cuffs = {3: (121.0, 79.0, 93.0), 8: (131.0, 85.0, 100.0)}
    nibp_seen = []
    for i in range(1, 13):
        s = sample(i, nibp=cuffs.get(i))
        got = bench.second(s)
        values = by_code(got)
        for code, value in s.values.items():
            assert values[code].value == pytest.approx(value, rel=1e-6)
            assert values[code].quality is Quality.VALID
            assert values[code].device_time == s.time.replace(tzinfo=None)
        nibp_seen += [(i, m.code, m.value) for m in got if m.code.startswith("nibp")]
    assert nibp_seen == [(i, code, v) for i, cuff in cuffs.items()
                         for code, v in zip(("nibp_sys", "nibp_dia", "nibp_mean"), cuff,
                                            strict=True)]
    assert bench.codec.stats.checksum_errors == bench.codec.stats.dropped == 0


def test_dialogue_invalid_vitals():
    bench = Bench()
    bench.open()
    got = by_code(bench.second(sample(1, invalid={"spo2"})))
    assert got["spo2"].quality is Quality.INVALID and got["hr"].quality is Quality.VALID
    got = by_code(bench.second(sample(2, spo2=None, invalid={"spo2"})))
    assert "spo2" not in got  # no number at all: no measurement


def test_dialogue_silence_then_reassociation_without_replaying_nibp():
    bench = Bench()
    bench.open()
    assert len(nibp_codes(bench.second(sample(1, nibp=(120, 80, 93))))) == 3
    quiet = [bench.second(sample(i, silent=True)) for i in range(2, 20)]
    assert all(m == [] for m in quiet)
    assert bench.codec.link is Link.ASSOCIATING  # gave up after SILENCE_LIMIT
    back = [bench.second(sample(i)) for i in range(20, 32)]
    first = next(i for i, got in enumerate(back) if got)
    assert first <= 10 and bench.codec.link is Link.POLLING
    assert all(nibp_codes(got) == [] for got in back)  # the old cuff value is not new


def test_dialogue_release():
    bench = Bench()
    bench.open()
    bench.second(sample(1))
    assert bench.to_monitor(bench.codec.closing()) == []
    assert bench.codec.link is Link.CLOSED
    assert bench.codec.tick(99.0, 50.0) == b""


def test_first_bytes_and_create_result():
    codec = IntellivueCodec()
    request = codec.opening()
    assert user_data(Deframer(CodecStats()).feed(request)[0]) == association_request()
    codec.tick(0.0, 0.0)
    event = mds_create_event(0x42, 777, [])
    assert codec.feed(frame_message(association_response()) + frame_message(event)) == []
    replies = [user_data(p) for p in Deframer(CodecStats()).feed(codec.pending_output())]
    result, poll = (parse_operation(r) for r in replies)
    assert (result.ro_type, result.invoke_id, result.command) == (
        RORS, 0x42, CMD_CONFIRMED_EVENT_REPORT)
    report = parse_event_report(result.argument)
    assert (report.event_type, report.event_time) == (pdu.NOM_NOTI_MDS_CREAT, 777)
    assert (poll.ro_type, poll.command) == (ROIV, CMD_CONFIRMED_ACTION)
    request = parse_poll_request(poll.argument)
    assert (request.action_type, request.obj_code, request.attr_group) == (
        pdu.NOM_ACT_POLL_MDIB_DATA_EXT, pdu.NOM_MOC_VMO_METRIC_NU, pdu.NOM_ATTR_GRP_METRIC_VAL_OBS)
    assert codec.pending_output() == b""


def polling_codec():
    codec = IntellivueCodec()
    codec.opening()
    codec.tick(0.0, 0.0)
    codec.feed(frame_message(association_response()) + frame_message(mds_create_event(1, 0, [])))
    return codec


def test_polls_keep_their_period_and_tick_delivers_the_outbox():
    codec = polling_codec()
    assert codec.tick(0.5, 0.0) != b""  # the undrained create result and first poll
    assert codec.tick(0.7, 0.0) == b""
    assert codec.tick(1.0, 0.0) != b""
    assert codec.tick(1.5, 0.0) == b""
    assert codec.tick(2.0, 0.5) != b""


@pytest.mark.parametrize("spdu", [0x0C, 0x19, 0x0A])  # refuse, abort, release response
def test_lost_association_is_asked_for_again_after_the_retry_delay(spdu):
    codec = polling_codec()
    codec.pending_output()
    codec.feed(frame_message(bytes((spdu, 0))))
    assert codec.link is Link.IDLE
    assert codec.tick(10.0, 0.0) == frame_message(association_request())


def test_monitor_release_is_confirmed():
    codec = polling_codec()
    codec.pending_output()
    codec.feed(frame_message(release_request()))
    assert codec.pending_output() == frame_message(release_response())
    assert codec.link is Link.IDLE


def test_unanswered_association_request_is_repeated():
    codec = IntellivueCodec()
    codec.opening()
    assert codec.tick(0.0, 0.0) == b""
    assert codec.tick(9.5, 9.5) == b""
    assert codec.tick(10.0, 10.0) == frame_message(association_request())


def test_emulator_stays_quiet_before_association_and_when_silent():
    monitor = IntellivueEmulator()
    monitor.emit(sample(1))
    codec = polling_codec()
    assert monitor.receive(codec.tick(5.0, 0.0)) == b""  # poll without association
    monitor.emit(sample(2, silent=True))
    assert monitor.receive(codec.opening()) == b""
    with pytest.raises(ValueError, match="etco2_unit"):
        IntellivueEmulator(etco2_unit="%")


def test_nibp_as_three_numerics_follows_the_same_rule():
    codec = IntellivueCodec()
    parts = [[numeric(p, v, pdu.NOM_DIM_MMHG), (pdu.NOM_ATTR_TIME_STAMP_REL, pdu.u32(42))]
             for p, v in ((pdu.NOM_PRESS_BLD_NONINV_SYS, 118), (pdu.NOM_PRESS_BLD_NONINV_DIA, 76),
                          (pdu.NOM_PRESS_BLD_NONINV_MEAN, 90))]
    assert nibp_codes(decode(*parts, codec=codec)) == [
        ("nibp_sys", 118), ("nibp_dia", 76), ("nibp_mean", 90)]
    assert decode(*parts, codec=codec) == []


def test_closing_twice_or_unassociated_sends_nothing():
    codec = polling_codec()
    assert codec.closing() == frame_message(release_request())
    assert codec.closing() == b""
    assert IntellivueCodec().closing() == b""
