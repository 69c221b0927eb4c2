"""``ivmon init``, ``ivmon serve`` and ``ivmon demo``: running the central station."""

from __future__ import annotations

import argparse
import contextlib
import logging
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from monitor import config as config_mod
from monitor.clock import ScaledClock
from monitor.config import DEFAULT_DATA_DIR, Config, DeviceConfig, RoomConfig
from monitor.errors import ConfigError, IvmonError
from monitor.service import SessionPlan, Station

log = logging.getLogger("ivmon")

EXAMPLE = Path(__file__).with_name("example_config.toml")

# The demo gives each room a scenario in turn, started far enough in that something happens
# within the first minutes (patients arrive at different times in a real clinic, too).
SERIAL_PROTOCOLS = ("sim", "datex", "intellivue")
DEMO_SCENARIOS: tuple[tuple[str, float], ...] = (
    ("normal", 600), ("hypertension", 1800), ("bradycardia", 200), ("desaturation", 240),
    ("probe_off", 60), ("disconnect", 60), ("normal", 1500), ("hypertension", 2100),
)


def register(sub: Any, add_common: Callable[[argparse.ArgumentParser], None]) -> None:
    p = sub.add_parser("init", help="write a commented example configuration file")
    p.add_argument("--out", type=Path, default=Path("ivmon.toml"), help="file to write")
    p.add_argument("--force", action="store_true", help="overwrite an existing file")
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("serve", help="run the central station from a configuration file")
    add_common(p)
    p.add_argument("--host", help="address to listen on (overrides the config)")
    p.add_argument("--port", type=int, help="port to listen on (overrides the config)")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("demo", help="run the station with simulated rooms on SQLite")
    add_common(p)
    p.add_argument("--rooms", type=int, default=8, help="how many rooms (default 8)")
    p.add_argument("--speed", type=float, default=1.0,
                   help="how much faster than real time (default 1)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on")
    p.add_argument("--port", type=int, default=8050, help="port to listen on (default 8050)")
    p.add_argument("--protocol", choices=SERIAL_PROTOCOLS,
                   help="the bytes the simulated monitors speak (default sim; with --serial "
                        "the rooms take datex, intellivue and sim in turn)")
    p.add_argument("--serial", action="store_true",
                   help="run each simulated monitor on a pseudo-terminal, read as a real tty")
    p.add_argument("--seconds", type=float, default=0,
                   help="stop after this many seconds (default: run until Ctrl-C)")
    p.set_defaults(func=cmd_demo)


def cmd_init(args: argparse.Namespace) -> int:
    if args.out.exists() and not args.force:
        raise ConfigError(str(args.out), "file", "a new file (it exists; use --force)")
    args.out.write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    print(f"Wrote {args.out}. Edit the rooms, then run: ivmon serve --config {args.out}")
    return 0


def load_config(args: argparse.Namespace) -> Config:
    """The config file (or defaults), ``IVMON_*`` variables, then command-line options."""
    config = config_mod.load(args.config)
    if getattr(args, "data_dir", None):
        config = replace(config, data_dir=args.data_dir.expanduser().resolve())
    if getattr(args, "host", None):
        config = replace(config, host=args.host)
    if getattr(args, "port", None):
        if not 1 <= args.port <= 65535:
            raise ConfigError("command line", "--port", "a whole number from 1 to 65535",
                              args.port)
        config = replace(config, port=args.port)
    return config


def build_devices(config: Config, clock: Any) -> list[Any]:
    from devices.registry import device_class

    devices = []
    for i, room in enumerate(config.rooms):
        if room.device is None:
            continue
        try:
            cls = device_class(room.device.protocol)
        except IvmonError as exc:
            raise ConfigError(config.source, f"rooms[{i}].device.protocol",
                              str(exc).rstrip(".")) from None
        try:
            devices.append(cls(room.id, room.device.id or f"{room.id}-monitor", room.device.port,
                               clock=clock, silence_seconds=config.silence_seconds,
                               options=room.device.options))
        except ValueError as exc:
            raise ConfigError(config.source, f"rooms[{i}].device.options", str(exc)) from None
    return devices


def demo_events(station: Station) -> list[threading.Timer]:
    """Record what the simulated patients go through (the model's infusion from 2 to 42 min)
    as a nurse would: at the right moment, or at once for what already happened."""
    from monitor.history import session_events
    from simulators.physiology import INFUSION_SECONDS, INFUSION_START

    timers = []
    now = station.clock.now()
    for info in station.sessions.active_sessions().values():
        if info.source != "demo":
            continue
        done = {e.kind for e in session_events(station.db, info.id)}  # a resumed session
        for offset, kind in ((INFUSION_START, "infusion_started"),
                             (INFUSION_START + INFUSION_SECONDS, "infusion_stopped")):
            if kind in done:
                continue
            at = info.started + timedelta(seconds=offset)
            wait = (at - now).total_seconds() / station.clock.speed

            def record(sid: int = info.id, kind: str = kind, at: datetime | None = None) -> None:
                with contextlib.suppress(IvmonError):  # the session may have ended since
                    station.sessions.event(sid, kind, "simulated", "demo", at=at)

            if wait <= 0:
                record(at=at)
            else:
                timer = threading.Timer(wait, record)
                timer.daemon = True
                timer.start()
                timers.append(timer)
    return timers


