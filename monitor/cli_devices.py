"""The ``ivmon devices``, ``ivmon capture`` and ``ivmon decode`` commands for clinic IT."""

from __future__ import annotations

import argparse
import codecs
import csv
import math
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from monitor.errors import IvmonError
from monitor.messages import DeviceStatus
from monitor.reading import Quality, Reading
from monitor.vitals import BY_CODE

if TYPE_CHECKING:
    from devices.codecs.base import Measurement

AddCommon = Callable[[argparse.ArgumentParser], None]

CSV_HEADER = ("time", "vital", "value", "unit")


def register(subparsers: Any, add_common: AddCommon) -> None:
    """Add ``devices list``, ``devices probe``, ``capture`` and ``decode`` to the CLI."""
    devices = subparsers.add_parser("devices", help="list serial ports and probe a monitor",
                                    description="Find and test the link to bedside monitors.")
    verbs = devices.add_subparsers(dest="devices_command", metavar="ACTION", required=True)

    listing = verbs.add_parser("list", help="list the serial ports of this machine")
    add_common(listing)
    listing.set_defaults(func=cmd_list)

    probe = verbs.add_parser(
        "probe", help="read a monitor for a while and show what it sends",
        description="Run a device adapter on a port for a while, printing each decoded value "
                    "and link change, then the link's counters.")
    probe.add_argument("url", metavar="URL",
                       help="port URL: /dev/ttyUSB0, socket://host:4001, sim://ketamine, "
                            "replay://capture.raw")
    probe.add_argument("--protocol", required=True, metavar="P",
                       help="the monitor's protocol: sim, ascii, datex, intellivue")
    probe.add_argument("--seconds", type=_positive, default=20.0, metavar="N",
                       help="how long to listen (default 20)")
    _add_ascii_options(probe)
    add_common(probe)
    probe.set_defaults(func=cmd_probe)

    capture = subparsers.add_parser(
        "capture", help="record a monitor's raw bytes to a file",
        description="Record the raw bytes a monitor sends to a file, for a bug report or a "
                    "test. With --protocol the port gets that monitor's settings and ivmon "
                    "sends the requests that make it talk.")
    capture.add_argument("url", metavar="URL", help="port URL, e.g. /dev/ttyUSB0")
    capture.add_argument("--out", required=True, type=Path, metavar="FILE",
                         help="the file to write")
    capture.add_argument("--seconds", type=_positive, default=60.0, metavar="N",
                         help="how long to record (default 60)")
    capture.add_argument("--protocol", metavar="P",
                         help="the monitor's protocol (sim, ascii, datex, intellivue)")
    add_common(capture)
    capture.set_defaults(func=cmd_capture)

    decode = subparsers.add_parser(
        "decode", help="decode a raw capture file to CSV",
        description="Decode a raw capture file and print its readings as CSV "
                    "(time,vital,value,unit) on standard output, with a summary on standard "
                    "error. time is the monitor's own clock in UTC where the protocol carries "
                    "one (without Z when the monitor's clock has no time zone), else empty.")
    decode.add_argument("file", type=Path, metavar="FILE", help="the capture file")
    decode.add_argument("--protocol", required=True, metavar="P",
                        help="the monitor's protocol: sim, ascii, datex, intellivue")
    _add_ascii_options(decode)
    add_common(decode)
    decode.set_defaults(func=cmd_decode)


def _add_ascii_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--pattern", action="append", metavar="REGEX",
                        help="for ascii: a regular expression whose named groups are vital "
                             "codes, e.g. 'HR=(?P<hr>\\d+)' (repeat for more)")
    parser.add_argument("--terminator", metavar="T",
                        help="for ascii: the line end, with backslash escapes (default \\n)")


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not value > 0 or math.isinf(value):
        raise argparse.ArgumentTypeError(f"{text!r} must be a positive number of seconds")
    return value


def _terminator(text: str | None) -> str | None:
    """Turn the typed ``\\r\\n`` into the two characters it stands for."""
    if text is None:
        return None
    try:
        value = codecs.decode(text, "unicode_escape")
    except UnicodeDecodeError as exc:
        raise IvmonError(f"The terminator {text!r} is not valid: {exc.reason}.") from exc
    if not value:
        raise IvmonError("The terminator must not be empty.")
    return value


