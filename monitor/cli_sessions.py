"""``ivmon sessions``, ``ivmon export`` and ``ivmon import``: sessions from the command line."""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from monitor.errors import ConfigError, IvmonError

AddCommon = Callable[[argparse.ArgumentParser], None]


def register(subparsers: Any, add_common: AddCommon) -> None:
    """Add ``sessions list|start|event|end|discharge|show``, ``export`` and ``import``."""
    from monitor.exports import FORMATS
    from monitor.session_rules import PROTOCOLS
    from monitor.sessions import EVENT_KINDS

    sessions = subparsers.add_parser("sessions", help="list, run and show sessions",
                                     description="Run and review sessions from the shell.")
    verbs = sessions.add_subparsers(dest="sessions_command", metavar="ACTION", required=True)

    p = verbs.add_parser("list", help="find sessions, newest first")
    p.add_argument("--room", help="only this room")
    p.add_argument("--since", type=_when, metavar="DATE", help="started on or after (ISO date)")
    p.add_argument("--until", type=_when, metavar="DATE", help="started before (ISO date)")
    p.add_argument("--label", help="patient label contains this")
    alarms = p.add_mutually_exclusive_group()
    alarms.add_argument("--with-alarms", dest="with_alarms", action="store_true", default=None,
                        help="only sessions that raised an alarm")
    alarms.add_argument("--without-alarms", dest="with_alarms", action="store_false",
                        help="only sessions that raised none")
    p.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    p.set_defaults(func=cmd_list)

    p = verbs.add_parser("start", help="start a session in a room; prints its id")
    p.add_argument("room", metavar="ROOM")
    p.add_argument("--label", required=True, help="patient label or initials")
    p.add_argument("--mrn", help="medical record number (optional)")
    p.add_argument("--protocol", choices=tuple(PROTOCOLS), default="iv-ketamine")
    p.add_argument("--weight", type=float, metavar="KG", help="weight in kg")
    p.add_argument("--dose", type=float, metavar="MG_PER_KG", help="planned dose in mg/kg")
    p.add_argument("--duration", type=float, metavar="MIN", help="planned duration in min")
    p.add_argument("--profile", default="iv-ketamine", help="alarm profile")
    p.set_defaults(func=cmd_start)

    p = verbs.add_parser("event", help="record an event in a session")
    p.add_argument("session", type=int, metavar="SESSION")
    p.add_argument("kind", choices=EVENT_KINDS, metavar="KIND",
                   help=f"one of {', '.join(EVENT_KINDS)}")
    p.add_argument("--detail", default="", help="free text; a bp_check may give 128/84")
    p.set_defaults(func=cmd_event)

    p = verbs.add_parser("end", help="close a session without a discharge")
    p.add_argument("session", type=int, metavar="SESSION")
    p.set_defaults(func=cmd_end)

    p = verbs.add_parser("discharge", help="check and record a discharge")
    p.add_argument("session", type=int, metavar="SESSION")
    p.add_argument("--override", metavar="REASON",
                   help="discharge although the check is not met, for this reason")
    p.set_defaults(func=cmd_discharge)

    p = verbs.add_parser("show", help="a session's facts, events, alarms and discharge check")
    p.add_argument("session", type=int, metavar="SESSION")
    p.set_defaults(func=cmd_show)

    for name, p in verbs.choices.items():
        add_common(p)
        if name in ("start", "event", "end", "discharge"):
            p.add_argument("--user", default=_login(), help="who does this (default: you)")

    p = subparsers.add_parser("export", help="export a session to CSV, HL7 or PDF",
                              description="Write a session as CSV (readings with units in the "
                              "header, plus FILE.alarms.csv and FILE.events.csv), HL7 v2.6 "
                              "ORU^R01 (IHE PCD-01) or a PDF report.")
    p.add_argument("session", type=int, metavar="SESSION")
    p.add_argument("--format", required=True, choices=FORMATS)
    p.add_argument("--out", required=True, type=Path, metavar="FILE")
    add_common(p)
    p.set_defaults(func=cmd_export)

    imp = subparsers.add_parser("import", help="create a session from recorded data",
                                description="Create a session from a recording; prints the "
                                "new session's id as the last line.")
    kinds = imp.add_subparsers(dest="import_command", metavar="FORMAT", required=True)
    p = kinds.add_parser("wfdb", help="a WFDB numerics record (format 16), e.g. MIMIC")
    p.add_argument("record", type=Path, metavar="RECORD", help="the record, without .hea")
    p.add_argument("--room", default="import", help="the room to file it under")
    p.add_argument("--start", type=_when, metavar="TIME",
                   help="start time (ISO), instead of the header's")
    _import_options(p, add_common)
    p.set_defaults(func=cmd_import_wfdb)
    p = kinds.add_parser("csv", help="a CSV file: time,vital,value,unit or an ivmon export")
    p.add_argument("file", type=Path, metavar="FILE")
    p.add_argument("--room", required=True, help="the room to file it under")
    _import_options(p, add_common)
    p.set_defaults(func=cmd_import_csv)


def _import_options(p: argparse.ArgumentParser, add_common: AddCommon) -> None:
    p.add_argument("--label", default="", help="patient label (default: the file's name)")
    p.add_argument("--user", default=_login(), help="who imports (default: you)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_common(p)


def _login() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in a container: still record something
        return "cli"


def _when(text: str) -> datetime:
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date or time; expected e.g. 2026-03-02 or "
            f"2026-03-02T09:00") from None
    return when if when.tzinfo else when.astimezone()


