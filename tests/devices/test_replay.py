"""Tests of the ``replay://`` port: a real S/5 capture played into the Datex adapter."""

from __future__ import annotations

import csv
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from devices.datex import DatexDevice
from devices.transport import open_port
from devices.urlhandler.protocol_replay import LINE_RATE, parse_replay_url
from monitor.clock import ScaledClock
from monitor.errors import PortError
from monitor.messages import DeviceStatus, LinkState
from monitor.reading import Reading

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "datex"
CAPTURE = FIXTURES / "pycollect_notebook_raw.raw"
EXPECTED = FIXTURES / "pycollect_notebook_raw.expected.csv"
TIMEOUT = 30.0


def expected_rows() -> list[dict[str, str]]:
    with EXPECTED.open() as f:
        return list(csv.DictReader(f))


def wait_for(condition: Callable[[], bool], what: str, timeout: float = TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


@pytest.mark.parametrize("speed", ["0", "20"])
def test_the_capture_plays_into_a_datex_device(speed: str) -> None:
    rows = expected_rows()
    messages: list[object] = []
    stop = threading.Event()
    device = DatexDevice("room-1", "s5", f"replay://{CAPTURE}?speed={speed}",
                         clock=ScaledClock(50))
    worker = threading.Thread(target=device.run, args=(messages.append, stop), daemon=True)
    worker.start()

    def readings() -> list[Reading]:
        return [m for m in list(messages) if isinstance(m, Reading)]

    try:
        wait_for(lambda: len({r.device_time for r in readings()}) >= len(rows),
                 "every record of the capture")
        # At the end of the file the port falls silent, which is a technical alarm.
        wait_for(lambda: any(isinstance(m, DeviceStatus) and m.state is LinkState.SILENT
                             for m in list(messages)), "the silence after the capture")
    finally:
        stop.set()
        worker.join(timeout=TIMEOUT)
    assert not worker.is_alive()

    got: dict[datetime, dict[str, float]] = {}
    for r in readings():
        got.setdefault(r.device_time, {})[r.code] = r.value
    assert len(got) == len(rows)
    for row in rows:
        values = got[datetime.fromtimestamp(int(row["r_time"]), UTC)]
        assert values["hr"] == float(row["hr"])
        assert values["spo2"] == pytest.approx(float(row["spo2"]))
        assert values["pr"] == float(row["spo2_pr"])
    states = [m.state for m in messages if isinstance(m, DeviceStatus)]
    assert states[:2] == [LinkState.OK, LinkState.SILENT]
    assert LinkState.LOST not in states
    assert device.counters.frames == 21
    assert device.counters.checksum_errors == device.counters.dropped == 0


def test_the_line_rate_is_never_exceeded() -> None:
    port = open_port(f"replay://{CAPTURE}?speed=1")
    try:
        start = time.monotonic()
        got = 0
        for _ in range(5):
            got += len(port.read(4096))
            # An invariant, not a duration: the port never hands out more than the line
            # would have carried by now.
            assert got <= (time.monotonic() - start) * LINE_RATE + 1
    finally:
        port.close()


def test_speed_zero_plays_everything_at_once_then_silence() -> None:
    port = open_port(f"replay://{CAPTURE}?speed=0")
    try:
        data = port.read(100_000)
        assert data == CAPTURE.read_bytes()
        assert port.in_waiting == 0
        assert port.read(10) == b""  # silence: a timeout, never an error
        assert port.write(b"\x7e\x00\x7e") == 3  # requests are accepted and ignored
    finally:
        port.close()


def test_loop_starts_again_at_the_beginning() -> None:
    raw = CAPTURE.read_bytes()
    port = open_port(f"replay://{CAPTURE}?speed=0&loop=1")
    try:
        data = b""
        while len(data) < 2 * len(raw) + 10:
            data += port.read(5000)
        assert data[:len(raw)] == raw
        assert data[len(raw):2 * len(raw)] == raw
    finally:
        port.close()


def test_a_relative_path_is_taken_from_the_working_directory(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(FIXTURES.parent)
    port = open_port("replay://datex/pycollect_notebook_raw.raw?speed=0")
    try:
        assert port.read(4) == CAPTURE.read_bytes()[:4]
    finally:
        port.close()


def test_the_url_grammar() -> None:
    assert parse_replay_url("replay:///tmp/a%20b.raw") == (Path("/tmp/a b.raw"), 1.0, False)
    assert parse_replay_url("replay://c.raw?speed=2.5&loop=1") == (Path("c.raw"), 2.5, True)
    assert parse_replay_url("replay://c.raw?speed=0&loop=0") == (Path("c.raw"), 0.0, False)


@pytest.mark.parametrize(("url", "message"), [
    ("replay:///x.raw?speed=fast", "not a number"),
    ("replay:///x.raw?speed=-1", "positive"),
    ("replay:///x.raw?loop=yes", "loop must be 0 or 1"),
    ("replay:///x.raw?rate=3", "unknown option 'rate'"),
    ("replay://", "names no capture file"),
])
def test_a_bad_url_is_refused_quoting_the_grammar(url: str, message: str) -> None:
    with pytest.raises(PortError, match=message) as caught:
        open_port(url)
    assert "replay://PATH[?speed=X][&loop=1]" in str(caught.value)


def test_a_missing_file_is_named_as_such() -> None:
    with pytest.raises(PortError) as caught:
        open_port("replay:///no/such/capture.raw")
    text = str(caught.value)
    assert "does not exist" in text and "/no/such/capture.raw" in text
    assert "USB" not in text  # a missing file is not an unplugged adapter
