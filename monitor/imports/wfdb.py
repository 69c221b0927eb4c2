"""Import of a WFDB numerics record (format 16), such as the MIMIC numerics, as a session.

A small reader of the header and format-16 signal files (little-endian int16, signals
interleaved), enough for vital-sign numerics; multi-segment records and other formats are
refused with a message. Signals map by name (HR -> hr, PULSE -> pr, RESP -> rr, SpO2 ->
spo2, NBPSys/NBPDias/NBPMean -> nibp_*); arterial pressure (ABP*) has no ivmon vital and is
left out, as is any other signal, each with a note. The sample -32768 is missing and 0 is
"not measured" (MIMIC's convention in every numerics channel): neither becomes a reading.
A cuff value is a reading only on the sample where it was measured: the NBP channels hold
their value until the next cycle, so a repeat of the same values is not a new measurement.
Times without a zone in the header are taken as UTC.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from sqlalchemy import Engine

from monitor.imports import DataImportError, ImportResult, Progress, store_session, usable
from monitor.vitals import NIBP_CODES

MISSING = -32768  # WFDB's "no sample" for format 16
SIGNALS = {"hr": "hr", "pulse": "pr", "resp": "rr", "spo2": "spo2", "nbpsys": "nibp_sys",
           "nbpdias": "nibp_dia", "nbpdia": "nibp_dia", "nbpmean": "nibp_mean",
           "etco2": "etco2", "co2": "etco2", "temp": "temp"}


@dataclass(frozen=True, slots=True)
class Signal:
    name: str
    file: str
    gain: float  # ADC units per physical unit
    baseline: int
    units: str


@dataclass(frozen=True, slots=True)
class Record:
    name: str
    fs: float  # samples per second
    length: int
    start: datetime | None
    signals: tuple[Signal, ...]


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def read_header(path: Path) -> Record:
    """Parse ``RECORD.hea`` (path with or without the suffix)."""
    hea = path if path.suffix == ".hea" else path.with_name(path.name + ".hea")
    try:
        lines = [ln.split("#", 1)[0].strip() for ln in hea.read_text("latin-1").splitlines()]
    except OSError as exc:
        raise DataImportError(f"Cannot read the WFDB header {hea}: {exc.strerror}.") from exc
    lines = [ln for ln in lines if ln]
    if not lines:
        raise DataImportError(f"{hea} is empty; expected a WFDB header.")
    head = lines[0].split()
    if "/" in head[0]:
        raise DataImportError(f"{hea} is a multi-segment record; import one segment's header.")
    try:
        nsig = int(head[1])
        fs = float(head[2].split("/")[0].split("(")[0]) if len(head) > 2 else 250.0
        length = int(head[3]) if len(head) > 3 else 0
    except (IndexError, ValueError) as exc:
        raise DataImportError(f"{hea}: the record line {lines[0]!r} is not valid WFDB.") from exc
    signals = []
    for line in lines[1:1 + nsig]:
        f = line.split()
        fmt = re.match(r"\d+", f[1]) if len(f) > 1 else None
        if fmt is None or fmt.group() != "16":
            raise DataImportError(f"{hea}: signal {line!r} is not in format 16, the only "
                                  f"format this reader takes.")
        gain, baseline, units = 200.0, None, ""
        if len(f) > 2:
            m = re.match(r"([-\d.eE+]+)(?:\((-?\d+)\))?(?:/(\S+))?", f[2])
            if m:
                gain = float(m[1]) or 200.0  # a gain of 0 means WFDB's default, 200
                baseline = int(m[2]) if m[2] else None
                units = m[3] or ""
        adc_zero = int(f[4]) if len(f) > 4 else 0
        name = " ".join(f[8:]) if len(f) > 8 else f"signal {len(signals)}"
        signals.append(Signal(name, f[0], gain, adc_zero if baseline is None else baseline,
                              units))
    if len(signals) != nsig:
        raise DataImportError(f"{hea} names {nsig} signals but describes {len(signals)}.")
    return Record(head[0], fs, length, _start(head[4:6]), tuple(signals))


def _start(parts: list[str]) -> datetime | None:
    """The base time and date (``HH:MM:SS.sss`` or ``MM:SS.sss``, ``DD/MM/YYYY``), as UTC."""
    if len(parts) < 2:
        return None
    try:
        clock = [float(p) for p in parts[0].split(":")]
        day, month, year = (int(p) for p in parts[1].split("/"))
    except ValueError:
        return None
    seconds = sum(v * 60 ** i for i, v in enumerate(reversed(clock)))
    return datetime(year, month, day, tzinfo=UTC) + timedelta(seconds=seconds)


def read_samples(record: Record, folder: Path) -> np.ndarray:
    """The raw samples, one column per signal (int16 ADC units)."""
    columns: list[np.ndarray] = []
    files: dict[str, np.ndarray] = {}
    for sig in record.signals:
        if sig.file not in files:
            path = folder / sig.file
            try:
                raw = np.fromfile(path, dtype="<i2")
            except OSError as exc:
                raise DataImportError(f"Cannot read the signal file {path}: "
                                      f"{exc.strerror}.") from exc
            width = sum(1 for s in record.signals if s.file == sig.file)
            usable_len = len(raw) - len(raw) % width
            files[sig.file] = raw[:usable_len].reshape(-1, width)
        index = [s for s in record.signals if s.file == sig.file].index(sig)
        columns.append(files[sig.file][:, index])
    length = min(len(c) for c in columns)
    if record.length:
        length = min(length, record.length)
    return np.stack([c[:length] for c in columns], axis=1)


def samples(record: Record, raw: np.ndarray, start: datetime, result: ImportResult,
            progress: Progress | None = None) -> Iterator[tuple[int, str, float]]:
    """(ms, code, value) for every sample that is a real measurement, in time order."""
    codes = []
    for sig in record.signals:
        code = SIGNALS.get(_key(sig.name))
        if code is None:
            why = "arterial pressure has no ivmon vital" if _key(sig.name).startswith("abp") \
                else "no ivmon vital matches it"
            result.notes.append(f"signal {sig.name} left out: {why}")
        codes.append(code)
    period_ms = 1000.0 / record.fs
    t0 = round(start.timestamp() * 1000)
    nibp = [i for i, c in enumerate(codes) if c in NIBP_CODES]
    last_cuff: tuple[int, ...] | None = None
    for n, row in enumerate(raw):
        if progress is not None and n % 100 == 0:
            progress.update(min(100, len(raw) - n))
        ms = t0 + round(n * period_ms)
        cuff = tuple(int(row[i]) for i in nibp)
        new_cuff = any(v != MISSING for v in cuff) and cuff != last_cuff
        for i, (sig, code) in enumerate(zip(record.signals, codes, strict=True)):
            if code is None:
                continue
            adu = int(row[i])
            if adu == MISSING:
                result.skip("missing (-32768)")
                continue
            if code in NIBP_CODES and not new_cuff:
                result.skip("cuff value held from an earlier measurement")
                continue
            value = round((adu - sig.baseline) / sig.gain, 3)
            reason = "0 (not measured)" if value == 0 else usable(code, value)
            if reason:
                result.skip(reason)
                continue
            yield ms, code, value
        last_cuff = cuff


def import_record(engine: Engine, record_path: Path, *, room: str, label: str = "",
                  user: str = "", start: datetime | None = None,
                  show_progress: bool = True) -> ImportResult:
    """Create a session from a WFDB record; ``start`` overrides the header's base time."""
    path = record_path.with_suffix("") if record_path.suffix in (".hea", ".dat") \
        else record_path
    record = read_header(path)
    raw = read_samples(record, path.parent)
    begin = start or record.start
    if begin is None:
        raise DataImportError(f"{path.name}.hea has no base date and time; give --start.")
    result = ImportResult()
    progress = Progress(len(raw), f"importing {record.name} (samples)") if show_progress \
        else None
    return store_session(engine, samples(record, raw, begin, result, progress), room=room,
                         label=label or record.name, device=f"wfdb:{record.name}", user=user,
                         detail=f"imported from WFDB record {record.name}", result=result,
                         progress=progress)