def _database(args: argparse.Namespace) -> Engine:
    from monitor.cli_station import load_config
    from monitor.storage.database import migrate, open_database

    engine = open_database(load_config(args).database_url)
    migrate(engine)
    return engine


def _manager(args: argparse.Namespace, engine: Engine | None = None) -> Any:
    from monitor.clock import SystemClock
    from monitor.sessions import SessionManager

    # No bus here: a running station reads sessions changed by the CLI from the database.
    return SessionManager(engine or _database(args), lambda _message: None, SystemClock())


def _t(when: datetime | None) -> str:
    return when.astimezone().strftime("%Y-%m-%d %H:%M") if when else "-"


def cmd_list(args: argparse.Namespace) -> int:
    from monitor.history import find_sessions

    found = find_sessions(_database(args), room=args.room, since=args.since, until=args.until,
                          label=args.label, with_alarms=args.with_alarms, limit=args.limit)
    print(f"{'id':>5}  {'room':<8} {'label':<12} {'protocol':<12} {'started':<16}  "
          f"{'ended':<16}  {'alarms':>6} {'high':>4} {'events':>6}  source")
    for row in found:
        s = row.session
        print(f"{s.id:>5}  {s.room:<8} {s.label[:12]:<12} {s.protocol or '-':<12} "
              f"{_t(s.started):<16}  {_t(s.discharged or s.ended):<16}  {row.alarms:>6} "
              f"{row.high_alarms:>4} {row.events:>6}  {s.source}")
    if not found:
        print("No sessions match.", file=sys.stderr)
    return 0


def cmd_start(args: argparse.Namespace) -> int:
    sid = _manager(args).start(args.room, args.label, mrn=args.mrn, protocol=args.protocol,
                               weight_kg=args.weight, dose_mg_per_kg=args.dose,
                               duration_min=args.duration, profile=args.profile,
                               user=args.user)
    print(f"Session {sid} started in room {args.room}.", file=sys.stderr)
    print(sid)
    return 0


def cmd_event(args: argparse.Namespace) -> int:
    _manager(args).event(args.session, args.kind, args.detail, args.user)
    print(f"Recorded {args.kind} in session {args.session}.")
    return 0


def cmd_end(args: argparse.Namespace) -> int:
    _manager(args).end(args.session, args.user)
    print(f"Session {args.session} ended.")
    return 0


def cmd_discharge(args: argparse.Namespace) -> int:
    check = _manager(args).discharge(args.session, args.user, override=args.override)
    _print_check(check)
    if not check.discharged:
        print("Not discharged: the check is not met (use --override REASON to discharge "
              "anyway).", file=sys.stderr)
        return 1
    print(f"Session {args.session} discharged.")
    return 0


def _print_check(check: Any) -> None:
    print(f"Discharge check: {'ready' if check.ok else 'not ready'}")
    for reason in check.reasons:
        print(f"  - {reason}")
    for fact in check.facts:
        print(f"  + {fact}")


def cmd_show(args: argparse.Namespace) -> int:
    from monitor.history import alarm_spans, session_events

    engine = _database(args)
    manager = _manager(args, engine)
    status = manager.status(args.session)
    s = status.session
    print(f"Session {s.id} in room {s.room}: {s.label or '(no label)'}"
          f"{f' MRN {s.mrn}' if s.mrn else ''}, {s.protocol or 'no protocol'}, "
          f"profile {s.profile or '-'}, source {s.source}")
    print(f"Started {_t(s.started)} by {s.started_by or '-'}; phase {status.phase}, "
          f"{timedelta(seconds=round(status.elapsed_s))} elapsed"
          + (f"; discharged {_t(s.discharged)}" if s.discharged else ""))
    if s.baseline_sys is not None:
        print(f"Baseline BP {s.baseline_sys:g}/{s.baseline_dia:g}")
    print("Events:")
    for e in session_events(engine, s.id):
        print(f"  {_t(e.at)}  {e.kind:<16} {e.detail}  ({e.by_user or '-'})")
    print("Alarms:")
    for a in alarm_spans(engine, s.id):
        acks = ", ".join(f"{k.by_user} {k.at.astimezone():%H:%M:%S}" for k in a.acknowledgements)
        print(f"  {_t(a.raised)}..{_t(a.cleared) if a.cleared else 'active'}  {a.priority:<6} "
              f"{a.message}" + (f"  ack: {acks}" if acks else ""))
    if status.phase not in ("discharged", "ended"):
        _print_check(manager.check_discharge(s.id))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from monitor.exports import export_session

    try:
        written = export_session(_database(args), args.session, args.format, args.out)
    except OSError as exc:
        raise IvmonError(f"Cannot write {args.out}: {exc.strerror or exc}.") from exc
    for path in written:
        print(path)
    return 0


def _report(result: Any) -> int:
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    skipped = ", ".join(f"{n} {why}" for why, n in sorted(result.skipped.items()))
    print(f"Imported {result.readings} readings as session {result.session_id}"
          + (f"; left out: {skipped}" if skipped else "") + ".", file=sys.stderr)
    print(result.session_id)
    return 0


def cmd_import_wfdb(args: argparse.Namespace) -> int:
    from monitor.imports.wfdb import import_record

    if not args.room:
        raise ConfigError("command line", "--room", "a room id")
    return _report(import_record(_database(args), args.record, room=args.room,
                                 label=args.label, user=args.user, start=args.start,
                                 show_progress=not args.quiet))


def cmd_import_csv(args: argparse.Namespace) -> int:
    from monitor.imports.csv import import_csv

    return _report(import_csv(_database(args), args.file, room=args.room, label=args.label,
                              user=args.user, show_progress=not args.quiet))
