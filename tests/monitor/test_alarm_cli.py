"""``ivmon alarms simulate`` on a decoded S/5 capture and on readings with known alarms, its
errors in one sentence, and ``ivmon alarms history`` over a real alarm log."""

from __future__ import annotations

import argparse
import csv
import io
import subprocess
import sys
from pathlib import Path

import pytest

from monitor import cli, cli_alarms
from monitor.alarms import AlarmEngine
from monitor.alarms.settings import AlarmSettings
from monitor.bus import Bus
from monitor.recorder import Recorder
from monitor.storage.database import migrate, open_database
from tests.monitor.alarm_helpers import PROFILE, feed

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
CAPTURE = SHARED_DATA / "monitor_protocols" / "datex_s5" / "pycollect_notebook_raw.raw"
ROOT = Path(__file__).resolve().parents[2]

# Until `ivmon` registers the alarms commands itself, run them through the same parser shape.
RUNNER = """
import argparse, sys
from monitor import cli, cli_alarms
from monitor.errors import IvmonError
parser = argparse.ArgumentParser(prog="ivmon")
cli_alarms.register(parser.add_subparsers(dest="command", required=True), cli._add_common)
args = parser.parse_args(sys.argv[1:])
try:
    sys.exit(args.func(args))
except IvmonError as exc:
    print(f"ivmon: {exc}", file=sys.stderr)
    sys.exit(2)
"""


def ivmon_alarms() -> list[str]:
    try:
        cli.build_parser().parse_args(["alarms", "history", "--csv"])
    except SystemExit:
        return [sys.executable, "-c", RUNNER]
    return [sys.executable, "-m", "monitor.cli"]


