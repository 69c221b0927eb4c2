"""History at clinic scale on SQLite: a day of 32 rooms (about 10 million readings).

Fills a SQLite file (once; reused when it is already full) with 32 rooms x 24 h: HR, PR and
SpO2 every second, RR every 2 s and a cuff cycle every 5 min (3.51 readings/s per room),
in back-to-back 4-hour sessions with a few alarms each. Then times what the replay page
does: find sessions, open a 4-hour session (every vital downsampled to 1,000 buckets, its
alarms and events: the first paint's data), zoom to one hour, and the tile at a moment.
Prints the first (cold) run and the median of the next runs. Never passes or fails.

    python benchmarks/history_scale.py [--db FILE] [--rooms 32] [--hours 24] [--runs 5]
"""

from __future__ import annotations

import argparse
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from monitor.history import (  # noqa: E402
    alarm_spans,
    downsample,
    find_sessions,
    get_session,
    session_events,
    session_span,
    session_vitals,
    snapshot,
)
from monitor.storage.database import migrate, open_database  # noqa: E402
from monitor.storage.schema import to_ms  # noqa: E402

DAY = datetime(2026, 3, 2, tzinfo=UTC)
SESSION_HOURS = 4
BATCH = 500_000


def fill(path: Path, rooms: int, hours: int) -> int:
    """Write the day's sessions, readings, events and alarms; return the reading count."""
    engine = open_database(f"sqlite:///{path}")
    migrate(engine)
    engine.dispose()
    rng = random.Random(7)
    con = sqlite3.connect(path)
    # Only for the fill: a crash would just mean filling again.
    con.execute("PRAGMA synchronous=OFF")
    con.execute("PRAGMA cache_size=-512000")
    start_ms = to_ms(DAY)
    sessions: dict[tuple[str, int], int] = {}
    per_day = max(1, hours // SESSION_HOURS)
    with con:
        for r in range(rooms):
            room = f"r{r + 1:02d}"
            for k in range(per_day):
                began = start_ms + k * SESSION_HOURS * 3_600_000
                cur = con.execute(
                    "INSERT INTO sessions (room, label, protocol, profile, started_ms, ended_ms,"
                    " discharged_ms, started_by, source) VALUES (?,?,?,?,?,?,?,?,?)",
                    (room, f"P{r:02d}{k}", "iv-ketamine", "iv-ketamine", began,
                     began + SESSION_HOURS * 3_600_000, began + SESSION_HOURS * 3_600_000,
                     "nurse", "demo"))
                sid = cur.lastrowid or 0
                sessions[(room, k)] = sid
                con.executemany(
                    "INSERT INTO session_events (session_id, at_ms, kind, detail, by_user)"
                    " VALUES (?,?,?,?,?)",
                    [(sid, began + m * 60_000, kind, "", "nurse") for m, kind in
                     ((0, "session_started"), (5, "infusion_started"),
                      (45, "infusion_stopped"), (SESSION_HOURS * 60, "discharged"))])
                if rng.random() < 0.6:  # most sessions raise an alarm or two
                    for a in range(rng.randint(1, 3)):
                        at = began + rng.randint(10, 200) * 60_000
                        rows = [(f"a{sid}-{a}", room, "nibp_sys", "physiological", "medium",
                                 tr, "SBP 172 > 160", 172.0, 160.0, at + dt, who, sid)
                                for tr, dt, who in (("raised", 0, None),
                                                    ("acknowledged", 20_000, "nurse"),
                                                    ("cleared", 300_000, None))]
                        con.executemany(
                            "INSERT INTO alarm_events (alarm_id, room, vital, kind, priority,"
                            " transition, message, value, limit_value, at_ms, by_user,"
                            " session_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", rows)
    insert = ("INSERT INTO readings (room, device, seq, code, value, quality, received_ms,"
              " device_ms, session_id) VALUES (?,?,?,?,?,?,?,?,?)")
    batch: list[tuple[object, ...]] = []
    total = 0
    seq = [0] * rooms
    began = time.perf_counter()
    for second in range(hours * 3600):
        t = start_ms + second * 1000
        k = min(per_day - 1, second // (SESSION_HOURS * 3600))
        for r in range(rooms):
            room = f"r{r + 1:02d}"
            sid = sessions[(room, k)]
            hr = 75 + 10 * ((second + r * 97) % 600) / 600
            values = [("hr", hr), ("pr", hr - 1), ("spo2", 97.0)]
            if second % 2 == 0:
                values.append(("rr", 14.0))
            if (second + r * 11) % 300 == 0:
                values += [("nibp_sys", 125.0), ("nibp_dia", 80.0), ("nibp_mean", 95.0)]
            for code, value in values:
                seq[r] += 1
                batch.append((room, f"{room}-monitor", seq[r], code, value, "valid", t, None,
                              sid))
        if len(batch) >= BATCH:
            with con:
                con.executemany(insert, batch)
            total += len(batch)
            batch.clear()
            print(f"\r  {total:,} readings ({time.perf_counter() - began:.0f} s)", end="",
                  file=sys.stderr, flush=True)
    with con:
        con.executemany(insert, batch)
    total += len(batch)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.execute("ANALYZE")
    con.close()
    print(f"\r  {total:,} readings in {time.perf_counter() - began:.0f} s", file=sys.stderr)
    return total


def timed(label: str, runs: int, func: Callable[[], object]) -> None:
    times = []
    for _ in range(runs + 1):
        t0 = time.perf_counter()
        result = func()
        times.append((time.perf_counter() - t0) * 1000)
    rest = statistics.median(times[1:]) if runs else times[0]
    size = len(result) if hasattr(result, "__len__") else ""  # type: ignore[arg-type]
    print(f"{label:<58} first {times[0]:7.1f} ms   median {rest:7.1f} ms   ({size} rows)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, help="the SQLite file (default: a temporary one)")
    parser.add_argument("--rooms", type=int, default=32)
    parser.add_argument("--hours", type=int, default=24)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    path = args.db or Path(tempfile.gettempdir()) / f"ivmon-history-{args.rooms}x{args.hours}.db"
    engine = open_database(f"sqlite:///{path}")
    migrate(engine)
    with engine.connect() as conn:
        count = conn.exec_driver_sql("SELECT max(id) FROM readings").scalar() or 0
    engine.dispose()
    if count == 0:
        print(f"Filling {path} ...", file=sys.stderr)
        count = fill(path, args.rooms, args.hours)
    size = sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))
    print(f"ivmon history benchmark - {platform.python_version()}, SQLite "
          f"{sqlite3.sqlite_version}, {platform.machine()}")
    print(f"database {path}: {count:,} readings, {size / 1e9:.2f} GB")

    engine = open_database(f"sqlite:///{path}")
    room = f"r{(args.rooms + 1) // 2:02d}"
    day_end = DAY + timedelta(days=1)
    timed("find: one room's sessions on a day", args.runs,
          lambda: find_sessions(engine, room=room, since=DAY, until=day_end))
    timed("find: every session of the day", args.runs,
          lambda: find_sessions(engine, since=DAY, until=day_end))
    timed("find: label contains 'p1', with alarms", args.runs,
          lambda: find_sessions(engine, label="p1", with_alarms=True))
    sid = find_sessions(engine, room=room, since=DAY, until=day_end)[-1].session.id

    def first_paint() -> list[object]:
        info = get_session(engine, sid)
        assert info is not None
        start, end = session_span(info, engine)
        codes = session_vitals(engine, sid)
        series = downsample(engine, sid, codes, start, end, buckets=1000)
        return [series, alarm_spans(engine, sid), session_events(engine, sid)]

    timed(f"open a {SESSION_HOURS} h session (7 vitals x 1000 buckets, alarms, events)",
          args.runs, first_paint)
    info = get_session(engine, sid)
    assert info is not None
    zoom_start = to_ms(info.started) + 3_600_000
    codes = session_vitals(engine, sid)
    timed("zoom: 1 h window, 7 vitals x 1000 buckets", args.runs,
          lambda: downsample(engine, sid, codes, zoom_start, zoom_start + 3_600_000, 1000))
    timed("zoom: 5 min window (raw readings)", args.runs,
          lambda: downsample(engine, sid, codes, zoom_start, zoom_start + 300_000, 1000))
    timed("tile at a scrubbed moment (last values, active alarms)", args.runs,
          lambda: snapshot(engine, sid, info.started + timedelta(hours=2)).values)
    engine.dispose()


if __name__ == "__main__":
    main()
