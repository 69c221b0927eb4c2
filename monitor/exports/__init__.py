"""Exports of a past session: CSV files, HL7 v2.6 ORU^R01 (IHE PCD-01) and a PDF report."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine

from monitor.errors import IvmonError

FORMATS = ("csv", "hl7", "pdf")


class ExportError(IvmonError):
    """A session cannot be exported (it does not exist, or the file cannot be written)."""


def iso_time(when: datetime) -> str:
    """ISO 8601 in UTC with milliseconds when there are any, e.g. 2026-01-01T09:00:00.250Z."""
    when = when.astimezone(UTC)
    text = when.strftime("%Y-%m-%dT%H:%M:%S")
    if when.microsecond:
        text += f".{when.microsecond // 1000:03d}"
    return text + "Z"


def number(value: float) -> str:
    """A value as text: up to six significant digits, without float noise (36.799999)."""
    return f"{value:.6g}"


def export_session(engine: Engine, session_id: int, fmt: str, out: Path) -> list[Path]:
    """Write session ``session_id`` as ``fmt`` (csv, hl7 or pdf); return the files written."""
    if fmt == "csv":
        from monitor.exports.csv import write_csv

        return write_csv(engine, session_id, out)
    if fmt == "hl7":
        from monitor.exports.hl7 import write_hl7

        write_hl7(engine, session_id, out)
        return [out]
    if fmt == "pdf":
        from monitor.exports.pdf import write_pdf

        write_pdf(engine, session_id, out)
        return [out]
    raise ExportError(f"Unknown export format {fmt!r}; expected one of {', '.join(FORMATS)}.")
