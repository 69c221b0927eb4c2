"""The ``ivmon`` command: init, serve, demo, and the tools for clinic IT.

This is the one module of ``monitor`` that reaches the other packages: it builds device
adapters from the registry and the Dash app, and hands them to the station.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from monitor import __version__
from monitor.errors import IvmonError

log = logging.getLogger("ivmon")


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="FILE", default=os.environ.get("IVMON_CONFIG"),
                        help="the TOML configuration file (or IVMON_CONFIG)")
    parser.add_argument("--data-dir", metavar="DIR", type=Path,
                        help="where the database is kept (or IVMON_DATA_DIR; default "
                             "~/.local/share/ivmon)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ivmon", description="ivmon, a central monitoring station for infusion clinics. "
        "Not a cleared medical device: the bedside monitor remains the primary alarm.")
    parser.add_argument("--version", action="version", version=f"ivmon {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more detail")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    from monitor import cli_alarms, cli_sessions, cli_station, cli_users

    cli_station.register(sub, _add_common)
    cli_users.register(sub, _add_common)
    cli_sessions.register(sub, _add_common)
    cli_alarms.register(sub, _add_common)
    try:
        from monitor import cli_devices
    except ImportError:  # the device tools are optional while they are being built
        pass
    else:
        cli_devices.register(sub, _add_common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args) or 0)
    except IvmonError as exc:
        print(f"ivmon: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
