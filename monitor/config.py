"""The TOML configuration: rooms, devices and their port URLs, storage, server, alarm profile."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from monitor.errors import ConfigError

DEFAULT_DATA_DIR = Path.home() / ".local" / "share" / "ivmon"
DEFAULT_PORT = 8050


@dataclass(frozen=True, slots=True)
class DeviceConfig:
    """A bedside monitor: which protocol it speaks and where its port is."""

    protocol: str
    port: str
    id: str = ""
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RoomConfig:
    """A treatment room and the monitor in it."""

    id: str
    name: str
    device: DeviceConfig | None = None


@dataclass(frozen=True, slots=True)
class Config:
    """Everything ivmon needs to start, with defaults for a single clinic machine."""

    source: str = "defaults"
    station_name: str = "Infusion clinic"
    data_dir: Path = DEFAULT_DATA_DIR
    storage_url: str = ""
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    alarm_profile: str = "iv-ketamine"
    silence_seconds: float = 10.0
    idle_minutes: float = 60.0
    rooms: tuple[RoomConfig, ...] = ()

    @property
    def database_url(self) -> str:
        """The storage URL, defaulting to one SQLite file in the data folder."""
        return self.storage_url or f"sqlite:///{self.data_dir / 'ivmon.db'}"

    def with_overrides(self, **changes: Any) -> Config:
        return replace(self, **changes)


# Each table's keys and what each must be: the validator and `ivmon init` read this.
_SCHEMA: dict[str, dict[str, tuple[type | tuple[type, ...], str]]] = {
    "station": {"name": (str, "a text")},
    "storage": {
        "data_dir": (str, "a folder path"),
        "url": (str, "a database URL such as sqlite:///ivmon.db or postgresql+psycopg://..."),
    },
    "server": {
        "host": (str, "an address such as 127.0.0.1 or 0.0.0.0"),
        "port": (int, "a whole number from 1 to 65535"),
    },
    "alarms": {
        "profile": (str, "the name of an alarm profile such as iv-ketamine"),
        "silence_seconds": ((int, float), "a number of seconds"),
    },
    "security": {
        "idle_minutes": ((int, float), "a number of minutes after which an idle sign-in ends"),
    },
}
_ROOM_KEYS = {"id": (str, "a short id such as r1"), "name": (str, "a text"),
              "device": (dict, "a table with protocol and port")}
_DEVICE_KEYS = {"protocol": (str, "an adapter name such as datex, intellivue, ascii or sim"),
                "port": (str, "a port URL such as /dev/ttyUSB0 or socket://host:4001"),
                "id": (str, "a text"), "options": (dict, "a table of adapter options")}


def _check(source: str, key: str, value: Any, kind: type | tuple[type, ...], expected: str) -> Any:
    # bool is an int in Python; a TOML `true` where a number is expected is a mistake.
    if isinstance(value, bool) or not isinstance(value, kind):
        raise ConfigError(source, key, expected, value)
    return value


def _known(source: str, prefix: str, table: Mapping[str, Any], allowed: Mapping[str, Any]) -> None:
    for key in table:
        if key not in allowed:
            raise ConfigError(source, f"{prefix}{key}",
                              f"one of the known keys ({', '.join(allowed)})", None)


def parse(data: Mapping[str, Any], source: str = "config") -> Config:
    """Build a Config from parsed TOML, or raise ConfigError naming the bad key."""
    _known(source, "", data, {**_SCHEMA, "rooms": None})
    values: dict[str, Any] = {}
    for table, keys in _SCHEMA.items():
        section = data.get(table, {})
        _check(source, table, section, dict, "a table")
        _known(source, f"{table}.", section, keys)
        for key, (kind, expected) in keys.items():
            if key in section:
                values[f"{table}.{key}"] = _check(source, f"{table}.{key}", section[key],
                                                  kind, expected)
    port = values.get("server.port", DEFAULT_PORT)
    if not 1 <= port <= 65535:
        raise ConfigError(source, "server.port", "a whole number from 1 to 65535", port)
    rooms = _parse_rooms(data.get("rooms", []), source)
    defaults = Config()
    return Config(
        source=source,
        station_name=values.get("station.name", defaults.station_name),
        data_dir=Path(values["storage.data_dir"]).expanduser()
        if "storage.data_dir" in values else DEFAULT_DATA_DIR,
        storage_url=values.get("storage.url", ""),
        host=values.get("server.host", defaults.host),
        port=port,
        alarm_profile=values.get("alarms.profile", defaults.alarm_profile),
        silence_seconds=float(values.get("alarms.silence_seconds", defaults.silence_seconds)),
        idle_minutes=float(values.get("security.idle_minutes", defaults.idle_minutes)),
        rooms=rooms,
    )


def _parse_rooms(raw: Any, source: str) -> tuple[RoomConfig, ...]:
    _check(source, "rooms", raw, list, "a list of [[rooms]] tables")
    rooms: list[RoomConfig] = []
    seen: set[str] = set()
    for i, room in enumerate(raw):
        where = f"rooms[{i}]"
        _check(source, where, room, dict, "a table")
        _known(source, f"{where}.", room, _ROOM_KEYS)
        if "id" not in room:
            raise ConfigError(source, f"{where}.id", "a short id such as r1 (it is missing)")
        room_id = _check(source, f"{where}.id", room["id"], str, "a short id such as r1")
        if not room_id or not room_id.replace("-", "").replace("_", "").isalnum():
            raise ConfigError(source, f"{where}.id", "letters, digits, - or _ only", room_id)
        if room_id in seen:
            raise ConfigError(source, f"{where}.id", "unique among rooms", room_id)
        seen.add(room_id)
        name = _check(source, f"{where}.name", room.get("name", room_id), str, "a text")
        device = None
        if "device" in room:
            dev = _check(source, f"{where}.device", room["device"], dict,
                         "a table with protocol and port")
            _known(source, f"{where}.device.", dev, _DEVICE_KEYS)
            for key in ("protocol", "port"):
                if key not in dev:
                    raise ConfigError(source, f"{where}.device.{key}",
                                      _DEVICE_KEYS[key][1] + " (it is missing)")
            for key, (kind, expected) in _DEVICE_KEYS.items():
                if key in dev:
                    _check(source, f"{where}.device.{key}", dev[key], kind, expected)
            device = DeviceConfig(protocol=dev["protocol"], port=dev["port"],
                                  id=dev.get("id", f"{room_id}-monitor"),
                                  options=dict(dev.get("options", {})))
        rooms.append(RoomConfig(id=room_id, name=name, device=device))
    return tuple(rooms)


_ENV = {
    "IVMON_DATA_DIR": ("data_dir", Path),
    "IVMON_STORAGE_URL": ("storage_url", str),
    "IVMON_HOST": ("host", str),
    "IVMON_PORT": ("port", int),
    "IVMON_ALARM_PROFILE": ("alarm_profile", str),
    "IVMON_STATION_NAME": ("station_name", str),
}


def apply_env(config: Config, env: Mapping[str, str] | None = None) -> Config:
    """Override settings from ``IVMON_*`` environment variables."""
    env = os.environ if env is None else env
    changes: dict[str, Any] = {}
    for var, (attr, kind) in _ENV.items():
        if var in env and env[var] != "":
            try:
                changes[attr] = kind(env[var]).expanduser() if kind is Path else kind(env[var])
            except ValueError:
                raise ConfigError(f"environment variable {var}", var,
                                  "a whole number" if kind is int else "a text",
                                  env[var]) from None
    if "port" in changes and not 1 <= changes["port"] <= 65535:
        raise ConfigError("environment variable IVMON_PORT", "IVMON_PORT",
                          "a whole number from 1 to 65535", env["IVMON_PORT"])
    unknown = sorted(k for k in env if k.startswith("IVMON_") and k not in _ENV
                     and k not in _OTHER_ENV)
    if unknown:
        raise ConfigError("environment", unknown[0],
                          f"one of {', '.join(sorted(_ENV) + sorted(_OTHER_ENV))}")
    return replace(config, **changes)


# Variables other parts of ivmon read; listed so a typo in any IVMON_ name is caught.
_OTHER_ENV = {"IVMON_REQUIRE_SERVICES", "IVMON_DEMO_PASSWORD", "IVMON_CONFIG",
              "IVMON_TEST_DATABASE_URL", "IVMON_TEST_MQTT"}


def load(path: str | os.PathLike[str] | None, env: Mapping[str, str] | None = None) -> Config:
    """Read a TOML file (or the defaults when ``path`` is None) and apply ``IVMON_*`` variables."""
    if path is None:
        return apply_env(Config(), env)
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(str(file), "file",
                          "an existing file (run 'ivmon init' to write one)") from None
    except OSError as exc:
        raise ConfigError(str(file), "file", f"a readable file ({exc.strerror})") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(file), "file", f"valid TOML ({exc})") from exc
    config = parse(data, str(file))
    if "storage" in data and "data_dir" in data["storage"]:
        # A relative data folder is relative to the config file, not to where ivmon started.
        data_dir = config.data_dir
        if not data_dir.is_absolute():
            config = replace(config, data_dir=(file.parent / data_dir).resolve())
    return apply_env(config, env)
