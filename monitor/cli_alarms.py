"""``ivmon alarms simulate`` (a profile over a readings CSV) and ``ivmon alarms history``."""

from __future__ import annotations

import argparse
import csv
import math
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from monitor.errors import IvmonError
from monitor.reading import Reading
from monitor.vitals import BY_CODE

AddCommon = Callable[[argparse.ArgumentParser], None]
SIMULATE_HEADER = ("start", "end", "vital", "priority", "kind", "message")


def register(subparsers: Any, add_common: AddCommon) -> None:
    """Add ``alarms simulate`` and ``alarms history`` to the CLI."""
    alarms = subparsers.add_parser("alarms", help="test alarm profiles and read the alarm log",
                                   description="Alarm tools for clinicians and managers.")
    verbs = alarms.add_subparsers(dest="alarms_command", metavar="ACTION", required=True)

    sim = verbs.add_parser(
        "simulate", help="run an alarm profile over a readings CSV",
        description="Run the real alarm engine over readings (time,vital,value,unit as "
                    "printed by 'ivmon decode'; an optional room column) and print each alarm "
                    "as CSV: start,end,vital,priority,kind,message. end is empty when the "
                    "alarm was still on at the end of the input; priority is the highest it "
                    "reached. Times without a zone are read, and printed, as they are.")
    sim.add_argument("--profile", required=True, metavar="NAME",
                     help="a profile name (iv-ketamine, spravato, or the clinic's own with "
                          "--config/--data-dir) or a profile JSON file")
    sim.add_argument("--input", default="-", metavar="FILE",
                     help="the readings CSV (default: standard input)")
    sim.add_argument("--baseline", metavar="SYS/DIA", type=_baseline,
                     help="the session's baseline blood pressure, e.g. 120/80 (default: the "
                          "first cuff measurement)")
    add_common(sim)
    sim.set_defaults(func=cmd_simulate)

    hist = verbs.add_parser(
        "history", help="print the alarm log, filtered",
        description="Print the alarm log, oldest first: every transition with who and when.")
    hist.add_argument("--room", metavar="R", help="only this room")
    hist.add_argument("--priority", choices=("high", "medium", "low"), help="only this priority")
    hist.add_argument("--vital", metavar="CODE", help="only this vital (or device, serial)")
    hist.add_argument("--unacknowledged", action="store_true",
                      help="only alarms nobody acknowledged")
    hist.add_argument("--since", type=_when, metavar="ISO", help="from this time on")
    hist.add_argument("--until", type=_when, metavar="ISO", help="before this time")
    hist.add_argument("--csv", action="store_true", help="print CSV (for a spreadsheet)")
    add_common(hist)
    hist.set_defaults(func=cmd_history)


