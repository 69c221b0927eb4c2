"""Tests of the device tools for clinic IT, through the ``ivmon`` command line."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest

from devices.base import DeviceCounters
from devices.codecs.simline import encode_nibp, encode_vitals
from devices.registry import device_class
from devices.tools import PortInfo, decode_file, list_ports, probe
from monitor.cli import main
from monitor.clock import ScaledClock
from monitor.messages import DeviceStatus, LinkState
from monitor.reading import Reading
from simulators.pty import PtyMonitor

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "datex"
_SHARED_S5 = SHARED / "monitor_protocols" / "datex_s5"
S5 = _SHARED_S5 if (_SHARED_S5 / "pycollect_notebook_raw.raw").exists() else FIXTURES
CAPTURE = S5 / "pycollect_notebook_raw.raw"
EXPECTED = S5 / "pycollect_notebook_raw.expected.csv"
SUMMARY = re.compile(r"^(\d+) readings from (\d+) frames; (\d+) checksum errors; "
                     r"(\d+) resyncs; (\d+) dropped$")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def summary(err: str) -> tuple[int, ...]:
    lines = [line for line in err.splitlines() if SUMMARY.match(line)]
    assert len(lines) == 1, err
    match = SUMMARY.match(lines[0])
    assert match is not None
    return tuple(int(g) for g in match.groups())


def one_line_error(code: int, err: str) -> str:
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("ivmon: ")
    assert "Traceback" not in err
    return lines[0]


# --- ivmon decode -----------------------------------------------------------------------

def test_decode_datex_capture_matches_the_expected_values(
        capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "decode", "--protocol", "datex", str(CAPTURE))
    assert code == 0
    assert out.splitlines()[0] == "time,vital,value,unit"
    rows = list(csv.DictReader(io.StringIO(out)))
    with EXPECTED.open() as f:
        expected = list(csv.DictReader(f))
    by_time: dict[str, dict[str, tuple[float, str]]] = {}
    for row in rows:
        by_time.setdefault(row["time"], {})[row["vital"]] = (float(row["value"]), row["unit"])
    assert list(by_time) == [row["utc"] for row in expected]
    for row in expected:
        values = by_time[row["utc"]]
        assert values["hr"] == (float(row["hr"]), "/min")
        assert values["spo2"][0] == pytest.approx(float(row["spo2"]))
        assert values["spo2"][1] == "%"
        assert values["pr"] == (float(row["spo2_pr"]), "/min")
        assert values["rr"] == (float(row["co2_rr"]), "/min")
        assert values["etco2"][1] == "mm[Hg]"
    # The monitor repeats the cuff result in every record; it is one measurement.
    first = expected[0]
    nibp = [(r["time"], r["vital"], float(r["value"])) for r in rows if r["vital"][:4] == "nibp"]
    assert nibp == [(first["utc"], "nibp_sys", float(first["nibp_sys"])),
                    (first["utc"], "nibp_dia", float(first["nibp_dia"])),
                    (first["utc"], "nibp_mean", float(first["nibp_mean"]))]
    assert summary(err) == (len(rows), 21, 0, 0, 0)


def test_decode_counts_a_corrupted_frame(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    raw = bytearray(CAPTURE.read_bytes())
    raw[100] ^= 0x01  # inside the first record: its checksum no longer adds up
    damaged = tmp_path / "damaged.raw"
    damaged.write_bytes(b"\x00\x01noise" + bytes(raw))
    code, out, err = run(capsys, "decode", "--protocol", "datex", str(damaged))
    assert code == 0
    readings, frames, checksum_errors, resyncs, _ = summary(err)
    assert (frames, checksum_errors, resyncs) == (21, 1, 1)
    assert readings == len(out.splitlines()) - 1


def test_decode_sim_lines_skips_invalid_values_and_leaves_time_empty(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capture = tmp_path / "sim.raw"
    capture.write_bytes(encode_vitals({"hr": 72, "rr": 14}, invalid=frozenset({"spo2"}))
                        + encode_nibp(121, 79, 93) + b"garbage line\r\n")
    code, out, err = run(capsys, "decode", "--protocol", "sim", str(capture))
    assert code == 0
    assert out == ("time,vital,value,unit\n,hr,72,/min\n,rr,14,/min\n,nibp_sys,121,mm[Hg]\n"
                   ",nibp_dia,79,mm[Hg]\n,nibp_mean,93,mm[Hg]\n")
    assert summary(err) == (5, 3, 0, 0, 1)


def test_decode_ascii_with_patterns_and_an_escaped_terminator(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capture = tmp_path / "ascii.raw"
    capture.write_bytes(b"HR=72\rTEMP=368\rHR=999\rSPO2=---\r")
    code, out, err = run(capsys, "decode", "--protocol", "ascii", "--pattern",
                         r"HR=(?P<hr>\S+)", "--pattern", r"SPO2=(?P<spo2>\S+)",
                         "--terminator", r"\r", str(capture))
    assert code == 0
    assert out == "time,vital,value,unit\n,hr,72,/min\n"
    assert summary(err) == (1, 4, 0, 0, 2)  # TEMP matched nothing; HR=999 is impossible


@pytest.mark.parametrize(("argv", "words"), [
    (["--protocol", "datex", "/no/such/file.raw"], "does not exist"),
    (["--protocol", "nonesuch", str(CAPTURE)], "No device adapter is called 'nonesuch'"),
    (["--protocol", "ascii", "--pattern", r"HR=(?P<hr>\d+", str(CAPTURE)],
     "not a valid regular expression"),
    (["--protocol", "ascii", "--pattern", r"HR=(?P<heart>\d+)", str(CAPTURE)],
     "not a vital code"),
    (["--protocol", "ascii", str(CAPTURE)], "needs at least one --pattern"),
    (["--protocol", "datex", "--pattern", r"HR=(?P<hr>\d+)", str(CAPTURE)],
     "for the ascii protocol"),
    (["--protocol", "datex", str(FIXTURES)], "is a directory"),
])
def test_decode_errors_are_one_sentence_and_exit_2(
        argv: list[str], words: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "decode", *argv)
    assert words in one_line_error(code, err)
    assert out == ""


def test_decode_file_returns_measurements_and_stats() -> None:
    measurements, stats = decode_file("datex", CAPTURE)
    assert stats.frames == 21 and stats.measurements == len(measurements)
    assert {m.code for m in measurements} >= {"hr", "spo2", "pr", "rr", "etco2"}


# --- ivmon devices ------------------------------------------------------------------------

def test_devices_list_runs(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "devices", "list")
    assert code == 0
    ports = list_ports()
    assert all(isinstance(p, PortInfo) for p in ports)
    if ports:
        assert ports[0].device in out
    else:
        assert "No serial ports found" in out


def test_probe_shows_live_values_then_counters(capsys: pytest.CaptureFixture[str]) -> None:
    with PtyMonitor("sim", seed=2, speed=20) as monitor:
        code, out, _ = run(capsys, "devices", "probe", monitor.path, "--protocol", "sim",
                           "--seconds", "1.5")
    assert code == 0
    assert re.search(r"\bHR\s+\d+ bpm", out)
    assert re.search(r"\bSpO2\s+\d+ %", out)
    assert "link ok" in out
    counters = out.strip().splitlines()[-1]
    assert re.fullmatch(r"[1-9]\d* bytes, [1-9]\d* frames, 0 checksum errors, 0 resyncs, "
                        r"0 dropped, [1-9]\d* readings, 0 reconnects", counters)


def test_probe_of_a_missing_port_says_why(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "devices", "probe", "/dev/no-such-tty", "--protocol", "datex",
                       "--seconds", "0.5")
    assert code == 1
    assert "link lost: Cannot open the port /dev/no-such-tty: no such port" in out
    assert out.strip().splitlines()[-1].endswith("0 readings, 1 reconnects")


def test_probe_yields_readings_and_ends_with_counters() -> None:
    with PtyMonitor("datex", seed=4, speed=20) as monitor:
        items = list(probe(monitor.path, "datex", 1.5, clock=ScaledClock(20)))
    assert isinstance(items[-1], DeviceCounters)
    readings = [m for m in items if isinstance(m, Reading)]
    assert readings and items[-1].readings == len(readings)
    assert any(isinstance(m, DeviceStatus) and m.state is LinkState.OK for m in items)


# --- ivmon capture ------------------------------------------------------------------------

def _importable(protocol: str) -> bool:
    try:
        device_class(protocol)
    except ImportError as exc:
        print(f"capture test: {protocol!r} adapter NOT TESTED: {exc!r}")
        return False
    return True


@pytest.mark.parametrize("protocol", [
    "datex",
    pytest.param("intellivue", marks=pytest.mark.skipif(
        not _importable("intellivue"), reason="devices.intellivue is not importable")),
])
def test_capture_asks_the_monitor_to_talk_and_decodes_back(
        protocol: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_file = tmp_path / f"{protocol}.raw"
    with PtyMonitor(protocol, seed=6, speed=20) as monitor:
        code, _, err = run(capsys, "capture", monitor.path, "--out", str(out_file),
                           "--seconds", "2.5", "--protocol", protocol)
    assert code == 0
    size = out_file.stat().st_size
    assert f"{size} bytes written" in err and size > 0
    measurements, stats = decode_file(protocol, out_file)
    assert stats.checksum_errors == 0
    assert "hr" in {m.code for m in measurements}


def test_capture_without_a_protocol_records_a_silent_monitor_as_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_file = tmp_path / "silent.raw"
    # A Datex monitor talks only when asked; with no protocol nobody asks.
    with PtyMonitor("datex", seed=6, speed=20) as monitor:
        code, _, err = run(capsys, "capture", monitor.path, "--out", str(out_file),
                           "--seconds", "0.5")
    assert code == 1
    assert out_file.read_bytes() == b""
    assert "0 bytes written" in err


def test_capture_of_a_missing_port_is_one_sentence(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "capture", "/dev/no-such-tty", "--out", str(tmp_path / "x.raw"),
                       "--seconds", "1")
    # The "Recording ..." notice comes first; the error is the last line.
    assert code == 2
    assert err.strip().splitlines()[-1].startswith("ivmon: Cannot open the port /dev/no-such")
    assert "Traceback" not in err