def run_station(config: Config, station: Station, sessions: dict[str, SessionPlan],
                seconds: float = 0, demo: bool = False) -> int:
    """Start the station and serve the dashboard until interrupted (or for ``seconds``)."""

    import uvicorn

    from dashboards.app import create_app

    _app, server, _push = create_app(station, idle_minutes=config.idle_minutes)
    uv = uvicorn.Server(uvicorn.Config(server, host=config.host, port=config.port,
                                       log_level="warning", lifespan="on",
                                       ws_ping_interval=20, ws_ping_timeout=20))
    station.start(sessions)
    timers = demo_events(station) if demo else []
    shown = "127.0.0.1" if config.host in ("0.0.0.0", "::") else config.host
    print(f"ivmon is running with {len(config.rooms)} rooms. Open http://{shown}:{config.port}/ "
          f"in a browser. Data: {_where(config)}. Stop with Ctrl-C.", flush=True)
    if seconds:
        threading.Timer(seconds, lambda: setattr(uv, "should_exit", True)).start()
    try:
        uv.run()
    finally:
        for timer in timers:
            timer.cancel()
        station.stop()
    if not uv.started:
        raise IvmonError(f"Could not listen on {config.host}:{config.port}; is another program "
                         f"(or another ivmon) using that port? Try --port.")
    return 0


def _where(config: Config) -> str:
    from monitor.storage.database import safe_url

    return safe_url(config.database_url)


def cmd_serve(args: argparse.Namespace) -> int:
    from monitor.accounts import Accounts

    config = load_config(args)
    if not config.rooms:
        log.warning("%s has no [[rooms]]; the station will be empty", config.source)
    clock = ScaledClock(1.0)
    station = Station(config, build_devices(config, clock), clock=clock)
    if Accounts(station.db).count() == 0:
        where = f" --config {args.config}" if args.config else ""
        print("No users exist yet, so nobody can sign in. Create the first administrator "
              f"with: ivmon users add NAME --role admin{where}", flush=True)
    return run_station(config, station,
                       {r.id: SessionPlan() for r in config.rooms if r.device is not None})


def demo_config(base: Config, rooms: int, speed: float, protocol: str,
                ports: list[str] | None = None,
                protocols: list[str] | None = None) -> tuple[Config, dict[str, SessionPlan]]:
    """N simulated rooms, one scenario each in turn, on the demo database.

    ``ports`` and ``protocols`` replace the ``sim://`` URLs when the monitors run on ptys.
    """
    if not 1 <= rooms <= 256:
        raise ConfigError("command line", "--rooms", "a whole number from 1 to 256", rooms)
    if speed <= 0:
        raise ConfigError("command line", "--speed", "a positive number", speed)
    room_configs, plans = [], {}
    for i in range(rooms):
        scenario, offset = DEMO_SCENARIOS[i % len(DEMO_SCENARIOS)]
        room_id = f"r{i + 1}"
        url = (f"sim://ketamine?scenario={scenario}&seed={i + 1}&speed={speed:g}"
               f"&offset={offset:g}&protocol={protocol}")
        room_protocol = protocols[i] if protocols else protocol
        if ports:
            url = ports[i]
        room_configs.append(RoomConfig(room_id, f"Room {i + 1}",
                                       DeviceConfig(room_protocol, url, f"{room_id}-sim")))
        plans[room_id] = SessionPlan(label=scenario.replace("_", " "), elapsed_seconds=offset)
    # The demo keeps its own folder unless told otherwise, so it never mixes with real sessions;
    # every other command reaches it with --data-dir.
    data_dir = base.data_dir / "demo" if base.data_dir == DEFAULT_DATA_DIR else base.data_dir
    return replace(base, rooms=tuple(room_configs), data_dir=data_dir,
                   station_name=f"{base.station_name} (demo: simulated patients)"), plans


def _announce_demo_accounts(station: Station) -> None:
    from monitor.accounts import Accounts
    from monitor.cli_users import demo_accounts

    password, generated = demo_accounts(Accounts(station.db))
    origin = "generated for this run" if generated else "from IVMON_DEMO_PASSWORD"
    print(f"Demo accounts admin, nurse and viewer; password {password} ({origin}).", flush=True)


def cmd_demo(args: argparse.Namespace) -> int:
    base = load_config(args)
    if not args.serial:
        config, plans = demo_config(base, args.rooms, args.speed, args.protocol or "sim")
        clock = ScaledClock(args.speed)
        station = Station(config, build_devices(config, clock), clock=clock)
        _announce_demo_accounts(station)
        return run_station(config, station, plans, seconds=args.seconds, demo=True)
    from simulators.pty import PtyMonitor

    protocols = [args.protocol or SERIAL_PROTOCOLS[(i + 1) % 3] for i in range(args.rooms)]
    monitors = []
    try:
        for i, protocol in enumerate(protocols):
            scenario, offset = DEMO_SCENARIOS[i % len(DEMO_SCENARIOS)]
            monitors.append(PtyMonitor(protocol, scenario, seed=i + 1, speed=args.speed,
                                       offset=offset, name=f"room{i + 1}").start())
        config, plans = demo_config(base, args.rooms, args.speed, "sim",
                                    ports=[str(m.path) for m in monitors], protocols=protocols)
        for room, monitor, protocol in zip(config.rooms, monitors, protocols, strict=True):
            print(f"{room.name}: simulated {protocol} monitor on {monitor.path} "
                  f"-> {monitor.slave_path}")
        clock = ScaledClock(args.speed)
        station = Station(config, build_devices(config, clock), clock=clock)
        _announce_demo_accounts(station)
        return run_station(config, station, plans, seconds=args.seconds, demo=True)
    finally:
        for monitor in monitors:
            monitor.close()
