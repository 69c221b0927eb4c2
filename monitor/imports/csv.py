"""Import of a CSV file of readings as a session.

Two layouts are read, told apart by the header:
  * long, as ``ivmon decode`` writes: ``time,vital,value,unit`` (unit optional), one reading
    a row;
  * wide, as ``ivmon export --format csv`` writes: ``time,hr [/min],spo2 [%],...``, one
    column per vital (a bare code is taken in the vital's own unit), blank = not measured.
``time`` is ISO 8601; a time without a zone is this machine's local time (as the device
layer reads a monitor's clock). A unit must be the vital's UCUM unit or its display unit
(``mmHg`` for ``mm[Hg]``); rows with another unit, a bad time or an unusable value
(see ``monitor.imports``) are counted and left out.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine

from monitor.imports import DataImportError, ImportResult, Progress, store_session, usable
from monitor.vitals import BY_CODE

LONG = ("time", "vital", "value")


def _time_ms(text: str) -> int | None:
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.astimezone()  # local time, as the device layer reads a zoneless clock
    return round(when.timestamp() * 1000)


def _unit_ok(code: str, unit: str) -> bool:
    vital = BY_CODE[code]
    return unit.strip() in ("", vital.unit, vital.display_unit)


def _column(title: str) -> tuple[str, str]:
    """``spo2 [%]`` -> (``spo2``, ``%``); ``nibp_sys [mm[Hg]]`` -> (``nibp_sys``, ``mm[Hg]``)."""
    title = title.strip()
    if " [" in title and title.endswith("]"):
        code, unit = title.split(" [", 1)
        return code.strip(), unit[:-1]
    return title, ""


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def samples(path: Path, result: ImportResult,
            progress: Progress | None = None) -> Iterator[tuple[int, str, float]]:
    """(ms, code, value) for every usable value in the file."""
    try:
        f = path.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise DataImportError(f"Cannot read {path}: {exc.strerror}.") from exc
    with f:
        reader = csv.reader(f)
        header = [h.strip() for h in next(reader, [])]
        if not header or header[0].lower() != "time":
            raise DataImportError(f"{path}: the first column must be 'time'; expected a "
                                  f"header 'time,vital,value,unit' or 'time,hr [/min],...'.")
        long = tuple(h.lower() for h in header[:3]) == LONG
        columns: list[tuple[int, str]] = []
        if not long:
            for i, title in enumerate(header[1:], start=1):
                code, unit = _column(title)
                if code not in BY_CODE:
                    result.notes.append(f"column {title!r} left out: no ivmon vital {code!r}")
                elif not _unit_ok(code, unit):
                    raise DataImportError(
                        f"{path}: column {title!r} is in {unit!r}; expected "
                        f"{BY_CODE[code].unit!r}.")
                else:
                    columns.append((i, code))
        for n, row in enumerate(reader):
            if progress is not None and n % 1000 == 0:
                progress.update(f.tell() - progress.done)
            if not row or not any(cell.strip() for cell in row):
                continue
            ms = _time_ms(row[0])
            if ms is None:
                result.skip("no time or a bad time")
                continue
            if long:
                yield from _long_row(row, ms, result)
                continue
            for i, code in columns:
                text = row[i].strip() if i < len(row) else ""
                if not text:
                    continue
                value = _number(text)
                reason = "not a number" if value is None else usable(code, value)
                if reason:
                    result.skip(reason)
                    continue
                assert value is not None
                yield ms, code, value


def _long_row(row: list[str], ms: int, result: ImportResult) -> Iterator[tuple[int, str, float]]:
    code = row[1].strip() if len(row) > 1 else ""
    if code not in BY_CODE:
        result.skip("unknown vital")
        return
    if not _unit_ok(code, row[3] if len(row) > 3 else ""):
        result.skip("unit is not the vital's")
        return
    value = _number(row[2]) if len(row) > 2 else None
    reason = "not a number" if value is None else usable(code, value)
    if reason:
        result.skip(reason)
        return
    assert value is not None
    yield ms, code, value


def import_csv(engine: Engine, path: Path, *, room: str, label: str = "", user: str = "",
               show_progress: bool = True) -> ImportResult:
    """Create a session in ``room`` from a CSV file of readings."""
    if not path.is_file():
        raise DataImportError(f"There is no file {path}.")
    result = ImportResult()
    progress = Progress(os.path.getsize(path), f"importing {path.name} (bytes)") \
        if show_progress else None
    return store_session(engine, samples(path, result, progress), room=room,
                         label=label or path.stem, device=f"csv:{path.name}"[:64], user=user,
                         detail=f"imported from {path.name}", result=result, progress=progress)
