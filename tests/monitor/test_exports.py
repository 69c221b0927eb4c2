"""Exports of a recorded session: CSV with units in the header, HL7 PCD-01 checked with the
``hl7`` package, and a PDF report holding the REMS monitoring facts."""

from __future__ import annotations

import argparse
import csv
import re
import uuid
import zlib
from collections.abc import Iterator
from datetime import UTC, timedelta
from pathlib import Path

import hl7
import pytest
from sqlalchemy import Engine

from monitor import cli, cli_sessions
from monitor.exports import ExportError, export_session
from monitor.exports.hl7 import oru_message, write_hl7
from monitor.exports.pdf import render
from monitor.history import SessionInfo, readings
from monitor.storage.database import migrate, open_database
from monitor.vitals import BY_CODE
from tests.monitor.session_data import T0, Recorded, record_session


@pytest.fixture
def db(database_url: str) -> Iterator[Engine]:
    engine = open_database(database_url)
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def session(db: Engine) -> Recorded:
    return record_session(db, f"r-{uuid.uuid4().hex[:8]}", minutes=90)


def test_csv_has_units_in_the_header_and_one_row_per_moment(db: Engine, session: Recorded,
                                                            tmp_path: Path) -> None:
    out = tmp_path / "s.csv"
    written = export_session(db, session.id, "csv", out)
    assert written == [out, tmp_path / "s.alarms.csv", tmp_path / "s.events.csv"]
    rows = list(csv.reader(out.open()))
    assert rows[0] == ["time", "hr [/min]", "pr [/min]", "spo2 [%]", "nibp_sys [mm[Hg]]",
                       "nibp_dia [mm[Hg]]", "nibp_mean [mm[Hg]]", "rr [/min]"]
    assert len(rows) == 1 + 90 * 60
    assert rows[1] == ["2026-03-02T09:00:00Z", "75", "74", "97", "", "", "", "14"]
    assert rows[61][0] == "2026-03-02T09:01:00Z" and rows[61][4:7] == ["120", "80", "93"]
    assert sum(1 for r in rows[1:] if r[4]) == 18  # a cuff value only where it was measured
    alarms = list(csv.DictReader((tmp_path / "s.alarms.csv").open()))
    assert [(a["message"], a["priority"], a["acknowledged_by"], a["acknowledged_at"],
             a["ack_note"]) for a in alarms] == [
        ("HR 150 > 130", "medium", "nurse2", "2026-03-02T09:30:15Z", "seen")]
    events = list(csv.DictReader((tmp_path / "s.events.csv").open()))
    assert events[3] == {"time": "2026-03-02T09:45:00Z", "kind": "note",
                         "detail": "patient | calm ^ resting", "by": "nurse2"}


def test_hl7_is_pcd01_with_mdc_codes_and_ucum_units(db: Engine, tmp_path: Path) -> None:
    # Ten minutes: the hl7 package parses a few hundred messages a second.
    session = record_session(db, f"r-{uuid.uuid4().hex[:8]}", minutes=10)
    out = tmp_path / "s.hl7"
    count = write_hl7(db, session.id, out)
    assert count == 10 * 60
    # Bytes, not read_text: universal newlines would turn the segment ends into "\n".
    batch_file = hl7.parse_file(out.read_bytes().decode("utf-8"))
    messages = list(batch_file[0])
    assert len(messages) == count
    first = messages[0]
    assert str(first.segment("MSH")[9]) == "ORU^R01^ORU_R01"
    assert str(first.segment("MSH")[12]) == "2.6"
    assert str(first.segment("MSH")[21]).startswith("IHE_PCD_001^IHE PCD")
    assert str(first.segment("PID")[3]) == "M42^^^IVMON^MR"
    assert str(first.segment("PID")[5]) == "J.D."
    pv1 = first.segment("PV1")
    assert str(pv1[3]) == f"^{session.room}" and str(pv1[19]) == str(session.id)
    values: list[tuple[int, str, float]] = []
    by_mdc = {v.mdc: v for v in BY_CODE.values()}
    for message in messages:
        obx = message.segments("OBX")
        assert str(obx[0][3]) == "69965^MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS^MDC"
        for seg in obx[1:]:
            code, ref, system = str(seg[3]).split("^")
            vital = by_mdc[int(code)]
            assert (ref, system, str(seg[2]), str(seg[11])) == (vital.mdc_ref, "MDC", "NM", "R")
            assert str(seg[6]) == f"{vital.unit}^{vital.unit}^UCUM"
            when = hl7.parse_datetime(str(seg[14]))
            values.append((round(when.timestamp() * 1000), vital.code, float(str(seg[5]))))
    stored = [(ms, code, value) for ms, code, value, _ in readings(db, session.id)]
    assert sorted(values) == sorted(stored)
    cuff = next(m for m in messages if len(m.segments("OBX")) == 8)
    assert [str(s[3]).split("^")[1] for s in cuff.segments("OBX")[4:7]] == [
        "MDC_PRESS_BLD_NONINV_SYS", "MDC_PRESS_BLD_NONINV_DIA", "MDC_PRESS_BLD_NONINV_MEAN"]


