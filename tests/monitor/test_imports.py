"""Imports: the shared MIMIC numerics record (WFDB format 16) and CSV files become sessions,
and "not measured" never becomes a reading."""

from __future__ import annotations

import argparse
import csv
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import Engine, func, select

from monitor import cli, cli_sessions
from monitor.exports.csv import write_csv
from monitor.history import get_session, readings, session_events
from monitor.imports import DataImportError
from monitor.imports.csv import import_csv
from monitor.imports.wfdb import import_record, read_header
from monitor.storage.schema import ReadingRow, SessionRow, to_ms
from tests.conftest import SHARED_DATA
from tests.monitor.session_data import record_session

MIMIC = SHARED_DATA / "vitals_recordings" / "mimic_numerics_wfdb"
RECORD = MIMIC / "s00001-2896-10-10-00-31n"
CSV_COLUMNS = {"HR_bpm": "hr", "PULSE_bpm": "pr", "RESP_pm": "rr", "SpO2_%": "spo2",
               "NBPSys_mmHg": "nibp_sys", "NBPDias_mmHg": "nibp_dia",
               "NBPMean_mmHg": "nibp_mean"}




def expected_from_the_csv_conversion() -> Counter[str]:
    """Per vital, the samples of the project's CSV copy that are measurements."""
    counts: Counter[str] = Counter()
    with (MIMIC / "s00001-2896-10-10-00-31n.csv").open() as f:
        for row in csv.DictReader(f):
            for column, code in CSV_COLUMNS.items():
                if row[column] not in ("", "0.0"):
                    counts[code] += 1
    return counts


def test_the_mimic_record_imports_without_not_measured_values(db: Engine, room: str) -> None:
    result = import_record(db, RECORD, room=room, user="it1", show_progress=False)
    assert any("ABPSys left out" in note for note in result.notes)
    with db.connect() as conn:
        rows = conn.execute(select(ReadingRow.code, ReadingRow.value, ReadingRow.received_ms,
                                   ReadingRow.quality)
                            .where(ReadingRow.session_id == result.session_id)).all()
    counts = Counter(code for code, *_ in rows)
    assert counts == expected_from_the_csv_conversion()
    assert counts["nibp_sys"] == 152 and counts["hr"] == 1890 and counts["spo2"] == 1573
    assert result.readings == len(rows) == sum(counts.values())
    assert not [r for r in rows if r.value == 0]  # no "SpO2 0 %", no "HR 0"
    assert {r.quality for r in rows} == {"valid"}
    assert 90 <= min(v for c, v, *_ in rows if c == "spo2") <= 100
    info = get_session(db, result.session_id)
    assert info is not None and info.source == "import" and info.room == room
    assert info.label == "s00001-2896-10-10-00-31n" and info.started_by == "it1"
    start = datetime(2896, 10, 10, 0, 31, 25, 894000, tzinfo=UTC)
    assert to_ms(info.started) == to_ms(start)
    assert info.ended is not None and to_ms(info.ended) == max(ms for _, _, ms, _ in rows)
    assert to_ms(info.ended) <= to_ms(start + timedelta(minutes=1935))  # 1,936 samples
    assert all((ms - to_ms(start)) % 60_000 == 0 for _, _, ms, _ in rows)
    assert session_events(db, result.session_id)[0].detail.startswith("imported from WFDB")


def write_record(folder: Path, name: str, samples: list[list[int]], signals: list[str],
                 fmt: str = "16") -> Path:
    """A small WFDB record: HR with gain 10 and a baseline, NBP with gain 1."""
    lines = [f"{name} {len(signals)} 1 {len(samples)} 10:00:00 02/03/2026"]
    for sig in signals:
        gain = "1/mmHg" if sig.startswith("NBP") else "10(5)/bpm"
        lines.append(f"{name}.dat {fmt} {gain} 16 0 0 0 0 {sig}")
    (folder / f"{name}.hea").write_text("\n".join(lines) + "\n# a comment\n")
    np.asarray(samples, dtype="<i2").tofile(folder / f"{name}.dat")
    return folder / name


def test_a_cuff_value_is_a_reading_only_when_measured(db: Engine, room: str,
                                                      tmp_path: Path) -> None:
    M = -32768
    rows = [[725, M, M], [0, 120, 80], [735, 120, 80], [M, 120, 80], [745, M, M],
            [755, 120, 80], [765, 131, 84], [5, 131, 84]]
    path = write_record(tmp_path, "rec1", rows, ["HR", "NBPSys", "NBPDias"])
    record = read_header(path)
    assert record.fs == 1 and record.signals[0].gain == 10 and record.signals[0].baseline == 5
    result = import_record(db, path, room=room, show_progress=False)
    got = [(ms, code, value) for ms, code, value, _ in readings(db, result.session_id)]
    t0 = to_ms(datetime(2026, 3, 2, 10, tzinfo=UTC))
    assert got == [
        (t0, "hr", 72.0),
        (t0 + 1000, "nibp_dia", 80.0), (t0 + 1000, "nibp_sys", 120.0),  # new: measured
        (t0 + 2000, "hr", 73.0),  # held cuff values are not new readings
        (t0 + 4000, "hr", 74.0),
        (t0 + 5000, "hr", 75.0), (t0 + 5000, "nibp_dia", 80.0),  # after a gap: measured again
        (t0 + 5000, "nibp_sys", 120.0),
        (t0 + 6000, "hr", 76.0), (t0 + 6000, "nibp_dia", 84.0), (t0 + 6000, "nibp_sys", 131.0),
    ]  # raw 5 (HR 0 after the baseline: "not measured") and raw 0 (HR -0.5) are left out
    assert result.skipped["0 (not measured)"] == 1
    assert result.skipped["outside physiological bounds"] == 1