def run(argv: list[str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(ivmon_alarms() + argv, input=stdin, capture_output=True, text=True,
                          cwd=ROOT, timeout=120)


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="ivmon")
    cli_alarms.register(parser.add_subparsers(dest="command", required=True), cli._add_common)
    return parser.parse_args(argv)


def simulate(text: str, *extra: str) -> list[dict[str, str]]:
    result = run(["alarms", "simulate", "--profile", "iv-ketamine", *extra], text)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "start,end,vital,priority,kind,message"
    return list(csv.DictReader(io.StringIO(result.stdout)))


def test_simulate_on_the_decoded_s5_capture() -> None:
    if not CAPTURE.exists():
        pytest.skip(f"the shared S/5 capture is not at {CAPTURE}")
    decoded = subprocess.run([sys.executable, "-m", "monitor.cli", "decode", "--protocol",
                              "datex", str(CAPTURE)], capture_output=True, text=True, cwd=ROOT,
                             timeout=120, check=True).stdout
    assert decoded.startswith("time,vital,value,unit\n")
    # A calm stretch of a real S/5 (HR 80, SpO2 96, BP 93/48): the profile says nothing...
    assert simulate(decoded) == []
    # ...unless the session's baseline makes 93/48 a rise of 40 over it.
    assert simulate(decoded, "--baseline", "50/30") == [{
        "start": "2018-07-26T17:06:05Z", "end": "", "vital": "nibp_sys", "priority": "medium",
        "kind": "physiological", "message": "SBP 93 ≥ 90 (baseline 50 + 40)"}]


def _csv(rows: list[tuple[str, ...]], header: str = "time,vital,value,unit,room") -> str:
    return header + "\n" + "".join(",".join(r) + "\n" for r in rows)


def test_simulate_finds_the_known_alarms_with_delays_and_ends() -> None:
    rows = [("2026-01-01T09:00:00Z", "nibp_sys", "150", "mm[Hg]", "r1"),
            ("2026-01-01T09:05:00Z", "nibp_sys", "186", "mm[Hg]", "r1"),
            ("2026-01-01T09:10:00Z", "nibp_sys", "140", "mm[Hg]", "r1")]
    # HR 140 from 09:00:00 for 30 s (alarm after the 10 s delay), then 80.
    rows += [(f"2026-01-01T09:00:{s:02d}Z", "hr", "140" if s < 30 else "80", "/min", "r1")
             for s in range(0, 40)]
    # SpO2 85 in room r2 every 5 s for a minute: the 15 s delay completes between readings.
    rows += [(f"2026-01-01T09:01:{s:02d}Z", "spo2", "85", "%", "r2") for s in range(0, 60, 5)]
    found = simulate(_csv(rows))
    assert found == [
        {"start": "2026-01-01T09:00:10Z", "end": "2026-01-01T09:00:30Z", "vital": "hr",
         "priority": "medium", "kind": "physiological", "message": "HR 140 > 130"},
        {"start": "2026-01-01T09:01:15Z", "end": "", "vital": "spo2", "priority": "high",
         "kind": "physiological", "message": "SpO2 85 < 88"},
        {"start": "2026-01-01T09:05:00Z", "end": "2026-01-01T09:10:00Z", "vital": "nibp_sys",
         "priority": "high", "kind": "physiological", "message": "SBP 186 > 180"},
    ]


def test_times_without_a_zone_are_kept_as_they_are() -> None:
    rows = [(f"2026-01-01T09:00:{s:02d}", "hr", "35", "/min") for s in range(12)]
    [found] = simulate(_csv(rows, "time,vital,value,unit"))
    assert found["start"] == "2026-01-01T09:00:10" and found["priority"] == "high"


@pytest.mark.parametrize(("text", "error"), [
    ("time,vital,value,unit\n,hr,80,/min\n",
     "ivmon: standard input line 2 has no time; simulating alarm delays needs the monitor's "
     "clock on every row.\n"),
    ("time,vital,value,unit\n2026-01-01T09:00:00Z,pulse,80,/min\n",
     "ivmon: standard input line 2: 'pulse' is not a vital; expected one of hr, pr, spo2, "
     "nibp_sys, nibp_dia, nibp_mean, rr, etco2, temp.\n"),
    ("time,vital,value,unit\n2026-01-01T09:00:00Z,hr,80,bpm\n",
     "ivmon: standard input line 2: hr is in 'bpm', but ivmon expects '/min'.\n"),
    ("time,vital,value,unit\nyesterday,hr,80,/min\n",
     "ivmon: standard input line 2: 'yesterday' is not an ISO 8601 time.\n"),
    ("when,what\n", "ivmon: standard input has no 'time' column; expected the header "
                    "time,vital,value,unit as 'ivmon decode' prints it.\n"),
])
def test_bad_input_is_one_sentence(text: str, error: str) -> None:
    result = run(["alarms", "simulate", "--profile", "iv-ketamine"], text)
    assert result.returncode == 2 and result.stderr == error


def test_an_unknown_profile_or_a_profile_file(tmp_path: Path) -> None:
    result = run(["alarms", "simulate", "--profile", "ketamine"], "time,vital,value\n")
    assert result.returncode == 2
    assert result.stderr.startswith("ivmon: Unknown alarm profile 'ketamine'; expected one of")
    from monitor.alarms.profiles import profile_to_json
    from monitor.alarms.rules import Condition, Priority, Rule

    strict = PROFILE.with_rules((Rule("hr", Condition.ABOVE, 100, Priority.MEDIUM, delay=5),))
    path = tmp_path / "strict.json"
    path.write_text(profile_to_json(strict))
    rows = [(f"2026-01-01T09:00:{s:02d}Z", "hr", "110", "/min") for s in range(8)]
    result = run(["alarms", "simulate", "--profile", str(path), "--input", "-"],
                 _csv(rows, "time,vital,value,unit"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1] == ("2026-01-01T09:00:05Z,,hr,medium,physiological,"
                                             "HR 110 > 100")


def test_history_prints_the_filtered_log_as_csv(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    db = open_database(f"sqlite:///{tmp_path}/ivmon.db")
    migrate(db)
    engine = AlarmEngine(PROFILE, AlarmSettings())
    events = feed(engine, "hr", [140] * 11)
    events += engine.acknowledge(events[0].alarm_id, "nurse1", events[0].at, "seen")
    events += feed(engine, "spo2", [86] * 16, room="r2")
    recorder = Recorder(db)
    for event in events:
        recorder.on_message(event, Bus())
    db.dispose()

    args = parse(["alarms", "history", "--data-dir", str(tmp_path), "--csv", "--room", "r1"])
    assert args.func(args) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(r["transition"], r["by_user"]) for r in rows] == [("raised", ""),
                                                               ("acknowledged", "nurse1")]
    args = parse(["alarms", "history", "--data-dir", str(tmp_path), "--unacknowledged",
                  "--priority", "high", "--since", "2026-01-01T09:00:00+00:00"])
    assert args.func(args) == 0
    [line] = capsys.readouterr().out.splitlines()
    assert "r2" in line and "raised" in line and line.endswith("SpO2 86 < 88")


def test_history_without_a_database_says_so(tmp_path: Path) -> None:
    result = run(["alarms", "history", "--data-dir", str(tmp_path / "none"), "--csv"])
    assert result.returncode == 2
    assert result.stderr.startswith("ivmon: There is no ivmon database at ")