def test_hl7_escapes_the_delimiters() -> None:
    info = SessionInfo(3, "r|1", "A^B|C&D", "spravato", "", T0, mrn=None)
    message = hl7.parse(oru_message(info, T0, [("spo2", 97.0, "dev~1")], "S3-1"))
    assert message.unescape(str(message.segment("PID")[5])) == "A^B|C&D"
    assert str(message.segment("PID")[3]) == ""  # no MRN: no identifier made up
    assert message.unescape(str(message.segments("OBX")[1][18])) == "dev~1"


def pdf_text(data: bytes) -> str:
    """The text drawn in a PDF made by fpdf2: its content streams, inflated."""
    parts = []
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        try:
            parts.append(zlib.decompress(stream).decode("latin-1"))
        except zlib.error:
            parts.append(stream.decode("latin-1"))
    return "".join(parts)


def test_pdf_holds_the_rems_facts_charts_alarms_and_events(db: Engine,
                                                          session: Recorded) -> None:
    data = render(db, session.id, tz=UTC)
    assert data.startswith(b"%PDF-")
    assert len(re.findall(rb"/Type\s*/Page\b", data)) >= 2
    text = pdf_text(data)
    for fact in ("BP before dosing", "120/80 mm[Hg] at 09:01:00",
                 "BP after dosing \\(about 40 min\\)", "150/95 mm[Hg] at 09:46:00",
                 "Observation start", "2026-03-02 09:05", "Observation end",
                 "2026-03-02 10:30", "Observation time", "1 h 25 min", "Discharge time",
                 "2026-03-02 10:30 by dr1", "lowest SpO2 97 %", "0.5 mg/kg \\(40 mg\\)",
                 "HR 150 > 130", "nurse2 09:30:15 \\(seen\\)", "dose given",
                 "Heart rate and pulse rate", "Vitals table"):
        assert fact in text, fact
    assert "Times are UTC" in text


def test_export_refuses_an_unknown_session_or_format(db: Engine, tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="no session"):
        export_session(db, 10**9, "pdf", tmp_path / "x.pdf")
    with pytest.raises(ExportError, match="expected one of csv, hl7, pdf"):
        export_session(db, 1, "xml", tmp_path / "x.xml")


def test_ivmon_export_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    engine = open_database(f"sqlite:///{tmp_path / 'ivmon.db'}")
    migrate(engine)
    rec = record_session(engine, "r1", minutes=10, start=T0 + timedelta(days=3))
    engine.dispose()
    parser = argparse.ArgumentParser(prog="ivmon")
    cli_sessions.register(parser.add_subparsers(dest="command", required=True),
                          cli._add_common)
    for fmt in ("csv", "hl7", "pdf"):
        out = tmp_path / f"s.{fmt}"
        args = parser.parse_args(["export", str(rec.id), "--format", fmt, "--out", str(out),
                                  "--data-dir", str(tmp_path)])
        assert args.func(args) == 0
        assert out.stat().st_size > 0
    assert capsys.readouterr().out.splitlines()[-1] == str(tmp_path / "s.pdf")
