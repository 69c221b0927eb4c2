"""Tests of the generic ASCII line codec: patterns, scale, terminators, noise, bounds, buffer."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.codecs.ascii import MAX_LINE, AsciiCodec, compile_patterns
from devices.codecs.base import MAX_BUFFER, Measurement
from devices.codecs.simline import PATTERNS, TERMINATOR, encode_nibp, encode_vitals
from monitor.reading import Quality
from monitor.vitals import BY_CODE

SPACELABS_LIKE = [r"HR\s*=\s*(?P<hr>\S+)", r"SPO2\s*=\s*(?P<spo2>\S+)",
                  r"^NIBP=(?P<nibp_sys>\d+)/(?P<nibp_dia>\d+)\((?P<nibp_mean>\d+)\)"]


def values(measurements: list[Measurement]) -> list[tuple[str, float]]:
    return [(m.code, m.value) for m in measurements]


# --- patterns -----------------------------------------------------------------------------

def test_named_groups_become_measurements_in_pattern_order() -> None:
    codec = AsciiCodec(SPACELABS_LIKE)
    got = codec.feed(b"HR=72 SPO2=98\nNIBP=121/79(93)\n")
    assert values(got) == [("hr", 72), ("spo2", 98), ("nibp_sys", 121), ("nibp_dia", 79),
                           ("nibp_mean", 93)]
    assert all(m.quality is Quality.VALID and m.device_time is None for m in got)
    assert (codec.stats.frames, codec.stats.measurements, codec.stats.dropped) == (2, 5, 0)


def test_a_line_no_pattern_matches_is_counted_and_yields_nothing() -> None:
    codec = AsciiCodec(SPACELABS_LIKE)
    assert codec.feed(b"ALARM SILENCED\n") == []
    assert (codec.stats.frames, codec.stats.dropped) == (1, 1)


def test_an_optional_group_that_did_not_take_part_is_skipped() -> None:
    codec = AsciiCodec([r"^V (?:HR=(?P<hr>\d+) )?SPO2=(?P<spo2>\d+)"])
    assert values(codec.feed(b"V SPO2=97\n")) == [("spo2", 97)]
    assert codec.stats.dropped == 0


@pytest.mark.parametrize(("pattern", "message"), [
    (r"HR=(?P<hr>\d+", "not a valid regular expression"),
    (r"HR=(?P<heart>\d+)", "not a vital code"),
    (r"HR=(\d+)", "no named group"),
])
def test_bad_patterns_are_refused_with_a_reason(pattern: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        compile_patterns([pattern])


def test_an_empty_terminator_is_refused() -> None:
    with pytest.raises(ValueError, match="terminator"):
        AsciiCodec(SPACELABS_LIKE, b"")


# --- scale, invalid values, bounds ----------------------------------------------------------

def test_scale_multiplies_the_matched_number() -> None:
    codec = AsciiCodec([r"T=(?P<temp>\d+) S=(?P<spo2>\d+)"], scale={"temp": 0.1, "spo2": 0.01})
    (temp, spo2) = codec.feed(b"T=368 S=9750\n")
    assert temp.value == pytest.approx(36.8)
    assert spo2.value == pytest.approx(97.5)


@pytest.mark.parametrize("text", [b"---", b"?", b"--.-", b"N/A"])
def test_a_vital_reported_invalid_is_an_invalid_measurement_without_a_number(text: bytes) -> None:
    codec = AsciiCodec(SPACELABS_LIKE)
    (m,) = codec.feed(b"SPO2=" + text + b"\n")
    assert m.code == "spo2"
    assert m.quality is Quality.INVALID
    assert math.isnan(m.value)


@pytest.mark.parametrize(("line", "code"), [
    (b"HR=400", "hr"), (b"SPO2=101", "spo2"), (b"SPO2=-5", "spo2"), (b"HR=1e9", "hr"),
    (b"SPO2=inf", "spo2"),
])
def test_out_of_bounds_values_are_dropped_never_a_reading(line: bytes, code: str) -> None:
    codec = AsciiCodec(SPACELABS_LIKE)
    assert codec.feed(line + b"\n") == []
    assert codec.stats.dropped == 1
    assert codec.stats.measurements == 0


def test_scale_applies_before_the_bounds_check() -> None:
    codec = AsciiCodec([r"S=(?P<spo2>\d+)"], scale={"spo2": 0.1})
    assert values(codec.feed(b"S=985\n")) == [("spo2", 98.5)]
    assert codec.feed(b"S=1050\n") == []  # 105 % after scaling: a fault, not a reading
    assert codec.stats.dropped == 1


def test_nan_text_is_never_a_valid_reading() -> None:
    codec = AsciiCodec(SPACELABS_LIKE)
    for m in codec.feed(b"HR=nan\n"):
        assert m.quality is Quality.INVALID


# --- terminators and chunking ---------------------------------------------------------------

@pytest.mark.parametrize("terminator", [b"\n", b"\r\n", b"\r", b";", b"\x03"])
def test_lines_split_on_the_configured_terminator(terminator: bytes) -> None:
    codec = AsciiCodec([r"HR=(?P<hr>\d+)"], terminator)
    got = codec.feed(b"HR=60" + terminator + b"HR=61" + terminator + b"HR=62")
    assert values(got) == [("hr", 60), ("hr", 61)]
    assert values(codec.feed(terminator)) == [("hr", 62)]


def test_a_line_split_across_reads_decodes_once() -> None:
    stream = encode_vitals({"hr": 72, "pr": 71, "spo2": 98, "rr": 14}) + encode_nibp(121, 79, 93)
    whole = AsciiCodec(PATTERNS, TERMINATOR).feed(stream)
    codec = AsciiCodec(PATTERNS, TERMINATOR)
    pieces = [m for i in range(len(stream)) for m in codec.feed(stream[i:i + 1])]
    assert pieces == whole
    assert values(whole) == [("hr", 72), ("pr", 71), ("spo2", 98), ("rr", 14),
                             ("nibp_sys", 121), ("nibp_dia", 79), ("nibp_mean", 93)]


def test_crlf_lines_read_with_a_lf_terminator_still_decode() -> None:
    codec = AsciiCodec(SPACELABS_LIKE, b"\n")
    assert values(codec.feed(b"HR=72\r\n")) == [("hr", 72)]  # the CR is stripped


def test_simline_invalid_fields_round_trip() -> None:
    line = encode_vitals({"hr": 70, "rr": 12}, invalid=frozenset({"spo2", "pr"}))
    got = AsciiCodec(PATTERNS, TERMINATOR).feed(line)
    assert [(m.code, m.quality) for m in got] == [
        ("hr", Quality.VALID), ("pr", Quality.INVALID), ("spo2", Quality.INVALID),
        ("rr", Quality.VALID)]


# --- noise and the bounded buffer ---------------------------------------------------------

def test_binary_noise_between_lines_does_no_harm() -> None:
    codec = AsciiCodec(SPACELABS_LIKE)
    got = codec.feed(b"\x00\xff\x1b[2J" + b"HR=72\n" + bytes(range(0, 32)).replace(b"\n", b"")
                     + b"\x80\x90SPO2=97\n")
    # The escape's printable tail "[2J" stays on the line, but the pattern still finds HR.
    assert values(got) == [("hr", 72), ("spo2", 97)]
    assert codec.stats.dropped == 0


def test_a_line_of_pure_noise_is_not_a_frame() -> None:
    codec = AsciiCodec(SPACELABS_LIKE)
    assert codec.feed(b"\x00\x01\x02\xfe\xff\n") == []
    assert codec.stats.frames == 0


def test_the_buffer_stays_bounded_without_a_terminator() -> None:
    codec = AsciiCodec(SPACELABS_LIKE)
    for _ in range(200):
        assert codec.feed(b"HR=7" * 1000) == []
        # The codec's buffer is private; its bound is the contract under test here.
        assert len(codec._buffer) <= MAX_LINE
    assert codec.stats.resyncs >= 1
    assert codec.stats.bytes == 800_000
    codec.feed(b"\n")  # whatever fragment was held is one line at most
    assert values(codec.feed(b"HR=75\n")) == [("hr", 75)]


def test_the_fragment_left_by_an_overflow_is_never_decoded() -> None:
    codec = AsciiCodec([r"^(?P<hr>\d+)$"], b"\r\n")
    # A run of garbage with no terminator ends in the digits "172"; the overflow keeps the
    # last two bytes, "72", which must not come out as a heart rate.
    assert codec.feed(b"#" * 2000 + b"172") == []
    assert codec.feed(b"\r\n") == []


@pytest.mark.parametrize("chunk", [1, 7, 100, 5000])
def test_an_overlong_run_is_skipped_to_its_terminator_whatever_the_reads(chunk: int) -> None:
    codec = AsciiCodec([r"HR=(?P<hr>\d+)"], b"\r\n")
    wire = b"HR=71\r\n" + b"#" * 3000 + b"HR=99\r" + b"\nHR=72\r\n"
    got = [m for i in range(0, len(wire), chunk) for m in codec.feed(wire[i:i + chunk])]
    assert values(got) == [("hr", 71), ("hr", 72)]  # HR=99 ends the overlong run: garbage
    assert codec.stats.resyncs == 1
    assert len(codec._buffer) <= MAX_LINE


@settings(max_examples=300, deadline=None)
@given(chunks=st.lists(st.binary(max_size=3000), max_size=20),
       terminator=st.sampled_from([b"\n", b"\r\n", b";", b"\x03"]))
def test_any_bytes_never_raise_and_never_yield_an_impossible_value(
        chunks: list[bytes], terminator: bytes) -> None:
    codec = AsciiCodec([*SPACELABS_LIKE, r"T=(?P<temp>[-+0-9.eE]+)"], terminator,
                       scale={"temp": 0.1})
    for chunk in chunks:
        for m in codec.feed(chunk):
            if m.quality is Quality.INVALID:
                assert math.isnan(m.value)
            else:
                vital = BY_CODE[m.code]
                assert vital.low <= m.value <= vital.high
        assert len(codec._buffer) <= min(MAX_LINE, MAX_BUFFER) + len(chunk)
    assert codec.stats.bytes == sum(map(len, chunks))


@settings(max_examples=200, deadline=None)
@given(hr=st.integers(0, 350), spo2=st.integers(0, 100), rr=st.integers(0, 150),
       noise=st.binary(max_size=40).map(lambda b: bytes(x for x in b if x < 32 and x not in
                                                          (10, 13))))
def test_simline_values_survive_control_noise(hr: int, spo2: int, rr: int, noise: bytes) -> None:
    line = encode_vitals({"hr": hr, "spo2": spo2, "rr": rr})
    got = AsciiCodec(PATTERNS, TERMINATOR).feed(noise + line)
    assert values(got) == [("hr", hr), ("spo2", spo2), ("rr", rr)]