def test_bad_records_are_refused_with_a_sentence(db: Engine, room: str, tmp_path: Path) -> None:
    with pytest.raises(DataImportError, match="format 16"):
        import_record(db, write_record(tmp_path, "r212", [[1]], ["HR"], fmt="212"), room=room)
    (tmp_path / "multi.hea").write_text("multi/2 1 1 10\n")
    with pytest.raises(DataImportError, match="multi-segment"):
        import_record(db, tmp_path / "multi", room=room)
    with pytest.raises(DataImportError, match="Cannot read the WFDB header"):
        import_record(db, tmp_path / "absent", room=room)
    empty = write_record(tmp_path, "zeros", [[0], [-32768]], ["HR"])
    with pytest.raises(DataImportError, match="no usable readings"):
        import_record(db, empty, room=room, show_progress=False)
    with db.connect() as conn:  # the failed import left no session behind
        assert conn.execute(select(func.count()).select_from(SessionRow)
                            .where(SessionRow.room == room)).scalar_one() == 0


def test_csv_long_format_as_ivmon_decode_writes_it(db: Engine, room: str,
                                                   tmp_path: Path) -> None:
    path = tmp_path / "decoded.csv"
    path.write_text("time,vital,value,unit\n"
                    "2026-01-01T09:00:00Z,hr,72,/min\n"
                    "2026-01-01T09:00:00Z,spo2,0,%\n"  # a monitor's "no value": left out
                    "2026-01-01T09:00:00Z,rr,0,/min\n"  # apnoea is real: kept
                    ",hr,70,/min\n"
                    "2026-01-01T09:00:01Z,temp,98.6,[degF]\n"
                    "2026-01-01T09:00:01Z,nibp_sys,121,mmHg\n"
                    "2026-01-01T09:00:02Z,pulse,80,/min\n"
                    "2026-01-01T09:00:03,spo2,97.5,%\n")
    result = import_csv(db, path, room=room, show_progress=False)
    got = [(ms, code, value) for ms, code, value, _ in readings(db, result.session_id)]
    t0 = to_ms(datetime(2026, 1, 1, 9, tzinfo=UTC))
    local = to_ms(datetime(2026, 1, 1, 9, 0, 3).astimezone())
    assert sorted(got) == sorted([(t0, "hr", 72.0), (t0, "rr", 0.0),
                                  (t0 + 1000, "nibp_sys", 121.0), (local, "spo2", 97.5)])
    assert result.skipped == {"0 (not measured)": 1, "no time or a bad time": 1,
                              "unit is not the vital's": 1, "unknown vital": 1}


def test_csv_export_imports_back_the_same(db: Engine, room: str, tmp_path: Path) -> None:
    rec = record_session(db, room, minutes=15)
    write_csv(db, rec.id, tmp_path / "s.csv")
    result = import_csv(db, tmp_path / "s.csv", room=room, show_progress=False)
    before = [(ms, c, v) for ms, c, v, _ in readings(db, rec.id)]
    after = [(ms, c, v) for ms, c, v, _ in readings(db, result.session_id)]
    assert after == before and result.skipped == {}


def test_csv_with_a_foreign_unit_column_is_refused(db: Engine, room: str,
                                                   tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_text("time,temp [[degF]]\n2026-01-01T09:00:00Z,98.6\n")
    with pytest.raises(DataImportError, match="expected 'Cel'"):
        import_csv(db, path, room=room, show_progress=False)
    path.write_text("when,hr\n")
    with pytest.raises(DataImportError, match="first column must be 'time'"):
        import_csv(db, path, room=room, show_progress=False)


def test_ivmon_import_prints_the_session_id_last(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser(prog="ivmon")
    cli_sessions.register(parser.add_subparsers(dest="command", required=True),
                          cli._add_common)
    args = parser.parse_args(["import", "wfdb", str(RECORD), "--room", "r7",
                              "--data-dir", str(tmp_path)])
    assert args.func(args) == 0
    out, err = capsys.readouterr()
    assert out.splitlines()[-1] == "1"
    assert "100%" in err and "Imported 7383 readings as session 1" in err
    csv_path = tmp_path / "x.csv"
    csv_path.write_text("time,vital,value,unit\n2026-01-01T09:00:00Z,hr,72,/min\n")
    args = parser.parse_args(["import", "csv", str(csv_path), "--room", "r8",
                              "--data-dir", str(tmp_path), "--quiet"])
    assert args.func(args) == 0
    out, err = capsys.readouterr()
    assert out.splitlines()[-1] == "2" and "%" not in err
