"""Imports of recorded data as sessions: the shared part that filters values and stores them.

Recorded data is messy: many monitors and archives write 0 for "not measured", and an
import must never turn that into a reading (a "SpO2 0 %" would be a false desaturation).
So a value is kept only when it is finite, inside the vital's physiological bounds, and not
0 for a vital that cannot be 0 in a living patient (``ZERO_MEANS_MISSING``). A respiratory
rate or EtCO2 of 0 may be apnoea and is kept from a CSV; the WFDB reader drops those too,
because MIMIC's numerics use 0 for "not measured" in every channel.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TextIO

from sqlalchemy import Engine, insert, update

from monitor.errors import IvmonError
from monitor.storage.schema import ReadingRow, SessionEventRow, SessionRow
from monitor.vitals import BY_CODE

ZERO_MEANS_MISSING = frozenset({"hr", "pr", "spo2", "nibp_sys", "nibp_dia", "nibp_mean",
                                "temp"})
CHUNK = 10_000  # readings per executemany: big enough to be quick, small enough to show progress


class DataImportError(IvmonError):
    """A file cannot be imported (missing, unreadable, not the expected format)."""


@dataclass(slots=True)
class ImportResult:
    """What an import made: the new session, and what it left out and why."""

    session_id: int = 0
    readings: int = 0
    skipped: dict[str, int] = field(default_factory=dict)  # reason -> count
    notes: list[str] = field(default_factory=list)
    first_ms: int | None = None
    last_ms: int | None = None

    def skip(self, reason: str, count: int = 1) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + count


def usable(code: str, value: float) -> str | None:
    """None when ``value`` may become a reading of ``code``, else the reason it may not."""
    if not math.isfinite(value):
        return "not a number"
    if value == 0 and code in ZERO_MEANS_MISSING:
        return "0 (not measured)"
    vital = BY_CODE[code]
    if not vital.low <= value <= vital.high:
        return "outside physiological bounds"
    return None


class Progress:
    """A one-line progress bar on standard error, redrawn at most every tenth of a second."""

    def __init__(self, total: int, label: str = "importing", stream: TextIO | None = None,
                 width: int = 30) -> None:
        self.total, self.label, self.width = max(1, total), label, width
        self.stream = stream or sys.stderr
        self.done = 0
        self._drawn = 0.0

    def update(self, count: int) -> None:
        self.done += count
        if time.monotonic() - self._drawn >= 0.1:
            self._draw()

    def _draw(self) -> None:
        self._drawn = time.monotonic()
        part = min(1.0, self.done / self.total)
        filled = round(part * self.width)
        bar = "#" * filled + "." * (self.width - filled)
        self.stream.write(f"\r{self.label} [{bar}] {part:4.0%} {self.done:,}/{self.total:,}")
        self.stream.flush()

    def close(self) -> None:
        self.done = max(self.done, self.total)
        self._draw()
        self.stream.write("\n")
        self.stream.flush()


def store_session(engine: Engine, samples: Iterable[tuple[int, str, float]], *, room: str,
                  label: str, device: str, user: str = "", detail: str = "",
                  result: ImportResult | None = None,
                  progress: Progress | None = None) -> ImportResult:
    """Write a session (source "import") and its readings in one transaction.

    ``samples`` are (time in ms, vital code, value) already filtered with ``usable``; the
    session spans the first to the last. Nothing is written when anything fails. The
    source moves ``progress`` as it reads; this only closes it when all is written.
    """
    result = result or ImportResult()
    with engine.begin() as conn:
        sid = int(conn.execute(insert(SessionRow).values(
            room=room, label=label, protocol="", profile="", started_ms=0,
            started_by=user, source="import")).inserted_primary_key[0])
        chunk: list[dict[str, object]] = []
        seq = 0
        for ms, code, value in samples:
            seq += 1
            chunk.append({"room": room, "device": device, "seq": seq, "code": code,
                          "value": value, "quality": "valid", "received_ms": ms,
                          "device_ms": ms, "session_id": sid})
            result.first_ms = ms if result.first_ms is None else min(result.first_ms, ms)
            result.last_ms = ms if result.last_ms is None else max(result.last_ms, ms)
            if len(chunk) >= CHUNK:
                conn.execute(insert(ReadingRow), chunk)
                chunk = []
        if chunk:
            conn.execute(insert(ReadingRow), chunk)
        if result.first_ms is None or result.last_ms is None:
            raise DataImportError("The file holds no usable readings; nothing was imported.")
        conn.execute(update(SessionRow).where(SessionRow.id == sid).values(
            started_ms=result.first_ms, ended_ms=result.last_ms))
        conn.execute(insert(SessionEventRow).values(
            session_id=sid, at_ms=result.first_ms, kind="note", by_user=user,
            detail=detail or f"imported: {seq} readings"))
    if progress:
        progress.close()
    result.session_id, result.readings = sid, seq
    return result