# -- handlers ----------------------------------------------------------------------------

def cmd_list(args: argparse.Namespace) -> int:
    from devices.tools import list_ports

    ports = list_ports()
    if not ports:
        print("No serial ports found. Plug in the USB-serial adapter, or use a URL such as "
              "socket://terminal-server:4001.")
        return 0
    width = max(len(p.device) for p in ports)
    for p in ports:
        print(f"{p.device:<{width}}  {p.description}  [{p.hwid}]")
    return 0


def cmd_probe(args: argparse.Namespace) -> int:
    from devices.base import DeviceCounters
    from devices.tools import device_options, probe

    options = device_options(args.protocol, args.pattern, _terminator(args.terminator))
    print(f"Listening to {args.url} as {args.protocol} for {args.seconds:g} s...", flush=True)
    counters = DeviceCounters()
    for message in probe(args.url, args.protocol, args.seconds, options):
        if isinstance(message, Reading):
            print(_reading_line(message), flush=True)
        elif isinstance(message, DeviceStatus):
            detail = f": {message.detail}" if message.detail else ""
            print(f"{_clock(message.at)}  link {message.state}{detail}", flush=True)
        else:
            counters = message
    print(f"{counters.bytes} bytes, {counters.frames} frames, {counters.checksum_errors} "
          f"checksum errors, {counters.resyncs} resyncs, {counters.dropped} dropped, "
          f"{counters.readings} readings, {counters.reconnects} reconnects")
    return 0 if counters.readings else 1


def cmd_capture(args: argparse.Namespace) -> int:
    from devices.tools import capture

    print(f"Recording {args.url} for {args.seconds:g} s to {args.out}...", file=sys.stderr,
          flush=True)
    count = capture(args.url, args.out, args.seconds, args.protocol)
    print(f"{count} bytes written to {args.out}", file=sys.stderr)
    return 0 if count else 1


def cmd_decode(args: argparse.Namespace) -> int:
    from devices.tools import decode_file

    measurements, stats = decode_file(args.protocol, args.file, args.pattern,
                                      _terminator(args.terminator))
    try:
        rows = _write_csv(measurements)
    except BrokenPipeError:
        # The reader (head, a closed pager) has what it wanted; stop quietly, as cat does.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    print(f"{rows} readings from {stats.frames} frames; {stats.checksum_errors} checksum "
          f"errors; {stats.resyncs} resyncs; {stats.dropped} dropped", file=sys.stderr)
    return 0


def _write_csv(measurements: list[Measurement]) -> int:
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    rows = 0
    for m in measurements:
        if m.quality is Quality.INVALID or math.isnan(m.value):
            continue  # the monitor said it has no value: there is nothing to print
        time = _iso(m.device_time) if m.device_time is not None else ""
        writer.writerow((time, m.code, _number(m.value), BY_CODE[m.code].unit))
        rows += 1
    sys.stdout.flush()
    return rows


# -- formatting --------------------------------------------------------------------------

def _iso(when: datetime) -> str:
    """ISO 8601; UTC with a Z when the time is zoned, the monitor's own clock when not."""
    zone = ""
    if when.tzinfo is not None:
        when, zone = when.astimezone(UTC), "Z"
    text = when.strftime("%Y-%m-%dT%H:%M:%S")
    if when.microsecond:
        text += f".{when.microsecond // 1000:03d}"
    return text + zone


def _number(value: float) -> str:
    # Up to six significant digits: a codec's precision, without float noise (36.799999).
    return f"{value:.6g}"


def _clock(when: datetime) -> str:
    return when.astimezone().strftime("%H:%M:%S")


def _reading_line(reading: Reading) -> str:
    vital = BY_CODE[reading.code]
    value = _number(reading.value) if reading.usable else "---"
    device_time = f"  (monitor {_iso(reading.device_time)})" if reading.device_time else ""
    flag = "" if reading.quality is Quality.VALID else f"  [{reading.quality}]"
    return (f"{_clock(reading.received)}  {vital.label:<6} {value:>7} {vital.display_unit}"
            f"{flag}{device_time}")