def _baseline(text: str) -> tuple[float, float]:
    try:
        sys_text, dia_text = text.split("/")
        values = float(sys_text), float(dia_text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a blood pressure; expected SYS/DIA such as 120/80") from None
    if not all(0 < v < 300 for v in values) or values[1] >= values[0]:
        raise argparse.ArgumentTypeError(f"{text!r} is not a plausible blood pressure")
    return values


def _when(text: str) -> datetime:
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO 8601 time such as 2026-01-31T09:00") from None
    return when if when.tzinfo else when.astimezone()  # a time without zone is local time


# -- simulate -------------------------------------------------------------------------------


def read_readings(lines: TextIO, source: str) -> tuple[list[Reading], bool]:
    """Readings from a ``time,vital,value,unit[,room]`` CSV, and whether its times had no zone.

    Rows are sorted by time; an error names the line and what is wrong, in one sentence.
    """
    reader = csv.DictReader(lines)
    missing = [c for c in ("time", "vital", "value") if c not in (reader.fieldnames or ())]
    if missing:
        raise IvmonError(f"{source} has no {missing[0]!r} column; expected the header "
                         f"time,vital,value,unit as 'ivmon decode' prints it.")
    readings: list[Reading] = []
    naive = False
    for row in reader:
        line = reader.line_num
        where = f"{source} line {line}"
        if not (row.get("time") or "").strip():
            raise IvmonError(f"{where} has no time; simulating alarm delays needs the "
                             f"monitor's clock on every row.")
        try:
            when = datetime.fromisoformat(row["time"].strip().replace("Z", "+00:00"))
        except ValueError:
            raise IvmonError(f"{where}: {row['time']!r} is not an ISO 8601 time.") from None
        if when.tzinfo is None:
            naive, when = True, when.replace(tzinfo=UTC)
        code = (row.get("vital") or "").strip()
        vital = BY_CODE.get(code)
        if vital is None:
            raise IvmonError(f"{where}: {code!r} is not a vital; expected one of "
                             f"{', '.join(BY_CODE)}.")
        unit = (row.get("unit") or "").strip()
        if unit and unit != vital.unit:
            raise IvmonError(f"{where}: {code} is in {unit!r}, but ivmon expects "
                             f"{vital.unit!r}.")
        try:
            value = float(row["value"])
        except (TypeError, ValueError):
            raise IvmonError(f"{where}: {row['value']!r} is not a number.") from None
        if not math.isfinite(value):
            continue  # no value from the monitor: nothing to judge
        room = (row.get("room") or "").strip() or "room"
        readings.append(Reading(room, f"{room}-monitor", code, value, when, device_time=when))
    readings.sort(key=lambda r: r.received)  # stable: rows of one time keep their order
    return readings, naive


def cmd_simulate(args: argparse.Namespace) -> int:
    from monitor.alarms.whatif import simulate, spans

    profile = _profile(args)
    if args.input == "-":
        readings, naive = read_readings(sys.stdin, "standard input")
    else:
        try:
            with open(args.input, newline="", encoding="utf-8") as f:
                readings, naive = read_readings(f, args.input)
        except OSError as exc:
            raise IvmonError(f"Cannot read {args.input}: {exc.strerror}.") from exc
    baseline = {"nibp_sys": args.baseline[0], "nibp_dia": args.baseline[1]} \
        if args.baseline else None
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(SIMULATE_HEADER)
    found = spans(simulate(readings, profile, baseline=baseline))
    for span in found:
        writer.writerow((_time(span.start, naive), _time(span.end, naive), span.vital,
                         span.priority.word, str(span.kind), span.message))
    print(f"{len(found)} alarms from {len(readings)} readings under profile {profile.name}",
          file=sys.stderr)
    return 0


def _time(when: datetime | None, naive: bool) -> str:
    if when is None:
        return ""
    text = when.astimezone(UTC).isoformat(timespec="seconds" if not when.microsecond
                                          else "milliseconds")
    return text.removesuffix("+00:00") + ("" if naive else "Z")


def _profile(args: argparse.Namespace) -> Any:
    from monitor.alarms.profiles import profile_from_json
    from monitor.alarms.rules import profile as builtin

    path = Path(args.profile)
    if args.profile.endswith(".json"):
        try:
            return profile_from_json(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise IvmonError(f"Cannot read the profile {path}: {exc.strerror}.") from exc
    try:
        if args.config or args.data_dir:
            with _database(args) as db:
                from monitor.alarms.store import AlarmStore

                return AlarmStore(db).profile(args.profile)
        return builtin(args.profile)
    except KeyError as exc:
        raise IvmonError(f"{str(exc.args[0]).capitalize()}.") from None


# -- history --------------------------------------------------------------------------------


class _database:
    """The configured database, which must exist already (these commands only read)."""

    def __init__(self, args: argparse.Namespace) -> None:
        from monitor.cli_station import load_config

        self.url = load_config(args).database_url

    def __enter__(self) -> Any:
        from monitor.storage.database import migrate, open_database

        if self.url.startswith("sqlite:///") and \
                not Path(self.url.removeprefix("sqlite:///")).expanduser().exists():
            raise IvmonError(f"There is no ivmon database at {self.url.removeprefix('sqlite:///')}"
                             f"; give the station's --config or --data-dir.")
        self.db = open_database(self.url)
        migrate(self.db)
        return self.db

    def __exit__(self, *exc: object) -> None:
        self.db.dispose()


def cmd_history(args: argparse.Namespace) -> int:
    from monitor.alarms.history import HistoryFilter, iso, query, write_csv

    filters = HistoryFilter(room=args.room, priority=args.priority, vital=args.vital,
                            since=args.since, until=args.until,
                            unacknowledged=args.unacknowledged, oldest_first=True)
    with _database(args) as db:
        rows = query(db, filters)
    if args.csv:
        write_csv(rows, sys.stdout)
        return 0
    for row in _lines(rows, iso):
        print(row)
    if not rows:
        print("No alarm events match.", file=sys.stderr)
    return 0


def _lines(rows: list[Any], iso: Callable[[datetime], str]) -> Iterator[str]:
    for row in rows:
        e = row.event
        who = f" by {e.by_user}" if e.by_user else ""
        note = f" ({e.note})" if e.note else ""
        yield (f"{iso(e.at)}  {e.room:<6} {e.priority.word:<6} {e.transition!s:<15} "
               f"{e.message}{who}{note}")
